"""The layers a model file may name: each layer class registers itself under its class name.

A class is registered with the ``register_layer`` decorator where it is defined; model files
then store ``type(layer).__name__`` and its ``config()``, the loader checks that config with
the class's ``check_config`` before building anything and rebuilds the layer with its
``from_config``. Nothing else lists the layer classes.

>>> from chainrule.nn import layer_class
>>> layer_class("Dense").__name__
'Dense'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from ..errors import UnknownLayerError

if TYPE_CHECKING:
    from .layers import Layer

LayerType = TypeVar("LayerType", bound="type[Layer]")

_classes: dict[str, type[Layer]] = {}


def register_layer(cls: LayerType, replace: bool = False) -> LayerType:
    """Register a layer class under its class name (a decorator); returns the class.

    Another class already registered under that name is an error unless ``replace=True``.
    """
    name = cls.__name__
    known = _classes.get(name)
    if known is not None and known is not cls and not replace:
        raise ValueError(
            f"a layer class named {name!r} is already registered "
            f"({known.__module__}.{known.__qualname__}); pass replace=True "
            "to replace it"
        )
    _classes[name] = cls
    return cls


def unregister_layer(name: str) -> None:
    """Take the layer class registered as ``name`` out of the registry."""
    if name not in _classes:
        raise UnknownLayerError(f"no layer class {name!r} is registered")
    del _classes[name]


def layer_class(name: str) -> type[Layer]:
    """The layer class registered as ``name``."""
    cls = _classes.get(name)
    if cls is None:
        raise UnknownLayerError(
            f"no layer class {name!r} is registered (known: {', '.join(_classes)})"
        )
    return cls


def layer_names() -> list[str]:
    """The registered layer class names, in registration order."""
    return list(_classes)


def registered_name(layer: object) -> str:
    """The name ``layer``'s class is registered under; an unregistered class is an error."""
    name = type(layer).__name__
    if _classes.get(name) is not type(layer):
        raise TypeError(
            f"{name} layers cannot be stored in a model file: register the class "
            "with chainrule.nn.register_layer (and give it check_config)"
        )
    return name


__all__ = [
    "UnknownLayerError",
    "layer_class",
    "layer_names",
    "register_layer",
    "registered_name",
    "unregister_layer",
]
