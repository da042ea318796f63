"""Measurement data: the observed outcomes of a POVM family and their empirical frequencies."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from tensorrec._backend import as_tensor, check_positive_int, describe
from tensorrec._random import RngLike, as_generator


def _as_array(x, name: str) -> torch.Tensor:
    """A numpy array, torch tensor or nested list (any numeric dtype, integers included) as a
    tensor."""
    if isinstance(x, (list, tuple)):
        try:
            x = np.asarray(x)
        except ValueError as exc:
            raise ValueError(f"{name}: expected a rectangular numeric array, got a ragged list") from exc
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "iufc":
            raise TypeError(f"{name}: expected a numeric array, got {describe(x)}")
        return torch.from_numpy(np.ascontiguousarray(x))
    if isinstance(x, torch.Tensor):
        if x.dtype == torch.bool:
            raise TypeError(f"{name}: expected a numeric tensor, got {describe(x)}")
        return x
    raise TypeError(f"{name}: expected a numpy array or a torch tensor, got {describe(x)}")


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

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Raise unless the fields are consistent: a POVM family, finite non-negative (m,)
        frequencies, positive integer shots (or None), one row of outcomes per frequency."""
        from tensorrec.quantum.povms import POVM

        if not isinstance(self.povm, POVM):
            raise TypeError(f"povm: expected a quantum POVM family, got {describe(self.povm)}")
        f = self.freqs
        if not isinstance(f, torch.Tensor) or f.ndim != 1 or f.is_complex() or not f.is_floating_point():
            raise TypeError(f"freqs: expected a real floating (m,) tensor of frequencies, got {describe(f)}")
        if f.shape[0] == 0:
            raise ValueError("freqs: expected at least one observed outcome, got none")
        if not bool(torch.isfinite(f).all()) or bool((f < 0).any()):
            raise ValueError(
                f"freqs: expected finite non-negative frequencies, got min {float(f.min()):.3g} "
                f"({int((~torch.isfinite(f)).sum())} non-finite)"
            )
        if self.shots is not None:
            check_positive_int("shots", self.shots)
        for name in ("index", "vectors", "setting", "element"):
            rows = getattr(self, name)
            if rows is not None and (not isinstance(rows, torch.Tensor) or rows.shape[0] != f.shape[0]):
                raise ValueError(
                    f"{name}: expected one row per frequency ({f.shape[0]}), got {describe(rows)}"
                )
        if self.index is None and self.vectors is None:
            raise ValueError(
                "index, vectors: expected the observed outcomes (product indices or global vectors)"
            )

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
        ``vectors`` for global ones), checked: finite non-negative whole numbers (an integer or
        floating array) with a positive total; ``index`` integer, in range; ``vectors`` finite
        unit rows of dimension N (stored as complex128)."""
        from tensorrec.quantum.povms import POVM
        from tensorrec.quantum.states import state_tolerance

        if not isinstance(povm, POVM):
            raise TypeError(f"povm: expected a quantum POVM family, got {describe(povm)}")
        counts = _as_array(counts, "counts")
        if counts.ndim != 1 or counts.is_complex():
            raise ValueError(f"counts: expected a real vector of non-negative counts, got {describe(counts)}")
        counts = counts.to(torch.float64)
        if counts.shape[0] == 0:
            raise ValueError("counts: expected at least one count, got an empty vector")
        if not bool(torch.isfinite(counts).all()):
            raise ValueError(
                f"counts: expected finite counts, got {int((~torch.isfinite(counts)).sum())} NaN/inf"
            )
        if bool((counts < 0).any()):
            raise ValueError(f"counts: expected non-negative counts, got {float(counts.min()):g}")
        if bool((counts != counts.round()).any()):
            raise ValueError("counts: expected whole numbers of copies")
        shots = int(counts.sum())
        if shots < 1:
            raise ValueError("counts: expected a positive total number of copies, got 0")
        if (index is None) == (vectors is None):
            raise ValueError(
                "index, vectors: expected exactly one (index for product families, vectors for global ones)"
            )
        if index is not None:
            index = _as_array(index, "index")
            if index.is_floating_point() or index.is_complex():
                raise TypeError(f"index: expected integer local outcome indices, got {describe(index)}")
            index = index.to(torch.int64)
            K, n = getattr(povm, "local_vectors", None), getattr(povm, "n", None)
            if K is None:
                raise ValueError(f"index: {povm!r} is a global family; give its outcome vectors")
            if index.ndim != 2 or index.shape != (counts.shape[0], n):
                raise ValueError(
                    f"index: expected ({counts.shape[0]}, n = {n}) local indices of a product POVM, "
                    f"got shape {tuple(index.shape)}"
                )
            if bool(((index < 0) | (index >= K.shape[0])).any()):
                raise ValueError(f"index: expected local outcome indices in [0, {K.shape[0]})")
        if vectors is not None:
            if getattr(povm, "product", False):
                raise ValueError(f"vectors: {povm!r} is a product family; give its local outcome index")
            vectors = as_tensor(vectors, "vectors")
            if vectors.ndim != 2 or vectors.shape != (counts.shape[0], povm.N):
                raise ValueError(
                    f"vectors: expected ({counts.shape[0]}, N = {povm.N}) outcome vectors, "
                    f"got {describe(vectors)}"
                )
            if not bool(torch.isfinite(vectors).all()):
                raise ValueError("vectors: expected finite outcome vectors, got NaN/inf entries")
            norms = torch.linalg.vector_norm(vectors.to(torch.complex128), dim=1)
            worst = float((norms - 1).abs().max())
            if worst > state_tolerance(vectors.dtype, povm.N):
                raise ValueError(
                    f"vectors: expected unit outcome vectors, got norms off one by up to {worst:.3g}"
                )
            vectors = vectors.to(torch.complex128)
        return cls(povm, counts.to(torch.float64) / shots, shots, index=index, vectors=vectors)

    @classmethod
    def from_bitstrings(cls, family, settings, counts, *, bit_order: str = "little") -> Outcomes:
        """Outcomes of a Pauli family (:class:`~tensorrec.quantum.LocalPauli`) from the counts
        of Pauli-basis measurements as a device or qiskit reports them: per setting a basis
        label (``"XZY"``, one of Z, X, Y per qubit) and ``{bitstring: copies}``.
        ``bit_order="little"`` (qiskit) puts qubit 0 rightmost in bitstrings and labels alike,
        ``"big"`` leftmost; qubit k is site n - k, bit 0 the +1 eigenvector. Repeated
        settings are merged. Details and checks: :func:`tensorrec.quantum.bitstrings.from_bitstrings`.

        Examples
        --------
        >>> from tensorrec.quantum import LocalPauli, Outcomes
        >>> out = Outcomes.from_bitstrings(LocalPauli(2), ["ZX", "YY"], [{"00": 3, "01": 1}, {"11": 4}])
        >>> out.shots, out.index.tolist()  # site 1 = the left letter: Z+ Z- X+ X- Y+ Y- = 0..5
        (8, [[0, 2], [0, 3], [5, 5]])
        """
        from tensorrec.quantum.bitstrings import from_bitstrings

        return from_bitstrings(family, settings, counts, bit_order=bit_order)

    def to_bitstrings(self, *, bit_order: str = "little") -> dict[str, dict[str, int]]:
        """The counts as ``{basis label: {bitstring: copies}}`` (the inverse of
        :meth:`from_bitstrings`, repeated settings merged)."""
        from tensorrec.quantum.bitstrings import to_bitstrings

        return to_bitstrings(self, bit_order=bit_order)


def counts_to_outcomes(
    povm, probs, shots: int | None, rng: RngLike, *, index_shape=None, vectors=None
) -> Outcomes:
    """Draw multinomial counts of ``shots`` copies from ``probs`` (or keep the probabilities
    when ``shots`` is None) and keep the outcomes that occur: product outcomes as unravelled
    indices into ``index_shape``, global ones as rows of ``vectors``."""
    probs = as_tensor(probs, "probs")
    if probs.ndim != 1 or probs.is_complex() or probs.shape[0] == 0:
        raise ValueError(f"probs: expected a nonempty real vector of probabilities, got {describe(probs)}")
    p = probs.detach().cpu().numpy().astype(np.float64)
    if not np.isfinite(p).all() or (p < 0).any() or not p.sum() > 0:
        raise ValueError("probs: expected finite non-negative probabilities with a positive sum")
    if (index_shape is None) == (vectors is None):
        raise ValueError("index_shape, vectors: expected exactly one (product or global outcomes)")
    if index_shape is not None and math.prod(index_shape) != p.shape[0]:
        raise ValueError(f"index_shape: expected {p.shape[0]} outcomes in all, got {tuple(index_shape)}")
    if vectors is not None and vectors.shape[0] != p.shape[0]:
        raise ValueError(
            f"vectors: expected one vector per probability ({p.shape[0]}), got {describe(vectors)}"
        )
    shots = None if shots is None else check_positive_int("shots", shots)
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
