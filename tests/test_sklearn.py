"""chainrule.sklearn: scikit-learn's own estimator checks, and the tools they must work in."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from chainrule import activations, datasets  # noqa: E402
from chainrule.nn import Dense, Dropout  # noqa: E402
from chainrule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

# Small and fast: scikit-learn's checks fit each estimator dozens of times.
SMALL = {"hidden_layer_sizes": (8,), "max_iter": 50, "learning_rate_init": 0.01, "random_state": 0}
# Every capability at once, in float32: two hidden layers with their own activations, dropout,
# another optimiser, early stopping on a held-out set, eager training, the health monitor.
EVERYTHING = {
    "hidden_layer_sizes": (8, 4),
    "activation": ["leaky_relu", "mish"],
    "dropout": [0.1, 0.0],
    "optimizer": "rmsprop",
    "learning_rate_init": 0.01,
    "max_iter": 30,
    "early_stopping": True,
    "dtype": "float32",
    "jit": False,
    "health": True,
    "random_state": 0,
}


def expected_failed_checks(estimator: object) -> dict[str, str]:
    """Two at most. Every estimator: an integer sample weight is not the same as the sample
    repeated that many times (check_sample_weight_equivalence_on_dense_data), because training
    is mini-batch gradient descent: repeated rows change the batches, their shuffled order and
    the batch sizes N that Σᵢ wᵢ·ℓᵢ / N divides by (scikit-learn runs that check on its own
    MLPClassifier with the full-batch lbfgs solver). Array API input is skipped by
    scikit-learn itself (NumPy only). In float32, too: a matrix product over a subset of the
    rows may round differently from the same rows inside the whole batch (BLAS blocks by
    shape), so the predictions of a subset can differ in the last bit; on this machine that
    check passes."""
    failures = {
        "check_sample_weight_equivalence_on_dense_data": "a weight of k is not k repeated rows "
        "in mini-batch training"
    }
    if getattr(estimator, "dtype", "float64") == "float32":
        failures["check_methods_subset_invariance"] = (
            "float32 matrix products round differently for a batch and its subset"
        )
    return failures


@parametrize_with_checks(
    [
        MLPClassifier(**SMALL),
        MLPRegressor(**SMALL),
        MLPClassifier(**EVERYTHING),
        MLPRegressor(**{**EVERYTHING, "activation": "prelu", "dropout": 0.1}),
    ],
    expected_failed_checks=expected_failed_checks,
)
def test_scikit_learn_estimator_checks(estimator, check) -> None:
    check(estimator)


# ---------------------------------------------------------------------- data
def _blobs(seed: int = 0, n: int = 90) -> tuple[np.ndarray, np.ndarray]:
    ds = datasets.gaussians(n=n, seed=seed)
    return ds.x, ds.y


def _digits() -> tuple[np.ndarray, np.ndarray]:
    ds = datasets.load_digits()
    return ds.x, ds.y


def _animal_labels(y: np.ndarray) -> np.ndarray:
    return np.array(["cat", "dog", "emu", "fox"])[y]


# ---------------------------------------------------------------------- the tools
def test_a_pipeline_with_standard_scaling_learns_the_digits() -> None:
    x, y = _digits()
    pipeline = make_pipeline(
        StandardScaler(),
        MLPClassifier((32,), batch_size=32, max_iter=20, learning_rate_init=0.01, random_state=0),
    )
    pipeline.fit(x[:1000], y[:1000])
    assert pipeline.score(x[1000:1400], y[1000:1400]) > 0.92  # scikit-learn's MLP: 0.9575


def test_cross_val_score_scores_every_fold() -> None:
    x, y = _blobs()
    scores = cross_val_score(MLPClassifier(**SMALL), x, _animal_labels(y), cv=3)
    assert scores.shape == (3,) and scores.min() > 0.8


def test_grid_search_picks_among_the_activations_and_refits() -> None:
    x, y = _blobs()
    search = GridSearchCV(
        MLPClassifier(**SMALL), {"activation": ["relu", "tanh"], "alpha": [0.0, 0.01]}, cv=2
    )
    search.fit(x, y)
    assert search.best_params_["activation"] in ("relu", "tanh")
    assert search.best_estimator_.activation == search.best_params_["activation"]
    assert search.score(x, y) > 0.8


def test_clone_gives_an_unfitted_estimator_with_the_same_parameters() -> None:
    x, y = _blobs()
    fitted = MLPClassifier(**EVERYTHING).fit(x, y)
    twin = clone(fitted)
    assert twin.get_params() == fitted.get_params()
    with pytest.raises(NotFittedError):
        twin.predict(x)


def test_regressor_pipeline_in_cross_validation() -> None:
    ds = datasets.regression1d(n=120, seed=0)
    regressor = make_pipeline(
        StandardScaler(),
        MLPRegressor(
            (16,),
            activation="tanh",
            batch_size=16,
            max_iter=200,
            learning_rate_init=0.01,
            random_state=0,
        ),
    )
    scores = cross_val_score(regressor, ds.x, ds.y.ravel(), cv=3)
    assert scores.min() > 0.5


# ---------------------------------------------------------------------- labels and outputs
def test_string_labels_come_back_as_themselves() -> None:
    x, y = _blobs()
    labels = _animal_labels(y)
    classifier = MLPClassifier(**SMALL).fit(x, labels)
    assert classifier.classes_.tolist() == sorted(set(labels.tolist()))
    probabilities = classifier.predict_proba(x)
    assert probabilities.shape == (len(x), len(classifier.classes_))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    np.testing.assert_array_equal(
        classifier.predict(x), classifier.classes_[probabilities.argmax(axis=1)]
    )
    assert classifier.score(x, labels) > 0.8


def test_regressor_predicts_the_shape_of_its_targets() -> None:
    x = np.random.default_rng(0).normal(size=(40, 3))
    one = MLPRegressor(**SMALL).fit(x, x[:, 0])
    two = MLPRegressor(**SMALL).fit(x, x[:, :2])
    assert one.predict(x).shape == (40,) and one.n_outputs_ == 1
    assert two.predict(x).shape == (40, 2) and two.n_outputs_ == 2


def test_the_network_is_built_from_the_parameters() -> None:
    x, y = _blobs()
    classifier = MLPClassifier(**{**EVERYTHING, "alpha": 0.5}).fit(x, y)
    layers = classifier.model_.layers
    assert [type(layer) for layer in layers] == [Dense, Dropout, Dense, Dense]
    assert [layers[0].activation.name, layers[2].activation.name] == ["leaky_relu", "mish"]
    assert layers[1].rate == 0.1 and layers[3].units == len(classifier.classes_)
    assert all(layer.kernel_regularizer.lam == 0.5 for layer in (layers[0], layers[2], layers[3]))
    assert classifier.model_.parameters()[0].dtype == np.float32
    assert classifier.model_.compiled_step is None  # jit=False
    unpenalised = MLPClassifier(**{**SMALL, "alpha": 0.0}).fit(x, y)
    assert unpenalised.model_.layers[0].kernel_regularizer is None
    assert unpenalised.model_.parameters()[0].dtype == np.float64


def test_compiled_and_eager_training_give_the_same_network() -> None:
    x, y = _blobs()
    compiled = MLPClassifier(**SMALL).fit(x, y)
    eager = MLPClassifier(**{**SMALL, "jit": False}).fit(x, y)
    assert compiled.model_.jit_fallback_reason is None
    np.testing.assert_array_equal(compiled.predict_proba(x), eager.predict_proba(x))


def test_a_random_state_makes_fit_repeatable() -> None:
    x, y = _blobs()
    first = MLPClassifier(**EVERYTHING).fit(x, y).predict_proba(x)
    again = MLPClassifier(**EVERYTHING).fit(x, y).predict_proba(x)
    other = MLPClassifier(**{**EVERYTHING, "random_state": 1}).fit(x, y).predict_proba(x)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


# ---------------------------------------------------------------------- stopping
def test_training_stops_when_the_training_loss_stops_falling() -> None:
    x, y = _blobs()
    classifier = MLPClassifier(
        **{**SMALL, "max_iter": 500, "tol": 0.0, "n_iter_no_change": 3, "learning_rate_init": 0.3}
    ).fit(x, y)
    curve = classifier.loss_curve_
    assert classifier.n_iter_ == len(curve) < 500
    assert classifier.n_iter_ == int(np.argmin(curve)) + 1 + 3  # the best, then 3 without


def test_early_stopping_watches_the_held_out_loss_and_keeps_the_best() -> None:
    x, y = _blobs(n=150)
    classifier = MLPClassifier(
        **{
            **SMALL,
            "max_iter": 500,
            "tol": 0.0,
            "n_iter_no_change": 4,
            "early_stopping": True,
            "validation_fraction": 0.2,
            "learning_rate_init": 0.3,
        }
    ).fit(x, y)
    validation = classifier.history_["val_loss"]
    assert len(validation) == classifier.n_iter_ < 500
    best = int(np.argmin(validation))
    assert classifier.n_iter_ == best + 1 + 4


# ---------------------------------------------------------------------- partial_fit
def _conflicting_labels(rows: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Every point twice, once labelled 0 and once 1: only the weights can decide."""
    x = np.random.default_rng(0).standard_normal((rows, 2))
    return np.concatenate([x, x]), np.repeat([0, 1], rows)


