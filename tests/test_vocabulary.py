"""Issue 28 section 4, one vocabulary: every deprecated spelling still works for one release,
warns naming the new word, and gives the same result; the glossary of docs/concepts.rst
names the words the API uses."""

from __future__ import annotations

import pytest
import torch

from tensorrec import quantum as q
from tensorrec._backend import renamed_kwargs
from tensorrec.formats import LPDO


def test_renamed_kwargs_maps_warns_and_refuses_both():
    @renamed_kwargs(old="new")
    def f(*, new=0):
        return new

    assert f(new=3) == 3
    with pytest.warns(DeprecationWarning, match="'old' is deprecated, use 'new'") as record:
        assert f(old=3) == 3
    assert record[0].filename == __file__  # the warning points at the caller
    with pytest.raises(TypeError, match="both"):
        f(old=1, new=2)


# --- Kraus dimension: kraus_dim (kappa deprecated) -----------------------------------------


def test_lpdo_kappa_is_the_deprecated_spelling_of_kraus_dim():
    new = LPDO.random((4, 4, 4), (2, 2), 0, kraus_dim=2)
    with pytest.warns(DeprecationWarning, match="use 'kraus_dim'"):
        old = LPDO.random((4, 4, 4), (2, 2), 0, kappa=2)
    assert torch.equal(old.to_dense(), new.to_dense()) and old.kraus_dim == 2
    with pytest.warns(DeprecationWarning, match="use 'kraus_dim'"):
        assert new.kappa == 2
    with pytest.warns(DeprecationWarning, match="use 'kraus_dim'"):
        rebuilt = LPDO(new.purification, kappa=2)
    assert rebuilt.kraus_dim == 2
    with pytest.warns(DeprecationWarning, match="use 'kraus_dim'"):  # on the class and on a template
        assert LPDO.from_point(new.to_point(), kappa=2).kraus_dim == 2
    with pytest.warns(DeprecationWarning, match="use 'kraus_dim'"):
        assert new.from_point(new.to_point(), kappa=1).kraus_dim == 1


def test_estimate_kappa_is_the_deprecated_spelling_of_kraus_dim():
    outcomes = q.LocalPauli(2).sample(q.random_pure_state(4, 0), 200, 0)
    new = q.estimate(outcomes, bond_dim=2, kraus_dim=2, stop={"max_iter": 5})
    with pytest.warns(DeprecationWarning, match="use 'kraus_dim'"):
        old = q.estimate(outcomes, bond_dim=2, kappa=2, stop={"max_iter": 5})
    assert torch.equal(old.point.to_dense(), new.point.to_dense())


# --- result fields: point, stop_reason (CGResult's solution/reason deprecated) ------------


def test_cg_result_fields_are_the_core_result_words():
    from tensorrec.optim import conjugate_gradient

    h = torch.diag(torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64))
    b = torch.ones(3, dtype=torch.float64)
    out = conjugate_gradient(lambda u: h @ u, b, inner=lambda u, v: float(u @ v), rtol=1e-12)
    assert out.stop_reason == "converged" and torch.allclose(h @ out.point, b)
    for old, new in (("solution", "point"), ("h_solution", "h_point"), ("reason", "stop_reason")):
        with pytest.warns(DeprecationWarning, match=f"use '{new}'") as record:
            value = getattr(out, old)
        assert value is getattr(out, new) and record[0].filename == __file__
