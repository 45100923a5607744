"""Every script in examples/ runs as a user would run it, and prints what it promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# What each script must print (its own assertions check the numbers behind these lines).
PROMISES = {
    "quickstart.py": ["4/4 correct"],
    "custom_module.py": ["compiled: True", "gradcheck: correct"],
    "custom_activation.py": [
        "refused: activation 'bad_tanh'",
        "gradcheck: correct",
        "compiled: True",
    ],
    "checkpoint_resume.py": [
        "interrupted: training interrupted during epoch 5",
        "bit-identical to the unbroken run: True",
    ],
    "compiled_listing.py": ["in place", "→ ∂L/∂θ", "bit-identical = True"],
}


def test_every_example_has_its_promises():
    assert sorted(PROMISES) == sorted(path.name for path in EXAMPLES.glob("*.py"))


@pytest.mark.parametrize("script", sorted(PROMISES))
def test_the_example_runs(script, tmp_path):
    environment = {**os.environ, "PYTHONPATH": str(EXAMPLES.parent / "src"), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=environment,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Warning" not in done.stderr, done.stderr[-2000:]
    for line in PROMISES[script]:
        assert line in done.stdout, f"{script} did not print {line!r}:\n{done.stdout[-2000:]}"
