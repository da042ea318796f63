"""The ``tensorrec`` command line: list and run experiments, reproduce everything.

``tensorrec experiments list``, ``tensorrec experiments run NAME [--quick] [--out DIR]
[--seed N] [--device D] [--backend B] [--workers W]`` and ``tensorrec reproduce [--quick]
[--out DIR] [--seeds 0-9] [--only PATTERN] [--jobs N] [--backend B] [--workers W]``. Scripts are
found by :func:`tensorrec.runner.discover` (``--root`` or ``TENSORREC_ROOT`` override it).
"""

from __future__ import annotations

import concurrent.futures
import difflib
import fnmatch
import json
import multiprocessing
import re
import time
import traceback
from pathlib import Path

import click

from tensorrec.runner import Script, discover, get_script
from tensorrec.sweep import BACKENDS, available_cores, default_backend

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


def _script_argv(quick: bool, out: str, seed: int, device: str, sweep: tuple = ()) -> list[str]:
    argv = ["--out", out, "--seed", str(seed), "--device", device, *sweep]
    return argv + (["--quick"] if quick else [])


def sweep_options(func):
    """``--backend``, ``--workers`` and ``--address``: where the scripts' sweeps run."""
    func = click.option("--address", default=None, help="Dask scheduler address (with --backend dask).")(func)
    func = click.option(
        "--workers", default=None, type=click.IntRange(min=1),
        help="Worker processes per sweep (default: the free cores, divided by --jobs).",
    )(func)  # fmt: skip
    return click.option(
        "--backend", default=None, type=click.Choice(BACKENDS),
        help="Where the sweeps' trials run (default: processes when more than one core is free).",
    )(func)  # fmt: skip


def _sweep_argv(backend, workers, address, progress: bool) -> list[str]:
    argv = [] if backend is None else ["--backend", backend]
    argv += [] if workers is None else ["--workers", str(workers)]
    argv += [] if address is None else ["--address", address]
    return argv + (["--progress"] if progress else [])


