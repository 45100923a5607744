"""The playground's sessions without a server: data, network, views, exports, the snippet."""

from __future__ import annotations

import json
import runpy
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.explain import explain
from chainrule.nn import Dense, Dropout
from chainrule.playground.datasets import DATASETS, OWN, regression2d, spirals3
from chainrule.playground.features import FEATURES, FeatureMap, feature_matrix
from chainrule.playground.limits import BOUNDARY_GRID, MAX_CURVE_POINTS, NEURON_GRID
from chainrule.playground.messages import LayerSpec, Setup, parse_setup
from chainrule.playground.network import build_model, make_data, measure
from chainrule.playground.registry import SessionRegistry
from chainrule.playground.session import Session, TrainingFailed, _thinned
from chainrule.playground.snippet import OWN_FILENAME
from chainrule.playground.views import grid_points

SETUPS = {
    "default": Setup(),
    "regression-l2-sgd": Setup(
        dataset="regression",
        optimizer="sgd",
        learning_rate=0.1,
        regularization="l2",
        lam=0.01,
        samples=120,
        layers=(LayerSpec(3, "relu"),),
    ),
    "maxout-l1-rmsprop": Setup(
        dataset="circles",
        noise=0.1,
        optimizer="rmsprop",
        learning_rate=0.01,
        regularization="l1",
        lam=0.001,
        features=("x1_sq", "x2_sq", "sin_x1"),
        samples=100,
        layers=(LayerSpec(2, "maxout"), LayerSpec(3, "gelu")),
    ),
    "linear": Setup(dataset="gaussians", layers=(), samples=60, batch_size=7),
    "spirals3-softmax": Setup(
        dataset="spirals3",
        samples=150,
        noise=0.05,
        layers=(LayerSpec(6, "relu"), LayerSpec(4, "tanh")),
    ),
    "dropout-sgd": Setup(
        dataset="moons",
        optimizer="sgd",
        learning_rate=0.1,
        samples=100,
        layers=(LayerSpec(6, "relu", 0.3), LayerSpec(4, "tanh"), LayerSpec(3, "elu", 0.5)),
    ),
    "prelu-sgd": Setup(
        dataset="circles",
        optimizer="sgd",
        learning_rate=0.1,
        samples=80,
        layers=(LayerSpec(3, "prelu"), LayerSpec(2, "tanh")),
    ),
}


def test_every_feature_matches_its_snippet_expression():
    points = np.random.default_rng(0).uniform(-1.5, 1.5, size=(20, 2)).astype(np.float32)
    for name, feature in FEATURES.items():
        expected = eval(feature.expression, {"np": np, "x": points})  # our own fixed table
        np.testing.assert_array_equal(
            feature_matrix(points, [name])[:, 0], expected.astype(np.float32)
        )


def test_regression2d_is_seeded_and_adds_noise_to_y_only():
    clean, noisy = regression2d(n=50, seed=3), regression2d(n=50, noise=0.2, seed=3)
    np.testing.assert_array_equal(clean.x, noisy.x)
    assert not np.array_equal(clean.y, noisy.y)
    expected = clean.x[:, :1] * clean.x[:, 1:] + 0.5 * np.sin(np.pi * clean.x[:, :1])
    np.testing.assert_allclose(clean.y, expected, atol=1e-6)
    with pytest.raises(ValueError):
        regression2d(n=0)


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_every_dataset_splits_by_the_ratio(dataset):
    data = make_data(Setup(dataset=dataset, samples=100, train_ratio=0.7))
    assert data.x_train.shape == (70, 2) and data.x_test.shape == (30, 2)
    assert data.regression == (dataset == "regression")


@pytest.mark.parametrize("name", list(SETUPS))
def test_the_snippet_reproduces_the_run_exactly(name, tmp_path, monkeypatch):
    session = Session(SETUPS[name])
    session.train(3)
    path = tmp_path / "playground_run.py"
    path.write_text(session.snippet())
    monkeypatch.chdir(tmp_path)
    namespace = runpy.run_path(str(path), run_name="__main__")
    trained = namespace["model"]
    for ours, theirs in zip(session.model.parameters(), trained.parameters(), strict=True):
        np.testing.assert_array_equal(ours.data, theirs.data)
    saved = cr.load(tmp_path / "playground-model.npz")  # it takes raw points, as the export
    points = session.data.points_test
    assert saved.preprocessing.names == session.setup.features
    np.testing.assert_array_equal(
        saved.predict(points),
        session.model.predict(
            feature_matrix(points.astype(np.float32).astype(np.float64), session.setup.features)
        ),
    )


