"""What the library's functions use of a model, written as structural types (``typing.Protocol``).

A chainrule ``Model`` (and so ``nn.Sequential``) has all of them; any other object with the same
attributes and methods fits too, and the functions still check at run time what they need (a
clear error names what is missing). The protocols say so to a type checker:

>>> import chainrule as cr
>>> from chainrule.models import Sequential
>>> from chainrule.nn import Dense
>>> model = Sequential([Dense(1, input_dim=2)])
>>> isinstance(model, TrainableModel), isinstance(model, SupportsPredict)
(True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from ._tensor import Tensor

if TYPE_CHECKING:  # both import the tensor ops; nothing here needs them at run time
    from .losses import Loss
    from .optim import Optimizer

__all__ = [
    "CompiledModel",
    "HasNamedParameters",
    "SupportsPredict",
    "SupportsSave",
    "TrainableModel",
]


@runtime_checkable
class HasNamedParameters(Protocol):
    """A model whose parameters have dotted names ("dense.weight"), as a ``Module`` has."""

    def named_parameters(self) -> Sequence[tuple[str, Tensor]]: ...


@runtime_checkable
class SupportsPredict(Protocol):
    """A model that maps raw inputs to outputs (``Model.predict``)."""

    def predict(self, x: Any, /) -> np.ndarray: ...


@runtime_checkable
class TrainableModel(Protocol):
    """What a callback uses of the model being trained: ``stop_training`` (set it to end
    training after the epoch) and its weights as ``state_dict`` / ``load_state_dict``."""

    stop_training: bool

    def state_dict(self) -> dict[str, np.ndarray]: ...

    def load_state_dict(self, state: dict[str, Any], /) -> None: ...


@runtime_checkable
class SupportsSave(Protocol):
    """A model that writes itself to a file (``Model.save``; ``ModelCheckpoint`` uses it)."""

    def save(self, path: str, /) -> None: ...


@runtime_checkable
class CompiledModel(Protocol):
    """A model after ``compile``: its loss and optimiser (None before), the preprocessing it
    applies to raw inputs (or None), ``build`` for lazily built layers, and its parameters
    (``explain`` reads these)."""

    loss: Loss | None
    optimizer: Optimizer | None
    preprocessing: Any

    def build(self, input_shape: tuple[int, ...], /) -> None: ...

    def parameters(self) -> Sequence[Tensor]: ...
