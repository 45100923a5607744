"""Writing files atomically: a temporary file beside the target, synced, then renamed over it.

A crash or an error while writing leaves the previous file as it was; readers never see half a
file. Used for model files, checkpoints and everything else chainrule writes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

import numpy as np


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


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary handle on a temporary file beside ``path``; on success the file is synced,
    given the usual permissions and renamed over ``path``; on any error it is removed and the
    previous file at ``path`` stays as it was."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.",
                                     suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, file_mode())
        os.replace(temporary, path)
    except BaseException:
        remove_path(temporary)
        raise
    fsync_directory(directory)


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
        np.savez(handle, **checked)
