"""qiskit interop for Pauli-basis tomography: the measurement circuits of given bases, and
the sampler's counts as :class:`~tensorrec.quantum.Outcomes`.

qiskit is imported only where a circuit is built (install it with the extra:
``pip install 'pytensorrec[qiskit]'``); :func:`from_qiskit` reads results and count dicts
without importing it. Everything here is in qiskit's convention: bitstrings and basis labels
have qubit 0 rightmost (as ``Pauli("XZY")`` and ``get_counts()``), qubit k is site n - k, so
``Statevector(circuit).data`` is the state vector of the sites as it stands
(:mod:`tensorrec.quantum.bitstrings` has the conventions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tensorrec._backend import describe
from tensorrec.quantum.bitstrings import _site_letters, from_bitstrings

BASIS_KEY = "tensorrec_basis"  # the circuit metadata entry that holds a measurement circuit's basis


def _require_qiskit():
    try:
        import qiskit
    except ImportError as exc:
        raise ImportError(
            "tensorrec.quantum.qiskit needs qiskit to build circuits; install the 'qiskit' extra: "
            "pip install 'pytensorrec[qiskit]'"
        ) from exc
    return qiskit


def measurement_circuits(circuit, bases: Sequence) -> list:
    """The circuits that measure the state ``circuit`` prepares in each Pauli basis.

    Every circuit is a copy of ``circuit`` followed by a barrier, the rotation of each qubit
    onto its basis (X: H; Y: Sdg then H, so that bit 0 is the +1 eigenvector) and
    ``measure_all`` (register ``"meas"``, bit k = qubit k). The basis label is stored in the
    circuit's metadata (``"tensorrec_basis"``), where :func:`from_qiskit` finds it again.

    Parameters
    ----------
    circuit : qiskit.QuantumCircuit
        A state preparation on n qubits, without classical bits or measurements.
    bases : sequence of basis labels
        One label per circuit, qiskit order (qubit 0 rightmost), letters Z, X, Y.

    Returns
    -------
    list of qiskit.QuantumCircuit
    """
    qiskit = _require_qiskit()
    if not isinstance(circuit, qiskit.QuantumCircuit):
        raise TypeError(f"circuit: expected a qiskit QuantumCircuit, got {describe(circuit)}")
    if circuit.num_clbits or any(inst.operation.name == "measure" for inst in circuit.data):
        raise ValueError(
            f"circuit: expected a state preparation without classical bits or measurements, got "
            f"{circuit.num_clbits} classical bits"
        )
    n = circuit.num_qubits
    if isinstance(bases, str) or not isinstance(bases, Sequence) or not bases:
        raise TypeError(f"bases: expected a nonempty sequence of basis labels (e.g. ['XZY']), got {bases!r}")
    out = []
    for s, label in enumerate(bases):
        sites = _site_letters(label, n, "little", f"bases[{s}]")  # sites 1..n = qubits n-1..0
        c = circuit.copy(name=f"{circuit.name}_{sites}")
        c.barrier()
        for k in range(n):
            letter = sites[n - 1 - k]
            if letter == "X":
                c.h(k)
            elif letter == "Y":
                c.sdg(k)
                c.h(k)
        c.measure_all()
        c.metadata = {**(circuit.metadata or {}), BASIS_KEY: sites}
        out.append(c)
    return out


def _counts_of(item, register: str | None, where: str) -> dict:
    if isinstance(item, Mapping):
        return dict(item)
    data = getattr(item, "data", None)
    if data is None:
        if hasattr(item, "get_counts"):  # a BitArray
            return item.get_counts()
        raise TypeError(
            f"{where}: expected a sampler pub result (with .data), a BitArray or a {{bitstring: copies}} "
            f"mapping, got {describe(item)}"
        )
    names = list(data.keys())
    if register is None:
        if len(names) != 1:
            raise ValueError(
                f"register: {where} holds the classical registers {names}; name the one with the "
                f"measurement (register=...)"
            )
        register = names[0]
    if register not in names:
        raise ValueError(f"register: {where} has no register {register!r}, only {names}")
    return getattr(data, register).get_counts()


def from_qiskit(results, bases: Sequence | None = None, *, family=None, register: str | None = None):
    """:class:`~tensorrec.quantum.Outcomes` from qiskit sampler results or count dicts.

    Parameters
    ----------
    results : PrimitiveResult, sequence of pub results, or sequence of count dicts
        The V2 sampler's ``job.result()`` (one pub result per measurement circuit, counts
        from ``.data.<register>.get_counts()``), a list of pub results or BitArrays, or a
        list of ``{bitstring: copies}`` (one per circuit; a single mapping is one circuit).
    bases : sequence of basis labels, optional
        The basis of each circuit, qiskit order (qubit 0 rightmost). Default: read from
        the circuits' metadata, which :func:`measurement_circuits` writes.
    family : LocalPauli, optional
        Default ``LocalPauli(n)``, n the length of the labels.
    register : str, optional
        The classical register to read; needed only where a result holds several.

    Returns
    -------
    Outcomes
        Repeated bases merged (:func:`~tensorrec.quantum.bitstrings.from_bitstrings`).
    """
    items = [results] if isinstance(results, Mapping) or hasattr(results, "get_counts") else results
    try:
        items = list(items)
    except TypeError:
        raise TypeError(
            f"results: expected sampler results, pub results or count dicts, got {describe(results)}"
        ) from None
    if not items:
        raise ValueError("results: expected at least one circuit's counts, got none")
    counts = [_counts_of(item, register, f"results[{i}]") for i, item in enumerate(items)]
    if bases is None:
        bases = []
        for i, item in enumerate(items):
            meta = (getattr(item, "metadata", None) or {}).get("circuit_metadata") or {}
            if BASIS_KEY not in meta:
                raise ValueError(
                    f"bases: results[{i}] does not say its basis (no '{BASIS_KEY}' in its circuit "
                    "metadata); give the basis of every circuit, bases=[...]"
                )
            bases.append(meta[BASIS_KEY])
    elif isinstance(bases, str) or not isinstance(bases, Sequence):
        raise TypeError(f"bases: expected a sequence of basis labels, one per circuit, got {bases!r}")
    if len(bases) != len(counts):
        raise ValueError(f"bases: expected one basis per circuit ({len(counts)}), got {len(bases)}")
    if family is None:
        from tensorrec.quantum.povms import LocalPauli

        family = LocalPauli(len(_site_letters(bases[0], None, "little", "bases[0]")))
    return from_bitstrings(family, list(bases), counts, bit_order="little")


__all__ = ["from_qiskit", "measurement_circuits"]
