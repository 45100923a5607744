"""The compiled training step (jit=True) trains to the same bits as eager training.

Every comparison is exact (np.array_equal): the compiler runs the same NumPy operations in the
same order as the engine's VJPs, so nothing may drift, even after 100 steps.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule._tensor import Tensor
from chainrule.compiler import CompileError, JitFallbackWarning, compile_step
from chainrule.models import Sequential
from chainrule.nn import Activation, BatchNorm, Dense, Dropout, Flatten

OPTIMIZERS = {
    "sgd": lambda: cr.optim.SGD(lr=0.05),
    "momentum": lambda: cr.optim.SGD(lr=0.05, momentum=0.9),
    "nesterov": lambda: cr.optim.SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "rmsprop": lambda: cr.optim.RMSprop(lr=0.01),
    "rmsprop_centered": lambda: cr.optim.RMSprop(lr=0.01, centered=True, momentum=0.5),
    "adam": lambda: cr.optim.Adam(lr=0.01),
    "amsgrad": lambda: cr.optim.Adam(lr=0.01, amsgrad=True, weight_decay=1e-3),
    "adamw": lambda: cr.optim.AdamW(lr=0.01),
    "adagrad": lambda: cr.optim.Adagrad(lr=0.05),
    "clipped": lambda: cr.optim.SGD(lr=0.5, clipnorm=0.1),
}
ACTIVATIONS = [
    "relu",
    "tanh",
    "sigmoid",
    "leaky_relu",
    "elu",
    "gelu",
    "softplus",
    "selu",
    "identity",
    "hard_tanh",
]


def _data(rows: int = 96, features: int = 5, classes: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, features)).astype(np.float32)
    return x, rng.integers(0, classes, rows)


def _model(
    jit: bool,
    activation: str,
    optimizer: str,
    dropout: bool = False,
    l2: float = 0.0,
    loss: str = "ce",
    width: int = 12,
) -> Sequential:
    layers: list = [Dense(width, input_dim=5, activation=activation, kernel_regularizer=l2 or None)]
    if dropout:
        layers.append(Dropout(0.25, seed=3))
    layers += [Dense(7), Activation(activation), Dense(3 if loss == "ce" else 1)]
    model = Sequential(layers, seed=1)
    losses = {
        "ce": cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
        "bce": cr.losses.get("bce", from_logits=True),
        "mse": "mse",
    }
    model.compile(
        loss=losses[loss],
        optimizer=OPTIMIZERS[optimizer](),
        metrics=["accuracy"] if loss == "ce" else None,
        jit=jit,
    )
    return model


def _train(
    model: Sequential, x: np.ndarray, y: np.ndarray, steps: int = 100, batch: int = 16, **fit
) -> dict:
    epochs = steps // (len(x) // batch)
    with warnings.catch_warnings():
        warnings.simplefilter("error", JitFallbackWarning)
        return model.fit(
            x,
            y,
            epochs=epochs,
            batch_size=batch,
            verbose=0,
            seed=0,
            health=fit.pop("health", False),
            **fit,
        ).history


def _assert_same(eager: Sequential, compiled: Sequential) -> None:
    for (name, a), (_, b) in zip(eager.named_parameters(), compiled.named_parameters()):
        assert np.array_equal(a.data, b.data), (
            f"{name}: max difference {np.abs(a.data - b.data).max()}"
        )


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_100_steps_give_identical_parameters_for_every_optimiser(optimizer, activation):
    x, y = _data()
    eager, compiled = (_model(jit, activation, optimizer) for jit in (False, True))
    history_eager, history_compiled = _train(eager, x, y), _train(compiled, x, y)
    _assert_same(eager, compiled)
    assert history_eager == history_compiled  # losses and accuracies, epoch by epoch
    assert compiled.compiled_step.traces == 1
    # The compiled step updates all parameters in one pass over a flat state; what a
    # checkpoint saves is the same as eager training's, key for key and bit for bit.
    state_eager, state_compiled = eager.optimizer.state_dict(), compiled.optimizer.state_dict()
    assert state_eager.keys() == state_compiled.keys()
    for key, value in state_eager.items():
        assert np.array_equal(value, state_compiled[key]), key


def test_the_compiled_step_updates_all_parameters_in_one_pass(monkeypatch):
    x, y = _data(rows=32)
    model = _model(True, "relu", "adam")
    sizes: list[int] = []
    update = cr.optim.Adam._update
    monkeypatch.setattr(
        cr.optim.Adam,
        "_update",
        lambda self, theta, grad, state: (
            sizes.append(theta.size),
            update(self, theta, grad, state),
        ),
    )
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, health=False)
    assert sizes == [model.count_parameters()] * 4  # 4 steps, one call each
    state0, state1 = model.optimizer.state[:2]
    assert state0["exp_avg"].base is state1["exp_avg"].base  # views of one flat array
    assert state0["step"] == state1["step"] == 4


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_identical_for_each_activation_with_dropout_and_l2(activation):
    x, y = _data()
    eager, compiled = (
        _model(jit, activation, "adam", dropout=True, l2=1e-2) for jit in (False, True)
    )
    assert _train(eager, x, y) == _train(compiled, x, y)
    _assert_same(eager, compiled)
    assert np.array_equal(eager.layers[1].last_mask, compiled.layers[1].last_mask)


@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_identical_for_binary_and_regression_losses(loss):
    x, labels = _data(classes=2)
    y = labels.reshape(-1, 1).astype(np.float32)
    eager, compiled = (_model(jit, "tanh", "momentum", loss=loss) for jit in (False, True))
    assert _train(eager, x, y) == _train(compiled, x, y)
    _assert_same(eager, compiled)


def test_the_smaller_last_batch_gets_its_own_program():
    x, y = _data(rows=100)  # 6 batches of 16 and one of 4
    eager, compiled = (_model(jit, "relu", "sgd") for jit in (False, True))
    assert _train(eager, x, y, steps=70, batch=16) == _train(compiled, x, y, steps=70, batch=16)
    _assert_same(eager, compiled)
    assert compiled.compiled_step.traces == 2


def test_the_program_is_lean():
    """Fused bias + activation in place (one array per layer), no gradient for the input,
    gradients written straight into the parameters' buffers, buffers reused."""
    x, y = _data(rows=32)
    model = Sequential(
        [Dense(16, input_dim=5, activation="relu"), Dense(16, activation="tanh"), Dense(3)], seed=0
    )
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
        optimizer="sgd",
        jit=True,
    )
    program = model.compiled_step.program(x, y)
    listing = "\n".join(program.listing)
    assert "relu(32, 16) in place: a overwrites z" in listing
    assert "tanh(32, 16) in place: a overwrites z" in listing
    assert "∂L/∂X(32, 5)" not in listing  # dead: the input needs no gradient
    assert "matmul(32, 5)" not in listing  # dead: the input needs no gradient
    assert listing.count("→ ∂L/∂θ (out=)") == 6  # ∂L/∂W and ∂L/∂b land in place
    # relu' is written from a (the mask a > 0), and G·g' overwrites G: z is not kept.
    assert "relu'(32, 16)\nbackward mul(32, 16) in place: overwrites matmul(32, 16)" in listing
    # z1 = a1, z2 = a2, z3 (whose buffer e^(log p) takes once log-softmax has read it), Σy
    # for the cross-entropy, and the two (32, 16) gradients ∂L/∂A.
    assert program.buffers == 6
    weight = model.layers[0].weight
    loss = program.forward(x, y)
    program.backward()
    reference = Sequential(
        [Dense(16, input_dim=5, activation="relu"), Dense(16, activation="tanh"), Dense(3)], seed=0
    )
    reference.compile(loss=model.loss, optimizer="sgd")
    value = reference.total_loss(reference(x), y)
    value.backward()
    assert loss == value.item()
    assert np.array_equal(weight.grad.data, reference.layers[0].weight.grad.data)


