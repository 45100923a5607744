"""Computation-graph drawings: DOT text for docs/math.md §4's example, files, rendering, errors."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import numpy as np
import pytest

import chainrule as cr
from chainrule import graph
from chainrule.graph import draw_graph

NODE = re.compile(r'^\s*(n\d+) \[label="((?:[^"\\]|\\.)*)", ([^\]]*)\];$', re.MULTILINE)
EDGE = re.compile(r"^\s*(n\d+) -> (n\d+)(?: \[label=\"[^\"]*\"\])?;$", re.MULTILINE)
HAS_DOT = shutil.which("dot") is not None or bool(os.environ.get("CHAINRULE_REQUIRE_DOT"))


def spec_example() -> dict[str, cr.Tensor]:
    """docs/math.md §4: f = 1 / (exp(−(w·x + b)) + 1) from primitive ops at x = 1, w = 0, b = 0."""
    x = cr.tensor(1.0)
    w = cr.tensor(0.0, requires_grad=True)
    b = cr.tensor(0.0, requires_grad=True)
    h1 = x * w
    h2 = h1 + b
    h3 = -h2
    h4 = cr.exp(h3)
    h5 = h4 + 1
    h6 = 1 / h5
    for h in (h1, h2, h3, h4, h5):
        h.retain_grad()
    h6.backward(retain_graph=True)
    return {"x": x, "w": w, "b": b, "h1": h1, "h2": h2, "h3": h3, "h4": h4, "h5": h5, "h6": h6}


def parse(dot: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str]]]:
    """node id → (label, attributes), and the edges, of DOT text written by draw_graph."""
    nodes = {m.group(1): (m.group(2), m.group(3)) for m in NODE.finditer(dot)}
    return nodes, EDGE.findall(dot)


def test_spec_example_graph_structure_values_and_gradients():
    t = spec_example()
    assert t["w"].grad.item() == 0.25  # the example itself is right before we draw it
    dot = draw_graph(t["h6"], names={t["x"]: "x", t["w"]: "w", id(t["b"]): "b"})
    assert dot.startswith("digraph chainrule {\n") and dot.endswith("}\n")
    assert "rankdir=LR;" in dot
    nodes, edges = parse(dot)
    # Every node line was parsed: nothing the regex missed.
    assert len(nodes) == sum("[label=" in line and "->" not in line for line in dot.splitlines())
    ops = [label.split("\\n")[0] for label, attrs in nodes.values() if "ellipse" in attrs]
    assert sorted(ops) == sorted(["mul", "add", "neg", "exp", "add", "div"])
    leaves = [label.split("\\n")[0] for label, attrs in nodes.values() if "box" in attrs]
    # x, w, b and the two constants 1 (in h4 + 1 and 1 / h5).
    assert sorted(leaves) == ["b", "input", "input", "w", "x"]
    assert len(nodes) == 11
    assert len(edges) == 10  # mul 2, add 2, neg 1, exp 1, add 2, div 2
    assert len(set(edges)) == 10
    # The root is n0, drawn bold, and its value is f = 0.5.
    root_label, root_attrs = nodes["n0"]
    # h6 itself did not call retain_grad(), so it shows no gradient.
    assert root_label.split("\\n") == ["div", "shape ()", "value 0.5"]
    assert "penwidth=2" in root_attrs
    by_title = {label.split("\\n")[0]: label.split("\\n") for label, _ in nodes.values()}
    assert "∂ = 0.25" in by_title["w"]
    assert "∂ = 0.25" in by_title["b"]
    assert "value 0" in by_title["w"]
    assert "∂ = -0.25" in by_title["neg"]  # retained: ∂f/∂h3 = −σ'(0)
    assert "∂ = -0.25" in by_title["exp"]  # ∂f/∂h4 = −1/h5² = −0.25
    assert not any(line.startswith("∂") for line in by_title["x"])  # x needs no gradient
    # Edges follow the computation: x → mul, w → mul, mul → add, …, add → div.
    titles = {node: label.split("\\n")[0] for node, (label, _) in nodes.items()}
    named_edges = sorted((titles[a], titles[b]) for a, b in edges)
    assert named_edges == sorted(
        [
            ("x", "mul"),
            ("w", "mul"),
            ("mul", "add"),
            ("b", "add"),
            ("add", "neg"),
            ("neg", "exp"),
            ("exp", "add"),
            ("input", "add"),
            ("input", "div"),
            ("add", "div"),
        ]
    )


def test_unretained_intermediate_shows_no_gradient_and_flags_hide_lines():
    w = cr.tensor(0.0, requires_grad=True)
    h = w * 2.0
    f = cr.exp(h)
    f.backward(retain_graph=True)
    nodes, _ = parse(draw_graph(f))
    mul_label = next(label for label, _ in nodes.values() if label.startswith("mul"))
    assert "∂" not in mul_label  # h.grad was not retained
    param_label = next(label for label, _ in nodes.values() if label.startswith("parameter"))
    assert "∂ = 2" in param_label.split("\\n")
    bare = draw_graph(f, show_values=False, show_grads=False)
    assert "value" not in bare and "∂" not in bare
    assert "shape ()" in bare


def test_large_tensors_are_summarized():
    x = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    s = (x * 2.0).sum()
    s.backward(retain_graph=True)
    nodes, _ = parse(draw_graph(s))
    param = next(label for label, _ in nodes.values() if label.startswith("parameter"))
    lines = param.split("\\n")
    assert "shape (2, 3)" in lines
    assert "value mean 2.5, min 0, max 5" in lines
    assert "∂ = mean 2, min 2, max 2" in lines


def test_output_is_deterministic():
    first = draw_graph(spec_example()["h6"])
    second = draw_graph(spec_example()["h6"])
    assert first == second
    t = spec_example()
    assert draw_graph(t["h6"]) == draw_graph(t["h6"]) == first


def test_shared_parent_is_one_node_with_one_edge_per_use():
    x = cr.tensor(3.0, requires_grad=True)
    y = x * x
    nodes, edges = parse(draw_graph(y))
    assert len(nodes) == 2
    assert edges == [("n1", "n0"), ("n1", "n0")]


def test_labels_with_quotes_backslashes_and_newlines_are_escaped():
    w = cr.tensor(1.0, requires_grad=True)
    y = w * 2.0
    dot = draw_graph(y, names={w: 'say "hi"\\ now\nline2'})
    assert 'say \\"hi\\"\\\\ now\\nline2' in dot
    nodes, _ = parse(dot)
    assert len(nodes) == 3  # the escaped label did not break the node line
    assert graph.escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    assert graph.escape_label("end\\") == "end\\\\"


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz 'dot' is not installed")
def test_graphviz_accepts_the_escaped_dot_text():
    w = cr.tensor(1.0, requires_grad=True)
    y = w * 2.0
    dot = draw_graph(y, names={w: 'q"uote\\ and\nnew line'})
    result = subprocess.run(
        [shutil.which("dot"), "-Tsvg"], input=dot.encode(), capture_output=True, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b"q&quot;uote" in result.stdout or b'q"uote' in result.stdout


def test_max_nodes_error():
    t = spec_example()
    with pytest.raises(ValueError, match="more than max_nodes=5 nodes"):
        draw_graph(t["h6"], max_nodes=5)
    assert draw_graph(t["h6"], max_nodes=11)  # exactly enough is fine
    with pytest.raises(ValueError, match="more than max_nodes=10"):
        draw_graph(t["h6"], max_nodes=10)
    with pytest.raises(ValueError, match="positive integer"):
        draw_graph(t["h6"], max_nodes=0)


def test_bad_arguments():
    with pytest.raises(TypeError, match="expected a Tensor"):
        draw_graph(np.zeros(3))
    x = cr.tensor(1.0, requires_grad=True)
    with pytest.raises(TypeError, match="keys must be tensors"):
        draw_graph(x, names={"x": "x"})
    with pytest.raises(ValueError, match="format= needs a path"):
        draw_graph(x, format="svg")


def test_freed_graph_draws_what_is_reachable():
    w = cr.tensor(0.0, requires_grad=True)
    f = cr.exp(w * 2.0)
    f.backward()  # frees the graph
    nodes, edges = parse(draw_graph(f))
    assert len(nodes) == 1 and edges == []
    label = nodes["n0"][0]
    assert label.startswith("exp\\n")
    assert "inputs freed by backward" in label


def test_leaf_alone():
    x = cr.tensor([1.0, 2.0])
    nodes, edges = parse(draw_graph(x))
    assert list(nodes) == ["n0"] and edges == []
    assert nodes["n0"][0].split("\\n") == ["input", "shape (2,)", "value mean 1.5, min 1, max 2"]


def test_write_dot_file(tmp_path):
    t = spec_example()
    target = tmp_path / "sub" / "graph.dot"
    dot = draw_graph(t["h6"], target)
    assert target.read_text(encoding="utf-8") == dot
    assert not [p for p in target.parent.iterdir() if p.name != "graph.dot"]  # no temp left
    other = tmp_path / "graph.txt"
    draw_graph(t["h6"], other, format="dot")
    assert other.read_text(encoding="utf-8") == dot
    with pytest.raises(ValueError, match="cannot tell the format"):
        draw_graph(t["h6"], tmp_path / "graph.txt")
    with pytest.raises(ValueError, match="format must be one of"):
        draw_graph(t["h6"], tmp_path / "graph.pdf", format="pdf")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
def test_render_svg_and_png(tmp_path):
    t = spec_example()
    svg = tmp_path / "graph.svg"
    draw_graph(t["h6"], svg)
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text and "div" in text and "∂ = 0.25" in text
    png = tmp_path / "graph.png"
    draw_graph(t["h6"], png)
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    forced = tmp_path / "graph.img"
    draw_graph(t["h6"], forced, format="png")
    assert forced.read_bytes().startswith(b"\x89PNG")


def test_missing_dot_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)
    t = spec_example()
    target = tmp_path / "graph.svg"
    with pytest.raises(RuntimeError, match="apt-get install graphviz") as info:
        draw_graph(t["h6"], target)
    assert ".dot" in str(info.value)
    assert not target.exists()
    assert not list(tmp_path.iterdir())
    draw_graph(t["h6"], tmp_path / "graph.dot")  # .dot needs no Graphviz
    assert (tmp_path / "graph.dot").exists()


def test_failing_dot_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: "/bin/false")
    target = tmp_path / "graph.png"
    with pytest.raises(RuntimeError, match="failed"):
        draw_graph(cr.tensor(1.0), target)
    assert not target.exists()


def test_exact_dot_for_a_small_graph():
    w = cr.tensor(0.5, requires_grad=True)
    y = w * 2.0
    y.backward(retain_graph=True)
    assert draw_graph(y, names={w: "w"}) == (
        "digraph chainrule {\n"
        "  rankdir=LR;\n"
        '  node [fontname="Helvetica", fontsize=10];\n'
        '  edge [fontname="Helvetica", fontsize=9];\n'
        '  n2 [label="input\\nshape ()\\nvalue 2", shape=box, style="rounded,filled", '
        "fillcolor=lightgrey];\n"
        '  n1 [label="w\\nshape ()\\nvalue 0.5\\n∂ = 2", shape=box, style="rounded,filled", '
        "fillcolor=lightblue];\n"
        '  n0 [label="mul\\nshape ()\\nvalue 1", shape=ellipse, penwidth=2];\n'
        "  n1 -> n0;\n"
        "  n2 -> n0;\n"
        "}\n"
    )
