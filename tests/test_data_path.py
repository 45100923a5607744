"""One data path for the API and the command line (issue 13 item 3, issue 16 item 4): labels
as their distinct values kept with the model, one-hot targets, integers float32 cannot hold,
feature names matched by name, pandas wherever arrays go, the same messages everywhere."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule import data_path
from chainrule.errors import DataError
from chainrule.models import Sequential
from chainrule.nn import Activation, Dense
from chainrule.serialization import ModelFileError


def blobs(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two separable blobs: (x, side) with side 1 where x₀ > 0."""
    x = np.random.default_rng(seed).normal(size=(n, 2))
    return x, (x[:, 0] > 0).astype(np.int64)


def classifier(outputs: int = 2, seed: int = 0) -> Sequential:
    model = Sequential([Dense(8, input_dim=2), Activation("tanh"), Dense(outputs)], seed=seed)
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
        optimizer="adam",
        metrics=["accuracy"],
    )
    return model


def binary(seed: int = 0) -> Sequential:
    model = Sequential(
        [Dense(8, input_dim=2), Activation("tanh"), Dense(1), Activation("sigmoid")], seed=seed
    )
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


# ---------------------------------------------------------------------- labels (API)
def test_labels_3_and_7_are_two_classes_kept_and_given_back(tmp_path):
    x, side = blobs()
    labels = np.where(side == 1, 7, 3)
    model = classifier(2)
    model.fit(x, labels, epochs=20, verbose=0)
    assert model.metadata["classes"] == [3, 7]
    assert model.evaluate(x, labels)[1] > 0.9  # the same accuracy as with labels 0/1
    assert (
        model.predict_classes(x).tolist()
        == np.where(model.predict(x).argmax(axis=1) == 1, 7, 3).tolist()
    )
    model.save(tmp_path / "m.npz")
    loaded = cr.load(tmp_path / "m.npz")
    assert loaded.predict_classes(x).tolist() == model.predict_classes(x).tolist()
    assert loaded.predict_classes(x).dtype.kind == "i"


def test_labels_0_and_a_million_are_two_classes():
    x, side = blobs()
    labels = side * 1_000_000
    model = classifier(2)
    model.fit(x, labels, epochs=5, verbose=0)
    assert model.metadata["classes"] == [0, 1_000_000]
    assert set(model.predict_classes(x).tolist()) <= {0, 1_000_000}


def test_string_labels_fit_evaluate_and_predict_classes():
    x, side = blobs()
    names = np.where(side == 1, "dog", "cat").tolist()  # a list of str, as a user has them
    model = binary()
    model.fit(x, names, epochs=20, verbose=0)
    assert model.metadata["classes"] == ["cat", "dog"]
    assert model.evaluate(x, names)[1] > 0.9
    assert (model.predict_classes(x) == np.array(names)).mean() > 0.9
    with pytest.raises(
        DataError,
        match=r"label 'bird' in row 0, which is not one of the "
        r"model's classes \(cat, dog\)",
    ):
        model.evaluate(x[:1], ["bird"])


def test_index_labels_stay_indices_and_a_missing_class_keeps_the_others_in_place():
    x, side = blobs()
    model = classifier(3)  # class 1 never occurs in this training set
    model.fit(x, side * 2, epochs=100, verbose=0)
    assert model.metadata["classes"] == [0, 1, 2]
    assert (model.predict_classes(x) == side * 2).mean() > 0.9  # labels 0 and 2 as indices


def test_too_many_or_unplaceable_labels_are_refused_with_the_fix():
    x, _ = blobs(6)
    with pytest.raises(
        DataError, match="3 distinct labels .* tells 2 classes apart; give the output layer 3 units"
    ):
        classifier(2).fit(x, ["a", "b", "c", "a", "b", "c"], epochs=1, verbose=0)
    with pytest.raises(DataError, match="2 distinct labels .* not the class indices 0..2"):
        classifier(3).fit(x, [5, 9, 5, 9, 5, 9], epochs=1, verbose=0)
    with pytest.raises(DataError, match="the label 0.5 in row 2 is not a class label"):
        classifier(2).fit(x, [0, 1, 0.5, 1, 0, 1], epochs=1, verbose=0)


