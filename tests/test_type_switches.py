"""Issue 28: no type switches on the library's concrete classes.

A feature that needs ``isinstance`` on a concrete tensorrec class should ask the object for a
capability instead (``Manifold.is_euclidean``, the stopping rules' ``is_budget`` /
``checks_descent`` / ``needs_rel_change``, ...), so that a class written outside the library
is treated as the library's own. This test reads the source (AST, no import of the checked
modules) and lists every ``isinstance`` / ``issubclass`` / ``type(x) is C`` (also ``in (A, B)``
and ``x.__class__``) / ``case C()`` whose class C is a concrete class defined in
``tensorrec``; each must be in :data:`ALLOWED` with the one-line reason the issue's closing
note gives for it, and every entry of :data:`ALLOWED` must still occur (the list is the
truth, not a history).

Not counted: checks against an interface (a ``typing.Protocol``, or one of the base classes
in :data:`INTERFACES` that users subclass to extend the library: asking "is this a Manifold"
is the protocol, not a switch); the interop modules (:data:`INTEROP`), whose job is to
convert between named classes; ``functools.singledispatch`` registrations (dispatch by type
is what they are, and they are extensible: ``f.register(MyFormat)``); classes of other
packages (torch, numpy, geoopt, sae-lens ...).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tensorrec"

INTEROP = {"tensorrec/formats/interop.py", "tensorrec/manifolds/interop.py"}
"""Conversion to and from other libraries' classes: allowed wholesale."""

INTERFACES = {
    "Manifold": "the manifold interface (DESIGN 2): a user's manifold subclasses it",
    "Operator": "the operator interface: a user's operator subclasses it (evaluation by dispatch)",
    "Objective": "the objective interface: a user's cost subclasses it (or is a plain callable)",
    "StoppingRule": "the stopping-rule interface: a user's rule subclasses it and declares its capabilities",
    "POVM": "the measurement-family interface of the quantum package (ProductFamily, GlobalFamily, a user's)",
}
"""Base classes that are the library's extension points (a check against one is a protocol
check). typing.Protocol classes are found in the source."""

VALIDATES = "argument check"
"""Reasons that start so are argument validations: every such use must guard a ``raise``
(``if not isinstance(arg, C): raise TypeError(...)``), never select behaviour."""

ALLOWED = {
    # (module, enclosing function, class): reason
    ("tensorrec/formats/base.py", "ManifoldOptions.resolve", "ManifoldOptions"): (
        "options is a ManifoldOptions or (the deprecated positional style) the bare value of the "
        "first option: the argument's own two spellings, normalized before any work"
    ),
    ("tensorrec/formats/base.py", "FormatFactory.__eq__", "FormatFactory"): (
        "__eq__ compares with its own class (the Python equality idiom)"
    ),
    ("tensorrec/formats/lpdo.py", "LPDO.__init__", "TTTensor"): (
        f"{VALIDATES}: an LPDO is built on its own component, an MPS purification (TTTensor)"
    ),
    ("tensorrec/landscape/hessian.py", "check_problem", "Problem"): (
        f"{VALIDATES}: problem must be the core's Problem (manifold + objective + preconditioner)"
    ),
    ("tensorrec/landscape/search.py", "find_critical_points", "Problem"): (
        f"{VALIDATES}: problem must be the core's Problem"
    ),
    ("tensorrec/optim/prox.py", "proximal_gradient", "Problem"): (
        f"{VALIDATES}: problem must be the core's Problem"
    ),
    ("tensorrec/optim/rgd.py", "rgd", "Problem"): f"{VALIDATES}: problem must be the core's Problem",
    ("tensorrec/optim/trust_region.py", "trust_region", "Problem"): (
        f"{VALIDATES}: problem must be the core's Problem"
    ),
    ("tensorrec/quantum/estimators.py", "estimate", "Outcomes"): (
        f"{VALIDATES}: outcomes must be the package's Outcomes (frequencies + POVM, validated)"
    ),
    ("tensorrec/quantum/starts.py", "product_start", "Outcomes"): (
        f"{VALIDATES}: outcomes must be the package's Outcomes"
    ),
    ("tensorrec/quantum/observables.py", "_check_outcomes", "Outcomes"): (
        f"{VALIDATES}: outcomes must be the package's Outcomes"
    ),
    ("tensorrec/quantum/peps.py", "estimate_peps", "Outcomes"): (
        f"{VALIDATES}: outcomes must be the package's Outcomes"
    ),
    ("tensorrec/quantum/resampling.py", "bootstrap", "Outcomes"): (
        f"{VALIDATES}: outcomes must be the package's Outcomes"
    ),
    ("tensorrec/quantum/shadows.py", "classical_shadow", "Outcomes"): (
        f"{VALIDATES}: outcomes must be the package's Outcomes"
    ),
    ("tensorrec/sae/model.py", "train", "SAE"): f"{VALIDATES}: sae must be the package's SAE module",
    ("tensorrec/sae/saelens.py", "to_sae_lens", "SAE"): (
        f"{VALIDATES}: model must be the package's SAE (the conversion reads its parameters)"
    ),
    ("tensorrec/sweep/core.py", "Runner.__init__", "Store"): (
        "store is a Store, a path or None (checked, raising TypeError otherwise); a path becomes a Store"
    ),
}


