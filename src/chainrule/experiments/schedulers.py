"""Schedulers: which trial trains next, for how many epochs, and which ones stop early.

A scheduler is a pure function of the trials' records (``plan(trials, running)``), so a study
restarted from its file continues exactly where it was: nothing is kept in memory that the file
does not hold.

- ``RunAll(epochs)``: every trial to the end.
- ``SuccessiveHalving(min_epochs, max_epochs, reduction_factor=η)``: rung budgets
  rₖ = min_epochs·ηᵏ (capped at, and ending with, max_epochs); synchronous: every survivor of
  rung k trains to rₖ, then the best ⌊n/η⌋ (at least one) go on to rₖ₊₁.
- ``ASHA`` (asynchronous successive halving, Li et al. 2020): whenever a worker is free, promote
  a trial that is in the top 1/η of those that have finished its rung (highest rung first),
  or else start a new trial at the lowest rung; no waiting for a rung to fill. When nothing is
  left to run, the best of a rung that fewer than η trials finished goes on (with 2 trials and
  η = 3 the better one still trains to the end).

Promoted trials *continue* from their checkpoint (``fit(resume=True)``), so the epochs of a
rung are never trained twice, and a promoted trial ends bit-identical to an uninterrupted run.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from .storage import TrialRecord

Job = tuple[int, int]  # (trial id, epochs in all after the job)


@dataclass
class Plan:
    """What can start now (in priority order), and whether the study has ended."""

    jobs: list[Job] = field(default_factory=list)
    finished: bool = False


@dataclass(frozen=True)
class Objective:
    """The figure trials are ranked by: a history key and whether higher is better."""

    metric: str = "val_accuracy"
    mode: str = "max"

    def __post_init__(self) -> None:
        if self.mode not in ("max", "min"):
            raise ValueError(f"the objective's mode must be 'max' or 'min', not {self.mode!r}")

    @staticmethod
    def for_metric(metric: str) -> Objective:
        """Losses and errors are minimised, everything else (accuracy, ...) maximised."""
        lowered = metric.lower()
        return Objective(
            metric, "min" if "loss" in lowered or "error" in lowered or "mse" in lowered else "max"
        )

    def goodness(self, trial: TrialRecord, epochs: int | None = None) -> float:
        """Higher is better; a missing or NaN figure ranks last (−inf)."""
        value = trial.value(self.metric, epochs)
        if not math.isfinite(value):
            return -math.inf
        return value if self.mode == "max" else -value


def _alive(trial: TrialRecord) -> bool:
    return trial.status != "failed"


def top_trials(
    trials: Sequence[TrialRecord], objective: Objective, epochs: int, keep: int
) -> list[TrialRecord]:
    """The ``keep`` best trials by the objective after ``epochs`` epochs (ties: lower id)."""
    ranked = sorted(trials, key=lambda t: (-objective.goodness(t, epochs), t.id))
    return ranked[:keep]


@dataclass(frozen=True)
class RunAll:
    """Train every trial for ``epochs`` epochs."""

    epochs: int

    def __post_init__(self) -> None:
        _check_epochs("RunAll", self.epochs)

    @property
    def max_epochs(self) -> int:
        return self.epochs

    def plan(
        self, trials: Sequence[TrialRecord], running: Collection[int], objective: Objective
    ) -> Plan:
        jobs = [
            (t.id, self.epochs)
            for t in trials
            if _alive(t) and t.epochs_done < self.epochs and t.id not in running
        ]
        return Plan(jobs, finished=not jobs and not running)

    def epoch_budget(self, count: int) -> int:
        return count * self.epochs

    def to_json(self) -> dict[str, Any]:
        return {"type": "RunAll", "epochs": self.epochs}


@dataclass(frozen=True)
class _Halving:
    min_epochs: int
    max_epochs: int
    reduction_factor: int = 3

    def __post_init__(self) -> None:
        _check_epochs(type(self).__name__, self.min_epochs)
        if self.max_epochs < self.min_epochs:
            raise ValueError(
                f"max_epochs ({self.max_epochs}) must be at least min_epochs ({self.min_epochs})"
            )
        if int(self.reduction_factor) != self.reduction_factor or self.reduction_factor < 2:
            raise ValueError(
                f"the reduction factor must be an integer >= 2, not {self.reduction_factor}"
            )

    def rungs(self) -> list[int]:
        """The rung budgets rₖ = min_epochs·ηᵏ below max_epochs, then max_epochs."""
        budgets = []
        budget = self.min_epochs
        while budget < self.max_epochs:
            budgets.append(budget)
            budget *= self.reduction_factor
        return [*budgets, self.max_epochs]

    def survivors(self, count: int) -> list[int]:
        """How many trials reach each rung when ``count`` start: ⌊n/η⌋, at least one."""
        sizes = [count]
        for _ in self.rungs()[1:]:
            sizes.append(max(1, sizes[-1] // self.reduction_factor))
        return sizes

    def epoch_budget(self, count: int) -> int:
        """The epochs trained in all, promoted trials continuing where they stopped."""
        previous = 0
        total = 0
        for budget, size in zip(self.rungs(), self.survivors(count)):
            total += size * (budget - previous)
            previous = budget
        return total

    def to_json(self) -> dict[str, Any]:
        return {
            "type": type(self).__name__,
            "min_epochs": self.min_epochs,
            "max_epochs": self.max_epochs,
            "reduction_factor": self.reduction_factor,
        }


class SuccessiveHalving(_Halving):
    """Synchronous successive halving: a rung is complete before anyone is promoted."""

    def plan(
        self, trials: Sequence[TrialRecord], running: Collection[int], objective: Objective
    ) -> Plan:
        survivors = [t for t in trials if _alive(t)]
        rungs = self.rungs()
        for index, budget in enumerate(rungs):
            behind = [t for t in survivors if t.epochs_done < budget]
            if behind:
                jobs = [(t.id, budget) for t in behind if t.id not in running]
                return Plan(jobs)
            if running:  # a finished rung waits for failed-or-not jobs of this rung
                return Plan()
            if index + 1 < len(rungs):
                keep = max(1, len(survivors) // self.reduction_factor)
                survivors = top_trials(survivors, objective, budget, keep)
        return Plan(finished=True)


class ASHA(_Halving):
    """Asynchronous successive halving: promote whenever a trial is in its rung's top 1/η."""

    def plan(
        self, trials: Sequence[TrialRecord], running: Collection[int], objective: Objective
    ) -> Plan:
        rungs = self.rungs()
        alive = [t for t in trials if _alive(t)]
        jobs: list[Job] = []
        for index in range(len(rungs) - 2, -1, -1):  # the highest rung first
            budget, following = rungs[index], rungs[index + 1]
            finished_rung = [t for t in alive if t.epochs_done >= budget]
            keep = len(finished_rung) // self.reduction_factor
            for trial in top_trials(finished_rung, objective, budget, keep):
                if trial.epochs_done == budget and trial.id not in running:
                    jobs.append((trial.id, following))
        jobs += [(t.id, rungs[0]) for t in alive if t.epochs_done == 0 and t.id not in running]
        # a trial that ran but was stopped mid-rung (a killed sweep) continues its rung
        jobs += [
            (t.id, _next_rung(rungs, t.epochs_done))
            for t in alive
            if t.epochs_done and t.epochs_done not in rungs and t.id not in running
        ]
        if not jobs and not running:
            jobs = self._best_of_a_short_rung(alive, rungs, objective)
        return Plan(jobs, finished=not jobs and not running)

    def _best_of_a_short_rung(
        self, alive: Sequence[TrialRecord], rungs: Sequence[int], objective: Objective
    ) -> list[Job]:
        """With nothing left to run, the best of the highest rung that fewer than η trials
        finished goes on (top 1/η of fewer than η is nobody), as synchronous halving keeps at
        least one: otherwise a small study would end with every trial pruned."""
        for index in range(len(rungs) - 2, -1, -1):
            budget = rungs[index]
            finished_rung = [t for t in alive if t.epochs_done >= budget]
            if 0 < len(finished_rung) < self.reduction_factor:
                best = top_trials(finished_rung, objective, budget, 1)[0]
                if best.epochs_done == budget:
                    return [(best.id, rungs[index + 1])]
        return []


def _next_rung(rungs: Sequence[int], epochs_done: int) -> int:
    return next(budget for budget in rungs if budget > epochs_done)


def _check_epochs(who: str, epochs: int) -> None:
    if int(epochs) != epochs or epochs < 1:
        raise ValueError(f"{who} needs a whole number of epochs >= 1, not {epochs}")


SCHEDULERS = {"RunAll": RunAll, "SuccessiveHalving": SuccessiveHalving, "ASHA": ASHA}
Scheduler = RunAll | SuccessiveHalving | ASHA


def scheduler_from_json(document: dict[str, Any]) -> Scheduler:
    options = dict(document)
    kind = options.pop("type", None)
    if kind not in SCHEDULERS:
        raise ValueError(f"unknown scheduler {kind!r}; known: {', '.join(SCHEDULERS)}")
    return SCHEDULERS[kind](**options)


__all__ = [
    "ASHA",
    "Job",
    "Objective",
    "Plan",
    "RunAll",
    "Scheduler",
    "SuccessiveHalving",
    "scheduler_from_json",
    "top_trials",
]
