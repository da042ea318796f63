"""Operators on the lattice formats (PEPS, PEPO, PEPSDensity): evaluations on the site
tensors, registered by (rows, format) dispatch; their vjps are autograd through these
(differentiable) contractions, planned once per network.

- Kronecker rows (product POVM outcomes, product observables) on a PEPO: one batched
  single-layer contraction, sum_(s,s') conj(a_kv[s d + s']) B_v[s, s'] at every site;
- Kronecker rows on a PEPS (shape (d,) * n): the batched amplitudes sum_s conj(a_kv[s]) A_v[s];
- Kronecker rows on rho = psi psi^H / <psi|psi>: one batched double-layer contraction;
- rank-one effects with dense (global) outcome vectors on rho = psi psi^H / <psi|psi>:
  w_k |<phi_k|psi>|^2 / <psi|psi> from the dense psi (2^n entries, never the 4^n rho).
"""

from __future__ import annotations

import torch

from tensorrec.formats.grid import contract_exact
from tensorrec.formats.peps import PEPO, PEPS, LatticeFormat, PEPSDensity
from tensorrec.operators.dispatch import KroneckerRows, register
from tensorrec.operators.povm import RankOnePOVM


def _contract(x: LatticeFormat, layer) -> torch.Tensor:
    return contract_exact(layer, x.n_rows, x.n_cols)


@register(KroneckerRows, PEPO)
def _kronecker_pepo(rows: KroneckerRows, x: PEPO) -> torch.Tensor:
    d = x.phys_dim
    layer = [
        torch.einsum("kst,stlurd->klurd", a.conj().reshape(-1, d, d), t)
        for a, t in zip(rows.vectors, x.sites, strict=True)
    ]
    return _contract(x, layer)


@register(KroneckerRows, PEPS)
def _kronecker_peps(rows: KroneckerRows, x: PEPS) -> torch.Tensor:
    layer = [torch.einsum("ks,slurd->klurd", a.conj(), t) for a, t in zip(rows.vectors, x.sites, strict=True)]
    return _contract(x, layer)


@register(KroneckerRows, PEPSDensity)
def _kronecker_peps_density(rows: KroneckerRows, x: PEPSDensity) -> torch.Tensor:
    d = x.phys_dim
    layer = [
        LatticeFormat._fuse_pair(
            torch.einsum("kst,sluro->ktluro", a.conj().reshape(-1, d, d), t),
            t.conj(),
            "ktluro,tLURO->klLuUrRoO",
        )
        for a, t in zip(rows.vectors, x.sites, strict=True)
    ]
    return _contract(x, layer) / _squared_norm(x)


def _squared_norm(x: PEPSDensity) -> torch.Tensor:
    layer = [LatticeFormat._fuse_pair(t.conj(), t, "sluro,sLURO->lLuUrRoO") for t in x.sites]
    return _contract(x, layer).real


@register(RankOnePOVM, PEPSDensity)
def _rank_one_peps_density(op: RankOnePOVM, x: PEPSDensity) -> torch.Tensor:
    psi = x.psi.to_dense().reshape(-1)
    amp = op.vectors.conj() @ psi
    return (op.weights * amp.abs() ** 2 / torch.sum(psi.abs() ** 2)).to(op.dtype)


__all__: list[str] = []
