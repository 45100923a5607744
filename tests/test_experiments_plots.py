"""chainrule study plot and study export --html: the figures show the stored figures, in the
format the suffix names, and the HTML report is one self-contained file."""

from __future__ import annotations

import os
import re
import statistics
from concurrent.futures import ThreadPoolExecutor

import pytest

if os.environ.get("CHAINRULE_REQUIRE_PLOT") == "1":
    import matplotlib  # noqa: F401 - in CI the plot extra must be installed
else:
    pytest.importorskip("matplotlib")

import chainrule as cr
from chainrule.cli import main
from chainrule.experiments import RunAll, Study
from chainrule.experiments.claims import study_claims
from chainrule.experiments.plots import (
    _new_figure,
    gradient_norm_by_layer,
    metric_against_learning_rate,
    unhealthy_fraction_by_layer,
)

XOR = {"data": "xor", "samples": 64, "width": 4, "batch_size": 16}
CONFIGS = [
    {**XOR, "activation": activation, "depth": depth, "lr": lr, "seed": 0}
    for activation in ("sigmoid", "relu")
    for depth in (1, 3)
    for lr in (0.003, 0.03)
]


@pytest.fixture(scope="module")
def study_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("plots") / "xor.study"
    with Study.open_or_create(path, CONFIGS, RunAll(2), extra={"command": "compare"}) as study:
        study.run(ThreadPoolExecutor(1), parallel=1)
    return path


def _trials(path):
    with Study.open(path) as study:
        return study.trials(), study.objective


@pytest.mark.parametrize(
    "suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")]
)
def test_study_plot_writes_the_format_of_the_suffix(study_path, tmp_path, suffix, magic):
    output = tmp_path / f"figure{suffix}"
    assert main(["study", "plot", str(study_path), "-o", str(output)]) == 0
    assert output.read_bytes().startswith(magic) and output.stat().st_size > 5000
    assert os.listdir(tmp_path) == [output.name]  # written atomically: no temporary left


def test_study_plot_refuses_an_unknown_suffix_and_an_untrained_study(study_path, tmp_path, capsys):
    assert main(["study", "plot", str(study_path), "-o", str(tmp_path / "f.jpeg")]) == 2
    assert "end the name with .png, .svg, .pdf" in capsys.readouterr().err
    empty = tmp_path / "empty.study"
    Study.open_or_create(empty, CONFIGS[:1], RunAll(1)).close()
    assert main(["study", "plot", str(empty), "-o", str(tmp_path / "f.png")]) == 1
    assert "no trial of the study has finished" in capsys.readouterr().err.splitlines()[-1]


def test_the_panels_draw_the_stored_figures(study_path):
    trials, objective = _trials(study_path)
    figure = _new_figure(4, 3)
    axes = figure.add_subplot(1, 1, 1)
    metric_against_learning_rate(axes, trials, objective)
    assert axes.get_xscale() == "log"
    points = sorted(tuple(p) for c in axes.collections for p in c.get_offsets().tolist())
    assert points == sorted((t.config["lr"], t.value("val_accuracy")) for t in trials)

    axes = figure.add_subplot(1, 1, 1)
    gradient_norm_by_layer(axes, trials, objective)
    assert axes.get_yscale() == "log" and len(axes.lines) == 4  # 2 activations × 2 depths
    deep_sigmoid = [
        t for t in trials if t.config["depth"] == 3 and t.config["activation"] == "sigmoid"
    ]
    first = statistics.fmean(
        statistics.fmean(t.history["health/dense/grad_norm"]) for t in deep_sigmoid
    )
    last = statistics.fmean(
        statistics.fmean(t.history["health/dense_3/grad_norm"]) for t in deep_sigmoid
    )
    deep_lines = [list(line.get_ydata()) for line in axes.lines if len(line.get_ydata()) == 4]
    assert any(y[0] == pytest.approx(first) and y[-1] == pytest.approx(last) for y in deep_lines)
    assert first < last  # sigmoid's gradient shrinks towards the first layer

    axes = figure.add_subplot(1, 1, 1)
    unhealthy_fraction_by_layer(axes, trials, objective)
    three_layer = [line for line in axes.lines if len(line.get_xdata()) == 3]
    assert len(three_layer) == 2 and all(
        0 <= y <= 1 for line in axes.lines for y in line.get_ydata()
    )


def test_the_html_report_is_self_contained(study_path, tmp_path):
    report, model = tmp_path / "report.html", tmp_path / "best.npz"
    assert (
        main(["study", "export", str(study_path), "--html", str(report), "--model", str(model)])
        == 0
    )
    page = report.read_text(encoding="utf-8")
    trials, _ = _trials(study_path)
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 4
    assert f"{len(trials)} trials: {len(trials)} done" in page
    assert page.count("<tr>") == 1 + len(trials)  # every setting is ranked (one seed each)
    for claim in study_claims(trials):
        assert claim.sentence.replace("'", "&#x27;") in page
    assert not re.search(r"<script|<link|<img|src=|url\((?!#)", page)  # url(#id): in-page
    assert set(re.findall(r"https?://[^\"' ]+", page)) <= {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }
    assert cr.load(model).metadata["trial"] in {t.id for t in trials}
