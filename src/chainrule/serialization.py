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
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import write_npz_atomically
from .errors import ShapeError

FORMAT_NAME = "chainrule-model"
FORMAT_VERSION = 1
_DESCRIPTION_KEY = "__description__"


class ModelFileError(ValueError):
    """A model file that cannot be loaded (corrupt, truncated, pickled, newer, inconsistent)."""


def _chainrule_version() -> str:
    from . import __version__

    return __version__


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
    from .nn import Sequential

    if not isinstance(model, Sequential):
        raise TypeError(
            f"only Sequential models can be saved to a model file, not {type(model).__name__}"
        )
    if model.input_shape is None:
        raise ValueError("build the model (give input_dim or call it once) before saving it")
    layers = []
    for layer in model.layers:
        config = layer.config()
        layers.append({"class": type(layer).__name__, "name": layer.name, "config": config})
    return {"class": "Sequential", "name": model.name, "input_shape": list(model.input_shape),
            "layers": layers}


def save_model(model: Any, path: str | os.PathLike[str],
               training_state: dict[str, Any] | None = None) -> None:
    """Write ``model`` (and, for a checkpoint, ``training_state``) to ``path``."""
    arrays: dict[str, np.ndarray] = {}
    for name, value in model.state_dict().items():
        arrays[f"weights/{name}"] = value
    parameters = model.parameters()
    description: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "chainrule_version": _chainrule_version(),
        "dtype": parameters[0].dtype.name if parameters else None,
        "model": describe_model(model),
        "weights": {name: list(value.shape) for name, value in model.state_dict().items()},
        "compile": _describe_compile(model),
        "preprocessing": _describe_preprocessing(getattr(model, "preprocessing", None), arrays),
        "metadata": split_arrays(dict(getattr(model, "metadata", {}) or {}), "state/metadata",
                                 arrays),
        "training": None if training_state is None
        else split_arrays(training_state, "state/training", arrays),
    }
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
    }


def optimizer_settings(optimizer: Any) -> dict[str, Any]:
    """The constructor arguments of an optimiser that are plain values (learning rate, ...)."""
    from .naming import accepted_parameters

    settings = {"lr": float(optimizer.initial_lr)}
    for key, value in optimizer._settings().items():
        if key in accepted_parameters(type(optimizer)):
            settings[key] = list(value) if isinstance(value, tuple) else value
    return settings


def _describe_preprocessing(preprocessing: Any, arrays: dict[str, np.ndarray]
                            ) -> dict[str, Any] | None:
    if preprocessing is None:
        return None
    return {"class": type(preprocessing).__name__,
            "state": split_arrays(preprocessing.state(), "state/preprocessing", arrays)}


# ---------------------------------------------------------------------- reading
def read_archive(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The description and the arrays of a model file, every problem a ModelFileError."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no model file at {path}")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path} is not a readable model file (corrupt or truncated: "
                             "not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except ValueError as error:
        if "allow_pickle" in str(error) or "Object arrays" in str(error):
            raise ModelFileError(
                f"{path} holds pickled (object) data; chainrule never unpickles model files"
            ) from None
        raise ModelFileError(f"{path} is not a readable model file: {error}") from None
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ModelFileError(
            f"{path} is not a readable model file (corrupt or truncated: {error})"
        ) from None
    if _DESCRIPTION_KEY not in arrays:
        raise ModelFileError(f"{path} is an .npz archive but not a chainrule model file "
                             "(it has no description)")
    try:
        description = json.loads(arrays.pop(_DESCRIPTION_KEY).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(f"{path}: the model description is damaged ({error})") from None
    if not isinstance(description, dict) or description.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path} is not a chainrule model file")
    version = description.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} uses model-file format {version}, newer than this chainrule "
            f"({_chainrule_version()}) reads (format {FORMAT_VERSION}); upgrade chainrule"
        )
    return description, arrays


