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
