"""The catalog's index: names, aliases, ``get`` with helpful errors, and user registration.

Lookup ignores case, '_', '-' and spaces, so "LeakyReLU", "leaky-relu" and "leaky_relu" are the
same name. A user's activation is registered with its forward and derivative; registration
compares the derivative with central finite differences and refuses a wrong one, showing where
it disagrees.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import DerivativeCheckError, UnknownActivationError
from ..naming import (
    NameIndex,
    accepted_parameters,
    check_parameters,
    not_a_name,
    returned_as_is,
)
from .base import Activation

ArrayFunction = Callable[[np.ndarray], np.ndarray]


_index = NameIndex("activation", UnknownActivationError)
_classes: dict[str, type[Activation]] = {}
_defaults: dict[str, Activation] = {}  # parameter-free instances, shared
_built_in: list[type[Activation]] = []


def add(activation_class: type[Activation], replace: bool = False) -> type[Activation]:
    """Put a class into the catalog under its name and aliases."""
    _index.add(activation_class.name, activation_class.aliases, replace=replace)
    _classes[activation_class.name] = activation_class
    _defaults.pop(activation_class.name, None)
    return activation_class


def catalogued(activation_class: type[Activation]) -> type[Activation]:
    """Class decorator of the built-in activations: the class joins the catalog where it is
    defined (``add``), in the order the modules define them."""
    _built_in.append(add(activation_class))
    return activation_class


def built_in() -> tuple[type[Activation], ...]:
    """The built-in activation classes, in catalog order."""
    return tuple(_built_in)


def remove(name: str) -> None:
    """Take an activation (and its aliases) out of the catalog."""
    canonical = _index.remove(name)
    del _classes[canonical]
    _defaults.pop(canonical, None)


def names() -> list[str]:
    """The canonical names of every activation in the catalog, in catalog order."""
    return _index.names()


def get(name: str | Activation, **params: Any) -> Activation:
    """The activation called ``name`` (aliases accepted), built with ``params``.

    An ``Activation`` object is returned as it is.

    >>> get("logistic")
    Sigmoid()
    >>> get("LeakyReLU", gamma=0.2)
    LeakyReLU(gamma=0.2)
    """
    if isinstance(name, Activation):
        return returned_as_is(name, params, "an activation")
    if not isinstance(name, str):
        raise not_a_name("an activation is a name or an Activation object", name)
    canonical = _index.resolve(name)
    if not params:
        if canonical not in _defaults:
            _defaults[canonical] = _classes[canonical]()
        return _defaults[canonical]
    activation_class = _classes[canonical]
    check_parameters(canonical, accepted_parameters(activation_class), params)
    return activation_class(**params)


def lookup_for_tensor_methods(name: str, **params: Any) -> Activation:
    return get(name, **params)


# ---------------------------------------------------------------------- user activations
def register(
    name: str,
    forward: ArrayFunction,
    derivative: ArrayFunction,
    second_derivative: ArrayFunction | None = None,
    derivative_from_output: ArrayFunction | None = None,
    *,
    aliases: tuple[str, ...] = (),
    formula: str = "",
    derivative_formula: str = "",
    second_derivative_formula: str = "",
    output_range: str = "unknown",
    zero_centered: str = "unknown",
    monotonic: bool | None = None,
    saturating: str = "unknown",
    recommended_init: str = "xavier_uniform",
    display_name: str | None = None,
    dead_below: float | None = None,
    onnx_op: str | None = None,
    check: bool = True,
    check_points: np.ndarray | None = None,
    replace: bool = False,
) -> type[Activation]:
    """Add a user activation g to the catalog from NumPy functions of z (and of a, for g').

    With ``check=True`` (the default) the derivative is compared with central finite
    differences of ``forward`` (and ``second_derivative`` with those of ``derivative``, and
    ``derivative_from_output(forward(z))`` with ``derivative(z)``) at ``check_points`` (default
    201 points in [−5, 5] that avoid 0 and the integers); a disagreement raises
    ``DerivativeCheckError`` with a table of the worst points. ``recommended_init`` (the
    initialiser a Dense layer before g gets with ``kernel_init="auto"``), ``display_name`` (how
    reports name it), ``dead_below`` (g = g' = 0 for z below it: its units can die, and
    health reports count them) and ``onnx_op`` (the one ONNX op computing g, for
    ``export_onnx``) are the record's facts that the rest of the library reads; the
    check also tests ``dead_below``. Returns the new class; ``get(name)`` builds it.

    Args:
        name: the catalog name (``Dense(..., activation=name)``, ``chainrule train
            --activation name``).
        forward: g(z), a NumPy function applied elementwise.
        derivative: g'(z).
        second_derivative: g''(z); without it, differentiating twice is an error.
        derivative_from_output: g' written from the output a = g(z) (σ' = a(1 − a)).
        aliases: other names for it.
        formula, derivative_formula, second_derivative_formula: how tables and plots show
            it.
        output_range, zero_centered, monotonic, saturating: its properties (the catalog's
            metadata).
        recommended_init: the initialiser a Dense layer before g gets with
            ``kernel_init="auto"``.
        display_name: how reports and tables name it.
        dead_below: g = g' = 0 for z below this (its units can die; health reports count
            them); checked against ``forward``.
        onnx_op: the one ONNX op that computes g (for ``export_onnx``).
        check: compare the derivatives with finite differences before adding it.
        check_points: the points of that check.
        replace: allow replacing an activation of the same name.

    Returns:
        The new ``Activation`` subclass (already in the catalog).

    Raises:
        DerivativeCheckError: a derivative disagrees with finite differences (the table of
            the worst points is in the message).
        ValueError: the name is taken (without ``replace=True``).

    >>> import numpy as np
    >>> cls = register("cube_demo", lambda z: z ** 3, lambda z: 3 * z ** 2, replace=True)
    >>> get("cube_demo").derivative([2.0])
    array([12.], dtype=float32)
    >>> remove("cube_demo")
    """
    functions = {"_forward": forward, "_derivative": derivative}
    attributes: dict[str, Any] = {
        "name": name,
        "aliases": tuple(aliases),
        "formula": formula or f"{name}(z) (user-defined)",
        "derivative_formula": derivative_formula or f"{name}'(z) (user-defined)",
        "second_derivative_formula": second_derivative_formula
        or (f"{name}''(z) (user-defined)" if second_derivative else "not given"),
        "derivative_from_output_formula": "user-defined" if derivative_from_output else None,
        "output_range": output_range,
        "zero_centered": zero_centered,
        "monotonic": monotonic,
        "saturating": saturating,
        "recommended_init": recommended_init,
        "display_name": display_name,
        "dead_below": None if dead_below is None else float(dead_below),
        "onnx_op": onnx_op,
        "piecewise": True,
        "__doc__": f"User-defined activation {name!r}: {formula or 'no formula given'}.",
    }
    for method, function in functions.items():
        attributes[method] = _wrap_z_function(function)
    if second_derivative is not None:
        attributes["_second_derivative"] = _wrap_z_function(second_derivative)
    else:
        attributes["_second_derivative"] = _missing_second_derivative(name)
    if derivative_from_output is not None:
        attributes["_derivative_from_output"] = lambda self, a: derivative_from_output(a)
    activation_class = type(_class_name(name), (Activation,), attributes)
    if check:
        check_derivatives(activation_class(), check_points)
    return add(activation_class, replace=replace)


def _wrap_z_function(function: ArrayFunction) -> Callable[..., np.ndarray]:
    def method(self: Activation, z: np.ndarray, a: np.ndarray | None = None) -> np.ndarray:
        return function(z)

    return method


def _missing_second_derivative(name: str) -> Callable[..., np.ndarray]:
    def method(self: Activation, z: np.ndarray, a: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError(
            f"activation {name!r} was registered without a second derivative; "
            "register it with second_derivative=... to differentiate twice"
        )

    return method


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[\W_]+", name)) or "Custom"


def default_check_points() -> np.ndarray:
    """201 points in [−5, 5], shifted off 0 and the integers where kinks usually sit."""
    return np.linspace(-5.0, 5.0, 201) + 0.0123


def check_derivatives(
    activation: Activation, points: np.ndarray | None = None, tolerance: float = 1e-5
) -> None:
    """Compare g', g'' and g'-from-output with finite differences; raise on a disagreement."""
    z = np.asarray(default_check_points() if points is None else points, dtype=np.float64)
    step = 1e-6 * np.maximum(1.0, np.abs(z))
    forward = activation.forward
    numeric = (forward(z + step) - forward(z - step)) / (2 * step)
    _compare(activation.name, "derivative", z, activation.derivative(z), numeric, tolerance)
    try:
        analytic_second = activation.second_derivative(z)
    except NotImplementedError:
        analytic_second = None
    if analytic_second is not None:
        numeric_second = (activation.derivative(z + step) - activation.derivative(z - step)) / (
            2 * step
        )
        _compare(
            activation.name, "second_derivative", z, analytic_second, numeric_second, tolerance
        )
    if activation.has_derivative_from_output:
        from_output = activation.derivative_from_output(forward(z))
        _compare(
            activation.name,
            "derivative_from_output",
            z,
            from_output,
            activation.derivative(z),
            tolerance,
        )
    if activation.dead_below is not None:
        _check_dead_below(activation, z)


def _check_dead_below(activation: Activation, z: np.ndarray) -> None:
    """g(z) = g'(z) = 0 at every point below ``dead_below`` (and far below it), as it says."""
    edge = float(activation.dead_below)  # type: ignore[arg-type]
    below = np.concatenate([z[z < edge], [edge - 1e-3, edge - 50.0]])
    live = (activation.forward(below) != 0) | (activation.derivative(below) != 0)
    if live.any():
        raise DerivativeCheckError(
            f"activation {activation.name!r}: dead_below = {edge:g} says g(z) = g'(z) = 0 for "
            f"z < {edge:g}, but not at z = {below[np.argmax(live)]:.4f}; fix dead_below or "
            "leave it None"
        )


