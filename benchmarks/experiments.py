"""Experiments: many trials at once (``chainrule.experiments``), against the issue's targets.

- **pool vs serial**: 16 digits trials, each sized (epochs) to take at least 1 s, as one study
  on the local pool of 2 workers and on a pool of 1; the speed-up serial / pool must be ≥ 1.8.
- **Dask vs pool**: the same study on a Dask ``LocalCluster`` of 2 one-thread worker processes
  with ``DASK_TRIAL_CONFIG`` (no stack profiler, slower housekeeping ticks);
  its time / the pool's − 1 (the overhead) must be ≤ 5%. The three run interleaved, five
  rounds (the pool and Dask swapping places each round); the speed-up is of the median
  times, the overhead the median of each round's Dask / pool ratio.
- **ASHA vs full runs**: 27 random configurations of ``chainrule tune``'s space on digits,
  ASHA (η = 3, 1 → 3 → 9 epochs) against training all 27 to 9 epochs: the epochs ASHA trained
  must be ≤ 40% of the full runs', and its best final validation accuracy within 1 point of
  the full runs' best.

Every executor is started and warmed (its workers spawned, chainrule imported) before its study
is timed, so the times compare running trials, not starting processes. ``--quick`` shrinks the
trials (4 of ≥ 0.1 s; 9 configurations on XOR, 1 → 3 epochs) for a smoke run.
"""

from __future__ import annotations

import contextlib
import math
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, wait
from pathlib import Path
from typing import Any

from chainrule.experiments import (
    ASHA,
    RunAll,
    Study,
    dask_local_cluster,
    local_pool,
    random_configs,
    run_trial,
)

from .timing import target

TRIAL_SHAPE = {"data": "digits", "depth": 2, "width": 64, "batch_size": 32, "lr": 0.01}


def _warm(pause_s: float) -> None:
    """Keeps a worker busy for a moment (so every worker starts) with the trial code loaded."""
    import chainrule.experiments.trial  # noqa: F401

    time.sleep(pause_s)


def warm_up(executor: Executor, workers: int) -> None:
    """Start every worker of ``executor`` and import chainrule there."""
    wait([executor.submit(_warm, 0.3) for _ in range(workers)])


def epochs_for(seconds: float, shape: dict[str, Any] = TRIAL_SHAPE) -> int:
    """Epochs that make one trial of ``shape`` last at least ``seconds`` (timed here)."""
    run_trial({**shape, "seed": 0}, 1)  # loads the data set: not part of an epoch
    start = time.perf_counter()
    run_trial({**shape, "seed": 0}, 1)
    one = time.perf_counter() - start
    start = time.perf_counter()
    run_trial({**shape, "seed": 0}, 3)
    per_epoch = max(1e-6, (time.perf_counter() - start - one) / 2)  # without a trial's setup
    return max(1, math.ceil(seconds / per_epoch))


def time_study(
    configs: Sequence[dict[str, Any]], scheduler: Any, executor: Executor, parallel: int
) -> tuple[float, list[Any]]:
    """Seconds to run a fresh study of ``configs`` on ``executor``; and its trials."""
    with tempfile.TemporaryDirectory(prefix="chainrule-bench-") as directory:
        with Study.open_or_create(Path(directory) / "b.study", configs, scheduler) as study:
            start = time.perf_counter()
            study.run(executor, parallel=parallel)
            seconds = time.perf_counter() - start
            return seconds, study.trials()


def _on_pool(
    workers: int, configs: Sequence[dict[str, Any]], scheduler: Any
) -> tuple[float, list[Any]]:
    with local_pool(workers) as pool:
        warm_up(pool, workers)
        return time_study(configs, scheduler, pool, workers)


@contextlib.contextmanager
def _dask_cluster(workers: int = 2) -> Iterator[Executor]:
    """A warm Dask ``LocalCluster`` of one-thread worker processes (``dask_local_cluster``:
    the settings chainrule documents for trials), as an Executor."""
    with dask_local_cluster(workers) as client:
        executor = client.get_executor(pure=False)
        warm_up(executor, workers)
        yield executor


@contextlib.contextmanager
def _warm_pool(workers: int) -> Iterator[Executor]:
    with local_pool(workers) as pool:
        warm_up(pool, workers)
        yield pool


