"""Sparse autoencoders as one (or T) proximal-gradient steps (:ref:`theory-sae-step`).

The encoder is the core's :func:`~tensorrec.optim.proximal_step` from z = 0 with the learned
encoder map: z = prox(W_enc^T (x - b_dec) + b_enc) (the SAELens parameterization; :ref:`theory-sae-step`),
the activation being the prox of the regularizer (:mod:`tensorrec.optim.thresholds`). The
decoder atoms are the columns of D on the Oblique manifold: a ``geoopt.ManifoldParameter``
over :func:`~tensorrec.manifolds.to_geoopt` of :class:`~tensorrec.manifolds.Oblique`, so a
Riemannian optimizer keeps them at unit norm exactly (``decoder="riemannian"``); or a plain
parameter renormalised after each step (``"projected"``, what most SAE code does).

With ``depth > 1`` the first step is the learned encoder and the next ones are the core's
:func:`~tensorrec.optim.unrolled` proximal gradient on (1/2) ||x - D z - b_dec||^2 with the
decoder D at mu = 1 / sigma_max(D)^2 (the
untied multi-step choice :ref:`theory-sae-step` leaves open; tied models use W_enc = mu D throughout).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
from torch import nn

from tensorrec._backend import (
    check_bool,
    check_choice,
    check_finite,
    check_positive_int,
    check_real,
    deprecated_alias,
    describe,
    numpy_boundary,
    renamed_kwargs,
)
from tensorrec._random import RngLike, as_generator
from tensorrec.manifolds import Oblique, to_geoopt
from tensorrec.optim import (
    AbsTopK,
    ProgressBar,
    SoftThreshold,
    TopK,
    abs_topk,
    jump_relu,
    spectral_norm,
    topk,
    topk_indices,
    unrolled,
)

ACTIVATIONS = ("topk", "abstopk", "relu", "jumprelu")
DECODERS = ("riemannian", "projected")
DTYPES = (torch.float32, torch.float64)


STEP_RTOL = 1e-2
"""The residual tolerance of the warm power iteration that gives the step mu of ``depth > 1``:
mu = 1 / sigma^2 with sigma above sigma_max(D) by at most 0.5% (a step at most 1% below
1 / sigma_max^2, never above it), passed in a few iterations from the last call's vector (the
exact eigenvalue problem costs O(d_in^2 d_sae) per forward pass)."""

_boundary = numpy_boundary(like=lambda model, *args: model.b_dec)
"""numpy in, numpy out for the model's methods, numpy floating data cast to the model's dtype
and device (torch tensors of another dtype are still refused, by name)."""


class SAE(nn.Module):
    """A sparse autoencoder x -> z = prox(W_enc^T (x - b_dec) + b_enc) -> x_hat = D z + b_dec.

    Parameters
    ----------
    d_in, d_sae : int
        Input width d and number of latents P.
    activation : {"topk", "abstopk", "relu", "jumprelu"}
        The prox: TopK / AbsTopK (``k`` latents), ReLU (the nonnegative soft threshold; its
        shift is absorbed into ``b_enc``; sparsity from the ``l1`` term of :meth:`loss`),
        JumpReLU (a learned per-latent threshold with the straight-through gradient of
        ``bandwidth``; sparsity from the ``l0`` term).
    tied : bool
        Encoder W_enc = D (one parameter); else a free W_enc initialised to D.
    decoder : {"riemannian", "projected"}
    depth : int
        Proximal steps of the encoder, its unrolled depth T (1: a standard SAE). ``steps=``
        is its deprecated spelling (the iteration budget of :func:`train` is ``max_iter``).
    output_scale : bool or float
        Per-latent output scales a_m (paper E's tied SAE, :ref:`theory-sae-model`): ``True`` learns them
        (initialised to 1); a number fixes every a_m at that value (a buffer, no gradient):
        a small one is the decoupled regime a -> 0 of paper E's recovery theorem (:ref:`theory-sae-model`),
        where each neuron follows its own data instead of sharing the reconstruction.
    auxk : float
        Weight of the AuxK loss (Gao et al. 2024, as SAELens computes it): latents that have
        not fired for ``dead_after`` training steps reconstruct the residual x - x_hat
        through the model's own prox restricted to them (TopK, or AbsTopK for ``"abstopk"``)
        with k_aux = d_in // 2, scaled by min(#dead / k_aux, 1). 0 (default): off.
    dead_after : int
        Training steps without firing after which a latent counts as dead (the
        ``steps_since_fired`` buffer, part of the ``state_dict``).

    Notes
    -----
    numpy in, numpy out: the data methods (``encode``, ``decode``, ``forward``,
    ``reconstruct``, ``pre_activation``, the sparse code) convert floating numpy arrays to the
    model's dtype and device and return numpy arrays; torch tensors of another dtype or device
    are refused with an error naming the argument (cast them explicitly).
    """

    @renamed_kwargs(steps="depth")
    def __init__(self, d_in: int, d_sae: int, activation: str = "topk", *, k: int | None = None,
                 l1: float = 0.0, l0: float = 0.0, threshold: float = 0.01, bandwidth: float = 0.01,
                 tied: bool = False, decoder: str = "riemannian", depth: int = 1,
                 output_scale: bool | float = False, auxk: float = 0.0, dead_after: int = 200,
                 dtype=torch.float32, rng: RngLike = None):  # fmt: skip
        super().__init__()
        self.d_in, self.d_sae = check_positive_int("d_in", d_in), check_positive_int("d_sae", d_sae)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        self.decoder_mode = check_choice("decoder", decoder, DECODERS)
        self.depth = check_positive_int("depth", depth)
        if activation in ("topk", "abstopk"):
            if k is None or not 1 <= check_positive_int("k", k) <= d_sae:
                raise ValueError(f"k: expected an integer in [1, d_sae = {d_sae}], got {k!r}")
            self.prox = TopK(k) if activation == "topk" else AbsTopK(k)
        elif k is not None:
            check_positive_int("k", k)  # unused by this activation, but never a nonsense value
        self.l1, self.l0 = check_real("l1", l1, low=0), check_real("l0", l0, low=0)
        self.bandwidth = check_real("bandwidth", bandwidth, low=0, low_open=True)
        threshold = check_real("threshold", threshold, low=0, low_open=activation == "jumprelu")
        if not isinstance(tied, bool):
            raise TypeError(f"tied: expected True or False, got {describe(tied)}")
        if dtype not in DTYPES:
            raise TypeError(f"dtype: expected torch.float32 or torch.float64, got {dtype!r}")
        self.k, self.tied = k, tied
        self.auxk = check_real("auxk", auxk, low=0)
        self.dead_after = check_positive_int("dead_after", dead_after)
        self.register_buffer("steps_since_fired", torch.zeros(d_sae, dtype=torch.int64))
        self._oblique = Oblique(d_in, d_sae)
        D = self._oblique.random_point(rng).to(dtype)
        if decoder == "riemannian":
            import geoopt

            self.W_dec = geoopt.ManifoldParameter(D, manifold=to_geoopt(self._oblique))
        else:
            self.W_dec = nn.Parameter(D)
        self.W_enc = None if tied else nn.Parameter(D.clone())
        self.b_enc = nn.Parameter(torch.zeros(d_sae, dtype=dtype))
        self.b_dec = nn.Parameter(torch.zeros(d_in, dtype=dtype))
        if isinstance(output_scale, (torch.Tensor, np.ndarray)):
            raise TypeError(
                f"output_scale: expected True, False or a positive number, got {describe(output_scale)}"
            )
        if output_scale is True:
            self.scale = nn.Parameter(torch.ones(d_sae, dtype=dtype))
        elif output_scale is False or output_scale is None:
            self.scale = None
        else:
            if not (
                isinstance(output_scale, (int, float)) and math.isfinite(output_scale) and output_scale > 0
            ):
                raise ValueError(
                    f"output_scale: expected True, False or a positive number, got {output_scale!r}"
                )
            self.register_buffer("scale", torch.full((d_sae,), float(output_scale), dtype=dtype))
        if activation == "jumprelu":
            self.log_threshold = nn.Parameter(torch.full((d_sae,), math.log(threshold), dtype=dtype))
        self._v = None  # the power-iteration warm start for depth > 1
        self._rows = None  # the cached D^T of decode_sparse

    @property
    def steps(self) -> int:
        """Deprecated spelling of :attr:`depth` (the encoder's proximal steps)."""
        deprecated_alias("steps", "depth", "SAE")
        return self.depth

    def encoder_weight(self) -> torch.Tensor:
        return self.W_dec if self.tied else self.W_enc

    @_boundary
    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """W_enc^T (x - b_dec) + b_enc."""
        self._check_x(x)
        return nn.functional.linear(x - self.b_dec, self.encoder_weight().mT, self.b_enc)  # bias fused

    def _check_x(self, x: torch.Tensor, name: str = "x", width: int | None = None) -> None:
        """Refuse, naming ``name``, anything but a real tensor of the model's dtype and device
        with a last axis of ``width`` (default d_in)."""
        width = self.d_in if width is None else width
        like = self.b_dec
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise TypeError(f"{name}: expected a floating torch tensor or numpy array, got {describe(x)}")
        if x.dtype != like.dtype:
            raise TypeError(
                f"{name}: expected dtype {like.dtype} (the model's), got {x.dtype}; cast it explicitly "
                f"(e.g. x.to({like.dtype})) or build the SAE with dtype={x.dtype}"
            )
        if x.device != like.device:
            raise ValueError(f"{name}: expected device {like.device} (the model's), got {x.device}")
        if x.ndim == 0 or x.shape[-1] != width:
            what = "d_in" if width == self.d_in and name == "x" else "d_sae"
            raise ValueError(f"{name}: expected a last axis of width {what} = {width}, got {tuple(x.shape)}")

    def _prox(self, v, mu: float = 1.0):
        if self.activation == "jumprelu":
            return jump_relu(v, torch.exp(self.log_threshold), bandwidth=self.bandwidth)
        if self.activation == "relu":
            return SoftThreshold(0.0, nonnegative=True)(v, mu)
        return self.prox(v, mu)

    @_boundary
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code z: one proximal step from 0 with the learned encoder, then ``depth - 1``
        proximal-gradient steps with the decoder."""
        return self._encode(x)[0]

    def _encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(z, the pre-activations), so the loss terms that need both compute them once."""
        pre = self.pre_activation(x)
        z = self._prox(pre)  # proximal_step from z = 0 at mu = 1: prox(0 + pre)
        if self.depth > 1:
            v0 = self._v
            if v0 is not None and (v0.dtype, v0.device) != (self.W_dec.dtype, self.W_dec.device):
                v0 = None  # the model was moved or cast: start afresh
            sigma, self._v = spectral_norm(self.W_dec.detach(), 20, v0, rtol=STEP_RTOL)  # warm: a few steps
            # the core's unrolled proximal gradient from z, at mu = 1 / sigma^2
            z = unrolled(self.W_dec, x, self._prox, self.depth - 1, b=self.b_dec, z0=z, sigma=sigma)
        return z, pre

    @_boundary
    def encode_sparse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The code of a TopK/AbsTopK encoder of one step as (indices, values), each of shape
        ``x.shape[:-1] + (k,)``: the same code as :meth:`encode` (TopK's negative entries
        among the k are stored as 0), without the dense batch x d_sae tensor. Without
        autograd, the rows go through in chunks of about 8 MB of pre-activations, so the
        selection reads them from cache."""
        if self.activation not in ("topk", "abstopk") or self.depth != 1:
            raise ValueError(
                f"activation, depth: a sparse code needs a TopK/AbsTopK encoder of one step, got "
                f"{self.activation!r} with depth = {self.depth}"
            )
        absolute = self.activation == "abstopk"

        def code(pre):
            idx = topk_indices(pre, self.k, absolute=absolute)
            values = pre.gather(-1, idx)
            return idx, values if absolute else values.clamp_min(0)

        if torch.is_grad_enabled():
            return code(self.pre_activation(x))
        self._check_x(x)
        flat = (x - self.b_dec).reshape(-1, self.d_in)
        rows = min(flat.shape[0], max(1, 2**23 // (self.d_sae * self.b_enc.element_size())))
        buffer = flat.new_empty(rows, self.d_sae)  # one buffer for every chunk: no page faults
        parts = []
        for i in range(0, flat.shape[0], rows):
            chunk = flat[i : i + rows]
            pre = torch.addmm(self.b_enc, chunk, self.encoder_weight(), out=buffer[: len(chunk)])
            parts.append(code(pre))
        idx, values = (torch.cat(p) if len(p) > 1 else p[0] for p in zip(*parts, strict=True))
        return idx.reshape(*x.shape[:-1], self.k), values.reshape(*x.shape[:-1], self.k)

    @_boundary
    def decode_sparse(self, indices: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """:meth:`decode` of the sparse code (indices, values): x_hat = sum_i values_i
        d_{indices_i} + b_dec, gathered row by row (``embedding_bag``): O(k d_in) per sample
        instead of the O(d_sae d_in) of a dense decode."""
        if not isinstance(indices, torch.Tensor) or indices.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"indices: expected an int64 or int32 tensor, got {describe(indices)}")
        if not isinstance(values, torch.Tensor) or values.ndim == 0:
            raise TypeError(f"values: expected a floating tensor of shape (..., k), got {describe(values)}")
        self._check_x(values, "values", values.shape[-1])  # the model's dtype and device
        if indices.shape != values.shape or indices.ndim == 0:
            raise ValueError(
                f"indices, values: expected one shape (..., k), got {tuple(indices.shape)} and "
                f"{tuple(values.shape)}"
            )
        if indices.device != values.device:
            raise ValueError(f"indices: expected device {values.device} (of values), got {indices.device}")
        if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= self.d_sae):
            raise ValueError(
                f"indices: expected latent indices in [0, d_sae = {self.d_sae}), got values from "
                f"{int(indices.min())} to {int(indices.max())}"
            )
        shape = indices.shape
        idx, vals = indices.reshape(-1, shape[-1]), values.reshape(-1, shape[-1])
        if self.scale is not None:
            vals = vals * self.scale[idx]
        out = nn.functional.embedding_bag(idx, self._atom_rows(), per_sample_weights=vals, mode="sum")
        return (out + self.b_dec).reshape(*shape[:-1], self.d_in)

    def _atom_rows(self) -> torch.Tensor:
        """D^T, contiguous (one atom per row, for gathers); without autograd, kept until the
        decoder changes."""
        if torch.is_grad_enabled():
            return self.W_dec.mT.contiguous()
        key = (self.W_dec.data_ptr(), self.W_dec._version)
        if self._rows is None or self._rows[0] != key:
            self._rows = (key, self.W_dec.detach().mT.contiguous())
        return self._rows[1]

    @_boundary
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """x_hat alone (what SAELens's ``forward`` returns): through the sparse code for a
        TopK/AbsTopK encoder of one step, else :meth:`forward`."""
        if self.activation in ("topk", "abstopk") and self.depth == 1:
            return self.decode_sparse(*self.encode_sparse(x))
        return self(x)[0]

    @_boundary
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """D z + b_dec (D (a * z) + b_dec with ``output_scale``: paper E's per-neuron a_m)."""
        self._check_x(z, "z", self.d_sae)
        return (z if self.scale is None else z * self.scale) @ self.W_dec.mT + self.b_dec

    @_boundary
    def forward(self, x: torch.Tensor):
        z = self.encode(x)
        return self.decode(z), z

    def losses(self, x: torch.Tensor) -> dict:
        """The terms of :meth:`loss` by name (``mse``, ``sparsity``, ``auxk``, ``loss`` their
        sum) and the codes ``z`` of the batch. An empty batch is refused (its mean is
        undefined)."""
        self._check_x(x)
        if x.numel() == 0:
            raise ValueError(f"x: expected a batch of at least one sample, got shape {tuple(x.shape)}")
        z, pre = self._encode(x)
        x_hat = self.decode(z)
        terms = {"mse": 0.5 * ((x - x_hat) ** 2).sum(-1).mean()}
        if self.activation == "relu" and self.l1:
            terms["sparsity"] = self.l1 * z.abs().sum(-1).mean()
        if self.activation == "jumprelu" and self.l0:
            terms["sparsity"] = (
                self.l0 * _step(pre, torch.exp(self.log_threshold), self.bandwidth).sum(-1).mean()
            )
        if self.auxk:
            dead = self.dead_latents()
            if bool(dead.any()):
                terms["auxk"] = self.auxk * self._auxk_loss(x - x_hat.detach(), pre, dead)
        return {"loss": sum(terms.values()), **terms, "z": z}

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """(1/2) mean ||x - x_hat||^2, plus l1 mean ||z||_1 (ReLU) or l0 mean ||z||_0 through the
        JumpReLU threshold's straight-through gradient (JumpReLU), plus the AuxK term."""
        return self.losses(x)["loss"]

    def dead_latents(self) -> torch.Tensor:
        """The latents that have not fired for ``dead_after`` training steps (bool, d_sae)."""
        return self.steps_since_fired >= self.dead_after

    @torch.no_grad()
    def record_firing(self, z: torch.Tensor) -> None:
        """Advance ``steps_since_fired`` by one training step with the codes ``z`` of its batch."""
        fired = (z != 0).reshape(-1, self.d_sae).any(0)
        self.steps_since_fired.add_(1).masked_fill_(fired, 0)

    @torch.no_grad()
    def resample_dead(self, x: torch.Tensor, rng: RngLike = None) -> torch.Tensor:
        """Re-initialise the dead latents on the inputs of ``x`` the model reconstructs worst
        (the resampling of Bricken et al. 2023): each dead latent gets the unit residual
        direction of a sample drawn with probability proportional to ||x - x_hat||^2 as its
        atom and, scaled to the mean live encoder norm, as its encoder column; its bias and
        ``steps_since_fired`` become 0. Returns the indices resampled (:func:`train` also
        clears their optimizer moments)."""
        dead = torch.nonzero(self.dead_latents()).flatten()
        if not len(dead):
            return dead
        residual = x - self(x)[0]
        err = (residual**2).sum(-1).double()
        total = err.sum()
        if not bool(total > 0):
            return dead[:0]
        # Generator.choice(len(err), p=err / total) on the device: the host draws the uniforms
        # (the same stream), the cdf and its search stay where the data are (no copy to host)
        cdf = torch.cumsum(err / total, 0)
        u = torch.from_numpy(as_generator(rng).random(len(dead))).to(cdf.device)
        rows = torch.searchsorted(cdf / cdf[-1], u, right=True)
        dirs = residual[rows] / torch.linalg.vector_norm(residual[rows], dim=-1, keepdim=True)
        self.W_dec[:, dead] = dirs.mT.to(self.W_dec.dtype)
        if not self.tied:
            live = ~self.dead_latents()
            scale = torch.linalg.vector_norm(self.W_enc[:, live], dim=0).mean() if live.any() else 1.0
            self.W_enc[:, dead] = dirs.mT.to(self.W_enc.dtype) * scale
        self.b_enc[dead] = 0
        self.steps_since_fired[dead] = 0
        return dead

    def _auxk_loss(self, residual, pre, dead) -> torch.Tensor:
        k_aux = max(self.d_in // 2, 1)
        scale = min(int(dead.sum()) / k_aux, 1.0)
        k_aux = max(min(k_aux, int(dead.sum())), 1)
        if self.activation == "abstopk":
            codes = abs_topk(torch.where(dead, pre, torch.zeros((), dtype=pre.dtype)), k_aux)
        else:
            codes = topk(torch.where(dead, pre, torch.full((), -math.inf, dtype=pre.dtype)), k_aux)
        return scale * 0.5 * ((codes @ self.W_dec.mT - residual) ** 2).sum(-1).mean()

    def to_sae_lens(self):
        """This model as a sae-lens inference SAE (:func:`tensorrec.sae.saelens.to_sae_lens`)."""
        from tensorrec.sae.saelens import to_sae_lens

        return to_sae_lens(self)

    @classmethod
    def from_sae_lens(cls, sae, *, dtype=None, **options) -> SAE:
        """A model with the weights of a sae-lens SAE (:func:`tensorrec.sae.saelens.from_sae_lens`)."""
        from tensorrec.sae.saelens import from_sae_lens

        return from_sae_lens(sae, dtype=dtype, **options)

    def save_sae_lens(self, path) -> tuple:
        """Save in sae-lens's layout (:func:`tensorrec.sae.saelens.save_sae_lens`)."""
        from tensorrec.sae.saelens import save_sae_lens

        return save_sae_lens(self, path)

    @classmethod
    def load_sae_lens(cls, path, *, device="cpu", dtype=None, **options) -> SAE:
        """Load from sae-lens's layout (:func:`tensorrec.sae.saelens.load_sae_lens`)."""
        from tensorrec.sae.saelens import load_sae_lens

        return load_sae_lens(path, device=device, dtype=dtype, **options)

    @torch.no_grad()
    def renormalize(self) -> None:
        """Project the decoder columns back to unit norm (``decoder="projected"``): the Oblique
        manifold's ``project_point``."""
        self.W_dec.copy_(self._oblique.project_point(self.W_dec))


class _Step(torch.autograd.Function):
    """H(u - theta) with the rectangle-kernel pseudo-derivative for theta (the L0 count)."""

    @staticmethod
    def forward(ctx, u, theta, bandwidth):
        ctx.save_for_backward(u, theta)
        ctx.bandwidth = bandwidth
        return (u > theta).to(u.dtype)

    @staticmethod
    def backward(ctx, g):
        u, theta = ctx.saved_tensors
        near = ((u - theta).abs() < ctx.bandwidth / 2).to(g.dtype)
        grad = -(near * g / ctx.bandwidth).reshape(-1, theta.shape[-1]).sum(0)
        return None, grad, None


def _step(u, theta, bandwidth):
    return _Step.apply(u, theta, bandwidth)


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What :func:`train` returns (issue 28: a result object, not a plain dict).

    Attributes
    ----------
    values : tuple of float
        The training loss of every step taken (the objective's values, as in the core's
        :class:`~tensorrec.optim.Trace`).
    adaptation : tuple
        The reports of the bias adaptation rule (empty without one).
    resampled : int
        The number of dead latents resampled.
    stop_reason : str
        ``"max_iter"`` (all ``max_iter`` steps taken) or ``"nan"`` (a non-finite loss).

    The dict access of earlier releases, ``result["loss"]``, ``result["adaptation"]``,
    ``result["resampled"]``, ``result["stop_reason"]``, works for one more release with a
    DeprecationWarning naming the attribute (``"loss"`` is :attr:`values`; its
    ``"max_steps"`` is now ``"max_iter"``). It is not a Mapping: use the attributes, or
    :func:`dataclasses.asdict` for a dict.
    """

    values: tuple
    adaptation: tuple
    resampled: int
    stop_reason: str

    @property
    def iterations(self) -> int:
        """Training steps taken (the length of :attr:`values`)."""
        return len(self.values)

    _KEYS = {"loss": "values", "adaptation": "adaptation", "resampled": "resampled",
             "stop_reason": "stop_reason"}  # fmt: skip

    def __getitem__(self, key: str):
        if key not in self._KEYS:
            raise KeyError(key)
        deprecated_alias(f"result[{key!r}]", f"result.{self._KEYS[key]}", "sae.train")
        value = getattr(self, self._KEYS[key])
        if key == "stop_reason" and value == "max_iter":
            return "max_steps"  # the old dict's word
        return list(value) if isinstance(value, tuple) else value


@renamed_kwargs(steps="max_iter")
def train(sae: SAE, data, max_iter: int, *, batch: int = 512, lr: float = 1e-3, rng: RngLike = None,
          adaptation=None, resample_every: int | None = None,
          progress: bool = False) -> TrainResult:  # fmt: skip
    """Train ``sae`` for ``max_iter`` steps on fresh batches of ``data`` (``data.sample(batch,
    rng)``) with geoopt's RiemannianAdam (Adam on the Euclidean parameters, Riemannian Adam on
    a Riemannian decoder); a projected decoder is renormalised after every step. With
    ``adaptation`` (a :class:`~tensorrec.sae.GroupBiasAdaptation`) the encoder bias gets no
    gradient: the rule sets it from the pre-activations every ``adaptation.every`` steps
    (paper E's training). Every ``resample_every`` steps of the first three quarters of
    training, the dead latents are resampled on the current batch (:meth:`SAE.resample_dead`)
    and their Adam moments cleared. Returns a :class:`TrainResult`: the loss history, the
    adaptation reports and the number of latents resampled. Each batch is cast to the model's
    dtype (the generators draw float64) and must be finite; a non-finite loss stops training
    with ``stop_reason = "nan"`` and a RuntimeWarning (``"max_iter"`` otherwise). ``steps=`` is
    the deprecated spelling of ``max_iter``. ``progress=True`` draws a bar on standard error
    (the core's :class:`~tensorrec.optim.progress.ProgressBar`, default off): one tick per
    step, the current loss, the stop reason at the end; it costs no extra host read and
    changes no number."""
    import warnings

    import geoopt

    if not isinstance(sae, SAE):
        raise TypeError(f"sae: expected a tensorrec SAE, got {describe(sae)}")
    if not callable(getattr(data, "sample", None)):
        raise TypeError(
            f"data: expected a generator with sample(batch, rng) (a SparseMixture), got {describe(data)}"
        )
    max_iter = check_positive_int("max_iter", max_iter)
    progress = check_bool("progress", progress)
    batch = check_positive_int("batch", batch)
    lr = check_real("lr", lr, low=0, low_open=True)
    if resample_every is not None:
        check_positive_int("resample_every", resample_every)
    if adaptation is not None:
        if not all(callable(getattr(adaptation, m, None)) for m in ("observe", "adapt")) or not all(
            hasattr(adaptation, a) for a in ("every", "steps")
        ):
            raise TypeError(
                "adaptation: expected a bias rule with observe(pre), adapt(bias), every and steps "
                f"(a GroupBiasAdaptation), got {describe(adaptation)}"
            )
        if getattr(adaptation, "d_sae", sae.d_sae) != sae.d_sae:
            raise ValueError(
                f"adaptation: expected a rule for d_sae = {sae.d_sae} neurons, got one for {adaptation.d_sae}"
            )
    gen = as_generator(rng)
    if adaptation is not None:
        sae.b_enc.requires_grad_(False)
    opt = geoopt.optim.RiemannianAdam([p for p in sae.parameters() if p.requires_grad], lr=lr)
    dtype = sae.b_dec.dtype
    history, reports, resampled, reason = [], [], 0, "max_iter"
    bar = ProgressBar(progress, "SAE", total=max_iter, unit="step")
    for step in range(1, max_iter + 1):
        x = data.sample(batch, gen)
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise TypeError(f"data: expected sample() to return a floating tensor, got {describe(x)}")
        x = x.to(dtype)
        check_finite("data", x, f" (the batch of step {step})")
        opt.zero_grad()
        terms = sae.losses(x)
        loss = terms["loss"]
        value = float(loss.detach())  # the one host read of the step: the history and the NaN stop
        if not math.isfinite(value):
            warnings.warn(
                f"loss: non-finite ({value}) at step {step}: training stopped (lower lr?)",
                RuntimeWarning,
                stacklevel=3,  # the caller of train (through its renamed_kwargs wrapper)
            )
            history.append(value)
            reason = "nan"
            break
        loss.backward()
        sae.record_firing(terms["z"])
        opt.step()
        if sae.decoder_mode == "projected":
            sae.renormalize()
        history.append(value)
        bar.update(step, loss=value)
        if adaptation is not None:
            with torch.no_grad():
                adaptation.observe(sae.pre_activation(x))
            if adaptation.steps >= adaptation.every:
                reports.append(adaptation.adapt(sae.b_enc))
        if resample_every is not None and step % resample_every == 0 and 4 * step <= 3 * max_iter:
            dead = sae.resample_dead(x, gen)
            resampled += len(dead)
            for p in (sae.W_dec, sae.W_enc, sae.b_enc):
                for moment in opt.state.get(p, {}).values() if p is not None else ():
                    if torch.is_tensor(moment) and moment.shape[-1:] == (sae.d_sae,):
                        moment[..., dead] = 0
    bar.close(reason)
    return TrainResult(tuple(history), tuple(reports), resampled, reason)


__all__ = ["SAE", "train", "TrainResult", "ACTIVATIONS", "DECODERS"]
