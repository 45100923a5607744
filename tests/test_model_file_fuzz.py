"""Hostile and damaged model files and checkpoints: always one ModelFileError line, fast, small.

Real files (Dense/relu, BatchNorm, PReLU by name, Maxout, preprocessing, an Adam state, a
checkpoint) are mutated in their JSON, their arrays and their zip bytes; every load must raise
``ModelFileError`` (never another exception), with a one-line message, in well under a second,
with a bounded memory peak, writing nothing.
"""

from __future__ import annotations

import io
import json
import os
import time
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.datasets import Standardizer
from chainrule.model_file_schema import expected_arrays
from chainrule.models import Sequential
from chainrule.nn import (
    Activation,
    BatchNorm,
    Dense,
    Dropout,
    Flatten,
    Maxout,
    PReLU,
    layer_names,
)
from chainrule.serialization import read_training_state

MAX_SECONDS = 1.0
MAX_PEAK_BYTES = 50 * 2**20
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _data(rows=32):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, 4)) * 3 + 1
    return x, (x[:, 0] > 1).astype(int) + (x[:, 1] > 1).astype(int)


def _model():
    model = Sequential(
        [
            Dense(8, input_dim=4, activation="relu"),
            BatchNorm(),
            Dense(8, activation="prelu"),
            Dropout(0.1, seed=0),
            Maxout(4, pieces=2),
            PReLU(),
            Dense(3),
        ],
        seed=0,
    )
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
        optimizer=cr.optim.Adam(lr=0.01),
        metrics=["accuracy"],
    )
    return model


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """(model file bytes, checkpoint bytes) of one small trained model."""
    directory = tmp_path_factory.mktemp("real")
    x, labels = _data()
    model = _model()
    model.preprocessing = Standardizer().fit(x)
    model.fit(
        x, labels, epochs=2, batch_size=8, verbose=0, seed=0, checkpoint=directory / "ckpt.npz"
    )
    model.metadata = {"classes": ["a", "b", "c"], "mean": np.arange(3.0)}
    model.save(directory / "model.npz")
    return _Files(((directory / "model.npz").read_bytes(), (directory / "ckpt.npz").read_bytes()))


class _Files(tuple):
    """The fixture's two files; a short repr keeps hypothesis' reports readable."""

    def __repr__(self) -> str:
        return f"<model file of {len(self[0])} bytes, checkpoint of {len(self[1])} bytes>"


