"""One SQLite file per study (stdlib ``sqlite3``, write-ahead log).

It records the space and the study's settings, every trial with its parameters, status,
epochs, seconds and latest checkpoint, and every per-epoch figure the trial logged (losses,
metrics, the ``health/...`` figures). Only the coordinating process writes it (workers send
their results back), so a single writer needs no locking beyond SQLite's own.

Trial statuses: ``pending`` (not started), ``running``, ``paused`` (finished a rung of
successive halving, may be promoted), ``done`` (trained to the full budget), ``pruned`` (not
promoted when the study ended), ``failed`` (an error, or a loss that turned NaN).

A file that is not SQLite, or an SQLite file that is not a chainrule study, is refused with a
``StudyFileError`` saying so.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..errors import StudyFileError

FORMAT_NAME = "chainrule-study"
FORMAT_VERSION = 1
STATUSES = ("pending", "running", "paused", "done", "pruned", "failed")

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE trials (
    id INTEGER PRIMARY KEY, config TEXT NOT NULL, status TEXT NOT NULL,
    epochs_done INTEGER NOT NULL DEFAULT 0, seconds REAL NOT NULL DEFAULT 0,
    checkpoint BLOB, error TEXT, warnings TEXT NOT NULL DEFAULT '[]');
CREATE TABLE metrics (
    trial INTEGER NOT NULL REFERENCES trials(id), epoch INTEGER NOT NULL, key TEXT NOT NULL,
    value REAL, PRIMARY KEY (trial, epoch, key));
"""


@dataclass
class TrialRecord:
    """One trial as the study file holds it (the checkpoint is read separately)."""

    id: int
    config: dict[str, Any]
    status: str = "pending"
    epochs_done: int = 0
    seconds: float = 0.0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    history: dict[str, list[float]] = field(default_factory=dict)

    def value(self, key: str, epochs: int | None = None) -> float:
        """``key`` after ``epochs`` epochs (default: the last epoch); NaN when not logged."""
        values = self.history.get(key, [])
        index = len(values) - 1 if epochs is None else epochs - 1
        value = values[index] if 0 <= index < len(values) else None
        return float("nan") if value is None else float(value)


class StudyStorage:
    """The study file at ``path``: ``create`` a new one, or ``open`` an existing one."""

    def __init__(self, connection: sqlite3.Connection, path: str) -> None:
        self.connection = connection
        self.path = path

    # ------------------------------------------------------------------ opening
    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        settings: Mapping[str, Any],
        configs: list[dict[str, Any]],
    ) -> StudyStorage:
        """A new study file recording ``settings`` (JSON) and one pending trial per config."""
        path = os.fspath(path)
        if os.path.exists(path):
            raise StudyFileError(f"{path} already exists")
        storage = cls(_connect(path), path)
        with storage._writing() as db:
            db.executescript(_SCHEMA)
            db.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    ("format", FORMAT_NAME),
                    ("version", str(FORMAT_VERSION)),
                    ("settings", json.dumps(settings, sort_keys=True)),
                ],
            )
            db.executemany(
                "INSERT INTO trials (id, config, status) VALUES (?, ?, 'pending')",
                [
                    (index, json.dumps(config, sort_keys=True))
                    for index, config in enumerate(configs)
                ],
            )
        return storage

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> StudyStorage:
        """An existing study file; a corrupt, foreign or newer file is a StudyFileError."""
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise StudyFileError(f"no study file at {path}")
        storage = cls(_connect(path), path)
        try:
            meta = dict(storage.connection.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as error:
            storage.close()
            if "no such table" in str(error):
                raise StudyFileError(
                    f"{path} is an SQLite database but not a chainrule study "
                    "(it has no study tables)"
                ) from None
            raise StudyFileError(f"{path} is not a chainrule study file ({error})") from None
        if meta.get("format") != FORMAT_NAME:
            storage.close()
            raise StudyFileError(f"{path} is an SQLite database but not a chainrule study")
        if int(meta.get("version", 0)) > FORMAT_VERSION:
            storage.close()
            raise StudyFileError(
                f"{path} was written by a newer chainrule (study format "
                f"{meta['version']}; this one reads up to {FORMAT_VERSION})"
            )
        return storage

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> StudyStorage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        with self.connection:  # one transaction: committed on success, rolled back on error
            yield self.connection

    # ------------------------------------------------------------------ reading
    def settings(self) -> dict[str, Any]:
        row = self.connection.execute("SELECT value FROM meta WHERE key='settings'").fetchone()
        return json.loads(row[0])

    def trials(self) -> list[TrialRecord]:
        """Every trial with its per-epoch history, in id order; NaN where an epoch has no value
        (SQLite stores NaN as NULL, and a key may be missing from some epochs)."""
        records = {
            row[0]: TrialRecord(
                id=row[0],
                config=json.loads(row[1]),
                status=row[2],
                epochs_done=row[3],
                seconds=row[4],
                error=row[5],
                warnings=json.loads(row[6]),
            )
            for row in self.connection.execute(
                "SELECT id, config, status, epochs_done, seconds, error, warnings "
                "FROM trials ORDER BY id"
            )
        }
        for trial, epoch, key, value in self.connection.execute(
            "SELECT trial, epoch, key, value FROM metrics ORDER BY trial, epoch"
        ):
            values = records[trial].history.setdefault(key, [])
            values.extend([math.nan] * (epoch + 1 - len(values)))
            values[epoch] = math.nan if value is None else value
        return list(records.values())

    def checkpoint(self, trial: int) -> bytes | None:
        row = self.connection.execute(
            "SELECT checkpoint FROM trials WHERE id=?", (trial,)
        ).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    # ------------------------------------------------------------------ writing
    def set_status(self, trial: int, status: str, error: str | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown trial status {status!r}")
        with self._writing() as db:
            db.execute(
                "UPDATE trials SET status=?, error=coalesce(?, error) WHERE id=?",
                (status, error, trial),
            )

    def record_result(
        self,
        trial: int,
        status: str,
        epochs_done: int,
        seconds: float,
        history: Mapping[str, list[float]],
        checkpoint: bytes,
        warnings: list[str],
        error: str | None = None,
    ) -> None:
        """A finished job: its status, the whole history so far, the checkpoint to continue
        from; in one transaction, so a kill leaves the previous state intact."""
        rows = [
            (trial, epoch, key, None if value is None else float(value))
            for key, values in history.items()
            for epoch, value in enumerate(values)
        ]
        with self._writing() as db:
            db.execute(
                "UPDATE trials SET status=?, epochs_done=?, seconds=seconds+?, "
                "checkpoint=?, warnings=?, error=? WHERE id=?",
                (status, epochs_done, seconds, checkpoint, json.dumps(warnings), error, trial),
            )
            db.executemany("INSERT OR REPLACE INTO metrics VALUES (?, ?, ?, ?)", rows)


def _connect(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
    except sqlite3.DatabaseError as error:
        connection.close()
        raise StudyFileError(f"{path} is not a chainrule study file ({error})") from None
    return connection


__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "STATUSES",
    "StudyFileError",
    "StudyStorage",
    "TrialRecord",
]
