"""SAE claim 14: the two NMSE conventions and their exact ratio.

Paper D divides the reconstruction error by sum ||x||^2; SAEBench's explained variance centres
the data (sum ||x - mean||^2). ``sae.nmse`` returns both, and on positive and bipolar
``SparseMixture`` data with an imperfect reconstruction their ratio equals
sum ||x||^2 / sum ||x - mean||^2 to 1e-12 relative. The check also requires the two to differ
by more than 0.5% on positive data (so the labels matter). Deterministic: an identity.
Tolerance 1e-12; worst measured 2.2e-16 over 30 quick seeds and 5 full runs
(calibration/deterministic.py): headroom 4500; the positive-data ratio minus 1 was at least
0.026, 5.2x the required 0.005 (a margin of the data, not of rounding; 2.6x at the former
0.01).

Command: ``tensorrec experiments run sae_c14_nmse_conventions [--quick]``. Runtime: under 1 s.
"""

from __future__ import annotations

import dataclasses

from tensorrec import randn
from tensorrec.runner import script_main
from tensorrec.sae import SparseMixture, nmse


@dataclasses.dataclass(frozen=True)
class Config:
    n: int = 64
    d: int = 32
    s: int = 3
    samples: int = 20_000


QUICK = {"samples": 4000}


def compute(cfg: Config, rng) -> dict:
    rows = []
    for mode in ("pos", "bipolar"):
        data = SparseMixture(cfg.n, cfg.d, cfg.s, sign_mode=mode, held_out=cfg.samples, rng=rng)
        x = data.held_out_x
        both = nmse(x, x + 0.1 * randn(rng, tuple(x.shape), dtype=x.dtype))
        ratio = float((x**2).sum() / ((x - x.mean(0)) ** 2).sum())
        rows.append({"sign_mode": mode, **both, "ratio": ratio})
    return {"rows": rows}


def check(results: dict) -> list[str]:
    out = []
    for r in results["rows"]:
        if not abs(r["centred"] / r["raw"] / r["ratio"] - 1) <= 1e-12:
            out.append(
                f"{r['sign_mode']}: centred / raw = {r['centred'] / r['raw']:.15g}, "
                f"expected {r['ratio']:.15g}"
            )
    pos = next(r for r in results["rows"] if r["sign_mode"] == "pos")
    if not pos["ratio"] > 1.005:
        out.append(f"positive data: the conventions differ by only {pos['ratio'] - 1:.2%}")
    return out


def main(argv=None) -> int:
    return script_main(
        "sae_c14_nmse_conventions", Config, compute, check=check, quick=QUICK, doc=__doc__, argv=argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
