"""Reading the compiled step: what ``fit`` actually runs, one kernel per line.

``fit`` traces the forward pass, the loss and the backward pass the engine records (the backward
is itself a graph, built with ``create_graph=True``) and lowers them to a static program over
preallocated buffers. Its ``listing`` says, per kernel, the phase, the op and its output shape,
and how the buffer is used: ``(out=)`` writes into a preallocated buffer, ``in place:
overwrites …`` reuses the buffer of a value no later kernel reads, ``a overwrites z`` is an
activation whose derivative needs only its output, ``→ ∂L/∂θ`` writes a gradient straight into
the flat gradient array the optimiser reads.

The same derivative rules run compiled and eagerly, so the two train to the same bits; this
script checks that too.

Run: python examples/compiled_listing.py
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.models import Sequential
from chainrule.nn import Dense


def trained(jit: bool | str, x: np.ndarray, y: np.ndarray) -> Sequential:
    model = Sequential([Dense(16, input_dim=2, activation="relu"), Dense(2)], seed=0)
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
        optimizer="adam",
        jit=jit,
    )
    model.fit(x, y, epochs=3, batch_size=100, verbose=0, seed=0)
    return model


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(int)  # XOR of the signs
    compiled = trained(True, x, y)
    program = compiled.compiled_step.program(x[:100], y[:100])
    print("\n".join(program.listing))
    phases = {line.split()[0] for line in program.listing}
    gradients = sum("∂L/∂θ" in line for line in program.listing)
    print(
        f"\n{len(program.listing)} kernels; {gradients} write ∂L/∂θ directly "
        f"({len(compiled.parameters())} parameter arrays)"
    )
    eager = trained(False, x, y)
    same = all(
        np.array_equal(a, b)
        for a, b in zip(compiled.state_dict().values(), eager.state_dict().values())
    )
    print(f"compiled and eager training, 12 Adam steps: bit-identical = {same}")
    assert phases <= {"forward", "backward", "update"} and same


if __name__ == "__main__":
    main()
