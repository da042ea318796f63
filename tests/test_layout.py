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


def module_imports(source: str, name: str, is_package: bool) -> set[str]:
    """The tensorrec modules a module imports at module level (``from a import b`` counts as
    ``a.b`` when that is a module, else ``a``)."""
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m == "tensorrec" or m.startswith("tensorrec.")}


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    return {
        name: {m for m in module_imports(path.read_text(), name, path.name == "__init__.py") if m in files}
        for name, path in files.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted; a package
    importing its own submodules (``__init__`` re-exports) is not a circle."""
    graph = {a: {b for b in bs if not b.startswith(a + ".")} for a, bs in graph.items()}
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
    (pkg / "optim" / "c.py").write_text("def h():\n    from tensorrec.optim import b\n")
    # b -> c under TYPE_CHECKING and c -> b inside a function do not count: only a <-> b
    assert cycles(import_graph(pkg)) == [["tensorrec.optim.a", "tensorrec.optim.b"]]
