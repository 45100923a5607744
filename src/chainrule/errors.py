"""The exceptions chainrule raises, so callers can catch them by kind."""

from __future__ import annotations


class ShapeError(ValueError):
    """Operand shapes that do not fit an operation (the message names the op and the shapes)."""


class GraphFreedError(RuntimeError):
    """``backward`` reached a part of the graph that an earlier ``backward`` already freed."""


class DerivativeCheckError(ValueError):
    """A user-supplied derivative disagrees with finite differences of its function."""


class DataError(ValueError):
    """Inputs or targets that cannot be used as given (labels, feature names, integers a float
    dtype cannot hold, an ambiguous task): one line naming the problem and its fix."""
