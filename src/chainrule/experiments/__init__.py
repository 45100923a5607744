"""Experiments: many trainings at once — search spaces, schedulers, executors, studies."""

from __future__ import annotations

from .space import (
    Choice,
    IntUniform,
    LogUniform,
    OneMinusLogUniform,
    SpaceError,
    Uniform,
    coarse_to_fine_configs,
    grid_configs,
    random_configs,
)

__all__ = ["Choice", "IntUniform", "LogUniform", "OneMinusLogUniform", "SpaceError", "Uniform",
           "coarse_to_fine_configs", "grid_configs", "random_configs"]
