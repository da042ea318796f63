"""GPU: device follows the inputs; nothing moves to the CPU. Skipped without CUDA."""

import pytest
import torch

from tensorrec.manifolds import Product, Sphere, Stiefel
from tensorrec.operators import DenseGaussian
from tensorrec.optim import Problem, rgd
from tensorrec.recovery import recover
from tensorrec.testing import CONTRACT_CHECKS, brockett, matrix_with_spectrum

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("check", ["random_point", "projection", "retraction", "batched_equals_looped"])
def test_contract_on_cuda(check, monkeypatch):
    manifold = Product([Stiefel(6, 3), Sphere(4, field="complex")])
    original = manifold.random_point
    monkeypatch.setattr(manifold, "random_point", lambda *a, **k: original(*a, **{**k, "device": "cuda"}))
    CONTRACT_CHECKS[check](manifold, 0, None)


def test_rgd_stays_on_cuda():
    A, _ = matrix_with_spectrum(torch.linspace(3, 1, 20).tolist(), 0)
    problem = brockett(A.cuda(), [2.0, 1.0])
    x0 = Stiefel(20, 2).random_point(1, device="cuda")
    res = rgd(problem, x0, step=0.05, stop={"max_iter": 2000, "grad_norm": 1e-10})
    assert res.converged and res.point.device.type == "cuda"


def test_batched_rgd_on_cuda_keeps_its_trace_there_and_matches_the_cpu():
    A = torch.diag(torch.linspace(1.0, 0.0, 10, dtype=torch.float64))

    def cost(x, a):
        return -torch.einsum("...i,ij,...j->...", x, a, x)

    x0 = Sphere(10).random_point(2, batch=(4,))
    out = {}
    for device in ("cpu", "cuda"):
        a = A.to(device)
        problem = Problem(Sphere(10), lambda x, a=a: cost(x, a))
        out[device] = rgd(
            problem, x0.to(device), step=0.5, stop={"max_iter": 400, "grad_norm": 1e-9}, batched=True
        )
    assert out["cuda"].trace.value.device.type == "cuda" and out["cuda"].point.device.type == "cuda"
    assert list(out["cuda"].iterations) == list(out["cpu"].iterations)
    assert torch.allclose(out["cuda"].point.cpu(), out["cpu"].point, rtol=1e-10, atol=1e-12)


def test_complex_tt_recovery_from_rank_one_rows_runs_on_cuda():
    from tensorrec.formats import TTTensor
    from tensorrec.operators import KroneckerGaussian, dispatch
    from tensorrec.recovery import recover

    truth = TTTensor.random(
        (3,) * 4, (2,) * 3, 5, dtype=torch.complex128, device="cuda", condition={"kappa_max": 3.0}
    )
    A = KroneckerGaussian(truth.shape, 8 * truth.dof, 6, dtype=torch.complex128, device="cuda")
    assert dispatch.is_structured(A, truth)
    res = recover(
        A,
        A.apply_format(truth),
        ranks=truth.ranks,
        method="scaled",
        truth=truth,
        stop={"max_iter": 2000, "error": 1e-10},
    )
    assert res.stop_reason == "metric" and res.point.device.type == "cuda"


def test_sampled_tt_gradient_on_cuda_equals_the_cpu_one():
    from tensorrec.formats import TTTensor
    from tensorrec.operators import EntrySampling
    from tensorrec.recovery import LeastSquares

    x = TTTensor.random((4, 5, 3, 4), (2, 3, 2), 7)
    op = EntrySampling.random(x.shape, 60, 8)
    y = op.apply_format(TTTensor.random(x.shape, x.ranks, 9))
    cpu = LeastSquares(x, op, y, weight=2.0).value_and_egrad(x.to_point())
    xg = TTTensor([c.cuda() for c in x.cores])
    gpu = LeastSquares(xg, EntrySampling(x.shape, op.indices.cuda()), y.cuda(), weight=2.0).value_and_egrad(
        xg.to_point()
    )
    assert abs(float(cpu[0]) - float(gpu[0])) < 1e-12 * float(cpu[0])
    for a, b in zip(cpu[1], gpu[1], strict=True):
        assert b.device.type == "cuda" and torch.allclose(a, b.cpu(), rtol=1e-10, atol=1e-12)


