"""One training step, every contender interleaved: the 784-256-128-10 MLP at batch 32, 128 and
1024, the 2-8-1 XOR net at batch 4 and a 10-layer 256-wide net (depth), plus how the compiled
step compares with the GEMM limit as the hidden width grows (it should become GEMM-bound).
"""

from __future__ import annotations

from typing import Any

from . import contenders as c
from .timing import PAUSE_S, floor_note, interleaved, pause_for, peer, ratios, target

MLP = (784, 256, 128, 10)
XOR = (2, 8, 1)
DEEP = (256,) + (256,) * 10 + (10,)


def _step_contenders(
    sizes: tuple[int, ...], activation: str, rows: int, peers: bool = True, optimizer: str = "sgd"
) -> dict[str, Any]:
    x, y = c.batch(sizes, rows)
    found: dict[str, Any] = {
        "gemm": c.gemm_step(sizes, x),
        "chainrule_eager": c.chainrule_step(
            sizes, activation, x, y, jit=False, optimizer=optimizer
        ),
        "chainrule_compiled": c.chainrule_step(
            sizes, activation, x, y, jit=True, optimizer=optimizer
        ),
    }
    if peer("numba") is not None:
        found["chainrule_numba"] = c.chainrule_step(
            sizes, activation, x, y, jit=True, kernels="numba", optimizer=optimizer
        )
    torch = peer("torch") if peers else None
    if torch is not None:
        found["torch"] = c.torch_step(torch, sizes, activation, x, y, optimizer=optimizer)
    sklearn = peer("sklearn.neural_network") if peers and optimizer == "sgd" else None
    if sklearn is not None:
        found["sklearn_sgd"] = c.sklearn_step(sklearn, sizes, activation, x, y)
    return found


def _workload(
    name: str,
    sizes: tuple[int, ...],
    activation: str,
    rows: int,
    rounds: int,
    inner: int,
    optimizer: str = "sgd",
    pause_s: float = PAUSE_S,
) -> dict[str, Any]:
    times = interleaved(
        _step_contenders(sizes, activation, rows, optimizer=optimizer),
        rounds,
        inner,
        warmup=3,
        pause_s=pause_s,
    )
    return {
        "benchmark": "step",
        "workload": name,
        "sizes": list(sizes),
        "batch": rows,
        "activation": activation,
        "median_s": times,
        "ratio_to_gemm": ratios(times, "gemm"),
        "ratio_to_torch": ratios(times, "torch") if "torch" in times else None,
    }


def run(quick: bool = False) -> list[dict[str, Any]]:
    rounds = 3 if quick else 15
    scale = 0.05 if quick else 1.0
    pause = pause_for(quick)
    results = [
        _workload(
            f"MLP 784-256-128-10, batch {rows}",
            MLP,
            "relu",
            rows,
            rounds,
            max(1, int(inner * scale)),
            pause_s=pause,
        )
        for rows, inner in ((32, 40), (128, 20), (1024, 4))
    ]
    results.append(
        _workload(
            "MLP 784-256-128-10, batch 128, Adam",
            MLP,
            "relu",
            128,
            rounds,
            max(1, int(20 * scale)),
            optimizer="adam",
            pause_s=pause,
        )
    )
    results.append(
        _workload(
            "XOR 2-8-1, batch 4", XOR, "tanh", 4, rounds, max(1, int(400 * scale)), pause_s=pause
        )
    )
    results.append(
        _workload(
            "depth: 10 × 256 ReLU, batch 128",
            DEEP,
            "relu",
            128,
            rounds,
            max(1, int(10 * scale)),
            pause_s=pause,
        )
    )
    results.append(width_scaling(quick))
    return results


def width_scaling(quick: bool = False) -> dict[str, Any]:
    """Compiled step / GEMM limit for 784-w-w-10 at batch 128, w = 64 … 4096."""
    widths = (64, 256) if quick else (64, 128, 256, 512, 1024, 2048, 4096)
    rows: dict[str, Any] = {}
    for width in widths:
        sizes = (784, width, width, 10)
        x, y = c.batch(sizes, 128)
        inner = 2 if quick else max(1, 10 * 256 // max(width, 256))  # big widths: fewer
        times = interleaved(
            {
                "gemm": c.gemm_step(sizes, x),
                "chainrule_compiled": c.chainrule_step(sizes, "relu", x, y, True),
            },
            rounds=3 if quick else 7,
            inner=inner,
            warmup=2,
            pause_s=pause_for(quick),
        )
        rows[str(width)] = {
            "median_s": times,
            "compiled_over_gemm": times["chainrule_compiled"] / times["gemm"],
        }
    return {
        "benchmark": "width",
        "workload": "784-w-w-10 ReLU, batch 128, compiled vs GEMM",
        "widths": rows,
    }


def targets(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The speed targets (issue 14): ratios of this run's medians."""
    found = []
    by_name = {r["workload"]: r for r in results if r["benchmark"] == "step"}
    step = by_name.get("MLP 784-256-128-10, batch 128")
    if step is not None:
        gemm = step["ratio_to_gemm"]
        found.append(
            target("batch-128 step: compiled / pure GEMM (NumPy)", gemm["chainrule_compiled"], 1.5)
        )
        if "chainrule_numba" in gemm:
            found.append(
                target(
                    "batch-128 step: compiled / pure GEMM (numba kernels)",
                    gemm["chainrule_numba"],
                    1.25,
                )
            )
        torch = step["ratio_to_torch"]
        if torch:
            found.append(
                target(
                    "batch-128 step: compiled / PyTorch",
                    torch["chainrule_compiled"],
                    0.35,
                    note=floor_note(0.35, torch, "PyTorch"),
                )
            )
            found.append(target("batch-128 step: eager / PyTorch", torch["chainrule_eager"], 1.0))
    small = by_name.get("MLP 784-256-128-10, batch 32")
    if small is not None:
        found.append(
            target(
                "batch-32 step: compiled / pure GEMM",
                small["ratio_to_gemm"]["chainrule_compiled"],
                1.5,
            )
        )
        if "chainrule_numba" in small["ratio_to_gemm"]:
            found.append(
                target(
                    "batch-32 step: compiled / pure GEMM (numba kernels)",
                    small["ratio_to_gemm"]["chainrule_numba"],
                    1.5,
                )
            )
    xor = by_name.get("XOR 2-8-1, batch 4")
    if xor is not None and xor["ratio_to_torch"]:
        for contender, kind in (
            ("chainrule_compiled", ""),
            ("chainrule_numba", " (numba kernels)"),
        ):
            if contender not in xor["ratio_to_torch"]:
                continue
            speedup = 1 / xor["ratio_to_torch"][contender]
            found.append(
                target(
                    f"XOR 2-8-1 step: PyTorch / compiled{kind} (speed-up)",
                    speedup,
                    10.0,
                    met=speedup >= 10.0,
                    note="must be ≥ 10",
                )
            )
    return found
