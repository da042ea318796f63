"""Pauli-basis bitstring counts (qiskit and any device) as tomography outcomes (issue 29 section 1)."""

import itertools
import sys

import numpy as np
import pytest
import torch

from tensorrec import quantum as q
from tensorrec.quantum import LocalPauli, Outcomes
from tensorrec.quantum.bitstrings import pauli_local_index

# ---------------------------------------------------------------- bitstrings, no qiskit needed


def test_local_order_is_z_x_y_plus_minus():
    assert pauli_local_index(LocalPauli(1)) == {"Z": (0, 1), "X": (2, 3), "Y": (4, 5)}
    with pytest.raises(ValueError, match="Z- eigenvector"):
        pauli_local_index(q.LocalSIC(2))


def test_from_bitstrings_orders_and_round_trip():
    family = LocalPauli(3)
    settings = ["XZY", "ZZZ", list("YYX")]
    counts = [{"001": 5, "110": 2, "000": 0}, {"111": 3}, {"010": 4, "100": 1}]
    out = Outcomes.from_bitstrings(family, settings, counts)
    assert out.shots == 15
    # little-endian: "XZY" / "001" is site 1 X+, site 2 Z+, site 3 Y- (qubit 0 rightmost = site 3)
    rows = {tuple(r): f for r, f in zip(out.index.tolist(), out.freqs.tolist(), strict=True)}
    assert rows[(2, 0, 5)] == pytest.approx(5 / 15)
    back = out.to_bitstrings()
    assert back == {"XZY": {"001": 5, "110": 2}, "ZZZ": {"111": 3}, "YYX": {"010": 4, "100": 1}}
    # big-endian: reversing labels and bitstrings gives the same outcomes
    rev = [[s[::-1] for s in settings], [{k[::-1]: v for k, v in c.items()} for c in counts]]
    big = Outcomes.from_bitstrings(family, *rev, bit_order="big")
    assert torch.equal(big.index, out.index) and torch.equal(big.freqs, out.freqs)
    assert big.to_bitstrings(bit_order="big") == {
        k[::-1]: {b[::-1]: c for b, c in v.items()} for k, v in back.items()
    }


def test_repeated_settings_merge():
    family = LocalPauli(2)
    once = Outcomes.from_bitstrings(family, ["XY"], [{"01": 4, "10": 2}])
    twice = Outcomes.from_bitstrings(family, ["XY", ["X", "Y"]], [{"01": 1, "10": 2}, {"01": 3}])
    assert torch.equal(once.index, twice.index) and torch.equal(once.freqs, twice.freqs)
    assert twice.shots == 6


@pytest.mark.parametrize(
    ("settings", "counts", "error", "match"),
    [
        ("XZ", [{"00": 1}], TypeError, "one per setting"),
        (["XZ"], {"00": 1}, TypeError, "mappings"),
        (["XZ", "ZZ"], [{"00": 1}], ValueError, "2 settings and 1 counts"),
        (["XZZ"], [{"00": 1}], ValueError, "2 letters"),
        (["XI"], [{"00": 1}], ValueError, "'I'"),
        (["xz"], [{"00": 1}], ValueError, "upper case"),
        ([3], [{"00": 1}], TypeError, "basis label"),
        (["XZ"], [{"000": 1}], ValueError, "2 characters"),
        (["XZ"], [{"0 1": 1}], ValueError, "'0 1'"),
        (["XZ"], [{"0x": 1}], ValueError, "'0'/'1'"),
        (["XZ"], [{"01": -1}], ValueError, "non-negative whole"),
        (["XZ"], [{"01": 1.5}], ValueError, "non-negative whole"),
        (["XZ"], [{"01": True}], TypeError, "whole number"),
        (["XZ"], [{"01": "3"}], TypeError, "whole number"),
        (["XZ"], [{"01": 0}], ValueError, "positive total"),
        (["XZ"], [[("01", 1)]], TypeError, "counts\\[0\\]"),
        ([], [], ValueError, "at least one"),
    ],
)
def test_from_bitstrings_refuses(settings, counts, error, match):
    with pytest.raises(error, match=match):
        Outcomes.from_bitstrings(LocalPauli(2), settings, counts)


def test_from_bitstrings_refuses_bad_order_and_family():
    with pytest.raises(ValueError, match="bit_order"):
        Outcomes.from_bitstrings(LocalPauli(2), ["XZ"], [{"01": 1}], bit_order="middle")
    with pytest.raises(TypeError, match="family"):
        Outcomes.from_bitstrings(q.MUB(2), ["XZ"], [{"01": 1}])


def test_whole_float_and_numpy_counts_accepted():
    out = Outcomes.from_bitstrings(LocalPauli(2), ["XZ"], [{"01": 2.0, "10": np.int64(2)}])
    assert out.shots == 4


# ---------------------------------------------------------------- qiskit


def test_measurement_circuits_need_qiskit(monkeypatch):
    from tensorrec.quantum import qiskit as tq

    monkeypatch.setitem(sys.modules, "qiskit", None)
    with pytest.raises(ImportError, match="pytensorrec\\[qiskit\\]"):
        tq.measurement_circuits(object(), ["Z"])


