"""The package's layout rules (issue 28): no module over 600 lines, and no import circle between
modules (module-level imports; imports inside functions and under ``TYPE_CHECKING`` are
deliberate late bindings and not counted). The layer contract itself is import-linter's
(``make lint``)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "tensorrec"
MAX_LINES = 600


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_level(body: list[ast.stmt]):
    """The statements run at import: the module's own, and those inside its module-level
    ``if`` (not ``if TYPE_CHECKING``), ``try`` and ``with`` blocks; not function or class bodies."""
    for node in body:
        if isinstance(node, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                yield from _module_level(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            handlers = [stmt for handler in node.handlers for stmt in handler.body]
            yield from _module_level(node.body + handlers + node.orelse + node.finalbody)
        elif isinstance(node, ast.With):
            yield from _module_level(node.body)
        else:
            yield node


def module_imports(source: str, name: str, is_package: bool, modules: set[str]) -> set[str]:
    """The tensorrec modules a module imports at module level: ``import a`` counts as ``a``,
    ``from a import b`` as ``a.b`` when that is one of ``modules``, else as ``a`` (whose
    ``__init__`` then runs)."""
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _module_level(ast.parse(source).body):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names)
    return {m for m in found if m == "tensorrec" or m.startswith("tensorrec.")}


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    return {
        name: module_imports(path.read_text(), name, path.name == "__init__.py", set(files)) & set(files)
        for name, path in files.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted. A package's
    ``__init__`` importing its submodules is an edge like any other, so a submodule importing
    a name from its own package's ``__init__`` closes a circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_module_over_600_lines():
    long = {
        str(p.relative_to(ROOT.parent)): n
        for p in ROOT.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines (split them by idea): {long}"


def test_no_import_circle():
    assert cycles(import_graph()) == []


def test_checker_finds_a_doctored_circle(tmp_path):
    pkg = tmp_path / "tensorrec"
    (pkg / "optim").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from tensorrec import optim\n")
    (pkg / "optim" / "__init__.py").write_text("")
    (pkg / "optim" / "a.py").write_text("from tensorrec.optim.b import g\n")
    (pkg / "optim" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from tensorrec.optim import c\n"
        "from .a import f\n"
    )
    (pkg / "optim" / "c.py").write_text(
        "def h():\n    from tensorrec.optim import b\ntry:\n    import numba\nexcept ImportError:\n"
        "    from tensorrec.optim.e import f\n"
    )
    (pkg / "optim" / "e.py").write_text("from tensorrec.optim.c import h\n")  # c <-> e through a try block
    # b -> c under TYPE_CHECKING and c -> b inside a function do not count: a <-> b and c <-> e
    assert cycles(import_graph(pkg)) == [
        ["tensorrec.optim.a", "tensorrec.optim.b"],
        ["tensorrec.optim.c", "tensorrec.optim.e"],
    ]
    (pkg / "optim" / "b.py").write_text("from tensorrec.optim import c\n")  # a submodule: no circle
    (pkg / "optim" / "e.py").write_text("")
    assert cycles(import_graph(pkg)) == []
    (pkg / "optim" / "__init__.py").write_text("from tensorrec.optim.d import f\n")
    (pkg / "optim" / "d.py").write_text("from tensorrec.optim import g\n")  # a name of the __init__
    assert cycles(import_graph(pkg)) == [["tensorrec.optim", "tensorrec.optim.d"]]
