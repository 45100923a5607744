"""Notebook views: _repr_html_ of Model, History, GradCheckReport, Explanation and the health
report, _repr_svg_ of plots, and the gradcheck table the README shows."""

from __future__ import annotations

import importlib.util
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.callbacks import History
from chainrule.models import Sequential
from chainrule.nn import Dense

README = Path(__file__).resolve().parents[1] / "README.md"
VOID = {"br", "hr", "img", "meta", "link", "input"}


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def well_formed_text(page: str) -> str:
    """The text of ``page``, after checking that every tag is closed in order."""
    parser = _Balance()
    parser.feed(page)
    parser.close()
    assert parser.stack == [], f"unclosed tags {parser.stack}"
    return "".join(parser.text)


def small_model():
    model = Sequential([Dense(3, input_dim=2, activation="tanh"), Dense(1)], seed=0)
    model.compile(loss="mse", optimizer="sgd")
    return model


def test_model_html_is_its_summary_as_a_table():
    text = well_formed_text(small_model()._repr_html_())
    assert 'Model: "sequential"' in text and "dense (Dense)" in text and "(None, 3)" in text
    assert "Total parameters: 13" in text  # 2·3 + 3 + 3·1 + 1


def test_history_html_has_the_curves_or_the_numbers():
    history = History()
    history.append(0, {"loss": 0.9, "val_loss": 1.0})
    history.append(1, {"loss": 0.5, "val_loss": 0.75})
    page = history._repr_html_()
    if importlib.util.find_spec("matplotlib") is not None:
        assert "<svg" in page and "</svg>" in page
    else:
        text = well_formed_text(page)
        assert "0.9" in text and "0.75" in text
    assert "no epoch" in History()._repr_html_()


def test_gradcheck_report_html_agrees_with_its_text():
    model = small_model()
    rng = np.random.default_rng(0)
    report = model.gradcheck(rng.normal(size=(4, 2)), rng.normal(size=(4, 1)))
    text = well_formed_text(report._repr_html_())
    for parameter in report.parameters:
        assert parameter.name in text
        assert (
            f"{parameter.relative_error:.2e}" in text
            and f"{parameter.relative_error:.2e}" in str(report)
        )
    assert report.verdict in text and "Gradient check of model" in text


def test_explanation_html_carries_the_numbers():
    model = small_model()
    explanation = model.explain([0.5, -0.25], [1.0])
    text = well_formed_text(explanation._repr_html_())
    assert f"{explanation.loss:.4g}" in text and "δ⁽¹⁾" in text and "verified" in text
    assert str(explanation) == text.strip()


def test_graph_view_text_is_the_dot():
    w = cr.tensor(1.0, requires_grad=True)
    view = cr.show_graph(w * 2.0)
    assert str(view).startswith("digraph chainrule {") and "GraphView(3 nodes" in repr(view)


def test_health_report_html_is_its_table_and_its_findings():
    import html as html_module

    from chainrule.nn import Activation

    model = Sequential(
        [Dense(4, input_dim=2), Activation("tanh"), Dense(3), Activation("relu"), Dense(1)], seed=0
    )
    model.compile(loss="mse", optimizer="sgd")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 2)), rng.normal(size=(64, 1))
    healthy = model.health(x, y)
    page = healthy._repr_html_()
    text = well_formed_text(page)
    assert "<th>Grad norm</th>" in page and "<td>dense_1</td>" in page
    assert healthy.summary() in text and "warning" not in text
    assert "Dead: units that output 0 on every sample." in text
    weights = model.get_weights()
    weights[2] = np.full_like(weights[2], np.nan)  # the relu layer's kernel: never OK
    model.set_weights(weights)
    sick = model.health(x)
    page = sick._repr_html_()
    well_formed_text(page)
    assert not sick.ok and sick.warnings
    for message in sick.warnings:
        assert f"<p><b>warning:</b> {html_module.escape(message)}</p>" in page
    for line in sick.table()[1:]:
        assert "".join(f"<td>{cell}</td>" for cell in line) in page
    empty = Sequential([Dense(1, input_dim=2)], seed=0).health(x)
    assert "(no Dense layer followed by an activation)</caption>" in empty._repr_html_()


def test_plots_display_as_svg_in_notebooks():
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from chainrule import plot

    figure = plot.activations(["tanh", "relu"])
    svg = figure._repr_svg_()
    assert isinstance(figure, Figure) and svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg and svg.count('<g id="axes_') == 2  # one panel per activation
    history = History()
    history.append(0, {"loss": 0.9, "val_loss": 1.0})
    assert plot.history(history)._repr_svg_().startswith("<svg")


def _readme_gradcheck():
    """The README's gradcheck snippet and the output it shows below it."""
    text = README.read_text(encoding="utf-8")
    match = re.search(
        r"```python\n((?:(?!```).)*print\(report\)(?:(?!```).)*)```\n\n"
        r"```text\n(.*?)```",
        text,
        re.S,
    )
    assert match, "the README shows print(report) and its output"
    return match.group(1), match.group(2)


def _masked(text):
    """The text with what rounding may change masked: f(θ) and the errors (e-05 and below)."""
    text = re.sub(r"f\(θ\) = [0-9.e+-]+", "f(θ) = …", text)
    return re.sub(r"\d\.\d\de-(0[5-9]|[1-9]\d)", "…", text).rstrip()


def test_print_gradcheck_shows_the_table_the_readme_shows(capsys):
    snippet, shown = _readme_gradcheck()
    exec(compile(snippet, str(README), "exec"), {})
    printed = capsys.readouterr().out
    assert "relative error  noise floor  verdict" in printed
    assert _masked(printed) == _masked(shown)
