"""The classification tables of bdpr_landscape spec 3.4, reproduced by the general landscape
toolkit (rhess + classify) at representative points of every critical set."""

import numpy as np
import pytest

from tensorrec.bdpr import classification_table, population_problem, representative
from tensorrec.landscape import classify, rhess

CASES = [("A", "real"), ("A", "complex"), ("B", "real"), ("B", "complex"), ("bdpr", "real")]


@pytest.mark.parametrize("model, field", CASES)
@pytest.mark.parametrize("K, N", [(5, 4), (3, 3)])
def test_classification_tables_come_out_of_the_general_toolkit(model, field, K, N):
    pop = population_problem(model, K, N, field=field, rng=20)
    rng = np.random.default_rng(21)
    for (alpha, beta), (spectrum, (kind, detail)) in classification_table(model, field, K, N).items():
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
