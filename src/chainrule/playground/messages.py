"""Every message from the page, checked before anything runs: sizes, types, ranges, names.

A message is one JSON object with a ``type``:

- ``{"type": "setup", "setup": {...}}`` — a new data set and network (``Setup``'s fields; the
  missing ones take their defaults, unknown ones are an error);
- ``{"type": "link", "setup": {...}}`` — a setup read from a shared link: every valid field is
  kept, the bad ones take their defaults and are named in ``problems``;
- ``{"type": "start"}``, ``{"type": "pause"}``, ``{"type": "reset"}``;
- ``{"type": "step", "epochs": 1}`` — train this many epochs (1 to ``MAX_STEP_EPOCHS``);
- ``{"type": "select", "layer": 0}`` — the hidden layer whose g, g' and z are shown;
- ``{"type": "probe", "point": [x1, x2]}`` — the raw point (within ±DOMAIN) whose forward pass
  the hover formulas show;
- ``{"type": "explain", "point": [x1, x2], "label": null}`` — backpropagation at that point for
  the explain panel, with the nearest training point's label (null) or a class 0, 1, ….

``parse_message`` returns a ``Message`` or raises ``MessageError`` with a sentence for the page.
Nothing in a message is ever executed: names are looked up in fixed tables.

>>> parse_message('{"type": "step", "epochs": 3}')
Message(kind='step', setup=None, epochs=3, layer=None, problems=(), point=None, label=None)
>>> parse_message('{"type": "jump"}')  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
chainrule.errors.MessageError: unknown message type "jump"; expected one of: ...
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .. import activations
from ..errors import MessageError
from .datasets import DATASETS, MAX_CLASSES, OWN
from .features import FEATURES
from .limits import (
    DEFAULT_CAPS,
    DOMAIN,
    DROPOUT_RANGE,
    LAMBDA_RANGE,
    LEARNING_RATE_RANGE,
    MAX_MESSAGE_BYTES,
    MAX_SEED,
    MAX_STEP_EPOCHS,
    MIN_SAMPLES,
    NOISE_RANGE,
    TRAIN_RATIO_RANGE,
    Caps,
)

#: the optimisers the page offers (the full-batch SciPy ones are left out: they need the extra)
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw", "adagrad")
REGULARIZATIONS = ("none", "l1", "l2")
#: the setup fields that change how the network trains but not what it is: a change of only
#: these keeps the weights (and the optimiser's state); any other change starts a new network
TRAINING_SETTINGS = ("learning_rate", "regularization", "lam", "batch_size")
MESSAGE_TYPES = ("explain", "link", "pause", "probe", "reset", "select", "setup", "start", "step")


@dataclass(frozen=True)
class LayerSpec:
    """One hidden layer: its width, the catalog name of its activation and the dropout rate
    after it (each output zeroed with that probability in training; none at evaluation)."""

    units: int = 4
    activation: str = "tanh"
    dropout: float = 0.0


def _default_layers() -> tuple[LayerSpec, ...]:
    return (LayerSpec(4, "tanh"), LayerSpec(2, "tanh"))


@dataclass(frozen=True)
class Setup:
    """Everything that defines a run: the data, the inputs, the network and its training."""

    dataset: str = "xor"
    noise: float = 0.0
    train_ratio: float = 0.5
    samples: int = 400
    features: tuple[str, ...] = ("x1", "x2")
    layers: tuple[LayerSpec, ...] = field(default_factory=_default_layers)
    learning_rate: float = 0.03
    optimizer: str = "adam"
    batch_size: int = 10
    regularization: str = "none"
    lam: float = 0.0
    seed: int = 0

    def keeps_network(self, other: Setup) -> bool:
        """True when ``other`` differs from this setup in ``TRAINING_SETTINGS`` only."""
        kept = {name: getattr(self, name) for name in TRAINING_SETTINGS}
        return replace(other, **kept) == self

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (what ``parse_setup`` reads back)."""
        data = asdict(self)
        data["features"] = list(self.features)
        data["layers"] = [asdict(layer) for layer in self.layers]
        return data


