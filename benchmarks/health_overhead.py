"""The cost of the training-health monitor that ``fit`` runs by default.

Trains the benchmark MLP (784-256-128-10, ReLU, softmax cross-entropy, SGD, batch 128) for one
epoch with ``health=True`` and with ``health=False``, interleaved (A B, B A, ...) so that both see
the same machine state and neither always runs first, and reports the medians and their ratio.
On a small shared machine single epochs vary by ±25%, so it also times the monitor's own hooks
inside monitored epochs: the steadier measure. The issue's target: under 5% of an epoch.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from chainrule.diagnostics import HealthMonitor

from .contenders import chainrule_model


def _epoch_seconds(x: np.ndarray, y: np.ndarray, health: bool, batch_size: int) -> float:
    # Compiled: the fastest epoch, against which the monitor's cost is largest.
    model = chainrule_model((784, 256, 128, 10), "relu", jit=True)
    start = time.perf_counter()
    model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0, seed=0, health=health)
    return time.perf_counter() - start


@contextlib.contextmanager
def _timed_monitor() -> Iterator[list[float]]:
    """Accumulate the wall time spent inside HealthMonitor's hooks while active."""
    spent = [0.0]
    originals = {name: getattr(HealthMonitor, name) for name in _HOOKS}

    def timed(original: Any) -> Any:
        def hook(self: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - start

        return hook

    for name, original in originals.items():
        setattr(HealthMonitor, name, timed(original))
    try:
        yield spent
    finally:
        for name, original in originals.items():
            setattr(HealthMonitor, name, original)


_HOOKS = (
    "set_model",
    "set_params",
    "on_train_begin",
    "on_epoch_begin",
    "on_batch_begin",
    "on_batch_end",
    "on_epoch_end",
    "on_train_end",
)


def run(samples: int = 10_000, repeats: int = 7, batch_size: int = 128) -> dict[str, Any]:
    """Median epoch times with and without the monitor, and the overhead ratio."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((samples, 784)).astype(np.float32)
    y = rng.integers(0, 10, samples)
    _epoch_seconds(x[: batch_size * 2], y[: batch_size * 2], True, batch_size)  # warm up
    with_monitor, without = [], []
    for repeat in range(repeats):  # A B, then B A: neither side always runs first
        for health in (True, False) if repeat % 2 == 0 else (False, True):
            (with_monitor if health else without).append(_epoch_seconds(x, y, health, batch_size))
    shares = []
    for _ in range(repeats):
        with _timed_monitor() as spent:
            epoch = _epoch_seconds(x, y, True, batch_size)
        shares.append(spent[0] / epoch)
    median_with, median_without = statistics.median(with_monitor), statistics.median(without)
    return {
        "benchmark": "health_overhead",
        "workload": f"784-256-128-10 MLP, compiled, {samples} samples, batch {batch_size}, 1 epoch",
        "repeats": repeats,
        "median_epoch_with_monitor_s": median_with,
        "median_epoch_without_monitor_s": median_without,
        "overhead_ratio": median_with / median_without,
        # The monitor's own hooks timed inside a monitored epoch: steadier than the ratio of two
        # noisy epoch times on a small shared machine.
        "monitor_share_of_epoch": statistics.median(shares),
        "target": "monitor_share_of_epoch < 0.05 (and overhead_ratio < 1.05)",
    }


def format_result(result: dict[str, Any]) -> str:
    ratio, share = result["overhead_ratio"], result["monitor_share_of_epoch"]
    return (
        f"health monitor ({result['workload']}, medians of {result['repeats']}): its hooks "
        f"take {share * 100:.1f}% of an epoch (target < 5%); epoch with/without it, "
        f"interleaved: {ratio:.3f}× ({(ratio - 1) * 100:+.1f}%)"
    )


def targets(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from .timing import target

    return [
        target("health monitor: its share of a compiled epoch", r["monitor_share_of_epoch"], 0.05)
        for r in results
        if r["benchmark"] == "health_overhead"
    ]
