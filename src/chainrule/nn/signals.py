"""One walk through a model's layers: each Dense layer's z, a = g(z) and g'(z) on a batch.

Health reports, activation histograms and the playground's views all look at the same thing —
the pre-activations z of every ``Dense`` layer and what its activation g makes of them — and
all of them get it here. A Dense layer's g is its own ``activation``, or that of an
``Activation`` layer after it; layers that keep the Dense's units (``Layer.preserves_units``:
``Dropout``, ``BatchNorm``) may stand in between, and then z is what reaches g (the
normalised z, after a BatchNorm). A Dense followed by neither has a = z (no g).

>>> import numpy as np
>>> from chainrule.models import Sequential
>>> from chainrule.nn import Activation, Dense, walk
>>> model = Sequential([Dense(3, input_dim=2, seed=0), Activation("relu"), Dense(1, seed=1)])
>>> [(s.name, s.activation_name, s.z.shape) for s in walk(model, np.ones((4, 2)))]
[('dense', 'relu', (4, 3)), ('dense_1', 'identity', (4, 1))]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from .. import activations
from .._tensor import Tensor
from ..grad_mode import no_grad
from ..ops import linear_forward
from .layers import Activation, Dense, Layer, apply_activation


@dataclass(frozen=True)
class Pairing:
    """A Dense layer and the activation g its units go through (None: none, a = z).

    ``owner`` is the layer that applies g (the Dense itself or an ``Activation`` layer after
    it); its ``alpha`` holds PReLU's learned slopes where it learns them.
    """

    dense: Dense
    activation: activations.Activation | None
    owner: Layer | None

    @property
    def name(self) -> str:
        return self.dense.name or "dense"


@dataclass
class Signals:
    """What one Dense layer's units did on a batch: z (the input of g), a = g(z), g'(z)."""

    pairing: Pairing
    z: np.ndarray
    a: np.ndarray

    @property
    def dense(self) -> Dense:
        return self.pairing.dense

    @property
    def activation(self) -> activations.Activation | None:
        return self.pairing.activation

    @property
    def name(self) -> str:
        return self.pairing.name

    @property
    def activation_name(self) -> str:
        """g's catalog name; "identity" for a Dense followed by no activation."""
        return "identity" if self.activation is None else self.activation.name

    @cached_property
    def slope(self) -> np.ndarray:
        """g'(z) elementwise (1 where there is no g; PReLU with the layer's learned slopes).

        Vector activations (softmax, maxout) have a Jacobian, not an elementwise slope: an
        error says so.
        """
        g = self.activation
        if g is None:
            return np.ones_like(self.z)
        if not g.elementwise:
            raise ValueError(
                f"{self.name}: {g.name} is not elementwise; it has no slope g'(z) per unit"
            )
        slopes = getattr(self.pairing.owner, "alpha", None)
        if slopes is not None:
            g = activations.get("prelu", gamma=np.asarray(slopes.data))
        with np.errstate(invalid="ignore"):
            return g.derivative(self.z, self.a)


def layers_of(model: object, who: str = "walk") -> list[Any]:
    """The layer list of a Sequential (or of a Model wrapping one)."""
    for candidate in (model, getattr(model, "module", None)):
        layers = getattr(candidate, "layers", None)
        if isinstance(layers, list):
            return layers
    raise TypeError(f"{who} needs a Sequential model (with .layers), got {type(model).__name__}")


def pairings(layers: list[Any]) -> list[Pairing]:
    """Every Dense layer of ``layers`` with the activation its units go through, in order."""
    found: list[Pairing] = []
    pending: int | None = None  # the index in found of a Dense still awaiting a g
    for layer in layers:
        if isinstance(layer, Dense):
            found.append(
                Pairing(layer, layer.activation, layer if layer.activation is not None else None)
            )
            pending = len(found) - 1 if layer.activation is None else None
        elif isinstance(layer, Activation) and pending is not None:
            found[pending] = Pairing(found[pending].dense, layer.activation, layer)
            pending = None
        elif not getattr(layer, "preserves_units", False):
            pending = None
    return found


def walk_layers(
    layers: list[Any], x: np.ndarray, found: list[Pairing] | None = None
) -> list[Signals]:
    """Run ``x`` (already preprocessed) through ``layers`` as they are (the caller sets eval
    mode and no_grad); the signals of each pairing, in ``pairings(layers)`` order."""
    found = pairings(layers) if found is None else found
    by_dense = {id(pairing.dense): pairing for pairing in found}
    by_owner = {
        id(pairing.owner): pairing
        for pairing in found
        if pairing.owner is not None and pairing.owner is not pairing.dense
    }
    signals: dict[int, Signals] = {}
    for layer in layers:
        pairing = by_dense.get(id(layer)) if isinstance(layer, Dense) else None
        if pairing is not None:
            z = linear_forward(
                x,
                layer.weight.data,  # Dense's own kernel: the same bits
                None if layer.bias is None else layer.bias.data,
            )
            x = (
                z
                if layer.activation is None
                else apply_activation(layer.activation, Tensor._wrap(z), layer.alpha).data
            )  # PReLU: learned slopes
            signals[id(pairing.dense)] = Signals(pairing, z, x)
            continue
        output = layer(Tensor(x)).data
        owned = by_owner.get(id(layer))
        if owned is not None:
            signals[id(owned.dense)] = Signals(owned, x, output)
        x = output
    return [signals[id(pairing.dense)] for pairing in found if id(pairing.dense) in signals]


def walk(model: Any, x: Any) -> list[Signals]:
    """Each Dense layer's z, a = g(z) and g'(z) (``Signals``) on the raw inputs ``x``.

    ``x`` is given as to ``predict``: the model's preprocessing is applied first, the model is
    built if it has not been, and the layers run in eval mode without recording a graph (the
    model's mode is put back).
    """
    layers = layers_of(model, "walk")
    dtype = model._data_dtype() if hasattr(model, "_data_dtype") else np.float32
    inputs = np.asarray(x.data if isinstance(x, Tensor) else x, dtype=dtype)
    if inputs.ndim < 2 or len(inputs) == 0:
        raise ValueError(f"x must be a non-empty batch of rows, got shape {inputs.shape}")
    if hasattr(model, "_prepare"):
        inputs = model._prepare(inputs)  # the training scaling, as predict applies it
    if hasattr(model, "build"):
        model.build(inputs.shape[1:])
    was_training = bool(getattr(model, "training", False))
    model.eval()
    try:
        with no_grad():
            return walk_layers(layers, inputs)
    finally:
        model.train(was_training)


__all__ = ["Pairing", "Signals", "layers_of", "pairings", "walk", "walk_layers"]