def test_one_hot_targets_are_labels_for_a_sparse_loss():
    x, side = blobs()
    model = classifier(2)
    model.fit(x, np.eye(2)[side], epochs=20, verbose=0)
    assert model.metadata["classes"] == [0, 1]
    assert model.evaluate(x, side)[1] > 0.9
    assert model.evaluate(x, np.eye(2)[side])[1] == model.evaluate(x, side)[1]


def test_labels_reach_health_gradcheck_and_explain():
    x, side = blobs(40)
    names = np.where(side == 1, "dog", "cat")
    model = classifier(2)
    model.fit(x, names, epochs=2, verbose=0)
    assert model.health(x, names).samples == 40
    assert model.gradcheck(x[:4], names[:4]).ok
    assert model.explain(x[:1], names[:1]).verified


def test_predict_classes_needs_a_classifier():
    model = Sequential([Dense(1, input_dim=2)], seed=0)
    model.compile(loss="mse")
    with pytest.raises(ValueError, match="predict_classes needs a classification model"):
        model.predict_classes(np.ones((2, 2)))


def test_class_weight_is_keyed_by_the_labels_when_they_are_not_indices():
    x, side = blobs()
    labels = np.where(side == 1, 7, 3)
    model = classifier(2)
    model.fit(x, labels, epochs=1, verbose=0, class_weight={7: 3.0, 3: 1.0})
    assert model.metadata["class_weight"] == {"0": 1.0, "1": 3.0}  # by index: 3 → 0, 7 → 1
    with pytest.raises(DataError, match="class_weight has the label 5"):
        model.fit(x, labels, epochs=1, verbose=0, class_weight={5: 2.0})


# ---------------------------------------------------------------------- dtype
def test_integers_float32_cannot_hold_are_refused_with_the_fix():
    x = np.array([[123_456_789, 1], [2, 3]])
    model = Sequential([Dense(1, input_dim=2)], seed=0)
    model.compile(loss="mse")
    message = (
        r"x: the integer 123456789 \(row 0, column 0\) cannot be held exactly in "
        r"float32 \(it would become 123456792; .*\); use float64: "
        r"chainrule.set_default_dtype\('float64'\)"
    )
    with pytest.raises(DataError, match=message):
        model.fit(x, np.ones(2), epochs=1, verbose=0)
    with pytest.raises(DataError, match=message):  # as floats too (a CSV column of ids)
        model.predict(x.astype(np.float64))
    with pytest.raises(DataError, match="y: the integer 123456789"):
        model.fit(np.ones((2, 2)), np.array([123_456_789.0, 1.0]), epochs=1, verbose=0)
    with pytest.raises(DataError, match="y: the integer 123456789"):  # integer targets too
        model.fit(np.ones((2, 2)), np.array([123_456_789, 1]), epochs=1, verbose=0)
    model.predict(np.array([[16_777_216, 1]]))  # 2**24 is exact
    from chainrule.dtypes import default_dtype

    with default_dtype("float64"):
        wide = Sequential([Dense(1, input_dim=2)], seed=0)
    assert wide.predict(x)[0].dtype == np.float64  # the fix works


