"""Finite-sample BDPR problems (:ref:`theory-bdpr-surrogates`): the surrogate sensing models and true
BDPR as least-squares losses over the factors (h, x) (the core's ``FormatObjective`` of a
``PairedRankOne`` and the operator, whose registered vjps are the hand-written gradients of
:ref:`theory-bdpr-population`), spectral starts (:ref:`theory-bdpr-starts`) and the sign/phase-invariant
tensor error.

The three choices the paper leaves open are independent arguments of :func:`sensing_problem`
([unconfirmed] which one the paper uses):

* ``sensing``: ``"gaussian_tensor"`` (surrogate A, i.i.d. Gaussian 4-way tensors),
  ``"rank_one_gaussian"`` (surrogate B) or ``"fourier_bdpr"`` (true BDPR, Gaussian subspaces);
* ``field``: ``"real"`` or ``"complex"``;
* ``parametrization``: ``"spheres"`` (Sphere(K) x Sphere(N)), ``"sphere×euclidean"`` (x free)
  or ``"spheres+scale"`` (Sphere(K) x Sphere(N) x R: X = e^s h o conj(h) o x o conj(x)).

The loss is (1/2m) sum_i abs(<A_i, X(h, x)> - y_i)^2 (m = L for true BDPR, with y the
normalized measurements y / L). The complex gradients are the real gradients written as complex
vectors, 2 df/d conj(h), matching ``torch.autograd``.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import torch

from tensorrec._backend import check_allocation, check_choice, check_positive_finite, check_positive_int
from tensorrec._random import RngLike, as_generator, randn
from tensorrec.bdpr import theory
from tensorrec.formats.paired import PairedRankOne, kron_distance
from tensorrec.landscape import FactorPhases, FactorSigns, rhess_eigs
from tensorrec.manifolds import Euclidean, Product, Sphere
from tensorrec.operators.paired import FourierBDPR, FourWayGaussian, RankOneSensing
from tensorrec.optim import GradNorm, MaxIter, MetricBelow, Objective, Problem, Result, rgd
from tensorrec.recovery import FormatObjective, SquaredLoss

SENSINGS = ("gaussian_tensor", "rank_one_gaussian", "fourier_bdpr")
PARAMETRIZATIONS = ("spheres", "sphere×euclidean", "spheres+scale")


def _template(operator) -> PairedRankOne:
    """A PairedRankOne of the operator's factor lengths (fixes the format for the objective)."""
    return PairedRankOne([torch.ones(d, dtype=torch.float64, device=operator.device) for d in operator.dims])


class FourWayLoss(FormatObjective):
    """f(h, x) = (1/2m) sum_i abs(h^T M_i conj(h) - y_i)^2 for surrogate A: the core's
    :class:`~tensorrec.recovery.FormatObjective` of a :class:`~tensorrec.formats.PairedRankOne`,
    the operator and the :class:`~tensorrec.recovery.SquaredLoss` of weight 1/m, with M_i the
    contraction of A_i with x o conj(x) (:ref:`theory-bdpr-population`). Its gradient is the operator's
    registered vjp (:mod:`tensorrec.operators.paired`): two passes over the (m, K^2, N^2) tensors, both
    matrix-vector products. Leading batch axes on h, x evaluate independent problems with the
    tensors read once per pass (the cost is their sum)."""

    def __init__(self, operator: FourWayGaussian, y):
        super().__init__(_template(operator), operator, operator.check_data(y), SquaredLoss(1.0 / operator.m))


class RankOneLoss(FormatObjective):
    """f(v) = (1/2m) sum_i (prod_j abs(u_ij)^2 - y_i)^2 with u_j = U_j v_j (surrogate B and
    true BDPR): the core's :class:`~tensorrec.recovery.FormatObjective` of a
    :class:`~tensorrec.formats.PairedRankOne`, the operator and the
    :class:`~tensorrec.recovery.SquaredLoss` of weight 1/m. Its gradient is the operator's
    registered vjp, grad_j = 2 U_j^H (r * prod_{k != j} abs(u_k)^2 * u_j) with
    r = (1/m)(prediction - y) (:ref:`theory-bdpr-population`; real part for real factors sensed by complex
    rows), O(m sum_j d_j). Leading batch axes evaluate independent problems (the cost is their sum)."""

    def __init__(self, operator: RankOneSensing, y):
        super().__init__(_template(operator), operator, operator.check_data(y), SquaredLoss(1.0 / operator.m))


