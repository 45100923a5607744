"""``chainrule playground``: serve the web playground."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import CommandError
from .common import _message, _parsed, _say, _subparser, _whole_in


# ====================================================================== playground
def command_playground(args: argparse.Namespace) -> int:
    """Serve the playground page until Ctrl-C (needs the ``web`` extra, imported only here)."""
    from .. import playground

    try:
        server = playground.web_server()
    except ImportError as error:
        raise CommandError(str(error)) from None
    from ..playground.limits import Caps

    caps = Caps(
        max_layers=args.max_layers,
        max_units=args.max_units,
        max_sessions=args.max_tabs,
        max_samples=args.max_samples,
    )  # checked by argparse
    try:
        server.serve(
            host=args.host, port=args.port, open_browser=args.open, announce=_say, caps=caps
        )
    except KeyboardInterrupt:  # Ctrl-C is how the server is meant to stop
        pass
    except OSError as error:
        raise CommandError(f"cannot serve on {args.host}:{args.port}: {_message(error)}") from None
    _say("Stopped the playground.")
    return 0


def _port(text: str) -> int:
    return _parsed(text, int, lambda v: 0 <= v <= 65535, "a port number 0..65535")


def _add_playground(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = _subparser(
        commands,
        "playground",
        command_playground,
        "a local web page to train networks live",
        (
            "Start the playground: a local web page where you pick a 2-D data set, the features,\n"
            "the layers and their activations, and watch chainrule train: the decision boundary,\n"
            "every neuron, the weights, the losses, g and g' of a layer over its z, dead and\n"
            "saturated units. It exports the model file and a Python snippet of the run.\n\n"
            'Needs the web extra: pip install "chainrule[web]". Ctrl-C stops the server.'
        ),
        common,
    )
    parser.add_argument("--port", type=_port, default=8765, help="the TCP port (0: any free)")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to bind (another than 127.0.0.1 exposes the page to the network)",
    )
    parser.add_argument("--open", action="store_true", help="open the page in a browser")
    from ..playground.limits import CAP_CEILINGS, DEFAULT_CAPS, MIN_SAMPLES

    for option, field, what in (
        ("--max-layers", "max_layers", "hidden layers in a network"),
        ("--max-units", "max_units", "units in one hidden layer"),
        ("--max-tabs", "max_sessions", "tabs served at the same time"),
        ("--max-samples", "max_samples", "points in a data set"),
    ):
        low, high = (MIN_SAMPLES if field == "max_samples" else 1), CAP_CEILINGS[field]
        parser.add_argument(
            option,
            type=_whole_in(low, high),
            metavar="N",
            default=getattr(DEFAULT_CAPS, field),
            help=f"the most {what} ({low}..{high})",
        )


__all__ = ["command_playground"]
