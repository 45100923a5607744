"""compile / fit / evaluate / predict: the reference training loop of docs/math.md §3."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.callbacks import Callback, EarlyStopping, TerminateOnNaN
from chainrule.models import Sequential
from chainrule.nn import Dense

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])


def _accuracy(model, x, y):
    return float(((model.predict(x) > 0.5) == (y > 0.5)).mean())


def test_xor_is_learned_by_one_hidden_layer():
    model = Sequential(
        [Dense(4, input_dim=2, activation="tanh"), Dense(1, activation="sigmoid")], seed=1
    )
    model.compile(
        loss="binary_crossentropy",
        optimizer=cr.optim.SGD(lr=0.5, momentum=0.9),
        metrics=["accuracy"],
    )
    history = model.fit(XOR_X, XOR_Y, epochs=500, batch_size=None, verbose=0, seed=0)
    assert _accuracy(model, XOR_X, XOR_Y) == 1.0
    assert history.history["accuracy"][-1] == 1.0
    assert history.history["loss"][-1] < history.history["loss"][0] / 10


def test_a_linear_model_cannot_learn_xor():
    model = Sequential(
        [Dense(4, input_dim=2, activation="identity"), Dense(1, activation="sigmoid")], seed=1
    )
    model.compile(loss="binary_crossentropy", optimizer=cr.optim.Adam(lr=0.05))
    model.fit(XOR_X, XOR_Y, epochs=500, batch_size=None, verbose=0, seed=0)
    assert _accuracy(model, XOR_X, XOR_Y) <= 0.75


def _noise_regression():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 5))
    y = x[:, :1] * 0.5 + rng.standard_normal((40, 1))  # mostly noise: a big net overfits
    x_val = rng.standard_normal((40, 5))
    y_val = x_val[:, :1] * 0.5 + rng.standard_normal((40, 1))
    return x, y, x_val, y_val


def test_early_stopping_stops_on_a_plateau_and_restores_the_best_weights():
    x, y, x_val, y_val = _noise_regression()
    model = Sequential(
        [Dense(64, input_dim=5, activation="tanh"), Dense(64, activation="tanh"), Dense(1)], seed=0
    )
    model.compile(loss="mse", optimizer=cr.optim.Adam(lr=0.01))
    stopper = EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    history = model.fit(
        x,
        y,
        epochs=300,
        batch_size=8,
        validation_data=(x_val, y_val),
        callbacks=[stopper],
        verbose=0,
        seed=0,
    )
    val_losses = history.history["val_loss"]
    assert len(val_losses) < 300  # it stopped
    best = int(np.argmin(val_losses))
    assert len(val_losses) == best + 1 + 5  # patience epochs after the best one
    assert history.history["loss"][-1] < history.history["loss"][best]  # still fitting the noise
    assert model.evaluate(x_val, y_val, batch_size=None) == pytest.approx(
        val_losses[best], rel=1e-5
    )


def test_validation_split_holds_out_the_last_rows():
    x = np.arange(20, dtype=float).reshape(10, 2)
    y = np.ones((10, 1))
    seen = []

    class Record(Callback):
        def on_batch_begin(self, batch, logs=None):
            seen.append(batch)

    model = Sequential([Dense(1, input_dim=2)], seed=0)
    model.compile(loss="mse", optimizer="sgd")
    history = model.fit(
        x, y, epochs=2, batch_size=4, validation_split=0.2, verbose=0, callbacks=[Record()]
    )
    assert history.params["samples"] == 8 and history.params["validation_samples"] == 2
    assert seen == [0, 1, 0, 1]
    assert set(history.history) >= {"loss", "val_loss", "lr"}


def test_batch_size_none_is_full_batch_and_one_is_online():
    batches = []

    class Count(Callback):
        def on_batch_end(self, batch, logs=None):
            batches.append(logs["size"])

    x, y = np.ones((6, 2)), np.ones((6, 1))
    model = Sequential([Dense(1, input_dim=2)], seed=0)
    model.compile(loss="mse", optimizer="sgd")
    model.fit(x, y, epochs=1, batch_size=None, verbose=0, callbacks=[Count()])
    assert batches == [6]
    batches.clear()
    model.fit(x, y, epochs=1, batch_size=1, verbose=0, callbacks=[Count()])
    assert batches == [1] * 6


def test_full_batch_gradient_descent_is_the_spec_update():
    # One epoch of full-batch SGD equals W ← W − α ∂R/∂W computed by hand.
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 3)), rng.standard_normal((8, 1))
    cr.set_default_dtype("float64")
    model = Sequential([Dense(1, input_dim=3, kernel_regularizer=cr.losses.L2(0.1))], seed=0)
    weight, bias = model[0].weight.numpy().copy(), model[0].bias.numpy().copy()
    model.compile(loss="mse", optimizer=cr.optim.SGD(lr=0.1))
    model.fit(x, y, epochs=1, batch_size=None, shuffle=False, verbose=0)
    residual = x @ weight.T + bias - y
    grad_weight = 2 * residual.T @ x / len(x) + 0.1 * weight
    grad_bias = 2 * residual.sum(axis=0) / len(x)
    np.testing.assert_allclose(model[0].weight.numpy(), weight - 0.1 * grad_weight, rtol=1e-12)
    np.testing.assert_allclose(model[0].bias.numpy(), bias - 0.1 * grad_bias, rtol=1e-12)


def test_evaluate_and_predict_shapes_and_metrics():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 4))
    labels = (x[:, 0] > 0).astype(int)
    model = Sequential([Dense(8, input_dim=4, activation="relu"), Dense(2)], seed=0)
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
        optimizer=cr.optim.Adam(lr=0.05),
        metrics=["accuracy"],
    )
    model.fit(x, labels, epochs=30, batch_size=10, verbose=0, seed=0)
    loss, accuracy = model.evaluate(x, labels)
    assert 0 <= accuracy <= 1 and accuracy > 0.8 and loss > 0
    result = model.evaluate(x, labels, return_dict=True)
    assert result["loss"] == pytest.approx(loss) and result["accuracy"] == accuracy
    assert model.predict(x, batch_size=7).shape == (30, 2)


def test_model_wraps_any_module():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    model = cr.Model(Dense(1, input_dim=3, seed=0))
    model.compile(loss="mse", optimizer=cr.optim.SGD(lr=0.1))
    history = model.fit(x, y, epochs=100, batch_size=None, verbose=0)
    assert history.history["loss"][-1] < 1e-6


def test_bad_input_is_explained():
    model = Sequential([Dense(1, input_dim=2)], seed=0)
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.ones((3, 2)), np.ones((3, 1)))
    model.compile(loss="mse", optimizer="sgd")
    with pytest.raises(cr.ShapeError, match="3 samples but y has 2"):
        model.fit(np.ones((3, 2)), np.ones((2, 1)), verbose=0)
    with pytest.raises(ValueError, match="NaN or infinity .*row 1"):
        model.fit(np.array([[0.0, 1.0], [np.nan, 1.0]]), np.ones((2, 1)), verbose=0)
    with pytest.raises(TypeError, match="numeric"):
        model.fit(np.array([["a", "b"]]), np.ones((1, 1)), verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(np.ones((3, 2)), np.ones((3, 1)), batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(np.ones((3, 2)), np.ones((3, 1)), validation_split=1.5, verbose=0)
    with pytest.raises(cr.ShapeError, match=r"built for inputs of shape \(N, 2\), got \(N, 5\)"):
        model.fit(np.ones((3, 5)), np.ones((3, 1)), verbose=0)
    with pytest.raises(ValueError, match="unknown loss"):
        model.compile(loss="msee")


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_divergence_raises_unless_terminate_on_nan():
    x, y = np.ones((4, 1)) * 1e3, np.ones((4, 1)) * 1e3
    model = Sequential([Dense(1, input_dim=1)], seed=0)
    model.compile(loss="mse", optimizer=cr.optim.SGD(lr=10.0))
    with pytest.raises(FloatingPointError, match="learning rate"):
        model.fit(x, y, epochs=50, batch_size=None, verbose=0)
    model = Sequential([Dense(1, input_dim=1)], seed=0)
    model.compile(loss="mse", optimizer=cr.optim.SGD(lr=10.0))
    history = model.fit(x, y, epochs=50, batch_size=None, verbose=0, callbacks=[TerminateOnNaN()])
    assert len(history.history["loss"]) < 50


def test_lbfgs_trains_through_fit():
    pytest.importorskip("scipy")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 2))
    y = np.sin(x[:, :1]) + x[:, 1:] ** 2 * 0.3
    cr.set_default_dtype("float64")

    def trained(optimizer, epochs):
        model = Sequential([Dense(8, input_dim=2, activation="tanh"), Dense(1)], seed=0)
        model.compile(loss="mse", optimizer=optimizer)
        return model.fit(x, y, epochs=epochs, batch_size=None, verbose=0).history["loss"][-1]

    assert trained("lbfgs", 1) < trained(cr.optim.SGD(lr=0.1), 100)


def test_learning_rate_schedule_reaches_the_optimizer():
    model = Sequential([Dense(1, input_dim=1)], seed=0)
    model.compile(
        loss="mse", optimizer=cr.optim.SGD(lr=1.0, schedule=cr.optim.InverseTimeDecay(1.0))
    )
    history = model.fit(np.ones((2, 1)), np.ones((2, 1)), epochs=3, verbose=0)
    np.testing.assert_allclose(history.history["lr"], [1.0, 0.5, 1.0 / 3])


@pytest.mark.parametrize(
    ("optimizer", "torch_optimizer"),
    [
        (lambda: cr.optim.Adam(lr=0.01), lambda t, p: t.optim.Adam(p, lr=0.01)),
        (
            lambda: cr.optim.SGD(lr=0.1, momentum=0.9, nesterov=True),
            lambda t, p: t.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
        ),
    ],
)
def test_fit_follows_the_same_trajectory_as_a_pytorch_loop(torch, optimizer, torch_optimizer):
    cr.set_default_dtype("float64")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 5))
    labels = rng.integers(0, 3, 32)
    model = Sequential(
        [Dense(8, input_dim=5, activation="tanh"), Dense(6, activation="relu"), Dense(3)], seed=0
    )
    linears = [torch.nn.Linear(5, 8), torch.nn.Linear(8, 6), torch.nn.Linear(6, 3)]
    net = torch.nn.Sequential(
        linears[0], torch.nn.Tanh(), linears[1], torch.nn.ReLU(), linears[2]
    ).double()
    with torch.no_grad():
        for linear, dense in zip(linears, [model[0], model[1], model[2]]):
            linear.weight.copy_(torch.tensor(dense.weight.numpy()))
            linear.bias.copy_(torch.tensor(dense.bias.numpy()))
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
        optimizer=optimizer(),
    )
    model.fit(x, labels, epochs=50, batch_size=None, shuffle=False, verbose=0)
    opt = torch_optimizer(torch, net.parameters())
    for _ in range(50):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(torch.tensor(x)), torch.tensor(labels)).backward()
        opt.step()
    for linear, dense in zip(linears, [model[0], model[1], model[2]]):
        np.testing.assert_allclose(
            dense.weight.numpy(), linear.weight.detach().numpy(), rtol=1e-8, atol=1e-12
        )
        np.testing.assert_allclose(
            dense.bias.numpy(), linear.bias.detach().numpy(), rtol=1e-8, atol=1e-12
        )


def test_callbacks_shape_the_epoch_logs_and_progress_is_printed(capsys):
    from chainrule.callbacks import LearningRateScheduler

    class AddKey(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["custom"] = epoch * 2.0

    model = Sequential([Dense(1, input_dim=1)], seed=0)
    model.compile(loss="mse", optimizer=cr.optim.SGD(lr=1.0))
    history = model.fit(
        np.ones((4, 1)),
        np.ones((4, 1)),
        epochs=3,
        batch_size=2,
        verbose=2,
        callbacks=[LearningRateScheduler(lambda epoch, lr: 0.1 * (epoch + 1)), AddKey()],
    )
    assert history.history["custom"] == [0.0, 2.0, 4.0]
    np.testing.assert_allclose(history.history["lr"], [0.1, 0.2, 0.3])
    assert history.params["steps"] == 2
    err = capsys.readouterr().err
    assert "Epoch 1/3" in err and "Epoch 3/3" in err and "loss" in err


def test_model_gradcheck_confirms_backpropagation():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    model = Sequential(
        [Dense(4, input_dim=3, activation="tanh", kernel_regularizer=cr.losses.L2(0.1)), Dense(2)],
        seed=0,
    )
    model.compile(loss="mse", optimizer="sgd")
    report = model.gradcheck(x, y)
    assert report.ok and report.relative_error < 1e-7
    assert [entry.name for entry in report.parameters] == [
        "dense.weight",
        "dense.bias",
        "dense_1.weight",
        "dense_1.bias",
    ]


def test_inputs_take_the_models_dtype():
    model = Sequential([Dense(1, input_dim=2)], seed=0)
    model.compile(loss="mse", optimizer="sgd")
    x = np.ones((4, 2), dtype=np.float16)
    model.fit(x, np.ones((4, 1), dtype=np.float16), epochs=1, verbose=0)
    assert model.predict(x).dtype == np.float32
    cr.set_default_dtype("float64")
    wide = Sequential([Dense(1, input_dim=2)], seed=0)
    wide.compile(loss="mse", optimizer="sgd")
    wide.fit(x.astype(np.float32), np.ones((4, 1)), epochs=1, verbose=0)
    assert wide.predict(x.astype(np.float32)).dtype == np.float64


def test_a_seeded_model_trains_the_same_without_fit_seed_and_continues_its_shuffling():
    """Sequential(..., seed=0) + fit without seed= is reproducible (the README's Keras
    example); successive fit calls continue the shuffling instead of repeating one order."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)[:, None]

    def run(epochs_per_fit: list[int]) -> list[np.ndarray]:
        model = Sequential([Dense(4, input_dim=3, activation="tanh"), Dense(1)], seed=0)
        model.compile(loss=cr.losses.get("bce", from_logits=True), optimizer="sgd")
        for epochs in epochs_per_fit:
            model.fit(x, y, epochs=epochs, batch_size=8, verbose=0, health=False)
        return [p.data.copy() for p in model.parameters()]

    first, second = run([2]), run([2])
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    split = run([1, 1])  # two fits of one epoch: the second epoch has its own order
    assert all(np.array_equal(a, b) for a, b in zip(first, split))


@pytest.mark.parametrize("epochs", [0, -1, 1.5, True])
def test_fit_needs_a_positive_number_of_epochs(epochs):
    model = Sequential([Dense(1, input_dim=2)], seed=0)
    model.compile(loss="mse")
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=epochs, verbose=0)
