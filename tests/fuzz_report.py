"""Run every fuzz case (``CASES`` of ``tests/test_fuzz_*.py``) and print the table area x outcome.

    python tests/fuzz_report.py [--details] [--area AREA]

Runs against whatever ``tensorrec`` is importable (PYTHONPATH selects another checkout).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fuzz_harness import run, table  # noqa: E402


def load_cases(area: str | None = None):
    cases = []
    for path in sorted(HERE.glob("test_fuzz_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cases += [c for c in module.CASES if area is None or c.area == area]
    return cases


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--details", action="store_true", help="print every case that is not clear")
    parser.add_argument("--area", help="only this area")
    args = parser.parse_args(argv)
    import tensorrec

    tensorrec.pin_threads(1)
    results = []
    for case in load_cases(args.area):
        outcome, detail = run(case)
        results.append((case, outcome, detail))
        if args.details and outcome != "clear":
            print(f"[{outcome}] {case.area}/{case.id}: {detail.strip()[:600]}\n", flush=True)
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
