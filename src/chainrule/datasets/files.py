"""Your own data from files: CSV, NumPy ``.npz`` and MNIST's IDX format, each into a Dataset.

Every loader checks what it reads and names the file in its errors (and, for CSV, the line
number in the file and the column). What the target column or array becomes:

- integers (also floats with integral values, such as 1.0) and text → classification with
  the sorted distinct values as the class names, labelled 0..k−1 in that order (labels
  {3, 7} are 2 classes; ``chainrule.data_path`` states the rules every entry point shares);
  an .npz whose ``classes`` array names the classes keeps integer labels 0..k−1 as indices,
  and so do IDX label files of labels 0..255 (MNIST's digits);
- one-hot rows (0s and 1s summing to 1; an .npz's y, or several CSV target columns) →
  classification, the class of each row the column of its 1;
- non-integral numbers → regression (float32 targets of shape (n, 1));
- class labels but for a few other numbers (a 0/1 column with one 0.5) → an error asking
  for the task.

``task="regression"`` or ``task="classification"`` overrides the guess (integer-valued
targets that are amounts, not classes, need ``task="regression"``).

IDX (http://yann.lecun.com/exdb/mnist/) is big-endian: a 4-byte magic number 0x00 0x00, a type
code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64) and the
number of dimensions D; then D 4-byte sizes; then the values in C order. Files may be gzipped
(recognised by their content, whatever their name). Images are flattened to one row per image
and converted to float32 with their original values (0..255 for MNIST; scale them yourself,
e.g. with ``Standardizer``).

Files are untrusted: every problem with a file's content is a ``DataFileError`` (a
ValueError) whose one-line message names the file; memory stays bounded by what the file can
hold (an ``.npz`` is read with ``archive.NpzArchive``, which checks the zip directory and the
array headers before any data; a gzipped IDX file is decompressed only as far as its header
says, at most ``DEFLATE_RATIO`` times the compressed size). A missing file is a
FileNotFoundError naming it, except a missing IDX labels file beside existing images, which is
a ``DataFileError`` naming the labels file.
"""

from __future__ import annotations

import csv
import difflib
import errno
import math
import numbers
import os
import re
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from .. import data_path
from ..archive import DEFLATE_RATIO, NpzArchive
from ..errors import AmbiguousTaskError, DataError, DataFileError
from ..naming import normalize
from .base import TASKS, Dataset

PathLike = str | os.PathLike[str]

IDX_TYPES: dict[int, str] = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}
_SIBLING = re.compile(r"images([-._]?idx)\d")
MAX_IDX_BYTES = 8 * 2**30


def _dataset(file: Path, x: Any, y: Any, **fields: Any) -> Dataset:
    """``Dataset(x, y, ...)`` with its checks' failures as a DataFileError naming ``file``."""
    try:
        return Dataset(x, y, **fields)
    except (ValueError, TypeError) as error:
        raise DataFileError(f"{file}: {error}") from None


def existing_file(path: PathLike) -> Path:
    """``path`` as a Path; a FileNotFoundError naming it when there is no such file."""
    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(errno.ENOENT, "no such data file", str(file))
    if file.is_dir():
        raise IsADirectoryError(errno.EISDIR, "a directory, not a data file", str(file))
    return file


def _check_task(task: str | None) -> None:
    if task is not None and task not in TASKS:
        raise ValueError(
            f"task must be 'classification', 'regression' or None (guess), not {task!r}"
        )


