"""The caps on the work one playground session may ask for, and the defaults of a new setup.

Every number a browser sends is checked against these before anything runs (``messages``);
the server enforces the session, message-size and epoch caps itself (``server``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

#: hidden layers in a network (the input and output layers are not counted)
MAX_LAYERS = 6
#: units in one hidden layer
MAX_UNITS = 8
#: samples drawn for a data set (training and test rows together)
MIN_SAMPLES = 50
MAX_SAMPLES = 1000
#: epochs one "step" message may ask for
MAX_STEP_EPOCHS = 100
#: seconds one "step" message may train for (fewer epochs than asked when they take longer)
MAX_STEP_SECONDS = 5.0
#: epochs a session trains in all before it pauses by itself
MAX_EPOCHS = 20_000
#: bytes of one message from the browser; longer ones are answered with an error
MAX_MESSAGE_BYTES = 8_192
#: bytes of one WebSocket frame that uvicorn accepts at all; longer ones close the connection
MAX_FRAME_BYTES = 65_536
#: sessions (open browser tabs) served at the same time
MAX_SESSIONS = 8
#: the largest seed
MAX_SEED = 2**31 - 1

#: ranges of the numeric settings: (lowest, highest), both included
NOISE_RANGE = (0.0, 0.5)
TRAIN_RATIO_RANGE = (0.1, 0.9)
LEARNING_RATE_RANGE = (1e-5, 10.0)
LAMBDA_RANGE = (0.0, 1.0)
#: the dropout rate of a hidden layer (below 1: something must survive)
DROPOUT_RANGE = (0.0, 0.9)

#: seconds of training between two updates sent to the page (the update rate cap)
TRAIN_SLICE_SECONDS = 0.1
#: the side of the grid the decision boundary is computed on
BOUNDARY_GRID = 48
#: the side of the grid of each neuron's small heat map
NEURON_GRID = 16
#: the inputs shown span [−DOMAIN, DOMAIN]² (the data sets lie in [−1, 1]² before noise)
DOMAIN = 1.5
#: the most points of a loss curve sent in one update (longer histories are thinned)
MAX_CURVE_POINTS = 400

LIMITS = {
    "max_layers": MAX_LAYERS,
    "max_units": MAX_UNITS,
    "min_samples": MIN_SAMPLES,
    "max_samples": MAX_SAMPLES,
    "max_step_epochs": MAX_STEP_EPOCHS,
    "max_epochs": MAX_EPOCHS,
    "max_message_bytes": MAX_MESSAGE_BYTES,
    "max_sessions": MAX_SESSIONS,
    "max_seed": MAX_SEED,
    "noise": NOISE_RANGE,
    "train_ratio": TRAIN_RATIO_RANGE,
    "learning_rate": LEARNING_RATE_RANGE,
    "lambda": LAMBDA_RANGE,
    "dropout": DROPOUT_RANGE,
    "domain": DOMAIN,
}
"""The caps as plain data, for the page (it disables the + buttons at the caps)."""


#: the highest each configurable cap may be set to (``chainrule playground --max-...``): the
#: server's own ceilings, so that one tab can never ask for unbounded work
CAP_CEILINGS = {"max_layers": 16, "max_units": 32, "max_sessions": 64, "max_samples": 10_000}


@dataclass(frozen=True)
class Caps:
    """The caps a server is started with (the command line may lower or raise them, up to
    ``CAP_CEILINGS``): hidden layers, units per hidden layer, open tabs, samples per data set.

    >>> Caps(max_layers=8).limits()["max_layers"]
    8
    >>> Caps(max_units=0)
    Traceback (most recent call last):
    ...
    ValueError: max_units must be a whole number from 1 to 32, got 0
    """

    max_layers: int = MAX_LAYERS
    max_units: int = MAX_UNITS
    max_sessions: int = MAX_SESSIONS
    max_samples: int = MAX_SAMPLES

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            low = MIN_SAMPLES if item.name == "max_samples" else 1
            high = CAP_CEILINGS[item.name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(
                    f"{item.name} must be a whole number from {low} to {high}, got {value!r}"
                )

    def limits(self) -> dict[str, Any]:
        """``LIMITS`` with these caps in place (what the page is told)."""
        return {
            **LIMITS,
            "max_layers": self.max_layers,
            "max_units": self.max_units,
            "max_sessions": self.max_sessions,
            "max_samples": self.max_samples,
        }


#: the caps of a server started without options
DEFAULT_CAPS = Caps()


__all__ = [
    "BOUNDARY_GRID",
    "CAP_CEILINGS",
    "Caps",
    "DEFAULT_CAPS",
    "DOMAIN",
    "LAMBDA_RANGE",
    "LEARNING_RATE_RANGE",
    "LIMITS",
    "MAX_CURVE_POINTS",
    "MAX_EPOCHS",
    "MAX_FRAME_BYTES",
    "MAX_LAYERS",
    "MAX_MESSAGE_BYTES",
    "MAX_SAMPLES",
    "MAX_SEED",
    "MAX_SESSIONS",
    "MAX_STEP_EPOCHS",
    "MAX_STEP_SECONDS",
    "MAX_UNITS",
    "MIN_SAMPLES",
    "NEURON_GRID",
    "NOISE_RANGE",
    "TRAIN_RATIO_RANGE",
    "TRAIN_SLICE_SECONDS",
]
