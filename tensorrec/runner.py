"""Running experiments and theory checks: one shape for every script.

A script in ``experiments/`` or ``theory_checks/`` defines a frozen dataclass ``Config``
(defaults = the full settings), a dict ``QUICK`` of overrides for ``--quick``,
``compute(cfg, rng) -> dict`` (pure; a sweep declares ``compute(cfg, rng, runner)`` and gets a
:class:`tensorrec.sweep.Runner` whose store keeps every finished trial, so an interrupted
run resumes),
``plot(results, out_dir) -> list of paths`` (reads only the saved results), for theory
checks ``check(results) -> list[str]`` (the violated claims), and ``main(argv=None) -> int``
that calls :func:`script_main`.

Discovery: :func:`find_root` locates the folder holding ``experiments/`` and
``theory_checks/`` (in order: the ``root`` argument, the ``TENSORREC_ROOT`` environment
variable, the checkout the package was installed from in editable mode, then the current
directory and its parents); :func:`discover` lists every ``*.py`` there whose name does not
start with ``_``.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import inspect
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import types
import typing
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tensorrec._random import as_generator
from tensorrec._threads import pin_threads
from tensorrec.sweep import BACKENDS, Runner, Store
from tensorrec.sweep.records import from_jsonable, to_jsonable

KINDS = {"experiments": "experiment", "theory_checks": "check"}


# --- discovery ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Script:
    """A discovered experiment or theory check."""

    name: str
    kind: str  # "experiment" or "check"
    path: Path

    def load(self) -> types.ModuleType:
        """Import the script afresh from its file (without running ``main``)."""
        module_name = f"_tensorrec_scripts.{self.kind}.{self.name}"
        spec = importlib.util.spec_from_file_location(module_name, self.path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        return module

    @property
    def summary(self) -> str:
        """First line of the script's docstring (read without importing it)."""
        import ast

        doc = ast.get_docstring(ast.parse(self.path.read_text())) or ""
        return doc.strip().splitlines()[0] if doc.strip() else ""


def _has_scripts(path: Path) -> bool:
    return all((path / d).is_dir() for d in KINDS)


def find_root(root: str | os.PathLike | None = None) -> Path:
    """The folder that holds ``experiments/`` and ``theory_checks/``."""
    candidates: list[Path] = []
    if root is not None:
        candidates.append(Path(root))
    elif os.environ.get("TENSORREC_ROOT"):
        candidates.append(Path(os.environ["TENSORREC_ROOT"]))
    else:
        candidates.append(Path(__file__).resolve().parents[1])  # editable install from a clone
        cwd = Path.cwd().resolve()
        candidates.extend([cwd, *cwd.parents])
    for path in candidates:
        if _has_scripts(path):
            return path.resolve()
    where = ", ".join(str(p) for p in candidates[:3])
    raise FileNotFoundError(
        f"root: expected a folder holding experiments/ and theory_checks/ (a tensorrec checkout); "
        f"looked in {where}. Pass --root or set TENSORREC_ROOT."
    )


def discover(root: str | os.PathLike | None = None) -> list[Script]:
    """Every experiment, then every theory check, sorted by name within each kind."""
    base = find_root(root)
    scripts = []
    for folder, kind in KINDS.items():
        for path in sorted((base / folder).glob("*.py")):
            if not path.name.startswith("_"):
                scripts.append(Script(path.stem, kind, path))
    return scripts


def get_script(name: str, root: str | os.PathLike | None = None) -> Script:
    """The script called ``name``; the error lists the known names."""
    scripts = discover(root)
    for script in scripts:
        if script.name == name:
            return script
    raise KeyError(f"name: unknown experiment or check {name!r}; known: {', '.join(s.name for s in scripts)}")


# --- running one script -------------------------------------------------------------------


def number_flag(kind: type, minimum: float | None = None, strict: bool = False) -> Callable:
    """An ``argparse`` type for a numeric flag: an int or a finite float, at least
    ``minimum`` (above it when ``strict``). argparse prefixes its error with the flag
    ("argument --draws: expected an integer > 0, got '0'")."""
    noun = "an integer" if kind is int else "a finite number"
    if minimum is not None:
        noun += f" {'>' if strict else '>='} {minimum:g}"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        bad = (kind is float and not np.isfinite(value)) or (
            minimum is not None and (value <= minimum if strict else value < minimum)
        )
        if bad:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its own messages
    return parse


def positive(default):
    """A ``Config`` field whose flag refuses 0 and negative values: a step size, a learning
    rate, a grid spacing (a float that is divided by or stepped with). Other float fields
    take 0. Same as ``dataclasses.field(default=default, metadata={"min": 0, "open": True})``;
    ``metadata={"min": a}`` (closed) or ``{"min": a, "open": True}`` declares any lower bound."""
    return dataclasses.field(default=default, metadata={"min": 0, "open": True})


