"""chainrule.diagnostics.health_report: dead and saturated units on hand-built networks."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.datasets import Standardizer
from chainrule.diagnostics import health_report
from chainrule.nn import Activation, Dense, Dropout, Sequential


def _inputs(rows: int = 200, features: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((rows, features))


def _model(activation: str, units: int = 10, own: bool = False) -> Sequential:
    if own:
        hidden = [Dense(units, input_dim=4, activation=activation)]
    else:
        hidden = [Dense(units, input_dim=4), Activation(activation)]
    return Sequential([*hidden, Dense(3)], seed=0)


def test_dead_relu_units_are_found_and_explained():
    model = _model("relu")
    model.layers[0].bias.data[:6] = -100.0  # z < 0 for every sample: relu outputs exactly 0
    report = health_report(model, _inputs())
    row = report.rows[0]
    assert (row.layer, row.units, row.activation) == ("dense", 10, "relu")
    assert row.dead == pytest.approx(0.6)
    assert row.dead_units == (0, 1, 2, 3, 4, 5)
    assert row.saturated is None  # relu's only flat side is the dead one
    assert not report.ok
    assert report.warnings == [
        "layer dense: 60% of ReLU units are dead on all samples — lower the learning rate, "
        "use leaky_relu, or He initialisation"
    ]
    assert "60.0%" in report.format() and "warning: layer dense" in report.format()


def test_a_dense_layers_own_activation_is_measured_too():
    model = _model("relu", own=True)
    model.layers[0].bias.data[:2] = -100.0
    row = health_report(model, _inputs()).rows[0]
    assert row.dead == pytest.approx(0.2) and row.dead_units == (0, 1)


def test_saturated_tanh_units_from_large_weights():
    model = _model("tanh")
    model.layers[0].weight.data[:5] *= 1000.0  # |z| in the hundreds: tanh' ≈ 0
    report = health_report(model, _inputs())
    row = report.rows[0]
    assert row.saturated == pytest.approx(0.5)
    assert row.saturated_units == (0, 1, 2, 3, 4)
    assert row.dead is None  # tanh has no flat zero part
    assert len(report.warnings) == 1
    assert "50% of tanh units are saturated" in report.warnings[0]
    assert "Xavier" in report.warnings[0]


def test_saturation_is_relative_to_the_largest_slope():
    # sigmoid' peaks at 0.25: g'(3) = 0.045 is above 1% of it, g'(8) = 0.00034 below.
    model = _model("sigmoid", units=2)
    model.layers[0].weight.data[:] = 0.0
    model.layers[0].bias.data[:] = [3.0, 8.0]
    row = health_report(model, _inputs()).rows[0]
    assert row.saturated_units == (1,)


def test_saturated_means_flat_on_at_least_99_percent_of_samples():
    x = np.full((200, 4), 100.0)
    x[:3, 0] = 0.0  # unit 0 sees z = 0 on 3 samples: flat on 98.5%
    x[:1, 1] = 0.0  # unit 1 sees z = 0 on 1 sample: flat on 99.5%
    model = _model("tanh", units=2)
    model.layers[0].weight.data[:] = np.eye(2, 4)
    model.layers[0].bias.data[:] = 0.0
    assert health_report(model, x).rows[0].saturated_units == (1,)


def test_a_healthy_network_is_ok():
    model = _model("relu")
    report = health_report(model, _inputs())
    assert report.ok and report.warnings == []
    assert report.rows[0].dead == 0.0
    assert "OK: no layer has 10% or more dead or saturated units." in report.format()


def test_preprocessing_is_applied_before_the_layers():
    x = _inputs() * 0.01 + 500.0  # raw inputs far from 0: tanh saturates without scaling
    model = _model("tanh")
    assert health_report(model, x).rows[0].saturated == 1.0
    model.preprocessing = Standardizer().fit(x)
    assert health_report(model, x).rows[0].saturated == 0.0


def test_the_model_runs_in_eval_mode_and_its_mode_is_restored():
    model = Sequential([Dense(10, input_dim=4), Dropout(0.99, seed=0), Activation("relu"),
                        Dense(2)], seed=0)
    model.train()
    report = health_report(model, _inputs(rows=20))
    assert report.rows[0].dead == 0.0  # with dropout active nearly every unit would be 0
    assert model.training and model.layers[1].training
    model.eval()
    health_report(model, _inputs(rows=20))
    assert not model.training


def test_results_do_not_depend_on_the_batch_size():
    model = _model("hard_sigmoid")
    model.layers[0].bias.data[:3] = -50.0
    model.layers[0].bias.data[3:5] = 50.0
    small = health_report(model, _inputs(), batch_size=7)
    large = health_report(model, _inputs(), batch_size=512)
    assert small.rows == large.rows
    # hard_sigmoid: stuck at 0 is dead (and not counted again as saturated), stuck at 1 is
    # saturated.
    assert small.rows[0].dead_units == (0, 1, 2)
    assert small.rows[0].saturated_units == (3, 4)


def test_which_layers_are_reported():
    model = Sequential([Dense(6, input_dim=4), Activation("leaky_relu"), Dense(5), Dense(3),
                        Activation("softmax")], seed=0)
    report = health_report(model, _inputs())
    assert [(row.layer, row.activation) for row in report.rows] == [
        ("dense", "leaky_relu"), ("dense_2", "softmax")]
    leaky = report.rows[0]
    assert leaky.dead is None and leaky.saturated is None  # neither applies to leaky_relu
    assert "softmax is not elementwise" in report.format()


def test_bad_arguments():
    model = _model("relu")
    with pytest.raises(TypeError, match="Sequential"):
        health_report(Dense(3, input_dim=4), _inputs())
    x = _inputs()
    x[5, 1] = np.nan
    with pytest.raises(ValueError, match="row 5"):
        health_report(model, x)
    with pytest.raises(ValueError, match="batch_size"):
        health_report(model, _inputs(), batch_size=0)
    with pytest.raises(ValueError, match="rows"):
        health_report(model, np.zeros((0, 4)))
