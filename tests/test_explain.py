"""model.explain: backprop written out on the learner's own numbers, checked by the engine."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.models import Sequential
from chainrule.nn import Activation, Dense


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def hand_network():
    """2-2-1, sigmoid hidden and output, known weights (binary cross-entropy)."""
    model = Sequential(
        [Dense(2, input_dim=2, activation="sigmoid"), Dense(1, activation="sigmoid")]
    )
    model.set_weights(
        [
            np.array([[0.1, -0.2], [0.4, 0.3]]),
            np.array([0.0, 0.1]),
            np.array([[0.5, -0.6]]),
            np.array([0.2]),
        ]
    )
    model.compile(loss="binary_crossentropy", optimizer=cr.optim.SGD(lr=0.5))
    return model


def test_deltas_of_a_2_2_1_network_match_a_hand_computation():
    x, y = np.array([1.0, 2.0]), np.array([1.0])
    explanation = hand_network().explain(x, y)
    # by hand: z1 = W1 x + b1, a1 = σ(z1), z2 = W2 a1 + b2, δ2 = σ(z2) − y, δ1 = a1(1−a1)·W2ᵀδ2
    z1 = np.array([0.1 * 1 - 0.2 * 2 + 0.0, 0.4 * 1 + 0.3 * 2 + 0.1])
    a1 = sigmoid(z1)
    z2 = 0.5 * a1[0] - 0.6 * a1[1] + 0.2
    delta2 = sigmoid(z2) - 1.0
    delta1 = a1 * (1 - a1) * np.array([0.5, -0.6]) * delta2
    hidden, output = explanation.layers
    np.testing.assert_allclose(hidden.z[0], z1, rtol=1e-6)
    np.testing.assert_allclose(output.delta[0], [delta2], rtol=1e-6)
    np.testing.assert_allclose(hidden.delta[0], delta1, rtol=1e-6)
    np.testing.assert_allclose(hidden.weight_grad, np.outer(delta1, [1.0, 2.0]), rtol=1e-6)
    np.testing.assert_allclose(output.bias_grad, [delta2], rtol=1e-6)
    # SGD: the update is −α·∂R/∂W, and the model itself did not move
    np.testing.assert_allclose(hidden.weight_update, -0.5 * hidden.weight_grad, rtol=1e-5)
    assert explanation.verified
    text = str(explanation)
    assert "δ⁽¹⁾ = f'(z⁽¹⁾) ⊙ (W⁽²⁾ᵀ δ⁽²⁾)" in text and "ŷ − y" in text
    assert f"{delta2:.4g}" in text and "verified" in text
    np.testing.assert_array_equal(hand_network().get_weights()[0], explanation.layers[0].weight)


@pytest.mark.parametrize(
    "build, loss, optimizer",
    [
        (
            lambda: [Dense(4, input_dim=3, activation="tanh"), Dense(3), Activation("softmax")],
            "categorical_crossentropy",
            "sgd",
        ),
        (
            lambda: [
                Dense(5, input_dim=3, activation="relu"),
                Dense(4, activation="gelu"),
                Dense(2),
            ],
            "mse",
            "adam",
        ),
        (
            lambda: [
                Dense(3, input_dim=3, activation="elu", kernel_regularizer=0.1),
                Dense(1, activation="sigmoid"),
            ],
            "binary_crossentropy",
            "rmsprop",
        ),
        (
            lambda: [Dense(4, input_dim=3, activation="softplus"), Dense(3)],
            cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
            cr.optim.SGD(lr=0.1, momentum=0.9),
        ),
        (lambda: [Dense(4, input_dim=3, activation="silu"), Dense(2)], "huber", "adagrad"),
    ],
)
def test_every_delta_and_gradient_agrees_with_the_engine(build, loss, optimizer):
    model = Sequential(build(), seed=3)
    model.compile(loss=loss, optimizer=optimizer)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3))
    width = model.output_shapes()[-1][-1]
    if getattr(model.loss, "name", "") == "sparse_categorical_crossentropy":
        y = rng.integers(0, width, size=4)
    elif model.loss.name == "categorical_crossentropy":
        y = np.eye(width)[rng.integers(0, width, size=4)]
    elif model.loss.name == "binary_crossentropy":
        y = rng.integers(0, 2, size=(4, 1)).astype(float)
    else:
        y = rng.normal(size=(4, width))
    before = [w.copy() for w in model.get_weights()]
    explanation = model.explain(x, y)
    assert explanation.verified, str(explanation)
    assert explanation.max_difference < 1e-12
    # the update is the optimiser's real step: take it and compare
    model.zero_grad()
    model.total_loss(model(x.astype(np.float32)), y).backward()
    model.optimizer.step()
    for layer, (w_before, w_after) in zip(
        explanation.layers, zip(before[0::2], model.get_weights()[0::2])
    ):
        np.testing.assert_allclose(layer.weight_update, w_after - w_before, atol=2e-6)


def test_a_saturated_sigmoid_unit_is_marked():
    model = Sequential([Dense(2, input_dim=1, activation="sigmoid"), Dense(1)])
    model.set_weights([np.array([[1.0], [20.0]]), np.zeros(2), np.array([[1.0, 1.0]]), np.zeros(1)])
    model.compile(loss="mse", optimizer="sgd")
    explanation = model.explain([1.0], [0.0])
    [unit] = explanation.saturated
    assert (unit.layer, unit.unit) == (1, 2) and unit.slope < 1e-8
    text = str(explanation)
    assert "unit 2 of layer 1: f'(z) = " in text and "it barely learns from this example" in text
    assert "unit 1 of layer 1" not in text
    assert "barely learns" in explanation._repr_html_()


def test_explain_refuses_what_it_cannot_explain():
    model = Sequential([Dense(2, input_dim=2)])
    with pytest.raises(RuntimeError, match="compile"):
        model.explain([1.0, 2.0], [0.0, 1.0])
    model.compile(loss="mse")
    with pytest.raises(ValueError, match=r"\(N, 2\), got \(N, 3\)"):
        model.explain([1.0, 2.0, 3.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="y has 2"):
        model.explain(np.ones((3, 2)), np.ones((2, 2)))
    bn = Sequential([Dense(2, input_dim=2), cr.nn.BatchNorm()])
    bn.compile(loss="mse")
    with pytest.raises(TypeError, match="BatchNorm"):
        bn.explain([1.0, 2.0], [0.0, 1.0])


def test_a_non_elementwise_activation_needs_its_own_vjp():
    from chainrule.explain import _vjp

    z, v = np.array([[0.5, -1.0, 2.0]]), np.array([[1.0, 0.0, -1.0]])
    softmax = cr.activations.get("softmax")
    assert np.array_equal(
        _vjp(softmax, z, v, softmax.forward(z)), softmax.vjp(z, v, softmax.forward(z))
    )
    with pytest.raises(TypeError, match="sigmoid activation is not elementwise and has no vjp"):
        _vjp(cr.activations.get("sigmoid"), z, v, sigmoid(z))


def test_html_view_is_well_formed():
    page = hand_network().explain([1.0, 2.0], [1.0])._repr_html_()
    assert page.startswith("<div") and page.endswith("</div>")
    assert page.count("<pre") == page.count("</pre>") == 1 and "δ⁽²⁾" in page


# ---------------------------------------------------------------------- the command line
def run_cli(capsys, *argv):
    from chainrule.cli import main

    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_explains_the_default_network(capsys):
    code, out, _ = run_cli(capsys, "explain", "--row", "2")
    assert code == 0
    assert "Data: xor, row 2" in out and "δ⁽¹⁾ = f'(z⁽¹⁾) ⊙ (W⁽²⁾ᵀ δ⁽²⁾)" in out
    assert "✓ engine" in out and "verified:" in out and "α = 0.1" in out


def test_cli_explains_a_saved_model(capsys, tmp_path):
    model = Sequential([Dense(4, input_dim=2, activation="relu"), Dense(2)], seed=1)
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True), optimizer="adam"
    )
    model.metadata = {"task": "classification"}
    path = tmp_path / "model.npz"
    model.save(path)
    code, out, _ = run_cli(capsys, "explain", str(path), "--data", "circles", "--row", "5")
    assert code == 0 and "Data: circles, row 5" in out and "Adam" in out and "verified" in out


def test_cli_errors_are_one_line(capsys, tmp_path):
    code, _, err = run_cli(capsys, "explain", "--row", "400")
    assert code == 2 and err.strip() == (
        "chainrule: error: --row 400 is out of range: xor has 400 rows (0..399)"
    )
    code, _, err = run_cli(capsys, "explain", "--data", "regression1d")
    assert code == 2 and "the default network classifies" in err and err.count("\n") == 1
    code, _, err = run_cli(capsys, "explain", str(tmp_path / "missing.npz"))
    assert code == 2 and "no model file at" in err  # bad input: exit 2 (README)
