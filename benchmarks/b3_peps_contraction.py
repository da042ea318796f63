"""B3: contracting PEPS norms, ours against quimb on the same networks.

For L x L lattices and bond D: ``quimb.tensor.PEPS.rand(L, L, D, seed)`` (real float64, d = 2),
converted to our PEPS (:func:`tensorrec.formats.interop.from_quimb`, the same numbers); the
quantity is the double-layer norm <psi|psi>. Rows:

- ours, exact: one einsum over the 2 L^2 site tensors of the fused double layer along the
  planner's path (cotengra's hyper-optimizer above 12 operands), the path search timed apart
  (paid once per network structure: the tomography inner loop reuses it);
- quimb, exact: ``make_norm().contract(all, optimize=tree)`` with a cotengra
  ``HyperOptimizer`` tree (same settings as ours), search timed apart;
- ours, boundary MPS at bond cap chi in {D^2, 2 D^2, 4 D^2} (``norm(chi=chi)``) against
  quimb's ``contract_boundary(max_bond=chi)`` on the norm network (its default sequence),
  and with ``layer_tags=("KET", "BRA")`` (bra and ket absorbed one at a time), at equal chi;
- the naive baseline: opt_einsum's greedy path for the same network (search time, flops and
  width; not executed);
- accuracy over networks: for ``accuracy_seeds`` random PEPS per (L, D) small enough to
  contract exactly, the relative errors of both boundary contractions at each chi (one
  network's error is a coin flip between two good methods; the geometric mean over several
  and the count of networks where ours is at least as accurate are the comparison);
- ours, the Born probabilities of ``outcomes`` random product vectors in one batched exact
  contraction of the single layer (what the tomography estimators evaluate).

Reported per row: the median wall time over ``repeats`` warm runs, the relative error
against the exact value (the best exact value available: ours; where the exact contraction
would exceed memory, the boundary value at the largest chi), the path search time and the
achieved GFLOP/s of the exact execution against the operation count of the chosen tree.
Threads pinned to 1 (recorded in the manifest).

Command: ``python benchmarks/b3_peps_contraction.py [--quick]``. Runtime: quick about 1 min;
full (L in {4, 6, 8}, D in {2, 3, 4}) see benchmarks/README.md. Output:
``results/b3_peps_contraction/{results.json,table.md}``.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
import warnings

import torch

from tensorrec.formats import contraction
from tensorrec.formats.grid import contract_exact, exact_plan
from tensorrec.formats.interop import from_quimb
from tensorrec.runner import script_main, write_table


@dataclasses.dataclass(frozen=True)
class Config:
    sizes: tuple[int, ...] = (4, 6, 8)
    bonds: tuple[int, ...] = (2, 3, 4)
    chi_factors: tuple[int, ...] = (1, 2, 4)
    outcomes: int = 1000
    repeats: int = 3
    max_bytes: int = 2 * 2**30
    exact_quimb_width: float = 24.0
    accuracy_sizes: tuple[int, ...] = (4, 6)
    accuracy_bonds: tuple[int, ...] = (2, 3)
    accuracy_seeds: int = 8


QUICK = {"sizes": (3, 4), "bonds": (2,), "chi_factors": (1,), "outcomes": 100, "repeats": 2,
         "accuracy_sizes": (3,), "accuracy_bonds": (2,), "accuracy_seeds": 2}  # fmt: skip


def _median_time(fn, repeats: int):
    fn()  # warm-up (numba/JIT compilation, allocator)
    times, value = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), value


def _double_layer(psi):
    return [
        torch.einsum("sluro,sLURO->lLuUrRoO", t.conj(), t).reshape(*(a * a for a in t.shape[1:]))
        for t in psi.sites
    ]


def _hyper():
    import cotengra as ctg

    return ctg.HyperOptimizer(
        methods=["greedy", "labels"],
        max_repeats=32,
        minimize="flops",
        optlib="random",
        parallel=False,
        progbar=False,
    )


def _lattice_rows(q, L: int, D: int, cfg: Config) -> list[dict]:
    """Every row of one (L, D) network."""
    psi = from_quimb(q)
    layer = _double_layer(psi)
    norm_tn = q.make_norm()
    base = {"L": L, "D": D}
    rows, exact = [], None
    plan = exact_plan(layer, L, L)
    width = math.log2(max(plan.largest, 1))
    row = {**base, "tool": "ours exact", "chi": None, "search_seconds": plan.search_seconds, "width": width}
    if plan.largest * 8 <= cfg.max_bytes:
        t, exact = _median_time(lambda: float(contract_exact(layer, L, L)), cfg.repeats)
        rows.append({**row, "seconds": t, "value": exact, "gflops": contraction.flop_rate(plan, t, False)})
    else:
        rows.append({**row, "seconds": None, "value": None, "gflops": None,
                     "note": f"largest intermediate 2^{width:.1f} entries: above max_bytes"})  # fmt: skip
    greedy = exact_plan(layer, L, L, optimize="greedy")
    rows.append({**base, "tool": "opt_einsum greedy path (not run)", "chi": None, "seconds": None,
                 "value": None, "search_seconds": greedy.search_seconds,
                 "width": math.log2(max(greedy.largest, 1)),
                 "log10_flops": math.log10(max(greedy.flops, 1))})  # fmt: skip
    rows[0]["log10_flops"] = math.log10(max(plan.flops, 1))  # the exact row
    if exact is not None:  # the probabilities' normalisation is the exact norm
        phi = torch.randn(
            cfg.outcomes, L * L, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(L * D)
        )
        t, _ = _median_time(lambda: psi.born_probabilities(phi), cfg.repeats)
        tool = f"ours Born probabilities ({cfg.outcomes} product outcomes, exact)"
        rows.append({**base, "tool": tool, "chi": None, "seconds": t, "value": None})
    t0 = time.perf_counter()
    tree = norm_tn.contraction_tree(optimize=_hyper())
    search = time.perf_counter() - t0
    if tree.contraction_width() <= cfg.exact_quimb_width and exact is not None:
        t, value = _median_time(lambda: float(norm_tn.contract(all, optimize=tree)), cfg.repeats)
        rows.append({**base, "tool": "quimb exact (cotengra)", "chi": None, "seconds": t, "value": value,
                     "search_seconds": search, "gflops": tree.contraction_cost() / t / 1e9,
                     "width": tree.contraction_width(),
                     "log10_flops": math.log10(tree.contraction_cost())})  # fmt: skip
    for chi in (f * D * D for f in cfg.chi_factors):
        runs = {
            "ours boundary": lambda c=chi: psi.norm(chi=c) ** 2,
            "quimb boundary": lambda c=chi: float(norm_tn.contract_boundary(max_bond=c)),
            "quimb boundary (layers)": lambda c=chi: float(
                norm_tn.contract_boundary(max_bond=c, layer_tags=("KET", "BRA"))
            ),
        }
        for tool, fn in runs.items():
            t, value = _median_time(fn, cfg.repeats)
            rows.append({**base, "tool": tool, "chi": chi, "seconds": t, "value": value})
    reference, label = exact, "exact"
    if reference is None:  # the largest-chi boundary value of ours
        boundary = [r for r in rows if r["tool"] == "ours boundary"]
        reference = boundary[-1]["value"] if boundary else None
        label = f"ours boundary chi = {boundary[-1]['chi']}" if boundary else None
    for r in rows:
        if r.get("value") is not None and reference:
            r["error"], r["reference"] = abs(r["value"] - reference) / abs(reference), label
    return rows


def compute(cfg: Config, rng) -> dict:
    import quimb.tensor as qtn

    # quimb's own calls build cotengra's default optimizer, which warns that the optional
    # kahypar is missing; ours and the exact rows name their methods explicitly
    warnings.filterwarnings("ignore", message="Couldn't import `kahypar`")
    rows = []
    for L in cfg.sizes:
        for D in cfg.bonds:
            rows += _lattice_rows(qtn.PEPS.rand(L, L, D, seed=int(rng.integers(2**31))), L, D, cfg)
    accuracy = [
        _accuracy_row(L, D, f * D * D, [int(s) for s in rng.integers(2**31, size=cfg.accuracy_seeds)])
        for L in cfg.accuracy_sizes
        for D in cfg.accuracy_bonds
        for f in cfg.chi_factors
        if cfg.accuracy_seeds > 0
    ]
    return {"rows": rows, "accuracy": accuracy, "threads": torch.get_num_threads()}


def _accuracy_row(L: int, D: int, chi: int, seeds: list[int]) -> dict:
    """Boundary errors against the exact norm over random PEPS(L, L, D), ours and quimb's."""
    import quimb.tensor as qtn

    ours, theirs = [], []
    for seed in seeds:
        q = qtn.PEPS.rand(L, L, D, seed=seed)
        psi = from_quimb(q)
        exact = float(contract_exact(_double_layer(psi), L, L))
        ours.append(abs(psi.norm(chi=chi) ** 2 / exact - 1))
        theirs.append(abs(float(q.make_norm().contract_boundary(max_bond=chi)) / exact - 1))

    def geometric_mean(errors):  # errors at rounding level count as 1e-16
        return math.exp(statistics.fmean(math.log(max(e, 1e-16)) for e in errors))

    return {"L": L, "D": D, "chi": chi, "networks": len(seeds), "ours_error": geometric_mean(ours),
            "quimb_error": geometric_mean(theirs),
            "ours_at_least_as_accurate": sum(a <= b for a, b in zip(ours, theirs, strict=True))}  # fmt: skip


