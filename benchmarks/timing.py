"""Timing rules shared by the benchmarks: interleaved rounds, medians and ratios.

Contenders run in rounds, A B C then C B A, ..., so that each sees the same machine state and
none always runs first; each round times ``inner`` calls, and the result is the median over
rounds of the time per call. Only ratios between contenders timed in the same run are reported
as results (absolute times are kept in the JSON for reference).
"""

from __future__ import annotations

import importlib
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

THREADS = 2  # the setting: 2 threads for every contender
# Between two contenders' timings: longer than OpenBLAS's workers spin after a call (2²⁸
# cycles, ~0.1 s) before they sleep. With 0.05 s they were still spinning on both cores when
# PyTorch's step ran next, which then took 4.7 ms instead of its 2.6 ms alone.
PAUSE_S = 0.25
QUICK_PAUSE_S = 0.01  # smoke runs (--quick) measure nothing


def pause_for(quick: bool) -> float:
    """The pause between contenders: ``PAUSE_S``, or ``QUICK_PAUSE_S`` for a smoke run."""
    return QUICK_PAUSE_S if quick else PAUSE_S


def peer(name: str) -> Any:
    """An optional peer library (torch, sklearn), or None when it is not installed."""
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None
    if name == "torch":
        module.set_num_threads(THREADS)
    return module


def interleaved(
    contenders: Mapping[str, Callable[[], Any]],
    rounds: int,
    inner: int = 1,
    warmup: int = 1,
    warmup_s: float = 0.3,
    pause_s: float = PAUSE_S,
) -> dict[str, float]:
    """The median seconds per call of each contender, timed in alternating order.

    Each contender first runs ``warmup`` times and for at least ``warmup_s`` seconds: the
    first thousands of small steps run measurably slower (caches, allocator, clock).
    """
    names = list(contenders)
    for name in names:
        start = time.perf_counter()
        calls = 0
        while calls < warmup or time.perf_counter() - start < warmup_s:
            contenders[name]()
            calls += 1
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(rounds):
        for name in names if round_ % 2 == 0 else reversed(names):
            call = contenders[name]
            # Let the previous contender's worker threads (OpenBLAS, OpenMP) stop spinning:
            # otherwise they steal the 2 cores from whoever runs next (see PAUSE_S).
            time.sleep(pause_s)
            start = time.perf_counter()
            for _ in range(inner):
                call()
            samples[name].append((time.perf_counter() - start) / inner)
    return {name: statistics.median(values) for name, values in samples.items()}


def inner_count(call: Callable[[], Any], budget_s: float = 0.05) -> int:
    """How many calls fill about ``budget_s`` seconds (at least 1)."""
    start = time.perf_counter()
    call()
    once = max(time.perf_counter() - start, 1e-7)
    return max(1, int(budget_s / once))


def ratios(times: Mapping[str, float], reference: str) -> dict[str, float]:
    """Each contender's time divided by ``reference``'s."""
    return {name: value / times[reference] for name, value in times.items()}


def floor_note(limit: float, ratios_to_peer: Mapping[str, float], peer_name: str) -> str:
    """The bound, and what the GEMMs alone take relative to the same peer in the same run: a
    target below that floor cannot be met on this machine by any implementation."""
    floor = ratios_to_peer["gemm"]
    return f"must be ≤ {limit}; the GEMMs alone take {floor:.2f}× {peer_name}" + (
        " here: the target is below that floor" if floor > limit else ""
    )


def target(
    name: str, value: float, limit: float, met: bool | None = None, note: str = ""
) -> dict[str, Any]:
    """One acceptance figure: ``value`` must be ≤ ``limit`` (or ``met`` says otherwise)."""
    return {
        "target": name,
        "value": value,
        "limit": limit,
        "met": bool(value <= limit) if met is None else met,
        "note": note,
    }
