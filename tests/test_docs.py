"""The math reference in docs/ stays in step with the library it describes."""

from __future__ import annotations

import re
from pathlib import Path

import chainrule as cr

MATH = Path(__file__).resolve().parents[1] / "docs" / "math.md"


def test_the_activation_table_has_a_row_for_every_catalog_activation():
    rows = re.findall(r"^\| ([a-z_0-9]+)[ (|]", MATH.read_text(encoding="utf-8"), re.M)
    assert sorted(set(rows) - {"name"}) == sorted(cr.activations.names())


def test_the_worked_example_of_section_4_holds():
    x = cr.tensor(1.0)
    w = cr.tensor(0.0, requires_grad=True)
    b = cr.tensor(0.0, requires_grad=True)
    (1 / (cr.exp(-(w * x + b)) + 1)).backward()
    assert "∂f/∂w = 1 × (−0.25) × 1 × 1 × (−1) × 1 × 1 = 0.25" in MATH.read_text(encoding="utf-8")
    assert w.grad.item() == 0.25
