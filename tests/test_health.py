"""chainrule.diagnostics.HealthMonitor: the training-health monitor that fit runs by default."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.callbacks import TerminateOnNaN
from chainrule.diagnostics import CLI, HealthMonitor, HealthReport, TrainingHealthWarning
from chainrule.init import SymmetryWarning
from chainrule.models import Sequential
from chainrule.nn import Activation, Dense, Dropout


def _data(rows: int = 300, features: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, features))
    return x, (x[:, :1] + 0.5 * x[:, 1:2] > 0).astype(float)


def _fit_warnings(
    model: Sequential, epochs: int = 3, **options: object
) -> tuple[cr.callbacks.History, list[TrainingHealthWarning]]:
    """Fit on _data and return the History and the TrainingHealthWarnings."""
    x, y = _data()
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", SymmetryWarning)
        history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, seed=0, **options)
    return history, [w.message for w in caught if issubclass(w.category, TrainingHealthWarning)]


def _fit(
    model: Sequential, epochs: int = 3, **options: object
) -> tuple[cr.callbacks.History, list[str]]:
    """Fit on _data and return the History and the texts of the TrainingHealthWarnings."""
    history, caught = _fit_warnings(model, epochs, **options)
    return history, [str(warning) for warning in caught]


def _compiled(model: Sequential, lr: float = 0.05) -> Sequential:
    model.compile(loss="mse", optimizer=cr.optim.SGD(lr=lr))
    return model


def _deep(activation: str, kernel_init: str, depth: int = 10, units: int = 16) -> Sequential:
    layers = [Dense(units, input_dim=8, activation=activation, kernel_init=kernel_init)]
    layers += [
        Dense(units, activation=activation, kernel_init=kernel_init) for _ in range(depth - 2)
    ]
    return _compiled(Sequential([*layers, Dense(1)], seed=0))


def _healthy_relu() -> Sequential:
    return _compiled(
        Sequential(
            [
                Dense(32, input_dim=8, activation="relu", kernel_init="he_normal"),
                Dense(32, activation="relu", kernel_init="he_normal"),
                Dense(1),
            ],
            seed=0,
        )
    )


def test_dead_relu_units_are_reported_once_naming_the_layer():
    model = _compiled(Sequential([Dense(16, input_dim=8), Activation("relu"), Dense(1)], seed=0))
    model.build((8,))
    model.layers[0].bias.data[:10] = -100.0  # z < 0 on every sample: 10 of 16 units dead
    history, messages = _fit(model)
    dead = [m for m in messages if "dead" in m]
    assert len(dead) == 1  # three epochs, one warning
    assert dead[0].startswith(
        "layer dense: 62% of its ReLU units are dead (output 0 on every sample; warning from 50%)"
    )
    assert "leaky_relu" in dead[0] and 'kernel_init="he_normal"' in dead[0]
    assert history.history["health/dense/dead"] == [pytest.approx(10 / 16)] * 3


def test_a_healthy_he_initialised_relu_net_gets_no_warning():
    history, messages = _fit(_healthy_relu(), epochs=5)
    assert messages == []
    assert all(value < 0.5 for value in history.history["health/dense/dead"])


def test_vanishing_gradients_in_a_deep_sigmoid_net_with_small_weights():
    history, messages = _fit(_deep("sigmoid", "small"))
    assert len(messages) == 1
    assert messages[0].startswith(
        "gradients vanish: the gradient norm of the first layer (layer dense) is"
    )
    assert 'use activation="relu" with kernel_init="he_normal"' in messages[0]
    assert all(ratio < 1e-3 for ratio in history.history["health/grad_norm_ratio"])


def test_the_same_depth_with_relu_and_he_is_silent():
    history, messages = _fit(_deep("relu", "he_normal"))
    assert messages == []
    assert all(1e-3 < ratio < 1e3 for ratio in history.history["health/grad_norm_ratio"])


def test_symmetric_weights_are_reported_once():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SymmetryWarning)
        model = _compiled(
            Sequential(
                [
                    Dense(8, input_dim=8, activation="tanh", kernel_init="zeros"),
                    Dense(1, kernel_init="zeros"),
                ],
                seed=0,
            )
        )
        model.build((8,))
    _, messages = _fit(model)
    symmetric = [m for m in messages if "identical weights" in m]
    assert len(symmetric) == 1  # once over three epochs (a 1-unit layer is never symmetric)
    assert symmetric[0].startswith("layer dense: all 8 units have identical weights")


def test_history_holds_the_health_keys_every_epoch():
    history, _ = _fit(_healthy_relu(), epochs=4)
    expected = {
        f"health/{layer}/{key}"
        for layer in ("dense", "dense_1", "dense_2")
        for key in ("grad_norm", "update_ratio")
    }
    expected |= {"health/dense/dead", "health/dense_1/dead", "health/grad_norm_ratio"}
    assert {key for key in history.history if key.startswith("health/")} == expected
    for key in expected:
        assert len(history.history[key]) == 4
        assert all(np.isfinite(history.history[key]))
    assert all(0 < value < 1 for value in history.history["health/dense/update_ratio"])


def test_tanh_layers_report_saturation():
    model = _compiled(Sequential([Dense(8, input_dim=8, activation="tanh"), Dense(1)], seed=0))
    history, _ = _fit(model, epochs=2)
    assert "health/dense/saturated" in history.history
    assert "health/dense/dead" not in history.history


def test_health_false_adds_nothing():
    history, messages = _fit(_deep("sigmoid", "small"), health=False)
    assert not [key for key in history.history if key.startswith("health/")]
    assert messages == []


def test_the_monitor_does_not_change_training():
    def run(health: bool) -> tuple[dict[str, np.ndarray], dict[str, list[float]]]:
        model = Sequential(
            [
                Dense(16, input_dim=8, activation="relu"),
                Dropout(0.3, seed=1),
                Dense(16, activation="tanh"),
                Dense(1),
            ],
            seed=0,
        )
        model.compile(loss="mse", optimizer=cr.optim.Adam(lr=0.01))
        history, _ = _fit(model, epochs=3, health=health, validation_split=0.2)
        return model.state_dict(), history.history

    with_monitor, history_with = run(True)
    without, history_without = run(False)
    assert with_monitor.keys() == without.keys()
    for name in with_monitor:
        np.testing.assert_array_equal(with_monitor[name], without[name])
    assert {k: v for k, v in history_with.items() if not k.startswith("health/")} == history_without


def test_a_model_that_is_not_sequential_gets_gradient_measures_only():
    model = cr.Model(Dense(1, input_dim=8, seed=0))
    model.compile(loss="mse", optimizer=cr.optim.SGD(lr=0.05))
    history, messages = _fit(model, epochs=2)
    assert messages == []
    assert "health/dense/grad_norm" in history.history
    assert "health/grad_norm_ratio" not in history.history


def test_model_health_is_the_report_on_demand():
    model = _healthy_relu()
    report = model.health(_data()[0])
    assert isinstance(report, HealthReport)
    assert [row.layer for row in report.rows] == ["dense", "dense_1"]
    assert report.samples == 300


def test_sampling_interval_and_arguments():
    monitor = HealthMonitor()
    monitor.set_params({"steps": 10})
    assert monitor.interval == 2
    monitor.set_params({"steps": 3})
    assert monitor.interval == 1
    assert HealthMonitor(every=5).interval == 5
    with pytest.raises(ValueError, match="every"):
        HealthMonitor(every=0)
    with pytest.raises(ValueError, match="threshold"):
        HealthMonitor(threshold=0.0)


def _tanh_net(loss: object = "mse", lr: float = 0.05) -> Sequential:
    model = Sequential(
        [Dense(16, input_dim=8, activation="tanh"), Dense(16, activation="tanh"), Dense(1)], seed=0
    )
    model.compile(loss=loss, optimizer=cr.optim.SGD(lr=lr))
    return model


def test_nan_weights_are_reported_by_the_monitor_naming_the_layer():
    model = _tanh_net()
    model.layers[1].weight.data[:] = np.nan
    _, messages = _fit(model, epochs=1, callbacks=[TerminateOnNaN()])
    assert any(
        m.startswith("layer dense_1: its weights hold NaN in 256 of 256 entries") for m in messages
    ), messages
    assert any(m.startswith("training diverges: the training loss became nan") for m in messages)


@pytest.mark.parametrize(
    "loss",
    ["mse", cr.losses.get("binary_crossentropy", from_logits=True)],
    ids=["mse-reaches-inf", "bce-stays-finite"],
)
def test_a_diverging_run_at_lr_50_is_told_to_lower_the_learning_rate(loss):
    _, messages = _fit(_tanh_net(loss, lr=50.0), callbacks=[TerminateOnNaN()])
    assert messages
    for message in messages:
        assert "lower the learning rate" in message, message
        assert "activation=" not in message and "kernel_init" not in message, message


def test_huge_updates_during_fit_warn_with_the_learning_rate():
    loss = cr.losses.get("binary_crossentropy", from_logits=True)
    history, messages = _fit(_tanh_net(loss, lr=50.0))
    assert history.history["health/dense/update_ratio"][0] > 0.25
    large = [m for m in messages if "each step changes its weights by" in m]
    assert large and all(
        "lower the learning rate (the optimiser's lr=...) or clip the "
        "gradients (the optimiser's clipnorm=1.0)" in m
        for m in large
    )


def test_fit_and_model_health_agree_on_a_vanishing_deep_sigmoid_net():
    model = _deep("sigmoid", "small")
    _, caught = _fit_warnings(model)
    during = {(w.finding.kind, w.finding.layer) for w in caught}
    x, y = _data()
    after = model.health(x, y=y)
    assert during == {("vanishing", None)}
    assert {(f.kind, f.layer) for f in after.findings} == during
    assert caught[0].finding.remedies == after.findings[0].remedies  # the same advice
    assert not model.health(x).findings  # without y the gradients are not judged


def test_fit_and_model_health_agree_on_a_healthy_net():
    model = _healthy_relu()
    _, messages = _fit(model, epochs=3)
    x, y = _data()
    report = model.health(x, y=y)
    assert messages == [] and report.ok
    assert "and the gradients flow" in report.format()


def test_the_monitor_words_its_warnings_for_the_place_it_runs_in():
    model = _deep("sigmoid", "small")
    x, y = _data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(
            x,
            y,
            epochs=1,
            batch_size=32,
            verbose=0,
            seed=0,
            health=False,
            callbacks=[HealthMonitor(sample=x, vocabulary=CLI)],
        )
    (warning,) = [w.message for w in caught if issubclass(w.category, TrainingHealthWarning)]
    assert str(warning).endswith(
        "— use --activation relu (He initialisation comes with it) or "
        "use fewer hidden layers (--layers)"
    )
    assert warning.worded(CLI) == str(warning)
    assert "kernel_init" in warning.worded(cr.diagnostics.API)
    assert TrainingHealthWarning("plain").worded(CLI) == "plain"


def test_the_playground_shows_saturated_pairs_and_advice_in_its_own_words():
    from chainrule.playground import views
    from chainrule.playground.messages import LayerSpec, Setup
    from chainrule.playground.session import Session

    session = Session(Setup(layers=(LayerSpec(6, "tanh"), LayerSpec(2, "tanh"))))
    dense = [layer for layer in session.model.layers if isinstance(layer, Dense)]
    dense[0].weight.data *= 20.0  # most z far beyond ±5
    health = session.snapshot()["health"]
    z = views.layer_outputs(session.model, session.data.x_train)[0][0]
    flat = float(np.mean(1.0 - np.tanh(z.astype(np.float64)) ** 2 < 0.01))
    assert flat > 0.5
    assert health["layers"][0]["saturated"] == pytest.approx(flat)
    assert not health["ok"]
    assert health["warnings"][0].startswith(f"Layer 1: tanh is saturated on {flat:.0%} of")
    assert health["warnings"][0].endswith("— lower the Learning rate")
    assert Session(Setup()).snapshot()["health"]["summary"].startswith("OK: no layer has")


def test_line_search_optimisers_get_no_update_ratio_verdict():
    pytest.importorskip("scipy")
    model = Sequential([Dense(8, input_dim=8, activation="tanh"), Dense(1)], seed=0)
    model.compile(loss="mse", optimizer="lbfgs")
    history, messages = _fit(model, epochs=2)  # full batch: a closure optimiser
    assert "health/dense/update_ratio" in history.history
    assert not [m for m in messages if "each step changes" in m]