# ---------------------------------------------------------------------- targets
def _targets_from_numbers(
    values: np.ndarray, task: str | None, where: str, declared: list[str] | None = None
) -> tuple[np.ndarray, str, list[str] | None]:
    """(y, task, classes) for numeric targets, following the rules in the module docstring;
    ``declared``: the class names the file gives."""
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        row = int(np.flatnonzero(~np.isfinite(values.reshape(len(values), -1)).all(axis=1))[0])
        raise DataFileError(f"{where}: the target in row {row} (counting from 0) is not finite")
    try:
        task = data_path.file_task(values, task, where)
    except DataError as error:
        raise AmbiguousTaskError(str(error)) from None
    if task == "regression":
        return values.astype(np.float64), "regression", None
    if data_path.is_one_hot(values):
        width = values.shape[1]
        if declared is not None and len(declared) != width:
            raise DataFileError(
                f"{where}: one-hot rows of {width} columns, but the file names "
                f"{len(declared)} classes"
            )
        return (
            np.argmax(values, axis=1).astype(np.int64),
            "classification",
            declared or [str(i) for i in range(width)],
        )
    integral = values.dtype.kind in "biu" or bool(np.all(values == np.round(values)))
    if not integral:
        if task == "classification":
            first = values.ravel()[np.argmax(values.ravel() != np.round(values.ravel()))]
            raise DataFileError(
                f"{where}: the target {first} is not an integer; class labels "
                "must be integers or names (use task='regression' for real "
                "values)"
            )
        return values.astype(np.float64), "regression", None
    if values.ndim != 1:
        raise DataFileError(
            f"{where}: class labels must be one per sample (shape (n,)), got {values.shape}"
        )
    if values.dtype.kind == "f":
        values = values.astype(np.int64)
    if declared is not None:  # indices into the file's class names (Dataset checks them)
        return values, "classification", declared
    index, distinct = data_path.encode_labels(values)  # uint64 keeps its values
    return index, "classification", [str(v) for v in distinct]


def _targets_from_names(
    names: np.ndarray, task: str | None, where: str
) -> tuple[np.ndarray, str, list[str]]:
    if task == "regression":
        raise DataFileError(
            f"{where}: the target holds text ({names.ravel()[0]!r}), which "
            "cannot be a regression target"
        )
    distinct, index = np.unique(names, return_inverse=True)
    return index.reshape(-1).astype(np.int64), "classification", [str(v) for v in distinct]


# ---------------------------------------------------------------------- CSV
def load_csv(
    path: PathLike,
    target: str | int | list[str | int] | None = None,
    delimiter: str = ",",
    task: str | None = None,
    dtype: str = "float32",
) -> Dataset:
    """A CSV file with a header row: one column is the target, all others numeric features.

    ``target`` is a column name (exact, else ignoring case, '_', '-' and spaces) or index
    (negative counts from the end); ``None`` means the last column. Blank lines are skipped.
    A non-numeric, empty or non-finite feature cell is a ValueError naming the line (1-based,
    as an editor shows it) and the column; rows of the wrong length are a ShapeError.
    ``dtype="float64"`` keeps x (and regression targets) in float64, for integers beyond
    float32's 2²⁴ such as identifiers.

    ``target`` may also name several columns (a list, or one text "a,b,c" that is no column):
    one-hot rows (0s and 1s summing to 1) make a classification set whose classes are those
    column names; other values are regression targets of shape (n, columns).
    """
    file = existing_file(path)
    _check_task(task)
    header, rows = _read_csv(file, delimiter)
    several = target_columns(target, header)
    if several is not None:
        return _one_hot_csv(
            file,
            header,
            rows,
            [_target_column(name, header, file) for name in several],
            task,
            dtype,
        )
    column = _target_column(target, header, file)
    features = [i for i in range(len(header)) if i != column]
    x = _csv_features(file, header, rows, features)
    values = [cells[column] for _, cells in rows]
    y, task, classes = _csv_target(file, header[column], rows, values, task)
    return _dataset(
        file,
        x,
        y,
        name=file.stem,
        task=task,
        classes=classes,
        dtype=dtype,
        feature_names=[header[i] for i in features],
        description=f"loaded from {file} (target column {header[column]!r})",
    )


def target_columns(target: Any, header: list[str]) -> list[Any] | None:
    """The several target columns ``target`` names (a list or tuple, or text "a,b" that is
    not itself a column of ``header``), None for a single column."""
    if isinstance(target, (list, tuple)):
        if len(target) < 2:
            raise ValueError(
                f"target lists {len(target)} columns; name one column, or two "
                "or more one-hot columns"
            )
        return list(target)
    if isinstance(target, str) and "," in target and target not in header:
        return [name.strip() for name in target.split(",")]
    return None


