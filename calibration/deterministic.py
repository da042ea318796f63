"""The deterministic theory checks' tolerances against the rounding error reached (issue 27).

A deterministic check tests an identity, a closed form or an exhaustive search: for a true claim
its statistic is a rounding error (or an exact count), so the check cannot fail at any seed as
long as the rounding error stays far below the tolerance. The draws are the checks' own quick
runs, each at its own seed, made by the runner:

    tensorrec reproduce --quick --seeds 10-39 --only <checks> --jobs 2 --backend serial --out DRAWS

This script reads ``DRAWS/seed-S/<check>/results.json``, reruns each check's own ``check`` on
every draw (counting the draws it fails), and pulls out every rule's value with the bound it is
held to (:data:`RULES`: ``(rule, value, bound)``, the rule fails when ``value > bound``):

- a tolerance on a rounding error: the value is the error, the bound the tolerance;
- an exact fact (a count, an index, a kind that must match): the value is the number of
  mismatches, the bound 0;
- a separation that keeps the check from being vacuous (a defect or gap that the claim makes
  large, which must reach a minimum): the value is the minimum over the gap measured, the bound 1;
- a theorem's inequality or a grid-search distance: the value and the bound the check compares.

Per check and rule it reports the worst value over the draws, the bound and the headroom
bound / worst ("exact" for mismatch counts, "inf" when the worst is 0), and whether the rules
here agree with the check's own verdict on every draw. With ``--full-dir FULL`` and
``--full-seeds`` it adds the worst over full-mode runs
(``tensorrec experiments run <check> --seed S --out FULL/seed-S``). It writes
``OUT/calibration/deterministic.json`` and a markdown table ``OUT/calibration/deterministic.md``
(a ``|`` in a rule's name escaped); the committed copies beside this script are the
measurement that the checks' docstrings quote.

Command: ``python calibration/deterministic.py --draws-dir DRAWS --seeds 10-39
[--full-dir FULL --full-seeds 0-4] [--out results]``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tensorrec.runner import from_jsonable, get_script, write_json

Rule = tuple[str, float, float]


def gap(rule: str, measured: float, required: float) -> Rule:
    """A separation ``measured >= required`` as ``(rule, required / measured, 1)``."""
    return (f"{rule}: required / measured", required / measured if measured > 0 else math.inf, 1.0)


# --- the rules of each check --------------------------------------------------------------------


def bdpr_c1(r: dict) -> list[Rule]:
    tol = r["tolerance"]
    return [(f"{name}: relative error", err, tol) for row in r["rows"] for name, err in row.items()]


def bdpr_c5(r: dict) -> list[Rule]:
    rows = r["rows"]
    index = sum((x["index"], x["nullity"]) != (x["expected_index"], x["expected_nullity"]) for x in rows)
    kind = sum(
        x["kind"] != x["expected_kind"] or not x["detail"].startswith(x["expected_detail"]) for x in rows
    )
    return [
        *[("Hessian eigenvalue error", x["max_eig_error"], r["tolerance"]) for x in rows],
        ("index / nullity mismatches", index, 0),
        ("kind / detail mismatches", kind, 0),
    ]


def bdpr_c7(r: dict) -> list[Rule]:
    return [
        ("claim 7: tan / bound - 1", r["worst_bound_ratio"] - 1, r["bound_slack"]),
        ("claim 8: one-step recursion relative error", r["worst_recursion_error"], r["recursion_tol"]),
        *[
            (f"claim 9: {name}: |updates - spec|", abs(c["counted"] - c["spec"]), r["count_slack"])
            for name, c in r["counts"].items()
        ],
    ]


def bdpr_c14(r: dict) -> list[Rule]:
    w = r["worst"]
    return [
        *[
            (f"invariance: {k}", w[k], r["invariance_tol"])
            for k in ("value", "tensor_error", "grad_vertical")
        ],
        *[(f"extension independence: {k}", w[k], r["extension_tol"]) for k in ("rgrad", "rhess")],
        gap("Euclidean Hessians' gap", w["ehess_gap"], 1e-3),
    ]


def sae_c1(r: dict) -> list[Rule]:
    return [
        *[(f"{k}: distance to the grid minimiser", v, r["grid_step"]) for k, v in r["scalar"].items()],
        *[(f"{k}: objective gap to the best support", v, 1e-12) for k, v in r["vector"].items()],
    ]


def sae_c2(r: dict) -> list[Rule]:
    return [(f"{k}: |step - encoder|", v, r["tol"]) for k, v in r["worst"].items()]


def sae_c3(r: dict) -> list[Rule]:
    return [
        ("TopK negative entries", r["topk_negative"], 0),
        ("AbsTopK draws with the wrong count", r["abstopk_wrong_count"], 0),
        ("AbsTopK not odd", int(not r["abstopk_odd"]), 0),
        ("TopK odd", int(r["topk_odd"]), 0),
        ("TopK != AbsTopK on u >= 0", int(not r["special_case"]), 0),
    ]


def sae_c7(r: dict) -> list[Rule]:
    return [("samples with a wrong L0 (all rows)", sum(x["violations"] for x in r["rows"]), 0)]


def sae_c14(r: dict) -> list[Rule]:
    pos = next(x for x in r["rows"] if x["sign_mode"] == "pos")
    identity = [
        (
            f"{x['sign_mode']}: |centred / raw / ratio - 1|",
            abs(x["centred"] / x["raw"] / x["ratio"] - 1),
            1e-12,
        )
        for x in r["rows"]
    ]
    return [*identity, gap("pos: ratio - 1", pos["ratio"] - 1, 0.01)]


def tomo_c1(r: dict) -> list[Rule]:
    out = []
    for row in r["rows"]:
        d = {int(t): v for t, v in row["defects"].items()}
        out += [(f"n = {row['n']}, t = {t}: |defect|", abs(d[t]), r["tol"]) for t in (1, 2, 3)]
        out.append(gap(f"n = {row['n']}, t = 4: defect", d[4], r["min_gap"]))
    return out


def tomo_c2(r: dict) -> list[Rule]:
    out = []
    for x in r["rows"]:
        out.append((f"N = {x['N']}, t = {x['holds']}: |defect|", abs(x["defect_holds"]), r["tol"]))
        out.append(gap(f"N = {x['N']}, t = {x['fails']}: defect", x["defect_fails"], r["min_gap"]))
    return out


def tomo_c3(r: dict) -> list[Rule]:
    return [("frame identity error", r["worst"], r["tol"])]


def tomo_c4(r: dict) -> list[Rule]:
    return [(f"{x['povm']}: relative isometry error", x["worst"], r["tol"]) for x in r["rows"]]


def tomo_c5(r: dict) -> list[Rule]:
    return [
        ("spread of LS loss - alpha ||rho - rho_CS||^2", r["spread"], r["tol"]),
        ("one step of size 1/alpha to rho_CS", r["step"], r["tol"]),
    ]


def tomo_c6(r: dict) -> list[Rule]:
    return [
        ("E[g_X^2] relative error", r["worst"], r["tol"]),
        ("E[g_X^2] / ||X||^2 (theorem: <= 3)", r["max_ratio"], 3.0),
    ]


def tomo_c12(r: dict) -> list[Rule]:
    return [(key, v, r["tol"]) for key, v in r["worst"].items()]


def tomo_c13(r: dict) -> list[Rule]:
    out = [
        (f"{key.split(' #')[0]}: {what}", err, r["tol"])
        for key, table in r["errors"].items()
        for what, err in table.items()
    ]
    bonds = r["bonds"].values()
    wrong = sum(b["difference"] != b["expected"] or b["pure difference"] != b["pure expected"] for b in bonds)
    return [*out, ("bond mismatches", wrong, 0)]


def tomo_c14(r: dict) -> list[Rule]:
    out = []
    for x in r["rows"]:
        n = x["n"]
        out.append((f"n = {n}: A*A on Pauli strings", x["worst"], r["tol"]))
        out.append(
            (f"n = {n}: |condition - 3^(n-1)| / 3^n", abs(x["condition"] - 3.0 ** (n - 1)) / 3.0**n, r["tol"])
        )
    return out


def tomo_c18(r: dict) -> list[Rule]:
    return [
        (f"{bond}: {what}", err, r["tol"])
        for bond, table in r["errors"].items()
        for what, err in table.items()
    ]


def tomo_c20(r: dict) -> list[Rule]:
    out = []
    for x in r["rows"]:
        out.append((f"{x['povm']}: |1-design defect|", abs(x["t1"]), r["tol"]))
        out.append((f"{x['povm']}: |local 2-design defect|", abs(x["local_t2"]), r["tol"]))
        out.append(gap(f"{x['povm']}: global 2-design defect", x["t2"], r["min_gap"]))
    return out


def tt_tucker_c1(r: dict) -> list[Rule]:
    out = []
    for x in r["rows"]:
        out.append(
            (f"{x['case']}: finite-difference relative error", x["fd_relative_error"], r["fd_tolerance"])
        )
        slope = get_script("tt_tucker_c1_gradients").load().slope_tolerance(r)
        out.append((f"{x['case']}: |Taylor slope - 2|", abs(x["taylor_slope"] - 2), slope))
        out.append((f"{x['case']}: gradcheck failed", int(not x["gradcheck"]), 0))
    return out


ORTHONORMALITY = ("orthonormality_static", "orthonormality_rgd", "norm_gap")


def tt_tucker_c2(r: dict) -> list[Rule]:
    out = []
    for x in r["rows"]:
        out += [(f"{x['case']}: {k}", x[k], r["orth_tol"]) for k in ORTHONORMALITY]
        out.append((f"{x['case']}: reconstruction", x["reconstruction"], r["rec_tol"]))
    return out


def tt_tucker_c11(r: dict) -> list[Rule]:
    tol, g = r["tolerances"], r["generators"]
    return [
        ("polar retraction: expanding cases (excess > 1e-12)", r["retraction"]["violations"]["polar"], 0),
        ("odeco singular values", g["odeco_error"], tol["odeco"]),
        ("format kappa vs dense kappa", g["kappa_relative_error"], tol["kappa"]),
        ("normalizations' iterates", r["normalizations"]["iterate_relative_gap"], tol["iterates"]),
    ]


RULES: dict[str, Callable[[dict], list[Rule]]] = {
    "bdpr_c1_fft_lifting": bdpr_c1,
    "bdpr_c5_classification": bdpr_c5,
    "bdpr_c7_tan_recursion": bdpr_c7,
    "bdpr_c14_invariances": bdpr_c14,
    "sae_c1_prox_identities": sae_c1,
    "sae_c2_one_step": sae_c2,
    "sae_c3_sign_structure": sae_c3,
    "sae_c7_l0_exact": sae_c7,
    "sae_c14_nmse_conventions": sae_c14,
    "tomo_c1_stabilizer_design": tomo_c1,
    "tomo_c2_mub_design": tomo_c2,
    "tomo_c3_sic_frame": tomo_c3,
    "tomo_c4_design_embedding": tomo_c4,
    "tomo_c5_least_squares_shadow": tomo_c5,
    "tomo_c6_third_moment": tomo_c6,
    "tomo_c12_trace_vs_frobenius": tomo_c12,
    "tomo_c13_pepo_difference": tomo_c13,
    "tomo_c14_local_sic_conditioning": tomo_c14,
    "tomo_c18_exact_contraction": tomo_c18,
    "tomo_c20_product_not_design": tomo_c20,
    "tt_tucker_c1_gradients": tt_tucker_c1,
    "tt_tucker_c2_canonical_form": tt_tucker_c2,
    "tt_tucker_c11_geometry_facts": tt_tucker_c11,
}


# --- the analysis -------------------------------------------------------------------------------


def headroom(worst: float, bound: float) -> float | str:
    """bound / worst; "exact" for a mismatch count (bound 0), "inf" when the worst is 0."""
    if bound == 0:
        return "exact"
    return bound / worst if worst > 0 else "inf"


def number(x: float) -> float | str:
    """``x`` for JSON: a non-finite value as its string."""
    return float(x) if math.isfinite(x) else str(x)


def worst_per_rule(runs: list[dict], rules: Callable[[dict], list[Rule]]) -> dict[str, dict]:
    """Per rule: its bound, the worst (largest) value over ``runs`` and the median over the runs of
    each run's worst."""
    per_run: dict[str, list[float]] = {}
    bounds: dict[str, float] = {}
    for k, r in enumerate(runs):
        for rule, value, bound in rules(r):
            if bounds.setdefault(rule, bound) != bound:
                raise ValueError(f"{rule}: bound {bound} in run {k}, {bounds[rule]} before")
            values = per_run.setdefault(rule, [-math.inf] * len(runs))
            values[k] = max(values[k], float(value))
    out = {}
    for rule, values in per_run.items():
        v = np.array([x for x in values if x > -math.inf])
        worst = float(v.max())
        median, bound = float(np.median(v)), bounds[rule]
        out[rule] = {"bound": bound, "worst": worst, "median": median, "draws": int(v.size),
                     "headroom": headroom(worst, bound)}  # fmt: skip
    return out


