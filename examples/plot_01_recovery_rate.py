"""
Tucker and TT recovery at the predicted linear rate
===================================================

Riemannian gradient descent (RGD) on the canonical factors of a Tucker or tensor-train (TT)
tensor converges linearly near the target, at a rate the theory predicts from the target
alone: ``q = 1 - mu sigma_min^2(X*) / scale`` (claim C4 of the Tucker/TT spec, see
:doc:`/recovery`). This example factorizes a planted tensor from a perturbed start with
:func:`tensorrec.recovery.recover`, fits the rate of the error series with
:meth:`tensorrec.optim.Trace.linear_rate` and compares it with the prediction; then it
recovers the same targets from Gaussian measurements, from the spectral start.
"""

# %%
# Small linear algebra is much faster on one thread on small machines: pin the threads.
import matplotlib.pyplot as plt
import numpy as np
import torch

import tensorrec as tr
from tensorrec.formats import TTTensor, TuckerTensor
from tensorrec.operators import DenseGaussian, Identity
from tensorrec.recovery import recover

tr.pin_threads(1)

# %%
# Planted targets
# ---------------
# Order-4 tensors of side 4 with all ranks 2 and unit norm (Gaussian factors, made canonical
# by the format), drawn again until their condition number kappa (the largest over the
# unfoldings of sigma_max / sigma_min) is at most 3: RGD's rate degrades with kappa.
shape, mu = (4, 4, 4, 4), 0.5
well_conditioned = {"kappa_max": 3.0, "max_tries": 10_000}
targets = {
    "Tucker": TuckerTensor.random(shape, (2, 2, 2, 2), rng=0, condition=well_conditioned),
    "TT": TTTensor.random(shape, (2, 2, 2), rng=1, condition=well_conditioned),
}

# %%
# Factorization: the rate against the formula
# -------------------------------------------
# The measurement map is the identity (y = X*), the start the truncated SVD (HOSVD or TT-SVD,
# the format's ``from_dense``) of X* + 0.3 Z / ||Z||, and the scale ``||X*||^2``. The rate
# is fitted by least squares over the second half of the iterates above 1e-11 (the
# asymptotic regime, as claim C4's check does).
rng = np.random.default_rng(2)
fig, ax = plt.subplots(figsize=(6, 4))
for name, truth in targets.items():
    dense = truth.to_dense()
    noise = torch.from_numpy(rng.standard_normal(shape))
    start = type(truth).from_dense(dense + 0.3 * noise / noise.norm(), truth.ranks)
    A = Identity(shape)
    result = recover(A, A.apply_format(truth), init=start, step=mu, scale="truth", truth=truth)
    errors = result.trace.series("error")
    last = int(np.flatnonzero(errors > 1e-11)[-1])
    fitted = result.trace.linear_rate("error", start=last // 2, floor=1e-11, method="lstsq")
    sigma_min2 = min(float(s[-1]) for s in truth.singular_values()) ** 2
    predicted = 1 - mu * sigma_min2 / truth.norm() ** 2
    print(
        f"{name} factorization: {result.iterations} iterations ({result.stop_reason}); "
        f"rate fitted {fitted:.4f}, predicted {predicted:.4f}"
    )
    ax.semilogy(errors, label=f"{name}: q fitted {fitted:.4f}, predicted {predicted:.4f}")
ax.set_xlabel("iteration t")
ax.set_ylabel("||X_t - X*|| / ||X*||")
ax.set_title("Factorization by RGD (mu = 0.5, scale = ||X*||^2)")
ax.legend()
plt.tight_layout()
plt.show()

# %%
# Sensing from the spectral start
# -------------------------------
# Now y = A(X*) with a dense Gaussian A of ``m`` rows (entries N(0, 1/m)), m four times the
# format's degrees of freedom. :func:`~tensorrec.recovery.recover` starts at the spectral
# estimate (the HOSVD / TT-SVD of A*(y)) and runs RGD; ``method="scaled"`` (scaled gradient
# descent, not slowed by the condition number) is shown beside it. RGD at this m contracts
# more slowly than in factorization and ends at the default budget of 500 iterations (stop
# reason ``"max_iter"``) a little above 1e-11; scaled GD reaches the residual tolerance.
fig, ax = plt.subplots(figsize=(6, 4))
for name, truth in targets.items():
    m = 4 * truth.dof
    A = DenseGaussian(shape, m, rng=3)
    y = A.apply_format(truth)
    for method in ("rgd", "scaled"):
        result = recover(A, y, ranks=truth.ranks, format=type(truth), method=method, truth=truth)
        errors = result.trace.series("error")
        rate = result.trace.linear_rate("error", floor=1e-11)
        print(
            f"{name} sensing, m = {m}, {method}: {result.iterations} iterations ({result.stop_reason}), "
            f"error {errors[-1]:.1e}, rate {rate:.3f}"
        )
        ax.semilogy(errors, label=f"{name}, {method} (rate {rate:.3f})")
ax.set_xlabel("iteration t")
ax.set_ylabel("||X_t - X*|| / ||X*||")
ax.set_title("Gaussian sensing, m = 4 dof, spectral start")
ax.legend()
plt.tight_layout()
plt.show()
