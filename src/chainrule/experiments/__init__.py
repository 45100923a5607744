"""Experiments: many trainings at once — search spaces, schedulers, executors, studies.

- ``space``: ``Choice``, ``Uniform``, ``LogUniform``, ``OneMinusLogUniform``, ``IntUniform`` and
  grid, random and coarse-to-fine sampling;
- ``trial``: ``run_trial(config, epochs, checkpoint)``, one training as a pure function;
- ``storage``: one SQLite file per study;
- ``schedulers``: ``RunAll``, ``SuccessiveHalving``, ``ASHA``;
- ``executors``: the local process pool, Dask;
- ``claims``: what a comparison study says about the course's advice, in sentences;
- ``plots``: the study's figures and its self-contained HTML report (the ``plot`` extra);
- ``study``: ``Study``, the coordinator; ``report``: tables and the progress line.
"""

from __future__ import annotations

from .executors import (
    DASK_TRIAL_CONFIG,
    dask_executor,
    dask_local_cluster,
    executor_for,
    local_pool,
    ray_executor,
)
from .schedulers import ASHA, Objective, RunAll, SuccessiveHalving
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
from .storage import StudyFileError, StudyStorage, TrialRecord
from .study import Study, StudyProgress
from .trial import TRIAL_DEFAULTS, TrialResult, run_trial

__all__ = [
    "ASHA",
    "DASK_TRIAL_CONFIG",
    "Choice",
    "IntUniform",
    "LogUniform",
    "Objective",
    "OneMinusLogUniform",
    "RunAll",
    "SpaceError",
    "Study",
    "StudyFileError",
    "StudyProgress",
    "StudyStorage",
    "SuccessiveHalving",
    "TRIAL_DEFAULTS",
    "TrialRecord",
    "TrialResult",
    "Uniform",
    "coarse_to_fine_configs",
    "dask_executor",
    "dask_local_cluster",
    "executor_for",
    "grid_configs",
    "local_pool",
    "random_configs",
    "ray_executor",
    "run_trial",
]