@dataclass(frozen=True)
class Message:
    """A checked message: its kind and, by kind, the setup, the epochs or the layer."""

    kind: str
    setup: Setup | None = None
    epochs: int | None = None
    layer: int | None = None
    problems: tuple[str, ...] = ()
    point: tuple[float, float] | None = None
    label: int | None = None


# ---------------------------------------------------------------------- field checks
def _integer(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise MessageError(f"{name} must be a whole number, got {_shown(value)}")
    if not low <= value <= high:
        raise MessageError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _number(name: str, value: Any, bounds: tuple[float, float]) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MessageError(f"{name} must be a number, got {_shown(value)}")
    low, high = bounds
    if not (math.isfinite(value) and low <= value <= high):
        raise MessageError(f"{name} must be between {low:g} and {high:g}, got {value!r}")
    return float(value)


def _choice(name: str, value: Any, allowed: tuple[str, ...] | list[str]) -> str:
    if not isinstance(value, str):
        raise MessageError(f"{name} must be a name, got {_shown(value)}")
    if value not in allowed:
        raise MessageError(
            f"unknown {name} {_shown(value)}; expected one of: {', '.join(sorted(allowed))}"
        )
    return value


def _shown(value: Any) -> str:
    """A short rendering of a refused value (never the whole of a long one)."""
    text = json.dumps(value) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _features(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise MessageError("features must be a non-empty list of feature names")
    if len(value) > len(FEATURES):
        raise MessageError(f"features lists {len(value)} names; there are {len(FEATURES)}")
    names = tuple(_choice("feature", name, list(FEATURES)) for name in value)
    if len(set(names)) != len(names):
        raise MessageError("features lists a feature twice")
    return tuple(name for name in FEATURES if name in names)  # the page's order


def _layers(value: Any, caps: Caps = DEFAULT_CAPS) -> tuple[LayerSpec, ...]:
    if not isinstance(value, list):
        raise MessageError("layers must be a list of {units, activation} objects")
    if len(value) > caps.max_layers:
        raise MessageError(f"at most {caps.max_layers} hidden layers, got {len(value)}")
    catalog = activations.names()
    layers = []
    for index, layer in enumerate(value):
        if not isinstance(layer, dict) or not {"units", "activation"} <= set(layer) <= {
            "units",
            "activation",
            "dropout",
        }:
            raise MessageError(
                f"layer {index + 1} must be an object with exactly 'units' and "
                "'activation' (and optionally 'dropout')"
            )
        units = _integer(f"layer {index + 1} units", layer["units"], 1, caps.max_units)
        activation = _choice("activation", layer["activation"], catalog)
        dropout = _number(f"layer {index + 1} dropout", layer.get("dropout", 0.0), DROPOUT_RANGE)
        layers.append(LayerSpec(units, activation, dropout))
    return tuple(layers)


def _fields(caps: Caps) -> dict[str, Any]:
    """Each setup field's check, under ``caps``."""
    return {
        "dataset": lambda v: _choice("dataset", v, [*DATASETS, OWN]),
        "noise": lambda v: _number("noise", v, NOISE_RANGE),
        "train_ratio": lambda v: _number("train_ratio", v, TRAIN_RATIO_RANGE),
        "samples": lambda v: _integer("samples", v, MIN_SAMPLES, caps.max_samples),
        "features": _features,
        "layers": lambda v: _layers(v, caps),
        "learning_rate": lambda v: _number("learning_rate", v, LEARNING_RATE_RANGE),
        "optimizer": lambda v: _choice("optimizer", v, OPTIMIZERS),
        "batch_size": lambda v: _integer("batch_size", v, 1, caps.max_samples),
        "regularization": lambda v: _choice("regularization", v, REGULARIZATIONS),
        "lam": lambda v: _number("lam", v, LAMBDA_RANGE),
        "seed": lambda v: _integer("seed", v, 0, MAX_SEED),
    }


def default_setup(caps: Caps = DEFAULT_CAPS) -> Setup:
    """``Setup()`` brought within ``caps`` (fewer samples, layers or units when they are
    lower than the defaults)."""
    setup = Setup()
    layers = tuple(
        replace(layer, units=min(layer.units, caps.max_units))
        for layer in setup.layers[: caps.max_layers]
    )
    return replace(setup, samples=min(setup.samples, caps.max_samples), layers=layers)


def parse_setup(data: Any, caps: Caps = DEFAULT_CAPS) -> Setup:
    """A ``Setup`` from a JSON object; missing fields take their defaults."""
    if not isinstance(data, dict):
        raise MessageError("setup must be an object")
    checks = _fields(caps)
    unknown = sorted(set(data) - set(checks))
    if unknown:
        raise MessageError(
            f"unknown setup field {_shown(unknown[0])}; expected: {', '.join(checks)}"
        )
    return replace(
        default_setup(caps),
        **{name: check(data[name]) for name, check in checks.items() if name in data},
    )


def parse_link_setup(data: Any, caps: Caps = DEFAULT_CAPS) -> tuple[Setup, tuple[str, ...]]:
    """A ``Setup`` from a shared link's fields, keeping every valid one: each bad or unknown
    field takes its default and gets a sentence that names it."""
    if not isinstance(data, dict):
        raise MessageError("setup must be an object")
    checks = _fields(caps)
    fields: dict[str, Any] = {}
    problems = []
    for name, value in data.items():
        check = checks.get(name)
        if check is None:
            problems.append(f"unknown setup field {_shown(name)}")
            continue
        try:
            fields[name] = check(value)
        except MessageError as problem:
            problems.append(f"{name}: {problem}")
    return replace(default_setup(caps), **fields), tuple(problems)


# ---------------------------------------------------------------------- messages
def _expect_keys(data: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(data) - allowed - {"type"})
    if extra:
        raise MessageError(f"a {data['type']!r} message has no field {_shown(extra[0])}")


def parse_message(raw: str | bytes, caps: Caps = DEFAULT_CAPS) -> Message:
    """Check one message from the page (text of at most ``MAX_MESSAGE_BYTES`` bytes) under the
    server's ``caps``."""
    if isinstance(raw, bytes):
        raise MessageError("messages must be JSON text, not binary data")
    if not isinstance(raw, str):
        raise MessageError("messages must be JSON text")
    size = len(raw.encode("utf-8", errors="replace"))
    if size > MAX_MESSAGE_BYTES:
        raise MessageError(f"message too long: {size:,} bytes (the limit is {MAX_MESSAGE_BYTES:,})")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise MessageError("a message must be valid JSON") from None
    if not isinstance(data, dict):
        raise MessageError("a message must be a JSON object with a 'type'")
    kind = _choice("message type", data.get("type"), MESSAGE_TYPES) if "type" in data else None
    if kind is None:
        raise MessageError("a message must have a 'type'")
    if kind == "setup":
        _expect_keys(data, {"setup"})
        return Message(kind, setup=parse_setup(data.get("setup"), caps))
    if kind == "link":
        _expect_keys(data, {"setup"})
        setup, problems = parse_link_setup(data.get("setup"), caps)
        return Message(kind, setup=setup, problems=problems)
    if kind == "step":
        _expect_keys(data, {"epochs"})
        return Message(kind, epochs=_integer("epochs", data.get("epochs", 1), 1, MAX_STEP_EPOCHS))
    if kind in ("probe", "explain"):
        _expect_keys(data, {"point"} if kind == "probe" else {"point", "label"})
        point = data.get("point")
        if not isinstance(point, list) or len(point) != 2:
            raise MessageError("point must be a list of two numbers [x1, x2]")
        label = data.get("label")
        return Message(
            kind,
            point=(
                _number("x1", point[0], (-DOMAIN, DOMAIN)),
                _number("x2", point[1], (-DOMAIN, DOMAIN)),
            ),
            label=None if label is None else _integer("label", label, 0, MAX_CLASSES - 1),
        )
    if kind == "select":
        _expect_keys(data, {"layer"})
        return Message(kind, layer=_integer("layer", data.get("layer"), 0, caps.max_layers - 1))
    _expect_keys(data, set())
    return Message(kind)


__all__ = [
    "LayerSpec",
    "Message",
    "MESSAGE_TYPES",
    "MessageError",
    "OPTIMIZERS",
    "parse_link_setup",
    "parse_message",
    "parse_setup",
    "REGULARIZATIONS",
    "Setup",
    "TRAINING_SETTINGS",
]