@dataclasses.dataclass(frozen=True)
class Use:
    module: str
    where: str  # the enclosing function's qualified name ("<module>" at top level)
    cls: str
    line: int
    guards_raise: bool  # under ``not``, in the test of an ``if`` whose body is one ``raise``

    def __str__(self) -> str:
        return f"{self.module}:{self.line} in {self.where}: {self.cls}"


def _classes(tree: ast.AST, index: dict[str, bool]) -> dict[str, bool]:
    """``index`` with the classes defined in ``tree``: name -> whether it is an interface (a
    Protocol or one of :data:`INTERFACES`; a name defined twice is concrete if either is)."""
    index = dict(index)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
            interface = "Protocol" in bases or node.name in INTERFACES
            index[node.name] = index.get(node.name, True) and interface
    return index


@functools.cache
def _package_trees(package: pathlib.Path = PACKAGE) -> dict[str, ast.Module]:
    """The package's modules, parsed once: path relative to the repository root -> tree."""
    return {
        path.relative_to(package.parent).as_posix(): ast.parse(path.read_text(), str(path))
        for path in sorted(package.rglob("*.py"))
    }


def class_index(package: pathlib.Path = PACKAGE) -> dict[str, bool]:
    """Every class name defined in the package -> whether it is an interface."""
    index: dict[str, bool] = {}
    for tree in _package_trees(package).values():
        index = _classes(tree, index)
    return index


def _bindings(tree: ast.Module, index: dict[str, bool]) -> tuple[dict[str, str], set[str]]:
    """Names bound to tensorrec classes in a module (its own classes, imports from tensorrec
    anywhere in it, aliases included) and names bound to tensorrec modules."""
    classes = {n.name: n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("tensorrec")):
            for alias in node.names:
                if alias.name in index:
                    classes[alias.asname or alias.name] = alias.name
                else:  # a module (from tensorrec import optim) or a function
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "tensorrec":
                    modules.add(alias.asname or alias.name.split(".")[0])
    return classes, modules


class _Finder(ast.NodeVisitor):
    def __init__(self, module: str, index: dict[str, bool], classes: dict[str, str], modules: set[str]):
        self.module, self.index, self.classes, self.modules = module, index, classes, modules
        self.scope: list[str] = []
        self.class_stack: list[str] = []
        self.owner_of_cls: list[str | None] = []  # the class that ``cls`` names in a classmethod
        self.guarded: set[int] = set()  # ids of calls under ``not`` in an if-test guarding a raise
        self.uses: list[Use] = []

    # --- scopes -----------------------------------------------------------------------------
    def visit_ClassDef(self, node):
        self.scope.append(node.name)
        self.class_stack.append(node.name)
        self.generic_visit(node)
        self.class_stack.pop()
        self.scope.pop()

    def visit_FunctionDef(self, node):
        args = node.args.posonlyargs + node.args.args
        first = args[0].arg if args else None
        in_class = bool(self.class_stack) and self.scope and self.scope[-1] == self.class_stack[-1]
        self.owner_of_cls.append(self.class_stack[-1] if in_class and first == "cls" else None)
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()
        self.owner_of_cls.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node):
        if len(node.body) == 1 and isinstance(node.body[0], ast.Raise):
            for sub in ast.walk(node.test):
                if isinstance(sub, ast.UnaryOp) and isinstance(sub.op, ast.Not):
                    self.guarded.update(id(c) for c in ast.walk(sub.operand) if isinstance(c, ast.Call))
        self.generic_visit(node)

    # --- class references -------------------------------------------------------------------
    def _resolve(self, node) -> list[str]:
        """The tensorrec classes an expression names (a name, a dotted name, a tuple, ``cls``)."""
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return [c for e in node.elts for c in self._resolve(e)]
        if isinstance(node, ast.Name):
            if node.id == "cls" and self.owner_of_cls and self.owner_of_cls[-1]:
                return [self.owner_of_cls[-1]]
            return [self.classes[node.id]] if node.id in self.classes else []
        if isinstance(node, ast.Attribute):
            root = node
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in self.modules and node.attr in self.index:
                return [node.attr]
            return []
        return []  # type(self), a variable: no class named here

    @staticmethod
    def _is_type_call(node) -> bool:
        """``type(x)`` or ``x.__class__``."""
        if isinstance(node, ast.Attribute):
            return node.attr == "__class__"
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "type"
            and len(node.args) == 1
        )

    def _record(self, node, targets, guards_raise=False):
        for cls in self._resolve(targets):
            if not self.index.get(cls, True):
                where = ".".join(self.scope) or "<module>"
                self.uses.append(Use(self.module, where, cls, node.lineno, guards_raise))

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("isinstance", "issubclass") and len(node.args) == 2:
            self._record(node, node.args[1], id(node) in self.guarded)
        self.generic_visit(node)

    def visit_Compare(self, node):
        sides = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, sides[:-1], sides[1:], strict=True):
            if isinstance(op, (ast.Is, ast.IsNot, ast.Eq, ast.NotEq)):
                if self._is_type_call(left):
                    self._record(node, right)
                elif self._is_type_call(right):
                    self._record(node, left)
            elif isinstance(op, (ast.In, ast.NotIn)) and self._is_type_call(left):
                self._record(node, right)  # type(x) in (A, B)
        self.generic_visit(node)

    def visit_MatchClass(self, node):
        self._record(node, node.cls)
        self.generic_visit(node)