def test_the_exported_model_file_loads_with_the_same_outputs_and_metadata(tmp_path):
    session = Session(SETUPS["maxout-l1-rmsprop"])
    session.train(2)
    path = tmp_path / "model.npz"
    path.write_bytes(session.model_file())
    model = cr.load(path)
    # the file takes raw (x1, x2), as predict casts them: float32, then the features in float64
    points = session.data.points_test.astype(np.float32)
    features = feature_matrix(points.astype(np.float64), session.setup.features)
    np.testing.assert_array_equal(model.predict(points), session.model.predict(features))
    assert model.metadata["epoch"] == 2
    assert parse_setup(model.metadata["playground"]) == session.setup
    accuracy = model.evaluate(
        session.data.points_test, session.data.y_test, batch_size=None, return_dict=True
    )
    assert accuracy["accuracy"] == session.snapshot()["test_metrics"]["accuracy"]
    assert session.model.preprocessing is None  # the session goes on with feature matrices
    session.train(1)


def test_a_prelu_layer_learns_its_slopes_and_the_model_file_keeps_them(tmp_path):
    session = Session(SETUPS["prelu-sgd"])
    slopes = dict(session.model.named_parameters())["activation.alpha"]
    np.testing.assert_array_equal(slopes.numpy(), np.full(3, 0.25, dtype=np.float32))
    session.train(5)
    assert np.abs(slopes.numpy() - 0.25).max() > 0
    path = tmp_path / "model.npz"
    path.write_bytes(session.model_file())
    model = cr.load(path)
    np.testing.assert_array_equal(model.state_dict()["activation.alpha"], slopes.numpy())
    points = session.data.points_test.astype(np.float32)
    np.testing.assert_array_equal(
        model.predict(points),
        session.model.predict(feature_matrix(points.astype(np.float64), session.setup.features)),
    )


def test_training_lowers_the_loss_and_reset_restores_the_start():
    session = Session()
    first = session.snapshot()
    session.train(15)
    assert session.test_loss[-1] < 0.5 * session.test_loss[0]
    session.reset()
    again = session.snapshot()
    assert again["epoch"] == 0 and again["boundary"] == first["boundary"]


def test_train_for_and_a_timed_out_step_run_at_least_one_epoch():
    session = Session(SETUPS["linear"])
    session.train_for(0.0)
    assert session.epoch == 1
    session.train(50, seconds=0.0)  # a step's time cap stops it after one epoch
    assert session.epoch == 2


def test_a_snapshot_has_every_view_at_its_size():
    session = Session(
        Setup(
            layers=(LayerSpec(3, "maxout"), LayerSpec(2, "softmax"), LayerSpec(4, "relu")),
            features=("x1", "x2", "x1_x2"),
        )
    )
    snapshot = session.snapshot()
    json.dumps(snapshot, allow_nan=False)
    assert len(snapshot["boundary"]) == BOUNDARY_GRID**2
    assert [len(maps) for maps in snapshot["neurons"]["layers"]] == [3, 2, 4]
    assert len(snapshot["neurons"]["inputs"]) == 3
    assert all(len(values) == NEURON_GRID**2 for values in snapshot["neurons"]["inputs"])
    shapes = [np.shape(w) for w in snapshot["weights"]]
    assert shapes == [(3, 3), (2, 3), (4, 2), (1, 4)]  # maxout's two pieces averaged
    view = snapshot["activation"]
    assert view["name"] == "maxout" and not view["elementwise"] and "g" not in view
    assert sum(view["histogram"]) + view["outside"] == 6 * len(session.data.x_train)
    session.select(2)
    view = session.snapshot()["activation"]
    assert view["name"] == "relu" and view["dg"][0] == 0.0 and view["dg"][-1] == 1.0


def test_a_boundary_is_a_probability_for_classes_and_a_value_for_regression():
    probabilities = Session(SETUPS["default"]).snapshot()["boundary"]
    assert all(0.0 <= p <= 1.0 for p in probabilities)
    values = Session(SETUPS["regression-l2-sgd"]).snapshot()
    assert "accuracy" not in values["test_metrics"]