def _random_circuit(n, gen, layers=1):
    """Random single-qubit U gates, a CX chain, phases, and U gates again: a complex MPS of bond 2."""
    qiskit = pytest.importorskip("qiskit")
    c = qiskit.QuantumCircuit(n)
    for k in range(n):
        c.u(*gen.uniform(0, 2 * np.pi, 3), k)
    for _ in range(layers):
        for k in range(n - 1):
            c.cx(k, k + 1)
        for k in range(n):
            c.p(gen.uniform(0, 2 * np.pi), k)
            c.u(*gen.uniform(0, 2 * np.pi, 3), k)
    return c


def _statevector(circuit):
    from qiskit.quantum_info import Statevector

    return torch.from_numpy(np.asarray(Statevector(circuit).data))


def test_rotations_match_local_pauli_exactly():
    """Born probabilities of every measurement circuit (qiskit's statevector, little-endian
    keys) equal LocalPauli's outcome law of the same state (qiskit's vector as the sites'
    vector): the sign of the Y rotation, the bit order and the qubit-to-site map at once."""
    pytest.importorskip("qiskit")
    from qiskit.quantum_info import Statevector

    from tensorrec.quantum.qiskit import measurement_circuits

    n = 3
    prep = _random_circuit(n, np.random.default_rng(1))
    psi = _statevector(prep)
    law = LocalPauli(n).probabilities(psi) * 3**n  # p(b | basis), (6,) * n
    bases = ["".join(b) for b in itertools.product("ZXY", repeat=n)]
    circuits = measurement_circuits(prep, bases)
    local = pauli_local_index(LocalPauli(n))
    for label, circ in zip(bases, circuits, strict=True):
        assert circ.metadata["tensorrec_basis"] == label
        probs = Statevector(circ.remove_final_measurements(inplace=False)).probabilities_dict()
        for bits, p in probs.items():
            site = tuple(local[c][int(b)] for c, b in zip(label, bits, strict=True))
            assert p == pytest.approx(float(law[site]), abs=1e-12)


@pytest.mark.parametrize(("prep", "basis"), [("x+", "X"), ("x-", "X"), ("y+", "Y"), ("y-", "Y"), ("z-", "Z")])
def test_eigenstates_give_their_bit(prep, basis):
    qiskit = pytest.importorskip("qiskit")
    from qiskit.primitives import StatevectorSampler

    from tensorrec.quantum.qiskit import from_qiskit, measurement_circuits

    c = qiskit.QuantumCircuit(1)
    if prep.endswith("-"):
        c.x(0)
    if prep[0] in "xy":
        c.h(0)
    if prep[0] == "y":
        c.s(0)  # S |+> = |+i>, S |-> = |-i>
    result = (
        StatevectorSampler(seed=np.random.default_rng(0))
        .run([(circ, None, 50) for circ in measurement_circuits(c, [basis])])
        .result()
    )
    out = from_qiskit(result)
    plus, minus = pauli_local_index(LocalPauli(1))[basis]
    assert out.index.tolist() == [[plus if prep.endswith("+") else minus]] and out.shots == 50


def _sample(prep, bases, shots, gen):
    from qiskit.primitives import StatevectorSampler

    from tensorrec.quantum.qiskit import measurement_circuits

    circuits = measurement_circuits(prep, bases)
    pubs = [(c, None, int(m)) for c, m in zip(circuits, shots, strict=True)]
    return StatevectorSampler(seed=gen).run(pubs).result()


def _random_settings(n, copies, gen):
    """Every copy draws its basis per qubit: the distinct settings and their copies."""
    draws = gen.integers(0, 3, size=(copies, n))
    settings, shots = np.unique(draws, axis=0, return_counts=True)
    return ["".join("ZXY"[i] for i in row) for row in settings], shots


@pytest.mark.slow
def test_sampler_counts_estimate_six_qubits():
    pytest.importorskip("qiskit")
    from tensorrec.quantum.qiskit import from_qiskit

    gen = np.random.default_rng(29)
    n = 6
    prep = _random_circuit(n, gen)
    psi = _statevector(prep)
    bases, shots = _random_settings(n, 10_000, gen)
    result = _sample(prep, bases, shots, gen)
    out = from_qiskit(result)
    assert out.shots == 10_000
    assert from_qiskit(result, bases).to_bitstrings() == out.to_bitstrings()
    # round trip: the empirical frequencies of every (basis, bitstring) are kept
    merged = out.to_bitstrings()
    for label, pub in zip(bases, result, strict=True):
        assert merged[label] == pub.data.meas.get_counts()
    fid = q.estimate(out, bond_dim=2, truth=psi).trace.metrics["fidelity"][-1]
    assert fid >= 0.99, fid
    # the preconditioned Gauss-Newton fit on the same counts: its resolution stop, the same fidelity
    gn = q.estimate(out, bond_dim=2, truth=psi, solver="gauss_newton")
    assert gn.stop_reason == "value_change" and abs(gn.trace.metrics["fidelity"][-1] - fid) < 1e-3
    # the Y-eigenvector swap of a hand conversion (bit flipped where the basis is Y) is caught
    swapped = [
        {"".join(str(1 - int(b)) if c == "Y" else b for c, b in zip(label, bits, strict=True)): m
         for bits, m in pub.data.meas.get_counts().items()}
        for label, pub in zip(bases, result, strict=True)
    ]  # fmt: skip
    wrong = Outcomes.from_bitstrings(LocalPauli(n), bases, swapped)
    bad = q.estimate(wrong, bond_dim=2, truth=psi, stop={"max_iter": 60}).trace.metrics["fidelity"][-1]
    overlap = float(abs(torch.sum(psi * psi)) ** 2)  # the swap estimates conj(psi): F = |psi^T psi|^2
    assert overlap < 0.5 and bad < 0.5 and bad == pytest.approx(overlap, abs=0.05), (bad, overlap)