class ScaledLoss(Objective):
    """The ``"spheres+scale"`` parametrization of a factor loss g: f(h, x, s) = g(c h, c x) with
    c = e^{s/4}, i.e. the loss of sigma X(h, x) with sigma = e^s (X is homogeneous of degree 4
    in the pair). Chain rule: grad_h f = c grad_h g, grad_s f = (c/4) Re(<h, grad_h g> +
    <x, grad_x g>). The scale point is an array of shape (..., 1)."""

    def __init__(self, base: Objective):
        self.base = base

    def value(self, point):
        h, x, s = point
        c = torch.exp(s / 4)
        return self.base.value((c * h, c * x))

    def value_and_egrad(self, point):
        h, x, s = point
        c = torch.exp(s / 4)
        f, (gh, gx) = self.base.value_and_egrad((c * h, c * x))
        inner = torch.sum((h.conj() * gh).real, -1, keepdim=True) + torch.sum(
            (x.conj() * gx).real, -1, keepdim=True
        )
        gs = 0.25 * c * inner
        return f, (c * gh, c * gx, gs)


def scale_estimate(operator, y) -> float:
    """sigma-hat of ||h*||^2 ||x*||^2 from the data (the operator's ``scale_estimate``:
    sqrt(mean abs(y)^2) for 4-way Gaussian sensing, mean(y) for rank-one sensing and true
    BDPR; :ref:`theory-bdpr-model`)."""
    return operator.scale_estimate(y)


def spectral_start(
    operator, y, format=PairedRankOne, ranks=None, *, field: str | None = None
) -> PairedRankOne:
    """The spectral start of :ref:`theory-bdpr-starts`: a :class:`~tensorrec.formats.PairedRankOne` of unit
    factors (the signature of :func:`tensorrec.recovery.spectral_start`; ``format`` must be
    PairedRankOne and ``ranks`` None). The factors come from the operator's
    ``spectral_factors``: the top singular vectors of the unfoldings of (1/m) sum_i y_i A_i
    for 4-way Gaussian sensing, the top eigenvectors of (1/m) U_j^H diag(y) U_j for rank-one
    sensing and true BDPR (their real parts for real factors sensed by complex rows)."""
    if format is not PairedRankOne or ranks is not None:
        raise ValueError(
            f"format, ranks: BDPR starts are PairedRankOne without ranks, got {format!r}, {ranks!r}"
        )
    if not hasattr(operator, "spectral_factors"):
        raise TypeError(
            f"operator: expected a BDPR sensing operator (spectral_factors), got {type(operator).__name__}"
        )
    return PairedRankOne(operator.spectral_factors(y, field))


