"""A dependency-free progress bar for one training epoch, readable on a terminal and in a log.

On a terminal (``enabled=True``, or ``enabled=None`` and the stream is a TTY) each ``update``
redraws one line in place with a carriage return, at most every ``min_interval`` seconds
(0.1 s, so ≤ ~10 redraws a second)::

    Epoch 2/10 [=========>....................] 13/40 - 1.3s - ETA 2.7s - loss 0.3412 - acc 0.875

ETA = elapsed / done · (total − done). ``close`` replaces the line by the epoch's summary (the
epoch time and the final logs, validation ones included) and ends it with a newline. Anywhere
else (a pipe, a CI log, a file) nothing is redrawn: ``close`` writes one plain line per epoch::

    Epoch 2/10 - 40/40 batches - 4.0s - loss 0.3412 - acc 0.875 - val_loss 0.4

The stream and the clock are injectable, which is how the tests drive it:

>>> import io
>>> ticks = iter([0.0, 2.5])
>>> out = io.StringIO()
>>> bar = Progress(40, epoch=1, epochs=10, stream=out, clock=lambda: next(ticks))
>>> bar.update(39, {"loss": 0.25})
>>> bar.close({"loss": 0.25, "val_loss": 0.5})
>>> out.getvalue()
'Epoch 2/10 - 40/40 batches - 2.5s - loss 0.25 - val_loss 0.5\\n'
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import IO, Any

#: log keys that describe the batch rather than measure the model; never displayed
HIDDEN_KEYS = frozenset({"batch", "size", "epoch"})

_unfinished: Progress | None = None  # the progress whose redrawn line awaits its newline


def break_line(stream: Any) -> None:
    """End an unfinished progress line on ``stream``, so that a message printed next starts on
    a line of its own (the progress line continues below it)."""
    global _unfinished
    if _unfinished is None or _unfinished.stream is not stream:
        return
    if _unfinished._drawn_length:
        _unfinished._drawn_length = 0
        _unfinished._write("\n")
    _unfinished = None


def format_duration(seconds: float) -> str:
    """Compact time: 350ms, 4.2s, 42s, 3m07s, 2h05m.

    >>> [format_duration(s) for s in (0.35, 4.2, 42.4, 187, 7500)]
    ['350ms', '4.2s', '42s', '3m07s', '2h05m']
    """
    if not math.isfinite(seconds):
        return "?"
    seconds = max(0.0, seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    whole = int(round(seconds))
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def format_logs(logs: Mapping[str, Any] | None) -> str:
    """``name value`` pairs joined by " - ", numbers to 4 significant digits, others skipped.

    >>> format_logs({"loss": 0.123456, "accuracy": 0.875, "lr": 0.001, "batch": 3, "note": "x"})
    'loss 0.1235 - accuracy 0.875 - lr 0.001'
    """
    parts = []
    for key, value in (logs or {}).items():
        if key in HIDDEN_KEYS:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        parts.append(f"{key} {number:.4g}")
    return " - ".join(parts)


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def _terminal_columns(stream: Any) -> int | None:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return None


class Progress:
    """The progress line of epoch ``epoch`` (0-based, shown 1-based) of ``epochs``.

    ``total_batches`` may be None when unknown (then there is no bar and no ETA). ``enabled``
    chooses redraws (True) or one plain line per epoch (False); None decides by
    ``stream.isatty()``. ``stream`` defaults to ``sys.stderr``, ``clock`` to ``time.monotonic``.
    """

    def __init__(
        self,
        total_batches: int | None,
        epoch: int,
        epochs: int | None,
        stream: IO[str] | None = None,
        enabled: bool | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        min_interval: float = 0.1,
        width: int = 30,
    ) -> None:
        if total_batches is not None and total_batches < 0:
            raise ValueError(f"total_batches must be ≥ 0 or None, got {total_batches}")
        self.total = None if total_batches is None else int(total_batches)
        self.epoch = int(epoch)
        self.epochs = None if epochs is None else int(epochs)
        self.stream = sys.stderr if stream is None else stream
        self.enabled = _is_tty(self.stream) if enabled is None else bool(enabled)
        self.clock = clock
        self.min_interval = float(min_interval)
        self.width = int(width)
        self.columns = _terminal_columns(self.stream) if self.enabled else None
        self.done = 0
        self.logs: dict[str, Any] = {}
        self.closed = False
        self.start = clock()
        self._last_draw: float | None = None
        self._drawn_length = 0

    # ------------------------------------------------------------------ public
    def update(self, batch_index: int, logs: Mapping[str, Any] | None = None) -> None:
        """Batch ``batch_index`` (0-based) has finished with running ``logs``; redraw if due."""
        if self.closed:
            return
        self.done = batch_index + 1 if self.total is None else min(batch_index + 1, self.total)
        self.logs = dict(logs or {})
        if not self.enabled:
            return
        now = self.clock()
        due = self._last_draw is None or now - self._last_draw >= self.min_interval
        if due or self.done == self.total:
            self._last_draw = now
            self._draw(self._running_line(now - self.start), end="")

    def close(self, logs: Mapping[str, Any] | None = None) -> None:
        """Write the epoch's final line (its time, ``logs`` or the last batch's) and a newline."""
        if self.closed:
            return
        self.closed = True
        if logs is not None:
            self.logs = dict(logs)
        elapsed = self.clock() - self.start
        if self.enabled:
            self._draw(self._final_line(elapsed), end="\n")
        else:
            self._write(self._plain_line(elapsed) + "\n")

    # ------------------------------------------------------------------ lines
    def _title(self) -> str:
        return f"Epoch {self.epoch + 1}/{self.epochs if self.epochs is not None else '?'}"

    def _bar(self) -> str:
        if not self.total:
            return ""
        filled = self.width * self.done // self.total
        head = ">" if filled < self.width else ""
        return "[" + "=" * filled + head + "." * (self.width - filled - len(head)) + "] "

    def _count(self) -> str:
        return f"{self.done}/{self.total}" if self.total is not None else f"{self.done}"

    def _with_logs(self, line: str) -> str:
        shown = format_logs(self.logs)
        return f"{line} - {shown}" if shown else line

    def _running_line(self, elapsed: float) -> str:
        line = f"{self._title()} {self._bar()}{self._count()} - {format_duration(elapsed)}"
        if self.total and 0 < self.done < self.total:
            eta = elapsed / self.done * (self.total - self.done)
            line += f" - ETA {format_duration(eta)}"
        return self._with_logs(line)

    def _final_line(self, elapsed: float) -> str:
        return self._with_logs(
            f"{self._title()} {self._bar()}{self._count()} - {format_duration(elapsed)}"
        )

    def _plain_line(self, elapsed: float) -> str:
        return self._with_logs(
            f"{self._title()} - {self._count()} batches - {format_duration(elapsed)}"
        )

    # ------------------------------------------------------------------ output
    def _draw(self, line: str, end: str) -> None:
        """Overwrite the current terminal line with ``line`` (padded over a longer old one)."""
        if self.columns:
            line = line[: max(self.columns - 1, 1)]
        global _unfinished
        padding = " " * max(self._drawn_length - len(line), 0)
        self._drawn_length = 0 if end else len(line)
        _unfinished = None if end else self
        self._write("\r" + line + padding + end)

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


__all__ = ["break_line", "format_duration", "format_logs", "HIDDEN_KEYS", "Progress"]
