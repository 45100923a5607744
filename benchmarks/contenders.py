"""One MLP training step, written for each contender.

Every factory takes the layer sizes, the activation, the batch (x, y) and returns a callable
that performs one full training step (forward, loss, backward, parameter update) on that batch:

- ``gemm_step``: only the step's matrix products (forward X Wᵀ per layer, ∂W = Gᵀ A per layer,
  ∂A = G W for every layer but the first) into preallocated arrays: the limit no
  implementation can beat;
- ``chainrule_step``: ``Sequential`` with softmax cross-entropy from logits (binary
  cross-entropy from logits for one output) and plain SGD, eager or compiled (``jit=True``);
  ``chainrule_model(keras=True)`` is the same network written the Keras way (a softmax output
  and categorical cross-entropy on probabilities, one-hot labels); ``kernels="numba"`` the
  compiled step with ``chainrule.fast``'s fused optimiser updates (the ``fast`` extra);
- ``torch_step``: ``nn.Sequential``, ``CrossEntropyLoss`` (``BCEWithLogitsLoss``),
  ``optim.SGD`` (PyTorch CPU);
- ``sklearn_step``: ``MLPClassifier.partial_fit`` on the batch with ``solver="sgd"`` (its only
  per-batch entry point; it validates its input on every call).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import chainrule as cr
from chainrule.models import Sequential
from chainrule.nn import Dense

LR = 0.01


def gemm_step(sizes: Sequence[int], x: np.ndarray) -> Callable[[], None]:
    rng = np.random.default_rng(0)
    batch = len(x)
    weights = [
        rng.standard_normal((n_out, n_in)).astype(np.float32) * 0.01
        for n_in, n_out in zip(sizes[:-1], sizes[1:])
    ]
    activations = [x] + [np.empty((batch, n), np.float32) for n in sizes[1:]]
    grads = [np.empty_like(w) for w in weights]
    deltas = [np.empty((batch, n), np.float32) for n in sizes[1:]]

    def step() -> None:
        for layer, weight in enumerate(weights):
            np.matmul(activations[layer], weight.T, out=activations[layer + 1])
        delta = activations[-1]
        for layer in range(len(weights) - 1, -1, -1):
            np.matmul(delta.T, activations[layer], out=grads[layer])
            if layer:
                delta = np.matmul(delta, weights[layer], out=deltas[layer - 1])

    return step


def chainrule_model(
    sizes: Sequence[int],
    activation: str,
    jit: bool,
    optimizer: Any = None,
    keras: bool = False,
    kernels: str = "numpy",
) -> Sequential:
    """The MLP with the loss fused with the output from logits, or (``keras``) written as
    Keras users write it: a softmax output layer and categorical cross-entropy on its
    probabilities (one-hot labels), which chainrule computes from the logits behind it."""
    layers = [Dense(sizes[1], input_dim=sizes[0], activation=activation)]
    layers += [Dense(n, activation=activation) for n in sizes[2:-1]]
    layers.append(Dense(sizes[-1], activation="softmax" if keras else None))
    model = Sequential(layers, seed=0)
    if keras:
        loss = cr.losses.get("categorical_crossentropy")
    else:
        loss = cr.losses.get(
            "bce" if sizes[-1] == 1 else "sparse_categorical_crossentropy", from_logits=True
        )
    model.compile(loss=loss, optimizer=optimizer or cr.optim.SGD(lr=LR), jit=jit, kernels=kernels)
    return model


def chainrule_step(
    sizes: Sequence[int],
    activation: str,
    x: np.ndarray,
    y: np.ndarray,
    jit: bool,
    kernels: str = "numpy",
    optimizer: str = "sgd",
) -> Callable[[], Any]:
    model = chainrule_model(
        sizes, activation, jit, optimizer=_chainrule_optimizer(optimizer), kernels=kernels
    )
    compiled = model.compiled_step

    def step() -> None:
        if jit:
            compiled(x, y)
            return
        model.optimizer.zero_grad()  # what fit does per batch, without its bookkeeping
        model.total_loss(model(x), y).backward()
        model.optimizer.step()

    step.model = model  # type: ignore[attr-defined]
    return step


def _chainrule_optimizer(name: str) -> Any:
    return cr.optim.Adam(lr=0.001) if name == "adam" else cr.optim.SGD(lr=LR)


def torch_model(torch: Any, sizes: Sequence[int], activation: str) -> Any:
    layers: list[Any] = []
    for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(n_in, n_out))
        if index < len(sizes) - 2:
            layers.append(
                {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}[
                    activation
                ]()
            )
    torch.manual_seed(0)
    return torch.nn.Sequential(*layers)


def torch_step(
    torch: Any,
    sizes: Sequence[int],
    activation: str,
    x: np.ndarray,
    y: np.ndarray,
    optimizer: str = "sgd",
) -> Callable[[], None]:
    model = torch_model(torch, sizes, activation)
    optimizer = (
        torch.optim.Adam(model.parameters(), lr=0.001)
        if optimizer == "adam"
        else torch.optim.SGD(model.parameters(), lr=LR)
    )
    if sizes[-1] == 1:
        loss_function, targets = torch.nn.BCEWithLogitsLoss(), torch.from_numpy(y)
    else:
        loss_function = torch.nn.CrossEntropyLoss()
        targets = torch.from_numpy(y.astype(np.int64))
    inputs = torch.from_numpy(x)

    def step() -> None:
        optimizer.zero_grad()
        loss_function(model(inputs), targets).backward()
        optimizer.step()

    step.model = model  # type: ignore[attr-defined]
    return step


def sklearn_classifier(
    sklearn_nn: Any, sizes: Sequence[int], activation: str, batch: int, solver: str = "sgd"
) -> Any:
    return sklearn_nn.MLPClassifier(
        hidden_layer_sizes=tuple(sizes[1:-1]),
        activation=activation,
        solver=solver,
        batch_size=batch,
        learning_rate_init=LR if solver == "sgd" else 0.001,
        momentum=0.0,
        nesterovs_momentum=False,
        alpha=0.0,
        max_iter=1,
        shuffle=True,
        random_state=0,
        tol=0.0,
        n_iter_no_change=10**9,
        warm_start=True,
    )


def sklearn_step(
    sklearn_nn: Any, sizes: Sequence[int], activation: str, x: np.ndarray, y: np.ndarray
) -> Callable[[], None]:
    classifier = sklearn_classifier(sklearn_nn, sizes, activation, len(x))
    classes = np.arange(max(sizes[-1], 2))
    y = y.ravel().astype(np.int64)

    def step() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            classifier.partial_fit(x, y, classes=classes)

    step.model = classifier  # type: ignore[attr-defined]
    return step


def batch(sizes: Sequence[int], rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs and labels (for one output: 0/1 targets of shape (rows, 1), float32)."""
    if tuple(sizes[:: len(sizes) - 1]) == (2, 1) and rows == 4:  # the XOR truth table
        return (
            np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32),
            np.array([[0], [1], [1], [0]], np.float32),
        )
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, sizes[0])).astype(np.float32)
    if sizes[-1] == 1:
        return x, rng.integers(0, 2, (rows, 1)).astype(np.float32)
    return x, rng.integers(0, sizes[-1], rows)
