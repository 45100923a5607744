"""What a comparison study says about the course's advice, in sentences with the numbers.

Computed from the figures the study file holds (trials trained to the end only), never from
a conclusion written in advance; a claim the study cannot speak to (no sigmoid trials, no
ReLU trials, ...) is left out. Per data set:

- **vanishing gradients**, per depth: the first hidden layer's gradient norm
  ‖∂𝓛/∂W⁽¹⁾‖ (the ``health/<layer>/grad_norm`` figure, mean over the epochs, then over
  the seeds) of sigmoid against ReLU, as the factor ReLU's / sigmoid's, with both final
  accuracies; and whether that factor grows with depth;
- **final accuracy** per depth: every activation's mean ± s over its seeds, best first;
- **dying ReLU**: the fraction of dead ReLU units at the end of training (mean over the hidden
  layers and the seeds; and the worst layer) at each depth;
- **non-monotonic activations** (GELU, SiLU, Mish) against ReLU, per depth: one *trained as
  well as ReLU* when its mean final accuracy is at least ReLU's minus the tolerance
  max(1 point, s of either).
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..diagnostics import _label
from .storage import TrialRecord

NON_MONOTONIC = ("gelu", "silu", "mish")
# "As well as" allows this much below ReLU's mean (an accuracy point) or the seed spread.
ACCURACY_TOLERANCE = 0.01
_LAYER_NAME = re.compile(r"^(?P<base>.*?)(?:_(?P<index>\d+))?$")


@dataclass(frozen=True)
class Summary:
    """A figure over the seeds of one setting: mean, sample standard deviation s, count."""

    mean: float
    spread: float
    seeds: int

    @staticmethod
    def of(values: Iterable[float]) -> Summary:
        finite = [v for v in values if math.isfinite(v)]
        if not finite:
            return Summary(math.nan, math.nan, 0)
        return Summary(
            statistics.fmean(finite),
            statistics.stdev(finite) if len(finite) > 1 else 0.0,
            len(finite),
        )


@dataclass(frozen=True)
class Claim:
    """One finding: what it is about, the data set, the sentence and the numbers behind it."""

    topic: str  # "vanishing_gradient", "accuracy", "dead_relu", "non_monotonic"
    data: str
    sentence: str
    figures: Mapping[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------------- figures of a trial
def layer_names(trial: TrialRecord) -> list[str]:
    """The Dense layers with a gradient-norm figure, in network order (the file stores keys
    alphabetically: dense, dense_1, dense_10, dense_2, ...)."""
    names = [
        key.split("/")[1]
        for key in trial.history
        if key.startswith("health/") and key.endswith("/grad_norm") and key.count("/") == 2
    ]

    def position(name: str) -> tuple[str, int]:
        match = _LAYER_NAME.match(name)  # matches every name: both parts may be empty
        assert match is not None
        return match["base"], int(match["index"] or 0)

    return sorted(names, key=position)


def _finite(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def gradient_norms(trial: TrialRecord) -> list[float]:
    """Each Dense layer's gradient norm, mean over the epochs, in network order."""
    norms = []
    for name in layer_names(trial):
        values = _finite(trial.history[f"health/{name}/grad_norm"])
        norms.append(statistics.fmean(values) if values else math.nan)
    return norms


def first_layer_gradient_norm(trial: TrialRecord) -> float:
    """The first Dense layer's gradient norm, mean over the epochs (NaN when not logged)."""
    return next(iter(gradient_norms(trial)), math.nan)


def dead_fractions(trial: TrialRecord) -> list[float]:
    """The final fraction of dead units of each hidden layer that measures it, in order."""
    return [
        trial.value(f"health/{name}/dead")
        for name in layer_names(trial)
        if f"health/{name}/dead" in trial.history
    ]


# ---------------------------------------------------------------------- grouping
Groups = dict[tuple[int, str], list[TrialRecord]]  # (depth, activation) → the seeds


def _groups_by_data(trials: Sequence[TrialRecord], metric: str) -> dict[str, Groups]:
    by_data: dict[str, Groups] = {}
    for trial in trials:
        if trial.status != "done" or not math.isfinite(trial.value(metric)):
            continue
        key = (int(trial.config.get("depth", 0)), str(trial.config.get("activation")))
        by_data.setdefault(str(trial.config.get("data")), {}).setdefault(key, []).append(trial)
    return by_data


def _depths(groups: Groups) -> list[int]:
    return sorted({depth for depth, _ in groups})


def _percent(summary: Summary) -> str:
    return f"{100 * summary.mean:.1f}% ± {100 * summary.spread:.1f}"


