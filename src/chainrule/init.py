"""Weight initialisers: where training starts, and why a constant start never learns.

A Dense weight has shape (out, in), PyTorch's Linear layout, so for a 2-D shape
fan_in = shape[1] (inputs per unit) and fan_out = shape[0] (units). For more dimensions the fans
follow PyTorch's ``_calculate_fan_in_and_fan_out``: fan_in = shape[1]·r, fan_out = shape[0]·r,
where r is the product of shape[2:]. A 1-D (or 0-D) shape has no fans, and the initialisers that
need them raise ``ValueError``.

=================  ===========================================================================
name               distribution of every weight
=================  ===========================================================================
zeros              0
ones               1
constant           c (``value``)
normal             N(mean, std²)
uniform            U(low, high)
small              N(0, 1) · scale, scale = 0.01 by default (a start for shallow networks)
xavier_uniform     U(−a, a),  a = gain · √(6 / (fan_in + fan_out))
xavier_normal      N(0, σ²),  σ² = gain² · 2 / (fan_in + fan_out)
he_uniform         U(−b, b),  b = gain · √(3 / fan_in)  (gain = √2: b = √(6 / fan_in))
he_normal          N(0, σ²),  σ² = gain² / fan_in       (gain = √2: σ² = 2 / fan_in)
lecun_uniform      U(−c, c),  c = √(3 / fan_in)
lecun_normal       N(0, σ²),  σ² = 1 / fan_in
orthogonal         gain · Q, Q from the QR of a Gaussian matrix (rows or columns orthonormal)
=================  ===========================================================================

Xavier/Glorot keeps the variance of activations and of gradients roughly constant through layers
of tanh or sigmoid units; He/Kaiming (fan_in mode, like PyTorch's ``kaiming_*_`` with
``nonlinearity="relu"``) doubles the variance to make up for ReLU zeroing half of its inputs;
LeCun is the self-normalising start for SELU. ``recommended_for`` encodes this rule of thumb.

Every initialiser is a small immutable object called as ``init(shape, rng, dtype=None)``
(None: the default dtype). Its randomness comes *only* from the ``numpy.random.Generator`` it
is given, so the same seed gives the same array. Samples are drawn in float64 and then rounded
to ``dtype``, so float32 and float64 arrays from the same seed agree to float32 precision.

A weight matrix whose rows are all equal (zeros, ones, any constant) has the *symmetry problem*:
every unit computes the same function, receives the same gradient and stays the same as its
neighbours, so the layer is no wider than one unit. ``symmetric_units`` detects it and
``warn_if_symmetric`` warns about it.

>>> import numpy as np
>>> from chainrule import init
>>> w = init.get("glorot_uniform")((3, 4), np.random.default_rng(0))
>>> w.shape, w.dtype
((3, 4), dtype('float32'))
>>> init.get("kaiming-normal")
HeNormal(gain=1.4142135623730951)
>>> init.recommended_for("relu"), init.recommended_for("tanh")
('he_normal', 'xavier_uniform')
>>> init.symmetric_units(init.Zeros()((4, 3), np.random.default_rng(0)))
True
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from . import activations
from .dtypes import as_float_array, resolve_dtype
from .errors import SymmetryWarning, UnknownInitializerError
from .naming import NameIndex, check_parameters, normalize, not_a_name, returned_as_is

Shape = int | Sequence[int]
#: ``function(shape, rng)``; rng is None when the initialiser is called without one
InitFunction = Callable[[tuple[int, ...], "np.random.Generator | None"], Any]

__all__ = [
    "SYMMETRY_WARNING",
    "Constant",
    "FromCallable",
    "HeNormal",
    "HeUniform",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Normal",
    "Ones",
    "Orthogonal",
    "Small",
    "SymmetryWarning",
    "UnknownInitializerError",
    "Uniform",
    "XavierNormal",
    "XavierUniform",
    "Zeros",
    "fan_in_and_fan_out",
    "get",
    "names",
    "normalize",
    "recommended_for",
    "symmetric_units",
    "warn_if_symmetric",
]


# ---------------------------------------------------------------------- shapes and fans
def _as_shape(shape: Shape) -> tuple[int, ...]:
    """``shape`` as a tuple of non-negative ints (an int n means (n,)), or a clear error."""
    dims = (shape,) if isinstance(shape, (int, np.integer)) else shape
    try:
        dims = tuple(dims)
    except TypeError:
        raise TypeError(
            f"a shape is an int or a sequence of ints, not {type(shape).__name__}"
        ) from None
    for dim in dims:
        if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"shape {shape!r} must contain ints, not {type(dim).__name__}")
        if dim < 0:
            raise ValueError(f"shape {shape!r} has a negative dimension")
    return tuple(int(dim) for dim in dims)


def fan_in_and_fan_out(shape: Shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of ``shape`` (out, in, *receptive_field).

    fan_in = shape[1]·r and fan_out = shape[0]·r with r = prod(shape[2:]), as PyTorch's
    ``_calculate_fan_in_and_fan_out``; fewer than 2 dimensions raise ``ValueError``.

    >>> fan_in_and_fan_out((3, 5))
    (5, 3)
    >>> fan_in_and_fan_out((8, 4, 3, 3))
    (36, 72)
    """
    dims = _as_shape(shape)
    if len(dims) < 2:
        raise ValueError(
            f"fan_in and fan_out need a weight with at least 2 dimensions (out, in); shape "
            f"{dims} has {len(dims)}. A bias vector has no fans: initialise it with zeros, "
            "or use an initialiser that needs no fans (normal, uniform, small, constant)"
        )
    receptive_field = math.prod(dims[2:])
    return dims[1] * receptive_field, dims[0] * receptive_field


