"""Layer 0: array boundary, validation, randomness, linear algebra, threads."""

import re

import numpy as np
import pytest
import scipy.linalg
import torch

from tensorrec import _backend as B
from tensorrec._linalg import polar, qr_positive, real_inner, skew, sym
from tensorrec._random import as_generator, randn, spawn, torch_generator
from tensorrec._threads import pin_threads, thread_settings
from tensorrec.testing import assert_close


def test_as_tensor_shares_memory_with_numpy():
    a = np.zeros(3)
    t = B.as_tensor(a, "a")
    t[0] = 1.0
    assert a[0] == 1.0


@pytest.mark.parametrize("bad", [[1.0, 2.0], np.arange(3), torch.arange(3), "x"])
def test_as_tensor_rejects_with_argument_name(bad):
    with pytest.raises(TypeError, match="^y: expected"):
        B.as_tensor(bad, "y")


def test_numpy_boundary_returns_input_type():
    @B.numpy_boundary
    def double(x):
        return 2 * x

    out = double(np.ones(2))
    assert isinstance(out, np.ndarray) and out.tolist() == [2.0, 2.0]
    assert isinstance(double(torch.ones(2)), torch.Tensor)
    pair = B.numpy_boundary(lambda xs: tuple(2 * x for x in xs))((np.ones(1), np.ones(2)))
    assert all(isinstance(p, np.ndarray) for p in pair)


def test_check_compatible_names_mismatch():
    a = torch.zeros(2, dtype=torch.float64)
    with pytest.raises(TypeError, match="b: expected dtype torch.float64"):
        B.check_compatible({"a": a, "b": torch.zeros(2, dtype=torch.float32)})
    with pytest.raises(ValueError, match="b: expected device cpu"):
        B.check_compatible({"a": a, "b": torch.zeros(2, dtype=torch.float64, device="meta")})


@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf"), True, "1", None])
def test_check_positive_finite_rejects(value):
    with pytest.raises((TypeError, ValueError), match="^step: expected a positive finite number"):
        B.check_positive_finite("step", value)


def test_check_finite_counts_bad_entries():
    with pytest.raises(ValueError, match="y: expected finite values, got 2 non-finite"):
        B.check_finite("y", torch.tensor([1.0, float("nan"), float("inf")]))


def test_rng_conversion_and_spawn_reproducible():
    assert as_generator(5).standard_normal() == as_generator(5).standard_normal()
    g = np.random.default_rng(1)
    assert as_generator(g) is g
    a = [s.standard_normal() for s in spawn(7, 3)]
    b = [s.standard_normal() for s in spawn(7, 3)]
    assert a == b and len(set(a)) == 3
    # trial k depends only on (seed, k): SeedSequence(seed).spawn
    c = np.random.default_rng(np.random.SeedSequence(7).spawn(3)[2]).standard_normal()
    assert c == a[2]
    with pytest.raises(TypeError, match="^rng: expected"):
        as_generator(1.5)
    with pytest.raises(ValueError, match="^rng: expected a non-negative"):
        as_generator(-3)
    t1, t2 = torch_generator(3), torch_generator(3)
    assert torch.equal(torch.randn(4, generator=t1), torch.randn(4, generator=t2))


def test_randn_complex_has_unit_variance():
    z = randn(0, (200_000,), dtype=torch.complex128)
    assert abs(float((z.abs() ** 2).mean()) - 1) < 0.02
    assert randn(0, (2,), dtype=torch.float32).dtype == torch.float32


@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128])
def test_polar_matches_scipy(dtype):
    a = randn(0, (3, 6, 4), dtype=dtype)
    p = polar(a)
    for i in range(3):
        ref, _ = scipy.linalg.polar(a[i].numpy())
        assert_close(p[i], torch.from_numpy(ref), scale=100)


@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128, torch.float32])
def test_qr_positive_has_positive_real_diagonal(dtype):
    a = randn(1, (2, 5, 3), dtype=dtype)
    q = qr_positive(a)
    r = q.mH @ a
    d = torch.diagonal(r, dim1=-2, dim2=-1)
    assert bool((d.real > 0).all())
    if d.is_complex():
        assert float(d.imag.abs().max()) < 1e-5
    assert_close(q @ r, a, scale=100)