@dataclasses.dataclass(frozen=True)
class SensingProblem:
    """A finite-sample BDPR problem: ``problem`` (manifold + loss), the unit ``truth`` (h*, x*),
    the ``operator`` and measurements ``y``, the ``symmetry`` (two signs or two phases), and
    the ``sensing`` and ``field`` it was built with."""

    problem: Problem
    truth: tuple[torch.Tensor, torch.Tensor]
    operator: object
    y: torch.Tensor
    symmetry: object
    sensing: str
    field: str
    scale: float = 1.0

    @property
    def model(self) -> str:
        """The population model whose step limits apply: "A", "B" or "bdpr" (real BDPR)."""
        if self.sensing == "gaussian_tensor":
            return "A"
        return "bdpr" if (self.sensing == "fourier_bdpr" and self.field == "real") else "B"

    def error(self, point) -> float:
        """||X(h, x) - X*||_F (sign/phase invariant, no cancellation; :ref:`theory-bdpr-rgd`); with a scale
        s, X = e^s h o conj(h) o x o conj(x)."""
        z = torch.kron(point[0], point[1])
        if len(point) == 3:
            z = z * torch.exp(point[2][..., 0] / 2)
        return kron_distance(z, self._truth_kron)

    @property
    def truth_point(self):
        """The truth as a point of the problem's manifold: (h*, x*), or (h*, x*, log sigma*) with
        a scale variable."""
        if len(self.problem.manifold.manifolds) == 3:
            return (*self.truth, torch.full((1,), math.log(self.scale), dtype=torch.float64))
        return self.truth

    @functools.cached_property
    def _truth_kron(self) -> torch.Tensor:
        return PairedRankOne(self.truth).kron_vector() * math.sqrt(self.scale)

    def start(self, kind: str = "spectral", rng: RngLike = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``"spectral"`` (:ref:`theory-bdpr-starts`) or ``"random"`` (uniform on the spheres; for a free x a
        unit vector too), on the problem's manifold; with a scale, s = log sigma-hat
        (:func:`scale_estimate`)."""
        check_choice("kind", kind, ("spectral", "random"))
        if kind == "spectral":
            factors = spectral_start(self.operator, self.y, field=self.field).factors
        else:
            gen = as_generator(rng)
            factors = tuple(Sphere(v.shape[0], field=self.field).random_point(gen) for v in self.truth)
        if len(self.problem.manifold.manifolds) == 3:  # the scale from the data, for either kind
            sigma = scale_estimate(self.operator, self.y)
            if not sigma > 0:
                raise ValueError(f"y: the scale estimate from the data is {sigma:g}; expected > 0")
            return (*factors, torch.full((1,), math.log(sigma), dtype=torch.float64))
        return factors

    def solve(
        self,
        start,
        *,
        step: float | str = "auto",
        max_iter: int = 1500,
        target: float = 0.0,
        grad_tol: float = 1e-13,
        rng: RngLike = None,
    ) -> Result:
        """RGD from ``start`` (a point or a :meth:`start` kind) with a constant ``step``,
        recording the tensor error and stopping at ``max_iter``, at tensor error < ``target``
        or at Riemannian gradient norm < ``grad_tol``; ``rng`` draws a random start.

        ``step="auto"`` (default) takes mu = 1 / lambda_max, the largest eigenvalue of the
        Riemannian Hessian of this loss at the start (Lanczos, :func:`~tensorrec.landscape.rhess_eigs`):
        the population ranges of ``check_step`` assume the loss scale 1/(2m) and can be
        unsafe for a given sample (complex Fourier BDPR, L = 256, K = N = 8: mu = 0.2 passes
        them, but lambda_max at the truth is 14.2, so RGD cycles above mu = 0.14; at the
        spectral start lambda_max = 33.2 and "auto" takes mu = 0.030).

        The step is checked against the population theory of the matching model
        (:func:`~tensorrec.bdpr.theory.check_step`): refused where the truth is unstable,
        warned about above the range of the global bounds."""
        if isinstance(start, str):
            start = self.start(start, rng)
        if isinstance(step, str):
            check_choice("step", step, ("auto",))
            step = self.curvature_step(start)
        theory.check_step(self.model, self.field, step)
        stop = MaxIter(check_positive_int("max_iter", max_iter)) | GradNorm(grad_tol)
        if target > 0:
            stop = stop | MetricBelow("error", target)
        return rgd(self.problem, start, step=step, stop=stop, metrics={"error": self.error})

    def curvature_step(self, point) -> float:
        """1 / lambda_max of the Riemannian Hessian at ``point`` (modulo the symmetry)."""
        lam = float(rhess_eigs(self.problem, point, k=1, which="LA", symmetry=self.symmetry).max())
        if not (math.isfinite(lam) and lam > 0):
            raise ValueError(
                f"step: 'auto' needs a positive largest Hessian eigenvalue at the start, got {lam:g}; "
                "give a step"
            )
        return 1.0 / lam


def sensing_problem(
    K: int,
    N: int,
    m: int | None = None,
    *,
    sensing: str = "gaussian_tensor",
    field: str = "real",
    parametrization: str = "spheres",
    noise: float = 0.0,
    scale: float = 1.0,
    L: int | None = None,
    rng: RngLike = None,
) -> SensingProblem:
    """A finite-sample BDPR problem with a unit truth drawn from ``rng``.

    Parameters
    ----------
    K, N : int
        Lengths of h and x (at least 2).
    m : int
        Number of measurements (surrogates); for ``"fourier_bdpr"`` give ``L`` instead.
    sensing, field, parametrization : str
        See the module docstring.
    noise : float
        gamma: y = A(X*) + gamma e with e ~ N(0, I) (CN(0, I) for complex surrogate A).
    scale : float
        sigma* = ||X*||_F: X* = sigma* h* o conj(h*) o x* o conj(x*) with unit h*, x*. Only
        ``"spheres+scale"`` (or a free x) can fit sigma* != 1. The loss curvatures scale with
        sigma*^2, so divide the unit-scale step sizes by it.
    L : int
        Signal length of true BDPR (B, C are L x K, L x N Gaussian of ``field``; m = L).
    """
    check_choice("sensing", sensing, SENSINGS)
    check_choice("field", field, theory.FIELDS)
    check_choice("parametrization", parametrization, PARAMETRIZATIONS)
    K, N = check_positive_int("K", K, minimum=2), check_positive_int("N", N, minimum=2)
    if sensing == "fourier_bdpr":
        if m is not None:
            raise ValueError(f"m: true BDPR has m = L measurements; give L, not m (got m = {m})")
        m = check_positive_int("L", L)
    else:
        if L is not None:
            raise ValueError(f"L: only sensing='fourier_bdpr' takes a signal length, got L = {L}")
        m = check_positive_int("m", m)
    if noise:
        check_positive_finite("noise", noise)
    scale = check_positive_finite("scale", scale)
    dtype = torch.complex128 if field == "complex" else torch.float64
    size = K * K * N * N if sensing == "gaussian_tensor" else K + N
    check_allocation(
        "m, K, N" if sensing != "fourier_bdpr" else "L, K, N", m * size + K + N, dtype,
        what=f"the measurement vectors (m = {m}, K = {K}, N = {N})",
    )  # fmt: skip
    gen = as_generator(rng)
    spheres = Product([Sphere(K, field=field), Sphere(N, field=field)])
    truth = spheres.random_point(gen)
    if sensing == "gaussian_tensor":
        operator = FourWayGaussian(K, N, m, gen, field=field)
        loss_class = FourWayLoss
    elif sensing == "rank_one_gaussian":
        operator = RankOneSensing.gaussian((K, N), m, gen, field=field)
        loss_class = RankOneLoss
    else:
        operator = FourierBDPR(randn(gen, (m, K), dtype=dtype), randn(gen, (m, N), dtype=dtype))
        loss_class = RankOneLoss
    y = scale * operator.apply_factors(*truth)
    if noise:
        y = y + noise * randn(gen, (m,), dtype=y.dtype)
    loss = loss_class(operator, y)
    if parametrization == "spheres":
        manifold = spheres
    elif parametrization == "sphere×euclidean":
        manifold = Product([Sphere(K, field=field), Euclidean(N, field=field)])
    else:
        manifold, loss = Product([*spheres.manifolds, Euclidean(1)]), ScaledLoss(loss)
    symmetry = (FactorSigns if field == "real" else FactorPhases)(factors=(0, 1))
    problem = Problem(manifold, loss)
    return SensingProblem(problem, truth, operator, y, symmetry, sensing, field, scale)


__all__ = [
    "SENSINGS", "PARAMETRIZATIONS", "FourWayLoss", "RankOneLoss", "ScaledLoss", "scale_estimate",
    "spectral_start", "SensingProblem",
    "sensing_problem",
]  # fmt: skip
