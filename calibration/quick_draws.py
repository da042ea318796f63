"""Calibration of the statistical theory checks from whole quick runs (issue 27, section 5).

The draws are the checks' own quick runs, each at its own seed, made by the runner:

    tensorrec reproduce --quick --seeds 10-109 --only <checks> --jobs 2 --backend serial --out DRAWS

(every sweep's trials go through the sweep runner into a resumable store under
``DRAWS/seed-S/_trials``; rerunning skips what is done). This script reads
``DRAWS/seed-S/<check>/results.json``, reruns each check's own ``check`` on every draw (so a
rule changed since the draws applies), and pulls out the statistic of each of its rules with
the bound it is held to (:data:`STATISTICS`). Per check it reports

- the draws failed (the empirical false-fail count of the true claim: every check here states
  a claim the theory and the pilot support);
- for a continuous statistic, its distribution against its bound over the pooled draws
  (:func:`_common.margin`: the bound's distance from the mean in sds and the per-occurrence
  tail under a normal fit);
- for a count (successes of a fixed number of trials), the pooled per-trial rate and the exact
  probability that a run fails its rule, at the measured rate and at either 95% confidence
  bound (Clopper-Pearson) of the rate, whichever is worse for the rule (a rule may fail on too
  few successes or on too many); each under the binomial law and under a beta-binomial with the
  measured intra-run correlation (the trials of one run share their instance, so the pooled
  binomial understates the spread of a run's count), whichever is worse;
- for a p-value (a test of a true null), the rule's level (its false-fail rate by construction)
  and a Kolmogorov-Smirnov test that the p-values drawn are uniform; where that test rejects
  (p < 0.01), the level scaled by the measured density of p-values below 0.1;
- the per-run false-fail estimate: the union (sum) over the rules and occurrences of their
  per-run probabilities (normal tails, binomial and beta-binomial probabilities, levels).

It writes ``OUT/calibration/quick_draws.json`` and a markdown table
``OUT/calibration/quick_draws.md``; the committed copies beside this script are the
measurement that the checks' docstrings quote.

Command: ``python calibration/quick_draws.py --draws-dir DRAWS --seeds 10-109 [--out results]
[--stamp-docstrings]`` (the last refreshes the checks' docstring paragraphs from this run).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import stats

from tensorrec.runner import from_jsonable, get_script, write_json
from tensorrec.testing import counts

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common


@dataclasses.dataclass(frozen=True)
class Stat:
    """One rule's statistic in one run: the run fails the rule when ``value`` is above
    ``bound`` (side "upper") or below it (side "lower"). ``log``: the normal fit is made to
    log(value) against log(bound) (a ratio or a mean of chi-square-like errors: positive and
    skewed, so a normal fit to the raw values misjudges its tails)."""

    rule: str
    value: float
    bound: float
    side: str
    log: bool = False


@dataclasses.dataclass(frozen=True)
class Count:
    """A count rule: ``k`` successes of ``n`` trials; ``fails(k, n)`` says whether the run
    fails the rule."""

    rule: str
    k: int
    n: int
    fails: Callable[[int, int], bool]


@dataclasses.dataclass(frozen=True)
class TwoCounts:
    """A rule on two counts, ``k1`` of ``n1`` and ``k2`` of ``n2`` (independent binomials);
    ``fails(k1, n1, k2, n2)`` says whether the run fails it."""

    rule: str
    k1: int
    n1: int
    k2: int
    n2: int
    fails: Callable[[int, int, int, int], bool]


@dataclasses.dataclass(frozen=True)
class PValue:
    """A test of a true null hypothesis at level ``alpha``: fails when ``p < alpha``."""

    rule: str
    p: float
    alpha: float


def band(rule: str, value: float, lo: float, hi: float, log: bool = False) -> list[Stat]:
    return [Stat(f"{rule} >= lo", value, lo, "lower", log), Stat(f"{rule} <= hi", value, hi, "upper", log)]


def z_band(rule: str, z: float, bound: float) -> list[Stat]:
    """|z| <= bound as two one-sided rules on the signed z (a normal fit to |z| would model a
    half-normal as a normal and misjudge the tail)."""
    return [Stat(f"{rule} >= -z", z, -bound, "lower"), Stat(f"{rule} <= z", z, bound, "upper")]


def all_succeed(fraction: float) -> Callable[[int, int], bool]:
    return lambda k, n: k < fraction * n


# --- the statistics of each check's rules -----------------------------------------------------


def bdpr_c3(r: dict) -> list:
    out = []
    for row in r["rows"]:
        where = f"{row['model']} {row['field']}"
        diff = row["monte_carlo"] - row["formula"]
        out += z_band(f"{where}: (MC - formula) / se", diff / row["se"], r["max_se"])
        out += z_band(f"{where}: (MC - formula) / |formula|", diff / abs(row["formula"]), row["tolerance"])
    return out


def bdpr_c6(r: dict) -> list:
    return [
        Stat(
            f"{row['model']} {row['field']} mu = {row['step']}: |rate - predicted|",
            abs(row["rate"] - row["predicted"]),
            r["tolerance"],
            "upper",
        )
        for row in r["rows"]
    ]


def bdpr_c12(r: dict) -> list:
    module = get_script("bdpr_c12_spurious_minima").load()
    rows, small, large = r["rows"], min(r["ms"]), max(r["ms"])
    spurious = [
        x
        for x in rows
        if x["m"] == small
        and x["outcome"] == "spurious_minimum"
        and x["grad_norm"] < 1e-8
        and x["value"] > 0.1
        and x["min_eigenvalue"] > 0
    ]
    (f_small, n_small), (f_large, n_large) = module.failures(rows, small), module.failures(rows, large)

    def rises(k1, n1, k2, n2):
        return counts.rise_p_value(k1, n1, k2, n2) < r["alpha"]

    return [
        Count(
            f"m = {small}: strict spurious minima with loss > 0.1 (at least one)",
            len(spurious),
            n_small,
            lambda k, n: k < 1,
        ),
        Count(
            f"m = {large}: starts reaching the global minimum (failure fraction capped)",
            n_large - f_large,
            n_large,
            lambda k, n: (n - k) / n > r["max_failure_large_m"],
        ),
        TwoCounts(
            f"failures at m = {small} and m = {large}: no significant rise",
            f_small,
            n_small,
            f_large,
            n_large,
            rises,
        ),
    ]


def bdpr_c13(r: dict) -> list:
    rows = r["rows"]
    return [Count("successes", sum(x["success"] for x in rows), len(rows), all_succeed(r["min_fraction"]))]


def bdpr_c15(r: dict) -> list:
    out = []
    for row in r["rows"]:
        out += band(
            f"radius {row['radius']}: alpha(0) relative error",
            row["alpha0"] / row["exact_alpha0"] - 1,
            -1e-3,
            1e-2,
        )
        out.append(
            Stat(
                f"radius {row['radius']}: |max 4 alpha beta relative error|",
                abs(row["best"][2] / row["exact_best"] - 1),
                1e-2,
                "upper",
            )
        )
    out += [
        Stat(f"local {row['model']}: frontier deviation", row["max_rel_deviation"], 1e-3, "upper")
        for row in r["local"]
    ]
    return out


def core_rayleigh(r: dict) -> list:
    return [
        Stat(
            f"mu = {row['step']}: |fitted - predicted|",
            abs(row["fitted"] - row["predicted"]),
            r["tolerance"],
            "upper",
        )
        for row in r["rows"]
    ]


def sae_c6(r: dict) -> list:
    t = r["thresholds"]
    return [
        Stat("TopK sign-consistent fraction (min over runs)", r["sign_topk_min"], 1.0, "lower"),
        Stat("AbsTopK sign-consistent fraction", r["sign_abstopk"], t["abstopk_sign_max"], "upper"),
        Stat("NMSE(AbsTopK) - NMSE(TopK)", r["gap"], t["gap_min"], "lower"),
    ]


def sae_c8(r: dict) -> list:
    t = r["thresholds"]
    return [
        Stat("fraction within TAF", r["within"], t["within_min"], "lower"),
        Stat("dead fraction", r["dead"], t["dead_max"], "upper"),
        Stat("|mean L0 - sum of frequencies|", r["l0_gap"], 1e-9, "upper"),
    ]


def tomo_c7(r: dict) -> list:
    return [
        s
        for row in r["rows"]
        for s in z_band(
            f"N = {row['N']}, M = {row['M']}: (mean - predicted) / se",
            (row["mean"] - row["predicted"]) / row["se"],
            r["z"],
        )
    ]


def tomo_c8(r: dict) -> list:
    (lo, hi), out = r["band"], []
    for row in r["rows"]:
        where = f"N = {row['N']}, M = {row['M']}"
        out += [
            Stat(
                f"{where}: (mean - lo x predicted) / se",
                (row["mean"] - lo * row["predicted"]) / row["se"],
                -r["z"],
                "lower",
            ),
            Stat(
                f"{where}: (mean - hi x predicted) / se",
                (row["mean"] - hi * row["predicted"]) / row["se"],
                r["z"],
                "upper",
            ),
        ]
    return out


def tomo_c9(r: dict) -> list:
    (lo, hi), out = r["band"], []
    for c in r["cells"]:
        if c["M"] < r["min_shots"]:
            continue
        where = f"{c['lattice']}, M = {c['M']}"
        out += band(f"{where}: error ratio", c["ratio"], lo, hi, log=True)
        if c["n"] >= 6:
            out.append(
                Stat(
                    f"{where}: error / raw shadow error",
                    c["mean_error2"] / c["raw_error2"],
                    r["raw_factor"],
                    "upper",
                )
            )
        rate = r["budget_rate"]
        out.append(
            Count(
                f"{where}: converged",
                c["converged"],
                c["trials"],
                lambda k, n, rate=rate: counts.too_many(n - k, n, rate, 0.01),
            )
        )
    return out


def tomo_c10(r: dict) -> list:
    rows, rate, alpha = r["rows"], r["rate"], r["alpha"]
    return [
        Count(
            "snake start reached the truth start's loss",
            sum(x["reached"] for x in rows),
            len(rows),
            lambda k, n: counts.too_few(k, n, rate, alpha),
        )
    ]


def tomo_c11(r: dict) -> list:
    (lo, hi), out = r["band"], []
    for lat in sorted({c["lattice"] for c in r["cells"]}):
        cells = {c["M"]: c for c in r["cells"] if c["lattice"] == lat}
        base, N = cells[1]["ratio"], cells[1]["N"]
        out += band(f"{lat}, M = 1: normalised error", base, lo, hi, log=True)
        for M, c in sorted(cells.items()):
            if M <= N / 4:
                out += band(
                    f"{lat}, M = {M}: error / error at M = 1",
                    c["ratio"] / base,
                    1 / r["flat"],
                    r["flat"],
                    log=True,
                )
                out.append(
                    Count(
                        f"{lat}, M = {M}: converged",
                        c["converged"],
                        c["trials"],
                        lambda k, n: counts.too_many(n - k, n, r["budget_rate"], r["budget_alpha"]),
                    )
                )
            if M >= 4 * N:
                out.append(
                    Stat(
                        f"{lat}, M = {M}: error / error at M = 1",
                        c["ratio"] / base,
                        r["blowup"],
                        "lower",
                        log=True,
                    )
                )
    return out


def tomo_c15(r: dict) -> list:
    lo, hi = r["band"]
    out = [
        s
        for c in r["cells"]
        if c["in_regime"]
        for s in band(f"n = {c['n']}, D = {c['D']}, M = {c['M']}: C", c["C"], lo, hi, log=True)
    ]
    return (
        out
        + band("slope", r["slope"], *r["slope_band"])
        + [Stat("PGD - PCS after one step", r["pgd_gap"], r["identity_tol"], "upper")]
    )


def tomo_c16(r: dict) -> list:
    return [
        Stat("stabilizer overlap defect", r["worst_match"], 1e-10, "upper"),
        PValue("chi-square uniformity", r["p_value"], r["alpha"]),
    ]


def tomo_c17(r: dict) -> list:
    return [
        s
        for row in r["rows"]
        for s in z_band(
            f"N = {row['N']}, moment {row['moment']}: (mean - exact) / se",
            (row["mean"] - row["exact"]) / row["se"],
            r["z"],
        )
    ]


def tomo_c19(r: dict) -> list:
    law = get_script("tomo_c19_no_compression").load().law_bounds(r)
    return [
        *band("mean ratio err^2(PEPS) / err^2(pure)", r["ratio"], *r["band"]),
        *band("mean ratio against the first-order law", r["ratio"], *law),
        Count(
            "converged",
            r["converged"],
            r["trials"],
            lambda k, n: counts.too_many(n - k, n, 0.05, 1e-3),
        ),
    ]


def tt_tucker_c4(r: dict) -> list:
    module = get_script("tt_tucker_c4_rate_formula").load()
    out, rates = [], {}
    for row in r["rows"]:
        where = f"{row['format']} N = {row['order']} mu = {row['step']} scale = {row['scale']}"
        gap = abs(row["asymptotic_rate"] - row["predicted"])
        out.append(Stat(f"{where}: |rate - predicted|", gap, r["tolerance"], "upper"))
        rates[(row["format"], row["order"], row["seed"], row["step"], row["scale"])] = row
    for (order, _, step), (observed, predicted) in module.advantages(rates).items():
        where = f"tucker N = {order} mu = {step}: sigma_max^2 advantage"
        out.append(
            Stat(f"{where}, observed - predicted", observed - predicted, -r["advantage_tolerance"], "lower")
        )
    return out


def tt_tucker_c5(r: dict) -> list:
    module = get_script("tt_tucker_c5_sensing_spectral").load()
    out = []
    for fmt, rows in r["success"].items():
        target = r["targets"][fmt]
        out.append(
            Count(
                f"{fmt}: successes",
                sum(x["final_error"] < target for x in rows),
                len(rows),
                all_succeed(r["min_fraction"]),
            )
        )
    for fmt, rows in r["grids"].items():
        for (order, d), (ms, q) in module.paired_rates(rows).items():
            where = f"{fmt} (N, d) = ({order}, {d})"
            means = q.mean(axis=1)
            out.append(
                Stat(
                    f"{where}: mean rate m = {ms[0]} minus m = {ms[-1]}",
                    float(np.mean(q[0] - q[-1])),
                    0.0,
                    "lower",
                )
            )
            out.append(
                Stat(
                    f"{where}: largest rise of the mean rate",
                    float(np.max(np.diff(means))),
                    r["rise_tolerance"],
                    "upper",
                )
            )
    return out


def tt_tucker_c6(r: dict) -> list:
    out = []
    for fmt in ("tucker", "tt"):
        at_p_max, above_min = r["bounds"][fmt]
        rows = r[fmt]
        for order in sorted({x["order"] for x in rows}):
            for ratio in sorted({x["ratio"] for x in rows}):
                cell = [x["success"] for x in rows if x["order"] == order and x["ratio"] == ratio]
                if ratio <= 1.0:
                    fails = lambda k, n, p=at_p_max: counts.too_many(k, n, p, r["alpha"])  # noqa: E731
                else:
                    fails = lambda k, n, p=above_min: counts.too_few(k, n, p, r["alpha"])  # noqa: E731
                out.append(Count(f"{fmt} N = {order}, m = {ratio} p: successes", sum(cell), len(cell), fails))
    return out


def tt_tucker_c9(r: dict) -> list:
    """The gaps are positive and spread over decades (1e-8 to 1e-4 against the bound 1e-3): a
    normal fit on the log scale (an exact 0, the best case, is floored at 1e-300)."""
    out = []
    for k in range(r["seeds"]):
        polar, qr = r["rates"][f"{k}/polar"], r["rates"][f"{k}/qr"]
        if np.isnan(polar) and np.isnan(qr):  # stalled within the budget: the last errors
            e_polar, e_qr = r["finals"][f"{k}/polar"], r["finals"][f"{k}/qr"]
            gap = abs(e_polar - e_qr) / max(e_polar, e_qr)
            rule = "stalled draw: relative gap of the last errors"
        else:
            rule, gap = "|polar rate - QR rate|", abs(polar - qr)
        out.append(Stat(rule, max(gap, 1e-300), r["tolerance"], "upper", log=True))
    rated = [
        not (np.isnan(r["rates"][f"{k}/polar"]) and np.isnan(r["rates"][f"{k}/qr"]))
        for k in range(r["seeds"])
    ]
    one_sided = sum(
        np.isnan(r["rates"][f"{k}/polar"]) != np.isnan(r["rates"][f"{k}/qr"]) for k in range(r["seeds"])
    )
    out.append(
        Count(
            "draws rated by both retractions or by neither",
            r["seeds"] - one_sided,
            r["seeds"],
            all_succeed(1.0),
        )
    )
    out.append(Count("draws with a rate (a run needs one)", sum(rated), r["seeds"], lambda k, n: k < 1))
    return out


def tt_tucker_c10(r: dict) -> list:
    bad = ("diverged", "nan", "stalled", "line_search_failed")
    runs = r["runs"]
    fixture = r["fixture"]
    return [
        Count(
            "runs without a bad stop",
            sum(x["stop_reason"] not in bad for x in runs),
            len(runs),
            lambda k, n: k < n,
        ),
        Stat("fixture mu = 0.5: final relative error", fixture["0.5"]["final_error"], 1e-11, "upper"),
    ]


STATISTICS: dict[str, Callable[[dict], list]] = {
    "bdpr_c3_population_closed_forms": bdpr_c3,
    "bdpr_c6_population_rate": bdpr_c6,
    "bdpr_c12_spurious_minima": bdpr_c12,
    "bdpr_c13_true_bdpr": bdpr_c13,
    "bdpr_c15_regularity": bdpr_c15,
    "core_rayleigh_rate": core_rayleigh,
    "sae_c6_nonnegative_control": sae_c6,
    "sae_c8_frequency_control": sae_c8,
    "tomo_c7_raw_shadow_error": tomo_c7,
    "tomo_c8_projected_error": tomo_c8,
    "tomo_c9_peps_copies": tomo_c9,
    "tomo_c10_snake_start": tomo_c10,
    "tomo_c11_haar_settings": tomo_c11,
    "tomo_c15_mpo_copies": tomo_c15,
    "tomo_c16_clifford_sampler": tomo_c16,
    "tomo_c17_beta_sampler": tomo_c17,
    "tomo_c19_no_compression": tomo_c19,
    "tt_tucker_c4_rate_formula": tt_tucker_c4,
    "tt_tucker_c5_sensing_spectral": tt_tucker_c5,
    "tt_tucker_c6_phase_transition": tt_tucker_c6,
    "tt_tucker_c9_retraction": tt_tucker_c9,
    "tt_tucker_c10_step_safety": tt_tucker_c10,
}


# --- the analysis -------------------------------------------------------------------------------


def clopper_pearson_upper(failures: int, n: int, level: float = 0.95) -> float:
    """The one-sided upper confidence bound on a failure rate from ``failures`` of ``n``."""
    return 1.0 if failures >= n else float(stats.beta.ppf(level, failures + 1, n - failures))


MIN_OCCURRENCES = 20
"""A continuous rule seen fewer times over all the runs (a rule for a rare case, such as
tt_tucker_c9's stalled draws) is reported but not certified by its normal fit."""


def normal_tail_upper(values: np.ndarray, bound: float, side: str, level: float = 0.95) -> float:
    """The one-sided ``level`` upper confidence bound on P(X beyond ``bound``) for normal X fitted
    to the n ``values``: with k = (bound - mean) / sd (signed toward the bound's side), the
    lower confidence bound on delta = (bound - mu) / sigma is k - z sqrt(1 / n + k^2 / (2 (n - 1)))
    (the normal approximation to the noncentral t of normal tolerance bounds, accurate for
    n >= 30: the fit's mean and sd are both uncertain), and the tail is Phi(-delta)."""
    v = np.asarray(values, dtype=float)
    n = v.size
    sd = float(v.std(ddof=1)) if n > 1 else 0.0
    if n < 3 or sd == 0:
        return float((v.max() > bound) if side == "upper" else (v.min() < bound))
    k = (bound - float(v.mean())) / sd * (1.0 if side == "upper" else -1.0)
    delta = k - stats.norm.ppf(level) * np.sqrt(1 / n + k * k / (2 * (n - 1)))
    return float(stats.norm.sf(delta))


def count_false_fail(n: int, fails: Callable[[int, int], bool], p: float, rho: float = 0.0) -> float:
    """P(the rule fails) for k ~ Binomial(n, p), or for ``rho`` > 0 the beta-binomial with
    mean n p and intra-run correlation ``rho`` (the trials of one run share their instance)."""
    if rho > 0 and 0 < p < 1:
        law = stats.betabinom(n, p * (1 / rho - 1), (1 - p) * (1 / rho - 1))
    else:
        law = stats.binom(n, p)
    return float(sum(law.pmf(k) for k in range(n + 1) if fails(k, n)))


def overdispersion(items: list) -> float:
    """The intra-run correlation of a count rule's trials (method of moments over the runs of
    each size; the largest over the sizes, 0 when the counts vary no more than binomially): a
    pooled binomial ignores that trials of one run share a truth or an instance."""
    rho = 0.0
    for m in {s.n for s in items}:
        k = np.array([s.k for s in items if s.n == m], dtype=float)
        p = k.sum() / (m * k.size)
        if k.size < 2 or m < 2 or not 0 < p < 1:
            continue
        ratio = k.var(ddof=1) / (m * p * (1 - p))
        rho = max(rho, min((ratio - 1) / (m - 1), 0.99))
    return rho


def two_counts_false_fail(n1: int, n2: int, fails, p1: float, p2: float) -> float:
    """P(the rule fails) for k1 ~ Binomial(n1, p1), k2 ~ Binomial(n2, p2) independent."""
    return float(
        sum(
            stats.binom.pmf(a, n1, p1) * stats.binom.pmf(b, n2, p2)
            for a in range(n1 + 1)
            for b in range(n2 + 1)
            if fails(a, n1, b, n2)
        )
    )


def analyse(name: str, runs: list[dict]) -> dict:
    """One check's calibration from its quick runs (``results`` dicts)."""
    script = get_script(name).load()
    failed = [i for i, r in enumerate(runs) if script.check(r)]
    per_run = [STATISTICS[name](r) for r in runs]
    rules: dict[str, list] = {}
    for items in per_run:
        for s in items:
            rules.setdefault(s.rule, []).append(s)
    draws, table, union, union_upper = len(runs), {}, 0.0, 0.0
    for rule, items in rules.items():
        per_draw = len(items) / draws  # occurrences per run
        first = items[0]
        if isinstance(first, Stat):
            values, bound = np.array([s.value for s in items], dtype=float), first.bound
            if first.log:
                with np.errstate(divide="ignore", invalid="ignore"):
                    values, bound = np.log(values), float(np.log(bound))
            entry = _common.margin(values, bound, first.side)
            entry["scale"] = "log" if first.log else "linear"
            if "non_finite" in entry:  # reported, and charged as a certain failure
                entry["per_run"] = entry["per_run_at_95%_bound"] = per_draw
            else:
                entry["per_run"] = per_draw * entry["per_run_normal_tail"]
                entry["per_run_at_95%_bound"] = per_draw * normal_tail_upper(values, bound, first.side)
            entry["certified"] = len(items) >= MIN_OCCURRENCES
            union += entry["per_run"]
            union_upper += entry["per_run_at_95%_bound"]
        elif isinstance(first, Count):
            k, n = sum(s.k for s in items), sum(s.n for s in items)
            sizes = sorted({s.n for s in items})
            p_hat = k / n
            p_bounds = (1 - clopper_pearson_upper(n - k, n), clopper_pearson_upper(k, n))
            rho = overdispersion(items)

            def mean_over_sizes(p, rho=0.0, fails=first.fails, sizes=sizes):
                return sum(count_false_fail(m, fails, p, rho) for m in sizes) / len(sizes)

            at_hat = max(mean_over_sizes(p_hat), mean_over_sizes(p_hat, rho))
            at_bound = max(mean_over_sizes(p, r) for p in p_bounds for r in (0.0, rho))
            entry = {
                "successes": k,
                "trials": n,
                "trials_per_run": sizes,
                "rate": p_hat,
                "rate_95%_bounds": list(p_bounds),
                "overdispersion_rho": rho,
                "runs_failed": int(sum(bool(s.fails(s.k, s.n)) for s in items)),
                "per_run": per_draw * at_hat,
                "per_run_at_95%_bound": per_draw * at_bound,
            }
            union += entry["per_run"]
            union_upper += entry["per_run_at_95%_bound"]
        elif isinstance(first, TwoCounts):
            k1, n1, k2, n2 = (sum(getattr(s, a) for s in items) for a in ("k1", "n1", "k2", "n2"))
            p1, p2 = k1 / n1, k2 / n2
            bounds1 = (1 - clopper_pearson_upper(n1 - k1, n1), clopper_pearson_upper(k1, n1))
            bounds2 = (1 - clopper_pearson_upper(n2 - k2, n2), clopper_pearson_upper(k2, n2))
            at_hat = two_counts_false_fail(first.n1, first.n2, first.fails, p1, p2)
            at_bounds = max(
                two_counts_false_fail(first.n1, first.n2, first.fails, a, b) for a in bounds1 for b in bounds2
            )
            entry = {
                "rates": [p1, p2],
                "trials": [n1, n2],
                "rates_95%_bounds": [bounds1, bounds2],
                "runs_failed": int(sum(bool(s.fails(s.k1, s.n1, s.k2, s.n2)) for s in items)),
                "per_run": per_draw * at_hat,
                "per_run_at_95%_bound": per_draw * at_bounds,
            }
            union += entry["per_run"]
            union_upper += entry["per_run_at_95%_bound"]
        else:
            ps = np.array([s.p for s in items])
            ks = float(stats.kstest(ps, "uniform").pvalue)
            # a test whose p-values are not uniform under the true claim does not hold its level:
            # the level is then scaled by the measured density of small p-values
            inflation = max(1.0, float(np.mean(ps < 0.1)) / 0.1) if ks < 0.01 else 1.0
            entry = {
                "alpha": first.alpha,
                "p_min": float(ps.min()),
                "runs_failed": int((ps < first.alpha).sum()),
                "ks_uniform_p": ks,
                "level_inflation": inflation,
                "per_run": per_draw * first.alpha * inflation,
            }
            union += entry["per_run"]
            union_upper += entry["per_run"]
        table[rule] = entry
    return {
        "check": name,
        "draws": draws,
        "draws_failed": len(failed),
        "failed_at": failed,
        "false_fail_per_run": union,
        "false_fail_per_run_at_95%_bounds": union_upper,
        "draws_failed_95%_upper": clopper_pearson_upper(len(failed), draws),
        "rules": table,
    }


def seeds_arg(text: str) -> list[int]:
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def markdown(summaries: list[dict], seeds: list[int]) -> str:
    lines = [
        f"Quick-mode draws at seeds {seeds[0]}-{seeds[-1]}.",
        "",
        "| check | draws | failed | per-run false-fail (normal tails / binomial at the measured rate) "
        "| at the 95% bounds (counts, normal fits) | closest rule |",
        "|---|---|---|---|---|---|",
    ]
    for s in summaries:
        worst = max(s["rules"].items(), key=lambda kv: kv[1].get("per_run", 0.0))
        lines.append(
            f"| `{s['check']}` | {s['draws']} | {s['draws_failed']} | {s['false_fail_per_run']:.1e} | "
            f"{s['false_fail_per_run_at_95%_bounds']:.1e} | {worst[0]} ({worst[1].get('per_run', 0):.1e}) |"
        )
    return "\n".join(lines) + "\n"


def stamp_docstrings(summaries: list[dict], seeds: list[int], root: Path) -> None:
    """Insert or refresh the "Measured false-fail rate" paragraph of each check's docstring
    (before its "Command:" line) from this calibration."""
    for s in summaries:
        path = root / "theory_checks" / f"{s['check']}.py"
        text = path.read_text()
        worst = max(s["rules"].items(), key=lambda kv: kv[1].get("per_run", 0.0))
        few = [rule for rule, e in s["rules"].items() if e.get("certified") is False]
        uncertified = (
            f" (not certified: {'; '.join(few)}, seen fewer than {MIN_OCCURRENCES} times)" if few else ""
        )
        para = textwrap.fill(
            f"Measured false-fail rate (issue 27; ``calibration/quick_draws.py`` over {s['draws']} quick "
            f"runs at seeds {seeds[0]}-{seeds[-1]}, ``calibration/quick_draws.md``): "
            f"{s['draws_failed']} runs failed; {s['false_fail_per_run']:.1e} per quick run from the "
            f"statistics' fits and the counts' "
            f"measured rates ({s['false_fail_per_run_at_95%_bounds']:.1e} with every count at the worse 95% "
            f"bound of its rate, binomial or beta-binomial, and every normal fit at the 95% bound of its "
            f"tail){uncertified}; closest rule: {worst[0]} "
            f"({worst[1].get('per_run', 0.0):.1e}).",
            96,
        )
        text = re.sub(r"Measured false-fail rate \(issue 27;.*?\n\n", "", text, flags=re.S)
        i = text.index("Command:")
        path.write_text(text[:i] + para + "\n\n" + text[i:])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--draws-dir", required=True, help="OUT of `tensorrec reproduce --quick --seeds ...`")
    p.add_argument("--seeds", type=seeds_arg, default=seeds_arg("10-109"), help="seeds of the draws (10-109)")
    p.add_argument("--only", help="comma-separated checks (default: every check in STATISTICS)")
    p.add_argument("--out", default="results", help="output folder")
    p.add_argument(
        "--stamp-docstrings",
        action="store_true",
        help="refresh each check's 'Measured false-fail rate' docstring paragraph from this run",
    )
    args = p.parse_args(argv)
    names = args.only.split(",") if args.only else list(STATISTICS)
    unknown = sorted(set(names) - set(STATISTICS))
    if unknown:
        p.error(f"--only: no statistics for {', '.join(unknown)}; known: {', '.join(STATISTICS)}")
    summaries = []
    for name in names:
        runs = []
        for seed in args.seeds:
            path = Path(args.draws_dir) / f"seed-{seed}" / name / "results.json"
            if path.exists():
                runs.append(from_jsonable(json.loads(path.read_text())))
        if len(runs) < 2:
            print(f"{name}: {len(runs)} draws found, skipped", file=sys.stderr)
            continue
        summaries.append(analyse(name, runs))
        s = summaries[-1]
        print(
            f"{name}: {s['draws']} draws, {s['draws_failed']} failed, per run {s['false_fail_per_run']:.1e} "
            f"({s['false_fail_per_run_at_95%_bounds']:.1e} at the 95% bounds)"
        )
    out = Path(args.out) / "calibration"
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "quick_draws.json", {"seeds": [args.seeds[0], args.seeds[-1]], "checks": summaries})
    (out / "quick_draws.md").write_text(markdown(summaries, args.seeds))
    print(f"written to {out / 'quick_draws.json'} and {out / 'quick_draws.md'}")
    if args.stamp_docstrings:
        stamp_docstrings(summaries, args.seeds, Path(__file__).resolve().parent.parent)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