# ---------------------------------------------------------------------- files and the CLI
def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    from chainrule.cli import main

    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def labelled_csv(path, labels, names=("a", "b")) -> str:
    x, _ = blobs(len(labels))
    lines = [",".join([*names, "label"])]
    lines += [f"{u:.6f},{v:.6f},{label}" for (u, v), label in zip(x, labels)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_files_take_labels_as_their_distinct_values(tmp_path):
    from chainrule import datasets

    x, side = blobs(100)
    sparse = datasets.load_csv(labelled_csv(tmp_path / "s.csv", np.where(side, 7, 3)))
    assert sparse.classes == ["3", "7"] and sparse.num_classes == 2
    huge = tmp_path / "h.npz"
    np.savez(huge, x=x, y=side * 1_000_000)
    data = datasets.load_npz(huge)
    assert data.classes == ["0", "1000000"] and data.y.tolist() == side.tolist()
    named = tmp_path / "n.npz"
    np.savez(named, x=x, y=side * 2, classes=np.array(["cat", "cow", "dog"]))
    assert datasets.load_npz(named).classes == ["cat", "cow", "dog"]  # declared: indices


def test_one_hot_npz_is_classification(tmp_path):
    from chainrule import datasets

    x, side = blobs(100)
    path = tmp_path / "onehot.npz"
    np.savez(path, x=x, y=np.eye(3)[side * 2])
    data = datasets.load_npz(path)
    assert data.task == "classification" and data.classes == ["0", "1", "2"]
    assert data.y.tolist() == (side * 2).tolist()
    assert datasets.load_npz(path, task="regression").y.shape == (100, 3)


def test_one_hot_csv_columns_are_classification_in_the_api_and_the_cli(tmp_path, capsys):
    from chainrule import datasets

    x, side = blobs(120)
    path = tmp_path / "hot.csv"
    rows = [f"{u:.5f},{v:.5f},{1 - s},{s}" for (u, v), s in zip(x, side)]
    path.write_text("u,v,left,right\n" + "\n".join(rows) + "\n")
    data = datasets.load_csv(path, target=["left", "right"])
    assert data.task == "classification" and data.classes == ["left", "right"]
    assert data.y.tolist() == side.tolist() and data.feature_names == ["u", "v"]
    assert datasets.load_csv(path, target="left,right", task="regression").y.shape == (120, 2)
    model_file = str(tmp_path / "m.npz")
    code, out, _ = run_cli(
        capsys,
        "train",
        "--data",
        str(path),
        "--target",
        "left,right",
        "--epochs",
        "20",
        "-o",
        model_file,
    )
    assert code == 0 and "2 classes" in out
    code, out, _ = run_cli(capsys, "predict", model_file, str(path))  # targets ignored
    assert code == 0 and set(out.split()[1:]) <= {"left", "right"}


def test_a_stray_half_in_a_label_column_is_refused_with_the_task_options(tmp_path, capsys):
    from chainrule import datasets
    from chainrule.datasets.files import DataFileError

    labels = [0, 1] * 20
    labels[5] = 0.5
    path = labelled_csv(tmp_path / "half.csv", labels)
    with pytest.raises(
        DataFileError,
        match=r"the targets look like the class labels 0, 1 "
        r"except 0.5 on line 7; say which task it is: "
        r"task='classification' .* or task='regression'",
    ):
        datasets.load_csv(path)
    assert datasets.load_csv(path, task="regression").task == "regression"
    npz = tmp_path / "half.npz"
    np.savez(npz, x=np.ones((40, 2)), y=np.array(labels, dtype=float))
    with pytest.raises(DataFileError, match="except 0.5 in row 5"):
        datasets.load_npz(npz)
    code, _, err = run_cli(
        capsys, "train", "--data", path, "--epochs", "1", "-o", str(tmp_path / "m.npz")
    )
    assert code == 2 and err.count("\n") == 1
    assert (
        "say which task it is: --task classification (then fix that label) or --task "
        "regression" in err
    )
    code, out, _ = run_cli(
        capsys,
        "train",
        "--data",
        path,
        "--epochs",
        "1",
        "--task",
        "regression",
        "-o",
        str(tmp_path / "m.npz"),
    )
    assert code == 0 and "regression" in out


def test_cli_train_with_labels_3_and_7_builds_two_outputs_and_predicts_them(tmp_path, capsys):
    x, side = blobs(120)
    path = labelled_csv(tmp_path / "s.csv", np.where(side, 7, 3))
    model_file = str(tmp_path / "m.npz")
    code, out, _ = run_cli(capsys, "train", "--data", path, "--epochs", "30", "-o", model_file)
    assert code == 0, out
    model = cr.load(model_file)
    assert model.output_shapes()[-1] == (2,) and model.metadata["classes"] == ["3", "7"]
    inputs = tmp_path / "in.csv"
    inputs.write_text("b,a\n" + "\n".join(f"{v},{u}" for u, v in x[:10]) + "\n")
    code, out, _ = run_cli(capsys, "predict", model_file, str(inputs))
    predicted = out.split()[1:]
    assert code == 0 and set(predicted) <= {"3", "7"}
    # the columns were matched by name: the API on the same rows agrees
    api = model.predict_classes(x[:10])
    assert predicted == [str(c) for c in api]
    assert (np.array(predicted) == np.where(side[:10], "7", "3")).mean() >= 0.8


def test_cli_predict_refuses_missing_and_unknown_columns_like_the_api(tmp_path, capsys):
    x, side = blobs(60)
    path = labelled_csv(tmp_path / "s.csv", side, names=("width", "height"))
    model_file = str(tmp_path / "m.npz")
    assert run_cli(capsys, "train", "--data", path, "--epochs", "1", "-o", model_file)[0] == 0
    inputs = tmp_path / "in.csv"
    inputs.write_text("width,heigth\n1,2\n")
    code, _, err = run_cli(capsys, "predict", model_file, str(inputs))
    assert code == 2 and err.count("\n") == 1
    assert (
        "does not have the model's feature columns: missing 'height' (did you mean "
        "'heigth'?); unknown 'heigth' (did you mean 'height'?)"
    ) in err
    named = tmp_path / "in.npz"
    np.savez(named, x=x[:3, ::-1], feature_names=np.array(["height", "width"]))
    code, out, _ = run_cli(capsys, "predict", model_file, str(named))
    expected = cr.load(model_file).predict_classes(x[:3])
    assert code == 0 and out.split()[1:] == [str(c) for c in expected]


def test_identifiers_beyond_float32_in_a_file_need_float64(tmp_path, capsys):
    from chainrule import datasets
    from chainrule.datasets.files import DataFileError

    x, side = blobs(40)
    path = tmp_path / "ids.csv"
    rows = [
        f"{16_777_217 + 2 * i},{u:.4f},{label}" for i, ((u, _), label) in enumerate(zip(x, side))
    ]
    path.write_text("id,u,label\n" + "\n".join(rows) + "\n")
    with pytest.raises(
        DataFileError,
        match=r"x: the integer 16777217 \(row 0, column 0\) "
        r"cannot be held exactly in float32 .*use float64",
    ):
        datasets.load_csv(path)
    assert datasets.load_csv(path, dtype="float64").x[0, 0] == 16_777_217
    code, _, err = run_cli(
        capsys, "train", "--data", str(path), "--epochs", "1", "-o", str(tmp_path / "m.npz")
    )
    assert code == 1 and err.count("\n") == 1 and "use float64: --dtype float64" in err
    code, _, _ = run_cli(
        capsys,
        "train",
        "--data",
        str(path),
        "--epochs",
        "1",
        "--dtype",
        "float64",
        "-o",
        str(tmp_path / "m.npz"),
    )
    model = cr.load(tmp_path / "m.npz")
    assert code == 0 and model.parameters()[0].dtype == np.float64
    assert model.metadata["options"]["dtype"] == "float64"
    code, out, _ = run_cli(capsys, "evaluate", str(tmp_path / "m.npz"))
    assert code == 0 and "accuracy" in out


def test_an_old_model_of_index_labels_is_evaluated_on_the_right_classes(tmp_path, capsys):
    x, side = blobs(120)
    path = labelled_csv(tmp_path / "gaps.csv", side * 2)  # labels 0 and 2 of 3 classes
    model = classifier(3)
    model.fit(x, side * 2, epochs=100, verbose=0)
    model.metadata = {"task": "classification"}  # written before classes were kept
    model.save(tmp_path / "old.npz")
    code, out, _ = run_cli(capsys, "evaluate", str(tmp_path / "old.npz"), "--data", path)
    accuracy = float(out.split("Data accuracy: ")[1].split("%")[0]) / 100
    assert code == 0 and accuracy == pytest.approx(model.evaluate(x, side * 2)[1], abs=0.01)


def test_evaluate_reads_the_data_with_the_task_train_was_given(tmp_path, capsys):
    labels = [0, 1] * 30
    labels[5] = 0.5
    path = labelled_csv(tmp_path / "half.csv", labels)
    model_file = str(tmp_path / "m.npz")
    assert (
        run_cli(
            capsys,
            "train",
            "--data",
            path,
            "--epochs",
            "1",
            "--task",
            "regression",
            "-o",
            model_file,
        )[0]
        == 0
    )
    code, out, _ = run_cli(capsys, "evaluate", model_file)
    assert code == 0 and "MSE" in out
    code, out, _ = run_cli(capsys, "evaluate", model_file, "--data", path)  # the model's task
    assert code == 0 and "Data MSE" in out


# ---------------------------------------------------------------------- pandas and names
pandas = pytest.importorskip("pandas")


def test_dataframe_names_are_kept_and_reordered_columns_matched(tmp_path):
    x, side = blobs()
    frame = pandas.DataFrame(x, columns=["width", "height"])
    model = classifier(2)
    model.fit(frame, side, epochs=20, verbose=0)
    assert model.metadata["feature_names"] == ["width", "height"]
    reordered = frame[["height", "width"]]
    np.testing.assert_array_equal(model.predict(reordered), model.predict(x))
    np.testing.assert_array_equal(model.predict_proba(reordered), model.predict_proba(frame))
    model.save(tmp_path / "m.npz")
    loaded = cr.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.predict(reordered), model.predict(x))
    assert loaded.evaluate(reordered, side) == model.evaluate(x, side)


