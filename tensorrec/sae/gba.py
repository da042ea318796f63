"""Bias adaptation (BA) and group bias adaptation (GBA) of paper E (:ref:`theory-sae-model`).

The encoder biases get no gradient; every ``every`` steps this rule sets them from running
per-neuron statistics of the pre-activations y_m seen since the last update (a firing count
and the peak of y_m: no buffer of samples is stored):

- neurons in group k get the target activation frequency (TAF)
  p_k = HTF (LTF / HTF)^((k - 1) / (K - 1)), groups drawn by a random permutation;
- a neuron that fires too often (p-hat_m > p_k) becomes more selective,
  b_m <- max(b_m - gamma_minus r_m, low) with r_m = max(0, peak of y_m);
- a dead neuron (p-hat_m < ``dead``) becomes more sensitive,
  b_m <- min(b_m + gamma_plus s_k, high) with s_k the mean positive peak of its group;
- biases stay in ``bias_range`` ([-1, 0] in the paper, for inputs with w^T x = O(1)).

BA is ``groups=1`` with ``htf = ltf`` = the tuned TAF p. The TAF is an upper bound on a
neuron's firing frequency: the rule never pushes a frequency up towards it, only away from 0.
Items the sources leave open (:ref:`theory-sae-model`) are parameters: ``dead``, ``every``,
``bias_range``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from tensorrec._backend import (
    as_tensor,
    check_finite,
    check_positive_finite,
    check_positive_int,
    check_real,
    describe,
)
from tensorrec._random import RngLike, as_generator


class GroupBiasAdaptation:
    """The GBA rule for ``d_sae`` neurons (see the module docstring for the parameters)."""

    def __init__(self, d_sae: int, *, groups: int = 10, htf: float = 0.5, ltf: float = 1e-3,
                 gamma_plus: float = 0.01, gamma_minus: float = 0.01, dead: float = 1e-6, every: int = 50,
                 bias_range: tuple[float, float] = (-1.0, 0.0), rng: RngLike = None):  # fmt: skip
        self.d_sae, self.groups = check_positive_int("d_sae", d_sae), check_positive_int("groups", groups)
        if groups > d_sae:
            raise ValueError(f"groups: expected at most d_sae = {d_sae} groups, got {groups}")
        htf, ltf = check_positive_finite("htf", htf), check_positive_finite("ltf", ltf)
        if not ltf <= htf <= 1:
            raise ValueError(f"htf, ltf: expected 0 < ltf <= htf <= 1, got htf = {htf}, ltf = {ltf}")
        self.gamma_plus = check_positive_finite("gamma_plus", gamma_plus)
        self.gamma_minus = check_positive_finite("gamma_minus", gamma_minus)
        self.dead = check_positive_finite("dead", dead)
        self.every = check_positive_int("every", every)
        if not (isinstance(bias_range, (tuple, list)) and len(bias_range) == 2):
            raise ValueError(
                f"bias_range: expected a pair (low, high) of numbers, got {describe(bias_range)}"
            )
        low, high = (check_real(f"bias_range[{i}]", v) for i, v in enumerate(bias_range))
        if not low < high:
            raise ValueError(f"bias_range: expected low < high, got {bias_range!r}")
        self.bias_range = (float(low), float(high))
        exponents = np.arange(groups) / max(groups - 1, 1)
        targets = htf * (ltf / htf) ** exponents  # one TAF per group, geometric
        self.group = torch.from_numpy(as_generator(rng).permutation(d_sae) % groups)
        self.taf = torch.from_numpy(targets)[self.group]
        self.reset()

    def reset(self) -> None:
        """Forget the statistics (after every update); they stay on the data's device."""
        device = self.fires.device if hasattr(self, "fires") else None
        self.fires = torch.zeros(self.d_sae, dtype=torch.float64, device=device)
        self.peak = torch.full((self.d_sae,), -math.inf, dtype=torch.float64, device=device)
        self.samples = 0
        self.steps = 0

    @torch.no_grad()
    def observe(self, pre: torch.Tensor) -> None:
        """Add a minibatch of pre-activations (batch x d_sae, or any leading axes, bias
        included; numpy or torch) to the statistics. They must be real and finite: one NaN would
        poison a neuron's peak."""
        pre = as_tensor(pre, "pre")
        if pre.is_complex() or pre.ndim < 1 or pre.shape[-1] != self.d_sae:
            raise ValueError(
                f"pre: expected real pre-activations with a last axis of d_sae = {self.d_sae}, "
                f"got {describe(pre)}"
            )
        check_finite("pre", pre)
        pre = pre.detach().reshape(-1, self.d_sae).to(torch.float64)
        if pre.shape[0] == 0:
            raise ValueError(f"pre: expected at least one sample, got an empty batch {describe(pre)}")
        if self.fires.device != pre.device:  # the statistics live with the data: no copy per step
            self.fires, self.peak = self.fires.to(pre.device), self.peak.to(pre.device)
        self.fires += (pre > 0).sum(0)
        self.peak = torch.maximum(self.peak, pre.max(0).values)
        self.samples += pre.shape[0]
        self.steps += 1

    @property
    def frequencies(self) -> torch.Tensor:
        """p-hat_m: the firing frequency of every neuron since the last update."""
        return self.fires / max(self.samples, 1)

    @torch.no_grad()
    def adapt(self, bias: torch.Tensor) -> dict:
        """Apply the rule to ``bias`` in place and reset the statistics; returns the counts of
        neurons made more selective and more sensitive, and the frequencies used."""
        if not isinstance(bias, torch.Tensor) or not bias.is_floating_point() or bias.shape != (self.d_sae,):
            raise ValueError(
                f"bias: expected a real torch tensor of shape ({self.d_sae},) to update in place, "
                f"got {describe(bias)}"
            )
        if self.samples == 0:
            raise ValueError("adapt: no pre-activations observed since the last update; call observe first")
        p_hat, r = self.frequencies, self.peak.clamp_min(0)
        device = r.device
        group, taf = self.group.to(device), self.taf.to(device)
        positive = (r > 0).to(torch.float64)
        totals = torch.zeros(self.groups, dtype=torch.float64, device=device).index_add_(0, group, r)
        counts = torch.zeros(self.groups, dtype=torch.float64, device=device).index_add_(0, group, positive)
        s_bar = (totals / counts.clamp_min(1))[group]
        low, high = self.bias_range
        b = bias.detach().to(device=device, dtype=torch.float64)
        too_often = p_hat > taf
        dead = (~too_often) & (p_hat < self.dead)
        b = torch.where(too_often, torch.clamp(b - self.gamma_minus * r, min=low), b)
        b = torch.where(dead, torch.clamp(b + self.gamma_plus * s_bar, max=high), b)
        bias.copy_(b.to(bias.dtype))
        report = {"selective": int(too_often.sum()), "sensitive": int(dead.sum()), "frequencies": p_hat}
        self.reset()
        return report


__all__ = ["GroupBiasAdaptation"]