def analyse(name: str, runs: dict[int, dict], full: dict[int, dict]) -> dict:
    """One check's rules over its quick runs and its full runs (``results`` dicts by seed)."""
    script, rules_of = get_script(name).load(), RULES[name]
    summary = {"check": name, "draws": len(runs), "full_runs": len(full)}
    for mode, draws in (("quick", runs), ("full", full)):
        failed = [seed for seed, r in draws.items() if script.check(r)]
        summary[f"{mode}_failed_at"] = failed
        summary[f"{mode}_rules_disagree_with_check_at"] = [
            seed for seed, r in draws.items() if (seed in failed) != any(v > b for _, v, b in rules_of(r))
        ]
    rules = worst_per_rule(list(runs.values()), rules_of)
    for rule, entry in worst_per_rule(list(full.values()), rules_of).items():
        # the bound is the quick runs' (the check's current tolerance; for a rule only full mode
        # has, that of the quick rule of the same kind, "<where>: <what>"): full runs made before
        # a tolerance was widened carry the former one, and the worst value does not depend on it
        kind = rule.rpartition(": ")[2]
        same_kind = [e["bound"] for r, e in rules.items() if r.rpartition(": ")[2] == kind]
        rules.setdefault(rule, {"bound": same_kind[0] if same_kind else entry["bound"], "draws": 0})
        room = headroom(entry["worst"], rules[rule]["bound"])
        rules[rule].update(full=entry["worst"], full_headroom=room, full_runs=entry["draws"])
    summary["rules"] = {rule: {k: number(v) if isinstance(v, float) else v for k, v in e.items()}
                        for rule, e in rules.items()}  # fmt: skip
    return summary