def test_gradients_are_visible_and_the_monitor_sees_the_same_numbers():
    x, y = _data()
    eager, compiled = (_model(jit, "relu", "adam") for jit in (False, True))
    history_eager = _train(eager, x, y, steps=30, health=True)
    history_compiled = _train(compiled, x, y, steps=30, health=True)
    assert any(key.startswith("health/") for key in history_compiled)
    assert history_eager == history_compiled


def test_replaced_parameters_are_retraced():
    x, y = _data(rows=32)
    model = _model(True, "tanh", "sgd")
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, health=False)
    assert model.compiled_step.traces == 1
    weight = model.layers[0].weight
    weight.data = weight.data.copy()  # a new array: the old program would miss it
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, health=False)
    assert model.compiled_step.traces == 2


def test_a_nan_gradient_is_refused_as_in_eager_mode():
    x, y = _data(rows=16)
    model = _model(True, "relu", "sgd")
    model.layers[0].weight.data[0, 0] = np.inf
    with (
        np.errstate(all="ignore"),
        pytest.raises(FloatingPointError, match="training loss became nan"),
    ):
        model.fit(x, y, epochs=1, batch_size=16, verbose=0, health=False)


def _fallback_reason(model: Sequential, x: np.ndarray, y: np.ndarray) -> str:
    with pytest.warns(JitFallbackWarning) as caught:
        model.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=0, health=False)
    assert len(caught) == 1  # said once, not per step
    return str(caught[0].message)