def _names(labels: Sequence[str]) -> str:
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"


def _listed(names: Sequence[str], summaries: Mapping[str, Summary]) -> str:
    return ", ".join(f"{_label(name)} {_percent(summaries[name])}" for name in names)


def _trend(values: Sequence[float]) -> str:
    if len(values) < 2:
        return ""
    steps = [b - a for a, b in zip(values, values[1:])]
    if all(step > 0 for step in steps):
        return "grows with depth"
    if all(step < 0 for step in steps):
        return "shrinks with depth"
    return "does not change steadily with depth"


# ---------------------------------------------------------------------- the claims
def vanishing_gradient_claims(data: str, groups: Groups, metric: str) -> list[Claim]:
    """Sigmoid's first-layer gradient norm against ReLU's at each depth where both ran."""
    claims, factors = [], []
    for depth in _depths(groups):
        sigmoid, relu = groups.get((depth, "sigmoid")), groups.get((depth, "relu"))
        if not sigmoid or not relu:
            continue
        norms = {
            name: Summary.of(first_layer_gradient_norm(t) for t in trials)
            for name, trials in (("sigmoid", sigmoid), ("relu", relu))
        }
        if not norms["sigmoid"].seeds or not norms["relu"].seeds or norms["sigmoid"].mean <= 0:
            continue
        factor = norms["relu"].mean / norms["sigmoid"].mean
        factors.append((depth, factor))
        accuracy = {
            name: Summary.of(t.value(metric) for t in trials)
            for name, trials in (("sigmoid", sigmoid), ("relu", relu))
        }
        comparison = (
            f"{factor:.3g}× smaller than" if factor >= 1 else f"{1 / factor:.3g}× larger than"
        )
        claims.append(
            Claim(
                "vanishing_gradient",
                data,
                (
                    f"{data}, depth {depth}: sigmoid's first-layer gradient norm is {comparison} "
                    f"ReLU's ({norms['sigmoid'].mean:.3g} vs {norms['relu'].mean:.3g}, mean "
                    "over the "
                    f"epochs and {norms['sigmoid'].seeds} seeds); final {metric} "
                    f"{_percent(accuracy['sigmoid'])} vs {_percent(accuracy['relu'])}."
                ),
                {
                    "depth": depth,
                    "relu_over_sigmoid": factor,
                    "sigmoid_grad_norm": norms["sigmoid"].mean,
                    "relu_grad_norm": norms["relu"].mean,
                    "sigmoid_accuracy": accuracy["sigmoid"].mean,
                    "relu_accuracy": accuracy["relu"].mean,
                },
            )
        )
    trend = _trend([factor for _, factor in factors])
    if trend:
        listed = ", ".join(f"{factor:.3g}× at depth {depth}" for depth, factor in factors)
        claims.append(
            Claim(
                "vanishing_gradient",
                data,
                f"{data}: the factor ReLU / sigmoid {trend} ({listed}).",
                {f"depth_{depth}": factor for depth, factor in factors},
            )
        )
    return claims


def accuracy_claims(data: str, groups: Groups, metric: str) -> list[Claim]:
    """Every activation's final figure (mean ± s over seeds) at each depth, best first."""
    claims = []
    for depth in _depths(groups):
        summaries = {
            activation: Summary.of(t.value(metric) for t in trials)
            for (d, activation), trials in groups.items()
            if d == depth
        }
        ranked = sorted(summaries.items(), key=lambda item: -item[1].mean)
        seeds = sorted({summary.seeds for summary in summaries.values()})
        listed = ", ".join(f"{_label(name)} {_percent(summary)}" for name, summary in ranked)
        seed_text = f"{seeds[0]} seeds each" if len(seeds) == 1 else f"{seeds[0]}–{seeds[-1]} seeds"
        claims.append(
            Claim(
                "accuracy",
                data,
                (
                    f"{data}, depth {depth}: final {metric} {listed} ({seed_text}); best "
                    f"{_label(ranked[0][0])}, worst {_label(ranked[-1][0])}."
                ),
                {"depth": depth, **{name: summary.mean for name, summary in ranked}},
            )
        )
    return claims


