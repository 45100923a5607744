"""The ``chainrule`` command line: every subcommand, its errors, exit codes and files."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import activations
from chainrule.cli import common as cli_common
from chainrule.cli import datasets as cli_datasets
from chainrule.cli import main
from chainrule.cli import train as cli_train

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--data", "xor", "--layers", "8", "--epochs", "2"]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """main(argv) → (exit code, stdout, stderr)."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(err: str, *fragments: str) -> None:
    """The error is one 'chainrule: error:' line, without a traceback, naming the fragments."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("chainrule: error:")]
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def animals_csv(path: Path, rows: int = 80) -> Path:
    """Two features; the class ('cat' or 'dog') is the sign of the first."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((rows, 2))
    kinds = np.where(x[:, 0] > 0, "dog", "cat")
    return write_csv(
        path, ["f1", "f2", "kind"], [[f"{a:.4f}", f"{b:.4f}", k] for (a, b), k in zip(x, kinds)]
    )


def weights(path: str | Path) -> dict[str, np.ndarray]:
    return cr.load(path).state_dict()


def assert_same_weights(a: str | Path, b: str | Path) -> None:
    first, second = weights(a), weights(b)
    assert first.keys() == second.keys()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)


@pytest.fixture
def xor_model(capsys) -> Path:
    code, _, err = run(capsys, "train", *SMALL, "--output", "xor.npz")
    assert code == 0, err
    return Path("xor.npz")


@pytest.fixture
def animals_model(capsys) -> Path:
    animals_csv(Path("animals.csv"))
    code, _, err = run(
        capsys,
        "train",
        "--data",
        "animals.csv",
        "--target",
        "kind",
        "--layers",
        "8",
        "--epochs",
        "2",
        "--output",
        "animals.npz",
    )
    assert code == 0, err
    return Path("animals.npz")


# ---------------------------------------------------------------------- help and usage
@pytest.mark.parametrize(
    "command, expected",
    [
        ([], "COMMAND"),
        (["train"], "--resume"),
        (["evaluate"], "MODEL"),
        (["predict"], "INPUT"),
        (["info"], "MODEL"),
        (["datasets"], "built-in datasets"),
        (["activations"], "NAME"),
    ],
)
def test_every_command_has_help(capsys, command, expected):
    code, out, err = run(capsys, *command, "--help")
    assert code == 0 and err == ""
    assert out.startswith(f"usage: chainrule {' '.join(command)}".rstrip())
    assert expected in out


def test_train_help_shows_the_defaults(capsys):
    _, out, _ = run(capsys, "train", "--help")
    for default in (
        "(default: digits)",
        "(default: 64,64)",
        "(default: relu)",
        "(default: adam)",
        "(default: 0.001)",
        "(default: chainrule-model.npz)",
    ):
        assert default in out