def test_missing_and_unknown_feature_names_are_one_error_with_did_you_mean():
    x, side = blobs(20)
    model = classifier(2)
    model.fit(pandas.DataFrame(x, columns=["width", "height"]), side, epochs=1, verbose=0)
    wrong = pandas.DataFrame(x, columns=["width", "heigth"])
    with pytest.raises(
        DataError,
        match=r"x \(a DataFrame\) does not have the model's feature "
        r"columns: missing 'height' \(did you mean 'heigth'\?\); "
        r"unknown 'heigth' \(did you mean 'height'\?\)",
    ):
        model.predict(wrong)
    with pytest.raises(DataError, match="missing 'height'"):
        model.predict(pandas.DataFrame(x[:, :1], columns=["width"]))
    assert model.predict(x).shape == (20, 2)  # plain arrays go by position


def test_a_refused_fit_keeps_no_names_or_classes():
    x, _ = blobs(6)
    model = classifier(2)
    with pytest.raises(DataError, match="3 distinct labels"):
        model.fit(pandas.DataFrame(x, columns=["a", "b"]), list("abcabc"), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="6 samples but y has 5"):
        model.fit(x, list("ababa"), epochs=1, verbose=0)
    assert "feature_names" not in model.metadata and "classes" not in model.metadata
    model.fit(pandas.DataFrame(x, columns=["c", "d"]), list("xyxyxy"), epochs=1, verbose=0)
    assert model.metadata["feature_names"] == ["c", "d"] and model.metadata["classes"] == ["x", "y"]


