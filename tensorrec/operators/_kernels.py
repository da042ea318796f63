"""numba fast paths for CPU inputs. Each kernel has a torch reference in the operator that
uses it, and a parity test. numba is imported lazily; set TENSORREC_DISABLE_NUMBA=1 to turn
every kernel off."""

from __future__ import annotations

import functools
import os


def numba_enabled() -> bool:
    """True unless TENSORREC_DISABLE_NUMBA is set to a non-empty value other than 0."""
    return os.environ.get("TENSORREC_DISABLE_NUMBA", "0") in ("", "0")


@functools.cache
def tt_sample_kernel():
    """Compile (once per process) y[k] = X_1[0, i_1k, :] X_2[:, i_2k, :] ... X_N[:, i_Nk, 0]."""
    import numba
    import numpy as np

    @numba.njit(cache=False, nogil=True)
    def kernel(cores, indices, out):
        n_samples, order = indices.shape
        width = 1
        for c in cores:
            width = max(width, c.shape[2])
        v = np.empty(width, dtype=out.dtype)
        w = np.empty(width, dtype=out.dtype)
        for k in range(n_samples):
            first = cores[0]
            r = first.shape[2]
            for b in range(r):
                v[b] = first[0, indices[k, 0], b]
            for n in range(1, order):
                core = cores[n]
                s = indices[k, n]
                r_next = core.shape[2]
                for b in range(r_next):
                    acc = 0.0 * v[0]  # zero of the kernel's dtype (real or complex)
                    for a in range(r):
                        acc += v[a] * core[a, s, b]
                    w[b] = acc
                for b in range(r_next):
                    v[b] = w[b]
                r = r_next
            out[k] = v[0]

    return kernel