def _flag_type(field: dataclasses.Field, hints: dict):
    """(argparse type, nargs) of a Config field. Floats must be finite. A field's domain:

    - declared in its metadata (``{"min": a}``, and ``"open": True`` for > a; see
      :func:`positive`), else
    - an int field (a count, a size) with a positive default is >= 1 (``--draws 0`` is refused
      with the flag's name instead of running a claim on no draws), with a zero default >= 0;
    - a float field with a non-negative default is >= 0 (``--l1 0``, an unregularised
      baseline, and ``--gammas 0``, no noise, are valid);
    - a negative default leaves the sign free.

    A tuple field's default is judged by its smallest member."""
    hint = hints[field.name]
    origin = typing.get_origin(hint)
    nargs = None
    default = field.default
    if origin is tuple:
        hint, nargs = typing.get_args(hint)[0], "+"
        default = min(default) if isinstance(default, tuple) and default else None
    if hint is bool:
        return None, None
    if hint in (int, float):
        if "min" in field.metadata:
            return number_flag(hint, field.metadata["min"], strict=bool(field.metadata.get("open"))), nargs
        sign = default if isinstance(default, (int, float)) and not isinstance(default, bool) else None
        if sign is None or sign < 0:
            return number_flag(hint), nargs
        return number_flag(hint, 0, strict=hint is int and sign > 0), nargs
    return hint, nargs


def _flag_help(field: dataclasses.Field, quick: dict) -> str:
    """A Config flag's help: its ``metadata["help"]`` if any, its default and its --quick value."""
    text = field.metadata.get("help", "")
    default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
    text += f"{'; ' if text else ''}default {default!r}"
    if field.name in quick and quick[field.name] != default:
        text += f", with --quick {quick[field.name]!r}"
    return text.replace("%", "%%")


def build_parser(
    name: str, config_cls: type, doc: str | None, quick: dict | None = None
) -> argparse.ArgumentParser:
    """``argparse`` parser with one flag per ``Config`` field plus the standard flags; each
    Config flag's help gives its default and its ``quick`` value."""
    parser = argparse.ArgumentParser(
        prog=name, description=(doc or "").strip().split("\n")[0],
        epilog="Every Config flag overrides the default (and the --quick value) of its field.",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds)")
    parser.add_argument("--seed", type=number_flag(int, 0), default=0, help="seed of the run (default 0)")
    parser.add_argument("--out", default="results", help="output root; files go to OUT/<script>/")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument(
        "--threads", type=number_flag(int, 0, strict=True), default=1,
        help="BLAS/OpenMP/torch threads (default 1)",
    )  # fmt: skip
    parser.add_argument(
        "--backend", choices=BACKENDS, default=None,
        help="where a sweep's trials run (default: processes when more than one core is free)",
    )  # fmt: skip
    parser.add_argument(
        "--workers", type=number_flag(int, 0, strict=True), default=None,
        help="worker processes (default: free cores)",
    )  # fmt: skip
    parser.add_argument("--address", default=None, help="Dask scheduler address (with --backend dask)")
    parser.add_argument("--progress", action="store_true", help="a progress bar per sweep")
    hints = typing.get_type_hints(config_cls)
    for field in dataclasses.fields(config_cls):
        if field.name == "device":
            continue
        flag = "--" + field.name.replace("_", "-")
        kind, nargs = _flag_type(field, hints)
        help_ = _flag_help(field, quick or {})
        if kind is None:
            parser.add_argument(
                flag, dest=field.name, action=argparse.BooleanOptionalAction, default=None, help=help_
            )
        else:
            parser.add_argument(flag, dest=field.name, type=kind, nargs=nargs, default=None, help=help_)
    return parser


def make_config(config_cls: type, quick: dict, args: argparse.Namespace, sweeps: bool = False):
    """Defaults, then ``QUICK`` overrides when ``--quick``, then explicit flags. ``--device``
    goes to a ``device`` field, or with ``sweeps`` to the runner (which refuses trials that
    cannot take it); a script with neither runs on the CPU only."""
    names = {f.name for f in dataclasses.fields(config_cls)}
    unknown = set(quick) - names
    if unknown:
        raise ValueError(f"QUICK: unknown Config fields {sorted(unknown)}")
    values = dict(quick) if args.quick else {}
    for name in names:
        given = getattr(args, name, None)
        if given is not None:
            values[name] = tuple(given) if isinstance(given, list) else given
    if "device" in names:
        values["device"] = args.device
    elif _device_type(args.device) != "cpu" and not sweeps:
        raise ValueError(f"device: this script runs on the CPU only, got {args.device!r}")
    return config_cls(**values)


def _device_type(device: str) -> str:
    """'cpu' for "cpu" and "cpu:0"; the device's type otherwise (the text when torch cannot parse it)."""
    import torch

    try:
        return torch.device(device).type
    except (RuntimeError, TypeError):
        return device


def check_device(device: str, available: bool = True) -> str | None:
    """None when ``device`` names a CPU or CUDA device (with ``available``: one this machine
    has), else why not (for ``--device``)."""
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        return f"expected a torch device such as 'cpu', 'cuda' or 'cuda:0', got {device!r}"
    if parsed.type == "cpu":
        return None
    if parsed.type != "cuda":
        return f"expected 'cpu' or a CUDA device, got {device!r} (device type {parsed.type!r})"
    if not available:
        return None
    if not torch.cuda.is_available():
        return f"CUDA is not available on this machine, got {device!r}"
    if parsed.index is not None and parsed.index >= torch.cuda.device_count():
        return f"this machine has {torch.cuda.device_count()} CUDA device(s), got {device!r}"
    return None