@pytest.mark.parametrize(
    "argv, fragment",
    [
        ([], "the following arguments are required: COMMAND"),
        (["trian"], "invalid choice: 'trian'"),
        (["trian"], "did you mean train?"),
        (["plot", "hist"], "did you mean history?"),
        (["train", "--epochs", "0"], "expected a positive whole number"),
        (["train", "--lr", "-1"], "expected a positive finite number"),
        (["train", "--layers", "64,x"], "'x' in '64,x' is not a positive whole number"),
        (["train", "--test-size", "1.5"], "expected a number between 0 and 1"),
        (["train", "--activation", "rellu"], "did you mean 'relu'"),
        (["train", "--optimizer", "adamm"], "did you mean 'adam'"),
        (["activations", "sigmiod"], "did you mean 'sigmoid'"),
        (["train", "--data", "digitz"], "did you mean 'digits'"),
        (["train", "--target", "label"], "--target names a column of a data file"),
        (["evaluate"], "the following arguments are required: MODEL"),
        (["predict", "model.npz"], "the following arguments are required: INPUT"),
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert_one_line_error(err, fragment)
    assert not list(Path().iterdir())  # nothing written


def test_bare_chainrule_lists_the_commands(capsys):
    code, out, err = run(capsys)
    assert code == 2 and out == ""
    assert err.startswith("usage: chainrule")
    for command in ("train", "evaluate", "predict", "info", "activations", "plot"):
        assert re.search(rf"^\s+{command}\s", err, re.MULTILINE), command
    assert_one_line_error(err, "COMMAND")


@pytest.mark.parametrize("name", ["lbfgs", "cg"])
def test_full_batch_optimizers_are_refused_and_not_listed(capsys, name):
    code, _, err = run(capsys, "train", "--optimizer", name)
    assert code == 2
    assert_one_line_error(err, "--optimizer", "without a learning rate", "adam")
    assert "has no parameter" not in err
    assert name not in cli_common.train_optimizers() and "adam" in cli_common.train_optimizers()
    help_text = run(capsys, "train", "--help")[1]
    assert name not in help_text.split("--optimizer OPTIMIZER")[1].split("--lr")[0]


# Everything the core does not depend on (the extras and the test oracles), refused on import.
_OPTIONAL = (
    "scipy", "sklearn", "torch", "numba", "matplotlib", "onnx", "onnxruntime", "dask",
    "distributed", "ray", "optuna", "pandas", "graphviz", "hypothesis", "playwright",
)  # fmt: skip
_NUMPY_ALONE = f"""
import sys
from importlib.abc import MetaPathFinder

class Refuse(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {_OPTIONAL!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (refused by the test)")
        return None

sys.meta_path.insert(0, Refuse())
from chainrule.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_the_main_job_needs_numpy_alone(tmp_path):
    """The README's first command on a machine with NumPy and nothing else: building the
    parser lists the optimisers without building them (L-BFGS would need SciPy), and the
    default job trains and reports; asking for L-BFGS is a usage error, not a traceback."""
    command = [sys.executable, "-c", _NUMPY_ALONE, "train", "--epochs", "2"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Data: digits" in done.stdout and "Traceback" not in done.stderr
    refused = subprocess.run(
        [*command, "--optimizer", "lbfgs"], capture_output=True, text=True, timeout=300
    )
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert "without a learning rate" in refused.stderr and "Traceback" not in refused.stderr


def test_unknown_names_list_every_valid_name(capsys):
    _, _, err = run(capsys, "train", "--activation", "swishy")
    assert "valid names: " + ", ".join(activations.names()) in err
    _, _, err = run(capsys, "train", "--optimizer", "adamm")
    assert "valid names: sgd, momentum, nesterov, rmsprop, adam, adamw, adagrad" in err


# ---------------------------------------------------------------------- train
def test_train_reports_and_writes_the_model(capsys):
    code, out, err = run(capsys, "train", *SMALL)
    assert code == 0, err
    assert "Data: xor — 400 samples, 2 features, 2 classes" in out
    assert "Split: 320 training rows (32 of them for validation), 80 test rows" in out
    assert re.search(r"Test accuracy: \d+\.\d\d% \(\d+/80\)", out)
    assert "Confusion matrix (rows: true class, columns: predicted class)" in out
    assert "Network health on 320 samples" in out
    assert "Wrote the model to chainrule-model.npz" in out
    assert "Epoch 1/2" in err and "Epoch 2/2" in err  # fit's progress, on stderr
    model = cr.load("chainrule-model.npz")
    assert model.metadata["dataset"] == "xor" and model.metadata["classes"] == ["0", "1"]
    assert model.metadata["split"] == {"test_size": 0.2, "seed": 0, "stratify": True}
    assert model.metadata["options"]["layers"] == [8]
    assert model.preprocessing is not None
    assert not Path("chainrule-model.ckpt.npz").exists()  # removed after success


def test_confusion_matrix_rows_are_true_classes(capsys, xor_model):
    model = cr.load(xor_model)
    data = cr.datasets.load("xor")
    _, x_test, _, y_test = cr.datasets.train_test_split(data.x, data.y, test_size=0.2, seed=0)
    predicted = model.predict(x_test).argmax(axis=1)
    matrix = cr.metrics.confusion_matrix(y_test, predicted, num_classes=2)
    _, out, _ = run(capsys, "evaluate", str(xor_model))
    table = out[out.index("true \\ predicted") :].splitlines()
    assert table[1].split() == ["0", *map(str, matrix[0])]
    assert table[2].split() == ["1", *map(str, matrix[1])]


def test_train_regression_reports_mse(capsys):
    code, out, err = run(
        capsys,
        "train",
        "--data",
        "regression1d",
        "--layers",
        "8",
        "--epochs",
        "2",
        "--output",
        "reg.npz",
    )
    assert code == 0, err
    assert re.search(r"Test MSE: [0-9.e-]+ \(MAE", out)
    assert "accuracy" not in out.lower() and "Confusion" not in out
    code, out, _ = run(capsys, "evaluate", "reg.npz")
    assert code == 0 and "Test MSE" in out
    np.savez("points.npz", x=np.array([[0.5], [-0.5]]))
    code, out, _ = run(capsys, "predict", "reg.npz", "points.npz")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "prediction" and len(lines) == 3
    assert all(np.isfinite(float(value)) for value in lines[1:])


def test_train_on_a_csv_with_class_names(capsys, animals_model):
    model = cr.load(animals_model)
    assert model.metadata["classes"] == ["cat", "dog"]
    assert model.metadata["target"] == "kind"
    assert model.metadata["data"] == str(Path("animals.csv").resolve())
    assert model.metadata["feature_names"] == ["f1", "f2"]


def test_the_training_curves_are_drawn_when_matplotlib_is_there(capsys):
    image = pytest.importorskip("matplotlib.image")
    code, out, _ = run(capsys, "train", *SMALL, "--output", "run.npz")
    assert code == 0
    assert "Wrote the training curves to run-curves.png" in out
    pixels = image.imread("run-curves.png")
    assert pixels.ndim == 3 and pixels.std() > 0  # a real, non-blank picture


def test_without_matplotlib_there_is_no_plot_and_no_error(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import raises ImportError
    code, out, err = run(capsys, "train", *SMALL, "--output", "run.npz")
    assert code == 0
    assert not Path("run-curves.png").exists()
    assert "curves" not in out + err


def test_same_seed_same_weights_other_seed_other_weights(capsys):
    for name, seed in (("a.npz", "3"), ("b.npz", "3"), ("c.npz", "4")):
        assert run(capsys, "train", *SMALL, "--seed", seed, "--output", name)[0] == 0
    assert_same_weights("a.npz", "b.npz")
    assert not np.array_equal(weights("a.npz")["dense.weight"], weights("c.npz")["dense.weight"])


def test_the_compiled_step_and_no_jit_train_the_same_bits(capsys):
    assert run(capsys, "train", *SMALL, "--output", "jit.npz")[0] == 0
    assert run(capsys, "train", *SMALL, "--no-jit", "--output", "eager.npz")[0] == 0
    assert_same_weights("jit.npz", "eager.npz")


# The compiler has no kernel for prelu with a learned slope yet: jit falls back to eager.
@pytest.mark.filterwarnings("ignore::chainrule.compiler.JitFallbackWarning")
def test_train_with_prelu_learns_a_slope_per_hidden_unit(capsys):
    code, out, err = run(capsys, "train", *SMALL, "--activation", "prelu", "--output", "p.npz")
    assert code == 0, err
    assert "Model: 2 → 8 prelu → 2 outputs (50 parameters)" in out  # 24 + 8 slopes + 18
    slopes = weights("p.npz")["activation.alpha"]
    assert slopes.shape == (8,) and np.abs(slopes - 0.25).max() > 0  # learned from 0.25
    code, described, _ = run(capsys, "info", "p.npz")
    assert code == 0 and re.search(r"activation \(Activation\) +\(None, 8\) +8\n", described)
    code, evaluated, _ = run(capsys, "evaluate", "p.npz")
    accuracy = re.search(r"Test accuracy: .*", out)
    assert code == 0 and accuracy and accuracy[0] in evaluated


@pytest.mark.filterwarnings("ignore::chainrule.compiler.JitFallbackWarning")  # no maxout kernel
def test_train_with_maxout_needs_widths_its_pieces_divide(capsys):
    code, _, err = run(
        capsys, "train", "--data", "xor", "--layers", "7", "--epochs", "1", "--activation", "maxout"
    )
    assert code != 0
    assert_one_line_error(err, "maxout with 2 pieces", "divisible by 2, got 7")
    code, out, err = run(capsys, "train", *SMALL, "--activation", "maxout", "--output", "m.npz")
    assert code == 0, err
    assert cr.load("m.npz").output_shapes() == [(8,), (4,), (2,)]


def test_default_train_reaches_97_percent_and_evaluate_reproduces_it(capsys):
    started = time.monotonic()
    code, out, err = run(capsys, "train")
    elapsed = time.monotonic() - started
    assert code == 0, err
    assert elapsed < 60
    line = re.search(r"Test accuracy: (\d+\.\d+)% \((\d+)/(\d+)\).*", out)
    assert line and int(line[2]) / int(line[3]) >= 0.97
    assert "Model: 64 → 64 relu → 64 relu → 10 outputs" in out
    code, evaluated, _ = run(capsys, "evaluate", "chainrule-model.npz")
    assert code == 0
    assert line[0] in evaluated  # the same accuracy, count and loss
    assert "test rows of the training split (seed 0, test size 0.2): 359 rows" in evaluated


# ---------------------------------------------------------------------- the output file
def test_a_missing_output_directory_fails_before_training(capsys):
    code, out, err = run(capsys, "train", *SMALL, "--output", "no/such/dir/model.npz")
    assert code == 1
    assert_one_line_error(err, "the directory no/such/dir does not exist")
    assert "Epoch" not in err and "Data:" not in out  # nothing was loaded or trained


def test_an_output_that_is_a_directory_fails_before_training(capsys):
    Path("models").mkdir()
    code, out, err = run(capsys, "train", *SMALL, "--output", "models")
    assert code == 1
    assert_one_line_error(err, "models is a directory")
    assert "Epoch" not in err


def test_a_directory_where_no_file_can_be_created_fails_before_training(capsys, monkeypatch):
    # A read-only directory, as the OS refuses it to a user who is not root (root may write
    # anywhere, so the refusal is simulated: the test runs the same for everyone).
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cli_common.tempfile, "mkstemp", refuse)
    code, out, err = run(capsys, "train", *SMALL, "--output", "model.npz")
    assert code == 1
    assert_one_line_error(
        err, "cannot write the output model.npz: cannot create files in .", "Permission denied"
    )
    assert "Epoch" not in err and "Data:" not in out and not Path("model.npz").exists()


def test_a_read_only_output_file_is_not_replaced(capsys, monkeypatch):
    Path("model.npz").write_bytes(b"keep me")
    os.chmod("model.npz", 0o444)
    real_access = os.access

    def access_without_root(path, mode, *args, **kwargs):  # root may write read-only files
        if mode & os.W_OK and not os.stat(path).st_mode & 0o222:
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(cli_common.os, "access", access_without_root)
    code, _, err = run(capsys, "train", *SMALL, "--output", "model.npz")
    assert code == 1 and "read-only" in err
    assert Path("model.npz").read_bytes() == b"keep me"


def test_a_failed_run_leaves_an_existing_model_file_untouched(capsys):
    Path("model.npz").write_bytes(b"the previous model")
    write_csv(Path("bad.csv"), ["a", "b", "y"], [[1, 2, 0], [3, "oops", 1], [5, 6, 0]])
    code, _, err = run(capsys, "train", "--data", "bad.csv", "--output", "model.npz")
    assert code == 1
    assert_one_line_error(err, "line 3", "'b'", "'oops'")
    assert Path("model.npz").read_bytes() == b"the previous model"
    assert sorted(p.name for p in Path().iterdir()) == ["bad.csv", "model.npz"]


def test_a_checkpoint_left_behind_needs_resume(capsys, xor_model):
    Path("run.ckpt.npz").write_bytes(xor_model.read_bytes())
    code, _, err = run(capsys, "train", *SMALL, "--output", "run.npz")
    assert code == 2
    assert_one_line_error(err, "run.ckpt.npz holds an unfinished training run", "--resume")
    assert Path("run.ckpt.npz").read_bytes() == xor_model.read_bytes()


def test_resume_refuses_a_checkpoint_of_other_options(capsys, monkeypatch):
    def interrupt(*args, **kwargs):
        raise cr.TrainingInterrupted("stop")

    real_fit = cr.Model.fit

    def fit_then_interrupt(self, *args, **kwargs):
        kwargs["epochs"] = 1
        real_fit(self, *args, **kwargs)
        interrupt()

    monkeypatch.setattr(cr.Model, "fit", fit_then_interrupt)
    code, _, err = run(capsys, "train", *SMALL, "--output", "run.npz")
    assert code == 130 and Path("run.ckpt.npz").exists()
    assert "--resume" in err
    monkeypatch.setattr(cr.Model, "fit", real_fit)
    code, _, err = run(capsys, "train", *SMALL, "--layers", "9", "--output", "run.npz", "--resume")
    assert code == 2
    assert_one_line_error(err, "--layers was [8], now [9]")
    code, out, _ = run(capsys, "train", *SMALL, "--output", "run.npz", "--resume")
    assert code == 0 and "Resuming from run.ckpt.npz" in out
    assert not Path("run.ckpt.npz").exists()


def test_resume_without_a_checkpoint_starts_from_the_beginning(capsys):
    code, _, err = run(capsys, "train", *SMALL, "--resume")
    assert code == 0 and "no checkpoint at chainrule-model.ckpt.npz" in err


# ---------------------------------------------------------------------- diverging, interrupting
def test_a_diverging_run_stops_with_advice(capsys):
    Path("model.npz").write_bytes(b"the previous model")
    code, _, err = run(
        capsys,
        "train",
        "--data",
        "xor",
        "--layers",
        "8",
        "--epochs",
        "5",
        "--lr",
        "1e6",
        "--output",
        "model.npz",
    )
    assert code == 1
    assert_one_line_error(err, "training diverged", "Lower the learning rate (--lr, now 1e+06")
    assert Path("model.npz").read_bytes() == b"the previous model"


def test_a_nan_loss_also_stops_with_advice(capsys):
    code, _, err = run(
        capsys,
        "train",
        "--data",
        "xor",
        "--layers",
        "8",
        "--epochs",
        "5",
        "--optimizer",
        "sgd",
        "--lr",
        "1e30",
        "--output",
        "model.npz",
    )
    assert code == 1
    assert_one_line_error(err, "training diverged", "--lr")
    assert not Path("model.npz").exists()


def _python_m_chainrule(*argv: str) -> list[str]:
    return [sys.executable, "-m", "chainrule", *argv]


def _environment() -> dict[str, str]:
    paths = [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


@pytest.mark.slow
def test_ctrl_c_then_resume_gives_the_uninterrupted_model(tmp_path):
    command = [
        "train",
        "--data",
        "xor",
        "--layers",
        "16",
        "--epochs",
        "30",
        "--batch-size",
        "8",
        "--patience",
        "1000",
    ]
    process = subprocess.Popen(
        _python_m_chainrule(*command, "--output", "resumed.npz"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(),
    )
    checkpoint = tmp_path / "resumed.ckpt.npz"
    deadline = time.monotonic() + 60
    while not checkpoint.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert re.search(
        r"chainrule: interrupted: training interrupted; resumed\.ckpt\.npz holds "
        r"the last completed epoch \(epoch \d+ of 30\)\. Run the same command "
        r"with --resume to continue\.",
        err,
    ), err
    assert checkpoint.exists() and not (tmp_path / "resumed.npz").exists()
    interrupted_at = int(re.search(r"epoch (\d+) of 30", err)[1])
    assert interrupted_at < 30  # it really was interrupted
    resumed = subprocess.run(
        _python_m_chainrule(*command, "--output", "resumed.npz", "--resume"),
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"Epoch {interrupted_at + 1}/30" in resumed.stderr
    assert "Epoch 1/30" not in resumed.stderr
    assert not checkpoint.exists()
    straight = subprocess.run(
        _python_m_chainrule(*command, "--output", "straight.npz"),
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=120,
    )
    assert straight.returncode == 0, straight.stderr
    assert_same_weights(tmp_path / "resumed.npz", tmp_path / "straight.npz")


@pytest.mark.slow
def test_a_closed_stdout_still_writes_the_model_and_exits_0(tmp_path):
    """`chainrule train | head -2`: the reader goes away after two lines; the model is still
    written, no checkpoint is left behind, nothing is printed, the exit code is 0."""
    process = subprocess.Popen(
        _python_m_chainrule("train", *SMALL, "--output", "m.npz"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_environment(),
    )
    head = [process.stdout.readline() for _ in range(2)]
    process.stdout.close()  # what head does after its lines
    err = process.stderr.read().decode()
    process.wait(timeout=120)
    assert head[0].startswith(b"Data: xor")
    assert process.returncode == 0, err
    assert "Traceback" not in err and "Exception ignored" not in err and "error" not in err
    assert (tmp_path / "m.npz").exists() and not (tmp_path / "m.ckpt.npz").exists()
    assert run_again_trains(tmp_path)


def run_again_trains(tmp_path: Path) -> bool:
    again = subprocess.run(
        _python_m_chainrule("train", *SMALL, "--output", "m.npz"),
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=120,
    )
    return again.returncode == 0


def test_closed_stdout_and_stderr_through_a_shell_pipe(tmp_path):
    command = " ".join(_python_m_chainrule("train", *SMALL, "--output", "m.npz"))
    result = subprocess.run(
        ["bash", "-c", f"{command} 2>&1 | head -2; exit ${{PIPESTATUS[0]}}"],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2 and "Traceback" not in result.stderr
    assert (tmp_path / "m.npz").exists() and not (tmp_path / "m.ckpt.npz").exists()


def _signal_once_the_checkpoint_exists(signum: int, tmp_path: Path) -> tuple[subprocess.Popen, str]:
    command = [
        "train",
        "--data",
        "xor",
        "--layers",
        "16",
        "--epochs",
        "200",
        "--batch-size",
        "8",
        "--patience",
        "1000",
        "--output",
        "m.npz",
    ]
    process = subprocess.Popen(
        _python_m_chainrule(*command),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(),
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "m.ckpt.npz").exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signum)
    return process, process.communicate(timeout=60)[1]


def test_sigterm_keeps_the_checkpoint_and_exits_143(tmp_path):
    process, err = _signal_once_the_checkpoint_exists(signal.SIGTERM, tmp_path)
    assert process.returncode == 143, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("chainrule:")]
    assert len(lines) == 1 and lines[0].startswith(
        "chainrule: terminated (SIGTERM): training interrupted; m.ckpt.npz"
    ), err
    assert (tmp_path / "m.ckpt.npz").exists() and not (tmp_path / "m.npz").exists()


def test_ctrl_c_before_the_training_loop_is_one_line(tmp_path):
    """SIGINT while the data is loaded and the model built (before fit's handler)."""
    script = (
        "import sys, signal, chainrule.cli as cli, chainrule.cli.train as train\n"
        "real = train.load_data\n"
        "def load(*a, **k):\n"
        "    signal.raise_signal(signal.SIGINT)\n"
        "    return real(*a, **k)\n"
        "train.load_data = load\n"
        "sys.exit(cli.main(sys.argv[1:]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, "train", *SMALL],
        text=True,
        capture_output=True,
        env=_environment(),
        timeout=60,
    )
    assert result.returncode == 130 and result.stderr == "chainrule: interrupted\n"


def test_ctrl_c_outside_training_exits_130(capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_train, "load_data", interrupted)
    code, _, err = run(capsys, "train", *SMALL)
    assert code == 130 and err == "chainrule: interrupted\n"


# ---------------------------------------------------------------------- errors and --debug
def test_errors_are_one_line_without_traceback_and_with_one_under_debug(capsys):
    code, _, err = run(capsys, "evaluate", "missing.npz")
    assert code == 2  # a missing input file is bad input
    assert_one_line_error(err, "no model file at missing.npz")
    code, _, err = run(capsys, "--debug", "info", "missing.npz")
    assert code == 2
    assert "Traceback (most recent call last)" in err
    assert err.strip().endswith("chainrule: error: no model file at missing.npz")
    code, _, err = run(capsys, "info", "missing.npz", "--debug")  # after the command, too
    assert code == 2 and "Traceback" in err
    Path("bad.npz").write_bytes(b"not a model")
    code, _, err = run(capsys, "info", "bad.npz")
    assert code == 1  # a file that is there but cannot be used: a failure
    assert_one_line_error(err, "cannot load the model")


def test_an_unexpected_exception_suggests_debug(capsys, monkeypatch):
    def broken(args):
        raise RuntimeError("something odd")

    monkeypatch.setattr(cli_datasets, "command_datasets", broken)
    code, _, err = run(capsys, "datasets")
    assert code == 1
    assert_one_line_error(err, "RuntimeError: something odd", "run with --debug")


def test_python_dash_m_runs_the_command():
    result = subprocess.run(
        _python_m_chainrule("info", "missing.npz"),
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr == "chainrule: error: no model file at missing.npz\n"
    result = subprocess.run(
        _python_m_chainrule("--help"),
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=60,
    )
    assert result.returncode == 0 and "usage: chainrule" in result.stdout
    result = subprocess.run(
        _python_m_chainrule("train", "--activation", "nope"),
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=60,
    )
    assert result.returncode == 2 and result.stderr.startswith("chainrule: error: argument")


# ---------------------------------------------------------------------- bad model files
def _newer_format(source: Path, target: Path) -> None:
    with np.load(source, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    description = json.loads(arrays["__description__"].tobytes().decode())
    description["format_version"] += 1
    arrays["__description__"] = np.frombuffer(json.dumps(description).encode(), dtype=np.uint8)
    np.savez(target, **arrays)


def _pickled(source: Path, target: Path) -> None:
    with np.load(source, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    arrays["weights/dense.weight"] = np.array([{"not": "numbers"}], dtype=object)
    np.savez(target, **arrays)  # an object array is pickled into the file


BAD_MODELS = {
    "truncated": (
        lambda source, target: target.write_bytes(
            source.read_bytes()[: source.stat().st_size // 2]
        ),
        "corrupt or truncated",
    ),
    "corrupt": (
        lambda source, target: target.write_bytes(b"PK\x03\x04" + os.urandom(500)),
        "corrupt or truncated",
    ),
    "pickled": (_pickled, "pickled"),
    "newer": (_newer_format, "newer than this chainrule"),
}


@pytest.mark.parametrize("kind", list(BAD_MODELS))
@pytest.mark.parametrize("command", ["info", "evaluate", "predict"])
def test_bad_model_files_are_refused_and_nothing_is_lost(capsys, xor_model, kind, command):
    make, message = BAD_MODELS[kind]
    bad = Path(f"{kind}.npz")
    make(xor_model, bad)
    before = bad.read_bytes()
    write_csv(Path("rows.csv"), ["x1", "x2"], [[0.5, 0.5]])
    Path("predictions.csv").write_text("prediction\nprevious\n")
    extra = {"predict": ["rows.csv", "--output", "predictions.csv"]}.get(command, [])
    code, out, err = run(capsys, command, str(bad), *extra)
    assert code == 1
    assert_one_line_error(err, "cannot load the model", message)
    assert bad.read_bytes() == before
    assert Path("predictions.csv").read_text() == "prediction\nprevious\n"
    assert not [p for p in Path().iterdir() if p.name.startswith(".")]  # no temporary files


def test_a_zip_without_a_model_is_refused(capsys):
    with zipfile.ZipFile("other.npz", "w") as archive:
        archive.writestr("readme.txt", "hello")
    code, _, err = run(capsys, "info", "other.npz")
    assert code == 1 and "cannot load the model" in err


# ---------------------------------------------------------------------- bad data
def test_non_numeric_csv_names_line_and_column(capsys):
    write_csv(Path("data.csv"), ["a", "b", "label"], [[1, 2, 0], [3, 4, 1], ["x?", 6, 0]])
    code, _, err = run(capsys, "train", "--data", "data.csv", "--epochs", "1")
    assert code == 1
    assert_one_line_error(err, "line 4", "'a'", "'x?'")


def test_nan_and_infinity_in_training_data_name_the_row(capsys):
    write_csv(
        Path("data.csv"), ["a", "b", "label"], [[1, 2, 0], [3, 4, 1], [5, "nan", 0], [7, 8, 1]]
    )
    code, _, err = run(capsys, "train", "--data", "data.csv")
    assert code == 1
    assert_one_line_error(err, "line 4", "'b'", "non-finite")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 2))
    x[7, 1] = np.inf
    np.savez("data.npz", x=x, y=np.arange(20) % 2)
    code, _, err = run(capsys, "train", "--data", "data.npz")
    assert code == 1
    assert_one_line_error(err, "row 7")


def test_empty_data_is_refused(capsys):
    write_csv(Path("empty.csv"), ["a", "b", "label"], [])
    code, _, err = run(capsys, "train", "--data", "empty.csv")
    assert code == 1
    assert_one_line_error(err, "no data rows")
    np.savez("empty.npz", x=np.zeros((0, 2)), y=np.zeros(0, dtype=np.int64))
    code, _, err = run(capsys, "train", "--data", "empty.npz")
    assert code == 1
    assert_one_line_error(err, "no rows")


def test_mismatched_x_and_y_lengths(capsys):
    np.savez("data.npz", x=np.zeros((10, 2)), y=np.zeros(9, dtype=np.int64))
    code, _, err = run(capsys, "train", "--data", "data.npz")
    assert code == 1
    assert_one_line_error(err, "10 rows", "(9,)")


def test_labels_out_of_range_for_the_class_names(capsys):
    np.savez(
        "data.npz",
        x=np.zeros((10, 2)),
        y=np.array([0, 1] * 4 + [5, 1]),
        classes=np.array(["a", "b"]),
    )
    code, _, err = run(capsys, "train", "--data", "data.npz")
    assert code == 1
    assert_one_line_error(err, "label 5 has no class name")


def test_labels_out_of_range_for_a_loaded_model(capsys, xor_model):
    np.savez("data.npz", x=np.zeros((4, 2)), y=np.array([0, 1, 7, 1]))
    code, _, err = run(capsys, "evaluate", str(xor_model), "--data", "data.npz")
    assert code == 1  # labels are values: 7 is no class of the model (0, 1)
    assert_one_line_error(
        err,
        "row 2 of the data has the class '7', which the model does not know; its classes are: 0, 1",
    )


def test_a_class_the_model_does_not_know(capsys, animals_model):
    write_csv(Path("more.csv"), ["f1", "f2", "kind"], [[1, 1, "dog"], [0, 1, "cow"]])
    code, _, err = run(
        capsys, "evaluate", str(animals_model), "--data", "more.csv", "--target", "kind"
    )
    assert code == 1
    assert_one_line_error(err, "row 1 of the data has the class 'cow'", "cat, dog")


def test_wrong_feature_count_for_a_loaded_model(capsys, xor_model):
    code, _, err = run(capsys, "evaluate", str(xor_model), "--data", "digits")
    assert code == 1
    assert_one_line_error(err, "the model expects 2 features per row", "digits has 64")
    write_csv(Path("rows.csv"), ["a", "b", "c"], [[1, 2, 3]])
    Path("out.csv").write_text("keep\n")
    code, _, err = run(capsys, "predict", str(xor_model), "rows.csv", "--output", "out.csv")
    assert code == 2  # the model knows its columns by name (x1, x2): these are others
    assert_one_line_error(err, "missing 'x1', 'x2'; unknown 'a', 'b', 'c'")
    assert Path("out.csv").read_text() == "keep\n"
    np.savez("rows.npz", x=np.ones((1, 3)))  # no names: the count is checked
    code, _, err = run(capsys, "predict", str(xor_model), "rows.npz", "--output", "out.csv")
    assert code == 1
    assert_one_line_error(err, "expects 2 features", "rows.npz has 3")
    assert Path("out.csv").read_text() == "keep\n"


def test_bad_prediction_inputs(capsys, xor_model):
    write_csv(Path("text.csv"), ["x1", "x2"], [[1, 2], [3, "abc"]])
    code, _, err = run(capsys, "predict", str(xor_model), "text.csv")
    assert code == 1
    assert_one_line_error(err, "line 3, column 'x2': 'abc' is not a number")
    write_csv(Path("nan.csv"), ["x1", "x2"], [[1, 2], ["nan", 1], [3, 4], [1, "inf"]])
    code, _, err = run(capsys, "predict", str(xor_model), "nan.csv")
    assert code == 1
    assert_one_line_error(err, "NaN or infinite values on lines 3, 5")
    write_csv(Path("empty.csv"), ["x1", "x2"], [])
    code, _, err = run(capsys, "predict", str(xor_model), "empty.csv")
    assert code == 1
    assert_one_line_error(err, "has a header but no data rows")
    np.savez("nox.npz", rows=np.zeros((2, 2)))
    code, _, err = run(capsys, "predict", str(xor_model), "nox.npz")
    assert code == 1
    assert_one_line_error(err, "has no array 'x'")
    np.savez("inf.npz", x=np.array([[0.0, 1.0], [np.inf, 0.0]]))
    code, _, err = run(capsys, "predict", str(xor_model), "inf.npz")
    assert code == 1
    assert_one_line_error(err, "rows 1")


# ---------------------------------------------------------------------- evaluate
def test_evaluate_reproduces_train_on_the_same_split(capsys):
    code, out, _ = run(capsys, "train", *SMALL, "--seed", "5", "--test-size", "0.3")
    trained = re.search(r"Test accuracy: .*", out)[0]
    code, out, _ = run(capsys, "evaluate", "chainrule-model.npz")
    assert code == 0 and trained in out
    assert "(seed 5, test size 0.3): 120 rows" in out


def test_evaluate_on_other_data_uses_all_of_it(capsys, animals_model):
    write_csv(
        Path("more.csv"),
        ["f1", "f2", "kind"],
        [[2.0, 0.0, "dog"], [-2.0, 0.0, "cat"], [3.0, 1.0, "dog"]],
    )
    code, out, err = run(
        capsys, "evaluate", str(animals_model), "--data", "more.csv", "--target", "kind"
    )
    assert code == 0, err
    assert "Data: more, all rows: 3 rows" in out
    assert re.search(r"Data accuracy: [\d.]+% \(\d/3\)", out)


def test_evaluate_refuses_data_of_the_other_task(capsys, xor_model):
    np.savez("amounts.npz", x=np.zeros((4, 2)), y=np.array([0.5, 1.5, 2.25, 3.0]))
    code, _, err = run(capsys, "evaluate", str(xor_model), "--data", "amounts.npz")
    assert code == 1
    assert_one_line_error(err, "the model does classification, but amounts is a regression dataset")


def test_evaluate_after_the_training_csv_is_gone(capsys, animals_model):
    Path("animals.csv").unlink()
    code, _, err = run(capsys, "evaluate", str(animals_model))
    assert code == 2
    assert_one_line_error(err, "which no longer exists", "--data")


def test_evaluate_on_a_csv_without_the_target_column_names_it(capsys, animals_model):
    write_csv(Path("features.csv"), ["f1", "f2", "other"], [[0.1, 0.2, 1], [0.3, -0.4, 0]])
    code, out, err = run(capsys, "evaluate", str(animals_model), "--data", "features.csv")
    assert code == 2 and out == ""
    assert_one_line_error(err, "features.csv", "no column 'kind'", "f1, f2, other")


def test_a_wrong_target_is_a_usage_error(capsys):
    animals_csv(Path("animals.csv"))
    code, _, err = run(capsys, "train", "--data", "animals.csv", "--target", "knid")
    assert code == 2
    assert_one_line_error(err, "--target", "no column 'knid'", "did you mean 'kind'")
    code, _, err = run(capsys, "train", "--data", "animals.csv", "--target", "7")
    assert code == 2
    assert_one_line_error(err, "--target")
    np.savez("arrays.npz", x=np.ones((4, 2)), y=np.array([0, 1, 0, 1]))
    code, _, err = run(capsys, "train", "--data", "arrays.npz", "--target", "labels")
    assert code == 2
    assert_one_line_error(err, "--target", "'labels'")
    assert not Path("chainrule-model.npz").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ("train", "--data", "no-such.csv"),
        ("train", "--data", "nosuchset"),
        ("predict", "no-model.npz", "in.csv"),
        ("evaluate", "no-model.npz"),
        ("plot", "history", "no-model.npz"),
        ("gradcheck", "--data", "no-such.npz"),
        ("train", "--epochs", "0"),
    ],
)
def test_bad_input_exits_2(capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert_one_line_error(err)


def test_messages_name_no_python_only_parameters(capsys):
    np.savez("arrays.npz", features=np.ones((4, 2)), labels=np.array([0, 1, 0, 1]))
    code, _, err = run(capsys, "train", "--data", "arrays.npz")
    assert code == 1
    assert_one_line_error(err, "'x'", "--target")
    assert "x_key" not in err and "y_key" not in err and "=" not in err
    Path("digits-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + bytes(12))
    code, _, err = run(capsys, "train", "--data", "digits-images-idx3-ubyte")
    assert code == 1 and "labels_path" not in err and "labels file" in err, err
    assert cli_common.in_cli_terms(
        "1e40 is outside the range of float32; use dtype='float64' or rescale the data"
    ) == ("1e40 is outside the range of float32; rescale the data")


def test_train_refuses_to_overwrite_its_data(capsys):
    animals_csv(Path("animals.csv"))
    before = Path("animals.csv").read_bytes()
    np.savez("same.npz", x=np.ones((8, 2)), y=np.array([0, 1] * 4))
    os.symlink("animals.csv", "link.csv")
    for data, output in (
        ("same.npz", "same.npz"),
        ("animals.csv", "./animals.csv"),
        ("link.csv", "animals.csv"),
        ("animals.csv", "link.csv"),
    ):
        code, _, err = run(
            capsys,
            "train",
            "--data",
            data,
            "--target",
            "kind" if data.endswith(".csv") else "y",
            "--output",
            output,
        )
        assert code == 2, err
        assert_one_line_error(err, "--output", "data file (--data)", "another output")
    assert Path("animals.csv").read_bytes() == before
    with np.load("same.npz") as archive:
        assert archive.files == ["x", "y"]


def test_predict_refuses_to_overwrite_its_input_or_model(capsys, xor_model):
    write_csv(Path("in.csv"), ["a", "b"], [[0, 1], [1, 1]])
    before = Path("in.csv").read_bytes()
    code, _, err = run(capsys, "predict", str(xor_model), "in.csv", "-o", "in.csv")
    assert code == 2
    assert_one_line_error(err, "--output in.csv is the INPUT")
    assert Path("in.csv").read_bytes() == before
    model_bytes = xor_model.read_bytes()
    code, _, err = run(capsys, "predict", str(xor_model), "in.csv", "-o", str(xor_model))
    assert code == 2
    assert_one_line_error(err, "is the MODEL")
    assert xor_model.read_bytes() == model_bytes


# ---------------------------------------------------------------------- predict
def test_predict_to_stdout_and_to_a_file(capsys, xor_model):
    rows = [[0.5, 0.5], [-0.5, 0.5], [0.6, 0.7]]
    write_csv(Path("rows.csv"), ["x1", "x2"], rows)
    code, out, _ = run(capsys, "predict", str(xor_model), "rows.csv")
    assert code == 0
    model = cr.load(xor_model)
    expected = [str(label) for label in model.predict(np.array(rows)).argmax(axis=1)]
    assert out.splitlines() == ["prediction", *expected]
    Path("predictions.csv").write_text("old\n")
    code, said, _ = run(capsys, "predict", str(xor_model), "rows.csv", "-o", "predictions.csv")
    assert code == 0 and said == "Wrote 3 predictions to predictions.csv\n"
    assert Path("predictions.csv").read_text() == out
    np.savez("rows.npz", x=np.array(rows))
    code, from_npz, _ = run(capsys, "predict", str(xor_model), "rows.npz")
    assert code == 0 and from_npz == out


def test_predict_gives_class_names_and_drops_the_target_column(capsys, animals_model):
    write_csv(
        Path("with_target.csv"), ["f1", "f2", "kind"], [[3.0, 0.0, "cat"], [-3.0, 0.0, "cat"]]
    )
    write_csv(Path("reordered.csv"), ["f2", "f1"], [[0.0, 3.0], [0.0, -3.0]])
    code, out, err = run(capsys, "predict", str(animals_model), "with_target.csv")
    assert code == 0, err
    model = cr.load(animals_model)
    labels = model.predict(np.array([[3.0, 0.0], [-3.0, 0.0]])).argmax(axis=1)
    assert out.splitlines() == ["prediction", *(["cat", "dog"][i] for i in labels)]
    code, reordered, _ = run(capsys, "predict", str(animals_model), "reordered.csv")
    assert code == 0 and reordered == out


def test_a_model_saved_from_python_without_metadata(capsys):
    from chainrule.models import Sequential
    from chainrule.nn import Activation, Dense

    model = Sequential([Dense(4, input_dim=2), Activation("tanh"), Dense(3)], seed=0)
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
        optimizer="adam",
        metrics=["accuracy"],
    )
    model.save("plain.npz")
    code, out, _ = run(capsys, "info", "plain.npz")
    assert code == 0 and "Metadata: none" in out and "Preprocessing: none" in out
    code, _, err = run(capsys, "evaluate", "plain.npz")
    assert code == 2
    assert_one_line_error(err, "does not record the data", "--data")
    np.savez("data.npz", x=np.ones((4, 2)), y=np.array([0, 1, 2, 1]))
    code, out, _ = run(capsys, "evaluate", "plain.npz", "--data", "data.npz")
    assert code == 0 and "Data accuracy" in out
    code, out, _ = run(capsys, "predict", "plain.npz", "data.npz")
    assert code == 0 and out.splitlines()[0] == "prediction" and len(out.splitlines()) == 5


# ---------------------------------------------------------------------- info, datasets
def test_info_describes_the_model(capsys, xor_model):
    code, out, _ = run(capsys, "info", str(xor_model))
    assert code == 0
    for text in (
        "Model file: xor.npz",
        "dense (Dense)",
        "Total parameters: 42",
        "relu (layer activation)",
        "none (linear outputs)",
        "Loss: sparse_categorical_crossentropy (from logits); optimizer adam",
        "Preprocessing: Standardizer",
        "mean: 2 values",
        "dataset: xor",
        "split: test_size=0.2, seed=0, stratify=True",
        "classes: [0, 1]",
    ):
        assert text in out, text


def test_datasets_lists_the_built_in_datasets(capsys):
    code, out, _ = run(capsys, "datasets")
    assert code == 0
    header = out.splitlines()[0].split()
    assert header == ["Name", "Task", "Samples", "Features", "Classes", "Description"]
    for name in cr.datasets.names():
        assert re.search(rf"^{name}\s", out, re.M), name
    assert re.search(r"^digits\s+classification\s+1,797\s+64\s+10\s", out, re.M)
    assert re.search(r"^regression1d\s+regression\s+200\s+1\s+—", out, re.M)


# ---------------------------------------------------------------------- activations
def test_activations_table_covers_the_catalog(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    code, out, _ = run(capsys, "activations")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "Name",
        "Formula",
        "Derivative",
        "Range",
        "Zero-centred",
        "Monotonic",
        "Saturating",
        "Smooth",
    ]
    names = [line.split()[0] for line in lines[2:] if line.strip()][: len(activations.names())]
    assert names == activations.names()
    relu = next(line for line in lines if line.startswith("relu "))
    for cell in ("relu(z) = max(0, z)", "[0, ∞)", "left"):
        assert cell in relu
    assert relu.rstrip().endswith("no")  # not smooth


@pytest.mark.parametrize("columns", [30, 60, 80, 120])
def test_activations_table_fits_the_terminal(capsys, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    code, out, _ = run(capsys, "activations")
    assert code == 0
    lines = out.splitlines()
    assert max(map(len, lines)) <= columns
    assert lines[0].split()[0] == "Name"
    names = [line.split()[0] for line in lines[2 : 2 + len(activations.names())]]
    assert names == activations.names()
    assert "columns left out to fit the terminal" in " ".join(lines)


def test_one_activation_in_detail(capsys):
    code, out, _ = run(capsys, "activations", "logistic")  # an alias
    assert code == 0
    assert out.startswith("sigmoid (aliases: logistic, expit)")
    assert "σ'(z) = σ(z)(1 − σ(z))" in out and "g' from the output a: a(1 − a)" in out
    assert "Kinks: none" in out
    rows = {
        line.split()[0]: line.split()[1:]
        for line in out.splitlines()
        if re.match(r"^\s*-?\d+\s", line)
    }
    assert rows["0"] == ["0.500000", "0.250000", "0.000000"]
    sigmoid = activations.get("sigmoid")
    assert float(rows["-3"][1]) == pytest.approx(float(sigmoid.derivative([-3.0])[0]), abs=1e-6)
    assert float(rows["3"][2]) == pytest.approx(
        float(sigmoid.second_derivative(np.array([3.0]))[0]), abs=1e-6
    )


def test_kink_values_are_shown(capsys):
    _, out, _ = run(capsys, "activations", "relu")
    assert "Kinks: z = 0: g' taken as 0" in out
    _, out, _ = run(capsys, "activations", "hard_swish")
    assert "z = -3: g' taken as 0, z = 3: g' taken as 1" in out
    assert "-0.000000" not in out


def test_vector_activations_show_their_jacobian(capsys):
    code, out, _ = run(capsys, "activations", "softmax")
    assert code == 0
    assert "softmax is vector-valued" in out
    assert "Jacobian diag(a) − aaᵀ" in out
    assert "Jacobian J[i, j] = ∂aᵢ/∂zⱼ:" in out
    assert "g''(z)" in out and "z = -3" not in out
    code, out, _ = run(capsys, "activations", "maxout")
    assert code == 0 and "winner mask ∂a/∂z = (0, 1, 0, 1)" in out


# ====================================================================== gradcheck
def test_gradcheck_passes_on_the_default_data(capsys):
    code, out, err = run(capsys, "gradcheck", "--samples", "8")
    assert code == 0, err
    assert "digits" in out and "dense.weight" in out
    assert "Verdict: correct" in out.splitlines()[-1]


def test_gradcheck_follows_the_train_options(capsys):
    code, out, err = run(
        capsys,
        "gradcheck",
        "--data",
        "xor",
        "--layers",
        "5",
        "--activation",
        "tanh",
        "--l2",
        "0",
        "--samples",
        "4",
    )
    assert code == 0, err
    assert "5 tanh" in out and "correct" in out


def test_gradcheck_of_a_saved_model(capsys):
    assert run(capsys, "train", *SMALL, "-o", "m.npz")[0] == 0
    code, out, err = run(capsys, "gradcheck", "m.npz", "--samples", "6")
    assert code == 0, err
    assert "m.npz" in out and "6 rows" in out and "correct" in out


def test_gradcheck_of_a_saved_model_refuses_architecture_options(capsys):
    assert run(capsys, "train", *SMALL, "-o", "m.npz")[0] == 0
    code, _, err = run(capsys, "gradcheck", "m.npz", "--layers", "4")
    assert code == 2
    assert_one_line_error(err, "--layers")


def test_gradcheck_exits_1_when_the_gradients_disagree(capsys, monkeypatch):
    from chainrule.activations.classic import ReLU

    right = ReLU._backward_slope
    monkeypatch.setattr(ReLU, "_backward_slope", lambda self, z, a: 1.01 * right(self, z, a))
    code, out, _ = run(capsys, "gradcheck", "--data", "xor", "--samples", "4")
    assert code == 1
    assert "DISAGREES" in out.splitlines()[-1] and "noise floor" in out.splitlines()[-1]
    assert "dense.weight" in out and "<-- disagrees" in out


@pytest.mark.slow
def test_gradcheck_passes_the_trained_default_model(capsys):
    """The README's own model: ``chainrule train`` with every default, then its gradcheck (at
    the old ε = 1e-7 it measured 2.2e-7 and failed; the noise floor now explains that)."""
    assert run(capsys, "train")[0] == 0
    code, out, err = run(capsys, "gradcheck", "chainrule-model.npz")
    assert code == 0, out + err
    assert "ε = 1e-06" in out and "noise floor" in out
    assert out.splitlines()[-1].startswith("Verdict: correct")
    assert "<-- disagrees" not in out


def test_gradcheck_eps_option(capsys):
    code, out, err = run(capsys, "gradcheck", "--data", "xor", "--samples", "4", "--eps", "1e-5")
    assert code == 0, err
    assert "ε = 1e-05" in out
    assert "--eps" in run(capsys, "gradcheck", "--help")[1]


@pytest.mark.parametrize("value", ["0", "-1e-6", "nan", "inf", "tiny"])
def test_gradcheck_eps_must_be_a_positive_finite_number(capsys, value):
    code, _, err = run(capsys, "gradcheck", "--data", "xor", f"--eps={value}")
    assert code == 2
    assert_one_line_error(err, "--eps", "positive finite")


def test_predict_with_a_nan_weight_is_one_line_and_no_predictions(capsys, xor_model):
    model = cr.load(xor_model)
    model.named_parameters()[0][1].data[0, 0] = np.nan
    model.save("bad.npz")
    write_csv(Path("in.csv"), ["x1", "x2"], [[0, 1], [1, 1]])
    code, out, err = run(capsys, "predict", "bad.npz", "in.csv")
    assert code == 1 and out == ""
    assert_one_line_error(err, "NaN")


def test_maxout_models_are_described_with_the_width_they_pass_on(capsys):
    code, out, err = run(
        capsys,
        "train",
        "--data",
        "xor",
        "--layers",
        "8",
        "--activation",
        "maxout",
        "--epochs",
        "1",
        "-o",
        "m.npz",
    )
    assert code == 0, err
    pieces = cr.activations.get("maxout").params.get("pieces", 2)
    assert f"Model: 2 → 8 maxout → {8 // pieces} → 2 outputs" in out
    out = run(capsys, "info", "m.npz")[1]
    assert f"maxout (layer activation, passing on {8 // pieces})" in out


def test_uint64_labels_are_shown_as_their_values(capsys, xor_model):
    big = 2**63 + 5
    np.savez("u.npz", x=np.ones((4, 2)), y=np.array([0, 1, 0, big], dtype=np.uint64))
    code, _, err = run(capsys, "evaluate", str(xor_model), "--data", "u.npz")
    assert code == 1
    assert_one_line_error(err, f"'{big}'")
    assert "-9223" not in err


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_gradcheck_names_a_non_finite_weight(capsys, bad):
    assert run(capsys, "train", *SMALL, "-o", "m.npz")[0] == 0
    model = cr.load("m.npz")
    model.named_parameters()[2][1].data[0, 1] = bad  # dense_1.weight
    model.save("bad.npz")
    code, out, err = run(capsys, "gradcheck", "bad.npz", "--samples", "4")
    assert code == 1
    assert_one_line_error(err, "dense_1.weight", "NaN" if np.isnan(bad) else "inf", "[0, 1]")
    assert "Verdict" not in out


def test_gradcheck_unknown_data_is_a_usage_error(capsys):
    code, _, err = run(capsys, "gradcheck", "--data", "no-such-set")
    assert code == 2
    assert_one_line_error(err, "no-such-set")


# ====================================================================== plot
def _png_std(path: Path) -> float:
    from matplotlib import image

    return float(np.std(image.imread(path)))


def test_plot_activations_writes_a_png(capsys):
    code, out, err = run(capsys, "plot", "activations", "relu,tanh", "--second")
    assert code == 0, err
    assert Path("activations.png").exists() and "activations.png" in out
    assert _png_std(Path("activations.png")) > 0


def test_plot_activations_output_option(capsys):
    code, out, err = run(capsys, "plot", "activations", "gelu", "-o", "g.png")
    assert code == 0, err
    assert "g.png" in out and _png_std(Path("g.png")) > 0


@pytest.mark.parametrize(
    "suffix, magic", [(".pdf", b"%PDF"), (".svg", b"<?xml"), (".PNG", b"\x89PNG")]
)
def test_plot_formats_follow_the_suffix(capsys, suffix, magic):
    pytest.importorskip("matplotlib")
    code, _, err = run(capsys, "plot", "activations", "relu", "-o", f"out{suffix}")
    assert code == 0, err
    assert Path(f"out{suffix}").read_bytes().startswith(magic)


def test_plot_refuses_an_unknown_suffix(capsys):
    code, _, err = run(capsys, "plot", "activations", "relu", "-o", "out.jpeg")
    assert code == 2
    assert_one_line_error(err, "out.jpeg", ".png, .pdf, .svg")
    assert not Path("out.jpeg").exists()


def test_plot_activations_unknown_name_suggests(capsys):
    code, _, err = run(capsys, "plot", "activations", "relu,rellu")
    assert code == 2
    assert_one_line_error(err, "rellu", "relu")
    assert not Path("activations.png").exists()


def test_plot_activations_refuses_vector_activations(capsys):
    code, _, err = run(capsys, "plot", "activations", "softmax")
    assert code == 2
    assert_one_line_error(err, "softmax", "vector")
    assert not Path("activations.png").exists()


def test_plot_without_matplotlib_says_how_to_install(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    code, _, err = run(capsys, "plot", "activations", "relu")
    assert code == 1
    assert_one_line_error(err, 'pip install "chainrule[plot]"')


def _checkpoint(path: Path, epochs: int = 3) -> Path:
    data = cr.datasets.load("xor")
    options = cli_train.TrainOptions(
        data="xor",
        target=None,
        layers=(4,),
        activation="tanh",
        optimizer="adam",
        lr=0.01,
        l2=0.0,
        epochs=epochs,
        batch_size=32,
        patience=0,
        test_size=0.2,
        seed=0,
    )
    model = cli_train.build_model(options, data.x.shape[1], data.num_classes)
    cli_train._compile(model, data.task, options)
    model.fit(
        data.x,
        data.y,
        epochs=epochs,
        batch_size=32,
        validation_split=0.1,
        verbose=0,
        seed=0,
        checkpoint=str(path),
    )
    assert path.exists()
    return path


def test_plot_history_from_a_checkpoint(capsys):
    source = _checkpoint(Path("run.ckpt.npz"))
    code, out, err = run(capsys, "plot", "history", str(source))
    assert code == 0, err
    written = Path("run.ckpt-history.png")
    assert written.exists() and str(written) in out and "3 epochs" in out
    assert _png_std(written) > 0


def test_plot_history_output_option(capsys):
    source = _checkpoint(Path("run.ckpt.npz"), epochs=2)
    code, out, err = run(capsys, "plot", "history", str(source), "-o", "h.png")
    assert code == 0, err
    assert "h.png" in out and _png_std(Path("h.png")) > 0


def test_plot_history_of_a_finished_model_file(capsys):
    """train keeps the history in the model file, so a successful run (which deletes its
    checkpoint) can still be plotted."""
    assert run(capsys, "train", *SMALL, "-o", "m.npz")[0] == 0
    assert not Path("m.ckpt.npz").exists()
    history = cr.load("m.npz").metadata["history"]
    assert history["epoch"] == [0, 1] and len(history["history"]["loss"]) == 2
    code, out, err = run(capsys, "plot", "history", "m.npz")
    assert code == 0, err
    assert "2 epochs" in out and _png_std(Path("m-history.png")) > 0


def test_plot_history_of_a_model_file_without_history(capsys):
    from chainrule.models import Sequential
    from chainrule.nn import Dense

    model = Sequential([Dense(2, input_dim=2)], seed=0)
    model.save("bare.npz")
    code, _, err = run(capsys, "plot", "history", "bare.npz")
    assert code == 1
    assert_one_line_error(err, "bare.npz", "no training history", ".ckpt.npz")
    assert not Path("bare-history.png").exists()


def test_plot_history_of_a_missing_file(capsys):
    code, _, err = run(capsys, "plot", "history", "nothing.ckpt.npz")
    assert code == 2
    assert_one_line_error(err, "nothing.ckpt.npz")


def test_plot_needs_what_to_plot(capsys):
    code, _, err = run(capsys, "plot")
    assert code == 2
    assert_one_line_error(err, "WHAT")


@pytest.mark.parametrize(
    "argv",
    [
        ("gradcheck", "--help"),
        ("plot", "--help"),
        ("plot", "activations", "--help"),
        ("plot", "history", "--help"),
    ],
)
def test_help_of_gradcheck_and_plot(capsys, argv):
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert out.startswith(f"usage: chainrule {' '.join(argv[:-1])}")


def test_gradcheck_help_names_its_defaults(capsys):
    out = run(capsys, "gradcheck", "--help")[1]
    assert "--samples" in out and "16,16" in out and "MODEL" in out


@pytest.mark.parametrize("name", cr.activations.names())
def test_train_compiles_every_activation_and_prints_no_python_warning(capsys, monkeypatch, name):
    """Every catalog activation trains with the compiled step (none falls back to eager), and
    no Python warning line reaches the terminal."""
    from chainrule.training import Model

    compiled: list[tuple[bool, str | None]] = []
    original = Model._compiled_program

    def spy(self, x, y, *weights):
        program = original(self, x, y, *weights)
        compiled.append((program is not None, self.jit_fallback_reason))
        return program

    monkeypatch.setattr(Model, "_compiled_program", spy)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, _, err = run(capsys, "train", *SMALL, "--activation", name, "-o", "m.npz")
    assert code == 0, err
    assert not [str(w.message) for w in caught]
    assert "Warning:" not in err and "warnings.warn" not in err
    assert compiled and all(ok for ok, _ in compiled), compiled[0]


def test_resume_from_a_corrupt_checkpoint_says_how_to_start_over(capsys):
    Path("m.ckpt.npz").write_bytes(b"PK\x03\x04 not a real archive")
    code, _, err = run(capsys, "train", *SMALL, "-o", "m.npz", "--resume")
    assert code == 1
    assert_one_line_error(err, "cannot resume", "delete m.ckpt.npz to start over")


def test_predict_reads_csv_with_the_datasets_reader(capsys, xor_model):
    write_csv(Path("one.csv"), ["x1", "x2"], [[0, 1], [1, 1]])
    Path("one.csv").write_text(Path("one.csv").read_text() + "\n\n")  # blank lines are skipped
    code, out, _ = run(capsys, "predict", str(xor_model), "one.csv")
    assert code == 0 and len(out.strip().splitlines()) == 3  # a header and two rows
    Path("short.csv").write_text("x1,x2\n0,1\n1\n")
    code, _, err = run(capsys, "predict", str(xor_model), "short.csv")
    assert code == 1
    assert_one_line_error(err, "short.csv, line 3: 1 cells but the header has 2 columns")
    Path("twice.csv").write_text("x1,x1\n0,1\n")
    code, _, err = run(capsys, "predict", str(xor_model), "twice.csv")
    assert code == 1 and "the header names 'x1' more than once" in err