def test_dead_units_reach_the_snapshot_with_advice():
    session = Session(Setup(layers=(LayerSpec(4, "relu"),)))
    dense = next(layer for layer in session.model.layers if isinstance(layer, Dense))
    dense.bias.data[:2] = -100.0  # two units that no input can switch on
    health = session.snapshot()["health"]
    assert health["layers"][0]["dead_units"] == [0, 1]
    assert not health["ok"] and "dead" in health["warnings"][0]


def test_a_diverging_run_fails_with_advice_and_stays_drawable():
    session = Session(
        Setup(
            dataset="regression",
            optimizer="sgd",
            learning_rate=10.0,
            layers=(LayerSpec(8, "identity"), LayerSpec(8, "identity")),
            features=("x1", "x2", "x1_sq", "x2_sq", "x1_x2"),
        )
    )
    with pytest.raises(TrainingFailed, match="lower the Learning rate"):
        session.train(20)
    json.dumps(session.snapshot(), allow_nan=False)


def test_long_curves_are_thinned_but_keep_the_last_epoch():
    curve = _thinned([float(i) for i in range(5 * MAX_CURVE_POINTS + 3)])
    assert len(curve) <= MAX_CURVE_POINTS + 1
    assert curve[0] == [0, 0.0] and curve[-1][0] == 5 * MAX_CURVE_POINTS + 2


def test_the_output_unit_matches_the_task():
    assert isinstance(build_model(Setup()).loss, cr.losses.BinaryCrossentropy)
    assert build_model(Setup(dataset="regression")).loss.name == "mse"


def test_the_registry_caps_and_forgets_sessions():
    registry = SessionRegistry(limit=2)
    first, second = registry.open("a"), registry.open("b")
    assert registry.open("c") is None and first != second
    registry.close(first)
    assert registry.get(first) is None and registry.get(second) == "b"
    assert registry.open("c") is not None


def test_training_settings_change_without_a_reset_and_the_snippet_follows(tmp_path, monkeypatch):
    session = Session(SETUPS["default"])
    session.train(3)
    weights = [p.data.copy() for p in session.model.parameters()]
    changed = replace(
        session.setup, learning_rate=0.1, regularization="l2", lam=0.01, batch_size=20
    )
    assert session.configure(changed) is False
    assert session.epoch == 3 and len(session.test_loss) == 4
    for before, now in zip(weights, session.model.parameters(), strict=True):
        np.testing.assert_array_equal(before, now.data)
    assert session.model.optimizer.lr == 0.1
    assert all(
        layer.kernel_regularizer.lam == 0.01
        for layer in session.model.layers
        if isinstance(layer, Dense)
    )
    session.train(3)
    path = tmp_path / "playground_run.py"
    path.write_text(session.snippet())
    monkeypatch.chdir(tmp_path)
    trained = runpy.run_path(str(path), run_name="__main__")["model"]
    for ours, theirs in zip(session.model.parameters(), trained.parameters(), strict=True):
        np.testing.assert_array_equal(ours.data, theirs.data)


@pytest.mark.parametrize(
    "change",
    [
        {"dataset": "moons"},
        {"optimizer": "sgd"},
        {"seed": 4},
        {"layers": (LayerSpec(3, "relu"),)},
        {"noise": 0.1},
        {"features": ("x1",)},
    ],
)
def test_a_structure_change_starts_a_new_network(change):
    session = Session()
    session.train(2)
    assert session.configure(replace(session.setup, **change)) is True
    assert session.epoch == 0 and len(session.test_loss) == 1


def diverging_setup() -> Setup:
    return Setup(
        dataset="regression",
        optimizer="sgd",
        learning_rate=10.0,
        layers=(LayerSpec(8, "identity"), LayerSpec(8, "identity")),
        features=("x1", "x2", "x1_sq", "x2_sq", "x1_x2"),
    )


def test_a_diverged_run_keeps_its_epoch_and_losses_and_refuses_to_go_on():
    session = Session(diverging_setup())
    with pytest.raises(TrainingFailed, match="diverged"):
        session.train(20)
    snapshot = session.snapshot()
    assert snapshot["epoch"] == session.epoch >= 1
    assert "lower the Learning rate" in snapshot["diverged"]
    assert snapshot["train_loss"][-1][1] == round(session.train_loss[-1], 6)
    assert np.isfinite(snapshot["test_metrics"]["loss"])
    with pytest.raises(TrainingFailed, match="diverged"):
        session.train(1)
    # even a training-settings change starts again: the weights are no longer numbers
    assert session.configure(replace(session.setup, learning_rate=0.001)) is True
    assert session.snapshot()["diverged"] is None


