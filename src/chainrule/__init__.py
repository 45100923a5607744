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
from typing import Any

from . import activations, callbacks, init, losses, metrics, models, nn, optim
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
from .tensor import Tensor, gradients, tensor
from .training import Model, TrainingInterrupted

# Loaded on first use, so that ``import chainrule`` stays fast (the benchmarks time it).
_LAZY_MODULES = ("compiler", "datasets", "diagnostics", "experiments", "gradient_check", "graph",
                 "plot")
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
    return sorted(set(globals()) | set(_LAZY_MODULES) | set(_LAZY_FUNCTIONS))

__all__ = [
    "__version__", "abs", "activations", "broadcast_to", "callbacks", "clip", "concatenate",
    "datasets", "DerivativeCheckError", "draw_graph", "FileWriteError", "enable_grad", "exp",
    "get_default_dtype",
    "grad", "gradcheck", "gradient_check", "gradients", "GraphFreedError", "init",
    "is_grad_enabled", "load", "log", "losses", "matmul", "max", "maximum", "mean", "metrics",
    "min", "minimum", "Model", "models",
    "ModelFileError", "nn", "no_grad", "ones", "ones_like", "optim", "plot", "reshape",
    "set_default_dtype", "set_grad_enabled", "ShapeError", "sqrt", "stack", "sum", "sum_to",
    "Tensor", "tensor", "TrainingInterrupted", "transpose", "value_and_grad", "where", "zeros",
    "zeros_like"
]
