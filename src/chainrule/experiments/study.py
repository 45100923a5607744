"""A study: many trials of one search, coordinated by one process and kept in one file.

``Study.open_or_create(path, configs, scheduler)`` starts a study, or continues the one in
``path`` (the same command run again after a kill redoes nothing that finished: finished
jobs are in the file, and a trial that was running continues from its last checkpoint).
``study.run(executor)`` submits ``run_trial`` jobs as the scheduler plans them, records each
result as it arrives, and reports progress.

>>> import os, tempfile
>>> from chainrule.experiments import RunAll, Study
>>> path = os.path.join(tempfile.mkdtemp(), "xor.study")
>>> configs = [{"data": "xor", "samples": 64, "width": 4, "depth": 1, "seed": s} for s in (0, 1)]
>>> from concurrent.futures import ThreadPoolExecutor
>>> with Study.open_or_create(path, configs, RunAll(epochs=1)) as study:
...     summary = study.run(ThreadPoolExecutor(1), parallel=1)
>>> summary.done, summary.total
(2, 2)
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from typing import Any

from .schedulers import Job, Objective, Scheduler, scheduler_from_json
from .storage import StudyFileError, StudyStorage, TrialRecord
from .trial import TrialResult, full_config, run_trial


@dataclass(frozen=True)
class StudyProgress:
    """Where a study stands (what the progress line shows)."""

    total: int
    done: int
    running: int
    paused: int
    pruned: int
    failed: int
    best_value: float
    best_trial: int | None
    metric: str
    epochs_trained: int
    epoch_budget: int
    eta_seconds: float | None


class Study:
    """The trials of one search in a study file, the scheduler and the objective."""

    def __init__(self, storage: StudyStorage) -> None:
        self.storage = storage
        settings = storage.settings()
        self.settings = settings
        self.scheduler: Scheduler = scheduler_from_json(settings["scheduler"])
        self.objective = Objective(**settings["objective"])

    # ------------------------------------------------------------------ files
    @classmethod
    def open_or_create(
        cls,
        path: str | os.PathLike[str],
        configs: Sequence[Mapping[str, Any]],
        scheduler: Scheduler,
        objective: Objective | str = "val_accuracy",
        extra: Mapping[str, Any] | None = None,
    ) -> Study:
        """The study in ``path``: created with one trial per configuration, or reopened when
        it exists — then it must hold the same configurations, scheduler and objective."""
        if isinstance(objective, str):
            objective = Objective.for_metric(objective)
        # as the file will give them back (JSON: tuples become lists)
        stored: list[dict[str, Any]] = [
            json.loads(json.dumps(full_config(config))) for config in configs
        ]
        if not stored:
            raise ValueError("a study needs at least one configuration")
        settings = {
            "scheduler": scheduler.to_json(),
            "objective": {"metric": objective.metric, "mode": objective.mode},
            **(extra or {}),
        }
        if not os.path.exists(path):
            return cls(StudyStorage.create(path, settings, stored))
        storage = StudyStorage.open(path)
        try:
            _check_same_study(storage, settings, stored)
        except StudyFileError:
            storage.close()
            raise
        return cls(storage)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Study:
        return cls(StudyStorage.open(path))

    def close(self) -> None:
        self.storage.close()

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ results
    def trials(self) -> list[TrialRecord]:
        return self.storage.trials()

    def best(self) -> TrialRecord | None:
        """The best trial trained to the full budget (any trial if none got there)."""
        trials = [t for t in self.trials() if t.status != "failed" and t.history]
        finished = [t for t in trials if t.status == "done"] or trials
        if not finished:
            return None
        return max(finished, key=lambda t: (self.objective.goodness(t), -t.id))

    def save_model(self, trial: int, path: str | os.PathLike[str]) -> None:
        """Write a trial's model (weights, preprocessing) as an ordinary model file."""
        from ..serialization import load_model  # the study reads model files only here

        checkpoint = self.storage.checkpoint(trial)
        if checkpoint is None:
            raise ValueError(f"trial {trial} has not trained yet")
        with tempfile.TemporaryDirectory(prefix="chainrule-study-") as directory:
            source = os.path.join(directory, "trial.ckpt.npz")
            with open(source, "wb") as handle:
                handle.write(checkpoint)
            model = load_model(source)
        record = next(t for t in self.trials() if t.id == trial)
        model.metadata = {
            **model.metadata,
            "study": os.path.abspath(self.storage.path),
            "trial": trial,
            "config": record.config,
        }
        model.save(path)

    # ------------------------------------------------------------------ running
    def run(
        self,
        executor: Executor | None = None,
        parallel: int | None = None,
        progress: Callable[[StudyProgress], Any] | None = None,
    ) -> StudyProgress:
        """Run the study to its end on ``executor`` (default: a local process pool of
        ``parallel`` workers) with at most ``parallel`` trials at once; returns the final
        progress. Interrupted (Ctrl-C, a kill), it can be continued by running it again."""
        from .executors import local_pool  # the pool is only needed when none is given

        owned = None
        if executor is None:
            executor = owned = local_pool(parallel)
            parallel = owned.workers
        parallel = parallel or getattr(executor, "_max_workers", None) or os.cpu_count() or 1
        records = {t.id: t for t in self.trials()}
        running: dict[Future, Job] = {}
        clock = _Clock(self.scheduler.epoch_budget(len(records)), records.values())
        try:
            while True:
                active = {trial for trial, _ in running.values()}
                plan = self.scheduler.plan(list(records.values()), active, self.objective)
                if plan.finished:
                    break
                for trial, epochs in plan.jobs[: max(0, parallel - len(running))]:
                    running[self._submit(executor, records[trial], epochs)] = (trial, epochs)
                if not running:  # nothing can start and nothing runs: the plan is stuck
                    break
                if progress is not None:
                    progress(self._progress(records, len(running), clock))
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in finished:
                    trial, epochs = running.pop(future)
                    clock.add(self._record(future, records[trial], epochs))
        finally:
            if owned is not None:
                owned.shutdown(wait=True, cancel_futures=True)
        self._prune(records)
        final = self._progress(records, 0, clock)
        if progress is not None:
            progress(final)
        return final

    def _submit(self, executor: Executor, trial: TrialRecord, epochs: int) -> Future:
        checkpoint = self.storage.checkpoint(trial.id) if trial.epochs_done else None
        future = executor.submit(run_trial, trial.config, epochs, checkpoint)
        self.storage.set_status(trial.id, "running")
        trial.status = "running"
        return future

    def _record(self, future: Future, trial: TrialRecord, epochs: int) -> int:
        """Store a finished job's result; returns the epochs it trained."""
        try:
            result: TrialResult = future.result()
        except Exception as error:  # the trial's own failure, recorded, not the study's
            trial.status, trial.error = "failed", f"{type(error).__name__}: {error}"
            self.storage.set_status(trial.id, "failed", trial.error)
            return 0
        trained = result.epochs_done - trial.epochs_done
        message: str | None = None
        if result.epochs_done < epochs:
            status = "failed"
            message = f"the loss became NaN or inf in epoch {result.epochs_done}"
        elif result.epochs_done >= self.scheduler.max_epochs:
            status = "done"
        else:
            status = "paused"
        self.storage.record_result(
            trial.id,
            status,
            result.epochs_done,
            result.seconds,
            result.history,
            result.checkpoint,
            result.warnings,
            message,
        )
        trial.status, trial.error, trial.epochs_done = status, message, result.epochs_done
        trial.history, trial.warnings = result.history, result.warnings
        trial.seconds += result.seconds
        return trained

    def _prune(self, records: Mapping[int, TrialRecord]) -> None:
        """At the end, the trials still waiting for a promotion were pruned."""
        for trial in records.values():
            if trial.status in ("paused", "running", "pending"):
                trial.status = "pruned"
                self.storage.set_status(trial.id, "pruned")

    def _progress(
        self, records: Mapping[int, TrialRecord], running: int, clock: _Clock
    ) -> StudyProgress:
        counts = {status: 0 for status in ("done", "paused", "pruned", "failed")}
        for trial in records.values():
            if trial.status in counts:
                counts[trial.status] += 1
        scored = [t for t in records.values() if t.history and t.status != "failed"]
        best = max(scored, key=lambda t: (self.objective.goodness(t), -t.id), default=None)
        return StudyProgress(
            total=len(records),
            running=running,
            **counts,
            best_value=best.value(self.objective.metric) if best else math.nan,
            best_trial=best.id if best else None,
            metric=self.objective.metric,
            epochs_trained=clock.epochs_done,
            epoch_budget=clock.budget,
            eta_seconds=clock.eta(),
        )


class _Clock:
    """Epochs trained against the scheduler's budget, and the time left at the rate so far."""

    def __init__(self, budget: int, trials: Any) -> None:
        self.budget = budget
        self.epochs_done = sum(t.epochs_done for t in trials)
        self.started_with = self.epochs_done
        self.started = time.perf_counter()

    def add(self, epochs: int) -> None:
        self.epochs_done += epochs

    def eta(self) -> float | None:
        trained = self.epochs_done - self.started_with
        if trained <= 0:
            return None
        rate = (time.perf_counter() - self.started) / trained
        return max(0.0, (self.budget - self.epochs_done) * rate)


def _check_same_study(
    storage: StudyStorage, settings: Mapping[str, Any], configs: Sequence[Mapping[str, Any]]
) -> None:
    saved = storage.settings()
    changed = sorted(
        key for key in set(saved) | set(settings) if saved.get(key) != settings.get(key)
    )
    stored_configs = [t.config for t in storage.trials()]
    if stored_configs != list(configs):
        changed.append("configurations")
    if changed:
        raise StudyFileError(
            f"{storage.path} holds a study with other settings "
            f"({', '.join(changed)}); run the same command to continue it, or "
            "give another file to start a new study"
        )


__all__ = ["Study", "StudyProgress"]