@pytest.mark.parametrize("name", ["maxout-l1-rmsprop", "regression-l2-sgd", "spirals3-softmax"])
def test_chainrule_predict_on_raw_points_gives_the_pages_boundary(name, tmp_path, capsys):
    session = Session(SETUPS[name])
    session.train(3)
    model_path = tmp_path / "model.npz"
    model_path.write_bytes(session.model_file())
    grid = grid_points(BOUNDARY_GRID)
    raw = tmp_path / "raw.csv"
    raw.write_text("x1,x2\n" + "".join(f"{a!r},{b!r}\n" for a, b in grid.tolist()))
    regression = session.data.regression
    assert main(["predict", str(model_path), str(raw), *([] if regression else ["--proba"])]) == 0
    rows = capsys.readouterr().out.splitlines()
    classes = session.data.classes
    assert rows[0] == ("prediction" if regression else ",".join(map(str, range(classes))))
    predicted = np.array([[float(cell) for cell in row.split(",")] for row in rows[1:]])
    shown = np.array(session.snapshot()["boundary"])
    if classes > 2:  # one map per class: P(class j) = softmax(z)_j
        np.testing.assert_allclose(predicted, shown.T, atol=2e-4)
    else:
        np.testing.assert_allclose(predicted[:, -1], shown, atol=2e-4)
    assert main(["info", str(model_path)]) == 0
    assert ", ".join(session.setup.features) in capsys.readouterr().out


def _saved_with_feature_map(session: Session, path, names) -> None:
    session.model.preprocessing = FeatureMap(session.setup.features)
    session.model.preprocessing.names = names  # what a tampered file would hold
    try:
        session.model.save(path)
    finally:
        session.model.preprocessing = None


@pytest.mark.parametrize(
    ("names", "problem"),
    [
        (("x1", "__import__('os')"), "unknown feature"),
        (("x1", "x1"), "lists a feature twice"),
        (("x1",), "makes 1 features, but the model takes 2"),
    ],
)
def test_the_loader_checks_the_feature_map(names, problem, tmp_path):
    path = tmp_path / "model.npz"
    _saved_with_feature_map(Session(Setup(samples=60)), path, names)
    with pytest.raises(cr.serialization.ModelFileError, match=problem):
        cr.load(path)


def test_a_feature_map_refuses_rows_that_are_not_raw_points():
    with pytest.raises(ValueError, match="rows of 2 values"):
        FeatureMap(["x1", "x1_sq"]).transform(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="unknown feature 'x3'"):
        FeatureMap(["x3"])


def test_three_spirals_train_a_softmax_output_with_one_unit_per_class():
    session = Session(
        Setup(dataset="spirals3", layers=(LayerSpec(8, "relu"), LayerSpec(8, "relu")))
    )
    model = session.model
    assert model.layers[-1].units == 3 and model.loss.name == "sparse_categorical_crossentropy"
    assert sorted(set(session.data.y_train.tolist())) == [0, 1, 2]
    session.train(60)
    snapshot = session.snapshot()
    assert snapshot["classes"] == 3 and snapshot["test_metrics"]["accuracy"] > 0.9
    maps = np.array(snapshot["boundary"])
    assert maps.shape == (3, BOUNDARY_GRID**2)
    np.testing.assert_allclose(maps.sum(axis=0), 1.0, atol=3e-4)
    assert set(maps.argmax(axis=0).tolist()) == {0, 1, 2}  # three regions on the grid
    assert len(snapshot["weights"][-1]) == 3  # one row of W per output unit
    assert session.points()["classes"] == 3


def test_spirals3_is_seeded_and_noise_moves_the_points_only():
    data, noisy = spirals3(n=90, seed=1), spirals3(n=90, noise=0.2, seed=1)
    np.testing.assert_array_equal(data.y, noisy.y)
    assert np.bincount(data.y).tolist() == [30, 30, 30]
    assert 0 < np.abs(data.x - noisy.x).max()
    np.testing.assert_array_equal(data.x, spirals3(n=90, seed=1).x)
    with pytest.raises(ValueError, match="n must be an integer"):
        spirals3(n=2)


