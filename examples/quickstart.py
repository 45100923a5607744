"""chainrule in two minutes: the chain rule by hand, the activation catalog, and XOR learned.

Run: python examples/quickstart.py
"""

from __future__ import annotations

import numpy as np

import chainrule as cr


def worked_example() -> None:
    """docs/math.md section 4: f(x; w, b) = 1/(exp(−(w·x + b)) + 1) at x = 1, w = 0, b = 0."""
    x = cr.tensor(1.0)
    w = cr.tensor(0.0, requires_grad=True)
    b = cr.tensor(0.0, requires_grad=True)
    f = 1 / (cr.exp(-(w * x + b)) + 1)
    f.backward()
    print("1. The chain rule, one primitive op at a time")
    print(f"   f = 1/(exp(-(w*x + b)) + 1) = {f.item():.2f} at x=1, w=0, b=0")
    print(f"   df/dw = {w.grad.item():.2f}   df/db = {b.grad.item():.2f}   (docs/math.md: 0.25)\n")


def catalog() -> None:
    """Every activation: g, g' and g'' at a few points, and its properties."""
    points = np.array([-2.0, 0.0, 2.0])
    print("2. The activation catalog: g(z), g'(z), g''(z) at z = -2, 0, 2")
    for name in cr.activations.names():
        act = cr.activations.get(name)
        if not act.elementwise:
            print(f"   {name:<13} (vector activation) {act.formula}")
            continue
        values = [act.forward(points), act.derivative(points), act.second_derivative(points)]
        cells = "  ".join(" ".join(f"{v:6.3f}" for v in row) for row in values)
        print(f"   {name:<13} {cells}   range {act.output_range}, saturates: {act.saturating}")
    print()


def xor() -> None:
    """A 2-8-1 network trained by full-batch gradient descent; a linear model cannot do this."""
    rng = np.random.default_rng(0)
    inputs = cr.tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
    targets = cr.tensor([[0], [1], [1], [0]])
    w1 = cr.tensor(rng.normal(0, 1, (8, 2)), requires_grad=True)  # W of shape (out, in)
    b1 = cr.tensor(np.zeros(8), requires_grad=True)
    w2 = cr.tensor(rng.normal(0, 1, (1, 8)), requires_grad=True)
    b2 = cr.tensor(np.zeros(1), requires_grad=True)
    parameters = [w1, b1, w2, b2]
    learning_rate = 1.0
    print("3. XOR with a 2-8-1 tanh/sigmoid network (z = a Wᵀ + b), full-batch gradient descent")
    for epoch in range(1, 2001):
        hidden = (inputs @ w1.T + b1).tanh()
        output = (hidden @ w2.T + b2).sigmoid()
        loss = ((output - targets) ** 2).mean()
        loss.backward()
        with cr.no_grad():
            for p in parameters:
                p.data -= learning_rate * p.grad.data
                p.zero_grad()
        if epoch in (1, 10, 100, 500, 1000, 2000):
            print(f"   epoch {epoch:>4}  mean squared error {loss.item():.5f}")
    predictions = output.numpy().ravel()
    print(f"   predictions for (0,0) (0,1) (1,0) (1,1): {np.round(predictions, 3)}")
    correct = int(((predictions > 0.5) == targets.numpy().ravel().astype(bool)).sum())
    print(f"   {correct}/4 correct")


if __name__ == "__main__":
    worked_example()
    catalog()
    xor()
