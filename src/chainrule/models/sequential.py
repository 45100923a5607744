"""Sequential: a stack of layers, each feeding the next, with a readable summary.

>>> from chainrule.models import Sequential
>>> from chainrule.nn import Activation, Dense
>>> model = Sequential([Dense(4, input_dim=2), Activation("tanh"), Dense(1)], seed=0)
>>> [tuple(p.shape) for p in model.parameters()]
[(4, 2), (4,), (1, 4), (1,)]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeGuard

import numpy as np

from .._tensor import Tensor
from ..nn.layers import Activation, Dense, Layer
from ..nn.module import Module
from ..training import Model


class Sequential(Model):
    """Layers applied in order. Shapes are inferred after the first layer.

    ``seed`` makes initialisation reproducible: every layer without a seed of its own draws its
    weights from one generator seeded with it, in layer order. A ``Dense`` with the default
    ``kernel_init="auto"`` followed by an ``Activation`` layer is initialised for that
    activation (He for ReLU, Xavier for tanh, ...).
    """

    def __init__(
        self,
        layers: Iterable[Module] | None = None,
        seed: int | None = None,
        input_shape: tuple[int, ...] | None = None,
        name: str = "sequential",
    ) -> None:
        super().__init__(name=name)
        self.layers: list[Module] = []
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self.input_shape = None if input_shape is None else tuple(input_shape)
        for layer in list(layers or []):
            self.add(layer)

    # ------------------------------------------------------------------ building
    def add(self, layer: Module) -> Sequential:
        """Append a layer (built at once when the input shape is known)."""
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential takes layers (Module objects), not {type(layer).__name__}")
        if isinstance(layer, Layer):
            layer.name = layer.name or self._unique_name(layer.kind)
            name = layer.name
        else:
            name = self._unique_name(type(layer).__name__.lower())
        if name in self._modules:
            raise ValueError(f"two layers are named {name!r}; layer names must be unique")
        previous = self.layers[-1] if self.layers else None
        if isinstance(layer, Activation) and isinstance(previous, Dense):
            layer.output_shape((previous.output_width,))  # a maxout must group those units
        self._modules[name] = layer
        self.layers.append(layer)
        if self.input_shape is None and len(self.layers) == 1:
            self.input_shape = _declared_input_shape(layer)
        if (
            isinstance(layer, Layer)
            and layer.built
            and layer.parameters()
            and (self._owns_initialisation(layer))
        ):
            layer.built = False  # draw its weights from the model's generator instead
        if isinstance(layer, Activation) and _auto_dense(previous):
            # The Dense before an Activation layer is initialised for that activation.
            previous.activation_hint = layer.activation
            previous.built = False
        self._build_known()
        return self

    def _unique_name(self, kind: str) -> str:
        taken = set(self._modules)
        if kind not in taken:
            return kind
        index = 1
        while f"{kind}_{index}" in taken:
            index += 1
        return f"{kind}_{index}"

    def _owns_initialisation(self, layer: Module) -> bool:
        return self.seed is not None and getattr(layer, "seed", None) is None

    def _build_known(self) -> None:
        """Build (or rebuild with the model's generator) every layer whose input is known."""
        shape = self.input_shape
        if shape is None:
            return
        for layer in self.layers:
            if not isinstance(layer, Layer):
                return
            if not layer.built:
                own_seed = getattr(layer, "seed", None)
                layer.build(
                    shape, self._rng if own_seed is None else np.random.default_rng(own_seed)
                )
            shape = layer.output_shape(shape)

    def build(self, input_shape: tuple[int, ...]) -> None:
        """Build every layer for inputs of ``input_shape`` (without the batch axis)."""
        if self.input_shape is not None and tuple(input_shape) != self.input_shape:
            from ..errors import ShapeError

            raise ShapeError(
                f"{self.name}: built for inputs of shape (N, {_shape(self.input_shape)}), "
                f"got (N, {_shape(tuple(input_shape))})"
            )
        self.input_shape = tuple(input_shape)
        self._build_known()

    @property
    def built(self) -> bool:
        return self.input_shape is not None and all(
            getattr(layer, "built", True) for layer in self.layers
        )

    # ------------------------------------------------------------------ running
    def forward(self, x: Any) -> Tensor:
        if not self.layers:
            raise ValueError("this Sequential model has no layers; add some first")
        if self.input_shape is None:
            self.build(np.shape(x.data if isinstance(x, Tensor) else x)[1:])
        for layer in self.layers:
            x = layer(x)
        return x

    def output_shapes(self) -> list[tuple[int, ...] | None]:
        shapes: list[tuple[int, ...] | None] = []
        shape = self.input_shape
        for layer in self.layers:
            shape = (
                layer.output_shape(shape)
                if shape is not None and isinstance(layer, Layer)
                else None
            )
            shapes.append(shape)
        return shapes

    def summary(self, print_fn: Callable[[str], Any] = print) -> None:
        """Print the layers, their output shapes and parameter counts (Keras' layout)."""
        rows = [("Layer (type)", "Output shape", "Params")]
        for layer, shape in zip(self.layers, self.output_shapes()):
            count = sum(p.size for p in layer.parameters())
            built = getattr(layer, "built", True)
            rows.append(
                (
                    f"{getattr(layer, 'name', '') or '?'} ({type(layer).__name__})",
                    "?" if shape is None else f"(None, {_shape(shape)})",
                    f"{count:,}" if built else "? (not built)",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        rule = "─" * (sum(widths) + 4)
        lines = [f'Model: "{self.name}"', rule]
        for index, row in enumerate(rows):
            lines.append(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}")
            if index == 0:
                lines.append(rule)
        lines.append(rule)
        lines.append(f"Total parameters: {self.count_parameters():,}")
        if not self.built:
            lines.append("(not built yet: give input_dim to the first layer or call the model)")
        print_fn("\n".join(lines))

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        inner = ",\n".join(f"    {layer!r}" for layer in self.layers)
        return f"Sequential([\n{inner}\n])" if self.layers else "Sequential([])"


def _auto_dense(layer: Module | None) -> TypeGuard[Dense]:
    return (
        isinstance(layer, Dense)
        and layer.activation is None
        and isinstance(layer.kernel_init, str)
        and layer.kernel_init == "auto"
    )


def _declared_input_shape(layer: Module) -> tuple[int, ...] | None:
    input_dim = getattr(layer, "input_dim", None)
    if input_dim is None and hasattr(layer, "linear"):
        input_dim = layer.linear.input_dim
    return None if input_dim is None else (int(input_dim),)


def _shape(shape: tuple[int, ...]) -> str:
    return ", ".join(str(s) for s in shape)


__all__ = ["Sequential"]
