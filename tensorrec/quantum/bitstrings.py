"""Pauli-basis counts as bitstrings (what a device or qiskit returns) to and from
:class:`~tensorrec.quantum.Outcomes` of a product Pauli family (:class:`~tensorrec.quantum.LocalPauli`).

Conventions (tested in ``tests/test_quantum_qiskit.py``):

* a **setting** gives one basis letter per qubit, ``"Z"``, ``"X"`` or ``"Y"``; its counts map
  each observed bitstring to a number of copies. Bit 0 is the +1 eigenvector of the
  measured Pauli, bit 1 the -1 eigenvector (as after the rotations X: H, Y: Sdg then H,
  followed by a computational-basis measurement);
* ``bit_order="little"`` (qiskit): the rightmost character of a bitstring is qubit 0;
  ``"big"``: the leftmost is qubit 0. A basis label, string or sequence, is read in the same
  order as the bitstrings (its character at position j is the basis of the bit at
  position j), so ``"XZY"`` with ``"little"`` measures qubit 2 in X and qubit 0 in Y, as
  qiskit's ``Pauli("XZY")``;
* qubit k is site n - k (site 1 is the most significant digit of the dense index, as
  qubit n - 1 is in qiskit): a qiskit ``Statevector(circuit).data`` is the state vector
  of these sites as it stands, and a little-endian string lists sites 1..n left to right;
* the local outcome index of a site is the position of the measured eigenvector among the
  family's ``local_vectors``, found here by checking P phi = +-phi (for LocalPauli:
  0, 1 = Z+, Z-; 2, 3 = X+, X-; 4, 5 = Y+, Y-).

Repeated settings are merged: their counts of the same bitstring add up (a repeated setting
is the same measurement, as when every copy draws its setting at random). The likelihood
estimate (``method="mle"``) is then that of the fixed settings whatever the number of copies
per setting (the product of one multinomial per setting); the classical shadow, PCS and the
spectral start read the frequencies as draws of uniformly random settings.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from tensorrec._backend import check_choice, describe

LETTERS = ("Z", "X", "Y")
BIT_ORDERS = ("little", "big")


def pauli_local_index(family) -> dict[str, tuple[int, int]]:
    """``{letter: (k_plus, k_minus)}``: the positions of the +1 and -1 eigenvectors of the
    Pauli ``letter`` among ``family.local_vectors`` (checked, not assumed). Refuses a family
    that is not a qubit product family holding all six Pauli eigenvectors."""
    from tensorrec.quantum.frames import pauli
    from tensorrec.quantum.povms import POVM

    vectors = getattr(family, "local_vectors", None)
    if not isinstance(family, POVM) or not getattr(family, "product", False) or family.d != 2:
        raise TypeError(
            f"family: expected a qubit product family holding the Pauli eigenvectors (LocalPauli), "
            f"got {describe(family)}"
        )
    out = {}
    for letter in LETTERS:
        p = pauli(letter).to(vectors.dtype)
        found = []
        for sign in (1.0, -1.0):
            residual = torch.linalg.vector_norm(vectors @ p.mT - sign * vectors, dim=1)  # P phi_k - s phi_k
            hits = torch.nonzero(residual < 1e-12).reshape(-1).tolist()
            if len(hits) != 1:
                raise ValueError(
                    f"family: expected exactly one {letter}{'+' if sign > 0 else '-'} eigenvector among the "
                    f"local outcomes of {family!r}, found {len(hits)} (use LocalPauli)"
                )
            found.append(hits[0])
        out[letter] = (found[0], found[1])
    return out


def _site_letters(label, n: int | None, bit_order: str, where: str) -> str:
    """A basis label (a string or a sequence of letters, in ``bit_order``) as the letters of
    sites 1..n."""
    if isinstance(label, str):
        letters = label
    elif isinstance(label, Sequence) and all(isinstance(c, str) and len(c) == 1 for c in label):
        letters = "".join(label)
    else:
        raise TypeError(
            f"{where}: expected a basis label, a string such as 'XZY' or a sequence of the letters "
            f"{', '.join(LETTERS)}, got {describe(label)}"
        )
    bad = sorted({c for c in letters if c not in LETTERS})
    if bad:
        raise ValueError(
            f"{where}: expected basis letters {', '.join(LETTERS)} (upper case; a qubit is measured in "
            f"one of them), got {', '.join(map(repr, bad))} in {label!r}"
        )
    if n is not None and len(letters) != n:
        raise ValueError(f"{where}: expected a basis label of {n} letters (one per qubit), got {label!r}")
    if not letters:
        raise ValueError(f"{where}: expected a nonempty basis label, got {label!r}")
    return letters if bit_order == "little" else letters[::-1]


def _count(value, where: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: expected a whole number of copies, got {describe(value)}")
    if not math.isfinite(value) or value < 0 or value != int(value):
        raise ValueError(f"{where}: expected a non-negative whole number of copies, got {value!r}")
    return int(value)


def from_bitstrings(family, settings, counts, *, bit_order: str = "little"):
    """:class:`~tensorrec.quantum.Outcomes` of ``family`` from Pauli-basis bitstring counts.

    Parameters
    ----------
    family : LocalPauli
        The product Pauli family of n qubits (any qubit product family holding the six Pauli
        eigenvectors; their order is read from its ``local_vectors``).
    settings : sequence of basis labels
        One label per setting: a string such as ``"XZY"`` or a sequence of the letters
        ``"Z"``, ``"X"``, ``"Y"``, n letters, read in ``bit_order`` (module docstring).
    counts : sequence of mappings
        One ``{bitstring: copies}`` per setting: strings of n characters ``0``/``1`` and
        non-negative whole numbers (zeros are dropped).
    bit_order : {"little", "big"}
        ``"little"`` (qiskit): the rightmost character is qubit 0; ``"big"``: the leftmost.

    Returns
    -------
    Outcomes
        Product outcomes (``index``) with frequencies counts / total and ``shots`` the total
        number of copies. Repeated settings are merged (their counts add up).
    """
    check_choice("bit_order", bit_order, BIT_ORDERS)
    local = pauli_local_index(family)
    n = family.n
    if isinstance(settings, str) or not isinstance(settings, Sequence):
        raise TypeError(
            f"settings: expected a sequence of basis labels, one per setting (e.g. ['XZY', 'ZZZ']), "
            f"got {describe(settings)}"
        )
    if isinstance(counts, Mapping) or not isinstance(counts, Sequence):
        raise TypeError(
            f"counts: expected a sequence of {{bitstring: copies}} mappings, one per setting, got "
            f"{describe(counts)}"
        )
    if len(settings) != len(counts):
        raise ValueError(
            f"settings, counts: expected one counts mapping per setting, got {len(settings)} settings and "
            f"{len(counts)} counts"
        )
    if not settings:
        raise ValueError("settings: expected at least one setting, got none")
    merged: dict[tuple[int, ...], int] = {}
    for s, (label, table) in enumerate(zip(settings, counts, strict=True)):
        letters = _site_letters(label, n, bit_order, f"settings[{s}]")
        if not isinstance(table, Mapping):
            raise TypeError(f"counts[{s}]: expected a {{bitstring: copies}} mapping, got {describe(table)}")
        for bits, value in table.items():
            if not isinstance(bits, str) or len(bits) != n or set(bits) - {"0", "1"}:
                raise ValueError(
                    f"counts[{s}]: expected bitstrings of {n} characters '0'/'1' (one per qubit, no "
                    f"spaces or register separators), got {bits!r}"
                )
            copies = _count(value, f"counts[{s}][{bits!r}]")
            if copies == 0:
                continue
            site_bits = bits if bit_order == "little" else bits[::-1]
            row = tuple(local[c][int(b)] for c, b in zip(letters, site_bits, strict=True))
            merged[row] = merged.get(row, 0) + copies
    if not merged:
        raise ValueError("counts: expected a positive total number of copies, got 0")
    from tensorrec.quantum.outcomes import Outcomes

    rows = sorted(merged)
    return Outcomes.from_counts(
        family,
        torch.tensor([merged[r] for r in rows], dtype=torch.float64),
        index=torch.tensor(rows, dtype=torch.int64),
    )


def to_bitstrings(outcomes, *, bit_order: str = "little") -> dict[str, dict[str, int]]:
    """The counts of Pauli-family ``outcomes`` as ``{basis label: {bitstring: copies}}``, in
    ``bit_order`` (the inverse of :func:`from_bitstrings`, with repeated settings merged)."""
    check_choice("bit_order", bit_order, BIT_ORDERS)
    if outcomes.index is None:
        raise ValueError(f"outcomes: expected product outcomes of a Pauli family, got {outcomes.povm!r}")
    local = pauli_local_index(outcomes.povm)
    meaning = {k: (letter, bit) for letter, pair in local.items() for bit, k in enumerate(pair)}
    bad = sorted(set(outcomes.index.reshape(-1).tolist()) - set(meaning))
    if bad:
        raise ValueError(f"outcomes: local outcomes {bad} are not Pauli eigenvectors of {outcomes.povm!r}")
    counts = outcomes.counts.round().to(torch.int64).tolist()
    out: dict[str, dict[str, int]] = {}
    for row, c in zip(outcomes.index.tolist(), counts, strict=True):
        letters = "".join(meaning[k][0] for k in row)
        bits = "".join(str(meaning[k][1]) for k in row)
        if bit_order == "big":
            letters, bits = letters[::-1], bits[::-1]
        table = out.setdefault(letters, {})
        table[bits] = table.get(bits, 0) + c
    return out


__all__ = ["from_bitstrings", "to_bitstrings", "pauli_local_index", "LETTERS", "BIT_ORDERS"]
