"""The issue's hostile model files, through the commands a user runs on them (``chainrule info``
and ``predict``): one line, exit 1 (a file that is there but cannot be used), in little time
and memory."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from chainrule.models import Sequential
from chainrule.nn import Dense


def _hostile(tmp_path, change):
    model = Sequential([Dense(4, input_dim=3, activation="relu"), Dense(2)], seed=0)
    model.compile(loss="mse", optimizer="sgd")
    model.save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz", allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    change(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    return tmp_path / "bad.npz"


def _billion_units(arrays):
    description = json.loads(arrays["__description__"].tobytes())
    description["model"]["layers"][0]["config"]["units"] = 1_000_000_000
    arrays["__description__"] = np.frombuffer(json.dumps(description).encode(), np.uint8)


def _nan_weight(arrays):
    weight = arrays["weights/dense.weight"].copy()
    weight[1, 2] = np.nan
    arrays["weights/dense.weight"] = weight


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_billion_units, "input width 1000000000"),
        (_nan_weight, "'dense.weight' hold 1 of 12 values NaN"),
    ],
)
@pytest.mark.parametrize("command", ["info", "predict"])
def test_a_hostile_model_file_is_one_line_fast_and_small(tmp_path, change, message, command):
    path = _hostile(tmp_path, change)
    rows = tmp_path / "rows.csv"
    rows.write_text("a,b,c\n1,2,3\n")
    argv = [str(path)] if command == "info" else [str(path), str(rows)]
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # 2 GiB at most\n"
        "from chainrule.cli import main\n"
        f"sys.exit(main({[command, *argv]!r}))\n"
    )
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert time.perf_counter() - start < 60  # a bound on a shared machine, not a benchmark
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainrule: error:"), done.stderr
    assert message in lines[0] and "Traceback" not in done.stderr
