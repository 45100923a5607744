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


def test_the_code_and_readme_cite_docs_math_and_its_sections_exist():
    """Citations name docs/math.md (not a SPEC file the repository lacks) and a section it has."""
    root = MATH.parents[1]
    texts = {p: p.read_text(encoding="utf-8") for p in (root / "src").rglob("*.py")}
    texts[root / "README.md"] = (root / "README.md").read_text(encoding="utf-8")
    stale = [str(p) for p, text in texts.items() if re.search(r"\bSPEC\b(?!FUN)", text)]
    assert stale == []
    sections = set(re.findall(r"^## (\d+)\.", MATH.read_text(encoding="utf-8"), re.M))
    cited = {n for text in texts.values() for n in re.findall(r"docs/math\.md §(\d+)", text)}
    assert cited and cited <= sections
