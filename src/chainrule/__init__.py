"""chainrule: feedforward neural networks whose every derivative is explicit, verified and visible.

>>> import chainrule as cr
>>> w = cr.tensor(0.0, requires_grad=True)
>>> f = 1 / (cr.exp(-(w * 1.0 + 0.0)) + 1)
>>> f.backward()
>>> w.grad.item()
0.25
"""

from __future__ import annotations

import importlib
import sys
import types
import warnings
from typing import Any

from . import activations, callbacks, init, losses, metrics, models, nn, optim
from ._tensor import Tensor, gradients, tensor
from ._version import __version__
from .atomic import FileWriteError
from .autograd import grad, value_and_grad
from .dtypes import get_default_dtype, set_default_dtype
from .errors import DerivativeCheckError, GraphFreedError, ShapeError
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops import (
    abs,
    broadcast_to,
    clip,
    concatenate,
    exp,
    log,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    ones,
    ones_like,
    reshape,
    sqrt,
    stack,
    sum,
    sum_to,
    transpose,
    where,
    zeros,
    zeros_like,
)
from .serialization import ModelFileError
from .serialization import load_model as load
from .training import Model, TrainingInterrupted

# Loaded on first use, so that ``import chainrule`` stays fast (the benchmarks time it).
_LAZY_MODULES = (
    "compiler",
    "datasets",
    "diagnostics",
    "experiments",
    "gradient_check",
    "graph",
    "plot",
    "bias_variance",
)
# Functions of lazily loaded modules: name → module.
_LAZY_FUNCTIONS = {"draw_graph": "graph", "gradcheck": "gradient_check"}
_LAZY_FUNCTIONS.update(trace_gradients="graph", show_graph="graph")


def __getattr__(name: str) -> Any:
    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_FUNCTIONS:
        return getattr(importlib.import_module(f".{_LAZY_FUNCTIONS[name]}", __name__), name)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


class _MovedModule(types.ModuleType):
    """A module's old path, kept importable: every name read from it warns and comes from the
    module's new home."""

    def __init__(self, old: str, new: types.ModuleType, advice: str) -> None:
        super().__init__(old)
        self._new, self._advice = new, advice

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        warnings.warn(
            f"the module {self.__name__} is now {self._new.__name__}; {self._advice}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(self._new, name)


# chainrule.tensor is the function; the engine's module, once chainrule.tensor, is _tensor. No
# file may keep the old name: importing it would replace the function by the module.
sys.modules[f"{__name__}.tensor"] = _MovedModule(
    f"{__name__}.tensor",
    sys.modules[f"{__name__}._tensor"],
    "import Tensor, tensor and gradients from chainrule",
)

__all__ = [
    "__version__",
    "abs",
    "activations",
    "bias_variance",
    "broadcast_to",
    "callbacks",
    "clip",
    "compiler",
    "concatenate",
    "datasets",
    "DerivativeCheckError",
    "diagnostics",
    "draw_graph",
    "errors",
    "experiments",
    "graph",
    "ops",
    "show_graph",
    "trace_gradients",
    "FileWriteError",
    "enable_grad",
    "exp",
    "get_default_dtype",
    "grad",
    "gradcheck",
    "gradient_check",
    "gradients",
    "GraphFreedError",
    "init",
    "is_grad_enabled",
    "load",
    "log",
    "losses",
    "matmul",
    "max",
    "maximum",
    "mean",
    "metrics",
    "min",
    "minimum",
    "Model",
    "models",
    "ModelFileError",
    "nn",
    "no_grad",
    "ones",
    "ones_like",
    "optim",
    "plot",
    "reshape",
    "set_default_dtype",
    "set_grad_enabled",
    "ShapeError",
    "sqrt",
    "stack",
    "sum",
    "sum_to",
    "Tensor",
    "tensor",
    "TrainingInterrupted",
    "transpose",
    "value_and_grad",
    "where",
    "zeros",
    "zeros_like",
]
