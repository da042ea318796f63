"""L6: basin statistics -- how often random starts reach the global minimum (spec 6.6)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

from tensorrec._backend import check_positive_int
from tensorrec._random import RngLike, spawn
from tensorrec.landscape.classify import classify
from tensorrec.optim import GradNorm, MaxIter, Problem, rgd

OUTCOMES = ("global", "spurious_minimum", "saddle", "maximum", "degenerate", "unconverged")
_KIND_TO_OUTCOME = {"minimum": "spurious_minimum", "strict_saddle": "saddle", "maximum": "maximum"}


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (95% by default)."""
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
    tol_grad: float = 1e-8,
    classify_failures: bool = True,
    symmetry=None,
    log=None,
    rng: RngLike = None,
) -> BasinReport:
    """RGD (constant ``step``) from ``n_starts`` random points (``SeedSequence(rng).spawn``).

    A start is ``"global"`` when ``success(x)`` holds at its end; otherwise, when its
    gradient norm is below ``tol_grad``, it is classified (:func:`classify`) as a
    ``"spurious_minimum"``, ``"saddle"``, ``"maximum"`` or ``"degenerate"`` point, else
    ``"unconverged"``. With a ``log`` (a :class:`~tensorrec.runner.TrialLog`), each finished
    start is written as it completes and skipped on a rerun.
    """
    n_starts = check_positive_int("n_starts", n_starts)
    manifold = problem.manifold
    records = []
    for k, gen in enumerate(spawn(rng, n_starts)):
        key = f"start{k}"
        if log is not None and key in log:
            records.append(log.records()[key])
            continue
        x0 = manifold.random_point(gen)
        res = rgd(problem, x0, step=step, stop=MaxIter(max_iter) | GradNorm(tol_grad))
        record = {"start": k, "value": res.value, "grad_norm": res.grad_norm, "iterations": res.iterations}
        if success(res.point):
            record["outcome"] = "global"
        elif res.grad_norm < tol_grad and classify_failures:
            point = classify(problem, res.point, symmetry=symmetry, tol_grad=tol_grad)
            record["outcome"] = _KIND_TO_OUTCOME.get(point.kind, "degenerate")
            record["min_eigenvalue"] = float(point.eigenvalues.min())
        else:
            record["outcome"] = "unconverged"
        if log is not None:
            log.write(key, record)
        records.append(record)
    counts = {o: sum(r["outcome"] == o for r in records) for o in OUTCOMES}
    fractions = {o: (c / n_starts, wilson_interval(c, n_starts)) for o, c in counts.items()}
    return BasinReport(fractions, records)


__all__ = ["BasinReport", "basin_statistics", "wilson_interval"]
