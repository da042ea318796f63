"""The example gallery (examples/, issue 29): every script is one the docs build executes and
renders. The build itself (``make docs``, sphinx-gallery with ``abort_on_example_error``) is
the test that the examples run; these checks are the cheap half: what sphinx-gallery would
skip or render badly without failing."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def gallery_conf() -> dict:
    """``sphinx_gallery_conf`` of docs/conf.py, read without running the file."""
    tree = ast.parse((ROOT / "docs" / "conf.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            getattr(t, "id", None) == "sphinx_gallery_conf" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError("docs/conf.py defines no sphinx_gallery_conf")


def header_problems(path: Path) -> list[str]:
    """What is wrong with an example's header: sphinx-gallery needs a module docstring that
    opens with a title underlined by '=' (the gallery's thumbnail text and page title),
    followed by a paragraph."""
    doc = ast.get_docstring(ast.parse(path.read_text()), clean=True)
    if not doc:
        return [f"{path.name}: no module docstring"]
    lines = doc.splitlines()
    problems = []
    if len(lines) < 4:
        return [f"{path.name}: the docstring needs a title, its '=' underline and a paragraph"]
    title, underline = lines[0], lines[1]
    if not title.strip() or not re.fullmatch(r"=+", underline) or len(underline) != len(title):
        problems.append(f"{path.name}: the first line must be a title underlined by '=' of its length")
    if not " ".join(lines[2:]).strip():
        problems.append(f"{path.name}: no paragraph after the title")
    return problems


def test_every_example_is_executed_and_has_a_header():
    conf = gallery_conf()
    assert conf["abort_on_example_error"] is True
    scripts = sorted(p for p in EXAMPLES.glob("*.py") if not re.search(conf["ignore_pattern"], str(p)))
    assert len(scripts) >= 9
    for path in scripts:
        assert re.search(conf["filename_pattern"], str(path)), f"{path.name} would not be executed"
        assert header_problems(path) == []
    assert (EXAMPLES / "README.rst").exists()


@pytest.mark.parametrize(
    "text, problem",
    [
        ("x = 1\n", "no module docstring"),
        ('"""\nTitle\n=====\n"""\n', "a title, its '=' underline and a paragraph"),
        ('"""\nTitle\n===\n\nSome text.\n"""\n', "underlined by '=' of its length"),
        ('"""\nTitle\n-----\n\nSome text.\n"""\n', "underlined by '=' of its length"),
    ],
)
def test_a_bad_header_is_named(tmp_path, text, problem):
    path = tmp_path / "plot_bad.py"
    path.write_text(text)
    problems = header_problems(path)
    assert problems and problem in problems[0]


def test_index_links_the_gallery():
    assert "auto_examples/index" in (ROOT / "docs" / "index.rst").read_text()