def _dask_installed() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def parallel_trials(
    trials: int = 16, seconds_per_trial: float = 1.0, dask: bool = True, rounds: int = 5
) -> dict[str, Any]:
    """Serial (a pool of 1), the pool of 2 and a Dask LocalCluster(2) on the same study.

    Every executor is started once and kept warm; the studies then run interleaved for
    ``rounds`` rounds (serial, pool, Dask, serial, ...), and the ratios are of the median
    times (Dask's overhead: the median of each round's Dask time over that round's pool time),
    so a burst of load on the shared machine moves one round, not the figure."""
    # Timed where the trials run (a worker with one BLAS thread, not this process), with a
    # margin: the shared machine varies.
    with local_pool(1) as pool:
        epochs = pool.submit(epochs_for, 1.6 * seconds_per_trial).result()
    configs = [{**TRIAL_SHAPE, "seed": seed} for seed in range(trials)]
    scheduler = RunAll(epochs)
    runs: dict[str, list[float]] = {}
    trial_seconds: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        executors = {
            "serial": (stack.enter_context(_warm_pool(1)), 1),
            "pool_2": (stack.enter_context(_warm_pool(2)), 2),
        }
        if dask and _dask_installed():
            executors["dask_2"] = (stack.enter_context(_dask_cluster(2)), 2)
        names = list(executors)
        for round_ in range(rounds):
            # the pool and Dask swap places every round, so a drift in the machine's load
            # favours neither
            order = names if round_ % 2 == 0 else [names[0], *reversed(names[1:])]
            for name in order:
                executor, parallel = executors[name]
                seconds, done = time_study(configs, scheduler, executor, parallel)
                runs.setdefault(name, []).append(seconds)
                trial_seconds[name] = min(
                    trial_seconds.get(name, math.inf), *(t.seconds for t in done)
                )
    times = {name: statistics.median(values) for name, values in runs.items()}
    result = {
        "benchmark": "experiments_parallel",
        "workload": f"{trials} digits trials of {epochs} epochs (MLP 64-64-64-10), "
        f"median of {rounds} interleaved rounds",
        "seconds": times,
        "rounds_s": runs,
        "shortest_trial_s": trial_seconds,
        "speedup_pool_over_serial": times["serial"] / times["pool_2"],
    }
    if "dask_2" in times:
        # paired: each round's Dask time over the same round's pool time (run back to back)
        result["dask_overhead_over_pool"] = (
            statistics.median(d / p for d, p in zip(runs["dask_2"], runs["pool_2"])) - 1
        )
    return result


def asha_against_full(
    configurations: int = 27, max_epochs: int = 9, data: str = "digits"
) -> dict[str, Any]:
    """ASHA (η = 3) against every configuration trained to ``max_epochs``, on the pool of 2."""
    from chainrule.cli.experiments import TUNE_SPACE

    configs = [
        {**config, "data": data} for config in random_configs(TUNE_SPACE, configurations, seed=0)
    ]
    asha = ASHA(1, max_epochs, 3)
    asha_s, asha_trials = _on_pool(2, configs, asha)
    full_s, full_trials = _on_pool(2, configs, RunAll(max_epochs))

    def best(trials: Sequence[Any]) -> float:
        return max(t.value("val_accuracy") for t in trials if t.status == "done")

    asha_epochs = sum(t.epochs_done for t in asha_trials)
    full_epochs = sum(t.epochs_done for t in full_trials)
    return {
        "benchmark": "experiments_asha",
        "workload": f"{configurations} random configurations on {data}, ASHA η = 3, "
        f"1 → {max_epochs} epochs",
        "seconds": {"asha": asha_s, "full": full_s},
        "epochs": {"asha": asha_epochs, "full": full_epochs},
        "epochs_fraction": asha_epochs / full_epochs,
        "best_val_accuracy": {"asha": best(asha_trials), "full": best(full_trials)},
        "best_gap_points": 100 * (best(full_trials) - best(asha_trials)),
    }


def run(quick: bool = False) -> list[dict[str, Any]]:
    if quick:
        return [
            parallel_trials(trials=4, seconds_per_trial=0.1, rounds=1),
            asha_against_full(configurations=9, max_epochs=3, data="xor"),
        ]
    return [parallel_trials(), asha_against_full()]


def format_result(result: dict[str, Any]) -> str:
    lines = [f"{result['benchmark']}: {result['workload']}"]
    lines += [f"  {name:<8} {seconds:8.2f} s" for name, seconds in result["seconds"].items()]
    if result["benchmark"] == "experiments_parallel":
        lines.append(
            f"  shortest trial {min(result['shortest_trial_s'].values()):.2f} s; "
            f"pool speed-up {result['speedup_pool_over_serial']:.2f}×"
        )
        if "dask_overhead_over_pool" in result:
            lines.append(f"  Dask overhead over the pool {result['dask_overhead_over_pool']:+.1%}")
    else:
        best = result["best_val_accuracy"]
        lines.append(
            f"  epochs {result['epochs']['asha']} of {result['epochs']['full']} "
            f"({result['epochs_fraction']:.0%}); best val_accuracy {best['asha']:.4f} "
            f"vs {best['full']:.4f} in full runs"
        )
    return "\n".join(lines)


def targets(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for result in results:
        if result["benchmark"] == "experiments_parallel":
            speedup = result["speedup_pool_over_serial"]
            found.append(
                target(
                    "16 trials: pool of 2 / serial (speed-up)",
                    speedup,
                    1.8,
                    met=speedup >= 1.8,
                    note="must be ≥ 1.8",
                )
            )
            if "dask_overhead_over_pool" in result:
                found.append(
                    target(
                        "16 trials: Dask LocalCluster(2) overhead over the pool",
                        result["dask_overhead_over_pool"],
                        0.05,
                    )
                )
        elif result["benchmark"] == "experiments_asha":
            found.append(
                target(
                    "ASHA η=3, 27 configs: epochs / full runs' epochs",
                    result["epochs_fraction"],
                    0.40,
                )
            )
            found.append(
                target(
                    "ASHA: best val_accuracy below the full runs' best (points)",
                    result["best_gap_points"],
                    1.0,
                )
            )
    return found