def test_dataframes_reach_health_gradcheck_and_explain():
    x, side = blobs(30)
    frame = pandas.DataFrame(x, columns=["a", "b"])
    model = classifier(2)
    model.fit(frame, side, epochs=2, verbose=0)
    swapped = frame[["b", "a"]]
    assert model.health(swapped).samples == 30
    assert model.gradcheck(swapped.iloc[:3], side[:3]).ok
    explained = model.explain(swapped.iloc[:1], side[:1])
    np.testing.assert_array_equal(explained.x, x[:1])  # matched by name, not position


def test_series_and_categorical_labels():
    x, side = blobs()
    frame = pandas.DataFrame(x, columns=["a", "b"])
    order = pandas.CategoricalDtype(["small", "large"])  # declared order, not sorted
    labels = pandas.Series(np.where(side == 1, "large", "small")).astype(order)
    model = classifier(2)
    model.fit(frame, labels, epochs=20, verbose=0)
    assert model.metadata["classes"] == ["small", "large"]
    assert model.evaluate(frame, labels)[1] > 0.9
    assert model.evaluate(frame, labels.astype(str))[1] == model.evaluate(frame, labels)[1]
    regression = Sequential([Dense(1, input_dim=2)], seed=0)
    regression.compile(loss="mse", optimizer="sgd")
    regression.fit(frame, pandas.Series(x[:, 0] * 2.0), epochs=2, verbose=0)
    assert regression.metadata["feature_names"] == ["a", "b"]


