"""Models: ``Model`` (``compile``, ``fit``, ``evaluate``, ``predict``) and ``Sequential``, a Model
made of a stack of layers.

They sit above ``chainrule.nn``: a layer knows nothing of training, a model is the thing trained.

>>> from chainrule.models import Sequential
>>> from chainrule.nn import Activation, Dense
>>> model = Sequential([Dense(64, input_dim=100), Activation("relu"), Dense(10),
...                     Activation("softmax")], seed=0)
>>> model.count_parameters()
7114
"""

from __future__ import annotations

from ..training import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential"]
