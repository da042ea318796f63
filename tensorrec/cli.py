"""The ``tensorrec`` command line: list and run experiments, reproduce everything.

``tensorrec experiments list``, ``tensorrec experiments run NAME [--quick] [--out DIR]
[--seed N] [--device D]`` and ``tensorrec reproduce [--quick] [--out DIR]``. Scripts are
found by :func:`tensorrec.runner.discover` (``--root`` or ``TENSORREC_ROOT`` override it).
"""

from __future__ import annotations

import json
import time
import traceback
from pathlib import Path

import click

from tensorrec.runner import Script, discover, get_script

root_option = click.option(
    "--root",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Folder holding experiments/ and theory_checks/ (default: found automatically).",
)


@click.group()
@click.version_option(package_name="pytensorrec")
def cli() -> None:
    """tensorrec: low-rank tensor recovery and optimization-landscape analysis."""


@cli.group()
def experiments() -> None:
    """List and run the experiments and theory checks."""


@experiments.command("list")
@root_option
def list_scripts(root) -> None:
    """List every experiment and theory check."""
    for script in discover(root):
        click.echo(f"{script.name:<40} {script.kind:<10} {script.summary}")


def _script_argv(quick: bool, out: str, seed: int, device: str) -> list[str]:
    argv = ["--out", out, "--seed", str(seed), "--device", device]
    return argv + (["--quick"] if quick else [])


@experiments.command("run", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.option("--quick", is_flag=True, help="Tiny sizes (seconds).")
@click.option("--out", default="results", show_default=True, help="Output root.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--device", default="cpu", show_default=True)
@root_option
@click.argument("extra", nargs=-1, type=click.UNPROCESSED)
def run_one(name, quick, out, seed, device, root, extra) -> None:
    """Run the experiment or theory check NAME (further flags go to the script's Config)."""
    script = get_script(name, root)
    code = script.load().main([*_script_argv(quick, out, seed, device), *extra])
    click.echo(f"{name}: results in {Path(out) / name}")
    raise SystemExit(code)


def _run_for_index(script: Script, argv: list[str], out: Path) -> dict:
    start = time.perf_counter()
    try:
        code = script.load().main(argv)
        manifest = json.loads((out / script.name / "manifest.json").read_text())
        status = "pass" if code == 0 else "fail"
        return {
            "status": status,
            "violations": manifest["violations"],
            "figures": manifest["figures"],
            "claims": manifest["claims_checked"],
            "seconds": time.perf_counter() - start,
        }
    except Exception:  # one broken script must not hide the others' results
        return {
            "status": "error",
            "violations": [traceback.format_exc(limit=6)],
            "figures": [],
            "claims": script.kind == "check",
            "seconds": time.perf_counter() - start,
        }


def write_index(out: Path, rows: list[tuple[Script, dict]], quick: bool) -> Path:
    """Write ``out/index.md``: every figure and the pass/fail of every claim."""
    lines = [
        "# tensorrec: reproduced figures and checked claims",
        "",
        f"Mode: {'quick' if quick else 'full'}. Generated {time.strftime('%Y-%m-%d %H:%M:%S')}.",
        "",
        "| script | kind | status | seconds |",
        "|---|---|---|---|",
    ]
    for script, row in rows:
        status = {"pass": "PASS", "fail": "**FAIL**", "error": "**ERROR**"}[row["status"]]
        if row["status"] == "pass" and not row["claims"]:
            status = "ran"
        lines.append(f"| [{script.name}](#{script.name}) | {script.kind} | {status} | {row['seconds']:.1f} |")
    for script, row in rows:
        lines += ["", f"## {script.name}", "", script.summary, ""]
        for v in row["violations"]:
            lines += ["```", v.rstrip(), "```", ""] if row["status"] == "error" else [f"- violated: {v}"]
        for fig in row["figures"]:
            if fig.endswith(".png"):
                lines.append(f"![{script.name}]({script.name}/{fig})")
        lines.append(f"\nData and manifest: [{script.name}/]({script.name}/)")
    path = out / "index.md"
    path.write_text("\n".join(lines) + "\n")
    return path


@cli.command()
@click.option("--quick", is_flag=True, help="Tiny sizes: every script in seconds.")
@click.option("--out", default="results", show_default=True, help="Output root.")
@click.option("--seed", default=0, show_default=True, type=int)
@root_option
def reproduce(quick, out, seed, root) -> None:
    """Run every experiment and theory check and write OUT/index.md.

    Exits non-zero if a claim fails or a script errors.
    """
    scripts = discover(root)
    out_path = Path(out)
    out_path.mkdir(parents=True, exist_ok=True)
    rows = []
    with click.progressbar(scripts, label="reproducing", item_show_func=lambda s: s.name if s else "") as bar:
        for script in bar:
            rows.append((script, _run_for_index(script, _script_argv(quick, out, seed, "cpu"), out_path)))
    index = write_index(out_path, rows, quick)
    bad = [(s.name, r["status"]) for s, r in rows if r["status"] != "pass"]
    click.echo(f"{len(rows) - len(bad)}/{len(rows)} scripts passed; index: {index}")
    for name, status in bad:
        click.echo(f"  {status.upper()}: {name}", err=True)
    raise SystemExit(1 if bad else 0)


def main() -> None:
    """Entry point of the ``tensorrec`` console script."""
    cli()
