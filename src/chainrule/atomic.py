"""Writing files atomically: a temporary file beside the target, synced, then renamed over it.

A crash or an error while writing leaves the previous file as it was; readers never see half a
file. Used for model files, checkpoints and everything else chainrule writes.

The temporary file is removed on every exception. One left behind by a killed process (SIGKILL
runs no cleanup) is removed the next time the same target is written, once it is more than
``STALE_AFTER_SECONDS`` older than the new one (a younger one may belong to a writer still at
work). An ``OSError`` while writing (disk full, no permission) becomes a ``FileWriteError``
whose one-line message names the target.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

import numpy as np

from .errors import FileWriteError

STALE_AFTER_SECONDS = 60.0
_TEMPORARY_NAME = "[a-z0-9_]{8}"  # tempfile.mkstemp's random part


def file_mode() -> int:
    """The permissions a newly created file gets (0o666 less the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def fsync_directory(directory: str) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_path(path: str) -> None:
    with contextlib.suppress(OSError):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)


def temporary_prefix(path: str) -> str:
    """The name prefix of the temporary files written for ``path`` (hidden, beside it)."""
    return f".{os.path.basename(path)}."


def remove_stale_temporaries(path: str, newer_than: float) -> None:
    """Remove the temporary files of ``path`` last changed ``STALE_AFTER_SECONDS`` before
    ``newer_than`` (a timestamp): leftovers of a writer that was killed."""
    directory = os.path.dirname(os.path.abspath(path))
    pattern = re.compile(re.escape(temporary_prefix(path)) + _TEMPORARY_NAME + r"\.tmp")
    cutoff = newer_than - STALE_AFTER_SECONDS
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            if not (pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)):
                continue
            with contextlib.suppress(OSError):  # gone already, or not ours to remove
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.remove(entry.path)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary handle on a temporary file beside ``path``; on success the file is synced,
    given the usual permissions and renamed over ``path``; on any error it is removed and the
    previous file at ``path`` stays as it was (an OSError becomes a ``FileWriteError`` naming
    ``path``). Stale temporary files of ``path`` are removed after a successful write."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, temporary = tempfile.mkstemp(
            dir=directory, prefix=temporary_prefix(path), suffix=".tmp"
        )
    except OSError as error:
        raise _write_error(path, error) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            started = os.fstat(handle.fileno()).st_mtime
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, file_mode())
        os.replace(temporary, path)
    except OSError as error:
        remove_path(temporary)
        raise _write_error(path, error) from None
    except BaseException:
        remove_path(temporary)
        raise
    fsync_directory(directory)
    remove_stale_temporaries(path, started)


def _write_error(path: str, error: OSError) -> FileWriteError:
    if isinstance(error, FileWriteError):
        return error
    reason = error.strerror or str(error) or type(error).__name__
    failure = FileWriteError(error.errno, f"cannot write {path}: {reason}")
    failure.filename = path
    return failure


def write_bytes_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see ``atomic_output``)."""
    with atomic_output(path) as handle:
        handle.write(data)


def write_npz_atomically(path: str | os.PathLike[str], arrays: Mapping[str, Any]) -> None:
    """Write ``arrays`` (name → array) to ``path`` in NumPy's .npz format, atomically, no pickle.

    The data go to a temporary file in the same directory, which is synced and then renamed
    over ``path`` with ``os.replace``: a crash or an error leaves the previous file intact. The
    name is used exactly (no ".npz" is appended). Object arrays are refused, so the file never
    needs ``allow_pickle`` to be read.
    """
    checked: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        if not isinstance(name, str):
            raise TypeError(f"array names must be strings, got {name!r}")
        if name in ("file", "allow_pickle"):
            raise ValueError(f"the array name {name!r} is reserved by numpy.savez; rename it")
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise TypeError(f"{name!r} is an object array, which could only be saved by pickling")
        checked[name] = array
    with atomic_output(path) as handle:
        # The stub's allow_pickle keyword could take an array named so; the names are checked.
        np.savez(handle, **checked)  # type: ignore[arg-type]


__all__ = [
    "atomic_output",
    "file_mode",
    "FileWriteError",
    "fsync_directory",
    "remove_path",
    "remove_stale_temporaries",
    "STALE_AFTER_SECONDS",
    "temporary_prefix",
    "write_bytes_atomically",
    "write_npz_atomically",
]