def _compare(
    name: str, what: str, z: np.ndarray, analytic: Any, reference: np.ndarray, tolerance: float
) -> None:
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != z.shape:
        raise DerivativeCheckError(
            f"activation {name!r}: {what} returned shape {analytic.shape} for input shape {z.shape}"
        )
    error = np.abs(analytic - reference) / np.maximum(1.0, np.abs(reference))
    error = np.where(np.isfinite(reference), error, 0.0)
    error = np.where(np.isnan(analytic) & np.isfinite(reference), np.inf, error)
    bad = np.flatnonzero(error > tolerance)
    if bad.size == 0:
        return
    worst = bad[np.argsort(error[bad])[::-1][:5]]
    compared_with = "derivative" if what == "derivative_from_output" else "finite differences"
    rows = "\n".join(
        f"    z = {z[i]: .4f}   {what} = {analytic[i]: .6g}   {compared_with} = {reference[i]: .6g}"
        for i in worst
    )
    raise DerivativeCheckError(
        f"activation {name!r}: the given {what} disagrees with {compared_with} at "
        f"{bad.size} of {z.size} points (tolerance {tolerance:g}); worst:\n{rows}\n"
        "fix the formula, or pass check=False to register it anyway"
    )


__all__ = [
    "add",
    "ArrayFunction",
    "check_derivatives",
    "default_check_points",
    "get",
    "lookup_for_tensor_methods",
    "names",
    "register",
    "remove",
    "UnknownActivationError",
]