def _members(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def _description(data: bytes) -> dict:
    return json.loads(_members(data)["__description__"].tobytes())


def _archive(arrays: dict[str, np.ndarray], description=None) -> bytes:
    if description is not None:
        text = description if isinstance(description, bytes) else json.dumps(description).encode()
        arrays = {**arrays, "__description__": np.frombuffer(text, dtype=np.uint8)}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _refused(tmp_path, data: bytes, checkpoint: bool = False) -> str:
    """Load ``data``: it must fail with one ModelFileError line, quickly, in little memory,
    leaving the directory as it was. Returns the message."""
    path = tmp_path / "fuzzed.npz"
    path.write_bytes(data)
    before = sorted(os.listdir(tmp_path))
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(cr.ModelFileError) as info:
            read_training_state(path) if checkpoint else cr.load(path)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert type(info.value) is cr.ModelFileError
    assert "\n" not in message and str(path) in message, message
    assert elapsed < MAX_SECONDS, (elapsed, message)
    assert peak < MAX_PEAK_BYTES, (peak, message)
    assert sorted(os.listdir(tmp_path)) == before
    return message


def _loads_or_refuses(tmp_path, data: bytes, checkpoint: bool = False) -> None:
    """A mutation may leave a valid file; then it loads. Otherwise it is refused properly."""
    path = tmp_path / "fuzzed.npz"
    path.write_bytes(data)
    try:
        read_training_state(path) if checkpoint else cr.load(path)
    except cr.ModelFileError:
        _refused(tmp_path, data, checkpoint)


# ---------------------------------------------------------------------- the files
def test_a_billion_units_fails_fast_in_little_memory(tmp_path, files):
    model_bytes, _ = files
    description = _description(model_bytes)
    description["model"]["layers"][0]["config"]["units"] = 1_000_000_000
    message = _refused(tmp_path, _archive(_members(model_bytes), description))
    assert "dense_1" in message and "input width 1000000000" in message


def test_nan_weights_are_named(tmp_path, files):
    arrays = _members(files[0])
    arrays["weights/dense_1.weight"] = arrays["weights/dense_1.weight"].copy()
    arrays["weights/dense_1.weight"][2, 3] = np.nan
    message = _refused(tmp_path, _archive(arrays))
    assert "'dense_1.weight' hold 1 of 64 values NaN (the first at [2, 3])" in message


def test_an_unregistered_activation_is_reported_as_unregistered(tmp_path, files):
    model_bytes, _ = files
    description = _description(model_bytes)
    description["model"]["layers"][0]["config"]["activation"] = "my_swish"
    message = _refused(tmp_path, _archive(_members(model_bytes), description))
    assert "'my_swish', which is not registered in this process; register it" in message


@pytest.mark.parametrize(
    "version, says", [("1", "'1'"), (1.0, "1.0"), (True, "True"), (0, "0"), (None, "None")]
)
def test_the_format_version_must_be_a_positive_integer(tmp_path, files, version, says):
    description = _description(files[0])
    description["format_version"] = version
    message = _refused(tmp_path, _archive(_members(files[0]), description))
    assert f"format version must be a positive integer, not {says}" in message


@pytest.mark.parametrize(
    "loss",
    [
        "mse",
        {"name": 3},
        {"name": "nope"},
        {"params": {}},
        {"name": "mse", "params": {"reduction": "nope"}},
        {"name": "mse", "params": {"zzz": 1}},
    ],
)
def test_a_damaged_loss_entry_is_a_model_file_error(tmp_path, files, loss):
    description = _description(files[0])
    description["compile"]["loss"] = loss
    assert "loss" in _refused(tmp_path, _archive(_members(files[0]), description))


def test_a_damaged_checkpoint_says_how_to_start_over(tmp_path, files):
    _, checkpoint = files
    description = _description(checkpoint)
    description["training"]["shuffle_generator"] = {"bit_generator": "PCG64", "state": 7}
    message = _refused(tmp_path, _archive(_members(checkpoint), description), checkpoint=True)
    assert "shuffle generator state" in message and "delete it to start training over" in message
    arrays = _members(checkpoint)
    key = next(k for k in arrays if k.endswith("exp_avg_sq"))
    arrays[key] = arrays[key][:1]
    message = _refused(tmp_path, _archive(arrays), checkpoint=True)
    assert "optimizer state does not fit the model" in message


def test_the_real_files_load(tmp_path, files):
    model_bytes, checkpoint = files
    (tmp_path / "m.npz").write_bytes(model_bytes)
    (tmp_path / "c.npz").write_bytes(checkpoint)
    assert cr.load(tmp_path / "m.npz").predict(_data()[0]).shape == (32, 3)
    state, weights = read_training_state(tmp_path / "c.npz")
    assert state["epoch"] == 1 and "dense.weight" in weights


# ---------------------------------------------------------------------- the schema is the layers'
def _built(kind: str):
    return {
        "Dense": [Dense(6, activation="prelu", use_bias=False), Dense(6, activation="maxout")],
        "Activation": [Activation("prelu"), Activation("maxout", pieces=3)],
        "PReLU": [PReLU(), PReLU(shared=True)],
        "Maxout": [Maxout(2, pieces=3)],
        "Dropout": [Dropout(0.5)],
        "BatchNorm": [BatchNorm(), BatchNorm(affine=False)],
        "Flatten": [Flatten()],
    }[kind]


@pytest.mark.parametrize("kind", sorted(layer_names()))
def test_the_stored_arrays_of_every_layer_kind_are_what_the_layer_saves(kind):
    for layer in _built(kind):
        model = Sequential([layer], input_shape=(6,))
        layer_entry = {"class": kind, "name": layer.name, "config": layer.config()}
        expected = expected_arrays(
            {"class": "Sequential", "input_shape": [6], "layers": [layer_entry]}
        )
        saved = model.state_dict()
        assert {name: array.shape for name, array in expected.items()} == {
            name: value.shape for name, value in saved.items()
        }


# ---------------------------------------------------------------------- JSON mutations
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value, prefix=()):
    """Every path (a tuple of keys and indices) into a JSON value."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _replace(value, path, new):
    if not path:
        return new
    head, *rest = path
    copied = dict(value) if isinstance(value, dict) else list(value)
    copied[head] = _replace(value[head], rest, new)
    return copied


def _delete(value, path):
    head, *rest = path
    copied = dict(value) if isinstance(value, dict) else list(value)
    if rest:
        copied[head] = _delete(value[head], rest)
    else:
        del copied[head]
    return copied


@FUZZ
@given(data=st.data())
def test_any_field_of_the_description_changed_loads_or_is_refused(tmp_path, files, data):
    which = data.draw(st.sampled_from([0, 1]), label="file")
    original = files[which]
    description = _description(original)
    paths = list(_paths(description))
    path = data.draw(st.sampled_from(paths[1:]), label="path")
    action = data.draw(st.sampled_from(["replace", "huge", "negative", "delete", "add"]))
    if action == "replace":
        description = _replace(description, path, data.draw(_json_values, label="value"))
    elif action == "huge":
        description = _replace(description, path, 10**9)
    elif action == "negative":
        description = _replace(description, path, -3)
    elif action == "delete":
        description = _delete(description, path)
    else:
        description = json.loads(json.dumps(description))
        target = description
        for key in path[:-1]:
            target = target[key]
        if isinstance(target, dict):
            target["extra_key"] = 1
    _loads_or_refuses(tmp_path, _archive(_members(original), description), checkpoint=bool(which))


@FUZZ
@given(kind=st.sampled_from(["Conv2D", "", 7, None, ["Dense"]]), index=st.integers(0, 6))
def test_unknown_layer_kinds_are_refused(tmp_path, files, kind, index):
    description = _description(files[0])
    description["model"]["layers"][index]["class"] = kind
    assert "unknown layer class" in _refused(tmp_path, _archive(_members(files[0]), description))


@FUZZ
@given(text=st.binary(max_size=64) | st.just(b"[" * 100_000))
def test_a_damaged_description_is_refused(tmp_path, files, text):
    _refused(tmp_path, _archive(_members(files[0]), text))


# ---------------------------------------------------------------------- array mutations
@FUZZ
@given(data=st.data())
def test_any_array_changed_loads_or_is_refused(tmp_path, files, data):
    which = data.draw(st.sampled_from([0, 1]), label="file")
    arrays = _members(files[which])
    key = data.draw(st.sampled_from(sorted(k for k in arrays if k != "__description__")))
    array = arrays[key]
    action = data.draw(st.sampled_from(["shape", "dtype", "nan", "inf", "drop", "extra"]))
    if action == "shape":
        arrays[key] = np.zeros(data.draw(st.lists(st.integers(0, 9), max_size=3)), np.float32)
    elif action == "dtype":
        dtype = data.draw(
            st.sampled_from(["int8", "float16", "complex64", "bool", "U3", "S2", "float64"])
        )
        arrays[key] = array.astype(dtype)
    elif action in ("nan", "inf") and array.dtype.kind == "f" and array.size:
        arrays[key] = array.copy()
        arrays[key].flat[data.draw(st.integers(0, array.size - 1))] = (
            np.nan if action == "nan" else -np.inf
        )
    elif action == "drop":
        del arrays[key]
    else:
        arrays[f"weights/{data.draw(st.text('abc.', min_size=1, max_size=5))}"] = np.ones(2)
    _loads_or_refuses(tmp_path, _archive(arrays), checkpoint=bool(which))


def test_object_and_structured_arrays_are_refused(tmp_path, files):
    arrays = _members(files[0])
    buffer = io.BytesIO()
    np.savez(
        buffer,
        **{**arrays, "weights/dense.bias": np.array([{}, 1], dtype=object)},
        allow_pickle=True,
    )
    assert "pickled (object) data in array 'weights/dense.bias'" in _refused(
        tmp_path, buffer.getvalue()
    )
    structured = np.zeros(8, dtype=[("a", "f4"), ("b", "i4")])
    assert "unsupported dtype" in _refused(
        tmp_path, _archive({**arrays, "weights/dense.bias": structured})
    )


# ---------------------------------------------------------------------- zip mutations
@FUZZ
@given(data=st.data())
def test_truncated_or_bit_flipped_files_load_or_are_refused(tmp_path, files, data):
    which = data.draw(st.sampled_from([0, 1]), label="file")
    raw = bytearray(files[which])
    if data.draw(st.booleans(), label="truncate"):
        raw = raw[: data.draw(st.integers(0, len(raw) - 1), label="length")]
    else:
        for _ in range(data.draw(st.integers(1, 4), label="flips")):
            position = data.draw(st.integers(0, len(raw) - 1), label="position")
            raw[position] ^= 1 << data.draw(st.integers(0, 7), label="bit")
    _loads_or_refuses(tmp_path, bytes(raw), checkpoint=bool(which))


def _rezipped(data: bytes, change) -> bytes:
    """The archive with ``change(name, info, payload)`` → (name, payload) or None per member."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            changed = change(info.filename, info, source.read(info))
            if changed is not None:
                target.writestr(changed[0], changed[1])
    return buffer.getvalue()


@pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")
@FUZZ
@given(data=st.data())
def test_renamed_duplicated_or_foreign_members_are_refused(tmp_path, files, data):
    names = zipfile.ZipFile(io.BytesIO(files[0])).namelist()
    victim = data.draw(st.sampled_from(names), label="member")
    new = data.draw(
        st.sampled_from(
            ["x.txt", "weights/ghost.npy", "__description__.npy", "a.npy/../b.npy", names[0]]
        ),
        label="new name",
    )

    def rename(name, info, payload):
        return (new, payload) if name == victim else (name, payload)

    _loads_or_refuses(tmp_path, _rezipped(files[0], rename))


def _forged_size(data: bytes, member: str, size: int) -> bytes:
    """``data`` with the declared uncompressed size of ``member`` set to ``size``, in its
    local header and in the central directory."""
    raw = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    raw[info.header_offset + 22 : info.header_offset + 26] = size.to_bytes(4, "little")
    position = raw.find(b"PK\x01\x02")
    while position != -1:
        length = int.from_bytes(raw[position + 28 : position + 30], "little")
        if raw[position + 46 : position + 46 + length] == member.encode():
            raw[position + 24 : position + 28] = size.to_bytes(4, "little")
            return bytes(raw)
        position = raw.find(b"PK\x01\x02", position + 4)
    raise AssertionError(f"no central directory entry for {member}")


