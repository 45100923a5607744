"""``chainrule predict --proba`` and ``--classes``: probabilities per class, class names."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


ROWS = [[2.0, 0.5], [-1.5, 0.0], [0.3, -2.0]]


@pytest.fixture
def fruit_model(capsys) -> Path:
    """Three classes named by strings; the class is the sector of (f1, f2)."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((90, 2))
    kinds = np.where(x[:, 0] > 0.5, "pear", np.where(x[:, 1] > 0, "apple", "fig"))
    write_csv(
        Path("fruit.csv"),
        ["f1", "f2", "kind"],
        [[f"{a:.4f}", f"{b:.4f}", k] for (a, b), k in zip(x, kinds)],
    )
    code, _, err = run(
        capsys,
        "train",
        "--data",
        "fruit.csv",
        "--target",
        "kind",
        "--layers",
        "8",
        "--epochs",
        "3",
        "--output",
        "fruit.npz",
    )
    assert code == 0, err
    write_csv(Path("rows.csv"), ["f1", "f2"], ROWS)
    return Path("fruit.npz")


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(text.splitlines()))


def test_proba_writes_one_column_per_class_named_after_it(capsys, fruit_model):
    code, out, err = run(capsys, "predict", str(fruit_model), "rows.csv", "--proba")
    assert code == 0, err
    model = cr.load(fruit_model)
    classes = [str(c) for c in model.metadata["classes"]]
    header, *rows = _read(out)
    assert header == classes and len(classes) == 3
    expected = model.predict_proba(np.array(ROWS))
    np.testing.assert_allclose(np.array(rows, dtype=float), expected, rtol=1e-6)
    np.testing.assert_allclose(np.array(rows, dtype=float).sum(axis=1), 1.0, rtol=1e-6)


def test_classes_writes_the_class_names_and_with_proba_both(capsys, fruit_model):
    model = cr.load(fruit_model)
    classes = [str(c) for c in model.metadata["classes"]]
    predicted = [classes[i] for i in model.predict(np.array(ROWS)).argmax(axis=1)]
    code, out, _ = run(capsys, "predict", str(fruit_model), "rows.csv", "--classes")
    assert code == 0 and _read(out) == [["prediction"], *([name] for name in predicted)]
    code, out, _ = run(
        capsys, "predict", str(fruit_model), "rows.csv", "--classes", "--proba", "-o", "both.csv"
    )
    assert code == 0 and out == "Wrote 3 predictions to both.csv\n"
    header, *rows = _read(Path("both.csv").read_text())
    assert header == ["prediction", *classes]
    assert [row[0] for row in rows] == predicted
    np.testing.assert_allclose(
        np.array([row[1:] for row in rows], dtype=float),
        model.predict_proba(np.array(ROWS)),
        rtol=1e-6,
    )


def test_proba_of_a_single_sigmoid_output_gives_both_classes(capsys):
    from chainrule.models import Sequential
    from chainrule.nn import Dense

    model = Sequential(
        [Dense(3, input_dim=2, activation="tanh"), Dense(1, activation="sigmoid")], seed=0
    )
    model.compile(loss="binary_crossentropy", optimizer="sgd")
    model.metadata = {"task": "classification", "classes": ["no", "yes"]}
    model.save("binary.npz")
    write_csv(Path("rows.csv"), ["a", "b"], ROWS)
    code, out, err = run(capsys, "predict", "binary.npz", "rows.csv", "--proba", "--classes")
    assert code == 0, err
    header, *rows = _read(out)
    assert header == ["prediction", "no", "yes"]
    p = model.predict(np.array(ROWS))[:, 0]
    np.testing.assert_allclose(np.array([row[2] for row in rows], dtype=float), p, rtol=1e-6)
    np.testing.assert_allclose(np.array([row[1] for row in rows], dtype=float), 1 - p, rtol=1e-5)
    assert [row[0] for row in rows] == [("yes" if v > 0.5 else "no") for v in p]


@pytest.mark.parametrize("option", ["--proba", "--classes"])
def test_proba_and_classes_refuse_a_regression_model(capsys, option):
    from chainrule.models import Sequential
    from chainrule.nn import Dense

    model = Sequential([Dense(1, input_dim=2)], seed=0)
    model.compile(loss="mse", optimizer="sgd")
    model.save("regression.npz")
    write_csv(Path("rows.csv"), ["a", "b"], ROWS)
    code, out, err = run(capsys, "predict", "regression.npz", "rows.csv", option)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert lines == [
        f"chainrule: error: {option} needs a classification model; this one does regression"
    ]
