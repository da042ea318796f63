"""The core is open (DESIGN.md section 2): a format, an operator, a row structure (with its
evaluation registered for the dispatch on (rows, format)), a loss and a step rule defined here,
outside ``tensorrec/``, work with ``recover``, ``minimize``, ``landscape.rhess`` and
``classify`` without any edit to the library."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

import tensorrec as tr
from tensorrec import landscape
from tensorrec.formats import Format, ManifoldOptions, TTTensor
from tensorrec.manifolds import Euclidean, Oblique, Product
from tensorrec.operators import Identity, KroneckerGaussian, KroneckerRows, Operator, dispatch
from tensorrec.optim import StepRule
from tensorrec.recovery import FormatObjective, Loss, minimize, recover

# --- a new format: CP (Kruskal) tensors on Oblique factors and Euclidean weights ---------------


class CPTensor:
    """X = sum_r lam_r a_r^(1) o ... o a_r^(N), unit columns a_r^(n) (Oblique), free lam."""

    def __init__(self, factors, weights):
        self.factors, self.weights = tuple(factors), weights
        self.shape = tuple(a.shape[0] for a in self.factors)
        self.rank = weights.shape[0]
        self.dtype, self.device = weights.dtype, weights.device

    def to_point(self):
        return (*self.factors, self.weights)

    @classmethod
    def from_point(cls, point, validate: bool = True):
        *factors, weights = point
        return cls(factors, weights)

    #: the manifold options it honours (any other is refused by name): the weight of the factors
    manifold_options = ("scale",)

    def manifold(self, options=None, /, **keywords):
        options = ManifoldOptions.resolve(self, options, **keywords)
        parts = [*(Oblique(d, self.rank) for d in self.shape), Euclidean(self.rank)]
        if options.scale is None:
            return Product(parts)
        return Product(parts, [options.scale] * len(self.shape) + [1.0])

    def _equation(self):
        letters = "abcdefgh"[: len(self.shape)]
        return ",".join(c + "r" for c in letters) + ",r->" + letters

    def to_dense(self):
        return torch.einsum(self._equation(), *self.factors, self.weights)

    def vjp(self, g):
        leaves = [p.detach().requires_grad_(True) for p in self.to_point()]
        with torch.enable_grad():
            x = CPTensor.from_point(leaves).to_dense()
            return tuple(torch.autograd.grad(torch.sum(g * x), leaves))

    def _gram(self, other):
        gram = torch.outer(self.weights, other.weights)
        for a, b in zip(self.factors, other.factors, strict=True):
            gram = gram * (a.mT @ b)
        return gram

    def inner(self, other):
        return float(self._gram(other).sum())

    def norm(self):
        return math.sqrt(max(self.inner(self), 0.0))

    def distance(self, other):  # the Gram form: fine for a test (it floors near 1e-8 relative)
        return math.sqrt(max(self.inner(self) + other.inner(other) - 2 * self.inner(other), 0.0))

    @classmethod
    def from_dense(cls, x, ranks, *, dtype=None):
        from tensorly.decomposition import parafac

        weights, factors = parafac(
            x.numpy(), rank=ranks[0], normalize_factors=True, init="svd", n_iter_max=500
        )
        return cls(
            [torch.from_numpy(f.copy()) for f in factors], torch.from_numpy(np.asarray(weights).copy())
        )

    @classmethod
    def random(cls, shape, ranks, rng=None, *, dtype=None, device=None):
        gen = np.random.default_rng(rng)
        factors = [Oblique(d, ranks[0]).random_point(gen) for d in shape]
        return cls(factors, torch.from_numpy(gen.uniform(1.0, 2.0, ranks[0])))


@dispatch.register(KroneckerRows, CPTensor)
def _kronecker_cp(rows, x):
    """y_k = sum_r lam_r prod_n <a_k^(n), a_r^(n)> on the factors (no dense tensor)."""
    prod = x.weights
    for a, f in zip(rows.vectors, x.factors, strict=True):
        prod = prod * (a.conj() @ f)
    return prod.sum(-1)


# --- a new operator, a new loss, a new step rule ------------------------------------------------


class RademacherRankOne(Operator):
    """Rank-one rows with +-1/m^(1/2N) entries: declares Kronecker rows, so it is evaluated on
    Tucker, TT and the CP format above without densifying."""

    def __init__(self, shape, m, rng):
        gen = np.random.default_rng(rng)
        scale = m ** (-0.5 / len(shape))
        self.vectors = tuple(torch.from_numpy(gen.choice([-scale, scale], (m, d))) for d in shape)
        self.shape, self.m = tuple(shape), m

    @property
    def rows(self):
        return KroneckerRows(self.vectors)

    def _apply(self, x):
        return torch.einsum("ka,kb,kc,abc->k", *self.vectors, x)

    def _adjoint(self, y):
        return torch.einsum("k,ka,kb,kc->abc", y, *self.vectors)


# --- a new row structure: sums of two entries, evaluated on the CP format by a registration ---


@dataclasses.dataclass(frozen=True, eq=False)
class PairSums:
    """Rows A_k = e_{i_k} + e_{j_k}: y_k = X[i_k] + X[j_k] for (m, N) multi-indices i, j."""

    first: torch.Tensor
    second: torch.Tensor


class EntryPairSums(Operator):
    """m sums of two random entries: a measurement the library does not have, whose rows are a
    structure of its own (PairSums), evaluated on formats through the registration below."""

    def __init__(self, shape, m, rng):
        gen = np.random.default_rng(rng)
        self.first, self.second = (
            torch.from_numpy(np.stack([gen.integers(0, d, m) for d in shape], axis=1)) for _ in range(2)
        )
        self.shape, self.m = tuple(shape), m

    @property
    def rows(self):
        return PairSums(self.first, self.second)

    def _apply(self, x):
        return x[tuple(self.first.T)] + x[tuple(self.second.T)]

    def _adjoint(self, y):
        out = y.new_zeros(self.shape)
        out.index_put_(tuple(self.first.T), y, accumulate=True)
        return out.index_put_(tuple(self.second.T), y, accumulate=True)


def _cp_entries(x, index):
    """X[i_k] = sum_r lam_r prod_n a^(n)[i_kn, r] on the factors."""
    prod = x.weights
    for n, f in enumerate(x.factors):
        prod = prod * f[index[:, n]]
    return prod.sum(-1)


@dispatch.register(PairSums, CPTensor)
def _pair_sums_cp(rows, x):
    return _cp_entries(x, rows.first) + _cp_entries(x, rows.second)


class HuberLoss:
    """sum_k huber_delta(pred_k - y_k): quadratic near zero, linear in the tails."""

    quadratic_weight = None

    def __init__(self, delta: float):
        self.delta = delta

    def check_data(self, data, m):
        data = torch.as_tensor(data)
        if data.shape != (m,):
            raise ValueError(f"y: expected a vector of length {m}, got shape {tuple(data.shape)}")
        return data

    def value(self, pred, data):
        return torch.nn.functional.huber_loss(pred, data, reduction="sum", delta=self.delta)

    def value_and_grad(self, pred, data):
        r = pred - data
        return self.value(pred, data), r.clamp(-self.delta, self.delta)


class DecayingStep:
    """mu_t = mu0 / (1 + t / halflife): a step rule the library does not have."""

    def __init__(self, mu0: float, halflife: float):
        self.mu0, self.halflife = mu0, halflife
        self.reset()

    def reset(self):
        self.t = 0

    def __call__(self, problem, x, value, direction, slope):
        mu = self.mu0 / (1 + self.t / self.halflife)
        self.t += 1
        return problem.manifold.retract(x, tr.tree_scale(direction, -mu)), mu, True


def test_the_new_pieces_satisfy_the_protocols():
    x = CPTensor.random((4, 5, 3), (2,), 0)
    assert (
        isinstance(x, Format)
        and isinstance(HuberLoss(0.1), Loss)
        and isinstance(DecayingStep(1, 5), StepRule)
    )
    A = RademacherRankOne(x.shape, 40, 1)
    assert dispatch.is_structured(A, x)  # the registration above, found by dispatch
    assert torch.allclose(A.apply_format(x), A.apply(x.to_dense()), rtol=1e-12, atol=1e-13)
    r = torch.from_numpy(np.random.default_rng(2).standard_normal(40))
    for autograd_grad, dense_grad in zip(A.format_vjp(x, r), x.vjp(A.adjoint(r)), strict=True):
        assert torch.allclose(autograd_grad, dense_grad, rtol=1e-12, atol=1e-13)


def test_recover_minimize_rhess_and_classify_run_on_the_new_format():
    truth = CPTensor.random((6, 5, 4), (2,), 3)
    A = RademacherRankOne(truth.shape, 120, 4)
    y = A.apply_format(truth)
    # recover: spectral start (CP-ALS of A*(y) through tensorly), then RGD with a new step rule
    res = recover(
        A, y, format=CPTensor, ranks=(2,), step=DecayingStep(0.5, 400.0), scale=1.0, truth=truth,
        stop={"max_iter": 3000, "error": 1e-8},
    )  # fmt: skip
    assert isinstance(res.point, CPTensor) and res.stop_reason == "metric", res.stop_reason
    # minimize with the new loss from a perturbed truth
    start = CPTensor([f + 0.05 * torch.ones_like(f) for f in truth.factors], truth.weights * 1.1)
    start = CPTensor.from_point(start.manifold().project_point(start.to_point()))
    objective = FormatObjective(start, A, y, HuberLoss(0.05))
    out = minimize(objective, start, step="armijo", truth=truth, stop={"max_iter": 500, "grad_norm": 1e-11})
    assert out.stop_reason == "metric" and out.trace.metrics["error"][0] > 0.1  # error 1e-14 reached
    # the landscape toolkit on factorization of the new format: the truth is a strict minimum
    identity = Identity(truth.shape)
    problem = tr.Problem(truth.manifold(), FormatObjective(truth, identity, identity.apply_format(truth)))
    info = landscape.rhess(problem, truth.to_point())
    assert info.eigenvalues.shape[0] == truth.manifold().dim and float(info.eigenvalues.min()) > 1e-3
    assert landscape.classify(problem, truth.to_point(), rng=0).kind == "minimum"


def test_a_complex_tt_is_recovered_from_complex_rank_one_measurements():
    truth = TTTensor.random((3, 3, 3, 3), (2, 2, 2), 5, dtype=torch.complex128, condition={"kappa_max": 3.0})
    A = KroneckerGaussian(truth.shape, 8 * truth.dof, 6, dtype=torch.complex128)
    assert dispatch.is_structured(A, truth)
    y = A.apply_format(truth)
    assert torch.allclose(y, A.apply(truth.to_dense()), rtol=1e-12, atol=1e-13)
    res = recover(A, y, format="tt", ranks=truth.ranks, method="scaled", truth=truth,
                  stop={"max_iter": 2000, "error": 1e-10})  # fmt: skip
    assert res.stop_reason == "metric" and res.point.distance(truth) / truth.norm() < 1e-10
    assert res.point.dtype == torch.complex128


def test_a_step_rule_without_reset_is_refused_with_the_protocol_named():
    problem = tr.Problem(tr.manifolds.Sphere(3), lambda x: x[0])
    with pytest.raises(TypeError, match=r"^step: expected .* a step rule \(an object with reset\(\)"):
        tr.rgd(problem, torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64), step=lambda *a: None)


def test_the_scaled_method_names_what_a_format_lacks():
    truth = CPTensor.random((4, 3, 3), (2,), 7)
    A = RademacherRankOne(truth.shape, 30, 8)
    message = r"^method: 'scaled' needs a format with scaled_direction; CPTensor has no scaled_direction"
    with pytest.raises(TypeError, match=message):
        recover(A, A.apply_format(truth), format=CPTensor, ranks=(2,), method="scaled")


def test_the_new_format_declares_its_manifold_options_and_refuses_the_others_by_name():
    truth = CPTensor.random((4, 3, 3), (2,), 7)
    weighted = truth.manifold(scale=4.0)
    assert weighted.weights[0] == 4.0
    assert truth.manifold(ManifoldOptions(scale=4.0)).weights == weighted.weights
    message = r"^manifold option retraction='qr': CPTensor's manifold does not take 'retraction'; it takes sc"
    with pytest.raises(TypeError, match=message):
        truth.manifold(retraction="qr")
    A = RademacherRankOne(truth.shape, 30, 8)
    with pytest.raises(TypeError, match=message):  # recover refuses it before any work
        recover(A, A.apply_format(truth), format=CPTensor, ranks=(2,), retraction="qr")
    with pytest.raises(TypeError, match=r"^manifold option 'retracton': no such option"):
        truth.manifold(retracton="qr")


class LegacyCP(CPTensor):
    """CPTensor as a format written for the previous protocol: it declares no
    ``manifold_options`` (None: as if the attribute were absent) and its ``manifold`` takes
    the options as keywords; it records the keywords it got."""

    manifold_options = None
    calls: list = []

    def manifold(self, scale=1.0, retraction="polar"):
        LegacyCP.calls.append({"scale": scale, "retraction": retraction})
        parts = [*(Oblique(d, self.rank) for d in self.shape), Euclidean(self.rank)]
        return Product(parts, [scale] * len(self.shape) + [1.0])


def test_a_format_of_the_previous_protocol_keeps_getting_its_options_with_a_deprecation():
    from tensorrec.formats import manifold_of

    truth = CPTensor.random((4, 3, 3), (2,), 7)
    A = RademacherRankOne(truth.shape, 60, 8)
    y = A.apply_format(truth)
    start = CPTensor([f + 0.05 * torch.ones_like(f) for f in truth.factors], truth.weights * 1.1)
    start = CPTensor.from_point(start.manifold().project_point(start.to_point()))
    legacy = LegacyCP(start.factors, start.weights)
    stop = {"max_iter": 30}
    new = recover(A, y, format=CPTensor, init=start, ranks=(2,), step=0.05, stop=stop)
    LegacyCP.calls.clear()
    with pytest.warns(
        DeprecationWarning, match=r"^LegacyCP declares no manifold_options, so its manifold gets scale"
    ):
        old = recover(A, y, format=LegacyCP, init=legacy, ranks=(2,), step=0.05, stop=stop)
    # the papers' weight scale='init' = ||X0||^2 reaches it, as before the typed options
    assert LegacyCP.calls == [{"scale": pytest.approx(start.norm() ** 2), "retraction": "polar"}]
    assert old.value == new.value and old.trace.value == new.trace.value
    with pytest.warns(DeprecationWarning, match="declare the options it honours"):
        assert manifold_of(legacy, ManifoldOptions(retraction="qr")).weights[0] == 1.0
    assert LegacyCP.calls[-1] == {"scale": 1.0, "retraction": "qr"}
    with pytest.raises(
        TypeError, match=r"^manifold option kind='x': LegacyCP's manifold does not take 'kind'"
    ):
        manifold_of(legacy, ManifoldOptions(kind="x"))


def test_recover_takes_a_users_loss_and_a_users_row_structure():
    """recover, not only minimize: the Huber loss above on Rademacher rank-one rows, and an
    operator whose rows are a structure registered here (PairSums on CPTensor), with the
    Huber loss and a warm Armijo line search."""
    truth = CPTensor.random((6, 5, 4), (2,), 3)
    A = RademacherRankOne(truth.shape, 120, 4)
    y = A.apply_format(truth)
    huber = recover(
        A, y, format=CPTensor, ranks=(2,), loss=HuberLoss(0.05), step=tr.optim.Armijo(warm=True),
        truth=truth, stop={"max_iter": 2000, "error": 1e-8},
    )  # fmt: skip
    assert huber.stop_reason == "metric", huber.stop_reason
    assert huber.trace.value[0] > huber.value and "residual" not in huber.trace.metrics

    B = EntryPairSums(truth.shape, 90, 5)
    assert dispatch.is_structured(B, truth)  # found by dispatch on (PairSums, CPTensor)
    assert torch.allclose(B.apply_format(truth), B.apply(truth.to_dense()), rtol=1e-12, atol=1e-13)
    r = torch.from_numpy(np.random.default_rng(6).standard_normal(90))
    for autograd_grad, dense_grad in zip(B.format_vjp(truth, r), truth.vjp(B.adjoint(r)), strict=True):
        assert torch.allclose(autograd_grad, dense_grad, rtol=1e-12, atol=1e-13)
    start = CPTensor([f + 0.05 * torch.ones_like(f) for f in truth.factors], truth.weights * 1.1)
    start = CPTensor.from_point(start.manifold().project_point(start.to_point()))
    pairs = recover(
        B, B.apply_format(truth), init=start, loss=HuberLoss(0.05), step=tr.optim.Armijo(warm=True),
        truth=truth, stop={"max_iter": 3000, "error": 1e-8},
    )  # fmt: skip
    assert isinstance(pairs.point, CPTensor) and pairs.stop_reason == "metric", pairs.stop_reason
