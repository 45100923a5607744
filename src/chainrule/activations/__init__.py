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

# Each class joins the catalog where it is defined (``@catalogued``), in import order: the
# classic set (docs/math.md §1: classic.py, then the vector activations), then the modern set.
# The classes are re-exported: ``__all__`` names every CATALOG class.
# isort: off
from .classic import ELU, LeakyReLU, PReLU, ReLU, Sigmoid, Softplus, Tanh  # noqa: F401
from .vector import LogSoftmax, Maxout, Softmax  # noqa: F401
from .modern import CELU, GELU, SELU, GELUTanh, HardSigmoid, HardSwish, HardTanh  # noqa: F401
from .modern import Identity, LogSigmoid, Mish, ReLU6, SiLU, Softsign  # noqa: F401

# isort: on
from .registry import (
    UnknownActivationError,
    built_in,
    check_derivatives,
    get,
    names,
    register,
    remove,
)

CATALOG: tuple[type[Activation], ...] = built_in()

install_activation_lookup(get)

__all__ = [
    "Activation",
    "CATALOG",
    "UnknownActivationError",
    "activation_input",
    "check_derivatives",
    "get",
    "names",
    "normalize",
    "register",
    "remove",
    *(cls.__name__ for cls in CATALOG),
]