def _check_rng(rng: Any, who: str, needed: bool) -> None:
    if rng is None:
        if needed:
            raise TypeError(f"{who} draws random numbers: pass rng=numpy.random.default_rng(seed)")
        return
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (numpy.random.default_rng(seed)), "
            f"not {type(rng).__name__}"
        )


def _check_finite(who: str, **values: float) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{who}: {name} must be a number, not {type(value).__name__}")
        if not math.isfinite(value):
            raise ValueError(f"{who}: {name} must be finite, not {value!r}")


def _check_non_negative(who: str, **values: float) -> None:
    _check_finite(who, **values)
    for name, value in values.items():
        if value < 0:
            raise ValueError(f"{who}: {name} must be ≥ 0, not {value!r}")


def _check_gain(who: str, gain: float) -> None:
    _check_finite(who, gain=gain)
    if gain <= 0:
        raise ValueError(f"{who}: gain must be > 0, not {gain!r} (a gain of 0 gives all zeros)")


# ---------------------------------------------------------------------- the initialisers
class Initializer:
    """Base class: ``init(shape, rng, dtype=None) -> numpy.ndarray`` (None: the default dtype).

    Subclasses set ``name`` (canonical, as ``names()`` lists it), ``aliases``, ``formula`` and
    ``needs_fans``, and implement ``_sample(shape, rng)`` returning a float64 array (or any array
    of the right values; ``__call__`` converts it to ``dtype``).
    """

    name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    formula: ClassVar[str] = ""
    needs_fans: ClassVar[bool] = False
    random: ClassVar[bool] = True

    def __call__(
        self, shape: Shape, rng: np.random.Generator | None = None, dtype: Any = None
    ) -> np.ndarray:
        """An array of ``shape`` and ``dtype`` drawn with ``rng`` (see the class docstring)."""
        dims = _as_shape(shape)
        target = resolve_dtype(dtype)
        who = self.name or type(self).__name__
        _check_rng(rng, who, needed=self.random)
        if self.needs_fans:
            try:
                fan_in_and_fan_out(dims)
            except ValueError as error:
                raise ValueError(f"{who}: {error}") from None
        if math.prod(dims) == 0:
            return np.zeros(dims, dtype=target)
        return np.asarray(self._sample(dims, rng)).astype(target, copy=False)

    def _sample(self, shape: tuple[int, ...], rng: Any) -> np.ndarray:
        raise NotImplementedError