def dead_relu_claims(data: str, groups: Groups) -> list[Claim]:
    """The fraction of dead ReLU units at the end of training, at each depth."""
    rows = []
    for depth in _depths(groups):
        fractions = [dead_fractions(t) for t in groups.get((depth, "relu"), [])]
        fractions = [layers for layers in fractions if _finite(layers)]
        if fractions:
            mean = Summary.of(statistics.fmean(_finite(layers)) for layers in fractions).mean
            worst = max(max(_finite(layers)) for layers in fractions)
            rows.append((depth, mean, worst))
    if not rows:
        return []
    figures = {f"depth_{depth}": mean for depth, mean, _ in rows}
    if all(worst == 0 for _, _, worst in rows):
        depths = ", ".join(str(depth) for depth, _, _ in rows)
        return [Claim("dead_relu", data, f"{data}: no ReLU unit died (depth {depths}).", figures)]
    listed = ", ".join(
        f"{100 * mean:.1f}% at depth {depth} (worst layer {100 * worst:.0f}%)"
        for depth, mean, worst in rows
    )
    trend = _trend([mean for _, mean, _ in rows])
    return [
        Claim(
            "dead_relu",
            data,
            (
                f"{data}: dead ReLU units at the end of training: {listed}, mean over the "
                "hidden layers "
                f"and seeds" + (f"; the fraction {trend}." if trend else ".")
            ),
            figures,
        )
    ]


def non_monotonic_claims(data: str, groups: Groups, metric: str) -> list[Claim]:
    """Whether GELU, SiLU and Mish reached ReLU's final figure, at each depth."""
    claims = []
    for depth in _depths(groups):
        relu_trials = groups.get((depth, "relu"))
        present = [name for name in NON_MONOTONIC if (depth, name) in groups]
        if not relu_trials or not present:
            continue
        relu = Summary.of(t.value(metric) for t in relu_trials)
        summaries = {
            name: Summary.of(t.value(metric) for t in groups[(depth, name)]) for name in present
        }
        as_well = [
            name
            for name, summary in summaries.items()
            if summary.mean >= relu.mean - max(ACCURACY_TOLERANCE, relu.spread, summary.spread)
        ]
        worse = [name for name in present if name not in as_well]
        if not as_well:
            sentence = (
                f"none of {_names([_label(n) for n in worse])} trained as well as "
                f"ReLU ({_listed(worse, summaries)} vs ReLU {_percent(relu)})"
            )
        else:
            sentence = (
                f"{_names([_label(n) for n in as_well])} trained as well as ReLU "
                f"({_listed(as_well, summaries)} vs ReLU {_percent(relu)})"
            )
            if worse:
                sentence += (
                    f"; {_names([_label(n) for n in worse])} did not ({_listed(worse, summaries)})"
                )
        claims.append(
            Claim(
                "non_monotonic",
                data,
                f"{data}, depth {depth}: {sentence}.",
                {
                    "depth": depth,
                    "relu": relu.mean,
                    **{name: summaries[name].mean for name in present},
                    "as_well": float(len(as_well)),
                },
            )
        )
    return claims


def study_claims(trials: Sequence[TrialRecord], metric: str = "val_accuracy") -> list[Claim]:
    """Every claim the study's finished trials can speak to, data set by data set."""
    claims: list[Claim] = []
    for data, groups in sorted(_groups_by_data(trials, metric).items()):
        claims += vanishing_gradient_claims(data, groups, metric)
        claims += accuracy_claims(data, groups, metric)
        claims += dead_relu_claims(data, groups)
        claims += non_monotonic_claims(data, groups, metric)
    return claims


TOPIC_TITLES = {
    "vanishing_gradient": "Do sigmoid's gradients vanish in deep networks?",
    "accuracy": "Final accuracy per activation (mean ± s over seeds)",
    "dead_relu": "Do ReLU units die?",
    "non_monotonic": "Do the non-monotonic GELU, SiLU and Mish train as well as ReLU?",
}


def format_claims(claims: Sequence[Claim]) -> str:
    """The claims under their questions, one sentence a line."""
    if not claims:
        return "The study holds no finished trials to draw claims from."
    lines: list[str] = []
    for topic, title in TOPIC_TITLES.items():
        sentences = [claim.sentence for claim in claims if claim.topic == topic]
        if sentences:
            lines += ["", title, *(f"  - {sentence}" for sentence in sentences)]
    return "\n".join(lines[1:])


__all__ = [
    "ACCURACY_TOLERANCE",
    "Claim",
    "NON_MONOTONIC",
    "Summary",
    "TOPIC_TITLES",
    "accuracy_claims",
    "dead_fractions",
    "dead_relu_claims",
    "first_layer_gradient_norm",
    "format_claims",
    "gradient_norms",
    "layer_names",
    "non_monotonic_claims",
    "study_claims",
    "vanishing_gradient_claims",
]
