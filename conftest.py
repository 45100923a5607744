"""Collection rules for the whole repository (tests/ and the doctests under src/)."""

from __future__ import annotations

import importlib.util

# The playground's server module imports the optional web extra at the top; without it, its
# doctests cannot even be collected (the web tests skip on their own).
collect_ignore: list[str] = []
if any(importlib.util.find_spec(name) is None for name in ("starlette", "uvicorn")):
    collect_ignore.append("src/chainrule/playground/server.py")
# chainrule.sklearn subclasses scikit-learn's estimators at import (the optional sklearn extra).
if importlib.util.find_spec("sklearn") is None:
    collect_ignore.append("src/chainrule/sklearn.py")