def test_dropout_masks_units_in_training_and_is_off_at_evaluation(tmp_path):
    session = Session(SETUPS["dropout-sgd"])
    model = session.model
    dropouts = [layer for layer in model.layers if isinstance(layer, Dropout)]
    assert [layer.rate for layer in dropouts] == [0.3, 0.5]
    assert [type(layer).__name__ for layer in model.layers[:4]] == [
        "Dense",
        "Activation",
        "Dropout",
        "Dense",
    ]
    session.train(2)
    assert dropouts[0].last_mask is not None and not dropouts[0].last_mask.all()
    x = session.data.x_train
    model.train()
    assert not np.array_equal(model(x).data, model(x).data)  # training: new masks each time
    evaluated = model.predict(x)
    np.testing.assert_array_equal(evaluated, model.predict(x))  # evaluation: no masks
    values = x  # the same network with its Dropout layers left out
    for layer in model.layers:
        if not isinstance(layer, Dropout):
            values = layer(values).data
    np.testing.assert_allclose(evaluated, values, rtol=1e-6, atol=1e-6)
    assert session.snapshot()["test_metrics"] == measure(
        model, session.data.x_test, session.data.y_test
    )
    path = tmp_path / "model.npz"
    path.write_bytes(session.model_file())
    loaded = cr.load(path)
    assert [layer.rate for layer in loaded.layers if isinstance(layer, Dropout)] == [0.3, 0.5]
    np.testing.assert_array_equal(
        loaded.predict(session.data.points_test.astype(np.float32)),
        model.predict(
            feature_matrix(
                session.data.points_test.astype(np.float32).astype(np.float64),
                session.setup.features,
            )
        ),
    )


@pytest.mark.parametrize("name", ["maxout-l1-rmsprop", "dropout-sgd", "spirals3-softmax"])
def test_the_probe_has_every_number_of_the_forward_pass_at_its_point(name):
    session = Session(SETUPS[name])
    session.train(2)
    probe = session.snapshot()["probe"]
    np.testing.assert_allclose(probe["point"], session.data.points_train[0])  # the default
    session.set_probe((0.25, -1.0))
    probe = session.snapshot()["probe"]
    assert probe["point"] == [0.25, -1.0]
    a = feature_matrix(np.array([[0.25, -1.0]]), session.setup.features)[0].astype(np.float64)
    np.testing.assert_allclose(probe["features"], a, atol=1e-4)
    dense = [layer for layer in session.model.layers if isinstance(layer, Dense)]
    assert len(probe["layers"]) == len(dense)
    for index, (layer, shown) in enumerate(zip(dense, probe["layers"], strict=True)):
        w, b = layer.weight.numpy().astype(np.float64), layer.bias.numpy().astype(np.float64)
        np.testing.assert_allclose(shown["w"], w, atol=1e-4)
        np.testing.assert_allclose(shown["a_in"], a, atol=1e-4)
        z = w @ a + b  # z = Σ w a + b, computed here without the engine
        np.testing.assert_allclose(shown["z"], z, atol=2e-4)
        if index == len(dense) - 1:
            assert shown["a"] is None
            break
        spec = session.setup.layers[index]
        if spec.activation == "maxout":
            assert shown["pieces"] == 2
            a = z.reshape(-1, 2).max(axis=1)
        else:
            a = cr.activations.get(spec.activation).forward(z)
        np.testing.assert_allclose(shown["a"], a, atol=2e-4)  # dropout off: no mask, no 1/(1-p)
        a = np.asarray(shown["a"], dtype=np.float64)


