"""Running experiments and theory checks: one shape for every script (DESIGN.md section 5).

A script in ``experiments/`` or ``theory_checks/`` defines a frozen dataclass ``Config``
(defaults = the full settings), a dict ``QUICK`` of overrides for ``--quick``,
``compute(cfg, rng) -> dict`` (pure; a sweep declares ``compute(cfg, rng, log)`` and gets a
:class:`TrialLog` private to its config and seed, so an interrupted run resumes),
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
import contextlib
import dataclasses
import fcntl
import hashlib
import importlib.util
import inspect
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import types
import typing
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from tensorrec._random import as_generator
from tensorrec._threads import pin_threads

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


def _flag_type(field: dataclasses.Field, hints: dict):
    hint = hints[field.name]
    origin = typing.get_origin(hint)
    if origin is tuple:
        return typing.get_args(hint)[0], "+"
    if hint is bool:
        return None, None
    return hint, None


def build_parser(name: str, config_cls: type, doc: str | None) -> argparse.ArgumentParser:
    """``argparse`` parser with one flag per ``Config`` field plus the standard flags."""
    parser = argparse.ArgumentParser(prog=name, description=(doc or "").strip().split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the run (default 0)")
    parser.add_argument("--out", default="results", help="output root; files go to OUT/<script>/")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP/torch threads (default 1)")
    hints = typing.get_type_hints(config_cls)
    for field in dataclasses.fields(config_cls):
        if field.name == "device":
            continue
        flag = "--" + field.name.replace("_", "-")
        kind, nargs = _flag_type(field, hints)
        if kind is None:
            parser.add_argument(flag, dest=field.name, action=argparse.BooleanOptionalAction, default=None)
        else:
            parser.add_argument(flag, dest=field.name, type=kind, nargs=nargs, default=None)
    return parser


def make_config(config_cls: type, quick: dict, args: argparse.Namespace):
    """Defaults, then ``QUICK`` overrides when ``--quick``, then explicit flags."""
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
    elif args.device != "cpu":
        raise ValueError(f"device: this script runs on the CPU only, got {args.device!r}")
    return config_cls(**values)


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return str(obj)  # "nan", "inf": JSON has no literal for them
    return obj


_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _from_json(obj):
    """Inverse of :func:`_jsonable` for the non-finite floats it writes as strings."""
    if isinstance(obj, dict):
        return {k: _from_json(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_from_json(v) for v in obj]
    return _NON_FINITE.get(obj, obj) if isinstance(obj, str) else obj


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
    text = json.dumps(_jsonable(data), indent=1, allow_nan=False)
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

    A sweep (``compute(cfg, rng, log)``) gets a :class:`TrialLog` private to its config and
    seed, ``OUT/<name>/trials/<hash>.jsonl``; with ``study`` the log is the study's,
    ``OUT/_trials/<study>.jsonl``, shared by every script that names it: an experiment and a
    theory check running the same trials compute them once. That is safe because the
    studies key every trial by all it depends on, including the seed of its random stream
    (:mod:`tensorrec.studies`).

    Writes ``OUT/<name>/results.json``, the figures ``plot`` returns, and
    ``OUT/<name>/manifest.json`` (config, seed, versions, device, threads, wall time, git
    revision, violated claims). Returns 0, or 1 when ``check`` reports a violated claim.
    """
    parser = build_parser(name, config_cls, doc)
    args = parser.parse_args(argv)
    cfg = make_config(config_cls, quick or {}, args)
    threads = pin_threads(args.threads)
    out_dir = Path(args.out) / name
    out_dir.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    if "log" in inspect.signature(compute).parameters:  # a sweep that resumes after interruption
        if study is not None:
            log = TrialLog(Path(args.out) / "_trials" / f"{study}.jsonl")
        else:
            run_id = json.dumps(
                {"config": _jsonable(dataclasses.asdict(cfg)), "seed": args.seed}, sort_keys=True
            )
            log = TrialLog(out_dir / "trials" / f"{hashlib.sha256(run_id.encode()).hexdigest()[:16]}.jsonl")
        results = compute(cfg, as_generator(args.seed), log=log)
        resumed = {"trials": log.resumed_trials, "seconds": log.resumed_seconds}
    else:
        results = compute(cfg, as_generator(args.seed))
        resumed = {"trials": 0, "seconds": 0.0}
    compute_time = time.perf_counter() - start
    write_json(out_dir / "results.json", results)
    saved = _from_json(json.loads((out_dir / "results.json").read_text()))  # NaN back as NaN
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
        "resumed_trials": resumed["trials"],  # read from the trial log, not computed now
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


