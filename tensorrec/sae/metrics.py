"""SAE metrics against a known dictionary (:ref:`theory-sae-metrics`); every metric names its
convention. Atoms are the unit-normalised decoder columns D = [d_1 ... d_P] (d x P).

Every metric takes numpy arrays or torch tensors (the numbers come back as Python floats;
:func:`unit_atoms` returns the array type it was given) and refuses, naming the argument,
shapes that do not fit, empty inputs and non-finite entries, before computing anything."""

from __future__ import annotations

import math

import torch

from tensorrec._backend import as_tensor, check_finite, check_real, describe, numpy_boundary


def _real(name: str, x, ndim: int | None = None) -> torch.Tensor:
    """``x`` as a real finite non-empty tensor (of ``ndim`` axes when given)."""
    t = as_tensor(x, name)
    if t.is_complex():
        raise TypeError(f"{name}: expected a real array, got {describe(x)}")
    if ndim is not None and t.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got {describe(x)}")
    if t.numel() == 0:
        raise ValueError(f"{name}: expected a non-empty array, got {describe(x)}")
    check_finite(name, t)
    return t.detach()


def nmse(x, x_hat) -> dict:
    """Both conventions: ``centred`` = sum ||x - x_hat||^2 / sum ||x - mean(x)||^2 (SAEBench's
    explained-variance denominator) and ``raw`` = sum ||x - x_hat||^2 / sum ||x||^2 (paper D);
    their ratio is sum ||x||^2 / sum ||x - mean||^2 exactly (claim 14). ``x`` and ``x_hat``
    have one shape (samples on the first axis); a convention whose denominator is 0 (the
    centred one on a single sample, both on x = 0) is NaN."""
    x, x_hat = _real("x", x), _real("x_hat", x_hat)
    if x.shape != x_hat.shape:
        raise ValueError(f"x_hat: expected the shape of x {tuple(x.shape)}, got {tuple(x_hat.shape)}")
    if x.ndim == 0:
        raise ValueError(f"x: expected samples on the first axis, got a scalar {describe(x)}")
    err = float(((x - x_hat) ** 2).sum())
    centred, raw = float(((x - x.mean(0)) ** 2).sum()), float((x**2).sum())
    return {"centred": err / centred if centred > 0 else math.nan, "raw": err / raw if raw > 0 else math.nan}


@numpy_boundary
def unit_atoms(D) -> torch.Tensor:
    """The decoder columns scaled to unit norm; a zero column (an atom with no direction) is
    refused by name."""
    D = _real("D", D, 2)
    norms = torch.linalg.vector_norm(D, dim=0, keepdim=True)
    if bool((norms == 0).any()):
        column = int(torch.nonzero(norms[0] == 0)[0, 0])
        raise ValueError(f"D: expected nonzero decoder columns (atoms), column {column} is zero")
    return D / norms


def _cosines(V, D, names=("V", "D")) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(V as a tensor, C = V unit_atoms(D)), the shapes checked."""
    V, D = _real(names[0], V, 2), _real(names[1], D, 2)
    if V.shape[1] != D.shape[0]:
        raise ValueError(
            f"{names[1]}: expected {V.shape[1]} rows (the dimension d of {names[0]}, n x d), "
            f"got {tuple(D.shape)}"
        )
    atoms = unit_atoms(D).to(V.dtype)
    return V, atoms, V @ atoms


def recovery(V, D, tau: float = 0.9) -> dict:
    """FRR+ (max_j C_ij > tau), FRR_abs (max_j abs(C_ij) > tau), FRR_both (both poles have an
    atom), atoms per axis (mean #{j : abs(C_ij) > tau}) and antipodal pairs (#{j < j' :
    cos(d_j, d_j') < -tau}), with C = V D the n x P cosines (V: n x d unit features, D: d x P,
    tau in [0, 1))."""
    tau = check_real("tau", tau, low=0, high=1, high_open=True)
    V, atoms, C = _cosines(V, D)
    cos = atoms.mT @ atoms
    return {
        "frr_plus": float((C.max(dim=1).values > tau).double().mean()),
        "frr_abs": float((C.abs().max(dim=1).values > tau).double().mean()),
        "frr_both": float((torch.minimum(C.max(dim=1).values, (-C).max(dim=1).values) > tau).double().mean()),
        "atoms_per_axis": float((C.abs() > tau).sum(dim=1).double().mean()),
        "antipodal_pairs": int((torch.triu(cos, diagonal=1) < -tau).sum()),
    }


def sign_consistency(V, D, z, tau: float = 0.9, level: float = 0.99) -> float:
    """Code-sign accuracy: the fraction of recovered (axis i, atom j) pairs (abs(C_ij) > tau, C
    = V D the cosines) whose nonzero codes z_j have sign(z_j) sign(C_ij) = +1 at least a
    fraction ``level`` of the time (1.0 when nothing is recovered). The planned B2 criterion
    (claim 6) is that every pair passes on positive data. ``z``: samples x P."""
    tau = check_real("tau", tau, low=0, high=1, high_open=True)
    level = check_real("level", level, low=0, high=1)
    V, _, C = _cosines(V, D)
    z = _real("z", z, 2)
    if z.shape[1] != C.shape[1]:
        raise ValueError(
            f"z: expected codes with P = {C.shape[1]} columns (the atoms of D), got {tuple(z.shape)}"
        )
    pairs = torch.nonzero(C.abs() > tau).tolist()
    passed = 0
    for i, j in pairs:
        codes = z[:, j][z[:, j] != 0]
        agree = (
            float(((torch.sign(codes) * torch.sign(C[i, j])) > 0).double().mean()) if codes.numel() else 1.0
        )
        passed += agree >= level
    return passed / len(pairs) if pairs else 1.0


def sparsity(z) -> dict:
    """L0 (mean #{z != 0}, so negative AbsTopK codes count), the dead fraction (latents never
    nonzero on these samples) and the fraction of nonzero codes that are negative. ``z``:
    samples x P (leading axes are flattened into samples)."""
    z = _real("z", z)
    if z.ndim < 2:
        raise ValueError(f"z: expected codes of shape (samples, P), got {describe(z)}")
    z = z.reshape(-1, z.shape[-1])
    nonzero = z != 0
    return {
        "l0": float(nonzero.sum(dim=-1).double().mean()),
        "dead": float((~nonzero.any(dim=0)).double().mean()),
        "negative": int((z < 0).sum()) / max(int(nonzero.sum()), 1),
    }


def mcs_consistency(D_a, D_b, threshold: float = 0.9) -> float:
    """The fraction of atoms of A whose best absolute cosine with an atom of B exceeds
    ``threshold`` (in [0, 1)); D_a (d x P_a) and D_b (d x P_b) share d."""
    threshold = check_real("threshold", threshold, low=0, high=1, high_open=True)
    D_a, D_b = _real("D_a", D_a, 2), _real("D_b", D_b, 2)
    if D_a.shape[0] != D_b.shape[0]:
        raise ValueError(
            f"D_b: expected {D_a.shape[0]} rows (the dimension d of D_a), got {tuple(D_b.shape)}"
        )
    cos = (unit_atoms(D_a).mT @ unit_atoms(D_b).to(D_a.dtype)).abs()
    return float((cos.max(dim=1).values > threshold).double().mean())


__all__ = ["nmse", "recovery", "sign_consistency", "sparsity", "mcs_consistency", "unit_atoms"]
