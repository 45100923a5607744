"""Search spaces: what a hyperparameter may be, and grid, random and coarse-to-fine sampling.

A space is a mapping from a name to a dimension (``Choice``, ``Uniform``, ``LogUniform``,
``OneMinusLogUniform``, ``IntUniform``) or to a plain value, which is fixed. Sampling is seeded:
the same space and seed give the same configurations.

The learning rate is sampled on a log scale as the course writes it: r = a + (b − a)·rand,
α = 10^r (for α in [10⁻⁴, 1], r = −4·rand). A momentum β near 1 is sampled through 1 − β on a
log scale (``OneMinusLogUniform``): β in [0.9, 0.999] is 1 − 10^r with r in [−3, −1], so
0.9 → 0.99 gets as many samples as 0.99 → 0.999.

>>> space = {"lr": LogUniform(1e-4, 1.0), "activation": Choice(["relu", "tanh"]), "epochs": 3}
>>> [sorted(c) for c in random_configs(space, 2, seed=0)]
[['activation', 'epochs', 'lr'], ['activation', 'epochs', 'lr']]
>>> random_configs(space, 3, seed=1) == random_configs(space, 3, seed=1)
True
>>> len(grid_configs(space, points=3))
6
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import SpaceError

Config = dict[str, Any]


@dataclass(frozen=True)
class Choice:
    """One of ``values``, each equally likely; a grid takes every value."""

    values: tuple[Any, ...]

    def __init__(self, values: Sequence[Any]) -> None:
        if len(values) == 0:
            raise SpaceError("Choice needs at least one value")
        object.__setattr__(self, "values", tuple(values))

    def sample(self, rng: np.random.Generator) -> Any:
        return self.values[int(rng.integers(len(self.values)))]

    def grid(self, points: int) -> list[Any]:
        return list(self.values)

    def zoom(self, best: Sequence[Any]) -> Choice:
        """The values the best configurations used (in the original order)."""
        return Choice([value for value in self.values if value in best])

    def to_json(self) -> dict[str, Any]:
        return {"type": "Choice", "values": list(self.values)}


@dataclass(frozen=True)
class Uniform:
    """x = low + (high − low)·u, u uniform on [0, 1)."""

    low: float
    high: float

    def __post_init__(self) -> None:
        _check_bounds(type(self).__name__, self.low, self.high)

    def to_unit(self, value: float) -> float:
        return float(value)

    def from_unit(self, position: float) -> float:
        return float(position)

    def sample(self, rng: np.random.Generator) -> float:
        low, high = self.to_unit(self.low), self.to_unit(self.high)
        return self.from_unit(low + (high - low) * float(rng.random()))

    def grid(self, points: int) -> list[float]:
        low, high = self.to_unit(self.low), self.to_unit(self.high)
        return [self.from_unit(p) for p in np.linspace(low, high, points).tolist()]

    def zoom(self, best: Sequence[float]) -> Uniform:
        """The range spanned by the best values, widened by a quarter of the old range on each
        side (in the dimension's own scale) and kept inside the old bounds: the second,
        finer round of coarse-to-fine search."""
        low, high = self.to_unit(self.low), self.to_unit(self.high)
        units = [self.to_unit(value) for value in best]
        margin = 0.25 * (high - low) / 2
        new_low = max(low, min(units) - margin)
        new_high = min(high, max(units) + margin)
        return type(self)(self.from_unit(new_low), self.from_unit(new_high))

    def to_json(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "low": self.low, "high": self.high}


class LogUniform(Uniform):
    """x = 10^r, r = log₁₀(low) + (log₁₀(high) − log₁₀(low))·u: the learning rate's scale."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.low <= 0:
            raise SpaceError(f"LogUniform needs positive bounds, got low={self.low}")

    def to_unit(self, value: float) -> float:
        return math.log10(value)

    def from_unit(self, position: float) -> float:
        return float(10.0**position)


class OneMinusLogUniform(Uniform):
    """β = 1 − 10^r, r uniform between log₁₀(1 − high) and log₁₀(1 − low): momentum's β."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.low < self.high < 1:
            raise SpaceError(
                "OneMinusLogUniform needs 0 <= low < high < 1, got "
                f"low={self.low}, high={self.high}"
            )

    # The unit coordinate is −log₁₀(1 − β), which grows with β, so zoom keeps low < high.
    def to_unit(self, value: float) -> float:
        return -math.log10(1.0 - value)

    def from_unit(self, position: float) -> float:
        return float(1.0 - 10.0**-position)


@dataclass(frozen=True)
class IntUniform:
    """An integer in [low, high], each equally likely (a width, a depth)."""

    low: int
    high: int

    def __post_init__(self) -> None:
        if int(self.low) != self.low or int(self.high) != self.high:
            raise SpaceError(f"IntUniform needs integer bounds, got {self.low}, {self.high}")
        _check_bounds("IntUniform", self.low, self.high, allow_equal=True)

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high + 1))

    def grid(self, points: int) -> list[int]:
        return sorted({int(round(v)) for v in np.linspace(self.low, self.high, points)})

    def zoom(self, best: Sequence[int]) -> IntUniform:
        return IntUniform(int(min(best)), int(max(best)))

    def to_json(self) -> dict[str, Any]:
        return {"type": "IntUniform", "low": self.low, "high": self.high}


Dimension = Choice | Uniform | IntUniform
DIMENSIONS: dict[str, Callable[..., Dimension]] = {
    cls.__name__: cls for cls in (Choice, Uniform, LogUniform, OneMinusLogUniform, IntUniform)
}


def _check_bounds(kind: str, low: float, high: float, allow_equal: bool = False) -> None:
    if not (math.isfinite(low) and math.isfinite(high)):
        raise SpaceError(f"{kind} needs finite bounds, got low={low}, high={high}")
    if low > high or (low == high and not allow_equal):
        raise SpaceError(f"{kind} needs low < high, got low={low}, high={high}")


def is_dimension(value: Any) -> bool:
    return isinstance(value, (Choice, Uniform, IntUniform))


# ---------------------------------------------------------------------- sampling
def random_configs(space: Mapping[str, Any], count: int, seed: int = 0) -> list[Config]:
    """``count`` configurations drawn independently (random search, not grid: every trial
    tries a new value of every dimension). Seeded: one generator, dimensions in name order."""
    rng = np.random.default_rng(seed)
    names = sorted(space)
    return [{name: _draw(space[name], rng) for name in names} for _ in range(count)]


def _draw(dimension: Any, rng: np.random.Generator) -> Any:
    return dimension.sample(rng) if is_dimension(dimension) else dimension


def grid_configs(space: Mapping[str, Any], points: int = 3) -> list[Config]:
    """Every combination: each Choice's values, ``points`` evenly spaced values (in the
    dimension's scale) of each continuous dimension; fixed values as they are."""
    if points < 1:
        raise SpaceError(f"a grid needs at least 1 point per dimension, got {points}")
    names = sorted(space)
    axes = [
        space[name].grid(points) if is_dimension(space[name]) else [space[name]] for name in names
    ]
    return [dict(zip(names, values)) for values in itertools.product(*axes)]


def zoomed_space(space: Mapping[str, Any], best: Sequence[Config]) -> dict[str, Any]:
    """The space narrowed to the region of the ``best`` configurations (coarse to fine)."""
    if not best:
        raise SpaceError("zooming needs at least one good configuration")
    return {
        name: dimension.zoom([config[name] for config in best])
        if is_dimension(dimension)
        else dimension
        for name, dimension in space.items()
    }


def coarse_to_fine_configs(
    space: Mapping[str, Any],
    scored: Sequence[tuple[Config, float]],
    count: int,
    keep: float = 0.25,
    seed: int = 0,
) -> list[Config]:
    """The second round of coarse-to-fine search: ``count`` random configurations from the
    space zoomed on the best ``keep`` fraction of the ``scored`` (configuration, score) pairs
    of the first round (higher scores are better)."""
    ranked = sorted(
        (pair for pair in scored if math.isfinite(pair[1])), key=lambda pair: pair[1], reverse=True
    )
    best = [config for config, _ in ranked[: max(1, math.ceil(keep * len(ranked)))]]
    return random_configs(zoomed_space(space, best), count, seed=seed)


# ---------------------------------------------------------------------- storage form
def space_to_json(space: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-ready form of the space (what a study file records)."""
    return {
        name: value.to_json() if is_dimension(value) else {"type": "Fixed", "value": value}
        for name, value in sorted(space.items())
    }


def space_from_json(document: Mapping[str, Any]) -> dict[str, Any]:
    space: dict[str, Any] = {}
    for name, entry in document.items():
        kind = entry.get("type")
        if kind == "Fixed":
            space[name] = entry["value"]
        elif kind == "Choice":
            space[name] = Choice(entry["values"])
        elif kind in DIMENSIONS:
            space[name] = DIMENSIONS[kind](entry["low"], entry["high"])
        else:
            raise SpaceError(f"unknown dimension type {kind!r} for {name!r}")
    return space


__all__ = [
    "Choice",
    "Config",
    "IntUniform",
    "LogUniform",
    "OneMinusLogUniform",
    "SpaceError",
    "Uniform",
    "coarse_to_fine_configs",
    "grid_configs",
    "random_configs",
    "space_from_json",
    "space_to_json",
    "zoomed_space",
]
