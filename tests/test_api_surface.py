"""The public surface: what ``dir(chainrule)`` shows; the engine module is ``chainrule._tensor``;
every exception class is written in ``chainrule.errors``."""

from __future__ import annotations

import ast
import builtins
import importlib
import warnings
from pathlib import Path

import pytest

import chainrule as cr
from chainrule import errors

SOURCE = Path(__file__).resolve().parents[1] / "src" / "chainrule"

# Exception classes written outside errors.py, each with its reason (private ones need none).
WRITTEN_ELSEWHERE = {
    "diagnostics.TrainingHealthWarning": "it carries a diagnostics Finding and words it in a "
    "Vocabulary, both diagnostics' own types",
}
# Where the classes of errors.py were written before, kept importable from there: the modules
# raise them, and callers import them from there.
OLD_HOMES = {
    "chainrule.activations": ["UnknownActivationError"],
    "chainrule.activations.registry": ["UnknownActivationError"],
    "chainrule.atomic": ["FileWriteError"],
    "chainrule.callbacks": ["MissingLogKeyError"],
    "chainrule.cli": ["CommandError", "UsageError"],
    "chainrule.compiler": ["CompileError", "JitFallbackWarning"],
    "chainrule.datasets": ["DataFileError", "UnknownDatasetError"],
    "chainrule.datasets.catalog": ["UnknownDatasetError"],
    "chainrule.datasets.files": ["DataFileError"],
    "chainrule.experiments.space": ["SpaceError"],
    "chainrule.experiments.storage": ["StudyFileError"],
    "chainrule.gradient_check": ["GradientCheckError", "NonFiniteError"],
    "chainrule.init": ["SymmetryWarning", "UnknownInitializerError"],
    "chainrule.model_file_schema": ["DescriptionError"],
    "chainrule.onnx_export": ["OnnxExportError", "OpsetError"],
    "chainrule.playground.messages": ["MessageError"],
    "chainrule.playground.session": ["TrainingFailed"],
    "chainrule.serialization": ["ModelFileError"],
    "chainrule.training": ["TrainingInterrupted"],
}


def test_dir_of_the_package_is_its_all_and_every_name_resolves():
    assert dir(cr) == sorted(cr.__all__)
    assert len(cr.__all__) == len(set(cr.__all__))
    for leaked in ("Any", "annotations", "importlib", "sys", "types", "warnings", "_MovedModule"):
        assert leaked not in dir(cr)
    missing = [name for name in cr.__all__ if not hasattr(cr, name)]
    assert missing == []


def test_every_lazily_loaded_name_is_listed():
    lazy = set(cr._LAZY_MODULES) | set(cr._LAZY_FUNCTIONS)
    assert sorted(lazy - set(cr.__all__)) == []


def test_tensor_is_the_function_and_the_engine_module_is_underscored():
    engine = importlib.import_module("chainrule._tensor")
    assert callable(cr.tensor) and isinstance(cr.tensor(1.0), engine.Tensor)
    assert engine.Tensor is cr.Tensor and engine.gradients is cr.gradients


def test_the_old_module_path_still_imports_with_a_deprecation_and_keeps_the_function():
    with pytest.warns(DeprecationWarning, match=r"chainrule\.tensor is now chainrule\._tensor"):
        from chainrule.tensor import Tensor
    assert Tensor is cr.Tensor
    assert callable(cr.tensor) and cr.tensor(2.0).item() == 2.0  # not replaced by a module
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImportError):
            from chainrule.tensor import _private  # noqa: F401


