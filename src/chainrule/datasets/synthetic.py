"""Small 2-D problems in the spirit of TensorFlow Playground, drawn reproducibly from a seed.

Every generator is ``f(n=..., noise=0.0, seed=0) -> Dataset``. The same seed gives the same
data; different seeds give different draws. Classification sets have two classes (labels 0 and
1) of equal size (⌈n/2⌉ and ⌊n/2⌋), shuffled so that the classes interleave. The labels come
from the noiseless geometry below; then ``noise`` — the standard deviation σ of Gaussian noise
N(0, σ²) — is added independently to both coordinates (for ``regression1d``: to the target),
so with noise > 0 points may cross the class boundary. The same seed with another noise level
gives the same points, moved by the noise, in the same order. The geometry at noise = 0, with points
p = (x₁, x₂):

- ``xor``: p uniform in [−1, 1]² with |x₁|, |x₂| ≥ 0.1 (a margin around the axes); label 1
  where x₁·x₂ > 0 (quadrants I and III), 0 where x₁·x₂ < 0.
- ``circles``: class 0 uniform on the disc ‖p‖ ≤ 0.5, class 1 uniform on the ring
  0.7 ≤ ‖p‖ ≤ 1.
- ``moons``: two interleaved half circles of radius 1, class 0: (cos t − ½, sin t − ¼), class 1:
  (½ − cos t, ¼ − sin t), t uniform in [0, π].
- ``spirals``: two interleaved spirals, r uniform in [0, 1], angle θ = 3.5π·r + cπ for class c,
  p = (r cos θ, r sin θ); class 1 is class 0 turned by π (p ↦ −p).
- ``gaussians``: two Gaussian clusters of standard deviation 0.25 per coordinate, centred at
  (−0.5, −0.5) (class 0) and (0.5, 0.5) (class 1).
- ``regression1d``: one feature x uniform in [−1, 1], target y = sin(πx) (noise is added to y
  only); task "regression", x of shape (n, 1), y of shape (n, 1).

>>> ds = xor(n=8, seed=1)
>>> ds.x.shape, ds.y.tolist().count(1)
((8, 2), 4)
>>> bool(((ds.x[:, 0] * ds.x[:, 1] > 0) == (ds.y == 1)).all())
True
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np

from .base import Dataset

GAUSSIAN_STD = 0.25
GAUSSIAN_CENTRE = 0.5
XOR_MARGIN = 0.1
INNER_RADIUS = 0.5
RING_RADII = (0.7, 1.0)
SPIRAL_TURN = 3.5 * math.pi  # the angle a spiral sweeps from r = 0 to r = 1 (1.75 turns)


def _check(function: str, n: object, noise: object, seed: object, minimum: int) -> None:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{function}: n must be an integer number of samples, not {n!r}")
    if n < minimum:
        raise ValueError(f"{function}: n must be at least {minimum}, got {n}")
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real):
        raise TypeError(f"{function}: noise must be a number (a standard deviation), not {noise!r}")
    if not math.isfinite(noise) or noise < 0:
        raise ValueError(
            f"{function}: noise is a standard deviation and must be finite and ≥ 0, got {noise}"
        )
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"{function}: seed must be an integer or None, not {seed!r}")
        if seed < 0:
            raise ValueError(f"{function}: seed must be ≥ 0, got {seed}")


def _two_classes(
    function: str,
    n: int,
    noise: float,
    seed: int | None,
    draw: Callable[[np.random.Generator, int, int], np.ndarray],
    description: str,
) -> Dataset:
    """Draw ⌈n/2⌉ points of class 0 and ⌊n/2⌋ of class 1, add the noise, shuffle."""
    _check(function, n, noise, seed, minimum=2)
    rng = np.random.default_rng(seed)
    sizes = (n - n // 2, n // 2)
    x = np.concatenate([draw(rng, c, size) for c, size in enumerate(sizes)])
    y = np.repeat(np.arange(2), sizes)
    x = x + noise * rng.standard_normal(x.shape)  # drawn even at noise 0: same points, order
    order = rng.permutation(n)
    return Dataset(
        x[order],
        y[order],
        name=function,
        task="classification",
        classes=["0", "1"],
        feature_names=["x1", "x2"],
        description=description,
    )


def _xor(rng: np.random.Generator, label: int, size: int) -> np.ndarray:
    magnitude = rng.uniform(XOR_MARGIN, 1.0, size=(size, 2))
    first = rng.choice([-1.0, 1.0], size=size)
    second = first if label == 1 else -first  # same signs: x₁·x₂ > 0
    return magnitude * np.stack([first, second], axis=1)


def _circles(rng: np.random.Generator, label: int, size: int) -> np.ndarray:
    low, high = (0.0, INNER_RADIUS) if label == 0 else RING_RADII
    radius = np.sqrt(rng.uniform(low**2, high**2, size=size))  # uniform over the area
    angle = rng.uniform(0.0, 2 * math.pi, size=size)
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)


def _moons(rng: np.random.Generator, label: int, size: int) -> np.ndarray:
    t = rng.uniform(0.0, math.pi, size=size)
    upper = np.stack([np.cos(t) - 0.5, np.sin(t) - 0.25], axis=1)
    return upper if label == 0 else -upper


def _spirals(rng: np.random.Generator, label: int, size: int) -> np.ndarray:
    radius = rng.uniform(0.0, 1.0, size=size)
    angle = SPIRAL_TURN * radius + label * math.pi
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)


def _gaussians(rng: np.random.Generator, label: int, size: int) -> np.ndarray:
    centre = GAUSSIAN_CENTRE if label == 1 else -GAUSSIAN_CENTRE
    return rng.normal(centre, GAUSSIAN_STD, size=(size, 2))


def xor(n: int = 400, noise: float = 0.0, seed: int | None = 0) -> Dataset:
    """XOR: label 1 where x₁·x₂ > 0; points uniform in [−1, 1]², ≥ 0.1 away from the axes."""
    return _two_classes(
        "xor",
        n,
        noise,
        seed,
        _xor,
        "XOR: label 1 where x1*x2 > 0 (quadrants I and III), 0 elsewhere",
    )


def circles(n: int = 400, noise: float = 0.0, seed: int | None = 0) -> Dataset:
    """A disc ‖p‖ ≤ 0.5 (class 0) inside a ring 0.7 ≤ ‖p‖ ≤ 1 (class 1)."""
    return _two_classes(
        "circles",
        n,
        noise,
        seed,
        _circles,
        "a disc of radius 0.5 (class 0) inside a ring 0.7..1 (class 1)",
    )


def moons(n: int = 400, noise: float = 0.0, seed: int | None = 0) -> Dataset:
    """Two interleaved half circles of radius 1, centred on the origin together."""
    return _two_classes(
        "moons", n, noise, seed, _moons, "two interleaved half circles of radius 1 (two moons)"
    )


def spirals(n: int = 400, noise: float = 0.0, seed: int | None = 0) -> Dataset:
    """Two interleaved spirals: θ = 3.5π·r + cπ for r ∈ [0, 1], class c ∈ {0, 1}."""
    return _two_classes(
        "spirals",
        n,
        noise,
        seed,
        _spirals,
        "two interleaved spirals of 1.75 turns each, radius 0..1",
    )


def gaussians(n: int = 400, noise: float = 0.0, seed: int | None = 0) -> Dataset:
    """Two Gaussian clusters (σ = 0.25 per coordinate) centred at ∓(0.5, 0.5)."""
    return _two_classes(
        "gaussians",
        n,
        noise,
        seed,
        _gaussians,
        "two Gaussian clusters (std 0.25) centred at (-0.5,-0.5) and (0.5,0.5)",
    )


def regression1d(n: int = 200, noise: float = 0.0, seed: int | None = 0) -> Dataset:
    """y = sin(πx) for x uniform in [−1, 1]; ``noise`` is the std of noise added to y."""
    _check("regression1d", n, noise, seed, minimum=1)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n, 1))
    y = np.sin(math.pi * x)
    y = y + noise * rng.standard_normal(y.shape)
    return Dataset(
        x,
        y,
        name="regression1d",
        task="regression",
        feature_names=["x"],
        description="y = sin(pi*x) for x uniform in [-1, 1], noise added to y",
    )


GENERATORS: dict[str, Callable[..., Dataset]] = {
    "xor": xor,
    "circles": circles,
    "moons": moons,
    "spirals": spirals,
    "gaussians": gaussians,
    "regression1d": regression1d,
}


__all__ = [
    "circles",
    "GAUSSIAN_CENTRE",
    "GAUSSIAN_STD",
    "gaussians",
    "GENERATORS",
    "INNER_RADIUS",
    "moons",
    "regression1d",
    "RING_RADII",
    "SPIRAL_TURN",
    "spirals",
    "xor",
    "XOR_MARGIN",
]
