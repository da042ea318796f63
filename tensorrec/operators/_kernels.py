"""numba fast paths for CPU inputs. Each kernel has a torch reference in the operator that
uses it, and a parity test. numba is imported lazily; set TENSORREC_DISABLE_NUMBA=1 to turn
every kernel off."""

from __future__ import annotations

import functools

from tensorrec._backend import numba_enabled  # noqa: F401  (the switch every kernel obeys)


@functools.cache
def tt_sample_kernel():
    """Compile (once per process) y[k] = X_1(i_1k) X_2(i_2k) ... X_N(i_Nk).

    The cores come packed as ``slices[n, s]`` = the r_{n-1} x r_n matrix X_n(s), zero-padded to
    a common size, with the bond ranks in ``ranks`` (length N + 1): every slice is one
    contiguous block and no container of arrays is passed to numba."""
    import numba
    import numpy as np

    @numba.njit(cache=False, nogil=True)
    def kernel(slices, ranks, indices, out):
        n_samples, order = indices.shape
        width = slices.shape[2]
        v = np.empty(width, dtype=out.dtype)
        w = np.empty(width, dtype=out.dtype)
        zero = 0.0 * slices[0, 0, 0, 0]  # zero of the kernel's dtype (real or complex)
        for k in range(n_samples):
            v[0] = 1.0
            for n in range(order):
                m = slices[n, indices[k, n]]
                for b in range(ranks[n + 1]):
                    acc = zero
                    for a in range(ranks[n]):
                        acc += v[a] * m[a, b]
                    w[b] = acc
                for b in range(ranks[n + 1]):
                    v[b] = w[b]
            out[k] = v[0]

    return kernel


@functools.cache
def tt_sample_vjp_kernel():
    """Compile (once per process) the factor gradients of Re sum_k conj(r_k) x_k with x_k the
    sampled TT entries (packed slices as in :func:`tt_sample_kernel`; ``grads`` has the same
    layout): for every sample, the suffix products are built right to left, then a
    left-to-right sweep adds r_k conj(prefix) conj(suffix)^T to the sampled slices.
    O(n N r^2) time and O(N r) scratch, never O(n) memory beyond the inputs.

    With ``fused`` the residual is formed on the way, r_k = weight (x_k - y_k) (x_k is the
    first suffix product), and written to ``r``; otherwise ``r`` is the input and ``y``,
    ``weight`` are ignored."""
    import numba
    import numpy as np

    @numba.njit(cache=False, nogil=True)
    def kernel(slices, ranks, indices, r, grads, fused, y, weight):
        n_samples, order = indices.shape
        width = slices.shape[2]
        zero = 0.0 * slices[0, 0, 0, 0]  # zero of the kernel's dtype; r may be uninitialized (fused)
        suffix = np.empty((order + 1, width), dtype=r.dtype)
        left = np.empty(width, dtype=r.dtype)
        nxt = np.empty(width, dtype=r.dtype)
        for k in range(n_samples):
            suffix[order, 0] = 1.0
            for n in range(order - 1, -1, -1):
                m = slices[n, indices[k, n]]
                for a in range(ranks[n]):
                    acc = zero
                    for b in range(ranks[n + 1]):
                        acc += m[a, b] * suffix[n + 1, b]
                    suffix[n, a] = acc
            if fused:
                r[k] = weight * (suffix[0, 0] - y[k])
            left[0] = 1.0
            rk = r[k]
            for n in range(order):
                s = indices[k, n]
                m = slices[n, s]
                g = grads[n, s]
                for a in range(ranks[n]):
                    la = rk * np.conj(left[a])
                    for b in range(ranks[n + 1]):
                        g[a, b] += la * np.conj(suffix[n + 1, b])
                for b in range(ranks[n + 1]):
                    acc = zero
                    for a in range(ranks[n]):
                        acc += left[a] * m[a, b]
                    nxt[b] = acc
                for b in range(ranks[n + 1]):
                    left[b] = nxt[b]

    return kernel


# --- small bonds: the same kernels with the bond width unrolled --------------------------------
#
# With bonds of at most SMALL_WIDTH the generic kernels spend most of their time on loop control
# over ranks of 2-4 and on scratch arrays. These variants are generated for one padded width W
# (the packed slices are zero-padded, so a full-width product equals the ranked one) with the
# bond loops written out and the running vectors held in scalars (registers). Same arguments as
# the generic kernels less ``ranks``; same results (parity-tested against the torch references).

SMALL_WIDTH = 4
"""Packed widths up to this use the unrolled kernels (the unrolled code grows as W^2)."""


def _compile(source: str, name: str):
    import numba
    import numpy as np

    namespace = {"np": np}
    exec(compile(source, f"<tensorrec unrolled kernel {name}>", "exec"), namespace)
    return numba.njit(cache=False, nogil=True)(namespace[name])


