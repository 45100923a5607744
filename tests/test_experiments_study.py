"""Trials, study files, schedulers and the coordinator: restart semantics, bit-identical ASHA."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import chainrule as cr
from chainrule.experiments import (
    ASHA,
    Objective,
    RunAll,
    Study,
    StudyFileError,
    SuccessiveHalving,
    TrialRecord,
    run_trial,
)

XOR = {"data": "xor", "samples": 64, "depth": 1, "width": 4, "batch_size": 16}


def _configs(count: int) -> list[dict]:
    return [
        {**XOR, "lr": lr, "seed": seed} for lr in (0.003, 0.03, 0.3) for seed in range(count // 3)
    ]


def _weights(checkpoint: bytes, tmp_path) -> dict[str, np.ndarray]:
    path = tmp_path / "weights.ckpt.npz"
    path.write_bytes(checkpoint)
    return cr.load(path).state_dict()


class CountingExecutor(ThreadPoolExecutor):
    """One thread; remembers every (trial config, epochs) it was given."""

    def __init__(self) -> None:
        super().__init__(1)
        self.jobs: list[tuple[int, int]] = []

    def submit(self, fn, config, epochs, checkpoint):
        self.jobs.append((config["seed"], config["lr"], epochs, checkpoint is not None))
        return super().submit(fn, config, epochs, checkpoint)


# ---------------------------------------------------------------------- trials
def test_a_trial_is_reproducible_and_continues_bit_identically(tmp_path):
    config = {**XOR, "dropout": 0.2, "seed": 5}
    whole = run_trial(config, 3)
    assert whole.history == run_trial(config, 3).history
    first = run_trial(config, 1)
    continued = run_trial(config, 3, first.checkpoint)
    assert continued.history == whole.history
    expected, got = _weights(whole.checkpoint, tmp_path), _weights(continued.checkpoint, tmp_path)
    assert all(np.array_equal(expected[k], got[k]) for k in expected)
    assert any(key.startswith("health/") for key in whole.history)
    assert whole.epochs_done == 3 and len(whole.history["val_accuracy"]) == 3


def test_unknown_trial_settings_are_named():
    with pytest.raises(ValueError, match="unknown trial settings 'widht'"):
        run_trial({"widht": 3}, 1)


# ---------------------------------------------------------------------- schedulers
def _record(id, epochs_done, accuracies, status="paused"):
    return TrialRecord(
        id=id,
        config={},
        status=status,
        epochs_done=epochs_done,
        history={"val_accuracy": accuracies},
    )


def test_successive_halving_budgets_the_issue_target():
    sh = SuccessiveHalving(min_epochs=1, max_epochs=9, reduction_factor=3)
    assert sh.rungs() == [1, 3, 9] and sh.survivors(27) == [27, 9, 3]
    assert sh.epoch_budget(27) == 27 + 9 * 2 + 3 * 6
    assert sh.epoch_budget(27) <= 0.4 * RunAll(9).epoch_budget(27)


def test_synchronous_halving_waits_for_the_rung_then_promotes_the_best_third():
    sh = SuccessiveHalving(1, 3, 3)
    objective = Objective()
    trials = [_record(i, 1, [a]) for i, a in enumerate([0.5, 0.9, 0.7, 0.6, 0.8, 0.1])]
    trials[5] = _record(5, 0, [], "pending")
    assert sh.plan(trials, {5}, objective).jobs == []  # rung 0 still running
    assert sh.plan(trials, set(), objective).jobs == [(5, 1)]
    trials[5] = _record(5, 1, [0.1])
    assert sh.plan(trials, set(), objective).jobs == [(1, 3), (4, 3)]


def test_asha_promotes_without_waiting_and_starts_new_trials_otherwise():
    asha = ASHA(1, 9, 3)
    objective = Objective()
    trials = [
        _record(0, 1, [0.9]),
        _record(1, 1, [0.4]),
        _record(2, 1, [0.5]),
        _record(3, 0, [], "pending"),
        _record(4, 0, [], "pending"),
    ]
    plan = asha.plan(trials, {4}, objective)
    assert plan.jobs == [(0, 3), (3, 1)] and not plan.finished
    trials[0] = _record(0, 3, [0.9, 0.9, 0.95])
    assert asha.plan(trials, {3, 4}, objective).jobs == []  # 1 of 1 at rung 1: keep 0
    assert Objective.for_metric("val_loss").mode == "min"


def test_asha_promotes_the_best_of_a_rung_that_can_grow_no_more():
    """Fewer than η trials in a rung and none left below it: the best still goes on, so a
    small study ends with a trained trial instead of every trial pruned."""
    asha = ASHA(1, 9, 3)
    objective = Objective()
    trials = [_record(0, 1, [0.4]), _record(1, 1, [0.9])]
    assert asha.plan(trials, set(), objective).jobs == [(1, 3)]
    assert asha.plan(trials, {1}, objective).jobs == []  # (promoted, running)
    trials[1] = _record(1, 3, [0.9, 0.9, 0.95])
    assert asha.plan(trials, set(), objective).jobs == [(1, 9)]
    trials = [_record(0, 1, [0.4]), _record(1, 1, [0.9]), _record(2, 0, [], "pending")]
    assert asha.plan(trials, {2}, objective).jobs == []  # trial 2 may still join rung 0


# ---------------------------------------------------------------------- studies
def test_asha_study_ends_bit_identical_to_uninterrupted_runs(tmp_path):
    configs = _configs(9)
    with Study.open_or_create(tmp_path / "s.study", configs, ASHA(1, 3, 3)) as study:
        final = study.run(CountingExecutor(), parallel=1)
        trials = study.trials()
        assert final.done >= 1 and final.done + final.pruned == len(configs)
        assert sum(t.epochs_done for t in trials) < 3 * len(configs)
        best = study.best()
        assert best.status == "done" and best.epochs_done == 3
        uninterrupted = run_trial(best.config, 3)
        assert best.history["val_loss"] == uninterrupted.history["val_loss"]
        saved = _weights(study.storage.checkpoint(best.id), tmp_path)
        reference = _weights(uninterrupted.checkpoint, tmp_path)
        assert all(np.array_equal(saved[k], reference[k]) for k in reference)
        study.save_model(best.id, tmp_path / "best.npz")
    model = cr.load(tmp_path / "best.npz")
    assert model.metadata["trial"] == best.id


def test_a_killed_study_restarted_redoes_nothing_that_finished(tmp_path):
    configs = _configs(6)
    path = tmp_path / "killed.study"
    calls = []

    def kill_after_two(progress):
        calls.append(progress)
        if len(calls) == 3:
            raise KeyboardInterrupt

    first = CountingExecutor()
    with Study.open_or_create(path, configs, SuccessiveHalving(1, 3, 3)) as study:
        with pytest.raises(KeyboardInterrupt):
            study.run(first, parallel=1, progress=kill_after_two)
        statuses = [t.status for t in study.trials()]
    assert statuses.count("paused") == 2 and "running" in statuses
    second = CountingExecutor()
    with Study.open_or_create(path, configs, SuccessiveHalving(1, 3, 3)) as study:
        study.run(second, parallel=1)
        resumed = {t.id: t.history for t in study.trials()}
    finished_first = {(seed, lr) for seed, lr, epochs, _ in first.jobs[:2]}
    assert not finished_first & {(seed, lr) for seed, lr, epochs, _ in second.jobs if epochs == 1}
    with Study.open_or_create(
        tmp_path / "clean.study", configs, SuccessiveHalving(1, 3, 3)
    ) as study:
        study.run(ThreadPoolExecutor(1), parallel=1)
        assert {t.id: t.history for t in study.trials()} == resumed


def test_a_corrupt_or_foreign_file_is_refused_clearly(tmp_path):
    corrupt = tmp_path / "corrupt.study"
    corrupt.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StudyFileError, match="not a chainrule study file"):
        Study.open(corrupt)
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE people (name TEXT)")
    with pytest.raises(StudyFileError, match="SQLite database but not a chainrule study"):
        Study.open(foreign)
    with pytest.raises(StudyFileError, match="no study file"):
        Study.open(tmp_path / "missing.study")


def test_reopening_with_other_settings_is_refused(tmp_path):
    path = tmp_path / "s.study"
    Study.open_or_create(path, _configs(3), RunAll(1)).close()
    with pytest.raises(StudyFileError, match=r"other settings \(scheduler\)"):
        Study.open_or_create(path, _configs(3), RunAll(2))
    with pytest.raises(StudyFileError, match="configurations"):
        Study.open_or_create(path, _configs(6), RunAll(1))


def test_a_failing_trial_is_recorded_and_the_study_goes_on(tmp_path):
    configs = [{**XOR, "activation": "no_such_activation"}, XOR]
    with Study.open_or_create(tmp_path / "f.study", configs, RunAll(1)) as study:
        final = study.run(ThreadPoolExecutor(1), parallel=1)
        failed, good = study.trials()
    assert final.failed == 1 and final.done == 1
    assert failed.status == "failed" and "no_such_activation" in failed.error
    assert good.status == "done" and final.best_trial == good.id


def test_a_non_finite_figure_reads_back_as_nan(tmp_path):
    from chainrule.experiments.plots import _mean_curve
    from chainrule.experiments.storage import StudyStorage

    storage = StudyStorage.create(tmp_path / "n.study", {}, [dict(XOR)])
    try:  # SQLite stores NaN as NULL; the history gives it back as NaN, a float like the rest
        storage.record_result(0, "done", 3, 0.1, {"loss": [1.0, float("nan"), 0.5]}, b"", [])
        (trial,) = storage.trials()
    finally:
        storage.close()
    loss = trial.history["loss"]
    assert loss[0] == 1.0 and np.isnan(loss[1]) and loss[2] == 0.5
    assert all(isinstance(value, float) for value in loss)
    assert np.isnan(trial.value("loss", 2)) and trial.value("loss") == 0.5
    assert _mean_curve([loss, [3.0, 2.0]]) == [2.0, 2.0, 0.5]  # the NaN is left out of the mean