@dataclass(frozen=True)
class Zeros(Initializer):
    """w = 0. Fine for biases; a weight matrix of zeros has the symmetry problem."""

    name: ClassVar[str] = "zeros"
    aliases: ClassVar[tuple[str, ...]] = ("zero",)
    formula: ClassVar[str] = "w = 0"
    random: ClassVar[bool] = False

    def _sample(self, shape: tuple[int, ...], rng: Any) -> np.ndarray:
        return np.zeros(shape)


@dataclass(frozen=True)
class Ones(Initializer):
    """w = 1. A weight matrix of ones has the symmetry problem."""

    name: ClassVar[str] = "ones"
    aliases: ClassVar[tuple[str, ...]] = ("one",)
    formula: ClassVar[str] = "w = 1"
    random: ClassVar[bool] = False

    def _sample(self, shape: tuple[int, ...], rng: Any) -> np.ndarray:
        return np.ones(shape)


@dataclass(frozen=True)
class Constant(Initializer):
    """w = value. A constant weight matrix has the symmetry problem."""

    value: float

    name: ClassVar[str] = "constant"
    formula: ClassVar[str] = "w = value"
    random: ClassVar[bool] = False

    def __post_init__(self) -> None:
        _check_finite(self.name, value=self.value)

    def _sample(self, shape: tuple[int, ...], rng: Any) -> np.ndarray:
        return np.full(shape, float(self.value))


@dataclass(frozen=True)
class Normal(Initializer):
    """w ~ N(mean, std²)."""

    mean: float = 0.0
    std: float = 1.0

    name: ClassVar[str] = "normal"
    aliases: ClassVar[tuple[str, ...]] = ("gaussian",)
    formula: ClassVar[str] = "w ~ N(mean, std²)"

    def __post_init__(self) -> None:
        _check_finite(self.name, mean=self.mean)
        _check_non_negative(self.name, std=self.std)

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return rng.normal(self.mean, self.std, size=shape)


@dataclass(frozen=True)
class Uniform(Initializer):
    """w ~ U(low, high)."""

    low: float = -0.05
    high: float = 0.05

    name: ClassVar[str] = "uniform"
    formula: ClassVar[str] = "w ~ U(low, high)"

    def __post_init__(self) -> None:
        _check_finite(self.name, low=self.low, high=self.high)
        if self.low > self.high:
            raise ValueError(f"uniform: low ({self.low!r}) must be ≤ high ({self.high!r})")

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=shape)


@dataclass(frozen=True)
class Small(Initializer):
    """w = scale · N(0, 1): small random numbers, the classic start for shallow networks.

    Small enough that sigmoid/tanh units start in their linear, non-saturated region, random
    enough to break the symmetry between units. In deep networks the signal shrinks layer by
    layer with this start; use Xavier or He there.
    """

    scale: float = 0.01

    name: ClassVar[str] = "small"
    aliases: ClassVar[tuple[str, ...]] = ("small_random",)
    formula: ClassVar[str] = "w = scale · N(0, 1)"

    def __post_init__(self) -> None:
        _check_non_negative(self.name, scale=self.scale)

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return rng.standard_normal(shape) * self.scale


@dataclass(frozen=True)
class XavierUniform(Initializer):
    """Xavier/Glorot uniform: w ~ U(−a, a), a = gain · √(6 / (fan_in + fan_out)).

    Var(w) = gain² · 2 / (fan_in + fan_out). For tanh and sigmoid layers (PyTorch's
    ``xavier_uniform_``).
    """

    gain: float = 1.0

    name: ClassVar[str] = "xavier_uniform"
    aliases: ClassVar[tuple[str, ...]] = ("glorot_uniform",)
    formula: ClassVar[str] = "w ~ U(−a, a), a = gain · √(6 / (fan_in + fan_out))"
    needs_fans: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_gain(self.name, self.gain)

    def bound(self, shape: Shape) -> float:
        """a = gain · √(6 / (fan_in + fan_out))."""
        fan_in, fan_out = fan_in_and_fan_out(shape)
        return self.gain * math.sqrt(6.0 / (fan_in + fan_out))

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        bound = self.bound(shape)
        return rng.uniform(-bound, bound, size=shape)


