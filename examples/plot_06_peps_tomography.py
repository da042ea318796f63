"""
PEPS tomography on a 2 x 2 lattice
==================================

A state of qubits on a square lattice with short-range entanglement is a PEPS (projected
entangled pair state) of small bond dimension D. :func:`tensorrec.quantum.peps.estimate_peps`
fits a PEPS of bond D to measurement data by preconditioned factorized gradient descent on
its site tensors (see :doc:`/tomography`, "Two dimensions"). This example samples random
local Pauli measurements of two 2 x 2 states -- a random PEPS of bond 2 and the 2D cluster
state -- fits them from the snake start (the classical shadow's top eigenvector, TT-SVD'd
along the boustrophedon path) and compares the fit's error with the raw classical shadow's.
"""

import matplotlib.pyplot as plt
import torch

import tensorrec as tr
from tensorrec import quantum as q
from tensorrec.quantum import peps

tr.pin_threads(1)

# %%
# Two truths and their data
# -------------------------
# ``LocalPauli(n).sample(psi, M, rng)`` measures each of ``M`` copies in a uniformly random
# Pauli basis per qubit and returns the observed outcomes with their counts. The estimator
# reads the data through the multinomial likelihood (the default for product measurements).
lattice, bond, copies = (2, 2), 2, 20_000
n = lattice[0] * lattice[1]
truths = {
    "random PEPS, D = 2": peps.random_peps(*lattice, bond_dim=bond, rng=0),
    "cluster state": peps.cluster_peps(*lattice),
}

fig, ax = plt.subplots(figsize=(6, 4))
for name, truth in truths.items():
    psi = truth.to_dense().reshape(-1)
    psi = psi / torch.linalg.vector_norm(psi)
    outcomes = q.LocalPauli(n).sample(psi, copies, rng=1)

    # %%
    # The fit: ``truth=`` records the Frobenius error ||rho_t - rho*||_F at every iterate.
    fit = peps.estimate_peps(outcomes, lattice, bond, rng=2, truth=truth)
    result = fit.result
    error = peps.frobenius_error(result.point, truth)
    # The estimate is rho = phi phi^H / <phi|phi> with phi a PEPS (``result.point.psi``):
    # its fidelity with the truth is |<psi|phi>|^2 for unit vectors.
    phi = result.point.psi.to_dense().reshape(-1)
    fidelity = q.fidelity(psi, phi / torch.linalg.vector_norm(phi))

    # %%
    # The raw classical shadow (the unbiased linear-inversion estimate) of the same data.
    shadow = q.classical_shadow(outcomes)
    shadow_error = q.frobenius_error(shadow, psi)
    print(
        f"{name}: {result.iterations} iterations ({result.stop_reason}), "
        f"Frobenius error {error:.3f} (shadow {shadow_error:.3f}), fidelity {fidelity:.4f}"
    )
    ax.semilogy(result.trace.series("frobenius"), label=f"{name} (shadow: {shadow_error:.2f})")

ax.set_xlabel("iteration")
ax.set_ylabel("||rho_t - rho*||_F")
ax.set_title(f"PEPS fit, 2 x 2, {copies} random-Pauli copies")
ax.legend()
plt.tight_layout()
plt.show()