def _one_hot_csv(
    file: Path,
    header: list[str],
    rows: list[tuple[int, list[str]]],
    columns: list[int],
    task: str | None,
    dtype: str,
) -> Dataset:
    """A CSV set whose targets are several columns: one-hot rows are class labels (the
    classes are the column names), other numbers regression targets."""
    if len(set(columns)) != len(columns):
        raise DataFileError(f"{file}: the target names a column twice")
    features = [i for i in range(len(header)) if i not in columns]
    if not features:
        raise DataFileError(f"{file}: every column is a target; there are no features")
    x = _csv_features(file, header, rows, features)
    values = _csv_features(file, header, rows, columns)
    names = [header[i] for i in columns]
    one_hot = data_path.is_one_hot(values)
    if task == "classification" and not one_hot:
        raise DataFileError(
            f"{file}: the target columns {', '.join(names)} are not one-hot "
            "(each row one 1, the others 0), so they are no class labels"
        )
    if task != "regression" and one_hot:
        y, task, classes = np.argmax(values, axis=1), "classification", names
    else:
        y, task, classes = values, "regression", None
    return _dataset(
        file,
        x,
        y,
        name=file.stem,
        task=task,
        classes=classes,
        dtype=dtype,
        feature_names=[header[i] for i in features],
        description=f"loaded from {file} (target columns {', '.join(names)})",
    )


