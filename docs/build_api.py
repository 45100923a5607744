"""Build the API reference from the docstrings: ``python docs/build_api.py [OUTPUT_DIR]``.

It documents ``chainrule`` and what its ``__all__`` exports (the curated public surface),
plus ``chainrule.sklearn`` (public, but not imported by ``chainrule`` since it needs
scikit-learn). Needs ``pip install pdoc``. Any warning pdoc gives (a name in ``__all__`` that
does not resolve, a broken cross-reference) fails the build: the tests run it that way.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

# Public modules that ``chainrule`` does not import itself (they need optional extras).
OPTIONAL_PUBLIC_MODULES = ("chainrule.sklearn",)


def build(output: Path) -> list[Path]:
    """Write the HTML reference into ``output``; returns the pages written."""
    import pdoc
    import pdoc.render

    import chainrule

    # Lazily loaded names (``chainrule.draw_graph``, ...) exist only after first use:
    # resolve them, so pdoc documents what ``__all__`` promises.
    for name in chainrule.__all__:
        setattr(chainrule, name, getattr(chainrule, name))
    pdoc.render.configure(docformat="google")  # Args:/Returns:/Raises: sections
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pdoc.pdoc("chainrule", *OPTIONAL_PUBLIC_MODULES, output_directory=output)
    return sorted(output.rglob("*.html"))


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/api")
    pages = build(target)
    print(f"Wrote {len(pages)} pages of API reference to {target}")
