"""2D tomography (:ref:`theory-tomo-states`, :ref:`theory-tomo-algorithms`): PEPS test states, the effective
dimension, and the PEPS estimator as a composition of the core.

The estimator (``method="fgd"``) is factorized gradient descent on the site tensors of
:class:`~tensorrec.formats.PEPSDensity` (rho = psi psi^H / <psi|psi>, the quotient
normalisation) through :func:`~tensorrec.recovery.minimize`: a product of Euclidean factors,
Armijo steps, the ``"rebalanced"`` retraction (every site rescaled to one norm after each
step; the core-norm rebalancing of :ref:`theory-tomo-algorithms`, at the retraction level), and
``method="scaled"``: the gradient preconditioned by the metric the sites induce on psi
(:meth:`~tensorrec.formats.PEPSDensity.scaled_direction`, Gauss-Newton in psi's geometry).
Plain gradient descent on the sites is slow here (the sites' metric is far from psi's: on
2 x 3, D = 2, 300 Armijo steps did not converge; the preconditioned run converges in 5-160
iterations, linearly: the curvature outside the Gauss-Newton part slows some runs).
``method="als"`` is alternating least squares (:func:`als`), the second method. Losses:

- global 2-design data (the Haar POVM, stabilizer states): the least squares
  of :ref:`theory-tomo-least-squares` over the observed outcomes
  (:class:`~tensorrec.recovery.DesignLoss`), whose minimiser is the Frobenius
  projection of the classical shadow onto the PEPS set;
- any family with counts: the multinomial likelihood over the observed outcomes.

Mixed states (``kraus_dim`` kappa > 1): the same descent on a
:class:`~tensorrec.formats.LatticeLPDO`, rho = Tr_kappa Psi Psi^H / <Psi|Psi>, by the
likelihood. ``chi``: every contraction by boundary MPS of bond chi, the gradients by
hand-written environments (:mod:`tensorrec.operators.lattice`).

Starts: ``"snake"`` (the top eigenvector of the classical shadow, TT-SVD'd along the snake to
bond D, every bond then padded to D with small noise; :ref:`theory-tomo-algorithms`), ``"product"`` (the
same at bond 1: a perturbed product state) or a given PEPS (e.g. the truth plus noise, for
statistical-error experiments only). ``restarts`` runs several noisy copies of the start and
keeps the best.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np
import torch

from tensorrec._backend import (
    check_bool,
    check_choice,
    check_positive_int,
    deprecated_alias,
    describe,
    renamed_kwargs,
    tree_norm,
)
from tensorrec._random import RngLike, as_generator, randn
from tensorrec.formats import PEPS, LatticeLPDO, PEPSDensity
from tensorrec.formats.peps import rebalance as _rebalance
from tensorrec.operators import fuse
from tensorrec.optim import Armijo, GradNorm, MaxIter, Result, ValueChange, block_coordinate, top_eigenpair
from tensorrec.optim.progress import check_progress_label
from tensorrec.quantum.outcomes import Outcomes
from tensorrec.quantum.states import DTYPE, check_state, density, is_format
from tensorrec.recovery import DesignLoss, FormatObjective, MultinomialLoss, minimize

LOSSES = ("ls", "mle")


def product_peps(vectors, n_rows: int, n_cols: int) -> PEPS:
    """The product state (x)_v phi_v (bond 1) from an (n, d) array of local vectors."""
    phi = torch.as_tensor(vectors).to(DTYPE)
    if phi.ndim != 2 or phi.shape[0] != n_rows * n_cols:
        raise ValueError(f"vectors: expected ({n_rows * n_cols}, d) local vectors, got {describe(phi)}")
    return PEPS([p.reshape(-1, 1, 1, 1, 1) for p in phi], lattice=(n_rows, n_cols))


def cluster_peps(n_rows: int, n_cols: int) -> PEPS:
    """The 2D cluster state ``prod_edges CZ |+>^n`` as an exact PEPS of bond 2 (:ref:`theory-tomo-states`):
    every site copies its bit to its right and down bonds and takes the CZ phase (-1)^(s a) from
    the bits a arriving on its left and up bonds."""
    sites = []
    for i in range(n_rows):
        for j in range(n_cols):
            legs = (
                2 if j > 0 else 1,
                2 if i > 0 else 1,
                2 if j < n_cols - 1 else 1,
                2 if i < n_rows - 1 else 1,
            )
            t = torch.zeros((2, *legs), dtype=DTYPE)
            for s in range(2):
                for left in range(legs[0]):
                    for up in range(legs[1]):
                        r = s if legs[2] == 2 else 0
                        d = s if legs[3] == 2 else 0
                        t[s, left, up, r, d] = (-1) ** (s * (left + up)) / math.sqrt(2)
            sites.append(t)
    return PEPS(sites, lattice=(n_rows, n_cols))


def random_peps(n_rows: int, n_cols: int, d: int = 2, bond_dim: int = 2, rng: RngLike = None) -> PEPS:
    """A normalised PEPS with i.i.d. complex Gaussian site tensors of bond ``bond_dim``."""
    return PEPS.random((d,) * (n_rows * n_cols), bond_dim, rng, lattice=(n_rows, n_cols))


def test_state(name: str, n_rows: int, n_cols: int, bond_dim: int = 2, rng: RngLike = None) -> PEPS:
    """A test state (:ref:`theory-tomo-states`) by name: ``"random"``, ``"cluster"`` or ``"product"`` (a
    random product state)."""
    if name == "random":
        return random_peps(n_rows, n_cols, 2, bond_dim, rng)
    if name == "cluster":
        return cluster_peps(n_rows, n_cols)
    if name == "product":
        phi = randn(as_generator(rng), (n_rows * n_cols, 2), dtype=DTYPE)
        return product_peps(phi / torch.linalg.vector_norm(phi, dim=1, keepdim=True), n_rows, n_cols)
    raise ValueError(f"name: expected one of ['cluster', 'product', 'random'], got {name!r}")


def jacobian_rank(psi: PEPS, rtol: float = 1e-9) -> int:
    """The numerical rank of the real Jacobian of the map from the site tensors (real and
    imaginary parts) to psi (real and imaginary parts), at the normalised psi: singular
    values above ``rtol`` times the largest."""
    scale = psi.norm() ** (-1 / psi.n_sites)
    sites = [t * scale for t in psi.sites]
    shapes = [t.shape for t in sites]
    sizes = [t.numel() for t in sites]
    theta = torch.cat([torch.view_as_real(t.to(DTYPE)).reshape(-1) for t in sites])

    def amplitudes(th):
        parts, start = [], 0
        for shape, size in zip(shapes, sizes, strict=True):
            chunk = th[start : start + 2 * size].reshape(*shape, 2)
            parts.append(torch.view_as_complex(chunk.contiguous()))
            start += 2 * size
        return torch.view_as_real(psi.from_point(parts, validate=False).to_dense().reshape(-1)).reshape(-1)

    jac = torch.autograd.functional.jacobian(amplitudes, theta, vectorize=True)
    s = torch.linalg.svdvals(jac)
    return int((s > rtol * s[0]).sum())


def effective_dimension(psi: PEPS, rtol: float = 1e-9) -> int:
    """p_eff: the real dimension of the manifold of normalised PEPS of psi's bonds modulo the
    global phase, near psi: the Jacobian rank minus 2 (norm and phase; :ref:`theory-tomo-states`)."""
    return jacobian_rank(psi, rtol) - 2


@renamed_kwargs(iterations="max_iter", tol="rtol")
def top_eigenvector(outcomes: Outcomes, max_iter: int = 200, rtol: float = 1e-10) -> torch.Tensor:
    """The top eigenvector of the classical shadow of global outcomes, i.e. of
    sum_k p-hat_k phi_k phi_k^H, by the power iteration :func:`~tensorrec.optim.top_eigenpair`
    on the outcome vectors (O(m N) per step; the N x N shadow is never formed), to the
    relative residual ``rtol`` or ``max_iter`` steps (then the last iterate). ``iterations=``
    and ``tol=`` are the deprecated spellings of ``max_iter`` and ``rtol``."""
    if outcomes.vectors is None:
        raise ValueError(f"outcomes: expected global outcome vectors, got outcomes of {outcomes.povm!r}")
    phi, p = outcomes.vectors, outcomes.freqs.to(outcomes.vectors.dtype)
    # the frame's action on the constant vector is a generic start
    run = top_eigenpair(lambda v: phi.T @ (p * (phi.conj() @ v)), phi.T @ p, max_iter=max_iter, rtol=rtol)
    return run.point


def pad(psi: PEPS, bond_dim: int, noise: float, rng: RngLike = None) -> PEPS:
    """psi with every internal bond raised to ``bond_dim``: the new entries drawn i.i.d.
    complex Gaussian of scale ``noise`` times the site's entry scale (zeros would be a
    saddle: no gradient reaches them)."""
    gen = as_generator(rng)
    n_rows, n_cols = psi.lattice
    sites = []
    for v, t in enumerate(psi.sites):
        i, j = divmod(v, n_cols)
        legs = (j > 0, i > 0, j < n_cols - 1, i < n_rows - 1)
        shape = (t.shape[0], *(bond_dim if inner else 1 for inner in legs))
        if any(a > b for a, b in zip(t.shape, shape, strict=True)):
            raise ValueError(f"bond_dim: expected at least psi's bond {psi.bond_dim}, got {bond_dim}")
        scale = float(torch.linalg.vector_norm(t)) / math.sqrt(t.numel())
        out = noise * scale * randn(gen, shape, dtype=t.dtype, device=t.device)
        out[tuple(slice(0, k) for k in t.shape)] += t
        sites.append(out)
    return PEPS(sites, lattice=psi.lattice)


@dataclasses.dataclass(frozen=True)
class PEPSFit:
    """The best of the restarts and a summary of all of them.

    Attributes
    ----------
    result : Result
        The best run (lowest final loss); ``result.point`` is a :class:`PEPSDensity` (or a
        :class:`~tensorrec.formats.LatticeLPDO` for ``kraus_dim > 1``).
    values : list of float
        The final loss of every restart (each run's ``result.value``).
    converged : list of bool
        Whether each restart stopped by a convergence rule.

    ``losses`` is the deprecated spelling of ``values`` (one release, with a
    DeprecationWarning).
    """

    result: Result
    values: list
    converged: list

    @property
    def losses(self) -> list:
        """Deprecated spelling of :attr:`values`."""
        deprecated_alias("losses", "values", "PEPSFit")
        return self.values

    @property
    def spread(self) -> float:
        """max - min of the restarts' final losses."""
        return max(self.values) - min(self.values)


def start_state(outcomes: Outcomes, lattice, bond_dim: int, kind: str = "snake", rng: RngLike = None,
                noise: float = 1e-2) -> PEPS:  # fmt: skip
    """A start of the estimator: ``"snake"`` (the shadow's top eigenvector, TT-SVD'd along the
    snake to bond ``bond_dim``) or ``"product"`` (the same at bond 1), padded to bond
    ``bond_dim`` with relative noise ``noise``. Product-POVM outcomes (no global vectors)
    start from the product of the single-site shadows' top eigenvectors (either kind)."""
    check_choice("kind", kind, ("snake", "product"))
    d, n = outcomes.povm.d, outcomes.povm.n
    if outcomes.index is not None:  # product-POVM data: the product of the single-site shadows' tops
        from tensorrec.quantum.starts import local_top_vectors

        return pad(product_peps(local_top_vectors(outcomes), *lattice), bond_dim, noise, rng)
    top = top_eigenvector(outcomes).reshape((d,) * n)
    snake = PEPS.from_dense(top, bond_dim if kind == "snake" else 1, lattice=lattice)
    return pad(snake, bond_dim, noise, rng)


def estimate_peps(
    outcomes: Outcomes,
    lattice,
    bond_dim: int,
    *,
    start="snake",
    method: str = "fgd",
    loss: str | None = None,
    restarts: int = 1,
    rng: RngLike = None,
    noise: float = 1e-2,
    truth: PEPS | None = None,
    stop=None,
    chi: int | None = None,
    kraus_dim: int = 1,
    progress: bool = False,
) -> PEPSFit:
    """Estimate a state as a PEPS of bond ``bond_dim`` on ``lattice`` = (L1, L2): pure, or mixed
    as an LPDO with Kraus dimension ``kraus_dim``.

    Parameters
    ----------
    outcomes : Outcomes
        ``"ls"`` needs a global 2-design family (an ``alpha``, global outcome vectors).
    start : "snake", "product" or PEPS
        See the module docstring. Restarts after the first perturb the start by ``noise``
        relative to each site's entries.
    method : {"fgd", "als"}
        Preconditioned factorized gradient descent, or alternating least squares
        (``loss="ls"`` only).
    loss : {"ls", "mle"}, optional
        Default: ``"ls"`` for global 2-design outcomes of a pure fit, for ``method="als"`` and
        for exact probabilities; ``"mle"`` otherwise (product-POVM data, mixed fits).
    restarts : int
    truth : PEPS, PEPSDensity, LatticeLPDO or a dense state, optional
        Records ``"frobenius"`` = ||rho_t - rho*||_F per iteration (by contraction; densely
        for a state vector or density matrix of dimension d^n).
    stop : optional
        Stopping rules (default ``{"grad_norm": g, "rel_change": 1e-14, "max_iter": 1000}``
        with g = 1e-5 times the gradient norm at the start).
    chi : int, optional
        Contract by boundary MPS of bond ``chi`` (the estimate is a
        ``PEPSDensity(sites, lattice=(L1, L2), chi=chi)``, or a ``LatticeLPDO`` with this
        ``chi`` for ``kraus_dim > 1``, whatever the start's mode): product-outcome data
        (Kronecker rows) are then evaluated and differentiated by boundary environments, and
        the preconditioner is the per-site metric from the norm's environments, so no step
        needs a d^n tensor. Global outcome vectors are dense in any mode. ``method="fgd"``
        only. Default: exact.
    kraus_dim : int
        The positivity option of :ref:`theory-tomo-algorithms`: 1 fits a pure state (a PEPS, rho = psi psi^H /
        <psi|psi>); kappa > 1 fits a mixed state as a
        :class:`~tensorrec.formats.LatticeLPDO` (rho = Tr_kappa Psi Psi^H / <Psi|Psi>,
        positive and of trace one at every iterate; PEPO bond D^2), started from the pure
        start in Kraus component 0 and ``noise`` in the others; ``loss="mle"`` (the design
        least squares over the observed outcomes assumes a fixed purity).
        Ignoring positivity (a bare PEPO fit) is not offered: its estimate need not be a
        state and, from product or design data, the positive forms cover the targets.
    progress : bool
        A progress bar on standard error for long fits (default off): one per restart,
        labelled with the method (``"fgd (restart 2/3)"``, ``"als"``), one tick per iteration
        (per sweep for ``"als"``), the current loss, the stop reason at the end
        (:class:`~tensorrec.optim.progress.ProgressBar`); the fit is the same as without it.
    """
    if not isinstance(outcomes, Outcomes):
        raise TypeError(f"outcomes: expected quantum.Outcomes, got {describe(outcomes)}")
    outcomes.validate()  # again: its tensors may have been changed in place since
    progress = check_bool("progress", progress)
    povm = outcomes.povm
    if loss is None:
        global_design = outcomes.vectors is not None and povm.is_design
        pure_design = global_design and kraus_dim == 1
        loss = "ls" if method == "als" or pure_design or outcomes.shots is None else "mle"
    check_choice("loss", loss, LOSSES)
    check_choice("method", method, ("fgd", "als"))
    if method == "als" and loss != "ls":
        raise ValueError(f"method: 'als' solves the design least squares (loss='ls'), got loss={loss!r}")
    if method == "als" and chi is not None:
        raise ValueError(f"chi: 'als' contracts exactly (it forms the site Jacobians), got chi={chi}")
    kraus_dim = check_positive_int("kraus_dim", kraus_dim)
    if kraus_dim > 1 and loss != "mle":
        raise ValueError(
            f"kraus_dim: mixed states (kraus_dim={kraus_dim}) are fit by loss='mle' (the design least "
            f"squares' closed form holds at a fixed purity, i.e. for pure states), got loss={loss!r}"
        )
    restarts = check_positive_int("restarts", restarts)
    if (
        not isinstance(lattice, (tuple, list))
        or len(lattice) != 2
        or not all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in lattice)
    ):
        raise TypeError(f"lattice: expected (L1, L2), two positive ints, got {describe(lattice)}")
    if min(lattice) < 1:
        raise ValueError(f"lattice: expected (L1, L2), two positive ints, got {tuple(lattice)}")
    lattice = tuple(int(x) for x in lattice)
    if lattice[0] * lattice[1] != povm.n:
        raise ValueError(
            f"lattice: expected (L1, L2) with L1 * L2 = {povm.n} sites (the outcomes'), got {lattice}"
        )
    bond_dim = check_positive_int("bond_dim", bond_dim)
    gen = as_generator(rng)
    if isinstance(start, str):
        start = start_state(outcomes, lattice, bond_dim, start, gen, noise)
    if not callable(getattr(start, "density", None)) or getattr(start, "lattice", None) != lattice:
        raise TypeError(
            f"start: expected 'snake', 'product' or a PEPS on the {lattice} lattice, got {describe(start)}"
        )
    if kraus_dim == 1:

        def lift(psi: PEPS):
            return PEPSDensity(psi.sites, lattice=lattice, validate=False, chi=chi)
    else:

        def lift(psi: PEPS):  # from_peps keeps psi's contraction mode: the estimate's is chi
            sites = LatticeLPDO.from_peps(psi, kraus_dim, noise, gen).sites
            return LatticeLPDO(sites, lattice=lattice, validate=False, chi=chi)

    template = lift(start)
    if loss == "ls":
        if outcomes.vectors is None or not povm.is_design:
            raise ValueError(
                f"loss: 'ls' needs global 2-design outcomes (an alpha, outcome vectors), got {povm!r}"
            )
        objective = FormatObjective(template, povm.operator(outcomes), outcomes.freqs, DesignLoss(povm.alpha))
        step = Armijo(initial=1 / povm.alpha)  # the loss's curvature in psi's metric is about 2 alpha
    else:
        if outcomes.shots is None:
            raise ValueError("loss: 'mle' needs counts; exact probabilities have none (use 'ls')")
        floor = 1e-12 / float(getattr(povm, "n_outcomes", povm.N))
        loss_fn = MultinomialLoss(float(outcomes.shots), floor=floor)
        objective = FormatObjective(template, povm.operator(outcomes), outcomes.counts, loss_fn)
        step = Armijo(initial=4.0 / outcomes.shots)  # the deviance's curvature grows with the shots
    metrics = {} if truth is None else {"frobenius": _truth_distance(truth, povm, lattice)}
    runs = []
    for r in range(restarts):
        init = start if r == 0 else pad(start, bond_dim, noise, gen)
        of = f" (restart {r + 1}/{restarts})" if restarts > 1 else ""  # the bars' labels
        if method == "als":
            runs.append(
                als(outcomes, init, stop=stop, metrics=metrics, progress=progress, progress_label=f"als{of}")
            )
            continue
        x0 = template if r == 0 else lift(init)
        rule = stop
        if rule is None:
            g0 = float(tree_norm(objective.egrad(x0.to_point())))
            rule = {"grad_norm": 1e-5 * g0, "rel_change": 1e-14, "max_iter": 1000}
        runs.append(
            minimize(
                objective,
                x0,
                method="scaled",
                step=step,
                stop=rule,
                metrics=metrics,
                progress=progress,
                progress_label=f"fgd{of}",
            )  # fmt: skip
        )
    best = min(runs, key=lambda res: res.value)
    return PEPSFit(best, [res.value for res in runs], [res.converged for res in runs])


