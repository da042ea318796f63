"""Claim C11 (TT and Tucker): geometry and generator facts.

1. The polar retraction is non-expansive: ||R_U(xi) - V|| <= ||U + xi - V|| for every
   V on St (the convergence theory needs it); no violation on random cases (QR may violate it: counted).
2. Odeco unfoldings have singular values exactly lambda / ||lambda|| (to 1e-12).
3. The format-based kappa (no densifying) equals the dense kappa to 1e-10 relative.
4. The two sensing normalizations ("1/m" with ½||A(X) - y||^2, "unit" with the loss
   (1/(2m))||A'(X) - y'||^2, A' = sqrt(m) A, y' = sqrt(m) y) give the same iterates to 1e-12.
Tolerances against the worst measured over 30 quick seeds and one full run
(calibration/deterministic.py): kappa 1e-10 vs 2.2e-15 (headroom 4.6e4), odeco 1e-12 vs 4.4e-16
(2300), iterates 1e-11 vs 1.0e-14 (980; 98 at the former 1e-12); no polar expansion (excess > 1e-12) in
any run.

Command: ``tensorrec experiments run tt_tucker_c11_geometry_facts [--quick]``.
Runtime (one thread): about 3 s with --quick, 10 s in full.
"""

from __future__ import annotations

import dataclasses
import math

import torch

import tensorrec as tr
from tensorrec import randn
from tensorrec.formats import TTTensor, TuckerTensor, unfold
from tensorrec.manifolds import Stiefel
from tensorrec.operators import DenseGaussian
from tensorrec.recovery import LeastSquares, recover
from tensorrec.runner import script_main


@dataclasses.dataclass(frozen=True)
class Config:
    retraction_cases: int = 20000
    max_dim: int = 7
    tolerance_odeco: float = 1e-12
    tolerance_kappa: float = 1e-10
    tolerance_iterates: float = 1e-11


QUICK = {"retraction_cases": 2000}


def non_expansive(cfg: Config, rng) -> dict:
    gen = tr.as_generator(rng)
    violations = {"polar": 0, "qr": 0}
    worst = {"polar": 0.0, "qr": 0.0}
    for _ in range(cfg.retraction_cases):
        n = int(gen.integers(2, cfg.max_dim + 1))
        p = int(gen.integers(1, n + 1))
        U, V = Stiefel(n, p).random_point(gen), Stiefel(n, p).random_point(gen)
        xi = Stiefel(n, p).random_tangent(U, gen) * float(gen.uniform(0.01, 3.0))
        bound = float(torch.linalg.matrix_norm(U + xi - V))
        for name in violations:
            moved = float(torch.linalg.matrix_norm(Stiefel(n, p, retraction=name).retract(U, xi) - V))
            excess = (moved - bound) / bound
            if excess > 1e-12:
                violations[name] += 1
                worst[name] = max(worst[name], excess)
    return {"cases": cfg.retraction_cases, "violations": violations, "worst_excess": worst}


def generator_facts(rng) -> dict:
    gen = tr.as_generator(rng)
    lam = torch.tensor([1.0, 0.5], dtype=torch.float64) / math.sqrt(1.25)
    odeco_error, kappa_error = 0.0, 0.0
    for cls, ranks in ((TTTensor, (2,) * 4), (TuckerTensor, (2,) * 5)):
        x = cls.random((3,) * 5, ranks, gen, condition={"odeco": [1.0, 0.5]})
        odeco_error = max(odeco_error, max(float((s - lam).abs().max()) for s in x.singular_values()))
        y = cls.random((3, 4, 3, 4, 3), tuple(min(r, 2) for r in ranks), gen)
        dense = y.to_dense()
        if cls is TTTensor:
            svals = [
                torch.linalg.svdvals(dense.reshape(math.prod(dense.shape[: i + 1]), -1))[:r]
                for i, r in enumerate(y.ranks)
            ]
        else:
            svals = [torch.linalg.svdvals(unfold(dense, n))[:r] for n, r in enumerate(y.ranks)]
        dense_kappa = float(max(s[0] for s in svals) / min(s[-1] for s in svals))
        kappa_error = max(kappa_error, abs(y.condition_number() - dense_kappa) / dense_kappa)
    return {"odeco_error": odeco_error, "kappa_relative_error": kappa_error}


def normalizations(rng) -> dict:
    gen = tr.as_generator(rng)
    shape, ranks, m = (3, 3, 3, 3), (2, 2, 2), 150
    truth = TTTensor.random(shape, ranks, gen, condition={"kappa_max": 3.0})
    seed = int(gen.integers(2**31))
    a = DenseGaussian(shape, m, seed)
    b = DenseGaussian(shape, m, seed, normalization="unit")
    y = a.apply_format(truth) + 1e-3 * randn(gen, (m,), dtype=torch.float64)
    run_a = recover(a, y, ranks=ranks, stop={"max_iter": 40})
    # the same run in the unit convention: loss (1/(2m))||A'(X) - y'||^2, spectral start A'*(y')/m
    start = TTTensor.from_dense(b.adjoint(math.sqrt(m) * y) / m, ranks)
    objective = LeastSquares(start, b, math.sqrt(m) * y, weight=1.0 / m)
    problem = tr.Problem(start.manifold(scale=start.norm() ** 2), objective)
    run_b = tr.rgd(problem, start.to_point(), step=0.5, stop={"max_iter": 40}, validate=False)
    gap = run_a.point.distance(objective.tensor(run_b.point)) / run_a.point.norm()
    return {"iterate_relative_gap": gap}


def compute(cfg: Config, rng) -> dict:
    r1, r2, r3 = tr.spawn(rng, 3)
    return {
        "retraction": non_expansive(cfg, r1),
        "generators": generator_facts(r2),
        "normalizations": normalizations(r3),
        "tolerances": {
            "odeco": cfg.tolerance_odeco,
            "kappa": cfg.tolerance_kappa,
            "iterates": cfg.tolerance_iterates,
        },
    }


def check(results: dict) -> list[str]:
    tol, out = results["tolerances"], []
    if results["retraction"]["violations"]["polar"]:
        out.append(f"polar retraction expanded in {results['retraction']['violations']['polar']} cases")
    if results["generators"]["odeco_error"] > tol["odeco"]:
        out.append(f"odeco singular values off by {results['generators']['odeco_error']:.2e}")
    if results["generators"]["kappa_relative_error"] > tol["kappa"]:
        out.append(f"format kappa off the dense kappa by {results['generators']['kappa_relative_error']:.2e}")
    if results["normalizations"]["iterate_relative_gap"] > tol["iterates"]:
        out.append(
            f"normalizations' iterates differ by {results['normalizations']['iterate_relative_gap']:.2e}"
        )
    return out


def main(argv=None) -> int:
    return script_main(
        "tt_tucker_c11_geometry_facts", Config, compute, check=check, quick=QUICK, doc=__doc__, argv=argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