def _exception_classes_written_in_src() -> list[str]:
    """``module.Class`` for every class under src/chainrule that derives from an exception,
    found by name from the builtins' exceptions, to a fixed point (no import needed)."""
    classes = []
    for path in sorted(SOURCE.rglob("*.py")):
        module = ".".join(path.relative_to(SOURCE).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = [ast.unparse(base).rpartition(".")[2] for base in node.bases]
                classes.append((module, node.name, bases))
    exceptions = {
        name
        for name in dir(builtins)
        if isinstance(getattr(builtins, name), type)
        and issubclass(getattr(builtins, name), BaseException)
    }
    found: set[str] = set()
    while True:
        more = {
            f"{module}.{name}"
            for module, name, bases in classes
            if any(base in exceptions for base in bases)
        } - found
        if not more:
            return sorted(found)
        found |= more
        exceptions |= {qualified.rpartition(".")[2] for qualified in more}


def test_every_exception_class_is_written_in_errors_py():
    written = _exception_classes_written_in_src()
    assert "errors.ModelFileError" in written and "errors.OpsetError" in written  # the walk works
    elsewhere = [
        name
        for name in written
        if not name.startswith("errors.") and not name.rpartition(".")[2].startswith("_")
    ]
    assert sorted(elsewhere) == sorted(WRITTEN_ELSEWHERE)
    assert sorted(
        name.partition(".")[2] for name in written if name.startswith("errors.")
    ) == sorted(errors.__all__)


@pytest.mark.parametrize("module", sorted(OLD_HOMES))
def test_the_classes_are_still_importable_from_their_old_homes(module):
    if module.startswith("chainrule.playground"):
        pytest.importorskip("starlette")
    imported = importlib.import_module(module)
    for name in OLD_HOMES[module]:
        assert getattr(imported, name) is getattr(errors, name)


def test_one_lookup_error_base_a_key_error_and_a_value_error_printed_as_written():
    from chainrule import datasets, init

    lookups = [
        (lambda: cr.activations.get("relux"), errors.UnknownActivationError),
        (lambda: init.get("he_nromal"), errors.UnknownInitializerError),
        (lambda: datasets.load("moonz"), errors.UnknownDatasetError),
    ]
    for lookup, kind in lookups:
        with pytest.raises(kind) as caught:
            lookup()
        assert isinstance(caught.value, errors.UnknownNameError)
        assert isinstance(caught.value, KeyError) and isinstance(caught.value, ValueError)
        assert str(caught.value).startswith("unknown ") and "did you mean" in str(caught.value)
    checkpoint = cr.callbacks.ModelCheckpoint("ckpt-{val_accuracy}.npz")
    with pytest.raises(errors.MissingLogKeyError) as caught:
        checkpoint.path_for(0, {"loss": 1.0})
    assert isinstance(caught.value, errors.UnknownNameError)
    assert str(caught.value).startswith("ModelCheckpoint filepath 'ckpt-{val_accuracy}.npz'")
    subclasses = {cls.__name__ for cls in errors.UnknownNameError.__subclasses__()}
    assert subclasses == {
        "UnknownActivationError",
        "UnknownInitializerError",
        "UnknownDatasetError",
        "UnknownLayerError",
        "MissingLogKeyError",
    }
    with pytest.raises(errors.UnknownLayerError) as caught:
        cr.nn.layer_class("Dence")
    assert str(caught.value).startswith("no layer class 'Dence' is registered")


def _public_modules() -> list[str]:
    names = []
    for path in sorted(SOURCE.rglob("*.py")):
        parts = list(path.relative_to(SOURCE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if not any(part.startswith("_") for part in parts):
            names.append(".".join(["chainrule", *parts]))
    return names


@pytest.mark.parametrize("module", _public_modules())
def test_every_public_module_lists_its_names_in_all_and_each_resolves(module):
    path = SOURCE.joinpath(*module.split(".")[1:])
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assigned = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(getattr(target, "id", None) == "__all__" for target in node.targets)
    ]
    assert len(assigned) == 1, f"{module} has no __all__ (or two)"
    extras = {"chainrule.playground.server": "starlette", "chainrule.sklearn": "sklearn"}
    if module in extras:
        pytest.importorskip(extras[module])
    imported = importlib.import_module(module)
    assert [name for name in imported.__all__ if not hasattr(imported, name)] == []
    assert all(isinstance(name, str) for name in imported.__all__)
    assert len(imported.__all__) == len(set(imported.__all__)), f"{module}.__all__ repeats a name"


def test_import_chainrule_leaves_what_the_first_step_does_not_need_unloaded():
    """The import-time target (≤ 0.25 s): numpy.random (17 ms with its `secrets`), the
    compiler, the numba kernels and the optional extras load on first use, not at import."""
    import subprocess
    import sys

    later = [
        "numpy.random",
        "numba",
        "matplotlib",
        "scipy",
        "torch",
        "chainrule.compiler",
        "chainrule.fast",
        "chainrule.plot",
        "chainrule.cli",
        "chainrule.experiments",
    ]
    code = f"import sys, chainrule; print([m for m in {later!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
