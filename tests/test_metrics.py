"""Metrics against hand-computed values and loop references; accuracy's choice; the registry."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from chainrule import metrics
from chainrule.errors import ShapeError


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ---------------------------------------------------------------------- binary accuracy
def test_binary_accuracy_hand_values():
    assert metrics.binary_accuracy([0, 1, 1, 0], [0.2, 0.7, 0.4, 0.6]) == 0.5
    assert metrics.binary_accuracy([1, 1, 0, 0], [0.9, 0.8, 0.1, 0.3]) == 1.0
    assert metrics.binary_accuracy([[1, 0], [0, 0]], [[0.9, 0.9], [0.2, 0.1]]) == 0.75


def test_binary_accuracy_threshold_is_strict_and_adjustable():
    # ŷ = 0.5 is not > 0.5, so it predicts 0 (as Keras: y_pred > threshold); so does logit 0
    assert metrics.binary_accuracy([0, 0], [0.5, 0.5]) == 1.0
    assert metrics.binary_accuracy([0], [0.0], from_logits=True) == 1.0
    assert metrics.binary_accuracy([0, 1], [0.5, 0.5], threshold=0.4) == 0.5
    assert metrics.binary_accuracy([1, 0, 1], [0.65, 0.55, 0.9], threshold=0.6) == 1.0
    assert metrics.binary_accuracy([1, 0, 1], [0.65, 0.55, 0.9]) == pytest.approx(2 / 3)
    returned = metrics.binary_accuracy([1], [0.9])
    assert type(returned) is float


@pytest.mark.parametrize("threshold", [0.5, 0.2, 0.8])
def test_binary_accuracy_from_logits_matches_probabilities(threshold):
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, size=(200, 1))
    y = rng.integers(0, 2, size=(200, 1))
    reference = np.mean((_sigmoid(z) > threshold) == y.astype(bool))
    assert metrics.binary_accuracy(y, z, threshold, from_logits=True) == pytest.approx(reference)
    assert metrics.binary_accuracy(y, _sigmoid(z), threshold) == pytest.approx(reference)


def test_binary_accuracy_from_logits_thresholds_at_zero():
    # logits 0.3, 0.2, −0.1 are probabilities 0.574, 0.550, 0.475: predicted 1, 1, 0
    assert metrics.binary_accuracy([1, 1, 0], [0.3, 0.2, -0.1], from_logits=True) == 1.0
    # read as probabilities all three are below 0.5, so all are predicted 0
    assert metrics.binary_accuracy([1, 1, 0], [0.3, 0.2, -0.1]) == pytest.approx(1 / 3)


def test_binary_accuracy_column_against_vector_does_not_broadcast():
    y = np.array([1, 0, 1, 1])
    p = np.array([[0.9], [0.2], [0.3], [0.8]])
    assert metrics.binary_accuracy(y, p) == 0.75
    assert metrics.binary_accuracy(y[:, None], p[:, 0]) == 0.75


def test_binary_accuracy_errors():
    with pytest.raises(ShapeError, match=r"\(3,\).*\(4,\)"):
        metrics.binary_accuracy([0, 1, 1], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ShapeError):
        metrics.binary_accuracy([0, 1], [[0.1, 0.2], [0.3, 0.4]])
    with pytest.raises(ValueError, match="only 0 and 1"):
        metrics.binary_accuracy([0, 2], [0.1, 0.9])
    with pytest.raises(ValueError, match="threshold"):
        metrics.binary_accuracy([0, 1], [0.1, 0.9], threshold=1.0)


# ---------------------------------------------------------------------- categorical accuracies
def test_categorical_accuracy_hand_values_and_ties():
    y = [[0, 1, 0], [1, 0, 0], [0, 0, 1], [0, 0, 1]]
    p = [[0.1, 0.8, 0.1], [0.3, 0.6, 0.1], [0.2, 0.2, 0.6], [0.4, 0.3, 0.3]]
    assert metrics.categorical_accuracy(y, p) == 0.5
    # a tie goes to the first class, as argmax does
    assert metrics.categorical_accuracy([[1, 0], [0, 1]], [[0.5, 0.5], [0.5, 0.5]]) == 0.5


def test_categorical_accuracy_against_a_loop():
    rng = np.random.default_rng(1)
    p = rng.random((50, 4, 5))
    labels = rng.integers(0, 5, size=(50, 4))
    y = np.eye(5)[labels]
    hits = [labels[i, j] == int(np.argmax(p[i, j])) for i in range(50) for j in range(4)]
    assert metrics.categorical_accuracy(y, p) == pytest.approx(sum(hits) / len(hits))
    assert metrics.sparse_categorical_accuracy(labels, p) == pytest.approx(sum(hits) / len(hits))


def test_categorical_accuracy_shape_errors_point_to_the_sparse_version():
    with pytest.raises(ShapeError, match="sparse_categorical_accuracy"):
        metrics.categorical_accuracy([1, 0], [[0.1, 0.9], [0.8, 0.2]])
    with pytest.raises(ShapeError):
        metrics.categorical_accuracy([[0, 1, 0]], [[0.1, 0.9]])


def test_sparse_categorical_accuracy_hand_values():
    p = [[0.1, 0.8, 0.1], [0.3, 0.6, 0.1], [0.0, 0.0, 1.0], [0.5, 0.2, 0.3]]
    assert metrics.sparse_categorical_accuracy([1, 0, 2, 0], p) == 0.75
    assert metrics.sparse_categorical_accuracy([[1], [0], [2], [0]], p) == 0.75
    assert metrics.sparse_categorical_accuracy(np.array([1.0, 0.0, 2.0, 0.0]), p) == 0.75


def test_sparse_categorical_accuracy_errors():
    p = [[0.1, 0.9], [0.8, 0.2]]
    with pytest.raises(ValueError, match="out of range for 2 classes"):
        metrics.sparse_categorical_accuracy([0, 2], p)
    with pytest.raises(ValueError, match="negative"):
        metrics.sparse_categorical_accuracy([0, -1], p)
    with pytest.raises(ValueError, match="integer"):
        metrics.sparse_categorical_accuracy([0.5, 1.0], p)
    with pytest.raises(ShapeError, match="categorical_accuracy"):
        metrics.sparse_categorical_accuracy([[0, 1], [1, 0]], p)
    with pytest.raises(ShapeError, match=r"\(2,\)"):
        metrics.sparse_categorical_accuracy([0, 1, 1], p)


# ---------------------------------------------------------------------- regression
def test_mse_and_mae_hand_values():
    assert metrics.mean_squared_error([1.0, 2.0, 3.0], [1.5, 2.0, 1.0]) == pytest.approx(
        (0.25 + 0 + 4) / 3
    )
    assert metrics.mean_absolute_error([1.0, 2.0, 3.0], [1.5, 2.0, 1.0]) == pytest.approx(
        (0.5 + 0 + 2) / 3
    )
    assert metrics.mean_squared_error([[0, 0], [0, 0]], [[1, 2], [3, 4]]) == 7.5
    assert metrics.mean_absolute_error([[0, 0], [0, 0]], [[1, -2], [3, -4]]) == 2.5


def test_mse_and_mae_against_loops():
    rng = np.random.default_rng(2)
    y = rng.normal(size=(7, 3))
    p = rng.normal(size=(7, 3)).astype(np.float32)
    squares = [(float(p[i, j]) - y[i, j]) ** 2 for i in range(7) for j in range(3)]
    absolutes = [abs(float(p[i, j]) - y[i, j]) for i in range(7) for j in range(3)]
    assert metrics.mean_squared_error(y, p) == pytest.approx(sum(squares) / 21, rel=1e-12)
    assert metrics.mean_absolute_error(y, p) == pytest.approx(sum(absolutes) / 21, rel=1e-12)


def test_regression_column_against_vector_does_not_broadcast():
    # (2,) against (2, 1) broadcast would average all 4 pairs: (1 + 81 + 144 + 4) / 4 = 57.5
    assert metrics.mean_squared_error([0.0, 10.0], [[1.0], [12.0]]) == 2.5
    assert metrics.mean_absolute_error([[0.0], [10.0]], [1.0, 12.0]) == 1.5
    with pytest.raises(ShapeError, match="must match"):
        metrics.mean_squared_error([0.0, 1.0], [[1.0, 2.0], [3.0, 4.0]])


# ---------------------------------------------------------------------- NaN and bad input
ALL = [
    ("binary_accuracy", [0, 1], [0.2, math.nan]),
    ("categorical_accuracy", [[0, 1], [1, 0]], [[0.2, 0.8], [math.nan, 0.1]]),
    ("sparse_categorical_accuracy", [1, 0], [[0.2, 0.8], [math.nan, 0.1]]),
    ("mean_squared_error", [1.0, 2.0], [math.nan, 2.0]),
    ("mean_absolute_error", [1.0, 2.0], [math.nan, 2.0]),
    ("accuracy", [1, 0], [[0.2, 0.8], [math.nan, 0.1]]),
]


@pytest.mark.parametrize("name, y_true, y_pred", ALL, ids=[case[0] for case in ALL])
def test_nan_predictions_raise_a_clear_error(name, y_true, y_pred):
    with pytest.raises(ValueError, match=r"y_pred contains NaN at 1 of \d+ positions"):
        getattr(metrics, name)(y_true, y_pred)


def test_nan_targets_empty_and_non_numeric_inputs_raise():
    with pytest.raises(ValueError, match="y_true contains NaN"):
        metrics.mean_squared_error([math.nan, 1.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="empty"):
        metrics.mean_absolute_error([], [])
    with pytest.raises(TypeError, match="numeric"):
        metrics.mean_squared_error(["a", "b"], [0.0, 1.0])


# ---------------------------------------------------------------------- accuracy's choice
CHOICES = [
    # y_true, y_pred, the accuracy it must pick
    ([1, 0, 1, 1], [0.9, 0.2, 0.4, 0.6], "binary_accuracy"),
    ([[1], [0], [1], [1]], [[0.9], [0.2], [0.4], [0.6]], "binary_accuracy"),
    ([1, 0, 1, 1], [[0.9], [0.2], [0.4], [0.6]], "binary_accuracy"),
    ([2, 0, 1], [[0.1, 0.2, 0.7], [0.8, 0.1, 0.1], [0.5, 0.3, 0.2]], "sparse_categorical_accuracy"),
    (
        [[2], [0], [1]],
        [[0.1, 0.2, 0.7], [0.8, 0.1, 0.1], [0.5, 0.3, 0.2]],
        "sparse_categorical_accuracy",
    ),
    (
        [[0, 0, 1], [1, 0, 0], [0, 1, 0]],
        [[0.1, 0.2, 0.7], [0.8, 0.1, 0.1], [0.5, 0.3, 0.2]],
        "categorical_accuracy",
    ),
    (np.zeros((2, 5), dtype=int), np.ones((2, 5, 3)), "sparse_categorical_accuracy"),
    (np.eye(3)[np.zeros((2, 5), dtype=int)], np.ones((2, 5, 3)), "categorical_accuracy"),
]


@pytest.mark.parametrize("y_true, y_pred, chosen", CHOICES)
def test_accuracy_picks_the_kind_from_the_shapes(monkeypatch, y_true, y_pred, chosen):
    expected = getattr(metrics, chosen)(y_true, y_pred)
    calls = []
    for name in ("binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy"):
        original = getattr(metrics, name)

        def spy(*args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(metrics, name, spy)
    assert metrics.accuracy(y_true, y_pred) == expected
    assert calls == [chosen]


def test_accuracy_values_and_logits():
    p = [[0.1, 0.2, 0.7], [0.8, 0.1, 0.1], [0.5, 0.3, 0.2]]
    assert metrics.accuracy([2, 0, 0], p) == 1.0
    assert metrics.accuracy([[0, 0, 1], [0, 1, 0], [1, 0, 0]], p) == pytest.approx(2 / 3)
    assert metrics.accuracy([[1], [0]], [[0.3], [-0.2]], from_logits=True) == 1.0
    assert metrics.accuracy([[1], [0]], [[0.3], [-0.2]]) == 0.5


def test_accuracy_refuses_shapes_it_cannot_interpret():
    with pytest.raises(ShapeError, match="cannot tell"):
        metrics.accuracy(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ShapeError, match="scalar"):
        metrics.accuracy(1, 0.7)


# ---------------------------------------------------------------------- confusion matrix
def test_confusion_matrix_hand_values():
    matrix = metrics.confusion_matrix([0, 1, 2, 2, 1, 0], [0, 2, 2, 1, 1, 0])
    np.testing.assert_array_equal(matrix, [[2, 0, 0], [0, 1, 1], [0, 1, 1]])
    assert matrix.dtype.kind == "i"
    # rows are the true classes: true 0 predicted 1 counts at [0, 1]
    np.testing.assert_array_equal(metrics.confusion_matrix([0], [1]), [[0, 1], [0, 0]])


def test_confusion_matrix_against_a_loop_and_accuracy():
    rng = np.random.default_rng(3)
    true = rng.integers(0, 4, size=300)
    scores = rng.random((300, 4))
    pred = scores.argmax(-1)
    reference = np.zeros((4, 4), dtype=int)
    for t, p in zip(true, pred):
        reference[t, p] += 1
    matrix = metrics.confusion_matrix(true, pred, num_classes=4)
    np.testing.assert_array_equal(matrix, reference)
    assert np.trace(matrix) / matrix.sum() == pytest.approx(
        metrics.sparse_categorical_accuracy(true, scores)
    )


def test_confusion_matrix_num_classes_and_errors():
    np.testing.assert_array_equal(
        metrics.confusion_matrix([0, 1], [1, 1], num_classes=3), [[0, 1, 0], [0, 1, 0], [0, 0, 0]]
    )
    np.testing.assert_array_equal(metrics.confusion_matrix([], [], num_classes=2), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="out of range for 2 classes"):
        metrics.confusion_matrix([0, 2], [0, 1], num_classes=2)
    with pytest.raises(ShapeError, match="argmax"):
        metrics.confusion_matrix([0, 1], [[0.2, 0.8], [0.6, 0.4]])
    with pytest.raises(ValueError, match="negative"):
        metrics.confusion_matrix([0, -1], [0, 1])
    with pytest.raises(ValueError, match="num_classes"):
        metrics.confusion_matrix([0, 1], [0, 1], num_classes=0)


# ---------------------------------------------------------------------- registry
def test_names():
    assert metrics.names() == [
        "accuracy",
        "binary_accuracy",
        "categorical_accuracy",
        "sparse_categorical_accuracy",
        "mse",
        "mae",
    ]


@pytest.mark.parametrize(
    "name, function, key",
    [
        ("acc", metrics.accuracy, "accuracy"),
        ("accuracy", metrics.accuracy, "accuracy"),
        ("mse", metrics.mean_squared_error, "mse"),
        ("mean_squared_error", metrics.mean_squared_error, "mse"),
        ("mae", metrics.mean_absolute_error, "mae"),
        ("mean_absolute_error", metrics.mean_absolute_error, "mae"),
        ("binary_accuracy", metrics.binary_accuracy, "binary_accuracy"),
        ("categorical_accuracy", metrics.categorical_accuracy, "categorical_accuracy"),
        (
            "sparse_categorical_accuracy",
            metrics.sparse_categorical_accuracy,
            "sparse_categorical_accuracy",
        ),
        ("Binary-Accuracy", metrics.binary_accuracy, "binary_accuracy"),
        ("MSE", metrics.mean_squared_error, "mse"),
    ],
)
def test_get_and_metric_name(name, function, key):
    assert metrics.get(name) is function
    assert metrics.metric_name(name) == key
    assert metrics.metric_name(function) == key


def test_unknown_names_list_the_valid_ones_with_suggestions():
    with pytest.raises(ValueError) as error:
        metrics.get("sparse_categorical_acc")
    message = str(error.value)
    assert "did you mean 'sparse_categorical_accuracy'" in message
    for name in metrics.names():
        assert name in message
    with pytest.raises(ValueError, match="valid names"):
        metrics.metric_name("f1_score_macro")
    with pytest.raises(TypeError):
        metrics.get(3)


def test_callables_pass_through_and_keep_their_names():
    def top_2_accuracy(y_true, y_pred):
        return 1.0

    assert metrics.get(top_2_accuracy) is top_2_accuracy
    assert metrics.metric_name(top_2_accuracy) == "top_2_accuracy"

    class Named:
        name = "custom"

        def __call__(self, y_true, y_pred):
            return 0.0

    assert metrics.metric_name(Named()) == "custom"
    assert metrics.metric_name(functools.partial(top_2_accuracy)) == "top_2_accuracy"


def test_get_binds_parameters():
    strict = metrics.get("binary_accuracy", threshold=0.7)
    assert strict([1, 0], [0.6, 0.1]) == 0.5
    assert metrics.metric_name(strict) == "binary_accuracy"
    with pytest.raises(TypeError, match="thresh"):
        metrics.get("binary_accuracy", thresh=0.7)
    with pytest.raises(TypeError, match="parameters"):
        metrics.get(metrics.accuracy, from_logits=True)


def test_format_confusion_matrix_lays_out_rows_true_and_columns_predicted():
    matrix = metrics.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], num_classes=3)
    text = metrics.format_confusion_matrix(matrix, ["cat", "dog", "bird"])
    assert text.splitlines() == [
        "Confusion matrix (rows: true class, columns: predicted class)",
        "true \\ predicted  cat  dog  bird",
        "cat                 1    1     0",
        "dog                 0    1     0",
        "bird                1    0     2",
    ]
    with pytest.raises(ShapeError, match=r"3 classes is 3x3, not of shape \(2, 2\)"):
        metrics.format_confusion_matrix(np.zeros((2, 2)), ["a", "b", "c"])
