"""The exceptions and warnings chainrule raises, so callers can catch them by kind.

Each is also importable from the module that raises it (``chainrule.serialization.ModelFileError``
and so on), as before; this file is where they are written. It imports nothing. The one
exception is ``chainrule.diagnostics.TrainingHealthWarning``, which carries a diagnostics
``Finding``.
"""

from __future__ import annotations


# ---------------------------------------------------------------------- the engine
class ShapeError(ValueError):
    """Operand shapes that do not fit an operation (the message names the op and the shapes)."""


class GraphFreedError(RuntimeError):
    """``backward`` reached a part of the graph that an earlier ``backward`` already freed."""


class DerivativeCheckError(ValueError):
    """A user-supplied derivative disagrees with finite differences of its function."""


# ---------------------------------------------------------------------- names
class UnknownNameError(KeyError, ValueError):
    """A name that is not there (an activation, an initialiser, a dataset, a log key): a
    ``KeyError`` and a ``ValueError`` whose message, which suggests close names, prints as written.
    """

    def __str__(self) -> str:  # KeyError would print the message with quotes around it
        return str(self.args[0])


class UnknownActivationError(UnknownNameError):
    """An activation name that is not in the catalog (the message suggests close names)."""


class UnknownInitializerError(UnknownNameError):
    """An initialiser name that is not in the registry (the message suggests close names)."""


class UnknownDatasetError(UnknownNameError):
    """A dataset name that is not built in (the message suggests close names)."""


class UnknownLayerError(UnknownNameError):
    """A layer class name that no ``register_layer`` registered (model files name layers so)."""


class MissingLogKeyError(UnknownNameError):
    """A checkpoint filepath that names a log key the epoch's logs do not have."""


# ---------------------------------------------------------------------- files
class FileWriteError(OSError):
    """Writing a file failed (disk full, permission denied, ...); ``str`` is one line naming
    the file, ``errno`` and ``filename`` are kept."""

    def __str__(self) -> str:
        return str(self.strerror)


class ModelFileError(ValueError):
    """A model file that cannot be loaded (corrupt, truncated, pickled, newer, inconsistent)."""


class DescriptionError(ValueError):
    """A model description that is malformed or does not fit the stored arrays."""


class DataFileError(ValueError):
    """A data file whose content cannot be used (damaged, malformed or inconsistent); the
    one-line message names the file."""


# ---------------------------------------------------------------------- data
class DataError(ValueError):
    """Inputs or targets that cannot be used as given (labels, feature names, integers a float
    dtype cannot hold, an ambiguous task): one line naming the problem and its fix."""


class AmbiguousTaskError(DataFileError, DataError):
    """Targets whose task cannot be guessed (class labels but for a few other numbers)."""


# ---------------------------------------------------------------------- training
class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped ``fit`` after a batch; the message says how to resume."""


class CompileError(Exception):
    """The training step cannot be compiled; the message says what stopped the tracer."""


class JitFallbackWarning(UserWarning):
    """``jit=True`` was asked for but the step runs eagerly (the message says why)."""


class SymmetryWarning(UserWarning):
    """A layer's units start identical, so gradient descent can never tell them apart."""


# ---------------------------------------------------------------------- checks and export
class GradientCheckError(AssertionError):
    """``GradCheckReport.raise_if_failed()``: the analytic gradient disagrees with the numeric."""


class NonFiniteError(ValueError):
    """A NaN or infinity in a checked tensor, in f's value or in backprop's gradient."""


class OnnxExportError(ValueError):
    """The model cannot be exported (the message names the layer or activation), or the opset
    asked for cannot hold it."""


class OpsetError(OnnxExportError):
    """The opset asked for is outside what onnx knows, or too low for the model."""


# ---------------------------------------------------------------------- experiments
class SpaceError(ValueError):
    """A search space that cannot be sampled (bad bounds, an unknown dimension)."""


class StudyFileError(ValueError):
    """A study file that cannot be used (not SQLite, not a study, newer, other settings)."""


# ---------------------------------------------------------------------- the CLI and the playground
class UsageError(Exception):
    """A command used wrongly (exit code 2)."""


class CommandError(Exception):
    """A command that could not do its work (exit code 1)."""


class MessageError(ValueError):
    """A message the playground refuses; the text is shown on the page."""


class TrainingFailed(RuntimeError):
    """The loss stopped being a number: the run is stopped until a reset or a new setup (the
    message says why; the snapshot's ``diverged`` keeps saying it)."""


__all__ = [
    "AmbiguousTaskError",
    "CommandError",
    "CompileError",
    "DataError",
    "DataFileError",
    "DerivativeCheckError",
    "DescriptionError",
    "FileWriteError",
    "GradientCheckError",
    "GraphFreedError",
    "JitFallbackWarning",
    "MessageError",
    "MissingLogKeyError",
    "ModelFileError",
    "NonFiniteError",
    "OnnxExportError",
    "OpsetError",
    "ShapeError",
    "SpaceError",
    "StudyFileError",
    "SymmetryWarning",
    "TrainingFailed",
    "TrainingInterrupted",
    "UnknownActivationError",
    "UnknownDatasetError",
    "UnknownLayerError",
    "UnknownInitializerError",
    "UnknownNameError",
    "UsageError",
]
