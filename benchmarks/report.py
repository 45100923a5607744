"""The tables ``python -m benchmarks`` prints: ratios per workload, then the targets."""

from __future__ import annotations

from typing import Any

ORDER = (
    "gemm",
    "chainrule_compiled",
    "chainrule_numba",
    "chainrule_keras",
    "chainrule_adam",
    "chainrule_adam_numba",
    "chainrule_eager",
    "torch",
    "sklearn_sgd",
    "sklearn_adam",
)


def _ratio_table(result: dict[str, Any]) -> list[str]:
    times = result["median_s"]
    torch = result.get("ratio_to_torch")
    lines = [
        f"{result['benchmark']}: {result['workload']}",
        f"  {'contender':<20} {'× GEMM limit':>13} {'× PyTorch':>10}   (median)",
    ]
    for name in [n for n in ORDER if n in times]:
        vs_torch = f"{torch[name]:10.2f}" if torch else f"{'-':>10}"
        lines.append(
            f"  {name:<20} {result['ratio_to_gemm'][name]:13.2f} {vs_torch}   "
            f"{_seconds(times[name])}"
        )
    return lines


def _seconds(value: float) -> str:
    if value < 1e-3:
        return f"{value * 1e6:.0f} µs"
    if value < 1:
        return f"{value * 1e3:.2f} ms"
    return f"{value:.2f} s"


def format_results(results: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for result in results:
        kind = result["benchmark"]
        if kind in ("step", "epoch"):
            lines += _ratio_table(result)
        elif kind == "width":
            lines.append(f"width: {result['workload']}")
            lines += [
                f"  w = {width:>5}: compiled / GEMM = {row['compiled_over_gemm']:.2f}"
                for width, row in result["widths"].items()
            ]
        elif kind == "samples":
            lines.append(f"samples: {result['workload']}")
            lines += [
                f"  {int(n):>7,} samples: {ratio:.2f}× the smallest run's time per sample"
                for n, ratio in result["per_sample_relative_to_smallest"].items()
            ]
        elif kind == "memory":
            lines.append(f"memory: {result['workload']}")
            ratio = result.get("ratio_to_torch", {})
            lines += [
                f"  {name:<20} {value / 2**20:8.0f} MiB"
                + (f"   {ratio[name]:.2f}× PyTorch" if ratio else "")
                for name, value in result["peak_rss_bytes"].items()
            ]
        elif kind == "import":
            lines.append(f"import: {result['workload']}")
            lines += [
                f"  import {name:<10} {value:.3f} s   {result['ratio_to_numpy'][name]:.2f}×"
                " import numpy"
                for name, value in result["median_s"].items()
            ]
        elif kind == "health_overhead":
            from .health_overhead import format_result

            lines.append(format_result(result))
        elif kind.startswith("experiments_"):
            from .experiments import format_result as format_experiment

            lines.append(format_experiment(result))
        lines.append("")
    return "\n".join(lines).rstrip()


def format_targets(targets: list[dict[str, Any]]) -> str:
    lines = ["targets"]
    for item in targets:
        mark = "met   " if item["met"] else "MISSED"
        bound = item["note"] or f"must be ≤ {item['limit']}"
        lines.append(f"  {mark} {item['target']}: {item['value']:.3f} ({bound})")
    return "\n".join(lines)
