"""Model.predict_proba, get_weights / set_weights (Keras' contract) and evaluate(verbose=...)."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule import losses
from chainrule.errors import ShapeError
from chainrule.models import Sequential
from chainrule.nn import Activation, BatchNorm, Dense


def _inputs(rows: int = 6, features: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, features)).astype(np.float32)


def _softmax_rows(z: np.ndarray) -> np.ndarray:
    """exp(z − max z) / Σ exp(z − max z), row by row, in float64 (the oracle)."""
    z = z.astype(np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------- predict_proba
def test_predict_proba_applies_the_softmax_a_from_logits_loss_fuses_in() -> None:
    model = Sequential([Dense(5, input_dim=4, activation="tanh"), Dense(3)], seed=1)
    model.compile(loss=losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="sgd")
    x = _inputs()
    probabilities = model.predict_proba(x)
    np.testing.assert_allclose(probabilities, _softmax_rows(model.predict(x)), rtol=1e-5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)


def test_predict_proba_applies_the_sigmoid_a_from_logits_binary_loss_fuses_in() -> None:
    model = Sequential([Dense(1, input_dim=4)], seed=2)
    model.compile(loss=losses.BinaryCrossentropy(from_logits=True), optimizer="sgd")
    x = _inputs()
    z = model.predict(x).astype(np.float64)
    np.testing.assert_allclose(model.predict_proba(x), 1 / (1 + np.exp(-z)), rtol=1e-5)


@pytest.mark.parametrize(
    "layers",
    [
        [Dense(3, input_dim=4), Activation("softmax")],
        [Dense(3, input_dim=4, activation="softmax")],
        [Dense(1, input_dim=4, activation="sigmoid")],
    ],
    ids=["softmax-layer", "dense-softmax", "dense-sigmoid"],
)
def test_predict_proba_of_a_probability_output_is_that_output(layers: list) -> None:
    model = Sequential(layers, seed=3)  # not compiled: the output layer alone decides
    x = _inputs()
    np.testing.assert_array_equal(model.predict_proba(x), model.predict(x))


def test_predict_proba_batches_like_predict() -> None:
    model = Sequential([Dense(3, input_dim=4, activation="softmax")], seed=4)
    x = _inputs(rows=7)
    np.testing.assert_allclose(
        model.predict_proba(x, batch_size=3), model.predict_proba(x), rtol=1e-6
    )


def test_predict_proba_refuses_outputs_that_are_no_probabilities() -> None:
    model = Sequential([Dense(2, input_dim=4, activation="relu"), Dense(1)], seed=5)
    model.compile(loss="mse", optimizer="sgd")
    with pytest.raises(ValueError, match="not probabilities"):
        model.predict_proba(_inputs())


# ---------------------------------------------------------------------- get/set_weights
def _batchnorm_model(seed: int) -> Sequential:
    return Sequential([Dense(3, input_dim=4), BatchNorm(), Activation("relu"), Dense(2)], seed=seed)


def test_get_weights_lists_parameters_then_buffers_as_copies() -> None:
    model = _batchnorm_model(0)
    weights = model.get_weights()
    state = model.state_dict()
    assert [w.shape for w in weights] == [v.shape for v in state.values()]
    parameters = model.parameters()
    for array, parameter in zip(weights, parameters):
        np.testing.assert_array_equal(array, parameter.data)
    assert len(weights) > len(parameters)  # BatchNorm's running statistics follow
    weights[0][...] = 123.0
    assert not np.any(model.parameters()[0].data == 123.0)


def test_set_weights_makes_a_twin_predict_the_same() -> None:
    source, target = _batchnorm_model(0), _batchnorm_model(1)
    source.compile(loss="mse", optimizer="sgd")
    x = _inputs(rows=8)
    source.fit(x, np.ones((8, 2), dtype=np.float32), epochs=2, verbose=0, health=False)
    assert not np.array_equal(source.predict(x), target.predict(x))
    target.set_weights(source.get_weights())
    np.testing.assert_array_equal(target.predict(x), source.predict(x))


def test_set_weights_names_a_wrong_count() -> None:
    model = _batchnorm_model(0)
    with pytest.raises(ValueError, match=r"has \d+ weight arrays .* got 1"):
        model.set_weights(model.get_weights()[:1])


def test_set_weights_names_the_array_of_the_wrong_shape() -> None:
    model = Sequential([Dense(3, input_dim=4), Dense(2)], seed=0)
    weights = model.get_weights()
    weights[2] = weights[2].T
    with pytest.raises(ShapeError, match=r"array 2 \(dense_1.weight\) has shape \(3, 2\)"):
        model.set_weights(weights)


def test_set_weights_before_building_says_so() -> None:
    model = Sequential([Dense(3), Dense(2)])
    assert model.get_weights() == []
    with pytest.raises(ValueError, match="build it first"):
        model.set_weights([])


# ---------------------------------------------------------------------- evaluate(verbose)
def test_evaluate_prints_one_line_only_when_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    model = Sequential([Dense(1, input_dim=4)], seed=0)
    model.compile(loss="mse", optimizer="sgd", metrics=["mae"])
    x, y = _inputs(), np.zeros((6, 1), dtype=np.float32)
    quiet = model.evaluate(x, y, verbose=0)
    assert capsys.readouterr().out == ""
    loud = model.evaluate(x, y, verbose=1)
    line = capsys.readouterr().out
    assert loud == quiet
    assert line.startswith("Evaluate - 6 samples - loss ") and " - mae " in line
    assert line.count("\n") == 1


def test_evaluate_refuses_an_unknown_verbosity() -> None:
    model = Sequential([Dense(1, input_dim=4)], seed=0)
    model.compile(loss="mse", optimizer="sgd")
    with pytest.raises(ValueError, match="verbose must be 0, 1 or 2"):
        model.evaluate(_inputs(), np.zeros((6, 1)), verbose=3)
