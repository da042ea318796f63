"""
MPS tomography from qiskit counts
=================================

A quantum device reports Pauli-basis measurements as a basis per qubit for each setting and
counts of bitstrings. :mod:`tensorrec.quantum.qiskit` builds the measurement circuits of a
state preparation (:func:`~tensorrec.quantum.qiskit.measurement_circuits`) and reads a
sampler's results (:func:`~tensorrec.quantum.qiskit.from_qiskit`) into the library's
:class:`~tensorrec.quantum.Outcomes`, with qiskit's bit order and basis conventions handled
(see :doc:`/tomography`). :func:`tensorrec.quantum.estimate` then fits a matrix product
state (an LPDO of bond 2) by maximum likelihood. Needs ``pip install 'pytensorrec[qiskit]'``.
"""

import matplotlib.pyplot as plt
import numpy as np
from qiskit import QuantumCircuit
from qiskit.primitives import StatevectorSampler
from qiskit.quantum_info import Statevector

import tensorrec as tr
from tensorrec import quantum as q
from tensorrec.quantum.qiskit import from_qiskit, measurement_circuits

tr.pin_threads(1)

# %%
# A 4-qubit state of bond 2
# -------------------------
# Random single-qubit rotations, a CNOT chain and random phases: an entangled state whose
# matrix product state has bond dimension 2.
n, copies = 4, 4000
rng = np.random.default_rng(0)
prep = QuantumCircuit(n)
for k in range(n):
    prep.u(*rng.uniform(0, 2 * np.pi, 3), k)
for k in range(n - 1):
    prep.cx(k, k + 1)
for k in range(n):
    prep.p(rng.uniform(0, 2 * np.pi), k)

# %%
# Random Pauli settings, simulated counts
# ---------------------------------------
# Every copy draws a basis per qubit; the copies are grouped by setting, and each setting
# becomes one circuit (the basis is stored in the circuit's metadata). The sampler gets a
# Generator, not an int: ``StatevectorSampler(seed=int)`` restarts one stream per circuit.
draws = rng.integers(0, 3, size=(copies, n))
settings, shots = np.unique(draws, axis=0, return_counts=True)
bases = ["".join("ZXY"[b] for b in row) for row in settings]  # qiskit order: qubit 0 last
circuits = measurement_circuits(prep, bases)
sampler = StatevectorSampler(seed=rng)
result = sampler.run([(c, None, int(m)) for c, m in zip(circuits, shots, strict=True)]).result()
print(f"{len(circuits)} settings, {copies} shots in all; first setting {bases[0]!r}")

# %%
# Counts to outcomes, outcomes to a state
# ---------------------------------------
# ``Statevector(prep).data`` is the state vector of the sites as it stands (qubit k is site
# n - k), so it is the truth the estimator's trace compares against.
outcomes = from_qiskit(result)
psi = Statevector(prep).data
fit = q.estimate(outcomes, bond_dim=2, truth=psi)
fidelity = fit.trace.metrics["fidelity"]
print(
    f"maximum likelihood, LPDO bond 2: {fit.iterations} iterations ({fit.stop_reason}), "
    f"fidelity {fidelity[-1]:.4f}, physical: {fit.physical}"
)

# %%
# The raw classical shadow of the same counts is unbiased but far noisier: its Frobenius
# error against the truth, next to the fit's.
shadow = q.classical_shadow(outcomes)
shadow_error, fit_error = q.frobenius_error(shadow, psi), fit.trace.metrics["frobenius"][-1]
print(f"Frobenius error: shadow {shadow_error:.3f}, fit {fit_error:.3f}")

fig, ax = plt.subplots(figsize=(6, 4))
ax.semilogy(1 - np.asarray(fidelity), "o-", ms=3)
ax.set_xlabel("iteration")
ax.set_ylabel("1 - fidelity")
ax.set_title(f"MPS tomography from {copies} qiskit shots (n = {n})")
plt.tight_layout()
plt.show()
