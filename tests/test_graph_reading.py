"""Graphs a learner can read: every node's gradient, operand roles, parameter names, hints."""

from __future__ import annotations

import os
import re
import shutil

import numpy as np
import pytest

import chainrule as cr
from chainrule.graph import draw_graph, show_graph, trace_gradients
from chainrule.models import Sequential
from chainrule.nn import Dense

HAS_DOT = shutil.which("dot") is not None or bool(os.environ.get("CHAINRULE_REQUIRE_DOT"))
LABELS = re.compile(r'label="((?:[^"\\]|\\.)*)"')


def spec_example():
    x, w, b = cr.tensor(1.0), cr.tensor(0.0, requires_grad=True), cr.tensor(0.0, requires_grad=True)
    return 1 / (cr.exp(-(x * w + b)) + 1), w


def test_trace_gradients_shows_every_intermediate_gradient_of_the_spec_example():
    f, w = spec_example()
    trace_gradients(f)
    assert w.grad.item() == 0.25
    labels = [label.split("\\n") for label in LABELS.findall(draw_graph(f))]
    grads = {parts[0]: parts[-1] for parts in labels if parts[-1].startswith("∂")}
    # docs/math.md §4: ∂f/∂h5 = −1/h5² = −0.25, ∂f/∂h4 = −0.25, ∂f/∂h3 = −0.25·e⁰, ∂f/∂h2 = 0.25
    assert grads["exp"] == "∂ = -0.25" and grads["neg"] == "∂ = -0.25"
    assert grads["mul"] == "∂ = 0.25" and grads["div"] == "∂ = 1"


def test_edges_name_the_operand_roles():
    a = cr.tensor([[1.0, 2.0]], requires_grad=True)
    weight = cr.tensor([[0.5, -1.0]], requires_grad=True)
    bias = cr.tensor([0.1], requires_grad=True)
    z = cr.ops.linear(a, weight, bias)
    ratio = z / (z**2.0 + 1)
    chosen = cr.where(ratio > 0, ratio, ratio * 2) @ cr.tensor([[1.0]])
    dot = draw_graph(chosen)
    for role in (
        "numerator",
        "denominator",
        "base",
        "exponent",
        '"x"',
        '"W"',
        '"b"',
        "condition",
        "if true",
        "if false",
        '"a"',
    ):
        assert f"[label={role if role.startswith(chr(34)) else chr(34) + role + chr(34)}]" in dot


def test_model_parameters_are_named():
    model = Sequential([Dense(2, input_dim=2), Dense(1)], seed=0)
    model.compile(loss="mse")
    loss = model.total_loss(model(np.ones((1, 2), np.float32)), np.zeros((1, 1)))
    dot = draw_graph(loss, model=model)
    for name in ("dense.weight", "dense.bias", "dense_1.weight", "dense_1.bias"):
        assert f'label="{name}\\n' in dot
    assert "parameter" not in dot
    with pytest.raises(TypeError, match="model= must be a chainrule Module"):
        draw_graph(loss, model=object())


def test_a_freed_graph_says_what_to_do():
    f, _ = spec_example()
    f.backward()
    dot = draw_graph(f)
    assert "freed by backward()" in dot and "trace_gradients" in dot
    with pytest.raises(cr.GraphFreedError, match="draw it before backward"):
        trace_gradients(f)


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz 'dot' is not installed")
def test_graph_view_renders_svg_for_notebooks():
    f, _ = spec_example()
    view = show_graph(trace_gradients(f))
    svg = view._repr_svg_()
    assert svg.lstrip().startswith("<?xml") or svg.lstrip().startswith("<svg")
    assert "</svg>" in svg and "numerator" in svg and "∂ = 0.25" in svg
    assert str(view) == draw_graph(f)