def read_csv_table(
    file: Path, delimiter: str = ",", *, needs_target: bool = True
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the data rows of a CSV file, each row with its line number, cells stripped.

    Blank lines are skipped. Raises DataFileError (naming the file and line) for text that is
    not UTF-8 or not CSV, a missing or unnamed or repeated header name, a first row of numbers
    only (no header), no data rows, or a row whose cell count differs from the header's; with
    ``needs_target`` (load_csv's case), also for a single column.
    """
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            try:
                for cells in reader:
                    if not cells or (len(cells) == 1 and not cells[0].strip()):
                        continue  # a blank line
                    cells = [cell.strip() for cell in cells]
                    if header is None:
                        header = cells
                        header_line = reader.line_num
                    else:
                        rows.append((reader.line_num, cells))
            except csv.Error as error:
                raise DataFileError(
                    f"{file}, line {reader.line_num}: not valid CSV: {error}"
                ) from error
    except UnicodeDecodeError as error:
        raise DataFileError(f"{file} is not UTF-8 text: {error}") from error
    if header is None:
        raise DataFileError(
            f"{file} is empty; a CSV file needs a header row naming the columns "
            "and at least one data row"
        )
    for index, name in enumerate(header):
        if not name:
            raise DataFileError(
                f"{file}, line {header_line}: column {index + 1} of the header has no name"
            )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise DataFileError(
            f"{file}: the header names {', '.join(map(repr, repeated))} more than "
            "once; column names must be unique"
        )
    if all(_is_number(name) for name in header):
        raise DataFileError(
            f"{file}, line {header_line}: the first row is all numbers "
            f"({delimiter.join(header)}); the file needs a header row naming "
            "the columns"
        )
    if needs_target and len(header) < 2:
        raise DataFileError(
            f"{file} has a single column {header[0]!r}; it needs feature columns "
            "and a target column"
        )
    if not rows:
        raise DataFileError(f"{file} has a header but no data rows")
    for line, cells in rows:
        if len(cells) != len(header):
            raise DataFileError(
                f"{file}, line {line}: {len(cells)} cells but the header has "
                f"{len(header)} columns (is the delimiter {delimiter!r} right?)"
            )
    return header, rows


_read_csv = read_csv_table  # the name load_csv and the playground's datasets use


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _target_column(target: object, header: list[str], file: Path) -> int:
    """The index of the column ``target`` names (checked here: a name or an index)."""
    if target is None:
        return len(header) - 1
    if isinstance(target, bool) or not isinstance(target, (str, numbers.Integral)):
        raise TypeError(f"target must be a column name or index, not {target!r}")
    if isinstance(target, numbers.Integral):
        index = int(target)
        if -len(header) <= index < len(header):
            return index % len(header)
        raise IndexError(
            f"target column {target} is out of range: {file} has {len(header)} "
            f"columns ({', '.join(header)})"
        )
    if target in header:
        return header.index(target)
    same = [i for i, name in enumerate(header) if normalize(name) == normalize(target)]
    if len(same) == 1:
        return same[0]
    close = difflib.get_close_matches(target, header, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(map(repr, close))}? " if close else ""
    raise ValueError(f"{file} has no column {target!r}; {hint}its columns are: {', '.join(header)}")


def _csv_features(
    file: Path, header: list[str], rows: list[tuple[int, list[str]]], features: list[int]
) -> np.ndarray:
    table = [[cells[i] for i in features] for _, cells in rows]
    try:  # the fast path; on any doubt, parse cell by cell to name the first bad one
        x = np.array(table, dtype=np.float64).reshape(len(rows), len(features))
        if np.isfinite(x).all():
            return x
    except ValueError:
        pass
    return np.array(
        [
            [_feature_value(cells[i], file, line, header[i]) for i in features]
            for line, cells in rows
        ],
        dtype=np.float64,
    )


def _feature_value(cell: str, file: Path, line: int, column: str) -> float:
    if not cell:
        raise DataFileError(
            f"{file}, line {line}: column {column!r} is empty; every feature needs "
            "a value (fill in or drop rows with missing values)"
        )
    try:
        value = float(cell)
    except ValueError:
        raise DataFileError(
            f"{file}, line {line}: column {column!r} has the non-numeric value "
            f"{cell!r}; feature columns must be numbers (only the target column "
            "may hold class names)"
        ) from None
    if not math.isfinite(value):
        raise DataFileError(
            f"{file}, line {line}: column {column!r} has the non-finite value {cell!r}"
        )
    return value


def _csv_target(
    file: Path, column: str, rows: list[tuple[int, list[str]]], values: list[str], task: str | None
) -> tuple[np.ndarray, str, list[str] | None]:
    lines = [line for line, _ in rows]
    for line, cell in zip(lines, values):
        if not cell:
            raise DataFileError(f"{file}, line {line}: the target column {column!r} is empty")
    maybe_parsed = [_parse_number(cell) for cell in values]
    parsed = [value for value in maybe_parsed if value is not None]
    where = f"{file}, target column {column!r}"
    if len(parsed) < len(maybe_parsed):  # text: every value is a class name
        if task == "regression":
            line, cell = next((ln, c) for ln, c, v in zip(lines, values, maybe_parsed) if v is None)
            raise DataFileError(
                f"{file}, line {line}: the target column {column!r} has the "
                f"non-numeric value {cell!r}; regression needs numbers"
            )
        return _targets_from_names(np.array(values), task, where)
    for line, cell, value in zip(lines, values, parsed):
        if not math.isfinite(value):
            raise DataFileError(
                f"{file}, line {line}: the target column {column!r} has the "
                f"non-finite value {cell!r}"
            )
    if task == "regression":
        return np.array(parsed, dtype=np.float64), "regression", None
    fractional = [i for i, value in enumerate(parsed) if not isinstance(value, int)]
    stray = data_path.stray_label(np.array(parsed, dtype=np.float64))
    if stray is not None and task is None:
        raise AmbiguousTaskError(
            data_path.ambiguous_task(
                where, np.array(parsed, dtype=np.float64), f"{values[stray]} on line {lines[stray]}"
            )
        )
    if not fractional:
        return _targets_from_numbers(np.array(parsed, dtype=np.int64), task, where)
    if task == "classification":
        i = fractional[0]
        raise DataFileError(
            f"{file}, line {lines[i]}: the target {values[i]!r} in column "
            f"{column!r} is not an integer; class labels must be integers or "
            "names (use task='regression' for real values)"
        )
    return np.array(parsed, dtype=np.float64), "regression", None


def _parse_number(cell: str) -> float | int | None:
    """An int for integral text ('3', '3.0'), a float for other numbers, None for text."""
    try:
        value = float(cell)
    except ValueError:
        return None
    if math.isfinite(value) and value == round(value) and abs(value) < 2**53:
        return int(value)
    return value


# ---------------------------------------------------------------------- NPZ
def load_npz(
    path: PathLike,
    x_key: str = "x",
    y_key: str = "y",
    task: str | None = None,
    dtype: str = "float32",
) -> Dataset:
    """Arrays ``x_key`` (samples × features; more dimensions are flattened) and ``y_key``.

    Read with ``allow_pickle=False``: object arrays are refused, since unpickling a file can
    run arbitrary code. Optional arrays ``classes`` (class names) and ``feature_names`` are
    used when the archive has them; ``dtype`` as for ``load_csv``.
    """
    file = existing_file(path)
    _check_task(task)
    with file.open("rb") as handle:
        magic = handle.read(6)
    if magic.startswith(b"\x93NUMPY"):
        raise DataFileError(
            f"{file} is a single .npy array, not an .npz archive holding "
            f"{x_key!r} and {y_key!r} (save with numpy.savez(path, x=x, y=y))"
        )
    if magic[:1] == b"\x80":
        raise DataFileError(
            f"{file} holds pickled data, which chainrule refuses to load "
            "(unpickling can run arbitrary code); save numeric arrays with "
            "numpy.savez"
        )
    if not magic.startswith(b"PK"):
        raise DataFileError(f"{file} is not an .npz archive (numpy.savez writes a zip file)")
    with NpzArchive(file, DataFileError, "an .npz archive") as archive:
        stored = list(archive.headers)
        missing = [key for key in (x_key, y_key) if key not in stored]
        if missing:
            raise DataFileError(
                f"{file} has no array {' or '.join(map(repr, missing))}; its "
                f"arrays are: {', '.join(stored) or 'none'} (choose them with "
                "x_key= and y_key=)"
            )
        arrays = {
            key: archive.read(key)
            for key in (x_key, y_key, "classes", "feature_names")
            if key in stored
        }
    x, y = arrays[x_key], arrays[y_key]
    if x.dtype.kind not in "biuf":
        raise DataFileError(f"{file}: array {x_key!r} must be numeric, not {x.dtype}")
    if x.ndim < 2:
        raise DataFileError(
            f"{file}: array {x_key!r} must be samples × features, got shape "
            f"{x.shape} (reshape one feature to (n, 1))"
        )
    if x.shape[0] == 0:
        raise DataFileError(f"{file}: array {x_key!r} has no rows (the data set is empty)")
    x = x.reshape(x.shape[0], -1)
    if y.shape[:1] != x.shape[:1]:
        raise DataFileError(
            f"{file}: {x_key!r} has {x.shape[0]} rows but {y_key!r} has shape "
            f"{y.shape}; they need one target per row"
        )
    where = f"{file}, array {y_key!r}"
    classes: list[str] | None
    if y.dtype.kind in "US":
        y, task, classes = _targets_from_names(y.astype(str), task, where)
    elif y.dtype.kind in "biuf":
        if y.ndim == 2 and y.shape[1] == 1 and task != "regression":
            y = y[:, 0]
        declared = [str(c) for c in arrays["classes"].tolist()] if "classes" in arrays else None
        y, task, classes = _targets_from_numbers(y, task, where, declared)
    else:
        raise DataFileError(f"{where} must hold numbers or class names, not {y.dtype}")
    names = arrays.get("feature_names")
    return _dataset(
        file,
        x,
        y,
        name=file.stem,
        task=task,
        classes=classes,
        dtype=dtype,
        feature_names=None if names is None else [str(n) for n in names.tolist()],
        description=f"loaded from {file} (arrays {x_key!r} and {y_key!r})",
    )


# ---------------------------------------------------------------------- IDX
def read_idx(path: PathLike) -> np.ndarray:
    """The array in an IDX file (plain or gzipped), in native byte order."""
    file = existing_file(path)
    raw = file.read_bytes()
    gzipped = raw[:2] == b"\x1f\x8b"
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
    head = raw if decompressor is None else _inflate(file, decompressor, raw, 4 + 4 * 255)
    if len(head) < 4:
        raise DataFileError(
            f"{file} is truncated: {len(head)} bytes, too short for the 4-byte IDX magic number"
        )
    if head[0] != 0 or head[1] != 0 or head[2] not in IDX_TYPES or head[3] == 0:
        raise DataFileError(
            f"{file} is not an IDX file: bad magic number 0x{head[:4].hex()} (expected 0x0000, a "
            "type code 08/09/0b/0c/0d/0e and the number of dimensions)"
        )
    ndim = head[3]
    start = 4 + 4 * ndim
    if len(head) < start:
        raise DataFileError(
            f"{file} is truncated: the header needs {start} bytes for {ndim} "
            f"dimensions, the file has {len(head)}"
        )
    shape = struct.unpack(f">{ndim}I", head[4:start])
    dtype = np.dtype(IDX_TYPES[head[2]])
    count = math.prod(shape)
    expected = count * dtype.itemsize
    limit = min(MAX_IDX_BYTES, len(raw) * DEFLATE_RATIO)
    if gzipped and start + expected > limit:
        raise DataFileError(
            f"{file} declares shape {shape} ({start + expected} bytes), more "
            f"than the file can hold ({limit} bytes); it is damaged or not an "
            "IDX file"
        )
    if decompressor is not None:
        raw = head + _inflate(
            file, decompressor, decompressor.unconsumed_tail, start + expected + 1 - len(head)
        )
        if not decompressor.eof and len(raw) <= start + expected:
            raise DataFileError(f"{file} is a damaged or truncated gzip file (its data end early)")
    found = len(raw) - start
    if found < expected:
        raise DataFileError(
            f"{file} is truncated: shape {shape} needs {expected} bytes of data, "
            f"the file has {found}"
        )
    if found > expected:
        extra = "more data" if gzipped else f"{found - expected} bytes more"
        raise DataFileError(
            f"{file} has {extra} than its shape {shape} needs; it is not a valid IDX file"
        )
    array = np.frombuffer(raw, dtype=dtype, count=count, offset=start).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def _inflate(file: Path, decompressor: Any, data: bytes, limit: int) -> bytes:
    """At most ``limit`` bytes of gzip ``data``, decompressed."""
    try:
        return decompressor.decompress(data, max(limit, 1))
    except zlib.error as error:
        raise DataFileError(f"{file} is a damaged or truncated gzip file: {error}") from None


def find_labels(images_path: PathLike) -> Path:
    """The labels file beside an MNIST images file ("…-images-idx3-ubyte" → "…-labels-idx1-…").

    The labels may be gzipped or not, whether or not the images are.
    """
    images = Path(images_path)
    name, replaced = _SIBLING.subn(r"labels\g<1>1", images.name)
    if not replaced:
        raise DataFileError(
            f"cannot guess the labels file for {images}: its name does not follow "
            "MNIST's '...-images-idx3-ubyte' pattern; pass labels_path"
        )
    plain = name[:-3] if name.endswith(".gz") else name
    candidates = list(dict.fromkeys([name, plain, plain + ".gz"]))
    for candidate in candidates:
        if (images.parent / candidate).is_file():
            return images.parent / candidate
    raise DataFileError(
        f"no labels file for the images {images}: looked for "
        f"{' and '.join(candidates)} beside them (pass labels_path to name it)"
    )


def load_idx(images_path: PathLike, labels_path: PathLike | None = None) -> Dataset:
    """MNIST-style IDX images and labels; each image becomes one float32 row of x.

    ``labels_path=None`` looks for the labels beside the images by MNIST's naming (see
    ``find_labels``).
    """
    images_file = existing_file(images_path)
    labels_file = find_labels(images_file) if labels_path is None else Path(labels_path)
    if not labels_file.is_file():
        raise DataFileError(f"no labels file at {labels_file} (for the images {images_file})")
    images = read_idx(images_file)
    labels = read_idx(labels_file)
    if labels.ndim != 1:
        raise DataFileError(
            f"{labels_file} must hold one label per image (1 dimension), got shape {labels.shape}"
        )
    if labels.shape[0] != images.shape[0]:
        raise DataFileError(
            f"{images_file} has {images.shape[0]} images but {labels_file} has "
            f"{labels.shape[0]} labels"
        )
    if labels.dtype.kind not in "iu":
        raise DataFileError(f"{labels_file} holds {labels.dtype} values; labels must be integers")
    names = None
    if images.ndim == 3:
        names = [f"pixel_{r}_{c}" for r in range(images.shape[1]) for c in range(images.shape[2])]
    # MNIST's one-byte labels are the digits, class indices 0..max; others their values
    declared = (
        [str(i) for i in range(int(labels.max()) + 1)]
        if labels.size and 0 <= labels.min() and labels.max() <= 255
        else None
    )
    y, task, classes = _targets_from_numbers(labels, "classification", str(labels_file), declared)
    stem = images_file.name[:-3] if images_file.name.endswith(".gz") else images_file.name
    return _dataset(
        images_file,
        images.reshape(images.shape[0], -1),
        y,
        name=stem,
        task=task,
        classes=classes,
        feature_names=names,
        description=f"loaded from {images_file} and {labels_file}",
    )


__all__ = [
    "DataFileError",
    "existing_file",
    "find_labels",
    "IDX_TYPES",
    "load_csv",
    "load_idx",
    "load_npz",
    "MAX_IDX_BYTES",
    "PathLike",
    "read_csv_table",
    "read_idx",
]