@pytest.mark.parametrize("size", [2**32 - 1, 2**31, 10**9])
def test_absurd_declared_member_sizes_are_refused_before_decompressing(tmp_path, files, size):
    forged = _forged_size(files[0], "weights/dense.weight.npy", size)
    assert "which is impossible" in _refused(tmp_path, forged)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **_members(files[0]))
    forged = _forged_size(buffer.getvalue(), "weights/dense.weight.npy", size)
    _refused(tmp_path, forged)


def test_a_zip_bomb_is_refused_before_decompressing(tmp_path, files, monkeypatch):
    from chainrule import archive

    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 2**20)  # instead of writing gigabytes
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as forged:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "<f4", "fortran_order": False, "shape": (2**19,)}
        )
        forged.writestr("weights/dense.weight.npy", header.getvalue() + bytes(2**21))
        forged.writestr("__description__.npy", b"")
    assert len(buffer.getvalue()) < 2**14
    assert "more than the 1048576 this reader accepts" in _refused(tmp_path, buffer.getvalue())


# ---------------------------------------------------------------------- the continuation
def test_the_model_file_carries_a_checked_continuation(tmp_path, files):
    description = _description(files[0])
    continuation = description["continuation"]
    assert continuation["next_epoch"] == 2 and continuation["optimizer"]["iterations"] == 8
    assert set(continuation["layer_generators"]) == {"dropout"}
    (tmp_path / "m.npz").write_bytes(files[0])
    assert cr.load(tmp_path / "m.npz").optimizer.iterations == 8