@pytest.mark.parametrize("favoured", [0, 1])
def test_sample_weights_decide_between_conflicting_labels(favoured: int) -> None:
    x, y = _conflicting_labels()
    weights = np.where(y == favoured, 4.0, 1.0)
    clf = MLPClassifier((8,), learning_rate_init=0.01, max_iter=40, random_state=0)
    assert np.all(clf.fit(x, y, sample_weight=weights).predict(x) == favoured)
    assert abs(clf.predict_proba(x)[:, favoured].mean() - 0.8) < 0.05  # 4 : 1
    streamed = MLPClassifier((8,), learning_rate_init=0.01, random_state=0)
    for _ in range(40):
        streamed.partial_fit(x, y, classes=[0, 1], sample_weight=weights)
    assert np.all(streamed.predict(x) == favoured)


def test_regressor_sample_weights_give_the_weighted_mean() -> None:
    x, labels = _conflicting_labels()
    y = labels.astype(float)
    reg = MLPRegressor(
        (8,),
        learning_rate_init=0.01,
        max_iter=60,
        random_state=0,
        early_stopping=True,
        n_iter_no_change=60,
    )
    prediction = reg.fit(x, y, sample_weight=np.where(y == 1, 3.0, 1.0)).predict(x)
    assert abs(prediction.mean() - 0.75) < 0.05  # argmin Σ wᵢ(p − yᵢ)² = Σ wᵢyᵢ / Σ wᵢ