@dataclass(frozen=True)
class XavierNormal(Initializer):
    """Xavier/Glorot normal: w ~ N(0, σ²), σ² = gain² · 2 / (fan_in + fan_out).

    For tanh and sigmoid layers (PyTorch's ``xavier_normal_``).
    """

    gain: float = 1.0

    name: ClassVar[str] = "xavier_normal"
    aliases: ClassVar[tuple[str, ...]] = ("glorot_normal",)
    formula: ClassVar[str] = "w ~ N(0, σ²), σ = gain · √(2 / (fan_in + fan_out))"
    needs_fans: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_gain(self.name, self.gain)

    def std(self, shape: Shape) -> float:
        """σ = gain · √(2 / (fan_in + fan_out))."""
        fan_in, fan_out = fan_in_and_fan_out(shape)
        return self.gain * math.sqrt(2.0 / (fan_in + fan_out))

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return rng.normal(0.0, self.std(shape), size=shape)


@dataclass(frozen=True)
class HeUniform(Initializer):
    """He/Kaiming uniform (fan_in mode): w ~ U(−b, b), b = gain · √(3 / fan_in).

    With the default gain √2 (ReLU), b = √(6 / fan_in) and Var(w) = 2 / fan_in, as PyTorch's
    ``kaiming_uniform_(w, nonlinearity="relu")``. For ReLU-family layers.
    """

    gain: float = math.sqrt(2.0)

    name: ClassVar[str] = "he_uniform"
    aliases: ClassVar[tuple[str, ...]] = ("kaiming_uniform",)
    formula: ClassVar[str] = "w ~ U(−b, b), b = gain · √(3 / fan_in)"
    needs_fans: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_gain(self.name, self.gain)

    def bound(self, shape: Shape) -> float:
        """b = gain · √(3 / fan_in)."""
        fan_in, _ = fan_in_and_fan_out(shape)
        return self.gain * math.sqrt(3.0 / fan_in)

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        bound = self.bound(shape)
        return rng.uniform(-bound, bound, size=shape)


@dataclass(frozen=True)
class HeNormal(Initializer):
    """He/Kaiming normal (fan_in mode): w ~ N(0, σ²), σ² = gain² / fan_in.

    With the default gain √2 (ReLU), σ² = 2 / fan_in, as PyTorch's
    ``kaiming_normal_(w, nonlinearity="relu")``. For ReLU-family layers.
    """

    gain: float = math.sqrt(2.0)

    name: ClassVar[str] = "he_normal"
    aliases: ClassVar[tuple[str, ...]] = ("kaiming_normal",)
    formula: ClassVar[str] = "w ~ N(0, σ²), σ = gain / √fan_in"
    needs_fans: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_gain(self.name, self.gain)

    def std(self, shape: Shape) -> float:
        """σ = gain / √fan_in."""
        fan_in, _ = fan_in_and_fan_out(shape)
        return self.gain / math.sqrt(fan_in)

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return rng.normal(0.0, self.std(shape), size=shape)


@dataclass(frozen=True)
class LecunUniform(Initializer):
    """LeCun uniform: w ~ U(−c, c), c = √(3 / fan_in), so Var(w) = 1 / fan_in."""

    name: ClassVar[str] = "lecun_uniform"
    formula: ClassVar[str] = "w ~ U(−c, c), c = √(3 / fan_in)"
    needs_fans: ClassVar[bool] = True

    def bound(self, shape: Shape) -> float:
        """c = √(3 / fan_in)."""
        fan_in, _ = fan_in_and_fan_out(shape)
        return math.sqrt(3.0 / fan_in)

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        bound = self.bound(shape)
        return rng.uniform(-bound, bound, size=shape)


@dataclass(frozen=True)
class LecunNormal(Initializer):
    """LeCun normal: w ~ N(0, 1 / fan_in), the start that SELU's self-normalisation assumes."""

    name: ClassVar[str] = "lecun_normal"
    formula: ClassVar[str] = "w ~ N(0, σ²), σ = 1 / √fan_in"
    needs_fans: ClassVar[bool] = True

    def std(self, shape: Shape) -> float:
        """σ = 1 / √fan_in."""
        fan_in, _ = fan_in_and_fan_out(shape)
        return 1.0 / math.sqrt(fan_in)

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return rng.normal(0.0, self.std(shape), size=shape)


