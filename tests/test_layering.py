"""The layering of ``src/chainrule``, as a test: no module imports one of a higher layer.

An AST walk over every file (no import-linter, no new dependency) collects each ``import`` of a
chainrule module: at module level, inside functions (lazy, "on use") and under ``TYPE_CHECKING``
alike. ``LAYERS`` is the one table of where each module sits, lowest first; a module may import
its own layer and the layers below. The few imports that go up are listed, each with its reason,
in ``UPWARD_AT_IMPORT`` (module level) and ``UPWARD_ON_USE`` (inside a function); a listed import
that is no longer made fails too, so the lists stay true.

The issue's sketch had ``losses``/``optim``/``init`` above ``nn``; they sit below it because that
is how the code depends: ``Dense`` draws its weights with ``init`` and takes its penalties
(``losses.L2``) from ``losses``, and none of the three knows about layers.

Run as a script (``python tests/test_layering.py``) it prints the import cycles.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "chainrule"

# Lowest first. A name covers the module and, for a package, everything inside it; "__init__" is
# the package chainrule itself (its public surface, above everything it re-exports).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "foundation",
        (
            "_version",
            "errors",
            "dtypes",
            "grad_mode",
            "atomic",
            "archive",
            "naming",
            "special",
            "selection",
            "progress",
            "fast",
        ),
    ),
    ("tensor", ("_tensor",)),
    ("ops", ("ops", "autograd")),
    ("activations", ("activations",)),
    (
        "init, losses, optim, metrics, datasets",
        ("init", "losses", "optim", "metrics", "datasets", "data_path"),
    ),
    ("nn", ("nn",)),
    (
        "models: Model, Sequential, fit",
        ("training", "models", "compiler", "dense_step", "fused_loss", "callbacks", "protocols"),
    ),
    (
        "tools: diagnostics, gradcheck, graph, plot, serialization",
        (
            "diagnostics",
            "bias_variance",
            "explain",
            "gradient_check",
            "graph",
            "plot",
            "notebook",
            "serialization",
            "model_file_schema",
            "onnx_export",
        ),
    ),
    (
        "interfaces: cli, playground",
        ("__init__", "__main__", "cli", "experiments", "playground", "sklearn"),
    ),
)

# (importer, imported) → why this module-level import goes up.
UPWARD_AT_IMPORT: dict[tuple[str, str], str] = {
    ("_tensor", "ops"): "Tensor's operators (+, @, .sum()) are the ops; imported at the end of "
    "_tensor, once Tensor exists",
    ("nn.layers", "model_file_schema"): "each layer checks its own stored description with the "
    "schema's field checks (which import only errors at load)",
}
# (importer, imported) → why this import inside a function goes up.
UPWARD_ON_USE: dict[tuple[str, str], str] = {
    ("training", "serialization"): "Model.save and fit's checkpoints write the model file",
    ("training", "diagnostics"): "Model.health, and fit's health monitor",
    ("training", "gradient_check"): "Model.gradcheck",
    ("training", "explain"): "Model.explain",
    ("training", "onnx_export"): "Model.export_onnx",
    ("training", "notebook"): "Model._repr_html_ (notebooks)",
    ("callbacks", "notebook"): "History._repr_html_ (notebooks)",
    ("callbacks", "bias_variance"): "History.bias_variance",
    ("nn", "models"): "the deprecated path chainrule.nn.Sequential",
}


@dataclass(frozen=True)
class Import:
    importer: str  # module names relative to chainrule; "__init__" is the package itself
    imported: str
    line: int
    on_use: bool  # inside a function
    type_only: bool = False  # under `if TYPE_CHECKING:`: seen by the layers, never run


def module_names(source: Path = SOURCE) -> dict[str, Path]:
    names = {}
    for path in sorted(source.rglob("*.py")):
        parts = list(path.relative_to(source).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts.pop()
        names[".".join(parts)] = path
    return names


def _known(name: str, modules: dict[str, Path]) -> str:
    """The module ``name`` is in: itself, or the nearest package above it."""
    while name not in modules and "." in name:
        name = name.rpartition(".")[0]
    return name if name in modules else "__init__"


def imports(source: Path = SOURCE) -> list[Import]:
    """Every import of a chainrule module by a chainrule module (self-imports left out)."""
    modules = module_names(source)
    found = []
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        if module == "__init__":
            package = ""
        tree = ast.parse(path.read_text(encoding="utf-8"))
        type_only = {
            id(inner)
            for block in ast.walk(tree)
            if _only_for_type_checkers(block)
            for inner in ast.walk(block)
        }
        for node, on_use in _import_nodes(tree):
            for target in _targets(node, package, modules):
                if target != module:
                    found.append(Import(module, target, node.lineno, on_use, id(node) in type_only))
    return found


def _import_nodes(tree: ast.AST) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    def walk(node: ast.AST, on_use: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child, on_use
            inside = on_use or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
            )
            yield from walk(child, inside)

    return walk(tree, False)


def _only_for_type_checkers(node: ast.AST) -> bool:
    test = getattr(node, "test", None) if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(
    node: ast.Import | ast.ImportFrom, package: str, modules: dict[str, Path]
) -> list[str]:
    """The chainrule modules (relative names) that ``node`` imports; [] for other packages."""
    if isinstance(node, ast.Import):
        return [
            _known(_relative(alias.name), modules)
            for alias in node.names
            if alias.name.split(".")[0] == "chainrule"
        ]
    if node.level:
        base = package.split(".") if package else []
        base = base[: len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    elif node.module and node.module.split(".")[0] == "chainrule":
        source = _relative(node.module)
        source = "" if source == "__init__" else source
    else:
        return []
    # `from . import nn` imports the module chainrule.nn; `from .nn import Dense` chainrule.nn;
    # `from . import __version__` the package itself.
    targets = []
    for alias in node.names:
        name = f"{source}.{alias.name}" if source else alias.name
        targets.append(name if name in modules else _known(source or "__init__", modules))
    return sorted(set(targets))


def _relative(name: str) -> str:
    return name.partition(".")[2] or "__init__"


def layer_table() -> dict[str, int]:
    return {name: rank for rank, (_, names) in enumerate(LAYERS) for name in names}


def layer_of(module: str, table: dict[str, int]) -> int:
    name = module
    while name not in table and "." in name:
        name = name.rpartition(".")[0]
    if name not in table:
        raise KeyError(f"chainrule.{module} is in no layer of tests/test_layering.py's LAYERS")
    return table[name]


def upward(found: list[Import]) -> list[Import]:
    table = layer_table()
    return [i for i in found if layer_of(i.imported, table) > layer_of(i.importer, table)]


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """The elementary cycles of a directed graph, each from its smallest node (small graphs)."""
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        graph.setdefault(source, set()).add(target)
    found = []
    for start in sorted(graph):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph.get(node, ())):
                if nxt == start:
                    found.append(path)
                elif nxt > start and nxt not in path:
                    stack.append((nxt, [*path, nxt]))
    return sorted(found)


# ---------------------------------------------------------------------- tests
def test_every_module_is_in_exactly_one_layer_and_every_name_is_a_module():
    modules = module_names()
    listed = [name for _, names in LAYERS for name in names]
    assert len(listed) == len(set(listed)), "a module is listed in two layers"
    assert sorted(set(listed) - set(modules)) == [], "LAYERS names modules that do not exist"
    table = layer_table()
    unmapped = []
    for module in modules:
        try:
            layer_of(module, table)
        except KeyError:
            unmapped.append(module)
    assert unmapped == [], f"add these modules to LAYERS in tests/test_layering.py: {unmapped}"


def test_no_module_imports_a_higher_layer_except_the_listed_ones():
    allowed = {**UPWARD_AT_IMPORT, **UPWARD_ON_USE}
    names = [name for name, _ in LAYERS]
    table = layer_table()
    bad = [
        f"chainrule.{i.importer} (layer {names[layer_of(i.importer, table)]!r}) imports "
        f"chainrule.{i.imported} (layer {names[layer_of(i.imported, table)]!r}) at line "
        f"{i.line}"
        for i in upward(imports())
        if (i.importer, i.imported) not in allowed
    ]
    assert bad == []


def test_the_listed_upward_imports_are_made_and_where_they_are_listed():
    made = upward(imports())
    at_import = {(i.importer, i.imported) for i in made if not i.on_use}
    on_use = {(i.importer, i.imported) for i in made if i.on_use}
    assert sorted(set(UPWARD_AT_IMPORT) - at_import) == [], "stale entries in UPWARD_AT_IMPORT"
    assert sorted(set(UPWARD_ON_USE) - on_use) == [], "stale entries in UPWARD_ON_USE"
    # An allowed import inside a function must not also be made at import time.
    assert sorted(set(UPWARD_ON_USE) & at_import) == []
    assert all(reason.strip() for reason in {**UPWARD_AT_IMPORT, **UPWARD_ON_USE}.values())


def test_module_level_imports_have_no_cycle_but_the_tensor_and_ops():
    found = imports()
    edges = {(i.importer, i.imported) for i in found if not (i.on_use or i.type_only)}
    assert cycles(edges) == [["_tensor", "ops"]]


def test_nn_no_longer_needs_training_to_import():
    found = imports()
    module_level = {(i.importer, i.imported) for i in found if not i.on_use}
    reach, todo = set(), ["nn"]
    while todo:
        node = todo.pop()
        for source, target in module_level:
            if source == node and target not in reach:
                reach.add(target)
                todo.append(target)
    assert "training" not in reach and "models" not in reach and "nn.layers" in reach


def test_the_walk_sees_relative_absolute_lazy_and_type_checking_imports(tmp_path):
    package = tmp_path / "chainrule"
    (package / "nn").mkdir(parents=True)
    (package / "__init__.py").write_text("from . import nn\n__version__ = '0'\n")
    (package / "tensor.py").write_text("import numpy\nfrom . import ops\n")
    (package / "ops.py").write_text("from .tensor import Tensor\n")
    (package / "nn" / "__init__.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..training import Model\n"
        "def f():\n    import chainrule.ops\n    from .. import __version__\n"
    )
    (package / "training.py").write_text("from chainrule.nn import Dense\n")
    found = {(i.importer, i.imported, i.on_use) for i in imports(package)}
    assert found == {
        ("__init__", "nn", False),
        ("tensor", "ops", False),
        ("ops", "tensor", False),
        ("nn", "training", False),
        ("nn", "ops", True),
        ("nn", "__init__", True),
        ("training", "nn", False),
    }
    assert cycles({(a, b) for a, b, _ in found}) == [
        ["__init__", "nn"],
        ["nn", "training"],
        ["ops", "tensor"],
    ]


def test_layer_of_names_an_unmapped_module():
    with pytest.raises(KeyError, match=r"chainrule\.brand_new is in no layer"):
        layer_of("brand_new", layer_table())
    assert layer_of("activations.modern", layer_table()) == layer_of("activations", layer_table())


if __name__ == "__main__":
    everything = imports()
    for label, chosen in (
        ("module level", [i for i in everything if not i.on_use]),
        ("module level and on use", everything),
    ):
        loops = cycles({(i.importer, i.imported) for i in chosen})
        print(f"{label}: {len(loops)} import cycles")
        for loop in loops:
            print("   ", " → ".join([*loop, loop[0]]))