def test_the_sampled_tt_gauss_newton_product_on_cuda_equals_the_cpu_one():
    """The linearization's torch path (interface products) on CUDA against the CPU's numba
    kernels: J^* w J u of completion's Gauss-Newton model."""
    from tensorrec.formats import TTTensor
    from tensorrec.operators import EntrySampling
    from tensorrec.recovery import LeastSquares

    x = TTTensor.random((4, 5, 3, 4), (2, 3, 2), 7)
    op = EntrySampling.random(x.shape, 60, 8)
    y = op.apply_format(TTTensor.random(x.shape, x.ranks, 9))
    u = tuple(
        torch.randn(p.shape, dtype=p.dtype, generator=torch.Generator().manual_seed(k))
        for k, p in enumerate(x.to_point())
    )
    cpu = LeastSquares(x, op, y, weight=2.0).gauss_newton(x.to_point(), u)
    xg = TTTensor([c.cuda() for c in x.cores])
    objective = LeastSquares(xg, EntrySampling(x.shape, op.indices.cuda()), y.cuda(), weight=2.0)
    gpu = objective.gauss_newton(xg.to_point(), tuple(v.cuda() for v in u))
    for a, b in zip(cpu, gpu, strict=True):
        assert b.device.type == "cuda" and torch.allclose(a, b.cpu(), rtol=1e-10, atol=1e-12)


