"""
Observables from shadows, with error bars
=========================================

Expectations of Pauli strings and the fidelity with a known target read directly off the
measurement data, without estimating the state. For Pauli data
:func:`~tensorrec.quantum.estimate_observables` averages the +-1 outcome products of the
copies measured in each string's bases (unbiased for any allocation of the settings) with an
exact Clopper-Pearson interval; the fidelity is the median of means of the classical-shadow
values with a distribution-free interval (see :doc:`/tomography`). For an estimated state, a
bootstrap over the counts (:func:`~tensorrec.quantum.bootstrap`) puts an error bar on any
scalar, here the fidelity of the likelihood fit.
"""

import matplotlib.pyplot as plt
import numpy as np

import tensorrec as tr
from tensorrec import quantum as q
from tensorrec.quantum import mpo

tr.pin_threads(1)

# %%
# Data: random Pauli measurements of a 6-qubit state
# ---------------------------------------------------
# A complex matrix product state of bond 2 and 4000 copies, each measured in a random Pauli
# basis per qubit (:class:`~tensorrec.quantum.LocalPauli`; counts from a device enter the same
# way through :meth:`~tensorrec.quantum.Outcomes.from_bitstrings`).

n = 6
state = mpo.random_mps(n, 2, 2, rng=3)
data = q.LocalPauli(n).sample(state, 4000, rng=0)
psi = mpo.to_vector(state)
rho = psi[:, None] * psi.conj()[None, :]

# %%
# Pauli expectations with confidence intervals
# --------------------------------------------
# The exact values come from the dense state (6 qubits are small); the estimates never build
# it: each copy's basis and outcome sign are read per site from its local outcome index.

labels = ["ZZIIII", "IXXIII", "IIZZII", "XXXIII", "IIYIIZ", "ZIIIIZ"]
result = q.estimate_observables(data, labels)
exact = [float(np.real(np.trace(q.pauli(label).numpy() @ rho.numpy()))) for label in labels]
for label, value in zip(labels, exact, strict=True):
    r = result[label]
    print(f"{label}: {r.estimate:+.3f} in [{r.ci_low:+.3f}, {r.ci_high:+.3f}]   exact {value:+.3f}")

fig, ax = plt.subplots(figsize=(6, 3))
x = np.arange(len(labels))
est = np.array([result[label].estimate for label in labels])
low = est - np.array([result[label].ci_low for label in labels])
high = np.array([result[label].ci_high for label in labels]) - est
ax.errorbar(x, est, yerr=[low, high], fmt="o", capsize=4, label="matched-basis estimate (95% interval)")
ax.plot(x, exact, "kx", label="exact")
ax.set_xticks(x, labels)
ax.set_ylabel("tr(P rho)")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# The fidelity with the target, two ways
# --------------------------------------
# Directly from the shadows (unbiased, wide for n = 6), and from the likelihood fit (an LPDO of
# bond 2) with a bootstrap error bar over 10 resamples of the counts.

fid = q.fidelity_from_shadows(data, state, rng=1)
print(f"from shadows: {fid.estimate:.3f} in [{fid.ci_low:.3f}, {fid.ci_high:.3f}]")


def mle_fidelity(outcomes):
    fit = q.estimate(outcomes, bond_dim=2)
    return q.fidelity(psi, mpo.to_matrix(fit.point.to_mpo()))


boot = q.bootstrap(mle_fidelity, data, resamples=10, rng=2)
print(f"likelihood fit: {boot.value:.4f} +- {boot.standard_error:.4f} (bootstrap sd)")
