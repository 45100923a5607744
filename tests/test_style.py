"""The code base stays ruff-clean and ruff-formatted (part of the test command, so CI enforces
it)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["src", "tests", "benchmarks", "examples", "docs"]


def _ruff(*arguments: str) -> subprocess.CompletedProcess:
    if importlib.util.find_spec("ruff") is None:
        pytest.fail("ruff is not installed: it comes with the test extra")
    return subprocess.run(
        [sys.executable, "-m", "ruff", *arguments, *PATHS], cwd=ROOT, capture_output=True, text=True
    )


def test_ruff_is_clean():
    result = _ruff("check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_is_ruff_formatted():
    result = _ruff("format", "--check")
    assert result.returncode == 0, "run: ruff format " + " ".join(PATHS) + "\n" + result.stdout