@pytest.mark.parametrize(
    "change, says",
    [
        (lambda c: c.update(next_epoch=-1), "next epoch must be in 0..1000000000"),
        (lambda c: c.update(next_epoch=3, history=None), "next epoch is 3 but it has no history"),
        (lambda c: c.update(extra=1), "the continuation has the key 'extra' missing or unknown"),
        (lambda c: c.pop("fit_generator"), "the key 'fit_generator' missing or unknown"),
        (lambda c: c["optimizer"].update(lr="fast"), "the optimizer state 'lr' must be a number"),
        (lambda c: c["optimizer"].update(iterations=2**70), "'iterations' must be in 0..10"),
        (lambda c: c["optimizer"].update(beta1=float("nan")), "'beta1' must be a finite number"),
        (lambda c: c["optimizer"].update(momentum=0.5), "does not fit the model's Adam"),
        (lambda c: c["optimizer"].update(lr={"a": 1}), "'lr' is neither a number nor an array"),
        (
            lambda c: c["layer_generators"].clear(),
            "layer generators are for [], but the model's random layers are ['dropout']",
        ),
        (
            lambda c: c.update(shuffle_generator={"bit_generator": "MT19937"}),
            "the shuffle generator state is not a valid PCG64 state",
        ),
        (
            lambda c: c.update(shuffle_generator=None, fit_generator=None),
            "a history but no shuffle generator state",
        ),
    ],
)
def test_a_damaged_continuation_is_one_model_file_error(tmp_path, files, change, says):
    description = _description(files[0])
    change(description["continuation"])
    assert says in _refused(tmp_path, _archive(_members(files[0]), description))


def test_damaged_continuation_arrays_are_refused(tmp_path, files):
    arrays = _members(files[0])
    key = next(k for k in arrays if k.startswith("state/continuation") and "exp_avg_sq" in k)
    assert "does not fit the model's Adam" in _refused(
        tmp_path, _archive({**arrays, key: arrays[key][:1]})
    )
    nan = arrays[key].copy()
    nan.flat[0] = np.nan
    assert f"the optimizer state '{key.rsplit('/', 1)[1]}' holds 1 of" in _refused(
        tmp_path, _archive({**arrays, key: nan})
    )
    assert "is int32, not floating point" in _refused(
        tmp_path, _archive({**arrays, key: arrays[key].astype(np.int32)})
    )


@FUZZ
@given(data=st.data())
def test_any_field_of_the_continuation_changed_loads_or_is_refused(tmp_path, files, data):
    description = _description(files[0])
    paths = [("continuation", *path) for path in _paths(description["continuation"])]
    path = data.draw(st.sampled_from(paths), label="path")
    action = data.draw(st.sampled_from(["replace", "huge", "negative", "delete"]))
    if action == "delete" and len(path) > 1:
        description = _delete(description, path)
    else:
        new = {"replace": None, "huge": 10**9, "negative": -3, "delete": None}[action]
        if action == "replace":
            new = data.draw(_json_values, label="value")
        description = _replace(description, path, new)
    _loads_or_refuses(tmp_path, _archive(_members(files[0]), description))


def test_a_complex_optimizer_array_in_a_checkpoint_is_refused(tmp_path, files):
    arrays = _members(files[1])
    key = next(k for k in arrays if k.startswith("state/training/optimizer/") and "exp_avg" in k)
    message = _refused(
        tmp_path, _archive({**arrays, key: arrays[key].astype(np.complex64)}), checkpoint=True
    )
    assert "is complex64, not floating point" in message
