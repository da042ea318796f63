"""L6: basin statistics -- how often random starts reach the global minimum (:ref:`theory-bdpr-claims`)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import torch

from tensorrec._backend import check_positive_finite, check_positive_int, tree_map
from tensorrec._random import RngLike, spawn
from tensorrec.landscape.classify import classify
from tensorrec.optim import GradNorm, MaxIter, Problem, rgd

OUTCOMES = ("global", "spurious_minimum", "saddle", "maximum", "degenerate", "unconverged")
_KIND_TO_OUTCOME = {"minimum": "spurious_minimum", "strict_saddle": "saddle", "maximum": "maximum"}


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (95% by default); (0, 1) for n = 0."""
    n = check_positive_int("n", n, minimum=0)
    successes = check_positive_int("successes", successes, minimum=0)
    if successes > n:
        raise ValueError(f"successes: expected at most n = {n}, got {successes}")
    z = check_positive_finite("z", z)
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclasses.dataclass(frozen=True)
class BasinReport:
    """``fractions[outcome] = (fraction, (low, high))`` with Wilson 95% intervals; ``records``:
    one dict per start (start index, final value, gradient norm, outcome, smallest Hessian
    eigenvalue for classified failures)."""

    fractions: dict
    records: list[dict]


def basin_statistics(
    problem: Problem,
    n_starts: int,
    success: Callable,
    *,
    step: float,
    max_iter: int = 2000,
    grad_tol: float = 1e-8,
    classify_failures: bool = True,
    symmetry=None,
    batch_size: int = 1,
    log=None,
    key: str = "start",
    rng: RngLike = None,
) -> BasinReport:
    """RGD (constant ``step``) from ``n_starts`` random points (``SeedSequence(rng).spawn``).

    A start is ``"global"`` when ``success(x)`` holds at its end; otherwise, when its
    gradient norm is below ``grad_tol``, it is classified (:func:`classify`) as a
    ``"spurious_minimum"``, ``"saddle"``, ``"maximum"`` or ``"degenerate"`` point, else
    ``"unconverged"``.

    ``batch_size > 1`` runs that many starts as one batched problem (the objective must accept
    leading batch axes and return one cost per element): the starts are the same, and each
    stops by its own rule (gradient norm below ``grad_tol`` or ``max_iter``;
    ``rgd(..., batched=True)``), so its outcome and iteration count equal a lone run's. With a
    ``log`` (anything with :meth:`tensorrec.sweep.Runner.compute_many`, e.g. a runner with a
    store), each finished start is committed under ``f"{key}{k}"`` as soon as its batch
    completes and read back on a rerun.
    """
    n_starts = check_positive_int("n_starts", n_starts)
    batch_size = check_positive_int("batch_size", batch_size)
    manifold = problem.manifold
    gens = spawn(rng, n_starts)
    stop = MaxIter(max_iter) | GradNorm(grad_tol)

    def run(chunk: list[int]) -> list[dict]:
        starts = [manifold.random_point(gens[k]) for k in chunk]
        x0 = starts[0] if batch_size == 1 else tree_map(lambda *parts: torch.stack(parts), *starts)
        res = rgd(problem, x0, step=step, stop=stop, batched=batch_size > 1)
        records = []
        for j, k in enumerate(chunk):
            one = res if batch_size == 1 else res.element(j)
            point = one.point
            value, rgrad = problem.value_and_rgrad(point)
            grad_norm = float(manifold.norm(point, rgrad).sum())
            record = {"start": k, "value": float(value), "grad_norm": grad_norm, "iterations": one.iterations}
            if success(point):
                record["outcome"] = "global"
            elif grad_norm < grad_tol and classify_failures:
                critical = classify(problem, point, symmetry=symmetry, grad_tol=grad_tol)
                record["outcome"] = _KIND_TO_OUTCOME.get(critical.kind, "degenerate")
                record["min_eigenvalue"] = float(critical.eigenvalues.min())
            else:
                record["outcome"] = "unconverged"
            records.append(record)
        return records

    if log is None:
        chunks = [list(range(n_starts))[s : s + batch_size] for s in range(0, n_starts, batch_size)]
        records = [record for chunk in chunks for record in run(chunk)]
    else:
        records = log.compute_many([f"{key}{k}" for k in range(n_starts)], run, batch_size=batch_size)
    counts = {o: sum(r["outcome"] == o for r in records) for o in OUTCOMES}
    fractions = {o: (c / n_starts, wilson_interval(c, n_starts)) for o, c in counts.items()}
    return BasinReport(fractions, records)


__all__ = ["BasinReport", "basin_statistics", "wilson_interval"]