def git_revision(path: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True, timeout=10, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def versions() -> dict:
    """Versions of Python and the numerical stack."""
    import scipy
    import torch

    import tensorrec

    return {
        "python": platform.python_version(),
        "tensorrec": tensorrec.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "torch": torch.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def write_json(path: Path, data) -> None:
    """Write ``data`` as JSON atomically (a temporary file of a unique name, then a rename),
    so concurrent writers never interleave and a reader never sees half a file."""
    text = json.dumps(to_jsonable(data), indent=1, allow_nan=False)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def script_main(
    name: str,
    config_cls: type,
    compute: Callable,
    plot: Callable | None = None,
    *,
    check: Callable | None = None,
    quick: dict | None = None,
    doc: str | None = None,
    argv: list[str] | None = None,
    study: str | None = None,
) -> int:
    """Parse flags, run ``compute``, save results and manifest, plot, check; exit status.

    A sweep (``compute(cfg, rng, runner)``) gets a :class:`tensorrec.sweep.Runner` on the
    backend of ``--backend``/``--workers``/``--address`` whose store is
    ``OUT/<name>/trials.sqlite``, or with ``study`` the study's ``OUT/_trials/<study>.sqlite``,
    shared by every script that names it: an experiment and a theory check running the same
    trials compute them once (the store keys every trial by all it depends on, including the
    root seed, :func:`tensorrec.sweep.trial_key`).

    Writes ``OUT/<name>/results.json``, the figures ``plot`` returns, and
    ``OUT/<name>/manifest.json`` (config, seed, versions, device, threads, wall time, git
    revision, violated claims). Returns 0, or 1 when ``check`` reports a violated claim.
    """
    parser = build_parser(name, config_cls, doc, quick)
    args = parser.parse_args(argv)
    sweeps = "runner" in inspect.signature(compute).parameters
    problem = check_device(args.device, available=False)
    if problem:
        parser.error(f"argument --device: {problem}")
    cfg = make_config(config_cls, quick or {}, args, sweeps)  # refuses a device a CPU-only script cannot use
    problem = check_device(args.device) if "device" in {f.name for f in dataclasses.fields(cfg)} else None
    if problem:  # (a sweep's runner refuses a device its trials cannot use)
        parser.error(f"argument --device: {problem}")
    out_dir = Path(args.out) / name
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        parser.error(f"argument --out: cannot create the folder {str(out_dir)!r}: {exc.strerror or exc}")
    threads = pin_threads(args.threads)

    start = time.perf_counter()
    if sweeps:  # trials run by a runner that stores them: an interrupted run resumes
        store = Path(args.out) / "_trials" / f"{study}.sqlite" if study else out_dir / "trials.sqlite"
        runner = Runner(
            Store(store), backend=args.backend, workers=args.workers, address=args.address,
            progress=args.progress, device=args.device if args.device != "cpu" else None, keep_workers=True,
        )  # fmt: skip
        results = compute(cfg, as_generator(args.seed), runner=runner)
        resumed = {"trials": runner.resumed_trials, "seconds": runner.resumed_seconds}
    else:
        results = compute(cfg, as_generator(args.seed))
        resumed = {"trials": 0, "seconds": 0.0}
    compute_time = time.perf_counter() - start
    write_json(out_dir / "results.json", results)
    saved = from_jsonable(json.loads((out_dir / "results.json").read_text()))  # NaN back as NaN
    figures = [str(Path(p).name) for p in plot(saved, out_dir)] if plot is not None else []
    violations = list(check(saved)) if check is not None else []
    manifest = {
        "script": name,
        "config": dataclasses.asdict(cfg),
        "quick": args.quick,
        "seed": args.seed,
        "device": args.device,
        "threads": threads,
        "versions": versions(),
        "git_revision": git_revision(Path(__file__).resolve().parent),
        "compute_seconds": compute_time,
        "wall_seconds": time.perf_counter() - start,
        "backend": args.backend,
        "workers": args.workers,
        "resumed_trials": resumed["trials"],  # read from the store, not computed now
        "resumed_trial_seconds": resumed["seconds"],  # what computing them took then
        "figures": figures,
        "claims_checked": check is not None,
        "study": study,
        "violations": violations,
    }
    write_json(out_dir / "manifest.json", manifest)
    for v in violations:
        print(f"{name}: CLAIM VIOLATED: {v}", file=sys.stderr)
    return 1 if violations else 0


# --- benchmarks -------------------------------------------------------------------------------


def repeat_timings(fn: Callable[[], object], repeats: int) -> list[float]:
    """Wall seconds of ``repeats`` calls of ``fn`` (no warm-up: call it once before)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def write_table(text: str, out_dir: str | os.PathLike) -> list[Path]:
    """Write a benchmark's Markdown table to ``out_dir/table.md``, print it, return its path."""
    path = Path(out_dir) / "table.md"
    path.write_text(text)
    print(text)
    return [path]
