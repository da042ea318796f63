"""Tomography claim C6: the second moment of the single-shot functional under a 3-design.

For the 2-qubit stabilizer POVM, g_X(k) = (N + 1) <phi_k|X|phi_k> and any state rho with
traceless Hermitian X: E_{k ~ p}[g_X^2] = (N + 1) / (N + 2) (||X||_F^2 + 2 tr(rho X^2)) <= 3
||X||_F^2, with the expectation over the exact outcome law. Random
pure and mixed rho; identity to 1e-12 relative. Deterministic up to round-off.
Tolerance 1e-12; worst measured 1.8e-15 over 30 quick seeds and one full run
(calibration/deterministic.py): headroom 560; the largest ratio E[g_X^2] / ||X||^2 was 1.65
(the theorem's bound 3).

Command: ``tensorrec experiments run tomo_c6_third_moment [--quick]``. Runtime: under 1 s.
"""

from __future__ import annotations

import dataclasses

import torch

from tensorrec import randn
from tensorrec.quantum import Stabilizer, density, random_mixed_state, random_pure_state
from tensorrec.runner import script_main


@dataclasses.dataclass(frozen=True)
class Config:
    qubits: int = 2
    pairs: int = 40
    tol: float = 1e-12


QUICK = {"pairs": 10}


def compute(cfg: Config, rng) -> dict:
    fam = Stabilizer(cfg.qubits)
    N, phi = fam.N, fam.vectors
    worst, ratio = 0.0, 0.0
    for i in range(cfg.pairs):
        rho = density(random_pure_state(N, rng)) if i % 2 == 0 else random_mixed_state(N, None, rng)
        x = randn(rng, (N, N), dtype=torch.complex128)
        x = x + x.mH
        x = x - torch.trace(x) / N * torch.eye(N, dtype=x.dtype)
        p = fam.probabilities(rho)
        g = (N + 1) * torch.einsum("ka,ab,kb->k", phi.conj(), x, phi).real
        lhs = float(p @ g**2)
        fro2 = float((x.abs() ** 2).sum())
        rhs = (N + 1) / (N + 2) * (fro2 + 2 * float(torch.trace(rho @ x @ x).real))
        worst, ratio = max(worst, abs(lhs - rhs) / rhs), max(ratio, lhs / fro2)
    return {"worst": worst, "max_ratio": ratio, "tol": cfg.tol}


def check(results: dict) -> list[str]:
    out = []
    if not results["worst"] <= results["tol"]:
        out.append(f"E[g_X^2] differs from the 3-design formula by {results['worst']:.2e} relative")
    if not results["max_ratio"] <= 3.0:
        out.append(f"E[g_X^2] / ||X||^2 reaches {results['max_ratio']:.3f} > 3")
    return out


def main(argv=None) -> int:
    return script_main(
        "tomo_c6_third_moment", Config, compute, check=check, quick=QUICK, doc=__doc__, argv=argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