def test_unit_sample_weights_train_the_same_network_as_none() -> None:
    x, y = _blobs()
    plain = MLPClassifier(**SMALL).fit(x, y)
    weighted = MLPClassifier(**SMALL).fit(x, y, sample_weight=np.ones(len(x)))
    for a, b in zip(plain.model_.get_weights(), weighted.model_.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "weights, message",
    [
        (-np.ones(90), "Negative values in data passed to .?sample_weight"),
        (np.ones(89), r"sample_weight.shape == \(89,\), expected \(90,\)"),
    ],
)
def test_bad_sample_weights_are_named(weights: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MLPClassifier(**SMALL).fit(*_blobs(), sample_weight=weights)


def test_partial_fit_needs_every_class_on_the_first_call() -> None:
    x, y = _blobs()
    with pytest.raises(ValueError, match="classes must be given on the first call"):
        MLPClassifier(**SMALL).partial_fit(x, y)


def test_partial_fit_trains_one_epoch_per_call_and_refuses_unknown_labels() -> None:
    x, y = _blobs()
    labels = _animal_labels(y)
    classifier = MLPClassifier(**SMALL)
    for _ in range(5):
        classifier.partial_fit(x, labels, classes=["cat", "dog", "emu", "fox"])
    assert classifier.n_iter_ == 5 and len(classifier.loss_curve_) == 5
    assert classifier.loss_curve_[-1] < classifier.loss_curve_[0]
    assert classifier.classes_.tolist() == ["cat", "dog", "emu", "fox"]
    with pytest.raises(ValueError, match=r"labels \['gnu'\] that are not among the classes"):
        classifier.partial_fit(x[:2], ["gnu", "cat"])
    with pytest.raises(ValueError, match="differs from the classes of the first call"):
        classifier.partial_fit(x, labels, classes=["cat", "dog"])


# ---------------------------------------------------------------------- persistence
def test_save_and_load_keep_the_network_the_classes_and_the_feature_names(tmp_path) -> None:
    pandas = pytest.importorskip("pandas")
    x, y = _blobs()
    frame = pandas.DataFrame(x, columns=["width", "height"])
    classifier = MLPClassifier(**EVERYTHING).fit(frame, _animal_labels(y))
    path = tmp_path / "classifier.npz"
    classifier.save(path)
    loaded = MLPClassifier.load(path)
    assert loaded.get_params() == classifier.get_params()
    np.testing.assert_array_equal(loaded.classes_, classifier.classes_)
    assert loaded.classes_.dtype == classifier.classes_.dtype
    assert loaded.feature_names_in_.tolist() == ["width", "height"]
    assert loaded.model_.parameters()[0].dtype == np.float32
    np.testing.assert_array_equal(loaded.predict_proba(frame), classifier.predict_proba(frame))
    assert loaded.loss_curve_ == classifier.loss_curve_ and loaded.n_iter_ == classifier.n_iter_
    np.load(path, allow_pickle=False)  # a plain chainrule model file


def test_partial_fit_after_save_and_load_continues_exactly(tmp_path) -> None:
    x, y = _blobs()
    settings = {
        "hidden_layer_sizes": (8,),
        "dropout": 0.2,
        "learning_rate_init": 0.01,
        "random_state": 0,
    }
    unbroken = MLPClassifier(**settings)
    for _ in range(4):
        unbroken.partial_fit(x, y, classes=np.unique(y))
    first = MLPClassifier(**settings)
    for _ in range(2):
        first.partial_fit(x, y, classes=np.unique(y))
    first.save(tmp_path / "est.npz")  # the model file keeps Adam's state and the dropout masks'
    loaded = MLPClassifier.load(tmp_path / "est.npz")
    for _ in range(2):
        loaded.partial_fit(x, y)
    for a, b in zip(unbroken.model_.get_weights(), loaded.model_.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_float64_regressor_loads_in_float64(tmp_path) -> None:
    x = np.random.default_rng(1).normal(size=(30, 2))
    regressor = MLPRegressor(**SMALL).fit(x, x.sum(axis=1))
    regressor.save(tmp_path / "regressor.npz")
    loaded = MLPRegressor.load(tmp_path / "regressor.npz")
    assert loaded.model_.parameters()[0].dtype == np.float64
    np.testing.assert_array_equal(loaded.predict(x), regressor.predict(x))


def test_load_refuses_a_file_of_the_other_estimator(tmp_path) -> None:
    x, y = _blobs()
    MLPClassifier(**SMALL).fit(x, y).save(tmp_path / "classifier.npz")
    with pytest.raises(
        ValueError, match="holds MLPClassifier, not a chainrule.sklearn MLPRegressor"
    ):
        MLPRegressor.load(tmp_path / "classifier.npz")


def test_save_names_a_parameter_a_model_file_cannot_hold(tmp_path) -> None:
    x, y = _blobs()
    classifier = MLPClassifier(**{**SMALL, "activation": activations.get("elu")}).fit(x, y)
    with pytest.raises(TypeError, match="its parameter activation=ELU"):
        classifier.save(tmp_path / "classifier.npz")


def test_save_before_fit_is_refused(tmp_path) -> None:
    with pytest.raises(NotFittedError):
        MLPClassifier().save(tmp_path / "classifier.npz")


def test_pickling_goes_through_a_model_file_and_training_continues_exactly() -> None:
    x, y = _blobs()
    classifier = MLPClassifier(**EVERYTHING).fit(x, y)
    data = pickle.dumps(classifier)
    assert b"chainrule.nn" not in data and b"chainrule.optim" not in data
    copy = pickle.loads(data)
    np.testing.assert_array_equal(copy.predict_proba(x), classifier.predict_proba(x))
    # Adam/RMSprop moments and the dropout generators travel too: the same next epoch.
    classifier.partial_fit(x, y)
    copy.partial_fit(x, y)
    np.testing.assert_array_equal(copy.predict_proba(x), classifier.predict_proba(x))


# ---------------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"activation": ["relu", "tanh"]}, ValueError, "activation gives 2 values for 1 hidden"),
        ({"dropout": [0.1, 0.2]}, ValueError, "dropout gives 2 values for 1 hidden"),
        ({"hidden_layer_sizes": (8, 0)}, ValueError, "hidden_layer_sizes must be a positive int"),
        ({"hidden_layer_sizes": "big"}, ValueError, "hidden_layer_sizes must be a positive int"),
        ({"dtype": "int8"}, TypeError, "dtype int8 is not supported"),
        ({"optimizer": object()}, ValueError, "optimizer must be the name of a chainrule"),
        ({"optimizer_params": {"gamma": 1}}, TypeError, "adam has no parameter gamma"),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer"),
        ({"max_iter": 0}, ValueError, "max_iter must be a positive integer"),
        ({"alpha": -1.0}, ValueError, "alpha .* must be ≥ 0"),
        (
            {"early_stopping": True, "validation_fraction": 1.5},
            ValueError,
            "validation_fraction must be in",
        ),
        ({"activation": "nope"}, ValueError, "nope"),
    ],
)
def test_bad_parameters_are_named_by_fit(params: dict, error: type, message: str) -> None:
    x, y = _blobs()
    estimator = MLPClassifier(**{**SMALL, **params})  # stored unchanged: no error yet
    with pytest.raises(error, match=message):
        estimator.fit(x, y)


def test_import_chainrule_does_not_import_scikit_learn() -> None:
    code = "import sys, chainrule; print('sklearn' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_without_scikit_learn_the_import_error_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['sklearn'] = None\n"
        "try:\n    import chainrule.sklearn\n"
        "except ImportError as error:\n    print(error)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert 'pip install "chainrule[sklearn]"' in result.stdout


def test_the_health_parameter_turns_the_monitor_on_and_off():
    from chainrule.sklearn import MLPClassifier

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(80, 3)), (rng.normal(size=80) > 0).astype(int)
    watched = MLPClassifier((6,), max_iter=3, health=True, random_state=0).fit(X, y)
    assert any(key.startswith("health/") for key in watched.history_)
    quiet = MLPClassifier((6,), max_iter=3, health=False, random_state=0).fit(X, y)
    assert not any(key.startswith("health/") for key in quiet.history_)