def own_csv(rows: int = 120, seed: int = 0, names: bool = True) -> bytes:
    """A CSV of x1, x2 and a class: 'bottom', 'right', 'top' (or 0, 1, 2)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(rows, 2))
    y = np.where(x[:, 0] > 0.3, 1, np.where(x[:, 1] > 0, 2, 0))
    labels = np.array(["bottom", "right", "top"])[y] if names else y
    return (
        "x1,x2,side\n"
        + "".join(f"{a:.5f},{b:.5f},{c}\n" for (a, b), c in zip(x.tolist(), labels.tolist()))
    ).encode()


def test_an_uploaded_csv_trains_and_the_snippet_reproduces_it(tmp_path, monkeypatch):
    session = Session(Setup(layers=(LayerSpec(6, "relu"),)))
    assert session.upload(own_csv(), 1000) == {"rows": 120, "classes": ["bottom", "right", "top"]}
    assert session.configure(replace(session.setup, dataset=OWN))
    assert session.data.classes == 3 and len(session.data.x_train) == 60
    session.train(30)
    assert session.snapshot()["test_metrics"]["accuracy"] > 0.8
    path = tmp_path / "model.npz"
    path.write_bytes(session.model_file())
    assert cr.load(path).metadata["classes"] == ["bottom", "right", "top"]
    (tmp_path / OWN_FILENAME).write_bytes(own_csv())
    (tmp_path / "playground_run.py").write_text(session.snippet())
    monkeypatch.chdir(tmp_path)
    trained = runpy.run_path(str(tmp_path / "playground_run.py"), run_name="__main__")["model"]
    for ours, theirs in zip(session.model.parameters(), trained.parameters(), strict=True):
        np.testing.assert_array_equal(ours.data, theirs.data)
    # the same setup again keeps the network; a new upload starts one on the new data
    assert not session.configure(session.setup)
    session.upload(own_csv(rows=50, seed=1, names=False), 1000)
    assert session.configure(session.setup) and len(session.data.x_train) == 25


def test_class_labels_are_their_distinct_values_as_everywhere_else():
    # labels 0 and 2 are two classes (chainrule.data_path's rule), not three with one empty
    session = Session(Setup(samples=60))
    session.upload(b"x1,x2,c\n" + b"0.1,0.2,0\n0.3,0.4,2\n" * 10, 1000)
    assert session.own_data.classes == ["0", "2"] and set(session.own_data.y) == {0, 1}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            b"x1,x2,c\n" + b"0.1,0.2,0\n" * 5 + b"0.1,0.2,1\n" * 5 + b"0.3,zz,1\n",
            r"your CSV, line 12: column 'x2' has the non-numeric value 'zz'",
        ),
        (b"x1,x2\n" + b"0.1,0.2\n" * 20 + b"0.3,\n", "line 22: column 'x2' is empty"),
        (b"a,b,c,d\n" + b"1,2,3,0\n1,2,3,1\n" * 10, "3 feature columns \\(a, b, c\\)"),
        (b"x1,x2,c\n" + b"0.1,0.2,0\n0.3,0.4,1\n" * 3, "6 rows; the playground takes 10 to 1,000"),
        (b"x1,x2,c\n" + b"0.1,0.2,0\n" * 20, "1 class\\(es\\); the playground takes 2 to 8"),
        (b"x1,x2,c\n" + b"0.1,0.2,0\n" * 20 + b"0.1,0.2,1\n", "class 1 has 1 row"),
        (b"x1,x2,c\n" + b"0.1,0.2,0.5\n" * 20, "not an integer"),
        (b"x1,x2,c\n" + b"0.1,inf,0\n0.1,0.2,1\n" * 10, "line 2"),
        (b"\xff\xfe\x00", "UTF-8"),
        (b"x1,x2,c\n" + b"0.1,0.2,0\n0.1,0.2,1\n" * 30_000, "bytes; the limit is"),
    ],
)
def test_a_bad_csv_is_refused_with_the_readers_sentence(content, problem):
    session = Session(Setup(samples=60))
    with pytest.raises(ValueError, match=problem) as refused:
        session.upload(content, 1000)
    assert "/tmp" not in str(refused.value) and "\n" not in str(refused.value)
    assert session.own_data is None
    with pytest.raises(ValueError, match="no CSV uploaded"):
        session.configure(replace(session.setup, dataset=OWN))
    assert session.setup.dataset == "xor"  # the refused setup changed nothing
    session.train(1)


def test_a_csv_without_a_class_column_is_points_shown_with_the_networks_prediction():
    session = Session(SETUPS["spirals3-softmax"])
    session.train(3)
    points = np.array([[0.5, -0.25], [-1.0, 1.25], [0.0, 0.0]])
    content = ("x1,x2\n" + "".join(f"{a!r},{b!r}\n" for a, b in points.tolist())).encode()
    assert session.upload(content, 1000) == {"rows": 3, "classes": None}
    assert session.setup.dataset == "spirals3" and session.epoch == 3  # nothing restarted
    shown = np.array(session.snapshot()["own_points"])
    np.testing.assert_allclose(shown[:, :2], points)
    expected = session.model.predict(feature_matrix(points, session.setup.features)).argmax(1)
    np.testing.assert_array_equal(shown[:, 2], expected)
    binary = Session(Setup(samples=60))
    binary.upload(content, 1000)
    logits = binary.model.predict(feature_matrix(points, binary.setup.features))[:, 0]
    np.testing.assert_array_equal(np.array(binary.snapshot()["own_points"])[:, 2], logits > 0)
    with pytest.raises(ValueError, match="4 rows; the playground takes 1 to 3"):
        binary.upload(content + b"0.1,0.1\n", 3)


# ---------------------------------------------------------------------- bias and variance
def test_one_unit_on_spirals_is_high_bias_with_the_pages_advice():
    session = Session(Setup(dataset="spirals", samples=1000, layers=(LayerSpec(1, "tanh"),)))
    session.train(40, seconds=60)
    shown = session.snapshot()["bias_variance"]
    accuracy = measure(session.model, session.data.x_train, session.data.y_train)["accuracy"]
    assert shown["training_error"] == pytest.approx(1 - accuracy)
    assert shown["baseline"] == 0.0
    assert shown["avoidable_bias"] > 0.3 and shown["variance"] < 0.02
    assert shown["verdict"] == "high_bias"
    assert "more neurons (+) or another hidden layer" in shown["advice"]
    assert "Regularization rate" not in shown["advice"]  # no penalty here to lower


def test_a_big_network_on_ten_points_is_high_variance_with_the_pages_advice():
    session = Session(
        Setup(
            dataset="circles",
            samples=50,
            noise=0.5,
            train_ratio=0.2,
            learning_rate=0.01,
            layers=(LayerSpec(8, "relu"), LayerSpec(8, "relu")),
        )
    )
    session.train(150, seconds=60)
    shown = session.snapshot()["bias_variance"]
    assert len(session.data.x_train) == 10
    assert shown["training_error"] == 0.0 and shown["variance"] > 0.2
    assert shown["verdict"] == "high_variance"
    for control in ("more Samples", "L2 Regularization", "drop 0.2"):
        assert control in shown["advice"]
    assert "more neurons" not in shown["advice"]


def test_a_regression_verdict_divides_the_mse_by_the_targets_variance():
    session = Session(Setup(dataset="regression", samples=100, regularization="l2", lam=0.1))
    session.train(3)
    shown = session.snapshot()["bias_variance"]
    data = session.data
    errors = [
        np.mean((session.model.predict(x).astype(np.float64) - y) ** 2) / np.var(data.y_train)
        for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test))
    ]
    assert [shown["training_error"], shown["test_error"]] == pytest.approx(errors)
    assert "MSE ÷ variance" in shown["figures"]
    assert shown["verdict"] == "high_bias" and "a lower Regularization rate λ" in shown["advice"]


# ---------------------------------------------------------------------- the explain panel
def _nearest(data, point):
    return int(np.argmin(np.sum((data.points_train - np.array(point)) ** 2, axis=1)))


@pytest.mark.parametrize(
    "name", ["default", "spirals3-softmax", "regression-l2-sgd", "dropout-sgd", "linear"]
)
def test_the_explanation_at_a_point_is_explains_numbers_under_the_pages_names(name):
    session = Session(SETUPS[name])
    session.train(2)
    point = (0.25, -1.0)
    shown = session.explain(point)
    json.dumps(shown, allow_nan=False)  # what the server sends
    data = session.data
    index = _nearest(data, point)
    expected = explain(
        session.model,
        feature_matrix(np.array([point]), session.setup.features),
        data.y_train[index : index + 1],
    )
    assert shown["epoch"] == 2 and shown["label_from"] == "nearest"
    assert shown["nearest"] == data.points_train[index].tolist()
    assert np.asarray(shown["label"]).ravel()[0] == np.asarray(data.y_train[index]).ravel()[0]
    hidden = len(session.setup.layers)
    assert [layer["name"] for layer in shown["layers"]] == [
        *(f"Layer {i + 1}" for i in range(hidden)),
        "Output layer",
    ]
    assert shown["verified"] is True and expected.verified
    assert shown["loss"] == expected.loss and shown["output"] == expected.prediction[0].tolist()
    for mine, theirs in zip(shown["layers"], expected.layers, strict=True):
        for key, value in (
            ("z", theirs.z[0]),
            ("a", theirs.a[0]),
            ("delta", theirs.delta[0]),
            ("weight_grad", theirs.weight_grad),
            ("slope", theirs.slope[0]),
            ("weight_update", theirs.weight_update),
        ):
            assert mine[key] == value.tolist(), key
        assert mine["bias_grad"] == theirs.bias_grad.tolist()
        assert mine["bias_update"] == theirs.bias_update.tolist()
        assert mine["saturated"] == [unit.unit for unit in theirs.saturated]
        assert mine["delta_rule"] == theirs.delta_rule
    assert shown["dropout"] == (name == "dropout-sgd")


def test_relu_units_off_at_the_point_are_marked_and_their_update_vanishes():
    session = Session(
        Setup(dataset="circles", optimizer="sgd", learning_rate=0.1, layers=(LayerSpec(6, "relu"),))
    )
    session.train(1)
    shown = session.explain((0.5, 0.5))
    layer = shown["layers"][0]
    off = [u + 1 for u, z in enumerate(layer["z"]) if z < 0]
    assert off and layer["saturated"] == off
    for unit in off:
        assert layer["delta"][unit - 1] == 0.0
        assert not any(layer["weight_update"][unit - 1]) and layer["bias_update"][unit - 1] == 0
    assert shown["layers"][1]["saturated"] == []  # the output logit is never "saturated"


def test_a_picked_class_is_the_label_and_a_foreign_one_is_refused():
    session = Session(Setup(dataset="spirals3", samples=150))
    point = tuple(session.data.points_train[0])
    nearest = session.explain(point)
    assert nearest["label"] == int(session.data.y_train[0])
    other = (nearest["label"] + 1) % 3
    picked = session.explain(point, other)
    assert picked["label"] == other and picked["label_from"] == "chosen"
    expected = explain(session.model, session.data.x_train[:1], np.array([other]))
    assert picked["layers"][-1]["delta"] == expected.layers[-1].delta[0].tolist()
    with pytest.raises(ValueError, match="class 3 is not in this data: it has the classes 0 to 2"):
        session.explain(point, 3)
    with pytest.raises(ValueError, match="a regression has no classes"):
        Session(SETUPS["regression-l2-sgd"]).explain((0.0, 0.0), 0)


def test_maxout_is_named_by_the_pages_layer_when_explain_cannot_cover_it():
    shown = Session(SETUPS["maxout-l1-rmsprop"]).explain((0.0, 0.0))
    assert shown["unsupported"] == "the maxout activation of Layer 1 is not supported"
    assert "layers" not in shown


def test_the_recipes_words_name_the_pages_controls():
    from chainrule.playground.views import RECIPE

    static = Path(cr.__file__).parent / "playground" / "static"
    page, script = (static / "index.html").read_text(), (static / "app.js").read_text()
    assert all(RECIPE.remedies.values())  # the page offers every remedy, dropout included
    for control, where in (
        ("Samples", "Samples: <b"),
        ("Ratio of training to test data", "Ratio of training to test data:"),
        ("Regularization rate λ", "Regularization rate <span"),
        ("drop 0.2", "`drop ${v}`"),
        ("(+)", 'title = "Add a unit"'),
    ):
        assert any(control in text for text in RECIPE.remedies.values()), control
        assert where in page or where in script, where


def test_a_diverged_run_has_no_bias_variance_verdict_but_still_explains():
    session = Session(diverging_setup())
    assert session.snapshot()["bias_variance"] is not None
    with pytest.raises(TrainingFailed, match="diverged"):
        session.train(20)
    assert session.snapshot()["bias_variance"] is None  # not "a bigger network" for a blow-up
    json.dumps(session.explain((0.1, 0.2)), allow_nan=False)


def test_change_training_keeps_the_optimiser_and_refuses_an_uncompiled_model():
    from chainrule.models import Sequential
    from chainrule.playground.network import change_training

    setup = Setup()
    model = build_model(setup)
    optimizer = model.optimizer
    change_training(model, replace(setup, learning_rate=0.5))
    assert model.optimizer is optimizer and optimizer.lr == 0.5
    with pytest.raises(RuntimeError, match="change_training needs a compiled model"):
        change_training(Sequential([Dense(1, input_dim=2)]), setup)


def test_the_weights_view_names_a_layer_that_is_not_built():
    from chainrule.models import Sequential
    from chainrule.playground import views

    setup = Setup()
    model = build_model(setup)
    shown = views.weights(model, setup)
    assert len(shown) == len(model.layers) - sum(
        1 for layer in model.layers if not isinstance(layer, Dense)
    )
    unbuilt = Sequential([Dense(3, name="hidden")])
    with pytest.raises(RuntimeError, match="the layer 'hidden' is not built"):
        views.weights(unbuilt, setup)
