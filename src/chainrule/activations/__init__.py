"""The activation catalog: every activation of docs/math.md §1, each defined in one place.

>>> import chainrule as cr
>>> act = cr.activations.get("sigmoid")
>>> act.derivative([0.0])
array([0.25], dtype=float32)
>>> act.derivative_formula
"σ'(z) = σ(z)(1 − σ(z))"
"""

from __future__ import annotations

from .._tensor import install_activation_lookup
from ..naming import normalize
from .base import Activation, activation_input
from .classic import ELU, LeakyReLU, PReLU, ReLU, Sigmoid, Softplus, Tanh
from .modern import (
    CELU,
    GELU,
    SELU,
    GELUTanh,
    HardSigmoid,
    HardSwish,
    HardTanh,
    Identity,
    LogSigmoid,
    Mish,
    ReLU6,
    SiLU,
    Softsign,
)
from .registry import (
    UnknownActivationError,
    check_derivatives,
    get,
    names,
    register,
    remove,
)
from .registry import add as _add
from .vector import LogSoftmax, Maxout, Softmax

CATALOG: tuple[type[Activation], ...] = (
    # the classic set (docs/math.md §1)
    Sigmoid, Tanh, ReLU, LeakyReLU, PReLU, ELU, Softplus, Softmax, LogSoftmax, Maxout,
    # the modern set
    Identity, GELU, GELUTanh, SiLU, Mish, SELU, CELU, HardSigmoid, HardTanh, HardSwish, ReLU6,
    Softsign, LogSigmoid,
)

for _activation_class in CATALOG:
    _add(_activation_class)

install_activation_lookup(get)

__all__ = [
    "Activation", "CATALOG", "UnknownActivationError", "activation_input", "check_derivatives",
    "get", "names",
    "normalize", "register", "remove",
    *(cls.__name__ for cls in CATALOG),
]
