"""The version of chainrule, written once: the package re-exports it, pyproject.toml reads it (a
setuptools dynamic attr) and the model files and ONNX exports record it."""

__version__ = "0.1.0"
