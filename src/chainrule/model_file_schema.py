"""What a model file's description may say, checked against its arrays before anything is built.

The description (JSON) is untrusted: ``check_architecture`` checks the type and range of every
field of every layer, follows the shapes through the layers (``output_shape`` without building
anything) and derives the arrays each layer must store, then compares them with the headers
of the stored arrays (``archive.ArrayHeader``: shape and dtype, read from the file without
reading the data). A layer that would allocate more than the file holds therefore never gets
built. The stored arrays of a layer kind are the file format's own record, kept with the
checks of its settings on each registered layer class (``Layer.check_config``, beside its
``config`` and ``from_config``); this module holds the field checks they use and walks the
architecture.
``tests/test_model_file_fuzz.py`` checks them against the layers' ``state_dict`` for every
registered kind.

Every problem is a ``DescriptionError``: one line, without the path (the loader adds it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import DescriptionError

MAX_LAYERS = 10_000
MAX_WIDTH = 2**31 - 1
MAX_INPUT_DIMS = 8
MAX_NAME_LENGTH = 200
WEIGHTS_PREFIX = "weights/"


@dataclass(frozen=True)
class StoredArray:
    """An array a layer stores: its shape, the dtype kinds it may have, and whether an
    older file may lack it (PReLU-by-name slopes, which started as a fixed γ)."""

    shape: tuple[int, ...]
    kinds: str = "f"
    optional: bool = False


# ---------------------------------------------------------------------- field checks
def check_int(value: Any, what: str, low: int = 1, high: int = MAX_WIDTH) -> int:
    """``value`` as an int in [low, high]; JSON floats and booleans are refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise DescriptionError(f"{what} must be an integer, not {_shown(value)}")
    if not low <= value <= high:
        raise DescriptionError(f"{what} must be in {low}..{high}, not {value}")
    return value


