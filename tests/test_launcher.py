"""The console script's launcher: a signal while chainrule itself loads is one line and the
shell's exit code, never Python's traceback (issue 13)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

import chainrule

ROOT = Path(__file__).resolve().parents[1]
SOURCE = str(Path(chainrule.__file__).resolve().parents[1])

# The launcher, with an import hook that announces the import of chainrule.cli and then holds
# it for a while, so the test's signal arrives while chainrule is loading.
SLOW_IMPORT = """
import sys, time
class Slow:
    def find_spec(self, name, path=None, target=None):
        if name == "chainrule.cli":
            print("loading", flush=True)
            time.sleep(30)
        return None
sys.meta_path.insert(0, Slow())
import chainrule_launcher
sys.exit(chainrule_launcher.main())
"""


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": SOURCE}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(
    "signum, code, line",
    [
        (signal.SIGINT, 130, "chainrule: interrupted"),
        (signal.SIGTERM, 143, "chainrule: terminated (SIGTERM)"),
    ],
)
def test_a_signal_while_chainrule_loads_is_one_line(signum, code, line):
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_IMPORT, "--version"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(),
    )
    assert process.stdout.readline() == "loading\n"  # inside the import of chainrule.cli
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    assert process.returncode == code, err
    assert err == line + "\n"
    assert "Traceback" not in out + err


def test_the_launcher_runs_the_command():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, chainrule_launcher; sys.exit(chainrule_launcher.main())",
            "--version",
        ],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert chainrule.__version__ in result.stdout


def test_python_m_chainrule_still_works():
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "--version"],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert chainrule.__version__ in result.stdout


def test_the_console_script_is_the_launcher_and_ships():
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert settings["project"]["scripts"]["chainrule"] == "chainrule_launcher:main"
    assert "chainrule_launcher" in settings["tool"]["setuptools"]["py-modules"]
    assert (Path(SOURCE) / "chainrule_launcher.py").is_file()