def load(folder: str | None, seeds: list[int], name: str) -> dict[int, dict]:
    """The results of ``name`` under ``folder/seed-S/`` for the seeds that have them."""
    out = {}
    for seed in seeds if folder else ():
        path = Path(folder) / f"seed-{seed}" / name / "results.json"
        if path.exists():
            out[seed] = from_jsonable(json.loads(path.read_text()))
    return out


def seeds_arg(text: str) -> list[int]:
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    return f"{x:.0f}" if x == int(x) and abs(x) < 1e6 else f"{x:.1e}"


def fmt_headroom(x) -> str:
    return f"{x:.3g}" if isinstance(x, float) and x < 1e4 else fmt(x)


def markdown(summaries: list[dict], seeds: list[int], full_seeds: list[int] | None) -> str:
    full = (
        f" and full-mode runs at seeds {full_seeds[0]}-{full_seeds[-1]} (where present)" if full_seeds else ""
    )
    lines = [f"Deterministic checks: every rule's worst value over the quick-mode draws at seeds "
             f"{seeds[0]}-{seeds[-1]}{full}; a rule fails when its value exceeds its bound; headroom = "
             "bound / worst (\"exact\": a mismatch count, bound 0; \"inf\": the worst is 0). A separation "
             "rule's value is the required minimum over the gap measured (bound 1). Draws: quick / full "
             "runs (failed).", "",
             "| check | draws | rule | worst (quick) | bound | headroom | worst (full) | headroom (full) |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for s in summaries:
        failed = len(s["quick_failed_at"]) + len(s["full_failed_at"])
        lead = f"`{s['check']}` | {s['draws']} / {s['full_runs']} ({failed})"
        for rule, e in s["rules"].items():
            worst, room = (fmt(e["worst"]), fmt_headroom(e["headroom"])) if e["draws"] else ("-", "-")
            name = rule.replace("|", "\\|")
            lines.append(f"| {lead} | {name} | {worst} | {fmt(e['bound'])} | {room} | "
                         f"{fmt(e.get('full'))} | {fmt_headroom(e.get('full_headroom'))} |")  # fmt: skip
            lead = " | "
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--draws-dir", required=True, help="OUT of `tensorrec reproduce --quick --seeds ...`")
    p.add_argument("--seeds", type=seeds_arg, default=seeds_arg("10-39"), help="seeds of the draws (10-39)")
    p.add_argument("--full-dir", help="full-mode runs: FULL/seed-S/<check>/results.json (optional)")
    p.add_argument("--full-seeds", type=seeds_arg, default=seeds_arg("0"), help="seeds of the full runs (0)")
    p.add_argument("--out", default="results", help="output folder")
    args = p.parse_args(argv)
    summaries = []
    for name in RULES:
        runs = load(args.draws_dir, args.seeds, name)
        if not runs:
            print(f"{name}: no draws found, skipped", file=sys.stderr)
            continue
        summaries.append(s := analyse(name, runs, load(args.full_dir, args.full_seeds, name)))
        ratios = [(e["headroom"], k) for k, e in s["rules"].items() if isinstance(e.get("headroom"), float)]
        closest = f"{min(ratios)[1]} (headroom {min(ratios)[0]:.3g})" if ratios else "none above 0"
        print(
            f"{name}: {s['draws']} quick / {s['full_runs']} full runs, failed at {s['quick_failed_at']} / "
            f"{s['full_failed_at']}, rules disagree with the check at "
            f"{s['quick_rules_disagree_with_check_at']} / {s['full_rules_disagree_with_check_at']}; "
            f"closest in quick mode: {closest}"
        )
    out = Path(args.out) / "calibration"
    out.mkdir(parents=True, exist_ok=True)
    full_seeds = args.full_seeds if args.full_dir else None
    write_json(
        out / "deterministic.json",
        {"seeds": [args.seeds[0], args.seeds[-1]], "full_seeds": full_seeds, "checks": summaries},
    )
    (out / "deterministic.md").write_text(markdown(summaries, args.seeds, full_seeds))
    print(f"written to {out / 'deterministic.json'} and {out / 'deterministic.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
