"""Sample and class weights through every loss: the weighted reduction, compiled == eager bit
for bit, scikit-learn's "balanced" formula, zero weights, saved class weights, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import losses
from chainrule.errors import ShapeError
from chainrule.models import Sequential
from chainrule.nn import Activation, Dense
from chainrule.training import resolve_class_weight

N, FEATURES, CLASSES = 20, 3, 3


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


# Per loss: its parameters, how to make a prediction and a target from logits z (N, 3) and
# labels, and the per-sample loss ℓᵢ (mean over the output columns) by hand in float64.
def _regression(kind: str):
    def per_sample(p, y):
        d = p - y
        if kind == "mse":
            return (d * d).mean(axis=1)
        if kind == "mae":
            return np.abs(d).mean(axis=1)
        return np.where(np.abs(d) <= 1.0, 0.5 * d * d, np.abs(d) - 0.5).mean(axis=1)

    return per_sample


def _bce(p, y):
    return (-(y * np.log(p) + (1 - y) * np.log(1 - p))).mean(axis=1)


def _cce(p, y_one_hot):
    return -(y_one_hot * np.log(p)).sum(axis=1)


CASES = {
    # name: (loss name, params, prediction(z), target(z, labels), per_sample(prediction, target))
    "mse": ("mse", {}, lambda z: z, lambda z, k: z[::-1] * 0.5, _regression("mse")),
    "mae": ("mae", {}, lambda z: z, lambda z, k: z[::-1] * 0.5, _regression("mae")),
    "huber": ("huber", {}, lambda z: 2 * z, lambda z, k: z[::-1], _regression("huber")),
    "bce": (
        "binary_crossentropy",
        {},
        lambda z: _sigmoid(z[:, :1]),
        lambda z, k: (k[:, None] > 0).astype(float),
        _bce,
    ),
    "bce_logits": (
        "binary_crossentropy",
        {"from_logits": True},
        lambda z: z[:, :1],
        lambda z, k: (k[:, None] > 0).astype(float),
        lambda p, y: _bce(_sigmoid(p), y),
    ),
    "cce": ("categorical_crossentropy", {}, _softmax, lambda z, k: np.eye(CLASSES)[k], _cce),
    "cce_logits": (
        "categorical_crossentropy",
        {"from_logits": True},
        lambda z: z,
        lambda z, k: np.eye(CLASSES)[k],
        lambda p, y: _cce(_softmax(p), y),
    ),
    "sparse_cce": (
        "sparse_categorical_crossentropy",
        {"from_logits": True},
        lambda z: z,
        lambda z, k: k,
        lambda p, k: _cce(_softmax(p), np.eye(CLASSES)[k]),
    ),
    "nll": (
        "nll",
        {},
        lambda z: np.log(_softmax(z)),
        lambda z, k: k,
        lambda p, k: -p[np.arange(len(k)), k],
    ),
}


def _case_data(seed: int = 0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(N, CLASSES))
    labels = rng.integers(0, CLASSES, N)
    labels[:CLASSES] = np.arange(CLASSES)  # every class present
    weights = rng.uniform(0.0, 3.0, N)
    return z, labels, weights


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_weighted_loss_is_the_hand_computed_weighted_mean(case, reduction):
    name, params, prediction_of, target_of, per_sample = CASES[case]
    z, labels, w = _case_data()
    prediction, target = prediction_of(z), target_of(z, labels)
    loss = losses.get(name, reduction=reduction, **params)
    got = loss(cr.tensor(prediction, dtype=np.float64), target, sample_weight=w).item()
    per_row = per_sample(prediction, target)
    columns = prediction.shape[1] if case in ("mse", "mae", "huber", "bce", "bce_logits") else 1
    expected = (
        np.sum(w * per_row) / N if reduction == "mean" else np.sum(w * per_row) * columns
    )  # "sum": Σᵢ wᵢ·Σⱼ ℓᵢⱼ
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_weights_of_one_give_the_unweighted_loss_and_none_gives_weighted_values(case):
    name, params, prediction_of, target_of, _ = CASES[case]
    z, labels, w = _case_data(1)
    prediction = cr.tensor(prediction_of(z), dtype=np.float64)
    target = target_of(z, labels)
    loss = losses.get(name, **params)
    ones = loss(prediction, target, sample_weight=np.ones(N)).item()
    assert ones == pytest.approx(loss(prediction, target).item(), rel=1e-13)
    unreduced = losses.get(name, reduction="none", **params)
    values = unreduced(prediction, target).numpy()
    weighted = unreduced(prediction, target, sample_weight=w).numpy()
    np.testing.assert_allclose(
        weighted, values * w.reshape((N,) + (1,) * (values.ndim - 1)), rtol=1e-15
    )


# ---------------------------------------------------------------------- compiled == eager
MODELS = {
    # name: (output layers, loss name, params, targets(labels, x))
    "mse": ([Dense(2)], "mse", {}, lambda k, x: x[:, :2] * 0.5),
    "mae": ([Dense(2)], "mae", {}, lambda k, x: x[:, :2] * 0.5),
    "huber": ([Dense(2)], "huber", {}, lambda k, x: x[:, :2] * 2.0),
    "bce": (
        [Dense(1, activation="sigmoid")],
        "binary_crossentropy",
        {},
        lambda k, x: (k > 0).astype(np.float32),
    ),
    "bce_logits": (
        [Dense(1)],
        "binary_crossentropy",
        {"from_logits": True},
        lambda k, x: (k > 0).astype(np.float32),
    ),
    "cce": (
        [Dense(CLASSES, activation="softmax")],
        "categorical_crossentropy",
        {},
        lambda k, x: np.eye(CLASSES, dtype=np.float32)[k],
    ),
    "cce_logits": (
        [Dense(CLASSES)],
        "categorical_crossentropy",
        {"from_logits": True},
        lambda k, x: np.eye(CLASSES, dtype=np.float32)[k],
    ),
    "sparse_cce": (
        [Dense(CLASSES, activation="softmax")],
        "sparse_categorical_crossentropy",
        {},
        lambda k, x: k,
    ),
    "nll": ([Dense(CLASSES), Activation("log_softmax")], "nll", {}, lambda k, x: k),
}


def _train(
    case: str,
    jit: bool | str,
    sample_weight=None,
    class_weight=None,
    reduction: str = "mean",
    epochs: int = 2,
    x=None,
    y=None,
    batch_size=8,
):
    import copy

    layers, name, params, targets_of = MODELS[case]
    rng = np.random.default_rng(3)
    if x is None:
        x = rng.normal(size=(N, FEATURES)).astype(np.float32)
        labels = rng.integers(0, CLASSES, N)
        y = targets_of(labels, x)
    model = Sequential(
        [Dense(5, input_dim=FEATURES, activation="tanh"), *copy.deepcopy(layers)], seed=0
    )
    model.compile(
        loss=losses.get(name, reduction=reduction, **params),
        optimizer=cr.optim.Adam(lr=0.05),
        jit=jit,
    )
    history = model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=batch_size,
        verbose=0,
        seed=1,
        health=False,
        sample_weight=sample_weight,
        class_weight=class_weight,
    )
    return model, history


def _assert_same_bits(a, b):
    for first, second in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("case", MODELS)
def test_compiled_weighted_training_is_bit_identical_to_eager(case):
    weights = np.random.default_rng(5).uniform(0.0, 2.0, N)
    class_weight = {0: 2.0, 1: 0.5} if case not in ("mse", "mae", "huber") else None
    compiled, compiled_history = _train(case, True, weights, class_weight)
    eager, eager_history = _train(case, False, weights, class_weight)
    assert compiled.jit_fallback_reason is None
    assert compiled.compiled_step.traces == 2  # batches of 8 and the last one of 4
    assert compiled_history.history["loss"] == eager_history.history["loss"]
    _assert_same_bits(compiled, eager)
    # and the weights matter: unweighted training ends elsewhere
    unweighted, _ = _train(case, True)
    assert not np.array_equal(unweighted.get_weights()[0], compiled.get_weights()[0])


def test_compiled_sum_reduction_with_weights_is_bit_identical_to_eager():
    weights = np.random.default_rng(6).uniform(0.0, 2.0, N)
    compiled, _ = _train("mse", "auto", weights, reduction="sum")
    eager, _ = _train("mse", False, weights, reduction="sum")
    assert compiled.jit_fallback_reason is None
    _assert_same_bits(compiled, eager)


def test_a_program_is_kept_per_weighting():
    weighted, _ = _train("mse", True, np.ones(N), batch_size=N)
    weighted.fit(*_regression_data(), epochs=1, batch_size=N, verbose=0, health=False)
    assert weighted.compiled_step.traces == 2  # one weighted program, one unweighted


def _regression_data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(N, FEATURES)).astype(np.float32)
    return x, x[:, :2] * 0.5


# ---------------------------------------------------------------------- zero weights
@pytest.mark.parametrize("jit", [True, False])
def test_a_zero_weight_sample_changes_nothing(jit):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(N, FEATURES)).astype(np.float32)
    labels = rng.integers(0, CLASSES, N)
    weights = rng.uniform(0.5, 2.0, N)
    weights[4] = 0.0
    other_x, other_labels = x.copy(), labels.copy()
    other_x[4] = [100.0, -50.0, 3.0]
    other_labels[4] = (labels[4] + 1) % CLASSES
    first, _ = _train("sparse_cce", jit, weights, x=x, y=labels)
    second, _ = _train("sparse_cce", jit, weights, x=other_x, y=other_labels)
    _assert_same_bits(first, second)  # whatever the sample holds: exactly no contribution


def test_a_zero_weight_sample_is_the_same_as_no_sample():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(N, FEATURES)).astype(np.float32)
    labels = rng.integers(0, CLASSES, N)
    weights = np.ones(N)
    weights[-1] = 0.0
    kept = slice(0, N - 1)
    # "sum" adds the samples' losses: the zero-weight one adds nothing
    with_it, _ = _train(
        "sparse_cce", True, weights, x=x, y=labels, reduction="sum", batch_size=None
    )
    without, _ = _train(
        "sparse_cce", True, None, x=x[kept], y=labels[kept], reduction="sum", batch_size=None
    )
    for a, b in zip(with_it.get_weights(), without.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # "mean" divides by the batch size N: the other samples weigh (N − 1)/N each
    with_it, _ = _train("sparse_cce", True, weights * (N / (N - 1)), x=x, y=labels, batch_size=None)
    without, _ = _train("sparse_cce", True, None, x=x[kept], y=labels[kept], batch_size=None)
    for a, b in zip(with_it.get_weights(), without.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- class weights
def test_balanced_matches_scikit_learn():
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.array([0, 0, 0, 0, 1, 2, 2, 0, 2, 0, 0])
    expected = compute_class_weight("balanced", classes=np.unique(labels), y=labels)
    got = resolve_class_weight("balanced", labels, 3)
    assert list(got) == [0, 1, 2]
    np.testing.assert_allclose(list(got.values()), expected, rtol=1e-15)


def test_class_weight_is_the_sample_weight_of_each_class_multiplied_by_sample_weight():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(N, FEATURES)).astype(np.float32)
    labels = rng.integers(0, CLASSES, N)
    weights = rng.uniform(0.5, 2.0, N)
    per_class = {0: 3.0, 2: 0.25}  # class 1 keeps weight 1
    by_class = np.array([3.0, 1.0, 0.25])[labels]
    both, _ = _train("sparse_cce", True, weights, per_class, x=x, y=labels)
    product, _ = _train("sparse_cce", True, weights * by_class, x=x, y=labels)
    _assert_same_bits(both, product)
    one_hot, _ = _train(
        "cce", True, weights, per_class, x=x, y=np.eye(CLASSES, dtype=np.float32)[labels]
    )
    one_hot_product, _ = _train(
        "cce", True, weights * by_class, x=x, y=np.eye(CLASSES, dtype=np.float32)[labels]
    )
    _assert_same_bits(one_hot, one_hot_product)


def test_class_weights_are_saved_with_the_model_and_used_when_asked(tmp_path):
    rng = np.random.default_rng(10)
    x = rng.normal(size=(N, FEATURES)).astype(np.float32)
    labels = rng.integers(0, CLASSES, N)
    labels[:CLASSES] = np.arange(CLASSES)
    model, _ = _train("sparse_cce", True, None, "balanced", x=x, y=labels)
    balanced = resolve_class_weight("balanced", labels, CLASSES)
    assert model.metadata["class_weight"] == {str(k): v for k, v in balanced.items()}
    model.save(tmp_path / "model.npz")
    loaded = cr.load(tmp_path / "model.npz")
    assert loaded.metadata["class_weight"] == model.metadata["class_weight"]
    saved = loaded.evaluate(x, labels, class_weight="saved")
    assert saved == loaded.evaluate(x, labels, class_weight=balanced)
    assert saved == loaded.evaluate(
        x, labels, sample_weight=np.array([balanced[k] for k in labels])
    )
    assert saved != loaded.evaluate(x, labels)
    loaded.fit(x, labels, epochs=1, verbose=0, health=False)  # a fit without: none kept
    assert "class_weight" not in loaded.metadata
    with pytest.raises(ValueError, match="no saved class weights"):
        loaded.evaluate(x, labels, class_weight="saved")


# ---------------------------------------------------------------------- validation, evaluate
def test_validation_data_carries_weights():
    x, y = _regression_data()
    w = np.random.default_rng(11).uniform(0.0, 2.0, N)
    model, history = _train("mse", True, None, epochs=1)
    history = model.fit(
        x, y, epochs=1, batch_size=8, verbose=0, health=False, validation_data=(x, y, w)
    )
    weighted = model.evaluate(x, y, batch_size=8, sample_weight=w)
    assert history.history["val_loss"] == [weighted]
    assert weighted != model.evaluate(x, y, batch_size=8)


def test_validation_split_splits_the_weights_too():
    x, y = _regression_data()
    w = np.random.default_rng(12).uniform(0.0, 2.0, N)
    model, _ = _train("mse", True, None, epochs=1)
    history = model.fit(
        x,
        y,
        epochs=1,
        batch_size=8,
        verbose=0,
        health=False,
        validation_split=0.25,
        sample_weight=w,
    )
    held_out = slice(N - 5, N)
    assert history.history["val_loss"] == [
        model.evaluate(x[held_out], y[held_out], batch_size=8, sample_weight=w[held_out])
    ]


def test_evaluate_weighted_is_the_weighted_mean_over_the_whole_set():
    x, y = _regression_data()
    w = np.random.default_rng(13).uniform(0.0, 2.0, N)
    model, _ = _train("mse", True, None, epochs=1)
    prediction = model.predict(x).astype(np.float64)
    expected = np.sum(w * ((prediction - y) ** 2).mean(axis=1)) / N
    assert model.evaluate(x, y, batch_size=7, sample_weight=w) == pytest.approx(expected, rel=1e-5)


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "sample_weight, error, match",
    [
        (-np.ones(N), ValueError, r"sample_weight must be finite and >= 0, got -1.0 in row 0"),
        (np.r_[np.ones(N - 1), np.nan], ValueError, r"got nan in row 19"),
        (np.r_[np.ones(N - 1), np.inf], ValueError, r"got inf in row 19"),
        (np.ones(N - 1), ShapeError, r"shape \(20,\), one weight per sample, got shape \(19,\)"),
        (np.ones((N, 1)), ShapeError, r"got shape \(20, 1\)"),
        (np.array(["a"] * N), TypeError, r"sample_weight must be numeric"),
    ],
)
def test_bad_sample_weights_are_refused(sample_weight, error, match):
    with pytest.raises(error, match=match):
        _train("sparse_cce", True, sample_weight)


@pytest.mark.parametrize(
    "class_weight, error, match",
    [
        ({5: 1.0}, ValueError, r"unknown class 5 \(the model has classes 0..2\)"),
        ({-1: 1.0}, ValueError, r"unknown class -1"),
        ({0: -2.0}, ValueError, r"weight of class 0 must be finite and >= 0, got -2.0"),
        ({1: float("nan")}, ValueError, r"weight of class 1 must be finite and >= 0, got nan"),
        ({"cat": 1.0}, ValueError, r"'cat' is not a class index"),
        ({0: "x"}, ValueError, r"weight of class 0 must be a number"),
        ("balance", ValueError, r"must be a dict or 'balanced', not 'balance'"),
        ([1.0, 2.0], TypeError, r"not list"),
    ],
)
def test_bad_class_weights_are_refused(class_weight, error, match):
    with pytest.raises(error, match=match):
        _train("sparse_cce", True, None, class_weight)


def test_class_weight_needs_a_classification_loss_and_binary_labels():
    with pytest.raises(ValueError, match="class_weight needs a classification loss .* not mse"):
        _train("mse", True, None, {0: 1.0})
    with pytest.raises(ValueError, match="unknown class 2 \\(the model has classes 0..1\\)"):
        _train("bce", True, None, {2: 1.0})
    x = np.zeros((4, FEATURES), np.float32)
    with pytest.raises(ValueError, match="binary targets of 0 and 1, not soft labels"):
        _train("bce", True, None, {1: 2.0}, x=x, y=np.array([0.0, 0.3, 1.0, 1.0]))


def test_bad_validation_data_and_loss_weights_are_refused():
    x, y = _regression_data()
    model, _ = _train("mse", True, None, epochs=1)
    with pytest.raises(ValueError, match=r"validation_data must be \(x, y\) or"):
        model.fit(x, y, verbose=0, validation_data=(x, y, np.ones(N), 1))
    with pytest.raises(ValueError, match="validation sample_weight must be finite"):
        model.fit(x, y, verbose=0, validation_data=(x, y, -np.ones(N)))
    with pytest.raises(ShapeError, match=r"sample weights must have shape \(20,\)"):
        losses.get("mse")(x, x, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="sample weights must be finite and >= 0"):
        losses.get("mse")(x, x, sample_weight=-np.ones(N))
