"""Notebook views: _repr_html_ of Model, History, GradCheckReport and Explanation."""

from __future__ import annotations

import importlib.util
from html.parser import HTMLParser

import numpy as np

import chainrule as cr
from chainrule.callbacks import History
from chainrule.models import Sequential
from chainrule.nn import Dense

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
        assert f"{parameter.relative_error:.2e}" in text and f"{parameter.relative_error:.2e}" \
            in str(report)
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
