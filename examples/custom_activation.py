"""An activation of your own, checked before it is used: the "penalised tanh"
g(z) = tanh(z) for z > 0, 0.25·tanh(z) otherwise (Xu, Huang and Li 2016).

``chainrule.activations.register`` compares the derivative you give with finite differences of
the forward (and g'' with those of g', and g' written from the output with g'(z)) before the
name is added; a wrong derivative is refused with a table of the worst points. Then the name
works everywhere a built-in does: Dense(..., activation=...), the compiled step, gradcheck,
the health report, model files (registered again before loading).

Run: python examples/custom_activation.py
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.models import Sequential
from chainrule.nn import Dense


def forward(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0, 1.0, 0.25) * np.tanh(z)


def derivative(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0, 1.0, 0.25) * (1 - np.tanh(z) ** 2)


def second_derivative(z: np.ndarray) -> np.ndarray:
    t = np.tanh(z)
    return np.where(z > 0, 1.0, 0.25) * (-2 * t * (1 - t**2))


def main() -> None:
    try:  # a wrong derivative is caught before it is used: here, the 0.25 forgotten
        cr.activations.register("bad_tanh", forward, lambda z: 1 - np.tanh(z) ** 2)
    except cr.DerivativeCheckError as error:
        print("refused:", str(error).splitlines()[0].split("; worst")[0])
    else:
        raise AssertionError("a wrong derivative was accepted")

    cr.activations.register(
        "penalized_tanh",
        forward,
        derivative,
        second_derivative,
        formula="tanh(z) if z > 0 else 0.25·tanh(z)",
        output_range="(-0.25, 1)",
        zero_centered="yes",
        monotonic=True,
        saturating="both",
        replace=True,
    )
    g = cr.activations.get("penalized_tanh")
    print(f"g(-1) = {g.forward([-1.0])[0]:.4f}, g'(-1) = {g.derivative([-1.0])[0]:.4f}")

    data = cr.datasets.load("circles", n=400, seed=0)
    model = Sequential(
        [
            Dense(16, input_dim=2, activation="penalized_tanh"),
            Dense(16, activation="penalized_tanh"),
            Dense(2),
        ],
        seed=0,
    )
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
        optimizer="adam",
        metrics=["accuracy"],
    )
    history = model.fit(data.x, data.y, epochs=60, batch_size=32, verbose=0)
    accuracy = history.history["accuracy"][-1]
    print(
        f"circles, two penalized_tanh layers: accuracy {accuracy:.3f}, "
        f"compiled: {model.jit_fallback_reason is None}"
    )
    cr.set_default_dtype("float64")
    try:
        report = model.gradcheck(data.x[:16], data.y[:16])
    finally:
        cr.set_default_dtype("float32")
    print(f"gradcheck: {report.verdict} (relative error {report.relative_error:.1e})")
    assert report.ok and accuracy > 0.9
    cr.activations.remove("penalized_tanh")


if __name__ == "__main__":
    main()