def _state_tomography(prep, gen, shots, **options):
    """qiskit-experiments' StateTomography of ``prep`` on StatevectorSampler counts: (its
    analysis results as a DataFrame, the counts, the bases of its circuits in qiskit order)."""
    pytest.importorskip("qiskit_experiments")
    from qiskit.primitives import StatevectorSampler
    from qiskit_experiments.framework import ExperimentData
    from qiskit_experiments.library import StateTomography

    exp = StateTomography(prep)
    exp.analysis.set_options(**options)
    circuits = exp.circuits()
    result = StatevectorSampler(seed=gen).run([(c, None, shots) for c in circuits]).result()
    counts = [pub.data.c_tomo.get_counts() for pub in result]
    data = ExperimentData(experiment=exp)
    pairs = zip(counts, circuits, strict=True)
    data.add_data([{"counts": c, "metadata": circ.metadata, "shots": shots} for c, circ in pairs])
    exp.analysis.run(data).block_for_results()
    assert data.status().name == "DONE", data.errors()
    # its m_idx lists the basis of qubit 0 first (PauliMeasurementBasis: 0 = Z, 1 = X, 2 = Y)
    bases = ["".join("ZXY"[i] for i in circ.metadata["m_idx"])[::-1] for circ in circuits]
    return data.analysis_results(dataframe=True).set_index("name"), counts, bases


@pytest.mark.parametrize("n", [3, 4])
def test_linear_inversion_equals_qiskit_experiments(n):
    """qiskit-experiments' own circuits and fit (linear inversion, not rescaled) on the same
    counts equal our classical shadow of the converted outcomes (with every Pauli setting
    measured equally often, linear inversion is the shadow): its basis rotations, its bit
    order and ours agree entry by entry."""
    pytest.importorskip("qiskit")
    from tensorrec.quantum.qiskit import from_qiskit

    gen = np.random.default_rng(40 + n)
    prep = _random_circuit(n, gen)
    results, counts, bases = _state_tomography(prep, gen, 200, rescale_positive=False, rescale_trace=False)
    theirs = torch.from_numpy(np.asarray(results.loc["state", "value"].data))
    ours = q.classical_shadow(from_qiskit(counts, bases))
    assert torch.allclose(ours, theirs, atol=1e-12)


@pytest.mark.slow
def test_fidelity_agrees_with_qiskit_experiments():
    """The same counts, fit by qiskit-experiments' StateTomography (linear inversion, rescaled
    to a state, fidelity with a bootstrap error) and by ours: the nearest state to the shadow
    (``format="dense"``, the same estimator) agrees within the bootstrap error, and the default
    likelihood fit (a pure MPS of bond 2) is not worse."""
    pytest.importorskip("qiskit")
    from tensorrec.quantum.qiskit import from_qiskit

    gen = np.random.default_rng(7)
    prep = _random_circuit(3, gen)
    psi = _statevector(prep)
    results, counts, bases = _state_tomography(
        prep, gen, 300, target_bootstrap_samples=30, target_bootstrap_seed=1
    )
    fid = results.loc["state_fidelity", "value"]
    out = from_qiskit(counts, bases)
    dense = q.fidelity(q.estimate(out, format="dense").point, psi)
    mle = q.estimate(out, bond_dim=2, truth=psi).trace.metrics["fidelity"][-1]
    assert abs(dense - fid.nominal_value) <= 3 * fid.std_dev, (dense, fid)
    assert mle >= fid.nominal_value - 3 * fid.std_dev and mle >= 0.99, (mle, fid)


def test_docs_example_runs():
    """The example in docs/tomography.rst (qiskit circuit -> counts -> Outcomes -> estimate)."""
    pytest.importorskip("qiskit")
    import contextlib
    import io
    import pathlib
    import textwrap

    text = (pathlib.Path(__file__).parents[1] / "docs" / "tomography.rst").read_text()
    section = text.split("Counts from qiskit and other devices", 1)[1]
    lines = []
    for line in section.split(".. code-block:: python\n", 1)[1].splitlines():
        if line and not line.startswith("    "):
            break  # the first unindented line ends the block
        lines.append(line)
    code = textwrap.dedent("\n".join(lines))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "docs/tomography.rst", "exec"), {})
    assert float(printed.getvalue()) >= 0.97