def _truth_distance(truth, povm, lattice):
    """The ``frobenius`` metric against ``truth``, checked before any work: a lattice format
    on ``lattice`` (by contraction) or a dense state of dimension d^n (densely)."""
    if is_format(truth):
        if getattr(truth, "lattice", None) != lattice:
            raise ValueError(
                f"truth: expected a PEPS, PEPSDensity or LatticeLPDO on the {lattice} lattice, got {truth!r} "
                f"on {getattr(truth, 'lattice', 'no lattice')}"
            )
        target = _as_density(truth)
        return lambda x: x.distance(target)
    if isinstance(truth, (torch.Tensor, np.ndarray)):
        target = fuse(density(check_state(truth, "truth", dim=povm.N).to(DTYPE)), povm.d)
        return lambda x: float(torch.linalg.vector_norm(x.to_dense() - target))
    raise TypeError(
        f"truth: expected a PEPS, PEPSDensity, LatticeLPDO or a dense state, got {describe(truth)}"
    )


def _as_density(x):
    """A lattice state as a density format: a pure PEPS (it has ``density()``) as rho = psi
    psi^H / <psi|psi>; a density format (PEPSDensity, LatticeLPDO) as it is."""
    return x.density() if callable(getattr(x, "density", None)) else x


def frobenius_error(estimate, truth: PEPS) -> float:
    """``||rho-hat - rho*||_F = sqrt(2 - 2 |<psi-hat|psi*>|^2)`` for normalised pure states (by
    contraction)."""
    return _as_density(estimate).distance(truth.density())