@dataclass(frozen=True)
class Orthogonal(Initializer):
    """w = gain · Q, a (semi-)orthogonal matrix, as PyTorch's ``orthogonal_``.

    The shape is flattened to (rows, cols) = (shape[0], prod(shape[1:])). A Gaussian matrix A of
    that shape (transposed first when rows < cols) is factored A = QR, the columns of Q are
    multiplied by sign(diag R) so that Q is uniformly (Haar) distributed, and Q is transposed
    back. Then W Wᵀ = gain² · I when rows ≤ cols (orthonormal rows) and Wᵀ W = gain² · I when
    rows ≥ cols (orthonormal columns).
    """

    gain: float = 1.0

    name: ClassVar[str] = "orthogonal"
    formula: ClassVar[str] = "w = gain · Q, A = QR with A ~ N(0, 1), Q sign-corrected by diag R"
    needs_fans: ClassVar[bool] = True  # at least 2 dimensions, as PyTorch requires

    def __post_init__(self) -> None:
        _check_gain(self.name, self.gain)

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        rows = shape[0]
        cols = math.prod(shape[1:])
        flat = rng.standard_normal((rows, cols))
        if rows < cols:
            flat = flat.T
        q, r = np.linalg.qr(flat)
        signs = np.sign(np.diag(r))
        signs[signs == 0] = 1.0
        q = q * signs
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape)


@dataclass(frozen=True)
class FromCallable(Initializer):
    """A user function ``function(shape, rng) -> array`` used as an initialiser (``rng`` is
    None when the initialiser is called without one; layers always pass theirs).

    The result must have the requested shape; it is converted to ``dtype`` exactly (a value
    outside float32's range is an error, never a silent inf).
    """

    function: InitFunction

    name: ClassVar[str] = "callable"

    def __call__(
        self, shape: Shape, rng: np.random.Generator | None = None, dtype: Any = None
    ) -> np.ndarray:
        dims = _as_shape(shape)
        target = resolve_dtype(dtype)
        _check_rng(rng, self.name, needed=False)
        result = as_float_array(self.function(dims, rng), dtype=target)
        if result.shape != dims:
            raise ValueError(
                f"initialiser function {getattr(self.function, '__name__', self.function)!r} "
                f"returned shape {result.shape} for the requested shape {dims}"
            )
        return result


# ---------------------------------------------------------------------- the registry
_CATALOG: tuple[type[Initializer], ...] = (
    Zeros,
    Ones,
    Constant,
    Normal,
    Uniform,
    Small,
    XavierUniform,
    XavierNormal,
    HeUniform,
    HeNormal,
    LecunUniform,
    LecunNormal,
    Orthogonal,
)
_classes: dict[str, type[Initializer]] = {cls.name: cls for cls in _CATALOG}


_index = NameIndex(
    "initialiser",
    UnknownInitializerError,
    advice=f" (aliases: {', '.join(a for cls in _CATALOG for a in cls.aliases)}; "
    "case, '_' and '-' do not matter)",
)
for _cls in _CATALOG:
    _index.add(_cls.name, _cls.aliases)


def names() -> list[str]:
    """The canonical names of every initialiser, in registry order."""
    return _index.names()