@experiments.command("run", context_settings={"ignore_unknown_options": True}, add_help_option=False)
@click.argument("name", required=False)
@click.option("--quick", is_flag=True, help="Tiny sizes (seconds).")
@click.option("--out", default="results", show_default=True, help="Output root.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--device", default="cpu", show_default=True)
@sweep_options
@root_option
@click.option(
    "--help", "help_", is_flag=True, help="Show this message (and, after NAME, the script's own flags)."
)
@click.argument("extra", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def run_one(ctx, name, quick, out, seed, device, backend, workers, address, root, help_, extra) -> None:
    """Run the experiment or theory check NAME (further flags go to the script's Config;
    ``NAME --help`` lists them with their defaults and --quick values).

    Its sweeps run on --backend with one progress bar each, and commit every finished trial to
    OUT/<NAME>/trials.sqlite (or its study's OUT/_trials/<study>.sqlite): a rerun resumes.
    A theory check ends with PASS or FAIL (and the violated claims).

    Also (re)writes OUT/index.md over every script whose results are in OUT."""
    if help_ or "--help" in extra or "-h" in extra:
        click.echo(ctx.get_help())
        if name is None:
            raise SystemExit(0)
    elif name is None:
        raise click.UsageError("Missing argument 'NAME' (see `tensorrec experiments list`).", ctx)
    scripts = discover(root)
    known = [s.name for s in scripts]
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "see `tensorrec experiments list`"
        raise click.BadParameter(f"unknown experiment or check {name!r}; {hint}", param_hint="NAME")
    script = get_script(name, root)
    if help_ or "--help" in extra or "-h" in extra:
        click.echo(f"\nThe flags of {name} (after NAME):\n")
        script.load().main(["--help"])  # argparse prints them and exits
    sweep = _sweep_argv(backend, workers, address, progress=True)
    code = script.load().main([*_script_argv(quick, out, seed, device, sweep), *extra])
    index = write_index_from_manifests(Path(out), scripts)
    click.echo(f"{name}: results in {Path(out) / name}; index: {index}")
    manifest = json.loads((Path(out) / name / "manifest.json").read_text())
    if manifest["claims_checked"]:
        violations = manifest["violations"]
        verdict = f"FAIL ({len(violations)} claims violated, listed above)" if violations else "PASS"
        click.secho(f"{name}: {verdict}", fg="red" if violations else "green", bold=True)
    raise SystemExit(code)


def write_index_from_manifests(out: Path, scripts: list[Script]) -> Path:
    """OUT/index.md over the scripts whose manifest is in OUT (what ``experiments run``
    leaves): their status, claims and figures as the manifests record them."""
    rows, quick = [], False
    for script in scripts:
        path = out / script.name / "manifest.json"
        if not path.exists():
            continue
        manifest = json.loads(path.read_text())
        quick = quick or bool(manifest.get("quick"))
        rows.append((script, {
            "status": "fail" if manifest["violations"] else "pass", "violations": manifest["violations"],
            "figures": manifest["figures"], "claims": manifest["claims_checked"],
            "seconds": manifest["wall_seconds"], "resumed_trials": manifest.get("resumed_trials", 0),
            "resumed_seconds": manifest.get("resumed_trial_seconds", 0.0),
        }))  # fmt: skip
    return write_index(out, rows, quick)


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
            "resumed_trials": manifest.get("resumed_trials", 0),
            "resumed_seconds": manifest.get("resumed_trial_seconds", 0.0),
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
        "| script | kind | status | seconds (this run; + earlier runs' resumed trials) |",
        "|---|---|---|---|",
    ]
    for script, row in rows:
        status = {"pass": "PASS", "fail": "**FAIL**", "error": "**ERROR**"}[row["status"]]
        if row["status"] == "pass" and not row["claims"]:
            status = "ran"
        seconds = f"{row['seconds']:.1f}"
        if row.get("resumed_trials"):  # trials read back from the log: their time was spent earlier
            seconds += f" (+{row['resumed_seconds']:.1f} in {row['resumed_trials']} resumed trials)"
        lines.append(f"| [{script.name}](#{script.name}) | {script.kind} | {status} | {seconds} |")
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


