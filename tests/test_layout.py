"""The code's layout, read from the source alone (``ast``, nothing imported): layers, cycles, function length.

The layers run from the Lambda code up to the tools built on the sandbox. A module may import its
own layer and the ones below it, never one above; ``sandbox/__init__.py`` says why the sandbox's
own layers are in this order. Every import counts, including those under ``TYPE_CHECKING`` and
those inside functions: a type-only circle is still a circle to a reader.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("handlers", "event_schemas", "components", "sandbox", "cost", "acceptance")
# Lowest first. A module's layer is the longest entry its dotted name starts with.
LAYERS = (
    "handlers",
    "event_schemas",
    "components",
    "sandbox.program",
    "sandbox.functions",
    "sandbox.api",
    "sandbox.delivery",
    "sandbox.aws",
    "sandbox.console",
    "sandbox",
    "sandbox.__main__",
    "cost",
    "acceptance",
)
MAX_FUNCTION_LINES = 60


def module_name(path: Path) -> str:
    """``sandbox/aws/endpoint.py`` -> ``sandbox.aws.endpoint``; a package is its ``__init__``."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def imported(tree: ast.Module, name: str, is_package: bool, known: set[str]) -> Iterator[str]:
    """The project modules ``tree`` imports (``from a import b`` is ``a.b`` when that is a module)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


@cache
def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (parsed once per test process)."""
    modules = sources()
    known = set(modules)
    return {
        name: set(imported(ast.parse(path.read_text()), name, path.name == "__init__.py", known))
        for name, path in modules.items()
    }


def layer(module: str) -> int:
    """The index in :data:`LAYERS` of the longest entry ``module`` falls under."""
    matches = [i for i, entry in enumerate(LAYERS) if module == entry or module.startswith(entry + ".")]
    assert matches, f"{module} is in no layer: add its package to LAYERS"
    return max(matches, key=lambda i: len(LAYERS[i]))


def unit(module: str) -> str:
    """The package a module belongs to (a package's ``__init__`` belongs to its parent)."""
    return module.rpartition(".")[0] or module


def first_line(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """The line a function starts on, its decorators included."""
    return min([node.lineno, *(d.lineno for d in node.decorator_list)])


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_cycles_are_found() -> None:
    # GIVEN a graph with one circle of three and a self-contained chain
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": set()}
    # WHEN its cycles are listed
    # THEN the circle is the one cycle
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_module_imports_in_a_circle() -> None:
    # GIVEN every import between the project's modules
    graph = import_graph()
    # WHEN the strongly connected parts are listed
    # THEN there are none
    assert cycles(graph) == []


def test_no_package_imports_in_a_circle() -> None:
    # GIVEN the imports between packages (sandbox.aws, sandbox.delivery, components, ...)
    packages: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        packages.setdefault(unit(module), set()).update(unit(t) for t in targets if unit(t) != unit(module))
    # WHEN the strongly connected parts are listed
    # THEN there are none
    assert cycles(packages) == []


def test_no_import_runs_up_a_layer() -> None:
    # GIVEN every import between the project's modules
    graph = import_graph()
    # WHEN each is compared with the layers
    upward = sorted(
        f"{module} ({LAYERS[layer(module)]}) imports {target} ({LAYERS[layer(target)]})"
        for module, targets in graph.items()
        for target in targets
        if layer(target) > layer(module)
    )
    # THEN none runs from a lower layer to a higher one
    assert upward == []


def test_an_upward_import_is_caught() -> None:
    # GIVEN a handler that imported the sandbox
    # WHEN its layer is compared with the sandbox's
    # THEN the sandbox's is higher
    assert layer("sandbox.aws.endpoint") > layer("handlers.orders")
    assert layer("sandbox.__main__") > layer("sandbox.runtime") > layer("sandbox.aws.emulation")


@pytest.mark.parametrize("package", ["components", "sandbox", "acceptance"])
def test_every_function_is_at_most_60_lines(package: str) -> None:
    # GIVEN every function and method of the package, decorators included
    lengths = {
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}": node.end_lineno - first_line(node) + 1
        for path in sorted((ROOT / package).rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None
    }
    # WHEN their lengths are measured
    too_long = {where: n for where, n in lengths.items() if n > MAX_FUNCTION_LINES}
    # THEN none is over the limit
    assert lengths
    assert too_long == {}
