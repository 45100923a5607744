"""chainrule.diagnostics.health_report: dead units, saturated pairs, non-finite values and
gradient verdicts on hand-built networks; the advice in the API's, the CLI's and the page's
words."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import cli
from chainrule.datasets import Standardizer
from chainrule.diagnostics import (
    API,
    CLI,
    REMEDIES,
    Measures,
    Vocabulary,
    health_report,
    verdicts,
)
from chainrule.models import Sequential
from chainrule.nn import Activation, Dense, Dropout
from chainrule.playground.views import PLAYGROUND


def _inputs(rows: int = 200, features: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((rows, features))


def _model(activation: str, units: int = 10, own: bool = False) -> Sequential:
    if own:
        hidden = [Dense(units, input_dim=4, activation=activation)]
    else:
        hidden = [Dense(units, input_dim=4), Activation(activation)]
    return Sequential([*hidden, Dense(3)], seed=0)


def _flat_pairs(model: Sequential, x: np.ndarray) -> float:
    """The fraction of the first layer's (unit, sample) pairs with |tanh'(z)| < 1% of 1."""
    z = x @ model.layers[0].weight.data.T.astype(np.float64) + model.layers[0].bias.data
    return float(np.mean(1.0 - np.tanh(z) ** 2 < 0.01))


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
        "layer dense: 60% of its ReLU units are dead (output 0 on every sample; warning from "
        '50%) — lower the learning rate (the optimiser\'s lr=...), use activation="leaky_relu" '
        'or "elu", or use kernel_init="he_normal"'
    ]
    assert "60.0%" in report.format() and "warning: layer dense" in report.format()


def test_a_dense_layers_own_activation_is_measured_too():
    model = _model("relu", own=True)
    model.layers[0].bias.data[:2] = -100.0
    row = health_report(model, _inputs()).rows[0]
    assert row.dead == pytest.approx(0.2) and row.dead_units == (0, 1)


def test_saturated_tanh_units_from_large_weights():
    model = _model("tanh")
    model.layers[0].weight.data[:6] *= 1000.0  # |z| in the hundreds: tanh' ≈ 0
    report = health_report(model, _inputs())
    row = report.rows[0]
    assert row.saturated == pytest.approx(_flat_pairs(model, _inputs()))
    assert row.saturated == pytest.approx(0.6, abs=0.01)  # of the (unit, sample) pairs
    assert row.saturated_units == (0, 1, 2, 3, 4, 5)
    assert row.dead is None  # tanh has no flat zero part
    assert len(report.warnings) == 1
    assert report.warnings[0].startswith(
        "layer dense: tanh is saturated on 60% of (unit, sample) pairs"
    )
    assert "warning from 50%" in report.warnings[0]
    assert 'kernel_init="glorot_uniform"' in report.warnings[0]


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
    assert (
        "OK: no layer has 50% or more dead units or 50% or more saturated pairs." in report.format()
    )


def test_preprocessing_is_applied_before_the_layers():
    x = _inputs() * 0.01 + 500.0  # raw inputs far from 0: tanh saturates without scaling
    model = _model("tanh")
    assert health_report(model, x).rows[0].saturated == 1.0
    model.preprocessing = Standardizer().fit(x)
    assert health_report(model, x).rows[0].saturated == 0.0


def test_the_model_runs_in_eval_mode_and_its_mode_is_restored():
    model = Sequential(
        [Dense(10, input_dim=4), Dropout(0.99, seed=0), Activation("relu"), Dense(2)], seed=0
    )
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
    model = Sequential(
        [
            Dense(6, input_dim=4),
            Activation("leaky_relu"),
            Dense(5),
            Dense(3),
            Activation("softmax"),
        ],
        seed=0,
    )
    report = health_report(model, _inputs())
    assert [(row.layer, row.activation) for row in report.rows] == [
        ("dense", "leaky_relu"),
        ("dense_2", "softmax"),
    ]
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


def test_a_tanh_layer_flat_on_97_percent_of_its_pairs_is_saturated():
    # Every unit is flat on 97% of the samples: below the per-unit 99% rule, so no unit is
    # "always saturated", yet almost no gradient passes the layer.
    x = np.sign(_inputs(rows=200)) * 1000.0
    x[:6] = 0.01  # 6 of 200 samples near z = 0
    model = _model("tanh")
    model.layers[0].bias.data[:] = 0.0
    report = health_report(model, x)
    row = report.rows[0]
    assert row.saturated == pytest.approx(_flat_pairs(model, x))
    assert row.saturated == pytest.approx(0.97)
    assert row.saturated_units == ()
    assert not report.ok
    assert (
        "tanh is saturated on 97% of (unit, sample) pairs (|g'(z)| below 1% of its "
        "maximum; warning from 50%)" in report.warnings[0]
    )
    assert "Saturated: (unit, sample) pairs\nwith |g'(z)| below 1%" in report.format()


def test_all_nan_weights_are_never_ok():
    model = _model("relu")
    model.layers[0].weight.data[:] = np.nan
    report = health_report(model, _inputs())
    assert not report.ok
    assert report.warnings[0].startswith("layer dense: its weights hold NaN in 40 of 40 entries")
    assert "lower the learning rate" in report.warnings[0]
    assert any("layer dense: its pre-activations z hold NaN" in w for w in report.warnings)
    assert "OK" not in report.format()
    assert report.rows[0].dead == 0.0 and report.rows[0].nonfinite == 2000


def test_infinite_biases_and_overflowing_z_are_named():
    model = _model("tanh")
    model.layers[2].bias.data[0] = np.inf
    model.layers[0].weight.data[0] = 3e38  # float32: z overflows to ±inf
    report = health_report(model, _inputs())
    assert any(
        w.startswith(
            "layer dense_1: its biases hold infinity in 1 of 3 entries — lower the learning rate"
        )
        for w in report.warnings
    )
    assert any(
        w.startswith("layer dense: its pre-activations z hold NaN or infinity")
        for w in report.warnings
    )


def _compiled(model: Sequential) -> Sequential:
    model.compile(loss="mse", optimizer=cr.optim.SGD(lr=0.05))
    return model


def _deep_sigmoid(depth: int = 10) -> Sequential:
    layers = [Dense(16, input_dim=4, activation="sigmoid", kernel_init="small")]
    layers += [Dense(16, activation="sigmoid", kernel_init="small") for _ in range(depth - 2)]
    return _compiled(Sequential([*layers, Dense(1)], seed=0))


def test_with_y_the_report_judges_the_gradients_without_changing_them():
    model = _deep_sigmoid()
    x = _inputs()
    y = x[:, :1]
    model.build((4,))
    kept = model.layers[0].weight.grad
    before = {name: value.copy() for name, value in model.state_dict().items()}
    report = health_report(model, x, y)
    assert [f.kind for f in report.findings] == ["vanishing"]
    assert report.grad_norm_ratio < 1e-3
    assert set(report.grad_norms) == {f"dense_{i}" if i else "dense" for i in range(10)}
    assert 'use activation="relu" with kernel_init="he_normal"' in report.warnings[0]
    assert (
        "Grad norm" in report.format() and "Gradient norm, first layer over last" in report.format()
    )
    assert model.layers[0].weight.grad is kept
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    assert health_report(model, x).ok  # without y: no gradient verdict


def test_a_healthy_network_is_ok_with_its_gradients_too():
    model = _compiled(_model("relu"))
    x = _inputs()
    report = health_report(model, x, x[:, :3])
    assert report.ok and 1e-3 < report.grad_norm_ratio < 1e3
    assert report.summary() == (
        "OK: no layer has 50% or more dead units or 50% or more "
        "saturated pairs, and the gradients flow."
    )


def test_y_needs_a_compiled_model_and_matching_rows():
    with pytest.raises(ValueError, match="compiled model"):
        health_report(_model("relu"), _inputs(), np.zeros((200, 3)))
    with pytest.raises(ValueError, match="200 rows but y has 5"):
        health_report(_compiled(_model("relu")), _inputs(), np.zeros((5, 3)))


# ---------------------------------------------------------------------- update ratios, flow
def test_an_update_ratio_of_058_advises_a_lower_learning_rate():
    findings = verdicts(
        Measures(layers=["dense", "dense_1"], update_ratios={"dense": 0.58, "dense_1": 1e-3})
    )
    assert [(f.kind, f.layer) for f in findings] == [("update_large", "dense")]
    assert findings[0].message(API) == (
        "layer dense: each step changes its weights by 0.58 of their norm (median ‖ΔW‖/‖W‖; "
        "about 1e-3 is healthy, above 0.25 is too large) — lower the learning rate (the "
        "optimiser's lr=...) or clip the gradients (the optimiser's clipnorm=1.0)"
    )


def test_tiny_updates_say_the_learning_rate_is_too_small_unless_gradients_vanish():
    alone = verdicts(Measures(layers=["dense", "dense_1"], update_ratios={"dense": 1e-8}))
    assert [f.kind for f in alone] == ["update_small"]
    assert "raise the learning rate" in alone[0].message(API)
    vanishing = verdicts(
        Measures(layers=["dense", "dense_1"], update_ratios={"dense": 1e-8}, grad_norm_ratio=1e-5)
    )
    assert [f.kind for f in vanishing] == ["vanishing"]
    assert verdicts(Measures(layers=["dense"], update_ratios={"dense": 0.0})) == []


def test_large_steps_turn_every_remedy_into_the_learning_rate():
    rows = [
        cr.diagnostics.LayerHealth("dense", 8, "tanh", None, 0.9),
        cr.diagnostics.LayerHealth("dense_1", 8, "relu", 0.75, None),
    ]
    calm = verdicts(
        Measures(layers=["dense", "dense_1", "dense_2"], rows=rows, grad_norm_ratio=1e-5)
    )
    assert "standardise the inputs" in calm[0].message(API)
    assert 'activation="relu"' in calm[-1].message(API)  # vanishing in a saturating net
    wild = verdicts(
        Measures(
            layers=["dense", "dense_1", "dense_2"],
            rows=rows,
            grad_norm_ratio=1e-5,
            update_ratios={"dense_2": 0.6},
        )
    )
    assert [f.kind for f in wild] == ["update_large", "saturated", "dead", "vanishing"]
    for finding in wild:
        text = finding.message(API)
        assert "lower the learning rate" in text and "activation=" not in text, text
    diverged = verdicts(Measures(layers=["dense"], diverged="the training loss became inf"))
    assert diverged[0].message(CLI) == (
        "training diverges: the training loss became inf — "
        "lower the learning rate (--lr) or check the data "
        "for extreme values (--data)"
    )


def test_exploding_gradients_advise_the_learning_rate_and_clipping():
    (finding,) = verdicts(Measures(layers=["dense", "dense_1"], grad_norm_ratio=5e3))
    assert finding.kind == "exploding"
    assert finding.message(API).startswith(
        "gradients explode: the gradient norm of the first layer (layer dense) is 5e+03 times "
        "the last one's (layer dense_1; warning above 1000) — lower the learning rate"
    )
    assert "clipnorm=1.0" in finding.message(API)


# ---------------------------------------------------------------------- advice in context
def test_advice_names_only_what_each_place_offers():
    rows = [cr.diagnostics.LayerHealth("dense_1", 8, "relu", 0.75, None)]
    (finding,) = verdicts(Measures(layers=["dense", "dense_1", "dense_2"], rows=rows))
    api, command, page = (finding.message(v) for v in (API, CLI, PLAYGROUND))
    assert api == (
        "layer dense_1: 75% of its ReLU units are dead (output 0 on every sample; "
        "warning from 50%) — lower the learning rate (the optimiser's lr=...), use "
        'activation="leaky_relu" or "elu", or use kernel_init="he_normal"'
    )
    assert command == (
        "layer dense_1: 75% of its ReLU units are dead (output 0 on every "
        "sample; warning from 50%) — lower the learning rate (--lr) or use "
        "--activation leaky_relu or --activation elu"
    )
    assert page == (
        "Layer 2: 75% of its ReLU units are dead (output 0 on every sample; "
        "warning from 50%) — lower the Learning rate or choose leaky_relu or elu "
        "as this layer's activation"
    )
    for text in (command, page):
        assert "=" not in text and "kernel_init" not in text and "He" not in text
    assert "--" not in page
    (exploding,) = verdicts(Measures(layers=["dense", "dense_1", "dense_2"], grad_norm_ratio=1e4))
    assert "(Layer 1)" in exploding.message(PLAYGROUND)
    assert "(Output layer;" in exploding.message(PLAYGROUND)
    assert "clip" not in exploding.message(CLI) and "clip" not in exploding.message(PLAYGROUND)


def test_the_cli_words_name_real_options_of_chainrule_train():
    parser = cli.build_parser()
    train = next(
        action
        for action in parser._subparsers._group_actions[0].choices.values()
        if action.prog.endswith(" train")
    )
    options = {option for action in train._actions for option in action.option_strings}
    named = {
        word for text in CLI.remedies.values() if text for word in re.findall(r"--[a-z-]+", text)
    }
    assert named and named <= options


def test_the_page_words_name_its_controls():
    page = (Path(cr.__file__).parent / "playground" / "static" / "index.html").read_text()
    assert ">Learning rate<" in page and 'title="Remove a hidden layer">−<' in page
    assert all(
        text is None or "Learning rate" in text or "activation" in text or "−" in text
        for text in PLAYGROUND.remedies.values()
    )


def test_a_vocabulary_must_word_every_remedy():
    assert set(API.remedies) == set(CLI.remedies) == set(PLAYGROUND.remedies) == set(REMEDIES)
    with pytest.raises(ValueError, match="missing remedies .*'clip'"):
        Vocabulary("partial", {key: "x" for key in REMEDIES if key != "clip"})