# --- long runs: one record per finished trial ---------------------------------------------


class TrialLogWarning(UserWarning):
    """A trial log held a damaged line or records from other code, which were not reused."""


_SOURCE_HASH: str | None = None


def code_version() -> str:
    """``tensorrec.__version__`` plus a hash of the package's Python sources: trial records
    written by other code are not reused (an edit to the library may change any trial)."""
    global _SOURCE_HASH
    if _SOURCE_HASH is None:
        digest = hashlib.sha256()
        package = Path(__file__).resolve().parent
        for path in sorted(package.rglob("*.py")):
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
        _SOURCE_HASH = digest.hexdigest()[:12]
    import tensorrec

    return f"{tensorrec.__version__}+{_SOURCE_HASH}"


class TrialLog:
    """An append-only JSON-lines file with one record per finished trial.

    A sweep runs each trial through :meth:`compute` (or :meth:`compute_many` for trials run
    as one batch): a trial the log holds is read back, any other is computed and appended,
    flushed and fsynced as soon as it finishes, so an interrupted run resumes without losing
    or repeating work::

        log = TrialLog(out_dir / "trials.jsonl")
        rows = [log.compute(key, lambda key=key: run_trial(key)) for key in keys]

    Safe against what interrupts long runs:

    * a line cut by a kill is removed on open (the trial reruns); other damaged lines are
      skipped with a :class:`TrialLogWarning`;
    * several processes may share one log: appends are serialised by a file lock, and a
      trial is claimed (an exclusive claim file holding the claimer's pid) before it is
      computed, so no trial is computed twice; a process that finds a trial claimed waits
      for its record, and takes the claim over when the claimer has died;
    * every record carries the :func:`code_version` that wrote it; records of other
      versions are reported (:class:`TrialLogWarning`) and not reused.

    Parameters
    ----------
    path : path-like
    version : str, optional
        The code version records must match (default :func:`code_version`).
    poll : float
        Seconds between checks while waiting for a trial another process claimed.
    """

    def __init__(self, path: str | os.PathLike, *, version: str | None = None, poll: float = 0.2):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.claims = self.path.with_name(self.path.name + ".claims")
        self.version = code_version() if version is None else str(version)
        self.poll = float(poll)
        self._records: dict[str, dict] = {}
        self._seconds: dict[str, float] = {}
        self.resumed_trials, self.resumed_seconds = 0, 0.0  # read back by compute / compute_many
        self._offset = 0
        self._stale = 0
        with self._locked():
            self._repair_tail()
            self._read_new(warn=True)
        if self._stale:
            warnings.warn(
                f"{self.path}: {self._stale} records were written by other code than {self.version} "
                "and are not reused (they are recomputed); delete the file to drop them",
                TrialLogWarning,
                stacklevel=2,
            )

    # --- reading ------------------------------------------------------------------------

    def _repair_tail(self) -> None:
        """Cut a last line that has no newline (a write cut short by a kill)."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            with self.path.open("r+b") as fh:
                fh.truncate(keep)
            warnings.warn(
                f"{self.path}: cut an incomplete last line ({len(data) - keep} bytes, an interrupted "
                "write); that trial reruns",
                TrialLogWarning,
                stacklevel=3,
            )

    def _read_new(self, warn: bool = False) -> None:
        """Read the complete lines appended since the last read (by any process)."""
        if not self.path.exists():
            return
        with self.path.open("rb") as fh:
            fh.seek(self._offset)
            data = fh.read()
        end = data.rfind(b"\n") + 1  # a line still being written is read next time
        bad = 0
        for line in data[:end].splitlines():
            try:
                row = json.loads(line)
                key, record = row["key"], row["record"]
            except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):
                bad += 1
                continue
            if row.get("version") != self.version:
                self._stale += 1
                continue
            self._records[key] = _from_json(record)
            self._seconds[key] = float(row.get("seconds", 0.0))
        self._offset += end
        if bad and warn:
            warnings.warn(
                f"{self.path}: skipped {bad} malformed lines; their trials rerun",
                TrialLogWarning,
                stacklevel=3,
            )

    def __contains__(self, key: str) -> bool:
        return str(key) in self._records

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def records(self) -> dict[str, dict]:
        return dict(self._records)

    # --- writing ------------------------------------------------------------------------

    def write(self, key: str, record: dict, seconds: float | None = None) -> None:
        """Append one finished trial (and the ``seconds`` it took, when known) and flush it to
        disk (under the file lock)."""
        key = str(key)
        row = {"key": key, "version": self.version, "record": _jsonable(record)}
        if seconds is not None:
            row["seconds"] = float(seconds)
        line = json.dumps(row, allow_nan=False)
        with self._locked():
            self._read_new()
            if key in self._records:
                raise KeyError(f"key: trial {key!r} is already recorded in {self.path}")
            with self.path.open("ab") as fh:
                fh.write((line + "\n").encode())
                fh.flush()
                os.fsync(fh.fileno())
            self._offset = self.path.stat().st_size
        self._records[key] = _from_json(json.loads(line)["record"])
        self._seconds[key] = float(seconds or 0.0)

    def compute(self, key: str, run: Callable[[], dict]) -> dict:
        """The record of ``key``: read back when logged, else ``run()`` written at once."""
        return self.compute_many([key], lambda todo: [run()], batch_size=1)[0]

    def compute_many(
        self, keys: list[str], run: Callable[[list[int]], list[dict]], *, batch_size: int
    ) -> list[dict]:
        """The records of ``keys`` in order. Those not logged are claimed and computed by
        ``run(indices)`` (one record per index, e.g. one batched problem) in chunks of at
        most ``batch_size``, each written as its chunk completes; those another process
        has claimed are waited for."""
        keys = [str(k) for k in keys]
        computed = set()
        while True:
            self.refresh()
            todo = [k for k, key in enumerate(keys) if key not in self._records]
            if not todo:
                for k, key in enumerate(keys):  # what earlier runs (or other processes) spent
                    if k not in computed:
                        self.resumed_trials += 1
                        self.resumed_seconds += self._seconds.get(key, 0.0)
                return [self._records[key] for key in keys]
            mine = [k for k in todo if self._claim(keys[k])]
            self.refresh()  # a claimer writes before it releases: a trial finished meanwhile is here now
            for k in [k for k in mine if keys[k] in self._records]:
                self._release(keys[k])
                mine.remove(k)
            try:
                for start in range(0, len(mine), batch_size):
                    chunk = mine[start : start + batch_size]
                    began = time.perf_counter()
                    records = run(chunk)
                    each = (time.perf_counter() - began) / len(chunk)
                    for k, record in zip(chunk, records, strict=True):
                        self.write(keys[k], record, seconds=each)
                        self._release(keys[k])
                        computed.add(k)
            finally:
                for k in mine:
                    self._release(keys[k])
            if len(mine) < len(todo):  # others are computing the rest
                time.sleep(self.poll)

    def refresh(self) -> None:
        """Read the records other processes have appended since."""
        with self._locked(shared=True):
            self._read_new()

    # --- claims and the lock ------------------------------------------------------------

    def _claim_path(self, key: str) -> Path:
        return self.claims / hashlib.sha256(key.encode()).hexdigest()[:32]

    def _claim(self, key: str) -> bool:
        """Claim ``key`` for this process; False while a live process holds it."""
        self.claims.mkdir(exist_ok=True)
        path = self._claim_path(key)
        # the claim appears atomically with its content (a hard link of a written file), so a
        # kill can never leave an empty claim that looks alive forever
        fd, tmp = tempfile.mkstemp(dir=self.claims, prefix=".claim.")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{platform.node()} {os.getpid()}")
            for _ in range(2):
                try:
                    os.link(tmp, path)
                    return True
                except FileExistsError:
                    if _claim_alive(path):
                        return False
                    path.unlink(missing_ok=True)  # the claimer died: take the trial over
            return False
        finally:
            os.unlink(tmp)

    def _release(self, key: str) -> None:
        path = self._claim_path(key)
        try:
            if path.read_text() == f"{platform.node()} {os.getpid()}":
                path.unlink()
        except FileNotFoundError:
            pass

    @contextlib.contextmanager
    def _locked(self, shared: bool = False):
        lock = self.path.with_name(self.path.name + ".lock")
        with lock.open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def _claim_alive(path: Path) -> bool:
    """Whether the process named in a claim file still runs (claims from another host count
    as alive; an unreadable one, which the atomic claims never leave, as dead)."""
    try:
        host, pid = path.read_text().split()
    except FileNotFoundError:
        return True  # released or taken over meanwhile: look again
    except ValueError:
        return False
    if host != platform.node():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