def parse_seeds(text: str) -> list[int]:
    """``"0-9"``, ``"1,4,7"`` or ``"0-3,8"`` as a sorted list of distinct seeds."""
    seeds = set()
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            seeds.update(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise click.BadParameter(
            f"expected seeds like 0-9 or 1,4,7, got {text!r}", param_hint="--seeds"
        ) from None
    if not seeds or min(seeds) < 0:
        raise click.BadParameter(f"expected non-negative seeds like 0-9, got {text!r}", param_hint="--seeds")
    return sorted(seeds)


def select(scripts: list[Script], only: str | None) -> list[Script]:
    """The scripts whose name matches one of the comma-separated glob patterns ``only``."""
    if not only:
        return scripts
    patterns = [p.strip() for p in only.split(",") if p.strip()]
    chosen = [s for s in scripts if any(fnmatch.fnmatchcase(s.name, p) for p in patterns)]
    if not chosen:
        raise click.BadParameter(
            f"no script matches {only!r} (see `tensorrec experiments list`)", param_hint="--only"
        )
    return chosen


def estimated_seconds(script: Script, quick: bool, out: Path) -> float:
    """How long ``script`` should take: its last run's wall time in ``out`` when there is one,
    else the runtime its docstring states ("about 15 s with --quick, 3 min in full"), else 5 s.
    ``--jobs`` starts the longest first, so no long script is left for the end."""
    manifest = out / script.name / "manifest.json"
    if manifest.exists():
        return float(json.loads(manifest.read_text()).get("wall_seconds", 5.0))
    text = script.path.read_text()
    pattern = r"about ([0-9.]+) (s|min) with --quick" if quick else r"([0-9.]+) (s|min) in full"
    found = re.search(pattern, text)
    if not found:
        return 5.0
    return float(found.group(1)) * (60 if found.group(2) == "min" else 1)


def _task(args: tuple) -> dict:
    script, argv, out = args
    return _run_for_index(script, argv, out)


def write_seed_table(out: Path, scripts: list[Script], results: dict, seeds: list[int]) -> Path:
    """``out/seeds.md``: the status of every script at every seed."""
    lines = ["# tensorrec: scripts across seeds", "", "| script | " + " | ".join(map(str, seeds)) + " |"]
    lines.append("|---|" + "---|" * len(seeds))
    mark = {"pass": "pass", "fail": "**FAIL**", "error": "**ERROR**"}
    for script in scripts:
        cells = [mark[results[(script.name, s)]["status"]] for s in seeds]
        lines.append(f"| {script.name} | " + " | ".join(cells) + " |")
    path = out / "seeds.md"
    path.write_text("\n".join(lines) + "\n")
    return path


@cli.command()
@click.option("--quick", is_flag=True, help="Tiny sizes: every script in seconds.")
@click.option("--out", default="results", show_default=True, help="Output root.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option(
    "--seeds",
    default=None,
    help="Run at several seeds instead (e.g. 0-9 or 1,4,7), each into OUT/seed-S; OUT/seeds.md "
    "tabulates the outcomes.",
)
@click.option("--only", default=None, help="Only scripts matching these glob patterns (comma-separated).")
@click.option(
    "--jobs",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Scripts run in this many processes at once (one thread each).",
)
@sweep_options
@root_option
def reproduce(quick, out, seed, seeds, only, jobs, backend, workers, address, root) -> None:
    """Run every experiment and theory check and write OUT/index.md.

    Exits non-zero if a claim fails or a script errors.
    """
    scripts = select(discover(root), only)
    seed_list = parse_seeds(seeds) if seeds is not None else [seed]
    out_path = Path(out)
    dirs = {s: out_path / f"seed-{s}" if seeds is not None else out_path for s in seed_list}
    tasks = [(script, s) for s in seed_list for script in scripts]
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    if workers is None and backend != "dask":  # the scripts of --jobs processes share the cores
        workers = max(1, available_cores() // jobs)
        backend = backend or default_backend(workers)
    sweep = _sweep_argv(backend, workers, address, progress=False)
    args = [(script, _script_argv(quick, str(dirs[s]), s, "cpu", sweep), dirs[s]) for script, s in tasks]
    with click.progressbar(length=len(tasks), label="reproducing") as bar:
        if jobs == 1:
            done = []
            for a in args:
                done.append(_task(a))
                bar.update(1)
        else:  # separate processes (spawned: no forked thread pools); study logs are safe to share
            context = multiprocessing.get_context("spawn")
            order = sorted(range(len(args)), key=lambda i: -estimated_seconds(args[i][0], quick, args[i][2]))
            done = [None] * len(args)
            with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context) as pool:
                futures = {pool.submit(_task, args[i]): i for i in order}  # longest first
                for future in concurrent.futures.as_completed(futures):
                    done[futures[future]] = future.result()
                    bar.update(1)
    results = {(script.name, s): row for (script, s), row in zip(tasks, done, strict=True)}
    for s in seed_list:
        index = write_index(dirs[s], [(script, results[(script.name, s)]) for script in scripts], quick)
    bad = [(name, s, r["status"]) for (name, s), r in results.items() if r["status"] != "pass"]
    if seeds is not None:
        index = write_seed_table(out_path, scripts, results, seed_list)
    click.echo(f"{len(results) - len(bad)}/{len(results)} script runs passed; index: {index}")
    for name, s, status in bad:
        click.echo(f"  {status.upper()}: {name}" + (f" (seed {s})" if seeds is not None else ""), err=True)
    raise SystemExit(1 if bad else 0)


def main() -> None:
    """Entry point of the ``tensorrec`` console script."""
    cli()
