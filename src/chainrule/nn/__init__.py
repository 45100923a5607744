"""Networks: ``Module`` and ``Parameter``, the layers, ``Sequential``, and ``walk`` (each Dense
layer's z, a and g'(z) on a batch).

>>> from chainrule.nn import Sequential, Dense, Activation
>>> model = Sequential([Dense(64, input_dim=100), Activation("relu"), Dense(10),
...                     Activation("softmax")], seed=0)
>>> model.count_parameters()
7114
"""

from __future__ import annotations

from .layers import Activation, BatchNorm, Dense, Dropout, Flatten, Layer, Maxout, PReLU
from .module import Module, Parameter  # noqa: I001 - first: training imports nn.module
from .registry import (
    UnknownLayerError,
    layer_class,
    layer_names,
    register_layer,
    unregister_layer,
)
from .sequential import Sequential
from .signals import Signals, walk

__all__ = ["Activation", "BatchNorm", "Dense", "Dropout", "Flatten", "Layer", "Maxout", "Module",
           "PReLU", "Parameter", "Sequential", "Signals", "UnknownLayerError", "layer_class",
           "layer_names", "register_layer", "unregister_layer", "walk"]