def load_model(path: str | os.PathLike[str]) -> Any:
    """Rebuild the model saved at ``path`` (architecture, weights, compile settings,
    preprocessing and metadata); every inconsistency is a ``ModelFileError``."""
    description, arrays = read_archive(path)
    try:
        model = _rebuild(description["model"])
        weights = {key[len("weights/"):]: value for key, value in arrays.items()
                   if key.startswith("weights/")}
        model.load_state_dict(_with_fixed_slopes(model, weights))
        settings = description.get("compile")
        if settings:
            model.compile(loss=_named("loss", settings["loss"]),
                          optimizer=_named("optimizer", settings["optimizer"]),
                          metrics=settings.get("metrics") or None)
        model.preprocessing = _restore_preprocessing(description.get("preprocessing"), arrays)
        model.metadata = join_arrays(description.get("metadata") or {}, arrays)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, ShapeError) as error:
        raise ModelFileError(
            f"{path}: the description does not match the stored weights ({error})"
        ) from None
    return model


def _with_fixed_slopes(model: Any, weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``weights`` plus the starting slopes of every PReLU by name that has none stored.

    Files written before a PReLU given by name learned its slopes hold no ``<layer>.alpha``:
    that layer ran with the fixed γ the rebuilt layer starts from, so keeping the start
    reproduces its outputs.
    """
    from .nn.layers import learns_slopes

    kept = {f"{layer.name}.alpha": layer.alpha.data for layer in model.layers
            if learns_slopes(getattr(layer, "activation", None))
            and f"{layer.name}.alpha" not in weights}
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
    from . import nn

    classes = {cls.__name__: cls for cls in (nn.Dense, nn.Activation, nn.PReLU, nn.Maxout,
                                             nn.Dropout, nn.BatchNorm, nn.Flatten)}
    if architecture.get("class") != "Sequential":
        raise ModelFileError(f"unknown model class {architecture.get('class')!r}")
    layers = []
    for entry in architecture["layers"]:
        cls = classes.get(entry["class"])
        if cls is None:
            raise ModelFileError(f"unknown layer class {entry['class']!r}")
        config = dict(entry["config"])
        if cls is nn.Activation:
            name = config.pop("activation")
            layers.append(cls(name, name=entry["name"], **config))
            continue
        if cls is nn.Dense:
            if "activation_params" in config:
                params = config.pop("activation_params")
                config["activation"] = _activation(config["activation"], params)
            if "kernel_regularizer" in config:
                config["kernel_regularizer"] = _regularizer(config["kernel_regularizer"])
        layers.append(cls(**config, name=entry["name"]))
    return nn.Sequential(layers, input_shape=tuple(architecture["input_shape"]),
                         name=architecture.get("name", "sequential"))


def _activation(name: str, params: dict[str, Any]) -> Any:
    from . import activations

    return activations.get(name, **params)


def _regularizer(entry: dict[str, Any]) -> Any:
    from . import losses

    kinds = {"L1": losses.L1, "L2": losses.L2}
    if entry.get("class") not in kinds:
        raise ModelFileError(f"unknown kernel regularizer {entry.get('class')!r}")
    return kinds[entry["class"]](entry["lam"])


def _restore_preprocessing(entry: dict[str, Any] | None, arrays: dict[str, np.ndarray]) -> Any:
    if entry is None:
        return None
    from . import datasets

    if entry.get("class") != "Standardizer":
        raise ModelFileError(f"unknown preprocessing {entry.get('class')!r}")
    return datasets.Standardizer.from_state(join_arrays(entry["state"], arrays))


def read_training_state(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The training progress in a checkpoint, and its weights (name → array)."""
    description, arrays = read_archive(path)
    if not description.get("training"):
        raise ModelFileError(f"{path} is a model file without training progress (not a "
                             "checkpoint)")
    weights = {key[len("weights/"):]: value for key, value in arrays.items()
               if key.startswith("weights/")}
    return join_arrays(description["training"], arrays), weights