def _build(cls: type[Initializer], params: dict[str, Any]) -> Initializer:
    fields = [f for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]
    check_parameters(cls.name, [f.name for f in fields], params)
    required = [
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    missing = [p for p in required if p not in params]
    if missing:
        example = ", ".join(f"{p}=..." for p in missing)
        raise TypeError(
            f"{cls.name} needs the parameter {', '.join(missing)}: get({cls.name!r}, {example})"
        )
    return cls(**params)


def get(name_or_object: str | Initializer | InitFunction, **params: Any) -> Initializer:
    """The initialiser called ``name_or_object`` (aliases accepted), built with ``params``.

    Lookup ignores case, '_', '-' and spaces ("Glorot-Uniform" is "xavier_uniform"). An
    ``Initializer`` object is returned as it is, an ``Initializer`` subclass is built with
    ``params``, and a plain function ``(shape, rng) -> array`` is wrapped in ``FromCallable``.
    An unknown name raises ``UnknownInitializerError`` (a ``ValueError``) listing the valid
    names; an unknown parameter raises ``TypeError`` naming the valid ones.

    >>> get("he_uniform")
    HeUniform(gain=1.4142135623730951)
    >>> get("Glorot_Normal", gain=2.0)
    XavierNormal(gain=2.0)
    >>> get("constant", value=0.5)
    Constant(value=0.5)
    """
    if isinstance(name_or_object, Initializer):
        return returned_as_is(name_or_object, params, "an initialiser")
    if isinstance(name_or_object, type) and issubclass(name_or_object, Initializer):
        if name_or_object is Initializer or name_or_object is FromCallable:
            raise TypeError(f"{name_or_object.__name__} cannot be built by name")
        return _build(name_or_object, params)
    if isinstance(name_or_object, str):
        return _build(_classes[_index.resolve(name_or_object)], params)
    if callable(name_or_object):
        return FromCallable(returned_as_is(name_or_object, params, "an initialiser", "a function"))
    raise not_a_name(
        "an initialiser is a name, an Initializer object or a function (shape, rng) -> array",
        name_or_object,
    )


# ---------------------------------------------------------------------- the symmetry problem
SYMMETRY_WARNING = (
    "all units of this layer start with identical weights (the symmetry problem): every unit "
    "computes the same function, identical units receive identical updates and stay identical, "
    "so the layer learns no more than a single unit would. Break the symmetry with small random "
    "weights ('small'), Xavier ('xavier_uniform', for tanh/sigmoid) or He ('he_normal', for "
    "ReLU) initialisation."
)


def symmetric_units(weight: Any) -> bool:
    """True when a weight of shape (out, in, ...) with out ≥ 2 has all rows identical.

    Identical rows mean every unit computes the same function of the same inputs (the symmetry
    problem). A weight with fewer than 2 dimensions, fewer than 2 units or no inputs is never
    symmetric. ``weight`` is anything ``numpy.asarray`` accepts (a chainrule Tensor too).

    >>> symmetric_units(np.full((3, 2), 0.5))
    True
    >>> symmetric_units(np.array([[1.0, 2.0], [2.0, 1.0]]))
    False
    """
    w = np.asarray(weight)
    if w.ndim < 2 or w.shape[0] < 2 or w.size == 0:
        return False
    rows = w.reshape(w.shape[0], -1)
    return bool(np.all(rows == rows[0]))


def warn_if_symmetric(weight: Any, layer_name: str = "layer") -> bool:
    """Emit a ``SymmetryWarning`` when ``symmetric_units(weight)``; return whether it did."""
    if not symmetric_units(weight):
        return False
    units = np.asarray(weight).shape[0]
    warnings.warn(
        f"{layer_name} ({units} units): {SYMMETRY_WARNING}", SymmetryWarning, stacklevel=2
    )
    return True


# ---------------------------------------------------------------------- rule of thumb
def recommended_for(activation_name: str | activations.Activation) -> str:
    """The initialiser name that suits a layer followed by ``activation_name``.

    The activation record's ``recommended_init``, which follows the rule of thumb
    (docs/math.md §3): He/Kaiming ("he_normal") for the ReLU family and the ReLU-like
    functions, because ReLU zeroes half of its inputs and He's doubled variance keeps the
    signal's scale; LeCun ("lecun_normal") for selu, the start its self-normalisation assumes;
    Xavier/Glorot ("xavier_uniform") for tanh, sigmoid and the rest. Activation aliases and
    spellings are accepted ("ReLU", "rectifier", "lrelu"); an activation object may be passed
    instead of its name (its own record answers); an unknown name is an error that suggests
    close names.

    >>> recommended_for("LeakyReLU"), recommended_for("selu"), recommended_for("sigmoid")
    ('he_normal', 'lecun_normal', 'xavier_uniform')
    """
    if isinstance(activation_name, activations.Activation):
        return activation_name.recommended_init
    if not isinstance(activation_name, str):
        raise TypeError(f"an activation name is a str, not {type(activation_name).__name__}")
    return activations.get(activation_name).recommended_init  # a typo is an error
