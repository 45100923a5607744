"""Damaged and hostile CSV, NPZ and IDX data files: one DataFileError line, fast, small."""

from __future__ import annotations

import gzip
import io
import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule import datasets
from chainrule.datasets.files import DataFileError

MAX_SECONDS = 1.0
MAX_PEAK_BYTES = 50 * 2**20
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

CSV = b"a,b,label\n1.5,2,yes\n-3,4e2,no\n0,0,yes\n"
IMAGES = np.arange(6 * 3 * 4, dtype=np.uint8).reshape(6, 3, 4)
LABELS = np.array([0, 1, 2, 1, 0, 2], dtype=np.uint8)


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _idx(array: np.ndarray) -> bytes:
    code = {np.dtype(np.uint8): 0x08, np.dtype(">f4"): 0x0D}[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


NPZ = _npz(x=np.arange(12.0).reshape(4, 3), y=np.array([0, 1, 1, 0]))


def _load(path, kind):
    if kind == "csv":
        return datasets.load_csv(path)
    if kind == "npz":
        return datasets.load_npz(path)
    return datasets.load_idx(path, path.parent / "labels-idx1")


def _loads_or_refuses(tmp_path, data: bytes, kind: str) -> None:
    """``data`` as a file of ``kind`` loads, or fails with one DataFileError line naming the
    file, under a second and 50 MB."""
    path = tmp_path / f"fuzzed.{kind}"
    path.write_bytes(data)
    (tmp_path / "labels-idx1").write_bytes(_idx(LABELS))
    tracemalloc.start()
    started = time.perf_counter()
    try:
        _load(path, kind)
        error = None
    except DataFileError as raised:
        error = raised
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < MAX_SECONDS and peak < MAX_PEAK_BYTES, (elapsed, peak)
    if error is not None:
        assert "\n" not in str(error) and str(path) in str(error), str(error)


SOURCES = {"csv": CSV, "npz": NPZ, "idx": _idx(IMAGES), "idx.gz": gzip.compress(_idx(IMAGES))}


@FUZZ
@given(data=st.data())
def test_truncated_or_bit_flipped_data_files_load_or_are_refused(tmp_path, data):
    name = data.draw(st.sampled_from(sorted(SOURCES)), label="source")
    raw = bytearray(SOURCES[name])
    if data.draw(st.booleans(), label="truncate"):
        raw = raw[: data.draw(st.integers(0, len(raw) - 1), label="length")]
    else:
        for _ in range(data.draw(st.integers(1, 4), label="flips")):
            position = data.draw(st.integers(0, len(raw) - 1), label="position")
            raw[position] ^= 1 << data.draw(st.integers(0, 7), label="bit")
    _loads_or_refuses(tmp_path, bytes(raw), name.split(".")[0])


@FUZZ
@given(text=st.text(alphabet='ab,1.5e-\n"x\tnaif ', max_size=80))
def test_any_csv_text_loads_or_is_refused(tmp_path, text):
    _loads_or_refuses(tmp_path, ("a,b\n" + text).encode(), "csv")


@FUZZ
@given(
    x=st.sampled_from(
        [
            np.zeros((0, 2)),
            np.zeros(3),
            np.array([["a", "b"]]),
            np.array([[np.nan, 1.0]]),
            np.zeros((2, 2), dtype=complex),
            np.zeros((2, 2), dtype=bool),
            np.zeros((2, 3, 2)),
        ]
    ),
    y=st.sampled_from(
        [
            np.array([0, 1]),
            np.array([[0.5], [1.5]]),
            np.zeros((2, 2, 2)),
            np.array([1.0, np.inf]),
            np.array([True, False]),
            np.array([0]),
        ]
    ),
)
def test_any_npz_arrays_load_or_are_refused(tmp_path, x, y):
    _loads_or_refuses(tmp_path, _npz(x=x, y=y), "npz")


def test_a_forged_idx_shape_fails_before_allocating(tmp_path):
    header = bytes([0, 0, 0x0D, 3]) + b"".join(n.to_bytes(4, "big") for n in (60000, 9999, 9999))
    for data in (header + bytes(64), gzip.compress(header + bytes(64))):
        path = tmp_path / "huge-idx3"
        path.write_bytes(data)
        tracemalloc.start()
        try:
            with pytest.raises(DataFileError, match="huge-idx3"):
                datasets.read_idx(path)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < MAX_PEAK_BYTES


def test_a_gzip_bomb_idx_is_inflated_only_as_far_as_its_header_says(tmp_path):
    small = _idx(IMAGES)
    bomb = gzip.compress(small + bytes(64 * 2**20))  # 64 MB of zeros after a 72-byte image
    path = tmp_path / "bomb-idx3"
    path.write_bytes(bomb)
    tracemalloc.start()
    try:
        with pytest.raises(DataFileError, match=r"bomb-idx3 has more data than its shape"):
            datasets.read_idx(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20


def test_a_missing_labels_file_is_named_as_the_labels_file(tmp_path):
    images = tmp_path / "train-images-idx3-ubyte"
    images.write_bytes(_idx(IMAGES))
    with pytest.raises(
        DataFileError,
        match="no labels file for the images .*train-images-"
        "idx3-ubyte: looked for train-labels-idx1-ubyte",
    ):
        datasets.load(str(images))


def test_a_non_finite_npz_target_is_named(tmp_path):
    path = tmp_path / "inf.npz"
    path.write_bytes(_npz(x=np.zeros((2, 2)), y=np.array([1.0, np.inf])))
    with pytest.raises(
        DataFileError,
        match=r"inf\.npz, array 'y': the target in row 1 "
        r"\(counting from 0\) is not finite",
    ):
        datasets.load_npz(path)
