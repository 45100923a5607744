"""The playground: a local web page that trains chainrule networks and shows their derivatives.

``chainrule playground`` (or ``web_server().serve()``) starts a server on 127.0.0.1:8765. The
page picks a 2-D data set (or the tab's own CSV), the input features, the hidden layers with
any activation of the catalog and a dropout rate, the optimiser and the penalty; it trains with
chainrule in the server process and shows, live, the decision boundary (regions per class for
three or more), every neuron's output, the weights, the loss curves, g and g' of a layer under
a histogram of its z, each unit's and connection's formula with its numbers on hover, and dead
or saturated units with the health monitor's advice. It exports the model file (which takes the
raw x₁, x₂: its preprocessing is the features' ``FeatureMap``) and a Python snippet that
reproduces the run. The caps (``limits.Caps``) come from the command line.

The modules, data flowing one way: ``limits`` (the caps) → ``features``, ``datasets`` →
``messages`` (checking what the page sends) → ``network`` (data and model from a setup) →
``views`` (what the page draws), ``snippet`` → ``session`` (one tab's run) → ``registry``,
``connection`` (the WebSocket conversation) → ``server`` (Starlette + uvicorn, the ``web``
extra). Everything but ``server`` works without the web libraries.
"""

from __future__ import annotations

from types import ModuleType

WEB_EXTRA = 'pip install "chainrule[web]"'


def web_server() -> ModuleType:
    """The ``server`` module; ImportError naming the ``web`` extra when it is missing."""
    try:
        from . import server
    except ImportError as error:
        raise ImportError(
            f"the playground needs Starlette and uvicorn, which are not "
            f"installed ({error.name or error}): {WEB_EXTRA}"
        ) from error
    return server


__all__ = ["WEB_EXTRA", "web_server"]