def test_sym_skew_split_and_real_inner():
    a = randn(2, (4, 4), dtype=torch.complex128)
    assert_close(sym(a) + skew(a), a)
    assert_close(sym(a), sym(a).mH)
    assert_close(skew(a), -skew(a).mH)
    b = randn(3, (4, 4), dtype=torch.complex128)
    ref = np.real(np.vdot(a.numpy(), b.numpy()))
    assert abs(float(real_inner(a, b, 2)) - ref) < 1e-12


def test_pin_threads_sets_every_pool():
    settings = pin_threads(1)
    assert settings["torch"] == 1 == torch.get_num_threads()
    assert all(p["num_threads"] == 1 for p in settings["pools"])
    assert settings["env"]["OPENBLAS_NUM_THREADS"] == "1"
    assert thread_settings()["torch"] == 1
    with pytest.raises(ValueError, match="^n: expected an integer >= 1"):
        pin_threads(0)


def test_tree_map_over_products():
    out = B.tree_map(lambda a, b: a + b, (torch.ones(1), torch.ones(2)), (torch.ones(1), torch.ones(2)))
    assert isinstance(out, tuple) and out[1].tolist() == [2.0, 2.0]


def test_check_real_accepts_python_numpy_and_0d_tensor_scalars():
    for value in (
        0.25,
        1,
        np.float32(0.25),
        np.int64(1),
        np.array(0.25),
        torch.tensor(0.25),
        torch.tensor(1),
    ):
        assert B.check_real("x", value, low=0, high=1) == float(value)
    assert isinstance(B.check_real("x", torch.tensor(0.5, dtype=torch.float64)), float)
    assert B.check_real("x", None, none_ok=True) is None


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        (dict(low=0, low_open=True), "(0, inf)"),
        (dict(low=0), "[0, inf)"),
        (dict(low=0, high=1, high_open=True), "[0, 1)"),
        (dict(low=-1, high=0), "[-1, 0]"),
        ({}, "(-inf, inf)"),
    ],
)
def test_check_real_names_the_interval(kwargs, text):
    with pytest.raises(ValueError, match=rf"^lr: expected a real number in {re.escape(text)}, got nan$"):
        B.check_real("lr", float("nan"), **kwargs)


@pytest.mark.parametrize(
    ("value", "error", "got"),
    [
        (0.0, ValueError, "got 0.0"),
        (-2, ValueError, "got -2"),
        (float("inf"), ValueError, "got inf"),
        (torch.tensor(float("nan")), ValueError, "got nan"),
        (True, TypeError, "got True"),
        (np.bool_(True), TypeError, "got"),
        ("1", TypeError, "got '1'"),
        (None, TypeError, "got None"),
        (1 + 0j, TypeError, "got"),
        (torch.ones(2), TypeError, r"got torch.Tensor\(shape=\(2,\)"),
        (torch.tensor(True), TypeError, "got torch.Tensor"),
        (torch.tensor(1j), TypeError, "got torch.Tensor"),
        (np.ones(1), TypeError, "got numpy.ndarray"),
    ],
)
def test_check_real_refuses_by_name(value, error, got):
    with pytest.raises(error, match=rf"^rate: expected a real number in \(0, inf\), {got}"):
        B.check_real("rate", value, low=0, low_open=True)


def test_check_finite_appends_where():
    with pytest.raises(ValueError, match=r"^x: expected finite values, got 1 non-finite .* \(step 3\)$"):
        B.check_finite("x", torch.tensor([float("nan")]), " (step 3)")


def test_numpy_boundary_leading_and_like():
    ref = torch.zeros(1, dtype=torch.float32)
    seen = []

    @B.numpy_boundary(leading=1, like=lambda *args: ref)
    def f(a, b):
        seen.append((a, b))
        return a

    out = f(np.ones(2), np.ones(2))
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    assert isinstance(seen[-1][0], torch.Tensor) and isinstance(seen[-1][1], np.ndarray)
    assert isinstance(f(torch.ones(2, dtype=torch.float64), np.ones(2)), torch.Tensor)  # b does not decide
    assert f(torch.ones(2, dtype=torch.float64), None).dtype == torch.float64  # torch is never cast
    idx = B.numpy_boundary(like=lambda *a: ref)(lambda i: i)(np.arange(3))
    assert idx.dtype == np.int64  # integer arrays (indices) keep their dtype