def test_batchnorm_is_compiled_with_its_running_statistics_as_outputs():
    x, y = _data()

    def build(jit: bool) -> Sequential:
        model = Sequential(
            [Dense(8, input_dim=5), BatchNorm(), Activation("relu"), Dense(3)], seed=0
        )
        model.compile(
            loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
            optimizer="sgd",
            jit=jit,
        )
        return model

    compiled, eager = build(True), build(False)
    assert _train(eager, x, y, steps=30) == _train(compiled, x, y, steps=30)
    assert compiled.jit_fallback_reason is None and compiled.compiled_step.traces == 1
    _assert_same(eager, compiled)
    for (name, a), (_, b) in zip(eager.named_buffers(), compiled.named_buffers()):
        assert np.array_equal(a, b), name
    assert compiled.layers[1].num_batches_tracked == 30
    assert np.array_equal(eager.predict(x), compiled.predict(x))  # eval uses the statistics


def test_a_closure_optimiser_falls_back():
    pytest.importorskip("scipy")
    x, y = _data(rows=32)
    model = Sequential([Dense(4, input_dim=5, activation="tanh"), Dense(3)], seed=0)
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
        optimizer=cr.optim.LBFGS(max_iter=5),
        jit=True,
    )
    assert "LBFGS evaluates the loss several times" in _fallback_reason(model, x, y)


class _SquareWithoutKernel(cr.nn.Module):
    """A user op recorded with ``ops.record`` (a value and a VJP, but no kernel)."""

    def forward(self, x: Tensor) -> Tensor:
        return cr.ops.record(x.data**2, (x,), "my_square", lambda g, out, needs: (g * 2.0 * x,))


def test_an_op_without_a_kernel_is_named():
    x, labels = _data(classes=2)
    model = cr.Model(
        Sequential(
            [Dense(4, input_dim=5, activation="tanh"), _SquareWithoutKernel(), Dense(1)], seed=0
        )
    )
    model.compile(loss="huber", optimizer="sgd", jit=True)
    reason = _fallback_reason(model, x, labels.reshape(-1, 1).astype(np.float32))
    assert "the op 'my_square' (shape (16, 4)) was recorded without a kernel" in reason


class _SneakyScale(cr.nn.Module):
    """Multiplies by a constant computed from the data outside the graph."""

    def forward(self, x: Tensor) -> Tensor:
        return x * float(np.abs(x.data).max())


def test_a_constant_computed_from_the_data_is_refused():
    x, y = _data()
    model = cr.Model(
        Sequential([Dense(4, input_dim=5, activation="tanh"), _SneakyScale(), Dense(3)], seed=0)
    )
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
        optimizer="sgd",
        jit=True,
    )
    with pytest.raises(CompileError, match="depends on the data"):
        compile_step(model, x[:16], y[:16])
    assert "depends on the data" in _fallback_reason(model, x, y)