def table(results: dict) -> str:
    lines = [
        "| L | D | tool | chi | time (s) | rel. error | path search (s) | log10 flops | width | GFLOP/s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]

    def fmt(v, spec):
        return "-" if v is None else format(v, spec)

    for r in results["rows"]:
        cells = [
            r["L"],
            r["D"],
            r["tool"],
            fmt(r["chi"], "d"),
            fmt(r["seconds"], ".3g"),
            fmt(r.get("error"), ".1e"),
            fmt(r.get("search_seconds"), ".3g"),
            fmt(r.get("log10_flops"), ".1f"),
            fmt(r.get("width"), ".1f"),
        ]
        cells.append(fmt(r.get("gflops"), ".2f"))
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    lines += ["", "Boundary accuracy over networks (geometric mean of the relative errors):", "",
              "| L | D | chi | networks | ours | quimb | ours at least as accurate |",
              "|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in results.get("accuracy", []):
        lines.append(f"| {r['L']} | {r['D']} | {r['chi']} | {r['networks']} | {r['ours_error']:.1e} | "
                     f"{r['quimb_error']:.1e} | {r['ours_at_least_as_accurate']} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def plot(results: dict, out_dir):
    return write_table(table(results), out_dir)


def main(argv=None) -> int:
    return script_main("b3_peps_contraction", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
