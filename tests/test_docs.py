"""The docs stand alone and every code example in them runs.

Two properties of the user documentation (``docs/*.rst``, ``README.md`` and the docstrings that
``docs/api.rst`` renders through autodoc):

* **Self-contained**: no text points at files a user does not have (the design notes and the
  capability specs live outside the repository). The definitions, claims and readings the docs
  need are on the Theory page (``docs/theory.rst``); a reference to a spec file or to "spec 4.2"
  fails here.
* **Every code block runs**. Which blocks are Python:

  - in ``docs/*.rst``: every ``.. code-block:: python`` block, and every ``::`` literal block whose
    text ``ast.parse`` accepts (write non-Python literal text as ``.. code-block:: text``);
    ``bash``/``text``/``none`` blocks are not run;
  - in ``README.md``: every fenced block opened with ```` ```python ````.

  **Every block stands alone**: a reader copies one block, not the page, so each block holds the
  imports and data it needs and runs in a fresh namespace. A block that deliberately goes on
  from the one before it says so with the rst comment ``.. continues`` on the line above its
  ``.. code-block::`` directive (or above the paragraph that opens a ``::`` block; in
  ``README.md`` ``<!-- continues -->`` above the fence): it runs in the namespace of the blocks
  before it. The blocks of one page run in order in one fresh interpreter (one interpreter per
  page: a fresh one per block would add an interpreter start and the library's import, about
  10 s on a loaded 2-core machine, per block), in a temporary directory, with threads pinned to
  one and ``MPLBACKEND=Agg``; an unmarked block gets a new namespace, so a name it takes from an
  earlier block fails with the NameError a reader would meet. Each block is compiled under its
  page's file name with its own line numbers, so a traceback names the page and line of the
  failing block. A block that contains ``if __name__ == "__main__":`` (the sweep example of
  ``docs/sweeps.rst``) runs as a script file (``python file.py``) with the blocks it continues
  above it, since that guard only matters when worker processes import the script again.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.rst"))

# References to files or documents users do not have.
OUTSIDE = [
    re.compile(r"shared/"),
    re.compile(r"specs/"),
    re.compile(r"\bspecs?\b(?:'s)?", re.IGNORECASE),  # "spec 1.5", "spec section 13", "the spec's"
    re.compile(r"DESIGN\.md"),
]


def outside_references(text: str) -> list[str]:
    """The lines of ``text`` that point at a file outside the repository (empty when none)."""
    return [line.strip() for line in text.splitlines() if any(p.search(line) for p in OUTSIDE)]


# ---------------------------------------------------------------------------------------------
# The docstrings autodoc renders
# ---------------------------------------------------------------------------------------------

_DIRECTIVE = re.compile(r"^\.\. auto(function|class|exception|data|module|method|attribute)::\s*(\S+)")
_MEMBERS = re.compile(r"^\s+:members:\s*(.*)$")


def autodoc_directives(page: Path) -> list[tuple[str, str, list[str] | None]]:
    """``(kind, dotted name, members)`` for every autodoc directive of ``page``.

    ``members`` is None without a ``:members:`` option, ``[]`` for a bare ``:members:`` (all
    public members) and the listed names otherwise.
    """
    lines = page.read_text().splitlines()
    found = []
    for i, line in enumerate(lines):
        match = _DIRECTIVE.match(line)
        if not match:
            continue
        members = None
        for option in lines[i + 1 :]:
            if not option.startswith("   ") or not option.strip():
                break
            listed = _MEMBERS.match(option)
            if listed:
                members = [m.strip() for m in listed.group(1).split(",") if m.strip()]
        found.append((match.group(1), match.group(2), members))
    return found


def resolve(dotted: str, kind: str = "function"):
    """The object ``.. auto<kind>:: dotted`` documents (a module, or an attribute path inside one).

    As autodoc does, a non-module directive takes the attribute of the longest importable parent
    (``tensorrec.recovery.recover`` is the function, not the module of that name).
    """
    if kind == "module":
        return importlib.import_module(dotted)
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(dotted)


def _public(names) -> list[str]:
    return [n for n in names if not n.startswith("_")]


def rendered_docstrings(pages=PAGES) -> dict[str, str]:
    """Every docstring the autodoc directives of ``pages`` (all of ``docs/*.rst``) render, by name.

    A bare ``:members:`` takes every public member defined in the module (or the class's own
    namespace), and for the classes among a module's members their own public members too: a
    superset of what autodoc shows, so nothing it renders escapes the check. ``autodata`` renders
    a source comment, not ``__doc__``, and is skipped.
    """
    docs: dict[str, str] = {}

    def add(name: str, obj) -> None:
        doc = inspect.getdoc(obj) if obj is not None else None
        if doc:
            docs[name] = doc

    def add_class_members(name: str, cls, members) -> None:
        names = _public(vars(cls)) if members == [] else members
        for member in names:
            add(f"{name}.{member}", inspect.getattr_static(cls, member, None))

    directives = [d for page in pages for d in autodoc_directives(page)]
    for kind, dotted, members in directives:
        if kind == "data":
            continue
        obj = resolve(dotted, kind)
        add(dotted, obj)
        if members is None:
            continue
        if inspect.ismodule(obj):
            if members == []:
                members = [
                    n
                    for n, v in vars(obj).items()
                    if not n.startswith("_") and getattr(v, "__module__", None) == obj.__name__
                ]
            for member in members:
                value = getattr(obj, member)
                add(f"{dotted}.{member}", value)
                if inspect.isclass(value):
                    add_class_members(f"{dotted}.{member}", value, [])
        elif inspect.isclass(obj):
            add_class_members(dotted, obj, members)
    return docs


def test_autodoc_collection_finds_the_api() -> None:
    docs = rendered_docstrings()
    assert len(docs) > 400, len(docs)  # every directive resolved, members included
    assert "tensorrec.recovery.recover" in docs
    assert "tensorrec.formats.TuckerTensor.to_dense" in docs
    assert "tensorrec.formats.contraction.plan" in docs


@pytest.mark.parametrize("path", [*PAGES, ROOT / "README.md"], ids=lambda p: p.name)
def test_pages_cite_no_outside_file(path: Path) -> None:
    assert outside_references(path.read_text()) == []


def test_rendered_docstrings_cite_no_outside_file() -> None:
    bad = {name: refs for name, doc in rendered_docstrings().items() if (refs := outside_references(doc))}
    assert bad == {}


def test_a_doctored_docstring_fails(monkeypatch) -> None:
    from tensorrec.recovery import recover

    before = len(outside_references(rendered_docstrings()["tensorrec.recovery.recover"]))
    monkeypatch.setattr(recover, "__doc__", recover.__doc__ + "\n    See spec 6.3 for the scale.\n")
    assert len(outside_references(rendered_docstrings()["tensorrec.recovery.recover"])) == before + 1
    monkeypatch.setattr(recover, "__doc__", recover.__doc__ + "\n    As in shared/specs/tucker_tt.md.\n")
    assert len(outside_references(rendered_docstrings()["tensorrec.recovery.recover"])) == before + 2
    assert outside_references("the spectral start respects the specification") == []


# ---------------------------------------------------------------------------------------------
# The scripts' docstrings: ``tensorrec experiments list`` and ``... run NAME --help`` show them
# ---------------------------------------------------------------------------------------------


def script_docstrings(root: Path = ROOT) -> dict[str, str]:
    """The module docstring of every experiment and theory check, by name.

    The scripts are those :func:`tensorrec.runner.discover` finds (what ``tensorrec experiments
    list`` lists); each docstring is read with ``ast``, without importing the script.
    """
    from tensorrec import runner

    return {s.name: ast.get_docstring(ast.parse(s.path.read_text())) or "" for s in runner.discover(root)}


def repository_texts() -> dict[str, str]:
    """The READMEs of ``benchmarks/`` and ``calibration/`` and the docstrings of their scripts."""
    texts = {}
    for folder in ("benchmarks", "calibration"):
        texts[f"{folder}/README.md"] = (ROOT / folder / "README.md").read_text()
        for path in sorted((ROOT / folder).glob("*.py")):
            texts[f"{folder}/{path.name}"] = ast.get_docstring(ast.parse(path.read_text())) or ""
    return texts


def test_script_docstrings_cite_no_outside_file() -> None:
    docs = script_docstrings()
    assert len(docs) >= 80 and "tt_tucker_c9_retraction" in docs and "tomo_peps_copies" in docs
    assert all(docs.values())  # ``experiments list`` shows each one's first line
    bad = {name: refs for name, doc in docs.items() if (refs := outside_references(doc))}
    assert bad == {}


def test_benchmark_and_calibration_texts_cite_no_outside_file() -> None:
    texts = repository_texts()
    assert "benchmarks/b1_tucker_sensing.py" in texts and "calibration/deterministic.py" in texts
    bad = {name: refs for name, text in texts.items() if (refs := outside_references(text))}
    assert bad == {}


def test_a_doctored_script_docstring_fails(monkeypatch, tmp_path: Path) -> None:
    from tensorrec import runner

    real = runner.discover(ROOT)
    text = next(s for s in real if s.name == "tt_tucker_c9_retraction").path.read_text()
    assert "Pass rule (claim C9):" in text
    refs = ["(tucker_tt spec section 13)", "(spec C9)", "(spec 2.7b)", "(shared/specs/tomography.md)"]
    doctored = []
    for k, ref in enumerate(refs):
        path = tmp_path / f"doctored_{k}.py"
        path.write_text(text.replace("Pass rule (claim C9):", f"Pass rule {ref}:", 1))
        doctored.append(runner.Script(path.stem, "check", path))
    monkeypatch.setattr(runner, "discover", lambda root=None: [*real, *doctored])
    docs = script_docstrings()
    bad = sorted(name for name, doc in docs.items() if outside_references(doc))
    assert bad == [s.name for s in doctored]
    # what is not a reference passes: a results key, "spectral", "spectrum", "specified"
    assert outside_references("``spec_criterion_met``; the spectral start; its spectrum; as specified") == []


# ---------------------------------------------------------------------------------------------
# Code blocks
# ---------------------------------------------------------------------------------------------

_RST_BLOCK = re.compile(r"^(\s*)\.\. code-block::\s*(\S+)\s*$")


def _indented_block(lines: list[str], start: int, indent: int) -> tuple[int, str]:
    """The literal block after line ``start - 1``: (first line number, 1-based; dedented text)."""
    i = start
    while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith(":")):
        i += 1  # blank lines and directive options
    first = i
    body = []
    while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
        body.append(lines[i])
        i += 1
    return first + 1, textwrap.dedent("\n".join(body)).strip("\n")


def rst_python_blocks(text: str) -> list[tuple[int, str]]:
    """``(line, code)`` of every Python block of an rst page (the rule in the module docstring)."""
    lines = text.splitlines()
    blocks = []
    for i, line in enumerate(lines):
        indent = len(line) - len(line.lstrip())
        directive = _RST_BLOCK.match(line)
        if directive:
            if directive.group(2) == "python":
                blocks.append(_indented_block(lines, i + 1, indent))
        elif line.rstrip().endswith("::") and not line.lstrip().startswith(".."):
            first, code = _indented_block(lines, i + 1, indent)
            try:
                ast.parse(code)
            except SyntaxError:
                continue
            if code:
                blocks.append((first, code))
    return blocks


def rst_blocks(text: str, language: str) -> list[tuple[int, str]]:
    """``(line, code)`` of every ``.. code-block:: <language>`` block of an rst page."""
    lines = text.splitlines()
    blocks = []
    for i, line in enumerate(lines):
        directive = _RST_BLOCK.match(line)
        if directive and directive.group(2) == language:
            blocks.append(_indented_block(lines, i + 1, len(line) - len(line.lstrip())))
    return blocks


def markdown_python_blocks(text: str, language: str = "python") -> list[tuple[int, str]]:
    """``(line, code)`` of every ```` ```python ```` (or ``language``) fence of a Markdown file."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        if lines[i].strip() == f"```{language}":
            j = i + 1
            while lines[j].strip() != "```":
                j += 1
            blocks.append((i + 2, "\n".join(lines[i + 1 : j])))
            i = j
        i += 1
    return blocks


def page_blocks(path: Path) -> list[tuple[int, str]]:
    text = path.read_text()
    return markdown_python_blocks(text) if path.suffix == ".md" else rst_python_blocks(text)


CONTINUES = {".rst": ".. continues", ".md": "<!-- continues -->"}
"""The mark of a block that goes on from the block before it (on the line above its opening)."""


def continued_blocks(text: str, blocks: list[tuple[int, str]], suffix: str = ".rst") -> set[int]:
    """The first lines of the ``blocks`` of a page (``text``) marked as continuations: the
    nearest non-blank line above the block's opening (its ``.. code-block::`` directive with
    its options, the paragraph that ends in ``::``, or its Markdown fence) is the mark."""
    lines, marked = text.splitlines(), set()
    for first, _ in blocks:
        i = first - 2  # the line above the block's first line of code (0-based)
        while i >= 0 and (not lines[i].strip() or lines[i].lstrip().startswith(":")):
            i -= 1  # blank lines and directive options
        if suffix == ".rst" and not _RST_BLOCK.match(lines[i]):  # a `::` block: above its paragraph
            while i > 0 and lines[i - 1].strip():
                i -= 1
        i -= 1
        while i >= 0 and not lines[i].strip():
            i -= 1
        if i >= 0 and lines[i].strip() == CONTINUES[suffix]:
            marked.add(first)
    return marked


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[name] = "1"
    env["MPLBACKEND"] = "Agg"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _driver(path: Path, blocks: list[tuple[int, str]], continued=frozenset()) -> str:
    """A script that runs ``blocks`` in order, each under its page and line: a block whose
    first line is in ``continued`` in the namespace of the blocks before it, any other in a
    fresh one (it must stand alone)."""
    padded = [(line in continued, chr(10) * (line - 1) + code) for line, code in blocks]  # page lines
    return (
        f"BLOCKS = {padded!r}\n"
        "scope = {'__name__': '__main__'}\n"
        "for goes_on, code in BLOCKS:\n"
        "    if not goes_on:\n"
        "        scope = {'__name__': '__main__'}\n"
        f"    print({MARKER!r}, flush=True)\n"
        f"    exec(compile(code, {str(path)!r}, 'exec'), scope)\n"
    )


MARKER = "----- next docs block -----"


def block_outputs(stdout: str) -> list[str]:
    """The standard output of each block of a driver run, in order."""
    return [part.strip() for part in stdout.split(MARKER)[1:]]


def claimed_outputs(text: str) -> dict[int, str]:
    """README's claims: the block (by index) followed by a line ``prints `OUTPUT` ...``."""
    claims, lines = {}, text.splitlines()
    for k, (line, _) in enumerate(markdown_python_blocks(text)):
        end = next(i for i in range(line - 1, len(lines)) if lines[i].strip() == "```")
        after = next((t for t in lines[end + 1 :] if t.strip()), "")
        match = re.match(r"prints `([^`]*)`", after)
        if match:
            claims[k] = match.group(1)
    return claims


def run_blocks(
    path: Path,
    blocks,
    tmp_path: Path,
    *,
    continued=frozenset(),
    as_script: bool = False,
    timeout: float = 120.0,
):
    """Run ``blocks`` of ``path`` in a fresh interpreter in ``tmp_path``; the finished process.

    Each block runs in a fresh namespace unless its first line is in ``continued`` (then in
    that of the blocks before it). A block with a ``__main__`` guard (or the last block, with
    ``as_script``) runs as a script file holding the blocks it continues too.
    """
    script_at = next((k for k, (_, code) in enumerate(blocks) if "__name__ ==" in code), None)
    if as_script:
        script_at = len(blocks) - 1
    if script_at is None:
        source = _driver(path, blocks, continued)
    else:
        start = max(k for k in range(script_at + 1) if k == 0 or blocks[k][0] not in continued)
        source = "\n\n".join(code for _, code in blocks[start : script_at + 1])
        if script_at + 1 < len(blocks):
            raise AssertionError(f"{path.name}: blocks after the script block would not run")
    script = tmp_path / f"{path.stem}_blocks.py"
    script.write_text(source)
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


RUNNABLE = [p for p in [*PAGES, ROOT / "README.md"] if page_blocks(p)]


def test_readme_claims_are_read() -> None:
    claims = claimed_outputs((ROOT / "README.md").read_text())
    assert len(claims) >= 2 and all(claims.values())
    doctored = "```python\nprint(1)\n```\n\nprints `2` here\n"
    assert claimed_outputs(doctored) == {0: "2"} and block_outputs(f"{MARKER}\n1\n") == ["1"]


def test_the_block_rule_finds_the_examples() -> None:
    counts = {p.name: len(page_blocks(p)) for p in RUNNABLE}
    assert counts.get("concepts.rst", 0) >= 5 and counts.get("README.md", 0) >= 2
    assert counts.get("sweeps.rst") == 1 and counts.get("recovery.rst", 0) >= 1
    assert all(not code.lstrip().startswith("pip ") for p in RUNNABLE for _, code in page_blocks(p))


OPTIONAL = {"sae_lens": "sae_lens"}
"""Optional extras a block may import: where one is not installed, the blocks that import it are
left out (the page's other blocks still run; none of them may use a name such a block defines)."""


def available_blocks(path: Path) -> list[tuple[int, str]]:
    """The page's blocks, less those importing an optional extra that is not installed here."""
    missing = [name for name, module in OPTIONAL.items() if importlib.util.find_spec(module) is None]
    return [
        (line, code)
        for line, code in page_blocks(path)
        if not any(re.search(rf"^\s*(import|from) {name}\b", code, re.M) for name in missing)
    ]


@pytest.mark.parametrize("path", RUNNABLE, ids=lambda p: p.name)
def test_code_blocks_run(path: Path, tmp_path: Path) -> None:
    if path.name == "tomography.rst":
        pytest.importorskip("qiskit")
    blocks = available_blocks(path)
    continued = continued_blocks(path.read_text(), page_blocks(path), path.suffix)
    done = run_blocks(path, blocks, tmp_path, continued=continued)
    assert done.returncode == 0, done.stderr[-4000:]
    # an example that warns (a stall, an underdetermined fit) is a bug in the example
    assert "Warning:" not in done.stderr, done.stderr[-4000:]
    if path.suffix == ".md":  # what the README says a block prints, it prints
        outputs = block_outputs(done.stdout)
        for k, claim in claimed_outputs(path.read_text()).items():
            assert outputs[k] == claim, (k, outputs[k], claim)


def test_a_failing_block_names_its_page_and_line(tmp_path: Path) -> None:
    blocks = [(7, "x = 1"), (12, "y = x + undefined_name")]
    done = run_blocks(DOCS / "concepts.rst", blocks, tmp_path, continued={12})
    assert done.returncode != 0
    assert 'concepts.rst", line 12' in done.stderr and "undefined_name" in done.stderr


def test_a_block_that_needs_an_earlier_one_fails_unless_marked(tmp_path: Path) -> None:
    """Issue 29: a block using a name an earlier block defined fails (as it fails a reader who
    copies it alone); marked ``.. continues`` it runs in the earlier blocks' namespace."""
    page = textwrap.dedent(
        """\
        Intro.

        .. code-block:: python

           import math
           r = 2.0

        Then::

           print(math.pi * r**2)

        {mark}

        .. code-block:: python
           :caption: area again

           print(round(math.pi * r**2, 3))
        """
    )
    path = tmp_path / "page.rst"
    for mark, expected in (("", set()), (".. continues", {17})):  # page lines of the blocks: 5, 10, 17
        text = page.format(mark=mark)
        blocks = rst_python_blocks(text)
        assert [line for line, _ in blocks] == [5, 10, 17]
        assert continued_blocks(text, blocks) == expected
        done = run_blocks(path, blocks, tmp_path, continued=expected)
        assert done.returncode != 0 and "NameError: name 'math' is not defined" in done.stderr
        assert 'page.rst", line 10' in done.stderr  # the unmarked `::` block, alone
    marked = page.format(mark=".. continues").replace("Then::", ".. continues\n\nThen::")
    blocks = rst_python_blocks(marked)
    assert continued_blocks(marked, blocks) == {12, 19}
    done = run_blocks(path, blocks, tmp_path, continued={12, 19})  # the three blocks in one namespace
    assert done.returncode == 0 and block_outputs(done.stdout) == ["", "12.566370614359172", "12.566"]
    readme = "```python\nx = 1\n```\n\n<!-- continues -->\n```python\nprint(x)\n```\n"
    assert continued_blocks(readme, markdown_python_blocks(readme), ".md") == {7}


def test_a_page_never_opens_with_a_continuation() -> None:
    """A mark on a page's first block has nothing to continue (a misplaced mark)."""
    for p in RUNNABLE:
        blocks = page_blocks(p)
        assert blocks[0][0] not in continued_blocks(p.read_text(), blocks, p.suffix), p.name


def test_the_sweep_example_needs_its_guard(tmp_path: Path) -> None:
    """Without ``if __name__ == "__main__":`` the sweep example must fail as a script."""
    ((line, code),) = page_blocks(DOCS / "sweeps.rst")
    lines = code.splitlines()
    guard = next(k for k, text in enumerate(lines) if text.startswith("if __name__"))
    unguarded = "\n".join(lines[:guard] + textwrap.dedent("\n".join(lines[guard + 1 :])).splitlines())
    assert "__name__" not in unguarded
    done = run_blocks(DOCS / "sweeps.rst", [(line, unguarded)], tmp_path, as_script=True)
    assert done.returncode != 0, done.stderr[-2000:]
    assert "RuntimeError" in done.stderr and 'outside `if __name__ == "__main__":`' in done.stderr


# ---------------------------------------------------------------------------------------------
# Shell blocks are not run, but their commands must exist
# ---------------------------------------------------------------------------------------------


def shell_commands() -> list[tuple[str, str]]:
    """``(where, command)`` for every ``tensorrec`` and ``make`` line of the bash blocks."""
    found = []
    sources = [(p, rst_blocks(p.read_text(), "bash")) for p in PAGES]
    sources.append((ROOT / "README.md", markdown_python_blocks((ROOT / "README.md").read_text(), "bash")))
    for path, blocks in sources:
        for line, code in blocks:
            for k, text in enumerate(code.splitlines()):
                command = text.split("#")[0].strip()
                if command.startswith(("tensorrec ", "make ")):
                    found.append((f"{path.name}:{line + k}", command))
    return found


def test_shell_commands_exist() -> None:
    """Every ``tensorrec ...`` line parses (its subcommands, options and script name exist:
    ``--help`` is appended, so nothing runs) and every ``make`` target is in the Makefile."""
    import shlex

    from click.testing import CliRunner

    from tensorrec.cli import cli

    commands = shell_commands()
    assert sum(c.startswith("tensorrec ") for _, c in commands) >= 5
    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    runner = CliRunner()
    for where, command in commands:
        words = shlex.split(command)
        if words[0] == "make":
            assert set(words[1:]) <= targets, (where, command, targets)
            continue
        done = runner.invoke(cli, [*words[1:], "--help"], env={"TENSORREC_ROOT": str(ROOT)})
        assert done.exit_code == 0, (where, command, done.output[-1500:])
    bad = runner.invoke(cli, ["reproduce", "--no-such-flag", "--help"], env={"TENSORREC_ROOT": str(ROOT)})
    assert bad.exit_code != 0  # a doctored command line fails


def test_a_block_needing_a_missing_extra_is_left_out(monkeypatch) -> None:
    blocks = available_blocks(DOCS / "sae.rst")
    uses_extra = [code for _, code in page_blocks(DOCS / "sae.rst") if "from sae_lens" in code]
    assert uses_extra  # the sae-lens example is a runnable block of the page
    monkeypatch.setitem(OPTIONAL, "sae_lens", "no_such_module_here")
    left = available_blocks(DOCS / "sae.rst")
    assert len(left) == len(page_blocks(DOCS / "sae.rst")) - len(uses_extra) and len(blocks) >= len(left)
