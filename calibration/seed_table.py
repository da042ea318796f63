"""The quick suite's pass/fail table over seeds from the runs' manifests (issue 27).

Reads ``DRAWS/seed-S/<script>/manifest.json`` as ``tensorrec reproduce --quick --seeds ...``
leaves them (a script rerun into the same folder, e.g. after a rule changed, replaces its
manifest) and writes a markdown table: per script, the seeds run, the seeds failed and the
first violation. Command: ``python calibration/seed_table.py --draws-dir DRAWS --seeds 10-39
[--out FILE]``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def table(draws: Path, seeds: list[int]) -> tuple[str, int, int]:
    rows, runs, failed = {}, 0, 0
    for seed in seeds:
        for manifest in sorted((draws / f"seed-{seed}").glob("*/manifest.json")):
            m = json.loads(manifest.read_text())
            if not m.get("quick") or not m.get("claims_checked"):
                continue
            entry = rows.setdefault(m["script"], {"seeds": [], "failed": [], "first": ""})
            entry["seeds"].append(seed)
            runs += 1
            if m["violations"]:
                failed += 1
                entry["failed"].append(seed)
                entry["first"] = entry["first"] or m["violations"][0]
    lines = [f"Quick mode, seeds {seeds[0]}-{seeds[-1]}: {runs - failed} of {runs} check runs passed "
             f"({len(rows)} checks).", "", "| check | seeds run | failed at | first violation |",
             "|---|---|---|---|"]  # fmt: skip
    for name, e in sorted(rows.items()):
        lines.append(f"| `{name}` | {len(e['seeds'])} | {', '.join(map(str, e['failed'])) or '-'} | "
                     f"{e['first'].replace('|', '/')[:160] or '-'} |")  # fmt: skip
    return "\n".join(lines) + "\n", runs, failed


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--draws-dir", required=True)
    p.add_argument("--seeds", default="10-39")
    p.add_argument("--out", help="markdown file to write (default: print)")
    args = p.parse_args(argv)
    lo, _, hi = args.seeds.partition("-")
    text, runs, failed = table(Path(args.draws_dir), list(range(int(lo), int(hi or lo) + 1)))
    if args.out:
        Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
