"""Fuzz cases of the SAE bridge (issue 27, area "sae"): every public entry point of
``tensorrec.sae`` and the proxes / ``spectral_norm`` / ``unrolled`` of ``tensorrec.optim`` fed
invalid input (which must be refused by name) and valid edge cases (which must give the right
answer). ``python tests/fuzz_report.py --area sae`` prints the table."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from fuzz_harness import Case, assert_clear

from tensorrec import sae
from tensorrec.optim import (
    AbsTopK,
    HardThreshold,
    SoftThreshold,
    StepSizeWarning,
    TopK,
    abs_topk,
    hard_threshold,
    jump_relu,
    soft_threshold,
    spectral_norm,
    topk,
    topk_indices,
    unrolled,
)

F, S = torch.float64, torch.float32
NAN, INF = math.nan, math.inf
CASES: list[Case] = []


def bad(id, call, *match, raises=(ValueError, TypeError)):
    """A call that must raise, naming one of ``match``."""
    CASES.append(Case("sae", id, call, "raise", tuple(match), raises=raises))


def ok(id, call, check):
    """A valid edge case: returns, and ``check(result)`` holds."""
    CASES.append(Case("sae", id, call, "ok", check=check))


def warn(id, call, warns, *match, check=None):
    CASES.append(Case("sae", id, call, "warn", tuple(match), warns=warns, check=check))


def that(predicate, text):
    def check(result):
        try:
            holds = predicate(result)
        except Exception as exc:  # a result of the wrong kind is a wrong answer, not a crash
            raise AssertionError(f"{text}; got {result!r:.300} ({type(exc).__name__}: {exc})") from None
        assert holds, f"{text}; got {result!r:.300}"

    return check


def same(a, b) -> bool:
    """Equal arrays (numpy or torch), NaN matching NaN."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def close(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-12, atol=1e-15)


def unit(d, P, seed, dtype=F):
    D = torch.from_numpy(np.random.default_rng(seed).standard_normal((d, P))).to(dtype)
    return D / torch.linalg.vector_norm(D, dim=0)


def model(activation="topk", **kw):
    kw.setdefault("k", 2 if activation in ("topk", "abstopk") else None)
    return sae.SAE(8, 16, activation, rng=0, **kw)


def mixture(**kw):
    kw.setdefault("held_out", 10)
    return sae.SparseMixture(16, 8, 2, rng=0, **kw)


