"""The classification tables of bdpr_landscape spec 3.4, reproduced by the general landscape
toolkit (rhess + classify) at representative points of every critical set."""

import numpy as np
import pytest
import torch

from tensorrec.bdpr import population_problem
from tensorrec.landscape import classify, rhess


def table(model, field, K, N):
    """(alpha, beta) -> (expected [(eigenvalue, multiplicity)], kind, detail prefix)."""
    c = 2 if field == "complex" else 1  # real dimensions per complex direction
    flat_max = ("degenerate", "flat: non-isolated maximum")
    if model == "A":
        return {
            (1, 1): ([(2, c * (K + N - 2))], ("minimum", "")),
            (0, 1): ([(-2, c), (0, c * (K + N - 3))], flat_max),
            (1, 0): ([(-2, c), (0, c * (K + N - 3))], flat_max),
            (0, 0): ([(0, c * (K + N - 2))], ("degenerate", "higher-order maximum, order 4.0")),
        }
    if model == "B" and field == "real":
        kappa, side, top = 12, 4, -4
    else:  # complex B and real BDPR share 3 - alpha - beta - alpha beta
        kappa, side, top = 4, 2, -2
    return {
        (1, 1): ([(kappa, c * (K + N - 2))], ("minimum", "")),
        (1, 0): ([(-kappa, c), (side, c * (K - 1)), (0, c * (N - 2))], ("strict_saddle", "")),
        (0, 1): ([(-kappa, c), (side, c * (N - 1)), (0, c * (K - 2))], ("strict_saddle", "")),
        (0, 0): ([(top, 2 * c), (0, c * (K + N - 4))], flat_max),
    }


def representative(truth_vector, overlap, rng):
    """The truth itself (overlap 1) or a unit vector orthogonal to it (overlap 0)."""
    if overlap == 1:
        return truth_vector.clone()
    z = torch.from_numpy(rng.standard_normal(truth_vector.shape[0])).to(truth_vector.dtype)
    if truth_vector.is_complex():
        z = z + 1j * torch.from_numpy(rng.standard_normal(truth_vector.shape[0]))
    z = z - truth_vector * torch.sum(truth_vector.conj() * z)
    return z / torch.linalg.vector_norm(z)


CASES = [("A", "real"), ("A", "complex"), ("B", "real"), ("B", "complex"), ("bdpr", "real")]


@pytest.mark.parametrize("model, field", CASES)
@pytest.mark.parametrize("K, N", [(5, 4), (3, 3)])
def test_classification_tables_come_out_of_the_general_toolkit(model, field, K, N):
    pop = population_problem(model, K, N, field=field, rng=20)
    rng = np.random.default_rng(21)
    for (alpha, beta), (spectrum, (kind, detail)) in table(model, field, K, N).items():
        point = (representative(pop.truth[0], alpha, rng), representative(pop.truth[1], beta, rng))
        eig = rhess(pop.problem, point, symmetry=pop.symmetry).eigenvalues.numpy()
        expected = np.sort(np.concatenate([[v] * mult for v, mult in spectrum]))
        assert eig.shape == expected.shape and np.allclose(eig, expected, atol=1e-8), (alpha, beta, eig)
        found = classify(pop.problem, point, symmetry=pop.symmetry, rng=22)
        assert found.kind == kind and found.detail.startswith(detail), (alpha, beta, found.kind, found.detail)
        negative = sum(m for v, m in spectrum if v < 0)
        null = sum(m for v, m in spectrum if v == 0)
        assert (found.index, found.nullity) == (negative, null)


def test_population_risk_values_and_bad_input():
    pop = population_problem("B", 4, 3, rng=23)
    assert abs(float(pop.problem.value(pop.truth))) < 1e-14
    with pytest.raises(ValueError, match="^model: expected one of"):
        population_problem("C", 4, 3)
    with pytest.raises(ValueError, match="^field: the real-BDPR population"):
        population_problem("bdpr", 4, 3, field="complex")
