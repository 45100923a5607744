"""A layer of your own: a residual block y = a + W₂ relu(W₁ a + b₁) + b₂, trained in a Sequential.

Write ``build`` (create the parameters once the input width is known) and ``forward`` (tensor
ops only); the engine derives the backward pass, the compiled step replays it, and gradcheck
verifies it against finite differences.

Run: python examples/custom_module.py
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.models import Sequential
from chainrule.nn import Dense, Layer, Parameter


class Residual(Layer):
    """y = a + W₂ relu(W₁ a + b₁) + b₂ with W₁ of shape (hidden, n) and W₂ of shape (n, hidden):
    the block learns a correction to its input (He, Zhang, Ren and Sun 2016)."""

    kind = "residual"

    def __init__(self, hidden: int, name: str | None = None) -> None:
        super().__init__(name=name)
        self.hidden = hidden

    def build(self, input_shape: tuple[int, ...], rng: np.random.Generator) -> None:
        (width,) = input_shape
        dtype = cr.get_default_dtype()
        self.w1 = Parameter(rng.normal(0, np.sqrt(2 / width), (self.hidden, width)).astype(dtype))
        self.b1 = Parameter(np.zeros(self.hidden, dtype))
        self.w2 = Parameter(np.zeros((width, self.hidden), dtype))  # starts as the identity
        self.b2 = Parameter(np.zeros(width, dtype))
        super().build(input_shape, rng)

    def forward(self, a: cr.Tensor) -> cr.Tensor:
        hidden = cr.maximum(a @ cr.transpose(self.w1) + self.b1, 0.0)
        return a + hidden @ cr.transpose(self.w2) + self.b2

    def config(self) -> dict:
        return {"hidden": self.hidden}


def main() -> None:
    data = cr.datasets.load("moons", n=400, noise=0.15, seed=0)
    x, y = data.x, data.y
    model = Sequential([Dense(8, input_dim=2, activation="tanh"), Residual(16), Dense(2)], seed=0)
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
        optimizer="adam",
        metrics=["accuracy"],
    )
    history = model.fit(x, y, epochs=40, batch_size=32, verbose=0)
    block = model.layers[1]
    print(
        f"trained {model.count_parameters()} parameters, compiled: "
        f"{model.jit_fallback_reason is None}"
    )
    print(f"accuracy {history.history['accuracy'][-1]:.3f}")
    print(f"the residual block's correction: |W2| = {np.abs(block.w2.numpy()).mean():.4f}")
    cr.set_default_dtype("float64")
    try:
        report = model.gradcheck(x[:16], y[:16])
    finally:
        cr.set_default_dtype("float32")
    print(f"gradcheck: {report.verdict} (relative error {report.relative_error:.1e})")
    assert report.ok and history.history["accuracy"][-1] > 0.9


if __name__ == "__main__":
    main()