def test_pandas_is_not_imported_by_the_data_path():
    import subprocess
    import sys

    code = (
        "import numpy as np, chainrule as cr, sys; from chainrule.nn import Dense, "
        "Sequential; m = Sequential([Dense(2, input_dim=2)], seed=0); "
        "m.compile(loss=cr.losses.get('sparse_categorical_crossentropy', from_logits=True));"
        " m.fit(np.ones((4, 2)), ['a', 'b', 'a', 'b'], epochs=1, verbose=0); "
        "print('pandas' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# ---------------------------------------------------------------------- the model file
def _rewrite_metadata(path, change) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    import io

    key = "__description__.npy"
    description = json.loads(np.load(io.BytesIO(members[key])).tobytes().decode())
    change(description["metadata"])
    buffer = io.BytesIO()
    np.save(buffer, np.frombuffer(json.dumps(description).encode(), dtype=np.uint8))
    members[key] = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda m: m.update(classes=["a", "b", "c"]),
            "names 3 classes, but the model has 2 outputs",
        ),
        (lambda m: m.update(classes=["a", "a"]), "the classes repeat a class"),
        (lambda m: m.update(classes=["a", 1]), "all be text, or all numbers"),
        (lambda m: m.update(feature_names=["x1"]), "1 feature names for 2 features"),
        (lambda m: m.update(feature_names=["x1", 2]), "a feature name must be a non-empty string"),
    ],
)
def test_the_loader_checks_classes_and_feature_names(tmp_path, change, message):
    x, side = blobs(20)
    model = classifier(2)
    model.fit(pandas.DataFrame(x, columns=["x1", "x2"]), side, epochs=1, verbose=0)
    path = tmp_path / "m.npz"
    model.save(path)
    _rewrite_metadata(path, change)
    with pytest.raises(ModelFileError, match=message):
        cr.load(path)


def test_data_path_helpers_agree_with_the_rules():
    indices, classes = data_path.encode_labels(np.array([10, 9, 10]))
    assert indices.tolist() == [1, 0, 1] and classes == [9, 10]  # numeric order, not text
    assert data_path.is_one_hot(np.eye(3)) and not data_path.is_one_hot(np.eye(3) * 0.5)
    assert data_path.encode_labels([7, 3], known=["3", "7"])[0].tolist() == [1, 0]
    assert data_path.encode_labels([1, 0], known=["cat", "dog"])[0].tolist() == [1, 0]
    with pytest.raises(DataError, match="label 0 in row 0, which is not one of"):
        data_path.encode_labels([0], known=["3", "7"])
    with pytest.raises(DataError, match="class index 2 in row 0"):
        data_path.encode_labels([2], known=["cat", "dog"])


@pytest.mark.parametrize(
    "known", [[0, 1, 2, 3], [0, 1, 3], [1, 2, 3, 4], [True, False], [0.0, 1.0, 2.0, 3.0]]
)
def test_known_classes_0_to_k_are_looked_up_like_any_others(known):
    """Classes 0..k−1 take a vectorised path; it finds what the per-row lookup finds and
    names the same first unknown label (classes of other kinds or order go row by row)."""
    labels = np.array([3, 0, 2, 1, 3, 0], dtype=np.int32)
    position = {c: i for i, c in enumerate(known)}
    expected = [position.get(int(v), -1) for v in labels]
    if -1 in expected:
        row = expected.index(-1)
        with pytest.raises(DataError, match=f"label {labels[row]} in row {row}, which is not"):
            data_path.encode_labels(labels, known=known)
    else:
        indices, classes = data_path.encode_labels(labels, known=known)
        assert indices.dtype == np.int64 and indices.tolist() == expected and classes == known
    with pytest.raises(DataError, match="label -1 in row 1, which is not"):
        data_path.encode_labels(np.array([1, -1]), known=known)


def test_pandas_weights_and_validation_data_are_taken_like_arrays():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 2))
    labels = np.where(x[:, 0] > 0, "yes", "no")
    weights = rng.uniform(0.5, 2.0, 60)
    frame = pd.DataFrame(x, columns=["a", "b"])

    def trained(x_in, y_in, w_in, validation):
        model = Sequential([Dense(4, input_dim=2, activation="tanh"), Dense(2)], seed=0)
        model.compile(
            loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True), optimizer="sgd"
        )
        history = model.fit(
            x_in, y_in, epochs=3, sample_weight=w_in, verbose=0, seed=0, validation_data=validation
        )
        return model, history

    plain, plain_history = trained(x, labels, weights, (x[:20], labels[:20], weights[:20]))
    framed, framed_history = trained(
        frame,
        pd.Series(labels),
        pd.Series(weights),
        (frame.iloc[:20][["b", "a"]], pd.Series(labels[:20]), pd.Series(weights[:20])),
    )
    for a, b in zip(plain.state_dict().values(), framed.state_dict().values()):
        np.testing.assert_array_equal(a, b)
    assert framed_history.history["val_loss"] == plain_history.history["val_loss"]
