"""Shared test fixtures: PyTorch as an independent oracle, and a float32 default restored."""

from __future__ import annotations

import os

import pytest

import chainrule as cr


def import_torch():
    """PyTorch, or a skip — except in CI (CHAINRULE_REQUIRE_TORCH=1), where it must be there."""
    if os.environ.get("CHAINRULE_REQUIRE_TORCH") == "1":
        import torch
    else:
        torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


@pytest.fixture(scope="session")
def torch():
    return import_torch()


@pytest.fixture(autouse=True)
def _default_dtype_float32():
    yield
    cr.set_default_dtype("float32")