def test_flatten_and_input_dropout_are_compiled():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2, 3)).astype(np.float32)
    y = rng.integers(0, 2, 64)

    def build(jit: bool) -> Sequential:
        model = Sequential(
            [Flatten(), Dropout(0.2, seed=0), Dense(8, activation="relu"), Dense(2)],
            seed=0,
            input_shape=(2, 3),
        )
        model.compile(
            loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
            optimizer="adam",
            jit=jit,
        )
        return model

    eager, compiled = build(False), build(True)
    assert _train(eager, x, y, steps=20) == _train(compiled, x, y, steps=20)
    _assert_same(eager, compiled)


def test_compile_resets_the_compiled_step():
    model = _model(True, "relu", "sgd")
    first = model.compiled_step
    model.compile(loss="mse", optimizer="sgd", jit=False)
    assert model.compiled_step is None and first is not None


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("optimizer", ["adam", "momentum", "rmsprop_centered"])
def test_float32_throughout(jit, optimizer):
    """No silent upcast: parameters, gradients, optimiser state and outputs stay float32,
    with integer labels and float64 inputs alike."""
    x, y = _data()
    model = _model(jit, "tanh", optimizer, dropout=True, l2=1e-3)
    model.fit(x.astype(np.float64), y, epochs=1, batch_size=16, verbose=0, health=False)
    for param in model.parameters():
        assert param.dtype == np.float32 and param.grad.dtype == np.float32
    for state in model.optimizer.state:
        for value in state.values():
            assert not isinstance(value, np.ndarray) or value.dtype == np.float32
    assert model.predict(x).dtype == np.float32


def test_jit_auto_is_the_default_compiles_silently_and_says_why_when_it_cannot():
    pytest.importorskip("scipy")
    x, y = _data(rows=32)
    model = Sequential([Dense(4, input_dim=5, activation="tanh"), Dense(3)], seed=0)
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True), optimizer="sgd"
    )
    assert model.jit == "auto"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, y, epochs=2, batch_size=16, verbose=0, health=False)
    assert model.compiled_step.traces == 1 and model.jit_fallback_reason is None
    model.compile(loss=model.loss, optimizer=cr.optim.LBFGS(max_iter=3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no JitFallbackWarning under "auto"
        model.fit(x, y, epochs=1, verbose=0, health=False)
    assert "LBFGS evaluates the loss several times" in model.jit_fallback_reason
    with pytest.raises(ValueError, match="jit must be True, False or 'auto'"):
        model.compile(loss="mse", jit="yes")


def test_a_keras_style_model_compiles_to_the_same_bits():
    """Softmax output + categorical_crossentropy on probabilities, one-hot labels (docs/math.md §3,
    section 6's API shape): computed from the logits, compiled, bit-identical to eager."""
    x, labels = _data()
    y = np.eye(3, dtype=np.float32)[labels]

    def build(jit: bool) -> Sequential:
        model = Sequential(
            [Dense(8, input_dim=5), Activation("relu"), Dense(3), Activation("softmax")], seed=0
        )
        model.compile(
            loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"], jit=jit
        )
        return model

    eager, compiled = build(False), build(True)
    assert _train(eager, x, y) == _train(compiled, x, y)
    _assert_same(eager, compiled)
    assert compiled.compiled_step.traces == 1
    program = compiled.compiled_step.program(x[:16], y[:16])
    assert any("softmax_cross_entropy" in line for line in program.listing)
    assert np.allclose(compiled.predict(x).sum(axis=1), 1.0)  # predict gives probabilities


def test_a_batched_input_module_compiles_instead_of_crashing():
    """The issue's case: x of shape (B, N, in) times W (in, out) trained eagerly but crashed
    in program.backward(); the engine's own matmul VJP is now the compiled one."""

    class Batched(cr.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = cr.nn.Parameter(np.random.default_rng(0).normal(size=(2, 3)))

        def forward(self, x):
            x = x if isinstance(x, Tensor) else Tensor(x)
            return (x @ self.weight).sum(axis=1)

    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 3, 2)).astype(np.float32)
    y = rng.standard_normal((8, 3)).astype(np.float32)
    models = []
    for jit in (False, True):
        model = cr.Model(Batched())
        model.compile(loss="mse", optimizer="sgd", jit=jit)
        models.append(model)
    assert _train(models[0], x, y, steps=8, batch=4) == _train(models[1], x, y, steps=8, batch=4)
    _assert_same(*models)
    assert models[1].compiled_step.traces == 1