def no_warning(call):
    """Run ``call`` with every warning an error (a valid call must not warn)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return call()


X8 = torch.randn(3, 8, generator=torch.Generator().manual_seed(0))
U = torch.tensor([[1.0, NAN, 3.0, -2.0, -INF, INF]], dtype=F)

# ---------------------------------------------------------------- issue 27's reproducers
bad("SAE relu l1=nan", lambda: sae.SAE(8, 16, "relu", l1=NAN), "l1")
bad("SAE jumprelu threshold=nan", lambda: sae.SAE(8, 16, "jumprelu", threshold=NAN), "threshold")
bad(
    "SAE jumprelu threshold=0 (math domain error)",
    lambda: sae.SAE(8, 16, "jumprelu", threshold=0.0),
    "threshold",
)
bad("SAE loss on an empty batch", lambda: model("relu", l1=0.1).loss(torch.zeros(0, 8)), "x:")
bad("SAE losses on an empty batch", lambda: model().losses(torch.zeros(0, 8)), "x:")
bad("train batch=0", lambda: sae.train(model(), mixture(), 2, batch=0), "batch")
bad("GBA observe of the wrong width", lambda: sae.GroupBiasAdaptation(16).observe(torch.randn(4, 8)), "pre")
bad("SparseMixture alpha=nan", lambda: mixture(freq_profile="zipf", alpha=NAN), "alpha")
bad(
    "SparseMixture bipolar_fraction=2",
    lambda: mixture(sign_mode="mixed", bipolar_fraction=2.0),
    "bipolar_fraction",
)
bad("recovery tau=2", lambda: sae.recovery(torch.eye(4, dtype=F), torch.eye(4, dtype=F), tau=2), "tau")
bad("sparsity of an empty batch", lambda: sae.sparsity(torch.zeros(0, 5)), "z:")
ok(
    "soft_threshold NaN",
    lambda: soft_threshold(U, 0.5),
    that(lambda r: same(r, [[0.5, NAN, 2.5, -1.5, -INF, INF]]), "NaN kept"),
)
ok(
    "relu NaN",
    lambda: soft_threshold(U, 0.5, nonnegative=True),
    that(lambda r: same(r, [[0.5, NAN, 2.5, 0, 0, INF]]), "NaN kept"),
)
ok(
    "hard_threshold NaN",
    lambda: hard_threshold(U, 0.5),
    that(lambda r: same(r, [[0, NAN, 3, -2, -INF, INF]]), "NaN kept"),
)
ok("jump_relu NaN", lambda: jump_relu(U, 0.5), that(lambda r: same(r, [[1, NAN, 3, 0, 0, INF]]), "NaN kept"))
ok(
    "jump_relu bandwidth NaN and -inf",
    lambda: jump_relu(U, 0.5, bandwidth=0.1),
    that(lambda r: same(r, [[1, NAN, 3, 0, 0, INF]]), "NaN kept, -inf -> 0"),
)
ok(
    "topk NaN ranks first",
    lambda: topk(U, 2),
    that(lambda r: same(r, [[0, NAN, 0, 0, 0, INF]]), "NaN and inf kept"),
)
ok(
    "abs_topk NaN ranks first",
    lambda: abs_topk(U, 3),
    that(lambda r: same(r, [[0, NAN, 0, 0, -INF, INF]]), "NaN, +-inf kept"),
)
ok("topk_indices NaN", lambda: topk_indices(U, 2), that(lambda r: r.tolist() == [[1, 5]], "NaN then inf"))
ok(
    "topk_indices NaN float32 numba row",
    lambda: topk_indices(torch.tensor([[NAN, 1.0] + [0.0] * 40], dtype=S), 1),
    that(lambda r: r.tolist() == [[0]], "NaN first"),
)
ok(
    "topk NaN numpy",
    lambda: topk(U.numpy(), 1),
    that(lambda r: isinstance(r, np.ndarray) and same(r, [[0, NAN, 0, 0, 0, 0]]), "numpy NaN"),
)


def _d25():
    D = np.random.default_rng(25).standard_normal((16, 64))
    return D / np.linalg.norm(D, axis=0)


ok(
    "spectral_norm 16x64 seed 25",
    lambda: spectral_norm(_d25())[0],
    that(lambda r: abs(r - 2.7565285189808) < 1e-9, "sigma_max = 2.756529"),
)
ok(
    "spectral_norm never below sigma_max 64x1024",
    lambda: [
        spectral_norm(unit(64, 1024, s))[0] / float(torch.linalg.matrix_norm(unit(64, 1024, s), 2))
        for s in range(5)
    ],
    that(lambda r: all(abs(q - 1) < 1e-13 for q in r), "exact"),
)
ok(
    "spectral_norm of zeros",
    lambda: spectral_norm(torch.zeros(4, 6, dtype=F))[0],
    that(lambda r: r == 0.0, "0, not NaN"),
)
ok(
    "unrolled default step is 1/L (no warning)",
    lambda: no_warning(
        lambda: unrolled(torch.from_numpy(_d25()), torch.ones(2, 16, dtype=F), SoftThreshold(0.1), 3)
    ),
    that(lambda r: r.shape == (2, 64), "shape"),
)
warn(
    "unrolled step 1% above 1/L warns",
    lambda: unrolled(
        torch.from_numpy(_d25()), torch.ones(2, 16, dtype=F), TopK(3), 3, step=1.01 / 2.7565285189808**2
    ),
    StepSizeWarning,
    "step",
)
bad("SAE float64 data in a float32 model", lambda: model().encode(X8.double()), "x: expected dtype")
bad("SAE float64 data in forward", lambda: model()(X8.double()), "x: expected dtype")
bad(
    "decode_sparse index = d_sae",
    lambda: model().decode_sparse(torch.tensor([[0, 16]]), torch.ones(1, 2)),
    "indices",
)
bad(
    "decode_sparse negative index",
    lambda: model().decode_sparse(torch.tensor([[-1, 3]]), torch.ones(1, 2)),
    "indices",
)
bad("nmse broadcast shapes", lambda: sae.nmse(torch.ones(10, 8), torch.ones(8)), "x_hat")
bad("nmse transposed", lambda: sae.nmse(torch.ones(10, 8), torch.ones(8, 10)), "x_hat")
bad("recovery d mismatch", lambda: sae.recovery(torch.eye(4, dtype=F), torch.eye(5, dtype=F)), "D:")
bad(
    "mcs_consistency d mismatch",
    lambda: sae.mcs_consistency(torch.eye(4, dtype=F), torch.eye(5, dtype=F)),
    "D_b",
)
ok(
    "soft_threshold numpy out",
    lambda: soft_threshold(np.array([1.0, -3.0]), 1.0),
    that(lambda r: isinstance(r, np.ndarray) and r.tolist() == [0.0, -2.0], "numpy [0, -2]"),
)
ok(
    "unit_atoms numpy out",
    lambda: sae.unit_atoms(np.array([[3.0], [4.0]])),
    that(lambda r: isinstance(r, np.ndarray) and np.allclose(r, [[0.6], [0.8]]), "numpy unit column"),
)

# ---------------------------------------------------------------- SAE constructor
bad("SAE d_in=0", lambda: sae.SAE(0, 16, "topk", k=2), "d_in")
bad("SAE d_in=-3", lambda: sae.SAE(-3, 16, "topk", k=2), "d_in")
bad("SAE d_in float", lambda: sae.SAE(8.0, 16, "topk", k=2), "d_in")
bad("SAE d_sae=0", lambda: sae.SAE(8, 0, "relu"), "d_sae")
bad("SAE unknown activation", lambda: sae.SAE(8, 16, "gelu"), "activation")
bad("SAE activation None", lambda: sae.SAE(8, 16, None), "activation")
bad("SAE topk k=0", lambda: sae.SAE(8, 16, "topk", k=0), "k:")
bad("SAE topk k > d_sae", lambda: sae.SAE(8, 16, "topk", k=17), "k:")
bad("SAE topk k float", lambda: sae.SAE(8, 16, "topk", k=2.5), "k:")
bad("SAE topk k bool", lambda: sae.SAE(8, 16, "topk", k=True), "k:")
bad("SAE abstopk without k", lambda: sae.SAE(8, 16, "abstopk"), "k:")
bad("SAE relu k=-1", lambda: sae.SAE(8, 16, "relu", k=-1), "k:")
bad("SAE l1 negative", lambda: sae.SAE(8, 16, "relu", l1=-1.0), "l1")
bad("SAE l1 inf", lambda: sae.SAE(8, 16, "relu", l1=INF), "l1")
bad("SAE l1 string", lambda: sae.SAE(8, 16, "relu", l1="0.1"), "l1")
bad("SAE l0 nan", lambda: sae.SAE(8, 16, "jumprelu", l0=NAN), "l0")
bad("SAE l0 negative", lambda: sae.SAE(8, 16, "jumprelu", l0=-0.5), "l0")
bad("SAE threshold negative", lambda: sae.SAE(8, 16, "jumprelu", threshold=-0.1), "threshold")
bad("SAE threshold inf", lambda: sae.SAE(8, 16, "jumprelu", threshold=INF), "threshold")
bad("SAE bandwidth 0", lambda: sae.SAE(8, 16, "jumprelu", bandwidth=0.0), "bandwidth")
bad("SAE bandwidth nan", lambda: sae.SAE(8, 16, "jumprelu", bandwidth=NAN), "bandwidth")
bad("SAE tied string", lambda: sae.SAE(8, 16, "relu", tied="yes"), "tied")
bad("SAE unknown decoder", lambda: sae.SAE(8, 16, "relu", decoder="euclidean"), "decoder")
bad("SAE depth=0", lambda: sae.SAE(8, 16, "relu", depth=0), "depth")
bad("SAE depth float", lambda: sae.SAE(8, 16, "relu", depth=1.5), "depth")
bad("SAE output_scale negative", lambda: sae.SAE(8, 16, "relu", output_scale=-1.0), "output_scale")
bad("SAE output_scale nan", lambda: sae.SAE(8, 16, "relu", output_scale=NAN), "output_scale")
bad("SAE output_scale 0", lambda: sae.SAE(8, 16, "relu", output_scale=0), "output_scale")
bad("SAE output_scale tensor", lambda: sae.SAE(8, 16, "relu", output_scale=torch.ones(16)), "output_scale")
bad("SAE auxk nan", lambda: sae.SAE(8, 16, "topk", k=2, auxk=NAN), "auxk")
bad("SAE auxk negative", lambda: sae.SAE(8, 16, "topk", k=2, auxk=-1.0), "auxk")
bad("SAE dead_after=0", lambda: sae.SAE(8, 16, "topk", k=2, dead_after=0), "dead_after")
bad("SAE dtype int64", lambda: sae.SAE(8, 16, "relu", dtype=torch.int64), "dtype")
bad("SAE dtype string", lambda: sae.SAE(8, 16, "relu", dtype="float32"), "dtype")
bad("SAE rng string", lambda: sae.SAE(8, 16, "relu", rng="seed"), "rng")
ok(
    "SAE k = d_sae",
    lambda: sae.SAE(8, 16, "topk", k=16, rng=0).encode(X8),
    that(lambda z: z.shape == (3, 16), "shape"),
)
ok(
    "SAE jumprelu threshold kept",
    lambda: float(torch.exp(sae.SAE(8, 16, "jumprelu", threshold=0.05, rng=0).log_threshold).max()),
    that(lambda t: abs(t - 0.05) < 1e-7, "0.05"),
)
ok(
    "SAE output_scale fixed",
    lambda: sae.SAE(8, 16, "relu", output_scale=0.5, rng=0).scale,
    that(lambda s: s.shape == (16,) and bool((s == 0.5).all()) and not s.requires_grad, "buffer of 0.5"),
)
ok(
    "SAE float64",
    lambda: sae.SAE(8, 16, "relu", dtype=F, rng=0).encode(X8.double()).dtype,
    that(lambda d: d == F, "float64 codes"),
)
ok(
    "SAE tied shares the decoder",
    lambda: sae.SAE(8, 16, "relu", tied=True, rng=0),
    that(lambda m: m.W_enc is None and m.encoder_weight() is m.W_dec, "W_enc = D"),
)

# ---------------------------------------------------------------- encode / decode
ok(
    "encode numpy in numpy out",
    lambda: model().encode(X8.numpy()),
    that(lambda z: isinstance(z, np.ndarray) and z.shape == (3, 16), "numpy (3, 16)"),
)
ok(
    "encode empty batch",
    lambda: model().encode(torch.zeros(0, 8)),
    that(lambda z: z.shape == (0, 16), "(0, 16)"),
)
ok(
    "encode leading axes",
    lambda: model().encode(torch.randn(2, 3, 8)),
    that(lambda z: z.shape == (2, 3, 16), "(2, 3, 16)"),
)
ok(
    "encode topk has k nonzeros at most",
    lambda: model().encode(X8),
    that(lambda z: bool((z.count_nonzero(-1) <= 2).all()) and bool((z >= 0).all()), "<= 2 nonnegative"),
)
ok(
    "encode NaN input propagates",
    lambda: model("relu").encode(torch.full((1, 8), NAN)),
    that(lambda z: bool(torch.isnan(z).all()), "NaN codes"),
)
ok(
    "encode depth=3",
    lambda: sae.SAE(8, 16, "abstopk", k=2, depth=3, rng=0).encode(X8),
    that(
        lambda z: bool(torch.isfinite(z).all()) and bool((z.count_nonzero(-1) <= 2).all()), "finite, k-sparse"
    ),
)
ok(
    "encode jumprelu codes above the threshold",
    lambda: model("jumprelu", threshold=0.05).encode(X8),
    that(lambda z: bool(((z == 0) | (z > 0.05)).all()), "0 or > theta"),
)
bad("encode wrong width", lambda: model().encode(torch.ones(3, 7)), "x:")
bad("encode int tensor", lambda: model().encode(torch.ones(3, 8, dtype=torch.int64)), "x:")
bad("encode scalar", lambda: model().encode(torch.tensor(1.0)), "x:")
bad("encode list", lambda: model().encode([[0.0] * 8]), "x:")
bad("pre_activation float64", lambda: model().pre_activation(X8.double()), "x:")
ok(
    "decode numpy in numpy out",
    lambda: model().decode(np.zeros((2, 16), dtype=np.float32)),
    that(lambda x: isinstance(x, np.ndarray) and np.allclose(x, 0), "b_dec = 0"),
)
bad("decode wrong width", lambda: model().decode(torch.ones(3, 15)), "z:")
bad("decode float64", lambda: model().decode(torch.ones(3, 16, dtype=F)), "z:")
bad("encode_sparse on relu", lambda: model("relu").encode_sparse(X8), "activation")
bad(
    "encode_sparse on depth=2", lambda: sae.SAE(8, 16, "topk", k=2, depth=2, rng=0).encode_sparse(X8), "depth"
)
bad("encode_sparse float64", lambda: model().encode_sparse(X8.double()), "x:")


def _sparse_matches_dense():
    m = model("abstopk")
    with torch.no_grad():
        idx, values = m.encode_sparse(X8)
        return m.decode_sparse(idx, values), m(X8)[0]


ok(
    "encode_sparse + decode_sparse = forward",
    _sparse_matches_dense,
    that(lambda r: torch.allclose(r[0], r[1], atol=1e-6), "same x_hat"),
)
ok(
    "decode_sparse empty batch",
    lambda: model().decode_sparse(torch.zeros(0, 2, dtype=torch.int64), torch.zeros(0, 2)),
    that(lambda x: x.shape == (0, 8), "(0, 8)"),
)
bad(
    "decode_sparse shape mismatch",
    lambda: model().decode_sparse(torch.zeros(3, 2, dtype=torch.int64), torch.ones(3, 3)),
    "indices",
)
bad(
    "decode_sparse float indices",
    lambda: model().decode_sparse(torch.zeros(3, 2), torch.ones(3, 2)),
    "indices",
)
bad(
    "decode_sparse float64 values",
    lambda: model().decode_sparse(torch.zeros(3, 2, dtype=torch.int64), torch.ones(3, 2, dtype=F)),
    "values",
)
bad(
    "decode_sparse scalar values",
    lambda: model().decode_sparse(torch.tensor(1), torch.tensor(1.0)),
    "indices",
    "values",
)
bad(
    "decode_sparse values a list",
    lambda: model().decode_sparse(torch.zeros(1, 2, dtype=torch.int64), [[1.0, 2.0]]),
    "values",
)
ok(
    "reconstruct = forward",
    lambda: (lambda m: (m.reconstruct(X8), m(X8)[0]))(model()),
    that(lambda r: torch.allclose(r[0], r[1], atol=1e-6), "same x_hat"),
)
bad("reconstruct float64", lambda: model().reconstruct(X8.double()), "x:")
ok(
    "losses relu l1 has a sparsity term",
    lambda: model("relu", l1=0.1).losses(X8),
    that(lambda t: set(t) >= {"loss", "mse", "sparsity", "z"} and math.isfinite(float(t["loss"])), "terms"),
)
ok(
    "losses jumprelu l0",
    lambda: model("jumprelu", l0=0.1).losses(X8),
    that(lambda t: "sparsity" in t and float(t["sparsity"]) >= 0, "l0 term"),
)
bad("loss wrong width", lambda: model().loss(torch.ones(3, 9)), "x:")

# ---------------------------------------------------------------- train
bad("train max_iter=0", lambda: sae.train(model(), mixture(), 0), "max_iter")
bad("train max_iter float", lambda: sae.train(model(), mixture(), 1.5), "max_iter")
bad("train batch negative", lambda: sae.train(model(), mixture(), 2, batch=-1), "batch")
bad("train lr=0", lambda: sae.train(model(), mixture(), 2, lr=0.0), "lr")
bad("train lr=nan", lambda: sae.train(model(), mixture(), 2, lr=NAN), "lr")
bad("train data None", lambda: sae.train(model(), None, 2), "data")
bad("train data an array", lambda: sae.train(model(), torch.ones(10, 8), 2), "data")
bad("train sae not an SAE", lambda: sae.train("model", mixture(), 2), "sae")
bad("train resample_every=0", lambda: sae.train(model(), mixture(), 2, resample_every=0), "resample_every")
bad(
    "train adaptation of another width",
    lambda: sae.train(model(), mixture(), 2, adaptation=sae.GroupBiasAdaptation(8, groups=2)),
    "adaptation",
)
bad("train adaptation not a rule", lambda: sae.train(model(), mixture(), 2, adaptation="gba"), "adaptation")
bad(
    "train data of the wrong width",
    lambda: sae.train(model(), sae.SparseMixture(16, 9, 2, held_out=10, rng=0), 2),
    "x:",
)


class _Constant:
    def __init__(self, value, width=8):
        self.value, self.width = value, width

    def sample(self, batch, rng=None):
        return torch.full((batch, self.width), self.value, dtype=F)


bad("train data with NaN", lambda: sae.train(model(), _Constant(NAN), 2, batch=4), "data")
warn(
    "train loss overflows: stops and says so",
    lambda: sae.train(sae.SAE(8, 16, "topk", k=2, dtype=F, rng=0), _Constant(1e200), 3, batch=4),
    RuntimeWarning,
    "loss",
    check=that(lambda h: h.stop_reason == "nan", "stop_reason nan"),
)
ok(
    "train runs its steps",
    lambda: sae.train(model(), mixture(), 3, batch=8, rng=1),
    that(
        lambda h: len(h.values) == 3 and h.stop_reason == "max_iter" and all(map(math.isfinite, h.values)),
        "3 finite losses",
    ),
)
ok(
    "train with GBA",
    lambda: sae.train(
        model("relu"),
        mixture(),
        4,
        batch=8,
        rng=1,
        adaptation=sae.GroupBiasAdaptation(16, groups=2, every=2, rng=0),
    ),
    that(lambda h: len(h.adaptation) == 2, "two updates"),
)
ok(
    "train projected decoder keeps unit atoms",
    lambda: (lambda m: (sae.train(m, mixture(), 3, batch=8, rng=1), m.W_dec.detach())[1])(
        model(decoder="projected")
    ),
    that(
        lambda D: torch.allclose(torch.linalg.vector_norm(D, dim=0), torch.ones(16), atol=1e-5),
        "unit columns",
    ),
)

# ---------------------------------------------------------------- SparseMixture
bad("SparseMixture n=0", lambda: sae.SparseMixture(0, 8, 1, held_out=10), "n:")
bad("SparseMixture d=0", lambda: sae.SparseMixture(16, 0, 1, held_out=10), "d:")
bad("SparseMixture s=0", lambda: sae.SparseMixture(16, 8, 0, held_out=10), "s:")
bad("SparseMixture s > n", lambda: sae.SparseMixture(4, 8, 5, held_out=10), "s:")
bad("SparseMixture s float", lambda: sae.SparseMixture(16, 8, 2.5, held_out=10), "s:")
bad("SparseMixture s empty tuple", lambda: sae.SparseMixture(16, 8, (), held_out=10), "s:")
bad("SparseMixture s tuple above n", lambda: sae.SparseMixture(16, 8, (1, 17), held_out=10), "s:")
bad(
    "SparseMixture s tuple with zipf",
    lambda: sae.SparseMixture(16, 8, (1, 3), freq_profile="zipf", held_out=10),
    "s:",
)
bad("SparseMixture unknown sign_mode", lambda: mixture(sign_mode="neg"), "sign_mode")
bad("SparseMixture unknown freq_profile", lambda: mixture(freq_profile="pareto"), "freq_profile")
bad("SparseMixture unknown coef", lambda: mixture(coef="gauss"), "coef")
bad("SparseMixture noise nan", lambda: mixture(noise=NAN), "noise")
bad("SparseMixture noise negative", lambda: mixture(noise=-1.0), "noise")
bad("SparseMixture noise string", lambda: mixture(noise="0.1"), "noise")
bad("SparseMixture alpha negative", lambda: mixture(freq_profile="zipf", alpha=-1.0), "alpha")
bad("SparseMixture alpha inf", lambda: mixture(freq_profile="zipf", alpha=INF), "alpha")
bad(
    "SparseMixture bipolar_fraction negative",
    lambda: mixture(sign_mode="mixed", bipolar_fraction=-0.1),
    "bipolar_fraction",
)
bad(
    "SparseMixture bipolar_fraction nan",
    lambda: mixture(sign_mode="mixed", bipolar_fraction=NAN),
    "bipolar_fraction",
)
bad("SparseMixture held_out=0", lambda: mixture(held_out=0), "held_out")
bad("SparseMixture pairs negative", lambda: mixture(pairs=-1), "pairs")
bad("SparseMixture pairs > n/2", lambda: mixture(pairs=9), "pairs")
bad("SparseMixture pairs float", lambda: mixture(pairs=1.5), "pairs")
bad("SparseMixture pairs with zipf", lambda: mixture(pairs=1, freq_profile="zipf"), "pairs")
bad("SparseMixture cooccurrence nan", lambda: mixture(pairs=1, cooccurrence=NAN), "cooccurrence")
bad("SparseMixture cooccurrence 1.5", lambda: mixture(pairs=1, cooccurrence=1.5), "cooccurrence")
bad("SparseMixture dtype int", lambda: mixture(dtype=torch.int32), "dtype")
bad("SparseMixture normalize string", lambda: mixture(normalize="yes"), "normalize")
bad("SparseMixture sample batch=0", lambda: mixture().sample(0), "batch")
bad("SparseMixture sample batch float", lambda: mixture().sample(2.5), "batch")
ok(
    "SparseMixture sample with codes",
    lambda: (lambda m: (m, *m.sample(5, 1, codes=True)))(mixture()),
    that(
        lambda r: (
            r[1].shape == (5, 8)
            and torch.allclose(r[1], r[2] @ r[0].V)
            and bool(((r[2] != 0).sum(1) == 2).all())
        ),
        "x = H V, 2-sparse",
    ),
)
ok(
    "SparseMixture s = n",
    lambda: sae.SparseMixture(6, 4, 6, held_out=10, rng=0).held_out_h,
    that(lambda H: bool((H != 0).all()), "every feature active"),
)
ok(
    "SparseMixture normalize",
    lambda: sae.SparseMixture(16, 8, 2, held_out=200, normalize=True, rng=0).held_out_x,
    that(lambda x: abs(float((x**2).sum(-1).mean()) - 1) < 1e-12, "mean ||x||^2 = 1"),
)
ok(
    "SparseMixture pos signs",
    lambda: mixture(sign_mode="pos").held_out_h,
    that(lambda H: bool((H >= 0).all()), "nonnegative codes"),
)
ok(
    "SparseMixture mixed with no bipolar features",
    lambda: mixture(sign_mode="mixed", bipolar_fraction=0.0).held_out_h,
    that(lambda H: bool((H >= 0).all()), "nonnegative codes"),
)
ok(
    "SparseMixture zipf alpha=0",
    lambda: mixture(freq_profile="zipf", alpha=0.0).f,
    that(lambda f: np.allclose(f, 2 / 16), "uniform frequencies"),
)
ok(
    "SparseMixture float32",
    lambda: mixture(dtype=S).sample(3, 0),
    that(lambda x: x.dtype == S and x.shape == (3, 8), "float32"),
)

# ---------------------------------------------------------------- GroupBiasAdaptation
bad("GBA d_sae=0", lambda: sae.GroupBiasAdaptation(0), "d_sae")
bad("GBA groups=0", lambda: sae.GroupBiasAdaptation(16, groups=0), "groups")
bad("GBA groups > d_sae", lambda: sae.GroupBiasAdaptation(4, groups=5), "groups")
bad("GBA htf > 1", lambda: sae.GroupBiasAdaptation(16, htf=2.0), "htf")
bad("GBA ltf > htf", lambda: sae.GroupBiasAdaptation(16, htf=0.1, ltf=0.2), "ltf")
bad("GBA ltf=0", lambda: sae.GroupBiasAdaptation(16, ltf=0.0), "ltf")
bad("GBA gamma_plus=0", lambda: sae.GroupBiasAdaptation(16, gamma_plus=0.0), "gamma_plus")
bad("GBA gamma_minus nan", lambda: sae.GroupBiasAdaptation(16, gamma_minus=NAN), "gamma_minus")
bad("GBA dead negative", lambda: sae.GroupBiasAdaptation(16, dead=-1.0), "dead")
bad("GBA every=0", lambda: sae.GroupBiasAdaptation(16, every=0), "every")
bad("GBA bias_range reversed", lambda: sae.GroupBiasAdaptation(16, bias_range=(0.0, -1.0)), "bias_range")
bad("GBA bias_range nan", lambda: sae.GroupBiasAdaptation(16, bias_range=(NAN, 0.0)), "bias_range")
bad("GBA bias_range one number", lambda: sae.GroupBiasAdaptation(16, bias_range=(1.0,)), "bias_range")
bad("GBA bias_range string", lambda: sae.GroupBiasAdaptation(16, bias_range="ab"), "bias_range")
bad("GBA observe NaN", lambda: sae.GroupBiasAdaptation(16).observe(torch.full((2, 16), NAN)), "pre")
bad(
    "GBA observe int tensor",
    lambda: sae.GroupBiasAdaptation(16).observe(torch.ones(2, 16, dtype=torch.int64)),
    "pre",
)
bad("GBA observe empty batch", lambda: sae.GroupBiasAdaptation(16).observe(torch.zeros(0, 16)), "pre")
bad("GBA observe scalar", lambda: sae.GroupBiasAdaptation(16).observe(torch.tensor(1.0)), "pre")
ok(
    "GBA observe numpy and leading axes",
    lambda: (lambda g: (g.observe(np.ones((2, 3, 16))), g.frequencies)[1])(sae.GroupBiasAdaptation(16)),
    that(lambda f: bool((f == 1).all()), "every neuron fired"),
)
bad(
    "GBA adapt bias of the wrong shape",
    lambda: (lambda g: (g.observe(torch.ones(2, 16)), g.adapt(torch.zeros(8))))(sae.GroupBiasAdaptation(16)),
    "bias",
)
bad("GBA adapt before observe", lambda: sae.GroupBiasAdaptation(16).adapt(torch.zeros(16)), "observe")


def _gba_round():
    gba = sae.GroupBiasAdaptation(4, groups=1, htf=0.5, ltf=0.5, gamma_minus=0.5, gamma_plus=0.1, rng=0)
    gba.observe(torch.tensor([[1.0, -1.0, 0.2, -0.5], [1.0, -1.0, -0.3, -0.5]], dtype=F))
    bias = torch.full((4,), -0.5, dtype=F)
    return gba.adapt(bias), bias


ok(
    "GBA adapt follows the rule",
    _gba_round,
    that(
        lambda r: (
            r[0]["selective"] == 1 and r[0]["sensitive"] == 2 and close(r[1], [-1.0, -0.44, -0.5, -0.44])
        ),
        "b = [-1 (clamped), -0.44, -0.5, -0.44]",
    ),
)

# ---------------------------------------------------------------- metrics
ok(
    "nmse exact values",
    lambda: sae.nmse(torch.eye(2, dtype=F), torch.zeros(2, 2, dtype=F)),
    that(lambda r: r == {"centred": 2.0, "raw": 1.0}, "centred 2, raw 1"),
)
ok(
    "nmse numpy",
    lambda: sae.nmse(np.eye(2), np.eye(2)),
    that(lambda r: r == {"centred": 0.0, "raw": 0.0}, "0 and 0"),
)
ok(
    "nmse one sample: centred undefined",
    lambda: sae.nmse(torch.ones(1, 3, dtype=F), torch.zeros(1, 3, dtype=F)),
    that(lambda r: math.isnan(r["centred"]) and r["raw"] == 1.0, "NaN, 1"),
)
bad("nmse NaN", lambda: sae.nmse(torch.full((2, 2), NAN), torch.zeros(2, 2)), "x:")
bad("nmse empty", lambda: sae.nmse(torch.zeros(0, 3), torch.zeros(0, 3)), "x:")
bad("nmse int arrays", lambda: sae.nmse(np.ones((2, 2), dtype=int), np.ones((2, 2), dtype=int)), "x:")
bad("nmse lists", lambda: sae.nmse([[1.0]], [[1.0]]), "x:")
ok(
    "recovery identity",
    lambda: sae.recovery(torch.eye(3, dtype=F), torch.eye(3, dtype=F)),
    that(
        lambda r: r["frr_plus"] == r["frr_abs"] == 1.0 and r["frr_both"] == 0.0 and r["antipodal_pairs"] == 0,
        "all recovered",
    ),
)
ok(
    "recovery antipodal pair",
    lambda: sae.recovery(torch.eye(2, dtype=F), torch.tensor([[1.0, -1.0], [0.0, 0.0]], dtype=F)),
    that(
        lambda r: r["antipodal_pairs"] == 1 and r["frr_both"] == 0.5 and r["atoms_per_axis"] == 1.0,
        "one pair",
    ),
)
ok(
    "recovery numpy, unnormalised atoms",
    lambda: sae.recovery(np.eye(3), 5 * np.eye(3)),
    that(lambda r: r["frr_abs"] == 1.0, "scale-free"),
)
bad(
    "recovery tau negative",
    lambda: sae.recovery(torch.eye(3, dtype=F), torch.eye(3, dtype=F), tau=-0.1),
    "tau",
)
bad("recovery tau nan", lambda: sae.recovery(torch.eye(3, dtype=F), torch.eye(3, dtype=F), tau=NAN), "tau")
bad(
    "recovery tau string",
    lambda: sae.recovery(torch.eye(3, dtype=F), torch.eye(3, dtype=F), tau="0.9"),
    "tau",
)
bad("recovery V 1-D", lambda: sae.recovery(torch.ones(3, dtype=F), torch.eye(3, dtype=F)), "V:")
bad("recovery zero atom", lambda: sae.recovery(torch.eye(3, dtype=F), torch.zeros(3, 2, dtype=F)), "D:")
bad("recovery NaN atoms", lambda: sae.recovery(torch.eye(3, dtype=F), torch.full((3, 2), NAN, dtype=F)), "D:")
bad("recovery no features", lambda: sae.recovery(torch.zeros(0, 3, dtype=F), torch.eye(3, dtype=F)), "V:")
ok(
    "sign_consistency positive codes",
    lambda: sae.sign_consistency(torch.eye(2, dtype=F), torch.eye(2, dtype=F), torch.ones(5, 2, dtype=F)),
    that(lambda r: r == 1.0, "1.0"),
)
ok(
    "sign_consistency negative codes",
    lambda: sae.sign_consistency(torch.eye(2, dtype=F), torch.eye(2, dtype=F), -torch.ones(5, 2, dtype=F)),
    that(lambda r: r == 0.0, "0.0"),
)
bad(
    "sign_consistency z of the wrong width",
    lambda: sae.sign_consistency(torch.eye(2, dtype=F), torch.eye(2, dtype=F), torch.ones(5, 3, dtype=F)),
    "z:",
)
bad(
    "sign_consistency level 1.5",
    lambda: sae.sign_consistency(
        torch.eye(2, dtype=F), torch.eye(2, dtype=F), torch.ones(5, 2, dtype=F), level=1.5
    ),
    "level",
)
bad(
    "sign_consistency tau 2",
    lambda: sae.sign_consistency(
        torch.eye(2, dtype=F), torch.eye(2, dtype=F), torch.ones(5, 2, dtype=F), tau=2.0
    ),
    "tau",
)
ok(
    "sparsity exact",
    lambda: sae.sparsity(torch.tensor([[0.0, -1.0, 0.0], [0.0, 2.0, 3.0]])),
    that(lambda r: r == {"l0": 1.5, "dead": 1 / 3, "negative": 1 / 3}, "l0 1.5, dead 1/3, negative 1/3"),
)
ok(
    "sparsity numpy and leading axes",
    lambda: sae.sparsity(np.ones((2, 3, 4))),
    that(lambda r: r == {"l0": 4.0, "dead": 0.0, "negative": 0.0}, "dense codes"),
)
bad("sparsity 1-D", lambda: sae.sparsity(torch.ones(4)), "z:")
bad("sparsity NaN", lambda: sae.sparsity(torch.full((2, 2), NAN)), "z:")
ok(
    "mcs_consistency of itself",
    lambda: sae.mcs_consistency(unit(4, 6, 0), unit(4, 6, 0)),
    that(lambda r: r == 1.0, "1.0"),
)
ok(
    "mcs_consistency numpy sign-blind",
    lambda: sae.mcs_consistency(np.eye(3), -np.eye(3)),
    that(lambda r: r == 1.0, "1.0"),
)
bad(
    "mcs_consistency threshold 1",
    lambda: sae.mcs_consistency(np.eye(3), np.eye(3), threshold=1.0),
    "threshold",
)
bad("mcs_consistency D_a 1-D", lambda: sae.mcs_consistency(np.ones(3), np.eye(3)), "D_a")
bad("unit_atoms zero column", lambda: sae.unit_atoms(torch.zeros(3, 2)), "D:")
bad("unit_atoms 1-D", lambda: sae.unit_atoms(torch.ones(3)), "D:")
ok(
    "unit_atoms torch",
    lambda: sae.unit_atoms(torch.tensor([[3.0, 0.0], [4.0, -2.0]], dtype=F)),
    that(lambda r: isinstance(r, torch.Tensor) and same(r, [[0.6, 0.0], [0.8, -1.0]]), "unit columns"),
)

# ---------------------------------------------------------------- proxes
T4 = torch.tensor([0.3, -2.0, 1.0, 0.0], dtype=F)
bad("soft_threshold lam negative", lambda: soft_threshold(T4, -0.1), "lam")
bad("soft_threshold lam nan", lambda: soft_threshold(T4, NAN), "lam")
bad("soft_threshold lam inf", lambda: soft_threshold(T4, INF), "lam")
bad("soft_threshold lam string", lambda: soft_threshold(T4, "0.1"), "lam")
bad("soft_threshold lam bool", lambda: soft_threshold(T4, True), "lam")
bad("soft_threshold lam wrong shape", lambda: soft_threshold(T4, torch.ones(3, dtype=F)), "lam")
bad("soft_threshold lam complex", lambda: soft_threshold(T4, torch.ones(4, dtype=torch.complex128)), "lam")
ok(
    "soft_threshold lam float32 for float64 u is cast to u's dtype",
    lambda: soft_threshold(T4, torch.full((4,), 0.1)),
    that(lambda r: r.dtype == T4.dtype, "float64"),
)
bad("soft_threshold u scalar", lambda: soft_threshold(torch.tensor(1.0), 0.1), "u:")
bad("soft_threshold u int", lambda: soft_threshold(torch.ones(3, dtype=torch.int64), 0.1), "u:")
bad("soft_threshold u list", lambda: soft_threshold([1.0, 2.0], 0.1), "u:")
bad("soft_threshold u complex", lambda: soft_threshold(torch.ones(3, dtype=torch.complex64), 0.1), "u:")
ok(
    "soft_threshold empty",
    lambda: soft_threshold(torch.zeros(0, dtype=F), 0.1),
    that(lambda r: r.shape == (0,), "empty"),
)
ok(
    "soft_threshold float32 numpy",
    lambda: soft_threshold(np.array([2.0, -0.5], dtype=np.float32), 1.0),
    that(lambda r: r.dtype == np.float32 and r.tolist() == [1.0, 0.0], "float32 [1, 0]"),
)
ok(
    "soft_threshold per-latent numpy lam",
    lambda: soft_threshold(T4, np.array([0.1, 1.0, 2.0, 0.0])),
    that(lambda r: close(r, [0.2, -1.0, 0.0, 0.0]), "per latent"),
)
ok(
    "soft_threshold lam = 0 is identity",
    lambda: soft_threshold(T4, 0),
    that(lambda r: same(r, T4), "identity"),
)
ok(
    "hard_threshold at the threshold returns 0",
    lambda: hard_threshold(torch.tensor([2.0, -2.0, 2.5], dtype=F), 2.0),
    that(lambda r: same(r, [0.0, 0.0, 2.5]), "strict >"),
)
ok(
    "hard_threshold nonnegative",
    lambda: hard_threshold(torch.tensor([3.0, -3.0], dtype=F), 2.0, nonnegative=True),
    that(lambda r: same(r, [3.0, 0.0]), "JumpReLU"),
)
bad("hard_threshold lam nan", lambda: hard_threshold(T4, NAN), "lam")
bad("jump_relu threshold negative", lambda: jump_relu(T4, -1.0), "threshold")
bad("jump_relu bandwidth 0", lambda: jump_relu(T4, 0.1, bandwidth=0.0), "bandwidth")
bad("jump_relu bandwidth True", lambda: jump_relu(T4, 0.1, bandwidth=True), "bandwidth")
bad("jump_relu bandwidth nan", lambda: jump_relu(T4, 0.1, bandwidth=NAN), "bandwidth")
ok(
    "jump_relu numpy",
    lambda: jump_relu(np.array([0.3, -2.0, 1.0]), 0.5),
    that(lambda r: isinstance(r, np.ndarray) and r.tolist() == [0.0, 0.0, 1.0], "numpy"),
)
bad("topk k=0", lambda: topk(T4, 0), "k:")
bad("topk k negative", lambda: topk(T4, -1), "k:")
bad("topk k > n", lambda: topk(T4, 5), "k:")
bad("topk k float", lambda: topk(T4, 2.0), "k:")
bad("topk k bool", lambda: topk(T4, True), "k:")
bad("topk k None", lambda: topk(T4, None), "k:")
bad("topk u scalar", lambda: topk(torch.tensor(1.0), 1), "u:")
bad("topk no latents", lambda: topk(torch.zeros(3, 0), 1), "k:")
ok("topk k = n", lambda: topk(T4, 4), that(lambda r: same(r, [0.3, 0.0, 1.0, 0.0]), "positives"))
ok(
    "topk numpy int64 k",
    lambda: topk(T4, np.int64(1)),
    that(lambda r: same(r, [0.0, 0.0, 1.0, 0.0]), "the largest"),
)
ok(
    "topk float16",
    lambda: topk(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float16), 2),
    that(lambda r: r.dtype == torch.float16 and r.tolist() == [0.0, 2.0, 3.0], "float16"),
)
ok(
    "topk ties to the lower index",
    lambda: topk(torch.tensor([1.0, 2.0, 2.0, 2.0], dtype=F), 2),
    that(lambda r: same(r, [0, 2, 2, 0]), "lower index"),
)
ok(
    "topk empty batch",
    lambda: topk(torch.zeros(0, 5, dtype=F), 2),
    that(lambda r: r.shape == (0, 5), "(0, 5)"),
)
ok(
    "abs_topk +a and -a tie",
    lambda: abs_topk(torch.tensor([1.0, -2.0, 2.0], dtype=F), 1),
    that(lambda r: same(r, [0, -2, 0]), "lower index"),
)
ok(
    "abs_topk -inf kept",
    lambda: abs_topk(torch.tensor([1.0, -INF, 2.0], dtype=F), 1),
    that(lambda r: same(r, [0, -INF, 0]), "-inf largest magnitude"),
)
bad("abs_topk k > n", lambda: abs_topk(T4, 5), "k:")
ok(
    "topk_indices shape",
    lambda: topk_indices(torch.randn(2, 3, 10), 4),
    that(lambda r: r.shape == (2, 3, 4) and r.dtype == torch.int64, "(2, 3, 4) int64"),
)
ok(
    "topk_indices numpy absolute",
    lambda: topk_indices(np.array([[0.3, -2.0, 1.0]]), 1, absolute=True),
    that(lambda r: isinstance(r, np.ndarray) and r.tolist() == [[1]], "[[1]]"),
)
bad("topk_indices k=0", lambda: topk_indices(T4, 0), "k:")
bad("SoftThreshold lam negative", lambda: SoftThreshold(-1.0), "lam")
bad("SoftThreshold lam nan", lambda: SoftThreshold(NAN), "lam")
bad("SoftThreshold nonnegative string", lambda: SoftThreshold(0.1, nonnegative="yes"), "nonnegative")
bad("HardThreshold lam inf", lambda: HardThreshold(INF), "lam")
bad("TopK k=0", lambda: TopK(0), "k:")
bad("AbsTopK k float", lambda: AbsTopK(2.5), "k:")
ok("TopK as a prox", lambda: TopK(1)(T4, 0.5), that(lambda r: same(r, [0, 0, 1, 0]), "mu-free"))
ok(
    "SoftThreshold scales lam by mu",
    lambda: SoftThreshold(1.0)(T4, 0.25),
    that(lambda r: close(r, [0.05, -1.75, 0.75, 0.0]), "threshold mu lam"),
)

# ---------------------------------------------------------------- spectral_norm and unrolled
bad("spectral_norm 1-D", lambda: spectral_norm(torch.ones(3)), "D:")
bad("spectral_norm NaN", lambda: spectral_norm(torch.full((2, 2), NAN)), "D:")
bad("spectral_norm inf", lambda: spectral_norm(torch.tensor([[INF, 0.0], [0.0, 1.0]])), "D:")
bad("spectral_norm complex", lambda: spectral_norm(torch.ones(2, 2, dtype=torch.complex128)), "D:")
bad("spectral_norm int", lambda: spectral_norm(torch.ones(2, 2, dtype=torch.int64)), "D:")
bad("spectral_norm list", lambda: spectral_norm([[1.0]]), "D:")
bad("spectral_norm max_iter=0", lambda: spectral_norm(torch.eye(2), 0), "max_iter")
bad("spectral_norm rtol=0", lambda: spectral_norm(torch.eye(2), rtol=0.0), "rtol")
bad(
    "spectral_norm v0 wrong length",
    lambda: spectral_norm(torch.eye(3, dtype=F), 5, torch.ones(2, dtype=F)),
    "v0",
)
bad("spectral_norm v0 wrong dtype", lambda: spectral_norm(torch.eye(3, dtype=F), 5, torch.ones(3)), "v0")
ok("spectral_norm empty", lambda: spectral_norm(torch.zeros(0, 4))[0], that(lambda r: r == 0.0, "0"))
ok(
    "spectral_norm numpy gives numpy v",
    lambda: spectral_norm(np.diag([1.0, 3.0])),
    that(
        lambda r: abs(r[0] - 3) < 1e-14 and isinstance(r[1], np.ndarray) and abs(abs(r[1][1]) - 1) < 1e-14,
        "3, e_2",
    ),
)
ok(
    "spectral_norm 1x1",
    lambda: spectral_norm(torch.tensor([[-2.5]], dtype=F))[0],
    that(lambda r: r == 2.5, "2.5"),
)
ok(
    "spectral_norm float32",
    lambda: spectral_norm(unit(16, 64, 1, S))[0],
    that(
        lambda r: abs(r / float(torch.linalg.matrix_norm(unit(16, 64, 1, S).double(), 2)) - 1) < 1e-12,
        "exact on float32 entries",
    ),
)
ok(
    "spectral_norm rank one",
    lambda: spectral_norm(torch.outer(torch.arange(1.0, 4.0, dtype=F), torch.ones(5, dtype=F)))[0],
    that(lambda r: abs(r - math.sqrt(14 * 5)) < 1e-12, "sqrt(70)"),
)


def _power_path(D, iterations, v0, rtol):
    """spectral_norm on the power-iteration path of matrices above EXACT_SIDE."""
    import tensorrec.optim.prox as prox

    saved, prox.EXACT_SIDE = prox.EXACT_SIDE, 1
    try:
        return spectral_norm(D, iterations, v0, rtol=rtol)[0] / float(torch.linalg.matrix_norm(D, 2))
    finally:
        prox.EXACT_SIDE = saved


ok(
    "spectral_norm power iteration is an upper bound",
    lambda: _power_path(unit(20, 50, 3), 5000, torch.ones(50, dtype=F), 1e-6),
    that(lambda q: 1 < q <= 1 + 1e-6, "above sigma_max by < rtol / 2"),
)
ok(
    "spectral_norm power iteration falls back to exact",
    lambda: _power_path(unit(20, 50, 3), 2, None, 1e-12),
    that(lambda q: abs(q - 1) < 1e-14, "exact"),
)
X16 = torch.ones(2, 16, dtype=F)
bad("unrolled x wrong width", lambda: unrolled(unit(16, 64, 0), torch.ones(2, 15, dtype=F), TopK(2), 1), "x:")
bad("unrolled depth=0", lambda: unrolled(unit(16, 64, 0), X16, TopK(2), 0), "depth")
bad("unrolled step=0", lambda: unrolled(unit(16, 64, 0), X16, TopK(2), 2, step=0.0), "step")
bad("unrolled step nan", lambda: unrolled(unit(16, 64, 0), X16, TopK(2), 2, step=NAN), "step")
bad("unrolled D 1-D", lambda: unrolled(torch.ones(16, dtype=F), X16, TopK(2), 1), "D:")
bad("unrolled prox not callable", lambda: unrolled(unit(16, 64, 0), X16, "topk", 1), "prox")
bad("unrolled dtype mismatch", lambda: unrolled(unit(16, 64, 0), X16.float(), TopK(2), 1), "x:")
bad(
    "unrolled b wrong shape",
    lambda: unrolled(unit(16, 64, 0), X16, TopK(2), 1, b=torch.ones(3, dtype=F)),
    "b:",
)
bad(
    "unrolled z0 wrong shape",
    lambda: unrolled(unit(16, 64, 0), X16, TopK(2), 1, z0=torch.zeros(2, 63, dtype=F)),
    "z0",
)
bad(
    "unrolled zero D with the default step",
    lambda: unrolled(torch.zeros(16, 64, dtype=F), X16, TopK(2), 1),
    "D:",
)
ok(
    "unrolled numpy in numpy out",
    lambda: unrolled(unit(16, 64, 0).numpy(), X16.numpy(), TopK(2), 2),
    that(lambda z: isinstance(z, np.ndarray) and z.shape == (2, 64), "numpy (2, 64)"),
)
ok(
    "unrolled one step is the SAE encoder",
    lambda: unrolled(unit(16, 64, 0), X16, SoftThreshold(0.1), 1, step=0.5),
    that(
        lambda z: torch.allclose(z, soft_threshold(0.5 * X16 @ unit(16, 64, 0), 0.05), atol=1e-14),
        "prox(mu D^T x)",
    ),
)


# ------------------------------------------------ review: the numpy boundary and scalars
ok(
    "SAE encode float64 numpy into the default float32 model",
    lambda: sae.SAE(8, 16, "topk", k=2, rng=0).encode(np.random.default_rng(0).standard_normal((4, 8))),
    that(
        lambda r: isinstance(r, np.ndarray) and r.dtype == np.float32 and r.shape == (4, 16), "float32 numpy"
    ),
)
ok(
    "SoftThreshold of a float32 0-d tensor on float64 u",
    lambda: SoftThreshold(torch.tensor(0.1))(T4),
    that(lambda r: r.dtype == F and abs(float(r[1]) + 1.9) < 1e-6, "cast to u's dtype"),
)
ok(
    "SAE l1 as a 0-d tensor",
    lambda: sae.SAE(8, 16, "relu", l1=torch.tensor(0.5)).l1,
    that(lambda r: r == 0.5, "0.5"),
)
ok(
    "SparseMixture noise as a 0-d tensor",
    lambda: sae.SparseMixture(16, 8, 2, noise=torch.tensor(0.25), held_out=4).noise,
    that(lambda r: r == 0.25, "0.25"),
)
bad(
    "SAE l1 as a bool tensor",
    lambda: sae.SAE(8, 16, "relu", l1=torch.tensor(True)),
    "l1: expected a real number",
)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fuzz(case):
    assert_clear(case)
