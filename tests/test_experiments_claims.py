"""The preset study's claims follow the stored figures: opposite data, opposite sentences."""

from __future__ import annotations

import statistics

import pytest

from chainrule.cli import main
from chainrule.experiments import Study
from chainrule.experiments.claims import (
    first_layer_gradient_norm,
    format_claims,
    layer_names,
    study_claims,
)
from chainrule.experiments.storage import TrialRecord


def _trial(id, data, depth, activation, seed, accuracy, first_grad, dead=0.0):
    """A finished trial as the study file would hold it: depth hidden layers + the output."""
    names = ["dense", *(f"dense_{i}" for i in range(1, depth + 1))]
    history = {"val_accuracy": [accuracy / 2, accuracy]}
    for name in sorted(names):  # stored alphabetically, like the file
        history[f"health/{name}/grad_norm"] = [first_grad if name == "dense" else 0.5] * 2
    for name in names[:-1]:
        if activation == "relu":
            history[f"health/{name}/dead"] = [0.0, dead]
    return TrialRecord(
        id=id,
        status="done",
        epochs_done=2,
        history=history,
        config={"data": data, "depth": depth, "activation": activation, "seed": seed},
    )


def _study(data, figures):
    """``figures[(depth, activation)] = (accuracies per seed, first-layer norm, dead)``."""
    trials = []
    for (depth, activation), (accuracies, norm, dead) in figures.items():
        for seed, accuracy in enumerate(accuracies):
            trials.append(
                _trial(
                    len(trials),
                    data,
                    depth,
                    activation,
                    seed,
                    accuracy,
                    norm * (1 + 0.1 * seed),
                    dead * (1 + seed) / 2,
                )
            )
    return trials


VANISHING = _study(
    "deep",
    {
        (2, "sigmoid"): ([0.80, 0.82], 1e-3, 0),
        (2, "relu"): ([0.90, 0.92], 2e-3, 0.1),
        (10, "sigmoid"): ([0.50, 0.52], 1e-6, 0),
        (10, "relu"): ([0.95, 0.97], 1e-3, 0.4),
        (10, "gelu"): ([0.95, 0.96], 1e-3, 0),
        (10, "mish"): ([0.60, 0.62], 1e-3, 0),
    },
)
OPPOSITE = _study(
    "flat",
    {
        (2, "sigmoid"): ([0.97, 0.99], 4e-3, 0),
        (2, "relu"): ([0.60, 0.62], 1e-3, 0),
        (10, "sigmoid"): ([0.97, 0.98], 1e-2, 0),
        (10, "relu"): ([0.60, 0.61], 1e-4, 0),
        (10, "gelu"): ([0.40, 0.41], 1e-3, 0),
        (10, "mish"): ([0.30, 0.31], 1e-3, 0),
    },
)


def _sentences(trials, topic):
    return [claim.sentence for claim in study_claims(trials) if claim.topic == topic]


def test_layers_are_put_back_in_network_order():
    trial = _trial(0, "x", 10, "relu", 0, 0.9, 1e-3)
    assert layer_names(trial) == ["dense", *(f"dense_{i}" for i in range(1, 11))]
    assert first_layer_gradient_norm(trial) == pytest.approx(1e-3)


def test_vanishing_gradient_sentences_follow_the_data():
    deep = _sentences(VANISHING, "vanishing_gradient")
    norms = {t.config["activation"]: [] for t in VANISHING}
    for t in VANISHING:
        if t.config["depth"] == 10:
            norms[t.config["activation"]].append(first_layer_gradient_norm(t))
    factor = statistics.fmean(norms["relu"]) / statistics.fmean(norms["sigmoid"])
    assert (
        f"deep, depth 10: sigmoid's first-layer gradient norm is {factor:.3g}× smaller "
        "than ReLU's" in deep[1]
    )
    assert "final val_accuracy 51.0% ± 1.4 vs 96.0% ± 1.4" in deep[1]
    assert "grows with depth (2× at depth 2" in deep[2]
    flat = _sentences(OPPOSITE, "vanishing_gradient")
    assert "depth 10: sigmoid's first-layer gradient norm is 100× larger than ReLU's" in flat[1]
    assert "shrinks with depth" in flat[2]


def test_accuracy_dead_relu_and_non_monotonic_sentences_follow_the_data():
    accuracy = _sentences(VANISHING, "accuracy")
    assert accuracy[1].startswith("deep, depth 10: final val_accuracy ReLU 96.0% ± 1.4, GELU")
    assert accuracy[1].endswith("(2 seeds each); best ReLU, worst sigmoid.")
    assert _sentences(OPPOSITE, "accuracy")[1].endswith("best sigmoid, worst mish.")

    dead = _sentences(VANISHING, "dead_relu")[0]
    assert "7.5% at depth 2 (worst layer 10%), 30.0% at depth 10 (worst layer 40%)" in dead
    assert dead.endswith("the fraction grows with depth.")
    assert _sentences(OPPOSITE, "dead_relu") == ["flat: no ReLU unit died (depth 2, 10)."]

    assert _sentences(VANISHING, "non_monotonic") == [
        "deep, depth 10: GELU trained as well as ReLU (GELU 95.5% ± 0.7 vs ReLU 96.0% ± 1.4); "
        "mish did not (mish 61.0% ± 1.4)."
    ]
    assert _sentences(OPPOSITE, "non_monotonic") == [
        "flat, depth 10: none of GELU and mish trained as well as ReLU (GELU 40.5% ± 0.7, "
        "mish 30.5% ± 0.7 vs ReLU 60.5% ± 0.7)."
    ]


def test_claims_skip_what_the_study_cannot_speak_to():
    only_tanh = [_trial(0, "x", 2, "tanh", 0, 0.9, 1e-3)]
    text = format_claims(study_claims(only_tanh))
    assert "sigmoid" not in text and "ReLU" not in text and "tanh 90.0% ± 0.0" in text
    unfinished = [
        TrialRecord(
            id=0,
            config={"data": "x", "depth": 2, "activation": "relu"},
            status="pruned",
            history={"val_accuracy": [0.9]},
        )
    ]
    assert format_claims(study_claims(unfinished)).startswith("The study holds no finished")


def test_compare_prints_the_claims_of_a_real_tiny_study(tmp_path, capsys):
    path = tmp_path / "tiny.study"
    assert (
        main(
            [
                "compare",
                "--activations",
                "sigmoid,relu,gelu",
                "--depths",
                "1,3",
                "--seeds",
                "2",
                "--epochs",
                "2",
                "--data",
                "xor",
                "--width",
                "6",
                "--workers",
                "2",
                "--study",
                str(path),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    with Study.open(path) as study:
        trials = study.trials()
    expected = [claim.sentence for claim in study_claims(trials)]
    assert {claim.topic for claim in study_claims(trials)} == {
        "vanishing_gradient",
        "accuracy",
        "dead_relu",
        "non_monotonic",
    }
    assert all(sentence in out for sentence in expected)
    deep = [t for t in trials if t.config["depth"] == 3]
    relu = statistics.fmean(
        first_layer_gradient_norm(t) for t in deep if t.config["activation"] == "relu"
    )
    sigmoid = statistics.fmean(
        first_layer_gradient_norm(t) for t in deep if t.config["activation"] == "sigmoid"
    )
    factor = relu / sigmoid
    word = f"{factor:.3g}× smaller" if factor >= 1 else f"{1 / factor:.3g}× larger"
    assert f"xor, depth 3: sigmoid's first-layer gradient norm is {word} than ReLU's" in out
    assert main(["study", "show", str(path)]) == 0
    assert expected[0] in capsys.readouterr().out