_TINY = 5e-324
"""The smallest gradient-norm tolerance of :func:`als` (a start with a zero gradient)."""


def als(
    outcomes: Outcomes,
    start: PEPS,
    *,
    stop=None,
    tikhonov: float = 1e-10,
    metrics=None,
    progress: bool = False,
    progress_label: str | None = None,
) -> Result:
    """Alternating least squares for the design least squares on rho = psi psi^H / <psi|psi>
    (:ref:`theory-tomo-algorithms`): rho's loss is alpha (2) - 2 sum_k p-hat_k w <phi_k|rho|phi_k> + const, so
    with every site but v fixed (psi = B_v^T a linear in site v's entries a) it is the
    generalised Rayleigh quotient a^H H a / a^H G a, H = C^H diag(p-hat w) C with
    C = conj(Phi) B_v^T, G = conj(B_v) B_v^T: the site is set to its top generalised
    eigenvector (G regularised by ``tikhonov`` times its mean eigenvalue; without an
    isometric gauge G can be ill-conditioned). The sweeps are the core's
    :func:`~tensorrec.optim.block_coordinate` (forward and back over the sites in row-major
    order, the sites rebalanced after each); every update lowers the loss.

    Returns a :class:`~tensorrec.optim.Result` whose iterations are sweeps and whose trace
    records the loss (the :class:`~tensorrec.recovery.DesignLoss` value, the same as FGD's)
    and the norm of its gradient after each sweep. ``stop``: a dict over ``{"max_iter": 100,
    "rel_change": 1e-12, "grad_norm": 1e-9}`` (the defaults): ``"rel_change"`` is the loss's
    relative change per sweep (the core's :class:`~tensorrec.optim.ValueChange` rule), and
    ``"grad_norm"`` is relative to the start's gradient norm.

    The stop reasons (``Result.stop_reason``) are ``"grad_norm"``, ``"max_iter"`` and, for
    the value-based stop, ``"value_change"``: the key of ``stop`` is still ``"rel_change"``,
    but the reason it gives changed from ``"rel_change"`` (before issue 28) to
    ``"value_change"``, the name the core's block-coordinate runs use; code that compares
    the reason must use the new name. ``progress``: a progress bar on standard error, one
    tick per sweep (the core's, as in :func:`~tensorrec.optim.block_coordinate`), labelled
    ``progress_label`` (default ``"als"``).
    """
    check_bool("progress", progress)
    povm = outcomes.povm
    if outcomes.vectors is None or not povm.is_design:
        raise ValueError(
            f"outcomes: ALS needs global 2-design outcomes (an alpha, outcome vectors), got {povm!r}"
        )
    stop = {"max_iter": 100, "rel_change": 1e-12, "grad_norm": 1e-9, **(stop or {})}
    operator = povm.operator(outcomes)
    objective = FormatObjective(start.density(), operator, outcomes.freqs, DesignLoss(povm.alpha))
    phi = operator.vectors
    weights = (outcomes.freqs * operator.weights).to(phi.dtype)

    def evaluate(sites):
        x = start.from_point(sites, validate=False).density()
        value, grad = objective.value_and_egrad(x.to_point())
        return x, float(value), float(tree_norm(grad))

    def update(sites, v):
        b = start.from_point(sites, validate=False).site_jacobian(v)  # (P, N)
        c = phi.conj() @ b.T  # (M, P)
        h = c.mH @ (weights[:, None] * c)
        g = b.conj() @ b.T
        g = g + tikhonov * torch.diagonal(g).real.mean() * torch.eye(
            g.shape[0], dtype=g.dtype, device=g.device
        )
        low = torch.linalg.cholesky(g)
        m = torch.linalg.solve_triangular(
            low, torch.linalg.solve_triangular(low, h, upper=False).mH, upper=False
        )
        y = torch.linalg.eigh(0.5 * (m + m.mH))[1][:, -1]
        a = torch.linalg.solve_triangular(low.mH, y[:, None], upper=True)[:, 0]
        sites = list(sites)
        sites[v] = (a / torch.sqrt(torch.real(a.conj() @ g @ a))).reshape(sites[v].shape)
        return sites

    g0 = evaluate(list(start.sites))[2]
    rules = [
        GradNorm(max(stop["grad_norm"] * g0, _TINY)),  # relative to the start's gradient norm
        ValueChange(stop["rel_change"]),
        MaxIter(stop["max_iter"]),
    ]
    return block_coordinate(
        update, len(start.sites), list(start.sites), evaluate=evaluate,
        after_sweep=lambda sites: list(_rebalance(sites)), stop=rules, metrics=metrics, progress=progress,
        progress_label=check_progress_label(progress_label, "als"),
    )  # fmt: skip


__all__ = [
    "product_peps",
    "cluster_peps",
    "random_peps",
    "test_state",
    "jacobian_rank",
    "effective_dimension",
    "top_eigenvector",
    "pad",
    "start_state",
    "estimate_peps",
    "PEPSFit",
    "frobenius_error",
    "als",
    "LOSSES",
]
