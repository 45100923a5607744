"""The public surface: what ``dir(chainrule)`` shows; the engine module is ``chainrule._tensor``."""

from __future__ import annotations

import importlib
import warnings

import pytest

import chainrule as cr


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
