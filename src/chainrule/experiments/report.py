"""What a study found: the ranking with the seed spread, the progress line, a CSV export.

Trials that differ only in their seed are one *setting*; the ranking shows each setting's mean
validation figure, the spread over its seeds (the sample standard deviation s), how many seeds
finished, and its best trial.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from .schedulers import Objective
from .storage import TrialRecord
from .study import StudyProgress


@dataclass(frozen=True)
class RankedSetting:
    """One setting (a configuration without its seed) over the seeds that finished."""

    config: dict[str, Any]
    mean: float
    spread: float  # the sample standard deviation over seeds; 0 for one seed
    seeds: int
    best_trial: int


def ranking(trials: Sequence[TrialRecord], objective: Objective) -> list[RankedSetting]:
    """Settings by their mean final figure, best first (only trials trained to the end)."""
    groups: dict[str, list[TrialRecord]] = {}
    for trial in trials:
        if trial.status == "done":
            key = repr(sorted((k, v) for k, v in trial.config.items() if k != "seed"))
            groups.setdefault(key, []).append(trial)
    settings = []
    for members in groups.values():
        values = [t.value(objective.metric) for t in members]
        finite = [v for v in values if math.isfinite(v)]
        best = max(members, key=lambda t: (objective.goodness(t), -t.id))
        config = {k: v for k, v in members[0].config.items() if k != "seed"}
        settings.append(
            RankedSetting(
                config=config,
                mean=statistics.fmean(finite) if finite else math.nan,
                spread=statistics.stdev(finite) if len(finite) > 1 else 0.0,
                seeds=len(members),
                best_trial=best.id,
            )
        )
    sign = 1 if objective.mode == "max" else -1
    return sorted(
        settings,
        key=lambda s: (-sign * s.mean if math.isfinite(s.mean) else math.inf, s.best_trial),
    )


def varying_keys(trials: Sequence[TrialRecord]) -> list[str]:
    """The configuration keys whose values differ between trials (the seed left out)."""
    keys = sorted({key for trial in trials for key in trial.config} - {"seed"})
    return [key for key in keys if len({repr(trial.config.get(key)) for trial in trials}) > 1]


def format_ranking(
    trials: Sequence[TrialRecord], objective: Objective, limit: int | None = None
) -> str:
    """The ranking as an aligned text table."""
    settings = ranking(trials, objective)[:limit]
    if not settings:
        return "no trial has finished yet"
    keys = varying_keys(trials)
    header = ["rank", *keys, f"mean {objective.metric}", "± s", "seeds", "best trial"]
    rows = [header]
    for rank, setting in enumerate(settings, start=1):
        rows.append(
            [
                str(rank),
                *(_cell(setting.config.get(key)) for key in keys),
                f"{setting.mean:.4f}",
                f"{setting.spread:.4f}",
                str(setting.seeds),
                str(setting.best_trial),
            ]
        )
    return _table(rows, right=range(len(keys) + 1, len(header)))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _table(rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths))
        ).rstrip()

    return "\n".join(
        [line(rows[0]), "  ".join("─" * w for w in widths), *(line(row) for row in rows[1:])]
    )


def export_csv(trials: Sequence[TrialRecord]) -> str:
    """One row per trial: id, status, epochs, seconds, every setting, every final figure."""
    settings = sorted({key for trial in trials for key in trial.config})
    figures = sorted({key for trial in trials for key in trial.history})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["trial", "status", "epochs", "seconds", *settings, *figures, "error"])
    for trial in trials:
        writer.writerow(
            [
                trial.id,
                trial.status,
                trial.epochs_done,
                f"{trial.seconds:.3f}",
                *(trial.config.get(key) for key in settings),
                *(_figure(trial.value(key)) for key in figures),
                trial.error or "",
            ]
        )
    return buffer.getvalue()


def _figure(value: float) -> str:
    return "" if math.isnan(value) else repr(value)


def progress_text(progress: StudyProgress) -> str:
    """``trials 5/27 done, 2 running, 3 waiting, 4 pruned, 0 failed; best val_accuracy
    0.9120 (trial 4); ETA 12 s``."""
    parts = [
        f"trials {progress.done}/{progress.total} done",
        f"{progress.running} running",
        f"{progress.paused} waiting",
        f"{progress.pruned} pruned",
        f"{progress.failed} failed",
    ]
    best = (
        "best: none yet"
        if progress.best_trial is None
        else f"best {progress.metric} {progress.best_value:.4f} (trial {progress.best_trial})"
    )
    eta = "" if progress.eta_seconds is None else f"; ETA {_duration(progress.eta_seconds)}"
    return f"{', '.join(parts)}; {best}{eta}"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, seconds = divmod(int(round(seconds)), 60)
    return (
        f"{minutes} min {seconds:02d} s"
        if minutes < 60
        else f"{minutes // 60} h {minutes % 60:02d} min"
    )


class ProgressLine:
    """A live progress line: rewritten in place on a terminal, one line per change otherwise."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.last = ""
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, progress: StudyProgress) -> None:
        text = progress_text(progress)
        if text == self.last:
            return
        if self.live:
            padding = " " * max(0, len(self.last) - len(text))
            self.stream.write(f"\r{text}{padding}")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.last = text

    def close(self) -> None:
        if self.live and self.last:
            self.stream.write("\n")
            self.stream.flush()


__all__ = [
    "ProgressLine",
    "RankedSetting",
    "export_csv",
    "format_ranking",
    "progress_text",
    "ranking",
    "varying_keys",
]
