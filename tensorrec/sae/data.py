"""The CPU synthetic generator of sparse mixtures with a known dictionary (:ref:`theory-sae-model`)."""

from __future__ import annotations

import numbers

import numpy as np
import torch

from tensorrec._backend import check_choice, check_positive_int, check_real, describe
from tensorrec._random import RngLike, as_generator

SIGN_MODES = ("pos", "bipolar", "mixed")


PROFILES = ("uniform", "zipf")
COEFS = ("uniform", "lognormal")


class SparseMixture:
    """x = sum_i h_i v_i + noise xi: each sample mixes about s of n unit-norm features v_i in R^d.

    Parameters
    ----------
    n, d : int
        Features and dimension.
    s : int or tuple of int
        Features per sample: exactly s for ``freq_profile="uniform"``, s in expectation for
        ``"zipf"`` (feature i occurs with probability f_i ~ i^-alpha). A tuple (uniform profile
        only) draws each sample's s from it with equal probability: (3, 20) is the imbalanced
        sparsity of benchmark B5, with f = mean(s) / n.
    sign_mode : {"pos", "bipolar", "mixed"}
        Signs of the coefficients: all +, +-1 each with probability 1/2, or bipolar for a
        fraction ``bipolar_fraction`` of the features (``bipolar`` records which).
    coef : {"uniform", "lognormal"}
        Magnitudes U[0.5, 1.5] or lognormal(0, 0.25).
    noise : float
        sigma of xi ~ N(0, I_d).
    held_out : int
        Size of the fixed evaluation set (``held_out_x``, with its codes ``held_out_h``).
    pairs, cooccurrence : int, float
        Plant ``pairs`` correlated feature pairs (features 2j and 2j + 1, j < pairs; uniform
        profile only): a sample holding one feature of a pair and not the other gets the
        other too with probability ``cooccurrence`` (the co-occurrence of condition H3,
        :ref:`theory-sae-model`; claim 12). ``paired`` lists the planted features.
    normalize : bool
        Scale every sample (and its codes) by one constant c = 1 / sqrt(mean ||x||^2 over the
        held-out set), so that inputs have mean squared norm 1 and w^T x = O(1) for unit w:
        the input scaling that bias adaptation's bias range [-1, 0] assumes (:ref:`theory-sae-model`).
        ``scale`` records c (1.0 without).
    rng
        Draws V; :meth:`sample` draws from its own ``rng``.

    Attributes: ``V`` (n x d, unit rows), ``f`` (occurrence frequencies), ``coherence``
    (max |v_i . v_j|, i != j), ``bipolar`` (bool per feature).
    """

    def __init__(self, n: int, d: int, s: int, *, sign_mode: str = "bipolar", freq_profile: str = "uniform",
                 alpha: float = 1.0, coef: str = "uniform", noise: float = 0.0, bipolar_fraction: float = 0.5,
                 held_out: int = 20_000, pairs: int = 0, cooccurrence: float = 0.0, normalize: bool = False,
                 dtype=torch.float64,
                 rng: RngLike = None):  # fmt: skip
        self.n, self.d = check_positive_int("n", n), check_positive_int("d", d)
        sizes = tuple(s) if isinstance(s, (tuple, list)) else (s,)
        if any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in sizes):
            raise TypeError(f"s: expected an integer or a tuple of integers, got {describe(s)}")
        self.sizes = tuple(check_positive_int("s", v) for v in sizes) if sizes else None
        if not self.sizes or max(self.sizes) > n:
            raise ValueError(f"s: expected 1 to n = {n} features per sample (or a tuple of them), got {s!r}")
        if len(self.sizes) > 1 and freq_profile != "uniform":
            raise ValueError(f"s: a tuple of sizes needs freq_profile='uniform', got {freq_profile!r}")
        self.s = s if len(self.sizes) > 1 else self.sizes[0]
        mean_s = float(np.mean(self.sizes))
        self.sign_mode = check_choice("sign_mode", sign_mode, SIGN_MODES)
        self.freq_profile = check_choice("freq_profile", freq_profile, PROFILES)
        self.coef = check_choice("coef", coef, COEFS)
        self.noise = check_real("noise", noise, low=0)
        alpha = check_real("alpha", alpha, low=0)
        bipolar_fraction = check_real("bipolar_fraction", bipolar_fraction, low=0, high=1)
        if dtype not in (torch.float32, torch.float64):
            raise TypeError(f"dtype: expected torch.float32 or torch.float64, got {dtype!r}")
        if not isinstance(normalize, bool):
            raise TypeError(f"normalize: expected True or False, got {describe(normalize)}")
        self.dtype = dtype
        if isinstance(pairs, bool) or not (isinstance(pairs, numbers.Integral) and 0 <= 2 * pairs <= n):
            raise ValueError(f"pairs: expected an integer in [0, n / 2 = {n // 2}], got {pairs!r}")
        cooccurrence = check_real("cooccurrence", cooccurrence, low=0, high=1)
        if pairs and freq_profile != "uniform":
            raise ValueError(f"pairs: planted pairs need freq_profile='uniform', got {freq_profile!r}")
        self.pairs, self.cooccurrence = pairs, float(cooccurrence)
        gen = as_generator(rng)
        V = gen.standard_normal((n, d))
        self.V = torch.from_numpy(V / np.linalg.norm(V, axis=1, keepdims=True)).to(dtype)
        gram = (self.V @ self.V.mT).abs() - torch.eye(n, dtype=dtype)
        self.coherence = float(gram.max()) if n > 1 else 0.0
        if self.freq_profile == "uniform":
            self.f = np.full(n, mean_s / n)
        else:
            w = np.arange(1, n + 1, dtype=float) ** -alpha
            self.f = np.clip(w * mean_s / w.sum(), 0, 1)
        self.bipolar = {"pos": np.zeros(n, bool), "bipolar": np.ones(n, bool),
                        "mixed": gen.random(n) < bipolar_fraction}[self.sign_mode]  # fmt: skip
        self.scale = 1.0
        self.held_out_x, self.held_out_h = self.sample(
            check_positive_int("held_out", held_out), gen, codes=True
        )
        if normalize:
            self.scale = float(1 / (self.held_out_x**2).sum(-1).mean().sqrt())
            self.held_out_x, self.held_out_h = self.held_out_x * self.scale, self.held_out_h * self.scale

    @property
    def paired(self) -> np.ndarray:
        """The planted features: 2j and 2j + 1 for j < ``pairs``."""
        return np.arange(2 * self.pairs)

    def __repr__(self) -> str:
        return f"SparseMixture(n={self.n}, d={self.d}, s={self.s}, sign_mode={self.sign_mode!r})"

    def sample(self, batch: int, rng: RngLike = None, *, codes: bool = False):
        """``batch`` fresh samples (and their codes H, batch x n, with ``codes``)."""
        gen = as_generator(rng)
        batch = check_positive_int("batch", batch)
        if self.freq_profile == "uniform":
            order = np.argsort(gen.random((batch, self.n)), axis=1)
            size = (
                self.sizes[0]
                if len(self.sizes) == 1
                else np.array(self.sizes)[gen.integers(len(self.sizes), size=batch)]
            )
            active = np.zeros((batch, self.n), bool)
            np.put_along_axis(active, order, np.arange(self.n) < np.reshape(size, (-1, 1)), axis=1)
            if self.pairs:
                a, b = active[:, 0 : 2 * self.pairs : 2], active[:, 1 : 2 * self.pairs : 2]
                join = gen.random(a.shape) < self.cooccurrence
                active[:, 0 : 2 * self.pairs : 2], active[:, 1 : 2 * self.pairs : 2] = (
                    a | (b & join),
                    b | (a & join),
                )
        else:
            active = gen.random((batch, self.n)) < self.f
        mags = (
            gen.uniform(0.5, 1.5, (batch, self.n))
            if self.coef == "uniform"
            else gen.lognormal(0, 0.25, (batch, self.n))
        )
        signs = np.where(self.bipolar & (gen.random((batch, self.n)) < 0.5), -1.0, 1.0)
        H = torch.from_numpy(active * mags * signs).to(self.dtype)
        x = H @ self.V
        if self.noise:
            x = x + self.noise * torch.from_numpy(gen.standard_normal(x.shape)).to(self.dtype)
        if self.scale != 1.0:
            x, H = x * self.scale, H * self.scale
        return (x, H) if codes else x


__all__ = ["SparseMixture", "SIGN_MODES", "PROFILES"]