def check_float(
    value: Any,
    what: str,
    accept: Callable[[float], bool] = math.isfinite,
    rule: str = "a finite number",
) -> float:
    """``value`` as a float that ``accept`` accepts (finite by default)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DescriptionError(f"{what} must be a number, not {_shown(value)}")
    if not (math.isfinite(value) and accept(float(value))):
        raise DescriptionError(f"{what} must be {rule}, not {value}")
    return float(value)


def check_bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise DescriptionError(f"{what} must be true or false, not {_shown(value)}")
    return value


def check_str(value: Any, what: str, limit: int = MAX_NAME_LENGTH) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise DescriptionError(
            f"{what} must be a non-empty string of at most {limit} characters, not {_shown(value)}"
        )
    return value


def check_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DescriptionError(f"{what} must be an object ({{...}}), not {_shown(value)}")
    return value


def check_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise DescriptionError(f"{what} must be a list, not {_shown(value)}")
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_only(config: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    """``config`` has no setting outside ``allowed`` (an unknown one is named)."""
    unknown = sorted(set(config) - set(allowed))
    if unknown:
        raise DescriptionError(
            f"{where} has the unknown setting {unknown[0]!r} (it accepts "
            f"{', '.join(allowed) or 'none'})"
        )


# ---------------------------------------------------------------------- activations
def check_activation(name: Any, params: Any, where: str) -> Any:
    """The catalog activation ``name`` built with ``params``; an unregistered name says so."""
    from . import activations

    name = check_str(name, f"{where}: the activation name")
    params = check_dict(params, f"{where}: the parameters of activation {name!r}")
    try:
        return activations.get(name, **params)
    except activations.UnknownActivationError:
        raise DescriptionError(
            f"{where} uses the activation {name!r}, which is not registered in this process; "
            "register it (chainrule.activations.register or activations.add) before loading"
        ) from None
    except (TypeError, ValueError) as error:
        raise DescriptionError(
            f"{where}: bad parameters for activation {name!r} ({error})"
        ) from None


def check_rows(shape: tuple[int, ...], where: str) -> int:
    """The width of inputs that must be rows of features (shape (width,))."""
    if len(shape) != 1:
        raise DescriptionError(f"{where} needs rows of features, but its inputs have shape {shape}")
    return shape[0]


# ---------------------------------------------------------------------- layer settings
def check_regularizer(entry: Any, where: str) -> tuple[str, float]:
    """(class, λ) of a kernel regularizer entry: {"class": "L1" or "L2", "lam": λ ≥ 0}."""
    entry = check_dict(entry, f"{where}: kernel_regularizer")
    check_only(entry, ("class", "lam"), f"{where}: kernel_regularizer")
    kind = entry.get("class")
    if kind not in ("L1", "L2"):
        raise DescriptionError(f"{where}: unknown kernel regularizer {_shown(kind)} (L1 or L2)")
    lam = check_float(
        entry.get("lam"), f"{where}: the regularizer's lam", lambda v: v >= 0, "a finite number ≥ 0"
    )
    return kind, lam


# ---------------------------------------------------------------------- the architecture
def check_input_shape(value: Any) -> tuple[int, ...]:
    shape = check_list(value, "the model's input_shape")
    if not 1 <= len(shape) <= MAX_INPUT_DIMS:
        raise DescriptionError(
            f"the model's input_shape must have 1..{MAX_INPUT_DIMS} sizes, not {len(shape)}"
        )
    return tuple(check_int(size, "an input_shape size") for size in shape)


def expected_arrays(architecture: Any) -> dict[str, StoredArray]:
    """Every array the layers of ``architecture`` store, by state-dict name, from their
    settings and the shapes flowing through them (each layer class's ``check_config``);
    nothing is built."""
    from .nn.registry import layer_class, layer_names

    architecture = check_dict(architecture, "the model entry")
    if architecture.get("class") != "Sequential":
        raise DescriptionError(
            f"unknown model class {_shown(architecture.get('class'))} "
            "(only Sequential models are stored)"
        )
    check_str(architecture.get("name", "sequential"), "the model's name")
    shape = check_input_shape(architecture.get("input_shape"))
    layers = check_list(architecture.get("layers"), "the model's layers")
    if not 1 <= len(layers) <= MAX_LAYERS:
        raise DescriptionError(f"the model must have 1..{MAX_LAYERS} layers, not {len(layers)}")
    expected: dict[str, StoredArray] = {}
    names: set[str] = set()
    for index, entry in enumerate(layers):
        entry = check_dict(entry, f"layer {index}")
        kind = entry.get("class")
        if not isinstance(kind, str) or kind not in layer_names():
            raise DescriptionError(
                f"layer {index} has the unknown layer class {_shown(kind)} "
                f"(known: {', '.join(layer_names())})"
            )
        name = check_str(entry.get("name"), f"the name of layer {index}")
        if "." in name or name in names:
            raise DescriptionError(
                f"layer {index} has the name {name!r}, which is "
                + ("repeated" if name in names else "dotted")
                + "; layer names are unique and have no '.'"
            )
        names.add(name)
        where = f"layer {index} ({kind} {name!r})"
        config = check_dict(entry.get("config", {}), f"{where}: config")
        stored, shape = layer_class(kind).check_config(config, shape, where)
        expected.update({f"{name}.{key}": array for key, array in stored.items()})
    return expected


def check_weights(expected: Mapping[str, StoredArray], headers: Mapping[str, Any]) -> None:
    """The stored ``weights/<name>`` arrays are exactly the expected ones: names, shapes,
    dtype kinds (``headers``: key → ``ArrayHeader``)."""
    stored = {
        key[len(WEIGHTS_PREFIX) :]: header
        for key, header in headers.items()
        if key.startswith(WEIGHTS_PREFIX)
    }
    unexpected = sorted(set(stored) - set(expected))
    if unexpected:
        raise DescriptionError(
            f"stores the weights {unexpected[0]!r}, which no layer of the described model has"
        )
    for name, array in expected.items():
        header = stored.get(name)
        if header is None:
            if array.optional:
                continue
            raise DescriptionError(f"lacks the weights {name!r} that the described model has")
        if header.shape != array.shape:
            raise DescriptionError(
                f"the description gives {name!r} the shape {array.shape}, "
                f"but the file stores shape {header.shape}"
            )
        if header.dtype.kind not in array.kinds or header.dtype.itemsize > 8:
            wanted = "floating-point" if array.kinds == "f" else "integer"
            raise DescriptionError(f"the weights {name!r} are {header.dtype}, not {wanted} numbers")


def check_weight_listing(
    listing: Any, expected: Mapping[str, StoredArray], headers: Mapping[str, Any]
) -> None:
    """The description's "weights" table (name → shape), when present, matches the arrays
    (an optional array may be listed and absent: files whose PReLU slopes were dropped)."""
    if listing is None:
        return
    for name, shape in check_dict(listing, "the weights table").items():
        header = headers.get(WEIGHTS_PREFIX + name)
        if header is None and name in expected and expected[name].optional:
            continue
        if header is None or not isinstance(shape, list) or tuple(shape) != header.shape:
            raise DescriptionError(
                f"the weights table lists {name!r} with shape "
                f"{_shown(shape)}, which the file does not store"
            )


def check_references(
    value: Any, headers: Mapping[str, Any], prefix: str, where: str, depth: int = 0
) -> None:
    """Every ``{"__array__": key}`` inside ``value`` names a stored array under ``prefix``."""
    if depth > 64:
        raise DescriptionError(f"{where} is nested too deeply")
    if isinstance(value, dict):
        if "__array__" in value:
            key = value["__array__"]
            if (
                set(value) != {"__array__"}
                or not isinstance(key, str)
                or not (key.startswith(prefix) and key in headers)
            ):
                raise DescriptionError(
                    f"{where} refers to the array {_shown(key)}, which the file does not store"
                )
            return
        for item in value.values():
            check_references(item, headers, prefix, where, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_references(item, headers, prefix, where, depth + 1)


def check_named_entry(entry: Any, what: str) -> tuple[str, dict[str, Any]]:
    """(name, params) of a loss or optimizer entry: {"name": str, "params": {...}}."""
    entry = check_dict(entry, f"the {what} entry")
    check_only(entry, ("name", "params"), f"the {what} entry")
    name = check_str(entry.get("name"), f"the {what} name")
    params = check_dict(entry.get("params") or {}, f"the {what} parameters")
    for key, value in params.items():
        if not (
            value is None
            or isinstance(value, (bool, int, float, str))
            or (isinstance(value, list) and all(isinstance(v, (int, float)) for v in value))
        ):
            raise DescriptionError(
                f"the {what} parameter {key!r} is {_shown(value)}, not a plain value"
            )
    return name, params


def non_finite(array: np.ndarray) -> str | None:
    """A description of the NaN/inf values in a floating-point array, or None."""
    if array.dtype.kind not in "fc":
        return None
    bad = int(array.size - np.count_nonzero(np.isfinite(array)))
    if not bad:
        return None
    kinds = [
        label
        for label, present in (("NaN", np.isnan(array).any()), ("infinite", np.isinf(array).any()))
        if present
    ]
    first = np.unravel_index(int(np.argmin(np.isfinite(array).ravel())), array.shape)
    return (
        f"{bad} of {array.size} values {' and '.join(kinds)} (the first at "
        f"[{', '.join(str(int(i)) for i in first)}])"
    )


# ---------------------------------------------------------------------- the data path's record
def check_data_record(metadata: Mapping[str, Any], input_shape: list[int]) -> None:
    """The classes and feature names that ``chainrule.data_path`` keeps in the metadata:
    ``classes`` a list of distinct values of one kind, ``feature_names`` one distinct string
    per input feature (both may be absent or null)."""
    from .data_path import check_classes, check_feature_names

    classes, names = metadata.get("classes"), metadata.get("feature_names")
    try:
        if classes is not None:
            check_int(
                len(check_list(classes, "the classes")), "the number of classes", high=MAX_WIDTH
            )
            check_classes(classes, "the classes")
        if names is not None:
            for name in check_list(names, "the feature names"):
                check_str(name, "a feature name", limit=10_000)
            check_feature_names(names, math.prod(input_shape), "the feature names")
    except ValueError as error:
        if isinstance(error, DescriptionError):
            raise
        raise DescriptionError(str(error)) from None


def check_class_count(classes: Any, outputs: int) -> None:
    """As many classes as the model tells apart: its outputs, or 2 for one output."""
    if classes is not None and len(classes) != (2 if outputs == 1 else outputs):
        raise DescriptionError(
            f"the metadata names {len(classes)} classes, but the model has "
            f"{outputs} output{'s' if outputs != 1 else ''}"
        )


__all__ = [
    "check_activation",
    "check_bool",
    "check_class_count",
    "check_data_record",
    "check_dict",
    "check_float",
    "check_input_shape",
    "check_int",
    "check_list",
    "check_named_entry",
    "check_references",
    "check_regularizer",
    "check_str",
    "check_weight_listing",
    "check_weights",
    "DescriptionError",
    "expected_arrays",
    "MAX_INPUT_DIMS",
    "MAX_LAYERS",
    "MAX_NAME_LENGTH",
    "MAX_WIDTH",
    "non_finite",
    "StoredArray",
    "WEIGHTS_PREFIX",
]