def type_switches(source: str, module: str, index: dict[str, bool]) -> list[Use]:
    """Every check of an object against a concrete tensorrec class in ``source`` (the text of
    ``module``, a path relative to the repository root); none for an interop module."""
    return _switches(ast.parse(source, module), module, index)


def _switches(tree: ast.Module, module: str, index: dict[str, bool]) -> list[Use]:
    if module in INTEROP:
        return []
    index = _classes(tree, index)
    classes, modules = _bindings(tree, index)
    finder = _Finder(module, index, classes, modules)
    finder.visit(tree)
    return sorted(finder.uses, key=lambda u: u.line)


def package_switches(package: pathlib.Path = PACKAGE) -> list[Use]:
    index = class_index(package)
    return [use for module, tree in _package_trees(package).items() for use in _switches(tree, module, index)]


def disallowed(uses: list[Use]) -> list[str]:
    """The uses that break the rule: not in :data:`ALLOWED`, or an argument check that does
    not guard a raise."""
    bad = []
    for use in uses:
        reason = ALLOWED.get((use.module, use.where, use.cls))
        if reason is None:
            bad.append(f"{use}: a type switch on a concrete class (ask for a capability instead)")
        elif reason.startswith(VALIDATES) and not use.guards_raise:
            bad.append(f"{use}: listed as an argument check but it does not guard a raise")
    return bad


@pytest.fixture(scope="module")
def uses() -> list[Use]:
    return package_switches()


def test_every_concrete_class_check_in_the_library_is_listed_with_its_reason(uses):
    assert not disallowed(uses), "\n".join(disallowed(uses))


def test_every_listed_check_still_exists(uses):
    found = {(u.module, u.where, u.cls) for u in uses}
    stale = sorted(set(ALLOWED) - found)
    assert not stale, f"ALLOWED lists checks that are gone (remove them): {stale}"


DOCTORED = """
from tensorrec.manifolds import Euclidean, Manifold
from tensorrec.optim import stopping as st
import tensorrec as tr


def step(manifold, rule, x):
    if not isinstance(manifold, Manifold):  # the interface: a protocol check, fine
        raise TypeError("manifold: expected a Manifold")
    if isinstance(manifold, Euclidean):  # a switch
        return x
    if type(rule) is st.MaxIter or issubclass(type(rule), tr.optim.Stall):  # two more
        return None
    match rule:
        case st.RelChange():  # and one in a match
            return x


def other(rule, manifold):
    if type(rule) in (st.GradNorm, st.TimeLimit) or manifold.__class__ is Euclidean:  # three more
        return None


class Options:
    @classmethod
    def make(cls, value):
        return value if isinstance(value, cls) else cls()  # the own class through cls


def check(problem):
    if not isinstance(problem, tr.optim.Problem):
        raise TypeError("problem: expected a Problem")
"""


def test_the_checker_finds_a_new_switch_in_a_doctored_source():
    index = class_index()
    found = type_switches(DOCTORED, "tensorrec/optim/doctored.py", index)
    assert [(u.where, u.cls) for u in found] == [
        ("step", "Euclidean"),
        ("step", "MaxIter"),
        ("step", "Stall"),
        ("step", "RelChange"),
        ("other", "GradNorm"),
        ("other", "TimeLimit"),
        ("other", "Euclidean"),
        ("Options.make", "Options"),
        ("check", "Problem"),
    ]
    assert [u.guards_raise for u in found] == [False] * 8 + [True]
    assert len(disallowed(found)) == 9  # none of them is listed for this module
    assert type_switches(DOCTORED, "tensorrec/manifolds/interop.py", index) == []  # interop: exempt
    # a listed argument check that selects behaviour instead of raising is refused too
    moved = [dataclasses.replace(u, module="tensorrec/optim/rgd.py", where="rgd") for u in found[-1:]]
    assert disallowed(moved) == []
    assert disallowed([dataclasses.replace(moved[0], guards_raise=False)]) != []


def test_the_index_tells_interfaces_from_concrete_classes():
    index = class_index()
    assert index["Format"] and index["StepRule"] and index["Loss"]  # typing.Protocol
    assert all(index[name] for name in INTERFACES)
    assert not index["Euclidean"] and not index["Problem"] and not index["MaxIter"]
