"""Measurement data: the observed outcomes of a POVM family and their empirical frequencies."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from tensorrec._backend import as_tensor, check_positive_int
from tensorrec._random import RngLike, as_generator


@dataclasses.dataclass(frozen=True, eq=False)
class Outcomes:
    """The distinct observed outcomes of ``povm`` and their frequencies p-hat = counts / M.

    Attributes
    ----------
    povm : the measurement family that produced them
    freqs : (m,) float64
        Empirical frequencies (exact probabilities when ``shots`` is None); they sum to one
        per setting.
    shots : int or None
        M, the copies per setting (None: the exact-probabilities mode, M = infinity).
    index : (m, n) int64, optional
        Product outcomes: the local outcome index at every site.
    vectors : (m, N) complex, optional
        Global outcomes: the outcome vectors phi (only those observed).
    setting : (m,) int64, optional
        The setting (Haar basis) each row belongs to.
    element : (m,) int64, optional
        Finite global designs: the index of each outcome in the family's element list.
    """

    povm: object
    freqs: torch.Tensor
    shots: int | None
    index: torch.Tensor | None = None
    vectors: torch.Tensor | None = None
    setting: torch.Tensor | None = None
    element: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.freqs.shape[0]

    @property
    def counts(self) -> torch.Tensor:
        """M p-hat (integers in the multinomial mode)."""
        if self.shots is None:
            raise ValueError("shots: exact probabilities have no counts (M = infinity)")
        return self.freqs * self.shots

    @property
    def copies(self) -> float:
        """The total number of copies used: M times the number of settings (inf when exact)."""
        return math.inf if self.shots is None else self.shots * getattr(self.povm, "n_settings", 1)

    @classmethod
    def from_counts(cls, povm, counts, *, index=None, vectors=None) -> Outcomes:
        """Outcomes from user counts of ``povm``'s outcomes (``index`` for product families,
        ``vectors`` for global ones), checked: non-negative integers with a positive total."""
        counts = as_tensor(counts, "counts")
        if counts.ndim != 1 or counts.is_complex() or bool((counts < 0).any()):
            raise ValueError("counts: expected a vector of non-negative counts")
        if bool((counts != counts.round()).any()):
            raise ValueError("counts: expected whole numbers of copies")
        shots = int(counts.sum())
        check_positive_int("shots", shots)
        rows = index if index is not None else vectors
        if rows is None or len(rows) != counts.shape[0]:
            raise ValueError(f"index, vectors: expected one outcome per count ({counts.shape[0]})")
        if index is not None:
            index = torch.as_tensor(index)
            K, n = getattr(povm, "local_vectors", None), getattr(povm, "n", None)
            if index.ndim != 2 or index.shape[1] != n or K is None:
                raise ValueError(
                    f"index: expected ({counts.shape[0]}, n = {n}) local indices of a product POVM, "
                    f"got shape {tuple(index.shape)}"
                )
            if bool(((index < 0) | (index >= K.shape[0])).any()):
                raise ValueError(f"index: expected local outcome indices in [0, {K.shape[0]})")
        if vectors is not None:
            vectors = as_tensor(vectors, "vectors")
            if vectors.ndim != 2 or vectors.shape[1] != povm.N:
                raise ValueError(f"vectors: expected ({counts.shape[0]}, N = {povm.N}) outcome vectors")
        return cls(povm, counts.to(torch.float64) / shots, shots, index=index, vectors=vectors)


def counts_to_outcomes(
    povm, probs, shots: int | None, rng: RngLike, *, index_shape=None, vectors=None
) -> Outcomes:
    """Draw multinomial counts of ``shots`` copies from ``probs`` (or keep the probabilities
    when ``shots`` is None) and keep the outcomes that occur: product outcomes as unravelled
    indices into ``index_shape``, global ones as rows of ``vectors``."""
    p = probs.detach().cpu().numpy().astype(np.float64)
    p = p / p.sum()
    if shots is None:
        keep, freqs = np.flatnonzero(p > 0), None
    else:
        counts = as_generator(rng).multinomial(shots, p)
        keep = np.flatnonzero(counts)
        freqs = counts[keep] / shots
    freqs = torch.from_numpy(p[keep] if freqs is None else freqs)
    if index_shape is not None:
        index = torch.from_numpy(np.stack(np.unravel_index(keep, index_shape), axis=1))
        return Outcomes(povm, freqs, shots, index=index)
    keep = torch.from_numpy(keep)
    return Outcomes(povm, freqs, shots, vectors=vectors[keep], element=keep)


__all__ = ["Outcomes", "counts_to_outcomes"]
