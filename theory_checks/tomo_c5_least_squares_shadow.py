"""Tomography claim C5: for a global 2-design, least squares equals the projected classical
shadow (docs: Theory and claims, Tomography, The estimator).

With the 2-qubit stabilizer POVM and M = 200 copies of a random state: over random
trace-one Hermitian rho, ||A(rho) - p-hat||^2 - alpha ||rho - rho_CS||_F^2 is one constant (its
spread is below 1e-12 of the loss scale), and one gradient step rho - (1/alpha) A*(A(rho) -
p-hat) lands on rho_CS to 1e-12 from every such rho. The loss uses the observed outcomes
only: ||A(rho)||^2 over all K elements minus 2 <A_obs(rho), p-hat_obs> plus ||p-hat||^2.
Deterministic given the sample: an identity, no false-fail rate.
Tolerance 1e-12; worst measured 5.1e-15 (the step; the spread 1.0e-15) over 30 quick seeds and
one full run (calibration/deterministic.py): headroom 196, a true claim cannot fail at any
seed.

Command: ``tensorrec experiments run tomo_c5_least_squares_shadow [--quick]``. Runtime: about 1 s.
"""

from __future__ import annotations

import dataclasses

import torch

from tensorrec import randn
from tensorrec.operators import fuse, unfuse
from tensorrec.quantum import Stabilizer, classical_shadow, random_mixed_state
from tensorrec.runner import script_main


@dataclasses.dataclass(frozen=True)
class Config:
    shots: int = 200
    points: int = 20
    tol: float = 1e-12


QUICK = {"points": 8}


def compute(cfg: Config, rng) -> dict:
    fam = Stabilizer(2)
    outcomes = fam.sample(random_mixed_state(fam.N, None, rng), cfg.shots, rng)
    full, observed = fam.operator(), fam.operator(outcomes)
    p = outcomes.freqs.to(torch.complex128)
    shadow, alpha = classical_shadow(outcomes), fam.alpha

    def loss(rho):
        f = fuse(rho, 2)
        return float(
            (full.apply(f).abs() ** 2).sum()
            - 2 * (observed.apply(f).conj() * p).real.sum()
            + (p.abs() ** 2).sum()
        )

    gaps, steps, scale = [], [], 0.0
    for _ in range(cfg.points):
        x = randn(rng, (fam.N, fam.N), dtype=torch.complex128)
        rho = x + x.mH
        rho = rho + (1 - torch.trace(rho)) / fam.N * torch.eye(fam.N, dtype=rho.dtype)  # trace one
        value = loss(rho)
        scale = max(scale, abs(value))
        gaps.append(value - alpha * float(((rho - shadow).abs() ** 2).sum()))
        residual_adjoint = full.adjoint(full.apply(fuse(rho, 2))) - observed.adjoint(p)  # A*(A(rho) - p-hat)
        step = rho - unfuse(residual_adjoint, 2, 2) / alpha
        steps.append(float((step - shadow).abs().max()))
    return {"spread": (max(gaps) - min(gaps)) / scale, "step": max(steps), "alpha": alpha, "tol": cfg.tol}


def check(results: dict) -> list[str]:
    out = []
    if not results["spread"] <= results["tol"]:
        out.append(
            f"the LS loss minus alpha ||rho - rho_CS||^2 varies by {results['spread']:.2e} of the loss"
        )
    if not results["step"] <= results["tol"]:
        out.append(f"one step of size 1/alpha misses rho_CS by {results['step']:.2e}")
    return out


def main(argv=None) -> int:
    return script_main(
        "tomo_c5_least_squares_shadow", Config, compute, check=check, quick=QUICK, doc=__doc__, argv=argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
