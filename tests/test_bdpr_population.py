"""The classification tables of bdpr_landscape spec 3.4, reproduced by the general landscape
toolkit (rhess + classify) at representative points of every critical set."""

import numpy as np
import pytest

from tensorrec.bdpr import population_problem
from tensorrec.runner import discover


def load_check(name):
    return next(script for script in discover() if script.name == name).load()


def test_classification_tables_come_out_of_the_general_toolkit():
    """Every row of every table at K, N = 5, 4 and 3, 3 (the claim-5 check, run in full here)."""
    check = load_check("bdpr_c5_classification")
    results = check.compute(check.Config(), np.random.default_rng(21))
    assert len(results["rows"]) == 2 * 5 * 4 and check.check(results) == []
    results["rows"][0]["max_eig_error"] = 1e-3  # the check can fail
    assert check.check(results)[0].endswith("eigenvalues off by 1.00e-03")


def test_population_risk_values_and_bad_input():
    pop = population_problem("B", 4, 3, rng=23)
    assert abs(float(pop.problem.value(pop.truth))) < 1e-14
    with pytest.raises(ValueError, match="^model: expected one of"):
        population_problem("C", 4, 3)
    with pytest.raises(ValueError, match="^field: the real-BDPR population"):
        population_problem("bdpr", 4, 3, field="complex")


def test_newton_census_of_population_b_finds_only_the_table_points():
    """Spec 6.2 acceptance 1 and 6.3 acceptance 3 on a few starts: every converged point has
    |a|, |b| in {0, 1} and falls in one of the groups (value, index) (0, 0), (6, 1), (8, 2)."""
    from tensorrec.bdpr import population_problem
    from tensorrec.landscape import find_critical_points

    pop = population_problem("B", 3, 3, rng=0)
    found = find_critical_points(pop.problem, n_starts=30, max_iter=100, symmetry=pop.symmetry, rng=1)
    hs, xs = pop.truth
    assert found.unconverged == 0
    for p in found.points:
        a, b = abs(float(p.point[0] @ hs)), abs(float(p.point[1] @ xs))
        assert min(a, 1 - a) < 1e-6 and min(b, 1 - b) < 1e-6
    assert {(round(p.value, 6) + 0.0, p.index) for p in found.points} <= {(0.0, 0), (6.0, 1), (8.0, 2)}
    assert {p.index for p in found.points} >= {1, 2}
