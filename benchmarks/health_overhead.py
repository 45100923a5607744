"""The cost of the training-health monitor that ``fit`` runs by default.

Trains the benchmark MLP (784-256-128-10, ReLU, softmax cross-entropy, SGD, batch 128) for one
epoch with ``health=True`` and with ``health=False``, alternating the two (A B A B ...) so that
both see the same machine state, and reports the medians and their ratio. The issue's target:
the monitor costs less than 5% of an epoch.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

import chainrule as cr
from chainrule.nn import Dense, Sequential


def _model(seed: int) -> Sequential:
    model = Sequential([Dense(256, input_dim=784, activation="relu"),
                        Dense(128, activation="relu"), Dense(10)], seed=seed)
    model.compile(loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
                  optimizer=cr.optim.SGD(lr=0.01))
    return model


def _epoch_seconds(x: np.ndarray, y: np.ndarray, health: bool, batch_size: int) -> float:
    model = _model(seed=0)
    start = time.perf_counter()
    model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0, seed=0, health=health)
    return time.perf_counter() - start


def run(samples: int = 10_000, repeats: int = 7, batch_size: int = 128) -> dict[str, Any]:
    """Median epoch times with and without the monitor, and the overhead ratio."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((samples, 784)).astype(np.float32)
    y = rng.integers(0, 10, samples)
    _epoch_seconds(x[:batch_size * 2], y[:batch_size * 2], True, batch_size)  # warm up
    with_monitor, without = [], []
    for _ in range(repeats):
        with_monitor.append(_epoch_seconds(x, y, True, batch_size))
        without.append(_epoch_seconds(x, y, False, batch_size))
    median_with, median_without = statistics.median(with_monitor), statistics.median(without)
    return {
        "benchmark": "health_overhead",
        "workload": f"784-256-128-10 MLP, {samples} samples, batch {batch_size}, 1 epoch",
        "repeats": repeats,
        "median_epoch_with_monitor_s": median_with,
        "median_epoch_without_monitor_s": median_without,
        "overhead_ratio": median_with / median_without,
        "target": "overhead_ratio < 1.05",
    }


def format_result(result: dict[str, Any]) -> str:
    ratio = result["overhead_ratio"]
    return (f"health monitor overhead ({result['workload']}, medians of {result['repeats']}, "
            f"interleaved): {ratio:.3f}× an epoch without it "
            f"({(ratio - 1) * 100:+.1f}%; target < +5%)")
