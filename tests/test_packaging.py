"""What the package ships: the licence it declares, its type marker, one version."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import tomllib

import chainrule

ROOT = Path(__file__).resolve().parents[1]


def test_the_declared_licence_is_shipped():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == {"file": "LICENSE"}
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_the_type_marker_is_in_the_package():
    assert (Path(chainrule.__file__).parent / "py.typed").exists()
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["chainrule"]
    assert "py.typed" in package_data


def test_the_version_is_written_once():
    text = (ROOT / "pyproject.toml").read_text()
    project = tomllib.loads(text)["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert tomllib.loads(text)["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "chainrule._version.__version__"
    }
    assert importlib.metadata.version("chainrule") == chainrule.__version__
