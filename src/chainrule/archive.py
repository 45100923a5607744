"""Reading ``.npz`` archives that may be hostile: sizes from the zip directory, headers first.

An ``.npz`` file is a zip archive of ``.npy`` members. ``numpy.load`` trusts it: a member
whose header claims a shape of 10¹² elements is allocated before anything else is read. This
reader checks, in order and before decompressing any data:

1. the zip directory: at most ``MAX_MEMBERS`` members, every name ``<key>.npy`` and unique,
   stored or deflated (no encryption, no other method), the compressed sizes fit in the file,
   a stored member's size equals its compressed size and a deflated one's is at most
   ``DEFLATE_RATIO`` times it (deflate cannot expand more), the total at most
   ``MAX_TOTAL_BYTES``;
2. every member's ``.npy`` header (format 1.0 or 2.0, parsed without eval): a plain dtype
   (never an object array, which only pickle could read) whose shape × itemsize plus the
   header is exactly the member's declared size.

Only then does ``read`` decompress one member, into exactly the bytes its checked header
declares, and verify its CRC. Every failure is one line naming the file, raised as the
caller's error class.
"""

from __future__ import annotations

import math
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

MAX_MEMBERS = 65_536
MAX_TOTAL_BYTES = 8 * 2**30
DEFLATE_RATIO = 1032  # deflate's largest possible expansion of its input
MAX_HEADER_BYTES = 10_000  # numpy's own limit on an .npy header
PLAIN_KINDS = "biufcUS"  # bool, integers, floats, complex, text: never objects or structs
_READ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    OverflowError,
    UnicodeDecodeError,
)


@dataclass(frozen=True)
class ArrayHeader:
    """What a member's ``.npy`` header declares: enough to check it before reading it."""

    key: str
    shape: tuple[int, ...]
    dtype: np.dtype
    member: zipfile.ZipInfo


class NpzArchive:
    """An ``.npz`` file whose directory and array headers are checked when it is opened.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.npz")
    >>> np.savez(path, x=np.arange(3))
    >>> with NpzArchive(path, ValueError) as archive:
    ...     archive.headers["x"].shape, archive.read("x").tolist()
    ((3,), [0, 1, 2])
    """

    def __init__(
        self, path: str | os.PathLike[str], error: type[Exception], what: str = "an .npz archive"
    ) -> None:
        self.path = Path(path)
        self.error = error
        self.what = what
        try:
            size = self.path.stat().st_size
            self._zip = zipfile.ZipFile(self.path)
        except _READ_ERRORS as problem:
            raise self._fail(f"is not {what} (corrupt or truncated: {_reason(problem)})") from None
        try:
            self.headers = self._check_directory(size)
        except BaseException:
            self._zip.close()
            raise

    # ------------------------------------------------------------------ checks
    def _fail(self, problem: str) -> Exception:
        return self.error(f"{self.path} {problem}")

    def _check_directory(self, file_size: int) -> dict[str, ArrayHeader]:
        members = self._zip.infolist()
        if len(members) > MAX_MEMBERS:
            raise self._fail(
                f"has {len(members)} members, more than {MAX_MEMBERS}; it is not {self.what}"
            )
        keys = [self._key(member) for member in members]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise self._fail(
                f"holds the array {repeated[0]!r} more than once (a damaged or forged archive)"
            )
        if sum(member.compress_size for member in members) > file_size:
            raise self._fail("declares members larger than the file itself (corrupt or truncated)")
        total = sum(member.file_size for member in members)
        if total > MAX_TOTAL_BYTES:
            raise self._fail(
                f"declares {total} bytes of arrays, more than the "
                f"{MAX_TOTAL_BYTES} this reader accepts"
            )
        return {key: self._header(key, member) for key, member in zip(keys, members)}

    def _key(self, member: zipfile.ZipInfo) -> str:
        name = member.filename
        if not name.endswith(".npy") or len(name) == 4:
            raise self._fail(
                f"holds the member {name!r}, which is not a NumPy array (.npy); "
                f"it is not {self.what}"
            )
        if member.flag_bits & 0x1:
            raise self._fail(f"holds the encrypted member {name!r}")
        if member.compress_type == zipfile.ZIP_STORED:
            honest = member.file_size == member.compress_size
        elif member.compress_type == zipfile.ZIP_DEFLATED:
            honest = member.file_size <= DEFLATE_RATIO * member.compress_size + 1024
        else:
            raise self._fail(
                f"compresses {name!r} with zip method {member.compress_type}; "
                "only stored and deflated members are read"
            )
        if not honest:
            raise self._fail(
                f"declares {member.file_size} bytes for {name!r} from "
                f"{member.compress_size} compressed bytes, which is impossible "
                "(corrupt or forged)"
            )
        return name[:-4]

    def _header(self, key: str, member: zipfile.ZipInfo) -> ArrayHeader:
        try:
            with self._zip.open(member) as stream:
                shape, dtype = _read_npy_header(stream)
                header_size = stream.tell()
        except _READ_ERRORS as problem:
            raise self._fail(
                f"has a damaged header in array {key!r} ({_reason(problem)})"
            ) from None
        if dtype.hasobject:
            raise self._fail(
                f"holds pickled (object) data in array {key!r}; chainrule never unpickles files"
            )
        if dtype.kind not in PLAIN_KINDS or dtype.fields is not None or dtype.subdtype:
            raise self._fail(f"holds array {key!r} of the unsupported dtype {dtype}")
        needed = header_size + math.prod(shape) * dtype.itemsize
        if needed != member.file_size:
            raise self._fail(
                f"has array {key!r} whose header declares shape {shape} of {dtype} "
                f"({needed} bytes) in a member of {member.file_size} bytes "
                "(corrupt or forged)"
            )
        return ArrayHeader(key, shape, dtype, member)

    # ------------------------------------------------------------------ reading
    def read(self, key: str) -> np.ndarray:
        """The array ``key``: exactly the checked header's bytes, CRC verified."""
        header = self.headers[key]
        try:
            with self._zip.open(header.member) as stream:
                array = np.lib.format.read_array(
                    stream, allow_pickle=False, max_header_size=MAX_HEADER_BYTES
                )
                if stream.read(1):
                    raise ValueError("data after the array")
        except _READ_ERRORS as problem:
            raise self._fail(f"has damaged data in array {key!r} ({_reason(problem)})") from None
        return array

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> NpzArchive:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _read_npy_header(stream: IO[bytes]) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) from an ``.npy`` header, format 1.0 or 2.0 (literal parsing, no eval)."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(
            stream, max_header_size=MAX_HEADER_BYTES
        )
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(
            stream, max_header_size=MAX_HEADER_BYTES
        )
    else:
        raise ValueError(f"unsupported .npy format version {version[0]}.{version[1]}")
    return tuple(int(n) for n in shape), dtype


def _reason(problem: BaseException) -> str:
    """A one-line reason from an exception (the first line of its message, or its type)."""
    text = str(problem).strip().splitlines()
    return text[0] if text else type(problem).__name__


__all__ = [
    "ArrayHeader",
    "DEFLATE_RATIO",
    "MAX_HEADER_BYTES",
    "MAX_MEMBERS",
    "MAX_TOTAL_BYTES",
    "NpzArchive",
    "PLAIN_KINDS",
]
