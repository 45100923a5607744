"""Networks: ``Module`` and ``Parameter``, the layers, and ``walk`` (each Dense layer's z, a and
g'(z) on a batch); ``Sequential`` is in ``chainrule.models``.

>>> from chainrule.nn import Dense
>>> Dense(10, input_dim=100).count_parameters()
1010
"""

from __future__ import annotations

import warnings
from typing import Any

from .layers import Activation, BatchNorm, Dense, Dropout, Flatten, Layer, Maxout, PReLU
from .module import Module, Parameter
from .registry import (
    UnknownLayerError,
    layer_class,
    layer_names,
    register_layer,
    unregister_layer,
)
from .signals import Signals, walk

__all__ = [
    "Activation",
    "BatchNorm",
    "Dense",
    "Dropout",
    "Flatten",
    "Layer",
    "Maxout",
    "Module",
    "PReLU",
    "Parameter",
    "Signals",
    "UnknownLayerError",
    "layer_class",
    "layer_names",
    "register_layer",
    "unregister_layer",
    "walk",
]


def __getattr__(name: str) -> Any:
    if name == "Sequential":  # its old home; a Sequential is a Model, which sits above nn
        warnings.warn(
            "chainrule.nn.Sequential moved to chainrule.models.Sequential",
            DeprecationWarning,
            stacklevel=2,
        )
        from ..models import Sequential  # the compatibility path only, on use

        return Sequential
    raise AttributeError(f"module 'chainrule.nn' has no attribute {name!r}")