def test_the_lpdo_linearization_on_cuda_equals_the_cpu_one():
    """J u and J^* r of Born probabilities on an LPDO (transfer environments) on CUDA."""
    from tensorrec import quantum as q
    from tensorrec.formats import LPDO, TTTensor
    from tensorrec.operators import dispatch

    x = LPDO.random((4,) * 4, (2, 3, 2), 5, kraus_dim=2)
    op = q.LocalPauli(4).operator()
    gen = torch.Generator().manual_seed(6)
    u = tuple(torch.randn(p.shape, dtype=p.dtype, generator=gen) for p in x.to_point())
    r = torch.randn(op.m, dtype=torch.float64, generator=gen).to(x.dtype)
    cpu = dispatch.linearize(op, x)
    xg = LPDO(TTTensor([c.cuda() for c in x.purification.cores], validate=False), kraus_dim=2)
    rows = dispatch.KroneckerRows(tuple(v.cuda() for v in op.rows.vectors))
    gpu = dispatch.linearize(type("Rows", (), {"rows": rows})(), xg)
    assert torch.allclose(cpu.jvp(u), gpu.jvp(tuple(v.cuda() for v in u)).cpu(), rtol=1e-10, atol=1e-14)
    for a, b in zip(cpu.vjp(r), gpu.vjp(r.cuda()), strict=True):
        assert b.device.type == "cuda" and torch.allclose(a, b.cpu(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("kraus_dim", [1, 2])
def test_product_povm_outcomes_on_an_lpdo_on_cuda_equal_the_cpu_ones(kraus_dim):
    """OutcomeRows on an LPDO on CUDA (the outcome tensor through the sampled-TT torch gathers):
    evaluation, vjp and J u / J^* r equal the CPU (numba) ones."""
    from tensorrec import quantum as q
    from tensorrec.formats import LPDO, TTTensor
    from tensorrec.operators import ProductPOVM, dispatch

    x = LPDO.random((4,) * 5, (2,) * 4, 5, kraus_dim=kraus_dim)
    fam = q.LocalPauli(5)
    op = ProductPOVM(
        fam.local_vectors,
        fam.local_weights,
        5,
        torch.randint(0, 6, (400, 5), generator=torch.Generator().manual_seed(1)),
    )
    gop = ProductPOVM(fam.local_vectors, fam.local_weights, 5, op.outcomes.cuda())
    xg = LPDO(TTTensor([c.cuda() for c in x.purification.cores], validate=False), kraus_dim=kraus_dim)
    gen = torch.Generator().manual_seed(6)
    u = tuple(torch.randn(p.shape, dtype=p.dtype, generator=gen) for p in x.to_point())
    r = torch.randn(op.m, dtype=torch.complex128, generator=gen)
    y = dispatch.evaluate(gop, xg)
    assert y.device.type == "cuda" and torch.allclose(
        y.cpu(), dispatch.evaluate(op, x), rtol=1e-10, atol=1e-14
    )
    for a, b in zip(dispatch.vjp(op, x, r), dispatch.vjp(gop, xg, r.cuda()), strict=True):
        assert b.device.type == "cuda" and torch.allclose(a, b.cpu(), rtol=1e-10, atol=1e-13)
    lin, glin = dispatch.linearize(op, x), dispatch.linearize(gop, xg)
    assert torch.allclose(lin.jvp(u), glin.jvp(tuple(v.cuda() for v in u)).cpu(), rtol=1e-10, atol=1e-14)
    for a, b in zip(lin.vjp(r), glin.vjp(r.cuda()), strict=True):
        assert b.device.type == "cuda" and torch.allclose(a, b.cpu(), rtol=1e-10, atol=1e-13)


def test_a_stack_of_sensing_problems_recovers_on_cuda_like_on_the_cpu():
    from tensorrec.formats import TTTensor, stack
    from tensorrec.operators import DenseGaussian, DenseStack
    from tensorrec.recovery import recover

    truths = [TTTensor.random((3,) * 4, (2,) * 3, s, condition={"kappa_max": 3.0}) for s in range(4)]
    ops = [DenseGaussian(truths[0].shape, 8 * truths[0].dof, 10 + s) for s in range(4)]
    ys = torch.stack([A.apply_format(t) for A, t in zip(ops, truths, strict=True)])
    out = {}
    for device in ("cpu", "cuda"):
        stacked = DenseStack(DenseStack.from_operators(ops).matrices.to(device), truths[0].shape)
        truth = stack(truths)
        truth = type(truth).from_point(tuple(p.to(device) for p in truth.to_point()), validate=False)
        stop = {"max_iter": 1000, "residual": 1e-13, "stall": 100, "error": 1e-8}
        out[device] = recover(stacked, ys.to(device), format="tt", ranks=(2,) * 3, truth=truth, stop=stop)
    assert out["cuda"].point.device.type == "cuda" and out["cuda"].trace.value.device.type == "cuda"
    assert list(out["cuda"].iterations) == list(out["cpu"].iterations)
    assert all(r == "metric" for r in out["cuda"].stop_reasons)


def test_a_cpu_operator_refuses_cuda_inputs_by_name():
    A = DenseGaussian((4, 4, 4), 30, 0)
    x = torch.ones(4, 4, 4, dtype=torch.float64, device="cuda")
    with pytest.raises(ValueError, match="^x: expected device cpu"):
        A.apply(x)
    y = A.apply(torch.ones(4, 4, 4, dtype=torch.float64)).cuda()
    with pytest.raises(ValueError, match="^y: "):
        recover(A, y, format="tucker", ranks=2)


def test_the_sae_sparse_forward_on_cuda_equals_the_cpu_one():
    from tensorrec.optim import topk_indices
    from tensorrec.sae import SAE

    u = torch.randint(0, 5, (64, 300)).double() - 2  # ties: the torch selection keeps the rule on CUDA
    for absolute in (False, True):
        assert torch.equal(
            topk_indices(u.cuda(), 7, absolute=absolute).cpu(), topk_indices(u, 7, absolute=absolute)
        )
    model = SAE(16, 500, "abstopk", k=5, dtype=torch.float64, rng=0)
    x = torch.randn(40, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        cpu = model.reconstruct(x)
        model.cuda()
        gpu = model.reconstruct(x.cuda())
        dense = model(x.cuda())[0]
    assert gpu.device.type == "cuda" and float((gpu.cpu() - cpu).abs().max()) < 1e-12
    assert float((gpu - dense).abs().max()) < 1e-12


def test_a_sweep_places_its_batched_trials_on_cuda_and_matches_the_cpu(tmp_path):
    from tensorrec.studies.tucker_tt import phase_transition
    from tensorrec.sweep import Runner

    args = ("tucker", (4,), (2.0, 3.0), 3, 11)
    cpu = phase_transition(*args, Runner(tmp_path / "cpu.sqlite", backend="serial"), iterations=200)
    gpu = phase_transition(
        *args, Runner(tmp_path / "gpu.sqlite", backend="serial", device="cuda"), iterations=200
    )
    assert [r["outcome"] for r in gpu] == [r["outcome"] for r in cpu]  # the same draws, the same runs
    for a, b in zip(cpu, gpu, strict=True):
        assert abs(a["init_error"] - b["init_error"]) < 1e-10 and a["iterations"] == b["iterations"]
    with pytest.raises(ValueError, match="device: tensorrec.studies.bdpr.noise_trial runs on the CPU only"):
        from tensorrec.studies.bdpr import noise_trials

        noise_trials(3, 3, [60], [1e-2], 1, 0, Runner(backend="serial", device="cuda"))


def test_peps_contractions_on_cuda_equal_the_cpu_ones():
    from tensorrec.formats import PEPO, PEPS

    psi = PEPS.random((2,) * 9, 2, 0, lattice=(3, 3))
    rho = PEPO.random((4,) * 6, 2, 1, lattice=(2, 3))
    gpu, rho_gpu = psi.to("cuda"), rho.to("cuda")
    phi = torch.randn(7, 9, 2, dtype=torch.complex128, generator=torch.Generator().manual_seed(2))
    assert gpu.to_dense().device.type == "cuda"
    assert torch.allclose(gpu.to_dense().cpu(), psi.to_dense(), atol=1e-14)
    assert torch.allclose(gpu.amplitudes(phi.cuda()).cpu(), psi.amplitudes(phi), atol=1e-14)
    assert gpu.norm() == pytest.approx(psi.norm(), rel=1e-13)
    assert gpu.norm(chi=4) == pytest.approx(psi.norm(chi=4), rel=1e-10)
    assert complex(rho_gpu.trace()) == pytest.approx(complex(rho.trace()), abs=1e-14)
    assert torch.allclose(
        rho_gpu.difference(rho_gpu).to_dense().cpu(), torch.zeros(rho.shape, dtype=rho.dtype)
    )
    phi6 = phi[:, :6].cuda()
    assert torch.allclose(rho_gpu.expectations(phi6).cpu(), rho.expectations(phi[:, :6]), atol=1e-14)


def test_the_peps_estimator_runs_on_cuda_like_on_the_cpu():
    import dataclasses

    from tensorrec.quantum import HaarUniform
    from tensorrec.quantum import peps as qp

    truth = qp.random_peps(2, 3, 2, 2, 3)
    out = HaarUniform(6).sample(truth.to_dense().reshape(-1), 4000, 4)
    out_gpu = dataclasses.replace(out, vectors=out.vectors.cuda(), freqs=out.freqs.cuda())
    start = qp.pad(truth, 2, 0.05, 5)
    cpu = qp.estimate_peps(out, (2, 3), 2, start=start).result
    gpu = qp.estimate_peps(out_gpu, (2, 3), 2, start=start.to("cuda")).result
    assert gpu.point.sites[0].device.type == "cuda" and gpu.converged
    assert gpu.iterations == cpu.iterations
    assert torch.allclose(gpu.point.to_dense().cpu(), cpu.point.to_dense(), atol=1e-10)
    als = qp.als(out_gpu, start.to("cuda"), stop={"max_iter": 3})
    assert als.point.sites[0].device.type == "cuda"


def test_product_data_fits_on_cuda_in_both_contraction_modes_and_as_an_lpdo():
    import dataclasses

    from tensorrec.formats import grid
    from tensorrec.quantum import LocalPauli
    from tensorrec.quantum import peps as qp

    truth = qp.random_peps(2, 3, 2, 2, 6)
    out = LocalPauli(6).sample(truth.to_dense().reshape(-1), 3000, 7)
    out_gpu = dataclasses.replace(out, index=out.index.cuda(), freqs=out.freqs.cuda())
    start, stop = qp.pad(truth, 2, 0.2, 8), {"max_iter": 5}
    for kw in ({}, {"chi": 16}, {"kraus_dim": 2, "rng": 9}):
        cpu = qp.estimate_peps(out, (2, 3), 2, start=start, loss="mle", stop=stop, **kw).result
        gpu = qp.estimate_peps(out_gpu, (2, 3), 2, start=start.to("cuda"), loss="mle", stop=stop, **kw).result
        assert gpu.point.sites[0].device.type == "cuda"
        assert gpu.value == pytest.approx(cpu.value, rel=1e-9)
    sites = [t.cuda() for t in qp.random_peps(3, 3, 2, 2, 10).sites]
    layer = [torch.einsum("slurd->lurd", t)[None].expand(4, *t.shape[1:]) for t in sites]
    envs = grid.site_environments(layer, 3, 3, chi=4)
    assert envs[4].device.type == "cuda"
    assert torch.allclose(envs[4].cpu(), grid.site_environments([t.cpu() for t in layer], 3, 3, chi=4)[4])


@pytest.mark.parametrize("method", ["gauss_newton", "trust_region"])
def test_second_order_recovery_on_cuda_matches_the_cpu(method):
    """Gauss-Newton / trust region with a dense operator (the float32 gram copy included) and
    with sampled entries (the torch gather): every product stays on the device."""
    from tensorrec.formats import TTTensor, TuckerTensor
    from tensorrec.operators import EntrySampling

    truth = TuckerTensor.random((8, 8, 8), (2, 2, 2), 3)
    results = {}
    for device in ("cpu", "cuda"):
        t = TuckerTensor(truth.core.to(device), [u.to(device) for u in truth.factors])
        A = DenseGaussian(t.shape, 300, 4, device=device).with_gram_dtype(torch.float32)
        res = recover(A, A.apply_format(t), format="tucker", ranks=t.ranks, method=method, truth=t)
        assert res.point.core.device.type == device and res.trace.metrics["error"][-1] < 1e-12
        results[device] = res.iterations
    assert results["cpu"] == results["cuda"]
    tt = TTTensor.random((6, 6, 6), (2, 2), 5, device="cuda")
    op = EntrySampling.random(tt.shape, 150, 6, device="cuda")
    res = recover(op, op.apply_format(tt), format="tt", ranks=tt.ranks, method=method, truth=tt)
    assert res.point.cores[0].device.type == "cuda" and res.trace.metrics["error"][-1] < 1e-12


def test_spectral_norm_and_the_nan_policy_on_cuda_match_the_cpu():
    """Issue 27: spectral_norm's exact and warm paths, and the proxes' NaN policy, on CUDA."""
    from tensorrec.optim import soft_threshold, spectral_norm, topk

    D = torch.randn(16, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(25))
    D = D / torch.linalg.vector_norm(D, dim=0)
    exact = float(torch.linalg.matrix_norm(D, 2))
    sigma, v = spectral_norm(D.cuda())
    assert v.device.type == "cuda" and sigma == pytest.approx(exact, rel=1e-12)
    warm, _ = spectral_norm(D.cuda(), v0=v, rtol=1e-6)
    assert exact * (1 - 1e-12) <= warm <= exact * (1 + 1e-6)
    u = torch.tensor([[0.5, float("nan"), -2.0, 3.0], [1.0, -1.0, 0.2, float("inf")]], dtype=torch.float64)
    for prox in (lambda x: soft_threshold(x, 0.3), lambda x: topk(x, 2)):
        cpu, gpu = prox(u), prox(u.cuda())
        assert gpu.device.type == "cuda"
        assert torch.equal(torch.isnan(cpu), torch.isnan(gpu.cpu()))
        assert torch.allclose(cpu.nan_to_num(), gpu.cpu().nan_to_num())


def test_the_lpdo_preconditioner_on_cuda_equals_the_cpu_one():
    """LPDO.scaled_direction (Psi's interface Grams, the Gauss-Newton CG's preconditioner) on
    CUDA: the same direction, on the device."""
    from tensorrec.formats import LPDO, TTTensor

    x = LPDO(TTTensor.random((4,) * 5, (2, 3, 3, 2), 7, dtype=torch.complex128), kraus_dim=2)
    space, point = x.manifold(normalized=True), x.to_point()
    g = space.random_tangent(point, 8)
    cpu = x.scaled_direction(point, g)
    gpu = x.scaled_direction(tuple(p.cuda() for p in point), tuple(v.cuda() for v in g))
    for a, b in zip(cpu, gpu, strict=True):
        assert b.device.type == "cuda" and torch.allclose(a, b.cpu(), rtol=1e-10, atol=1e-13)
