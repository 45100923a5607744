"""The API reference builds from the docstrings without a warning and covers the entry points."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    if importlib.util.find_spec("pdoc") is None:
        pytest.fail("pdoc is not installed: it comes with the test extra")
    spec = importlib.util.spec_from_file_location("build_api", ROOT / "docs" / "build_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    output = tmp_path_factory.mktemp("api")
    pages = module.build(output)  # warnings are errors inside build()
    return output, pages


def test_every_public_module_has_a_page(reference):
    output, pages = reference
    import chainrule

    names = {page.relative_to(output).as_posix() for page in pages}
    for name in chainrule.__all__:
        value = getattr(chainrule, name)
        if type(value).__name__ == "module":
            assert f"chainrule/{name}.html" in names, name
    assert "chainrule/sklearn.html" in names


@pytest.mark.parametrize(
    "page, entry",
    [
        ("chainrule.html", "Model.fit"),
        ("chainrule.html", "Model.compile"),
        ("chainrule.html", "Model.evaluate"),
        ("chainrule.html", "Model.predict"),
        ("chainrule.html", "gradcheck"),
        ("chainrule.html", "draw_graph"),
        ("chainrule/nn.html", "Dense"),
        ("chainrule/optim.html", "Adam"),
        ("chainrule/activations.html", "register"),
        ("chainrule/datasets.html", "load"),
    ],
)
def test_the_entry_points_are_documented(reference, page, entry):
    output, _ = reference
    html = (output / page).read_text(encoding="utf-8")
    assert re.search(rf'id="{re.escape(entry)}"', html), f"{entry} is missing from {page}"


def _entry_points():
    import chainrule as cr

    return {
        "chainrule.gradcheck": cr.gradcheck,
        "chainrule.draw_graph": cr.draw_graph,
        "chainrule.datasets.load": cr.datasets.load,
        "chainrule.activations.register": cr.activations.register,
        **{
            f"chainrule.optim.{name}": getattr(cr.optim, name)
            for name in ("Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad")
        },
        **{
            f"chainrule.Model.{name}": getattr(cr.Model, name)
            for name in ("compile", "fit", "evaluate", "predict", "predict_proba")
        },
        **{
            f"chainrule.nn.{name}": getattr(cr.nn, name)
            for name in (
                "Dense",
                "Activation",
                "PReLU",
                "Maxout",
                "Dropout",
                "BatchNorm",
                "Flatten",
            )
        },
    }


@pytest.mark.parametrize("name", sorted(_entry_points()))
def test_the_entry_points_have_args_and_returns_sections(name):
    entry = _entry_points()[name]
    import inspect

    doc = inspect.cleandoc(entry.__doc__ or "")  # methods' docstrings are indented deeper
    assert "\nArgs:\n" in doc, f"{name} lacks an Args section"
    returns_nothing = inspect.signature(entry).return_annotation in (None, "None")
    assert isinstance(entry, type) or returns_nothing or "\nReturns:\n" in doc, (
        f"{name} lacks Returns"
    )
    args = doc.split("\nArgs:\n", 1)[1].split("\n\n", 1)[0]
    names = {
        name.strip().lstrip("*")
        for line in re.findall(r"^    ([\w*, ]+):", args, re.M)
        for name in line.split(",")
    }
    parameters = set(inspect.signature(entry).parameters) - {"self"}
    assert parameters <= names, f"{name}: {sorted(parameters - names)} not in Args"
