"""Commands that re-read the recorded training data check its SHA-256 (issue 13)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.cli.common import file_sha256
from test_cli import animals_csv, assert_one_line_error


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _trained(capsys) -> Path:
    animals_csv(Path("animals.csv"))
    code, _, err = _run(
        capsys,
        "train",
        "--data",
        "animals.csv",
        "--target",
        "kind",
        "--layers",
        "4",
        "--epochs",
        "1",
        "--output",
        "animals.npz",
    )
    assert code == 0, err
    return Path("animals.npz")


def test_the_model_file_records_the_data_files_sha256(capsys):
    model = _trained(capsys)
    recorded = cr.load(model).metadata["data_sha256"]
    assert recorded == hashlib.sha256(Path("animals.csv").read_bytes()).hexdigest()
    assert recorded == file_sha256("animals.csv")
    code, out, err = _run(capsys, "evaluate", str(model))
    assert code == 0 and "the test rows of the training split" in out, err


@pytest.mark.parametrize("command", ["evaluate", "gradcheck"])
def test_a_changed_data_file_is_named_with_exit_2(capsys, command):
    model = _trained(capsys)
    animals_csv(Path("animals.csv"), rows=81)  # one row more: another split
    code, _, err = _run(capsys, command, str(model))
    assert code == 2
    assert_one_line_error(
        err,
        "animals.csv, which has changed since",
        "SHA-256 differs from the one recorded at training",
        "--data PATH",
    )
    code, _, err = _run(capsys, command, str(model), "--data", "animals.csv")
    assert "changed since" not in err  # the file as it is now, when asked for


def test_built_in_datasets_have_no_checksum(capsys):
    code, _, err = _run(
        capsys, "train", "--data", "xor", "--layers", "4", "--epochs", "1", "--output", "xor.npz"
    )
    assert code == 0, err
    assert cr.load("xor.npz").metadata["data_sha256"] is None
    code, _, err = _run(capsys, "evaluate", "xor.npz")
    assert code == 0, err


def test_resume_on_a_changed_data_file_is_refused(capsys):
    model = _trained(capsys)
    checkpoint = Path("animals.ckpt.npz")
    checkpoint.write_bytes(model.read_bytes())  # a run's checkpoint records the same metadata
    train = [
        "train",
        "--data",
        "animals.csv",
        "--target",
        "kind",
        "--layers",
        "4",
        "--epochs",
        "1",
        "--output",
        "animals.npz",
        "--resume",
    ]
    _, _, err = _run(capsys, *train)
    assert "changed since" not in err  # the same data: the checksum lets it through
    animals_csv(Path("animals.csv"), rows=81)
    code, _, err = _run(capsys, *train)
    assert code == 2
    assert_one_line_error(
        err,
        "animals.ckpt.npz was written training on",
        "animals.csv, which has changed since",
        "delete the checkpoint",
    )
