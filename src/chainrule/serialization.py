"""Model files: one ``.npz`` holding the weights and a JSON description, never a pickle.

Layout of the archive (read with ``allow_pickle=False``):

- ``__description__``: UTF-8 JSON as a uint8 array — format name and version, the chainrule
  version, the architecture (each layer's class, name and constructor arguments), the input
  shape, the compile settings, the preprocessing, the user's metadata, and (in a training
  checkpoint) the training progress;
- ``weights/<name>``: every parameter and buffer of ``model.state_dict()``;
- ``state/...``: arrays of the preprocessing, the optimiser and the training progress.

Saving writes a temporary file in the same directory and renames it over the target, so an
interrupted save never destroys the previous file. Loading checks everything it reads and
raises ``ModelFileError`` naming the problem: not a zip archive (corrupt or truncated), pickled
(object) arrays, a newer format version, or a description that does not match the weights.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import model_file_schema as schema
from ._version import __version__
from .archive import ArrayHeader, NpzArchive
from .atomic import write_npz_atomically
from .dtypes import default_dtype, get_default_dtype
from .errors import ModelFileError, ShapeError

FORMAT_NAME = "chainrule-model"
FORMAT_VERSION = 1
_DESCRIPTION_KEY = "__description__"
MAX_DESCRIPTION = 16 * 2**20  # bytes of JSON; a model's is a few kilobytes


# ---------------------------------------------------------------------- arrays inside JSON
def split_arrays(value: Any, prefix: str, arrays: dict[str, np.ndarray]) -> Any:
    """Replace every ndarray inside ``value`` by a reference, moving the array to ``arrays``."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "O":
            raise TypeError(f"cannot save an object array at {prefix!r}")
        arrays[prefix] = value
        return {"__array__": prefix}
    if isinstance(value, dict):
        return {str(k): split_arrays(v, f"{prefix}/{k}", arrays) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [split_arrays(v, f"{prefix}/{i}", arrays) for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        return value.item()
    return value


def join_arrays(value: Any, arrays: Any) -> Any:
    """The inverse of ``split_arrays``."""
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            return np.array(arrays[value["__array__"]])
        return {k: join_arrays(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [join_arrays(v, arrays) for v in value]
    return value


# ---------------------------------------------------------------------- writing
def describe_model(model: Any) -> dict[str, Any]:
    """The JSON-able architecture of a Sequential model."""
    from .models import Sequential
    from .nn.layers import Layer
    from .nn.registry import registered_name

    if not isinstance(model, Sequential):
        raise TypeError(
            f"only Sequential models can be saved to a model file, not {type(model).__name__}"
        )
    if model.input_shape is None:
        raise ValueError("build the model (give input_dim or call it once) before saving it")
    layers = []
    for layer in model.layers:
        class_name = registered_name(layer)  # a module of another kind is an error here
        assert isinstance(layer, Layer)  # register_layer takes Layer classes only
        layers.append({"class": class_name, "name": layer.name, "config": layer.config()})
    return {
        "class": "Sequential",
        "name": model.name,
        "input_shape": list(model.input_shape),
        "layers": layers,
    }


def save_model(
    model: Any, path: str | os.PathLike[str], training_state: dict[str, Any] | None = None
) -> None:
    """Write ``model`` (and, for a checkpoint, ``training_state``) to ``path``."""
    arrays: dict[str, np.ndarray] = {}
    for name, value in model.state_dict().items():
        arrays[f"weights/{name}"] = value
    parameters = model.parameters()
    description: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "chainrule_version": __version__,
        "dtype": parameters[0].dtype.name if parameters else None,
        "model": describe_model(model),
        "weights": {name: list(value.shape) for name, value in model.state_dict().items()},
        "compile": _describe_compile(model),
        "preprocessing": _describe_preprocessing(getattr(model, "preprocessing", None), arrays),
        "metadata": split_arrays(
            dict(getattr(model, "metadata", {}) or {}), "state/metadata", arrays
        ),
        "training": None
        if training_state is None
        else split_arrays(training_state, "state/training", arrays),
    }
    continuation = None if training_state is not None else model.continuation_state()
    if continuation is not None:  # a checkpoint's training entry holds the same
        description["continuation"] = split_arrays(continuation, "state/continuation", arrays)
    text = json.dumps(description)
    arrays[_DESCRIPTION_KEY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    write_npz_atomically(path, arrays)


def _describe_compile(model: Any) -> dict[str, Any] | None:
    loss, optimizer = getattr(model, "loss", None), getattr(model, "optimizer", None)
    if loss is None or optimizer is None:
        return None
    return {
        "loss": {"name": loss.name, "params": loss.params},
        "optimizer": {"name": optimizer.name, "params": optimizer_settings(optimizer)},
        "metrics": [key for key, _ in getattr(model, "metrics", [])],
        "jit": getattr(model, "jit", "auto"),
    }


def optimizer_settings(optimizer: Any) -> dict[str, Any]:
    """The constructor arguments of an optimiser that are plain values (learning rate, ...)."""
    from .naming import accepted_parameters

    settings: dict[str, Any] = {"lr": float(optimizer.initial_lr)}
    for key, value in optimizer._settings().items():
        if key in accepted_parameters(type(optimizer)):
            settings[key] = list(value) if isinstance(value, tuple) else value
    return settings


def _describe_preprocessing(
    preprocessing: Any, arrays: dict[str, np.ndarray]
) -> dict[str, Any] | None:
    if preprocessing is None:
        return None
    return {
        "class": type(preprocessing).__name__,
        "state": split_arrays(preprocessing.state(), "state/preprocessing", arrays),
    }


# ---------------------------------------------------------------------- reading
def read_archive(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The checked description and the arrays of a model file.

    The zip directory and every array header are checked first (``archive.NpzArchive``),
    then the description against those headers (``model_file_schema``), and only then are
    the arrays read; weights and preprocessing that hold NaN or ±inf are refused. Every
    problem is one ``ModelFileError`` line naming the file.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no model file at {path}")
    if path.is_dir():
        raise ModelFileError(f"{path} is a directory, not a model file")
    with NpzArchive(path, ModelFileError, "a readable model file") as archive:
        description = _read_description(path, archive)
        _check_description(path, description, archive.headers)
        arrays = {key: archive.read(key) for key in archive.headers if key != _DESCRIPTION_KEY}
    for key, array in arrays.items():
        if key.startswith(("weights/", "state/preprocessing")):
            _refuse_non_finite(path, key, array)
    return description, arrays


def _read_description(path: Path, archive: NpzArchive) -> dict[str, Any]:
    header = archive.headers.get(_DESCRIPTION_KEY)
    if header is None:
        raise ModelFileError(
            f"{path} is an .npz archive but not a chainrule model file (it has no description)"
        )
    if header.dtype != np.uint8 or len(header.shape) != 1 or header.shape[0] > MAX_DESCRIPTION:
        raise ModelFileError(
            f"{path}: the model description is not UTF-8 bytes of at most "
            f"{MAX_DESCRIPTION} bytes (dtype {header.dtype}, shape "
            f"{header.shape})"
        )
    try:
        description = json.loads(archive.read(_DESCRIPTION_KEY).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else error
        raise ModelFileError(f"{path}: the model description is damaged ({reason})") from None
    if not isinstance(description, dict) or description.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path} is not a chainrule model file")
    version = description.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(
            f"{path}: the model-file format version must be a positive integer, not {version!r}"
        )
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} uses model-file format {version}, newer than this chainrule "
            f"({__version__}) reads (format {FORMAT_VERSION}); upgrade chainrule"
        )
    return description


def _check_description(
    path: Path, description: dict[str, Any], headers: Mapping[str, ArrayHeader]
) -> None:
    """Every field of ``description`` against the array ``headers``; nothing is built."""
    try:
        expected = schema.expected_arrays(description.get("model"))
        try:
            schema.check_weights(expected, headers)
            schema.check_weight_listing(description.get("weights"), expected, headers)
        except schema.DescriptionError as error:
            raise schema.DescriptionError(
                f"the description does not match the stored weights: {error}"
            ) from None
        for key in ("chainrule_version", "dtype"):
            if description.get(key) is not None:
                schema.check_str(description[key], f"the {key}")
        _check_compile_entry(description.get("compile"))
        _check_preprocessing_entry(
            description.get("preprocessing"), headers, description["model"]["input_shape"]
        )
        metadata = description.get("metadata")
        if metadata is not None:
            schema.check_dict(metadata, "the metadata")
            # feature names name the raw inputs: those a FeatureMap takes, else the model's
            from .datasets.features import FeatureMap

            raw = description.get("preprocessing") or {}
            shape = (
                [FeatureMap.raw_width]
                if isinstance(raw, dict) and raw.get("class") == "FeatureMap"
                else description["model"]["input_shape"]
            )
            schema.check_data_record(metadata, shape)
        for key in ("metadata", "training", "continuation"):
            schema.check_references(description.get(key), headers, f"state/{key}", f"the {key}")
        _check_continuation_entry(
            description.get("continuation"), description.get("compile"), headers
        )
    except schema.DescriptionError as error:
        raise ModelFileError(f"{path}: {error}") from None


def _check_compile_entry(entry: Any) -> None:
    if entry is None:
        return
    entry = schema.check_dict(entry, "the compile entry")
    unknown = sorted(set(entry) - {"loss", "optimizer", "metrics", "jit"})
    if unknown:
        raise schema.DescriptionError(f"the compile entry has the unknown key {unknown[0]!r}")
    jit = entry.get("jit", "auto")
    if not (isinstance(jit, bool) or jit == "auto"):
        raise schema.DescriptionError(
            f'the compile entry\'s jit must be true, false or "auto", not {jit!r}'
        )
    for kind in ("loss", "optimizer"):
        schema.check_named_entry(entry.get(kind), kind)
    for metric in schema.check_list(entry.get("metrics") or [], "the metrics"):
        schema.check_str(metric, "a metric name")


def _check_preprocessing_entry(
    entry: Any, headers: Mapping[str, ArrayHeader], input_shape: list[int]
) -> None:
    if entry is None:
        return
    entry = schema.check_dict(entry, "the preprocessing entry")
    if entry.get("class") == "FeatureMap":  # the playground's input features, by name
        _check_feature_map_entry(entry, input_shape)
        return
    if entry.get("class") != "Standardizer":
        raise schema.DescriptionError(f"unknown preprocessing {entry.get('class')!r}")
    state = schema.check_dict(entry.get("state"), "the preprocessing state")
    schema.check_references(state, headers, "state/preprocessing", "the preprocessing")
    for key in ("mean", "scale"):
        reference = state.get(key)
        if not isinstance(reference, dict) or "__array__" not in reference:
            raise schema.DescriptionError(f"the preprocessing state lacks its {key!r} array")
        header = headers[reference["__array__"]]
        if header.shape != (math.prod(input_shape),) or header.dtype.kind != "f":
            raise schema.DescriptionError(
                f"the preprocessing {key!r} is {header.dtype} of shape {header.shape}, not "
                f"floats of shape ({math.prod(input_shape)},) for the model's inputs"
            )


def _check_continuation_entry(
    entry: Any, compile_entry: Any, headers: Mapping[str, ArrayHeader]
) -> None:
    """The structure of what ``Model.continuation_state`` saved; the optimiser state is
    checked against the rebuilt model when it is restored (``_restore_continuation``)."""
    if entry is None:
        return
    entry = schema.check_dict(entry, "the continuation")
    keys = {
        "next_epoch",
        "optimizer",
        "shuffle_generator",
        "fit_generator",
        "layer_generators",
        "history",
    }
    if set(entry) != keys:
        odd = sorted(set(entry) ^ keys)[0]
        raise schema.DescriptionError(
            f"the continuation has the key {odd!r} missing or unknown (it holds {sorted(keys)})"
        )
    if compile_entry is None:
        raise schema.DescriptionError(
            "the continuation needs compile settings, and the file has none"
        )
    next_epoch = schema.check_int(
        entry["next_epoch"], "the continuation's next epoch", low=0, high=10**9
    )
    _check_optimizer_entries(schema.check_dict(entry["optimizer"], "the optimizer state"), headers)
    generators = schema.check_dict(entry["layer_generators"], "the layer generators")
    for name, value in [
        ("shuffle", entry["shuffle_generator"]),
        ("fit", entry["fit_generator"]),
        *generators.items(),
    ]:
        if value is not None or name not in ("shuffle", "fit"):
            _check_generator_state(value, f"the {name} generator state")
    if entry["history"] is not None:
        _check_history(entry["history"])
        if entry["shuffle_generator"] is None and entry["fit_generator"] is None:
            raise schema.DescriptionError(
                "the continuation has a history but no shuffle generator state"
            )
    elif next_epoch:
        raise schema.DescriptionError(
            f"the continuation's next epoch is {next_epoch} but it has no history"
        )


def _check_optimizer_entries(state: dict[str, Any], headers: Mapping[str, ArrayHeader]) -> None:
    """The optimiser state's settings and counters: finite numbers, counters in 0..10¹²;
    its arrays: floating point (their shapes are the optimiser's to check, their values are
    checked once read)."""
    for key, value in state.items():
        if isinstance(value, dict):  # an array reference, checked by check_references
            if "__array__" not in value:
                raise schema.DescriptionError(
                    f"the optimizer state {key!r} is neither a number nor an array"
                )
            dtype = headers[value["__array__"]].dtype
            if dtype.kind != "f":
                raise schema.DescriptionError(
                    f"the optimizer state {key!r} is {dtype}, not floating point"
                )
        elif key in ("epoch", "iterations") or key.endswith(".step"):
            schema.check_int(value, f"the optimizer state {key!r}", low=0, high=10**12)
        elif value is not None and not isinstance(value, bool):
            schema.check_float(value, f"the optimizer state {key!r}")


def _restore_continuation(
    path: Path, model: Any, entry: Any, arrays: dict[str, np.ndarray]
) -> None:
    """Give the rebuilt, compiled ``model`` the saved optimiser state, epoch and generators."""
    state = join_arrays(entry, arrays)
    for key, value in state["optimizer"].items():
        if isinstance(value, np.ndarray) and schema.non_finite(value):
            raise ModelFileError(
                f"{path}: the optimizer state {key!r} holds {schema.non_finite(value)}"
            )
    generators = {name for name, module in model.named_modules() if hasattr(module, "_generator")}
    if set(state["layer_generators"]) != generators:
        raise ModelFileError(
            f"{path}: the continuation's layer generators are for "
            f"{sorted(state['layer_generators'])}, but the model's random "
            f"layers are {sorted(generators)}"
        )
    try:
        model.restore_continuation(state)
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise ModelFileError(
            f"{path}: the continuation's optimizer state does not fit the "
            f"model's {type(model.optimizer).__name__} ({error})"
        ) from None


def _check_feature_map_entry(entry: dict[str, Any], input_shape: list[int]) -> None:
    from .datasets.features import check_names

    state = schema.check_dict(entry.get("state"), "the preprocessing state")
    try:
        names = check_names(state.get("names"), "the preprocessing FeatureMap")
    except ValueError as error:
        raise schema.DescriptionError(str(error)) from None
    if len(names) != math.prod(input_shape):
        raise schema.DescriptionError(
            f"the preprocessing FeatureMap makes {len(names)} features, but the model takes "
            f"{math.prod(input_shape)} inputs"
        )


def _refuse_non_finite(path: Path, key: str, array: np.ndarray) -> None:
    problem = schema.non_finite(array)
    if problem is not None:
        what = (
            f"the weights {key[len('weights/') :]!r}"
            if key.startswith("weights/")
            else f"the array {key!r}"
        )
        raise ModelFileError(
            f"{path}: {what} hold {problem}; a model with non-finite weights "
            "predicts nothing useful, so it is not loaded (retrain it, or "
            "load an earlier checkpoint)"
        )


def load_model(path: str | os.PathLike[str]) -> Any:
    """Rebuild the model saved at ``path`` (architecture, weights, compile settings,
    preprocessing and metadata); every problem with the file is a ``ModelFileError``.

    The file is checked completely before any layer is built (see ``read_archive``), so a
    hostile or damaged file fails fast with bounded memory and leaves nothing behind.
    """
    description, arrays = read_archive(path)
    return _build(Path(path), description, arrays)


def _build(path: Path, description: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
    settings = description.get("compile")
    try:
        compiled = (
            None
            if not settings
            else (_named("loss", settings["loss"]), _named("optimizer", settings["optimizer"]))
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFileError(f"{path}: the compile settings are not usable ({error})") from None
    try:
        with default_dtype(description.get("dtype") or get_default_dtype()):
            model = _rebuild(description["model"])  # float64 models stay float64
        weights = {
            key[len("weights/") :]: value
            for key, value in arrays.items()
            if key.startswith("weights/")
        }
        model.load_state_dict(_with_fixed_slopes(model, weights))
        model.preprocessing = _restore_preprocessing(description.get("preprocessing"), arrays)
        model.metadata = join_arrays(description.get("metadata") or {}, arrays)
    except (KeyError, TypeError, ValueError, ShapeError) as error:
        raise ModelFileError(
            f"{path}: the description does not match the stored weights ({error})"
        ) from None
    try:
        outputs = model.output_shapes()[-1]
        schema.check_class_count(model.metadata.get("classes"), int(outputs[-1]))
    except schema.DescriptionError as error:
        raise ModelFileError(f"{path}: {error}") from None
    if settings and compiled is not None:
        try:
            model.compile(
                loss=compiled[0],
                optimizer=compiled[1],
                metrics=settings.get("metrics") or None,
                jit=settings.get("jit", "auto"),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ModelFileError(f"{path}: the compile settings are not usable ({error})") from None
        if description.get("continuation") is not None:
            _restore_continuation(path, model, description["continuation"], arrays)
        elif description.get("training"):
            _continue_checkpoint(path, model, join_arrays(description["training"], arrays))
    return model


def _continue_checkpoint(path: Path, model: Any, state: Any) -> None:
    """A checkpoint loaded as a model continues like ``fit(checkpoint=, resume=True)`` with
    ``fit(resume=True)``: its progress, checked, becomes the model's continuation."""
    try:
        _check_training_state(state, model)  # also gives the optimiser its state
    except schema.DescriptionError as error:
        raise ModelFileError(f"{path}: the training progress is damaged: {error}") from None
    model.restore_continuation(
        {
            "next_epoch": int(state["epoch"]) + 1,
            "optimizer": state["optimizer"],
            "shuffle_generator": None,
            "fit_generator": state["shuffle_generator"],
            "layer_generators": state["layer_generators"],
            "history": state["history"],
        }
    )


def _with_fixed_slopes(model: Any, weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``weights`` plus the starting slopes of every PReLU by name that has none stored.

    Files written before a PReLU given by name learned its slopes hold no ``<layer>.alpha``:
    that layer ran with the fixed γ the rebuilt layer starts from, so keeping the start
    reproduces its outputs.
    """
    from .nn.layers import learns_slopes

    kept = {
        f"{layer.name}.alpha": layer.alpha.data
        for layer in model.layers
        if learns_slopes(getattr(layer, "activation", None))
        and f"{layer.name}.alpha" not in weights
    }
    return {**weights, **kept}


def _named(kind: str, entry: dict[str, Any]) -> Any:
    from . import losses, optim

    params = dict(entry.get("params") or {})
    if kind == "loss":
        return losses.get(entry["name"], **params)
    if "betas" in params:
        params["betas"] = tuple(params["betas"])
    return optim.get(entry["name"], **params)


def _rebuild(architecture: dict[str, Any]) -> Any:
    """The Sequential model of a checked architecture (``schema.expected_arrays``): each layer
    rebuilt by its registered class from its own config (``Layer.from_config``)."""
    from . import nn
    from .models import Sequential

    layers = [
        nn.layer_class(entry["class"]).from_config(dict(entry.get("config", {})), entry["name"])
        for entry in architecture["layers"]
    ]
    return Sequential(
        layers,
        input_shape=tuple(architecture["input_shape"]),
        name=architecture.get("name", "sequential"),
    )


def _restore_preprocessing(entry: dict[str, Any] | None, arrays: dict[str, np.ndarray]) -> Any:
    if entry is None:
        return None
    if entry.get("class") == "FeatureMap":
        from .datasets.features import FeatureMap

        return FeatureMap.from_state(entry["state"])
    from . import datasets

    return datasets.Standardizer.from_state(join_arrays(entry["state"], arrays))


# ---------------------------------------------------------------------- checkpoints
def read_training_state(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The training progress in a checkpoint (with ``"optimizer_name"``, the optimiser that
    wrote it), and its weights (name → array).

    Checked like a model file (``read_archive``), then the progress itself against the model
    it trains: the optimiser state fits the parameters (the optimiser's own
    ``load_state_dict`` on the rebuilt model), the generator states are valid, the history
    and the callbacks' states are well-formed. A damaged checkpoint is a ``ModelFileError``
    that says how to start over.
    """
    path = Path(path)
    try:
        description, arrays = read_archive(path)
        if not description.get("training"):
            raise ModelFileError(
                f"{path} is a model file without training progress (not a checkpoint)"
            )
        state = join_arrays(description["training"], arrays)
        model = _build(path, description, arrays)
        try:
            _check_training_state(state, model)
        except schema.DescriptionError as error:
            raise ModelFileError(f"{path}: the training progress is damaged: {error}") from None
    except ModelFileError as error:
        if "without training progress" in str(error):
            raise
        raise ModelFileError(
            f"{error}; a damaged checkpoint cannot be resumed (delete it to start training over)"
        ) from None
    weights = {
        key[len("weights/") :]: value for key, value in arrays.items() if key.startswith("weights/")
    }
    state["optimizer_name"] = model.optimizer.name  # which optimiser wrote it (not stored)
    return state, weights


def _check_training_state(state: Any, model: Any) -> None:
    """Every part of a checkpoint's progress that ``fit(resume=True)`` reads."""
    state = schema.check_dict(state, "the training progress")
    schema.check_int(state.get("epoch"), "the epoch", low=0, high=10**9)
    if model.optimizer is None:
        raise schema.DescriptionError("a checkpoint needs compile settings, and this one has none")
    optimizer_state = schema.check_dict(state.get("optimizer"), "the optimizer state")
    for key, value in optimizer_state.items():
        if isinstance(value, np.ndarray) and value.dtype.kind != "f":
            raise schema.DescriptionError(
                f"the optimizer state {key!r} is {value.dtype}, not floating point"
            )
        if isinstance(value, np.ndarray) and schema.non_finite(value):
            raise schema.DescriptionError(
                f"the optimizer state {key!r} holds {schema.non_finite(value)}"
            )
    try:
        model.optimizer.load_state_dict(optimizer_state)
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise schema.DescriptionError(
            f"the optimizer state does not fit the model ({error})"
        ) from None
    generators = {name for name, module in model.named_modules() if hasattr(module, "_generator")}
    layer_generators = schema.check_dict(state.get("layer_generators"), "the layer generators")
    if set(layer_generators) != generators:
        raise schema.DescriptionError(
            f"the layer generators are for {sorted(layer_generators)}, "
            f"but the model's random layers are {sorted(generators)}"
        )
    for name, generator_state in [
        ("shuffle", state.get("shuffle_generator")),
        *layer_generators.items(),
    ]:
        _check_generator_state(generator_state, f"the {name} generator state")
    _check_history(state.get("history"))
    for index, entry in enumerate(schema.check_list(state.get("callbacks"), "the callbacks")):
        entry = schema.check_dict(entry, f"callback {index}")
        schema.check_str(entry.get("class"), f"the class of callback {index}")
        callback_state = schema.check_dict(entry.get("state"), f"the state of callback {index}")
        best = callback_state.get("best_weights")
        if best is not None:
            _check_weights_like(best, model, f"the best weights of callback {index}")


def _check_generator_state(value: Any, what: str) -> None:
    try:
        np.random.default_rng().bit_generator.state = schema.check_dict(value, what)
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise schema.DescriptionError(f"{what} is not a valid PCG64 state ({error})") from None


def _check_history(value: Any) -> None:
    recorded = schema.check_dict(value, "the history")
    for key, values in schema.check_dict(recorded.get("history"), "the history").items():
        for number in schema.check_list(values, f"the history of {key!r}"):
            if isinstance(number, bool) or not isinstance(number, (int, float)):
                raise schema.DescriptionError(
                    f"the history of {key!r} holds {number!r}, not a number"
                )
    for epoch in schema.check_list(recorded.get("epoch"), "the history's epochs"):
        schema.check_int(epoch, "an epoch of the history", low=0, high=10**9)


def _check_weights_like(value: Any, model: Any, what: str) -> None:
    weights = schema.check_dict(value, what)
    own = model.state_dict()
    for name, array in weights.items():
        if name not in own or np.shape(array) != own[name].shape:
            raise schema.DescriptionError(
                f"{what} has {name!r} of shape {np.shape(array)}, which the model does not have"
            )


__all__ = [
    "describe_model",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "join_arrays",
    "load_model",
    "MAX_DESCRIPTION",
    "ModelFileError",
    "optimizer_settings",
    "read_archive",
    "read_training_state",
    "save_model",
    "split_arrays",
]