def _sum(width: int, term) -> str:
    """``term(0) + term(1) + ... + term(width - 1)`` as source text."""
    return " + ".join(term(i) for i in range(width))


def _times_slice(width: int, indent: str, v: str) -> list[str]:
    """Source lines of the row-vector step v <- v s (``v0``, ``v1``, ... in registers)."""
    W = range(width)
    return [
        *(f"{indent}t{b} = " + _sum(width, lambda a, b=b: f"{v}{a} * s[{a}, {b}]") for b in W),
        *(f"{indent}{v}{b} = t{b}" for b in W),
    ]


@functools.cache
def tt_sample_kernel_unrolled(width: int):
    """:func:`tt_sample_kernel` for packed width ``width`` (``kernel(slices, indices, out)``)."""
    W = range(width)
    lines = [
        "def kernel(slices, indices, out):",
        "    n_samples, order = indices.shape",
        "    for k in range(n_samples):",
        "        s = slices[0, indices[k, 0]]",
        *(f"        v{b} = s[0, {b}]" for b in W),
        "        for n in range(1, order):",
        "            s = slices[n, indices[k, n]]",
        *_times_slice(width, "            ", "v"),
        "        out[k] = v0",
    ]
    return _compile("\n".join(lines) + "\n", "kernel")


@functools.cache
def tt_sample_vjp_kernel_unrolled(width: int):
    """:func:`tt_sample_vjp_kernel` for packed width ``width``
    (``kernel(slices, indices, r, grads, fused, y, weight)``)."""
    W = range(width)
    lines = [
        "def kernel(slices, indices, r, grads, fused, y, weight):",
        "    n_samples, order = indices.shape",
        f"    suffix = np.zeros((order + 1, {width}), dtype=r.dtype)",
        "    for k in range(n_samples):",
        "        suffix[order, 0] = 1.0",
        "        for n in range(order - 1, -1, -1):",
        "            s = slices[n, indices[k, n]]",
        *(f"            u{b} = suffix[n + 1, {b}]" for b in W),
        *(f"            suffix[n, {a}] = " + _sum(width, lambda b, a=a: f"s[{a}, {b}] * u{b}") for a in W),
        "        if fused:",
        "            r[k] = weight * (suffix[0, 0] - y[k])",
        "        rk = r[k]",
        "        s = slices[0, indices[k, 0]]",
        "        g = grads[0, indices[k, 0]]",
        *(f"        g[0, {b}] += rk * np.conj(suffix[1, {b}])" for b in W),
        *(f"        l{b} = s[0, {b}]" for b in W),
        "        for n in range(1, order):",
        "            s = slices[n, indices[k, n]]",
        "            g = grads[n, indices[k, n]]",
        *(f"            u{b} = np.conj(suffix[n + 1, {b}])" for b in W),
        *(f"            c{a} = rk * np.conj(l{a})" for a in W),
        *(f"            g[{a}, {b}] += c{a} * u{b}" for a in W for b in W),
        *_times_slice(width, "            ", "l"),
    ]
    return _compile("\n".join(lines) + "\n", "kernel")


@functools.cache
def dense_normal_kernel():
    """Compile (once per process) r = weight (A x - y) and g = A^T r for a dense row-major A
    (float32 or float64), reading A from memory once: four rows at a time, their dot products
    with x and then their contribution r_k a_k to g, while the four rows are still in the
    core's cache (a BLAS gemv followed by a transposed gemv reads A twice; row blocks of a
    few MB reused from the last-level cache were no faster on one core, benchmark B1)."""
    import numba

    @numba.njit(cache=False, nogil=True, fastmath={"reassoc", "contract", "arcp"})
    def kernel(a, x, y, weight, r, g):
        m, d = a.shape
        zero = 0.0 * a[0, 0] if m > 0 else 0.0
        for i in range(d):
            g[i] = zero
        k = 0
        while k + 4 <= m:
            a0, a1, a2, a3 = a[k], a[k + 1], a[k + 2], a[k + 3]
            s0 = s1 = s2 = s3 = zero
            for i in range(d):
                xi = x[i]
                s0 += a0[i] * xi
                s1 += a1[i] * xi
                s2 += a2[i] * xi
                s3 += a3[i] * xi
            r0 = weight * (s0 - y[k])
            r1 = weight * (s1 - y[k + 1])
            r2 = weight * (s2 - y[k + 2])
            r3 = weight * (s3 - y[k + 3])
            r[k], r[k + 1], r[k + 2], r[k + 3] = r0, r1, r2, r3
            for i in range(d):
                g[i] += r0 * a0[i] + r1 * a1[i] + r2 * a2[i] + r3 * a3[i]
            k += 4
        while k < m:
            a0 = a[k]
            s0 = zero
            for i in range(d):
                s0 += a0[i] * x[i]
            r0 = weight * (s0 - y[k])
            r[k] = r0
            for i in range(d):
                g[i] += r0 * a0[i]
            k += 1

    return kernel
