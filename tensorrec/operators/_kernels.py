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


@functools.cache
def tt_interfaces_kernel():
    """Compile (once per process) the interface products of sampled TT entries: for every
    sample k, ``left[k, n]`` = X_1(i_1k) ... X_n(i_nk) (a row of width r_n; ``left[k, 0]`` = 1)
    and ``right[k, n]`` = X_{n+1}(i_{n+1,k}) ... X_N(i_Nk) (a column of height r_n;
    ``right[k, N]`` = 1). Packed slices as in :func:`tt_sample_kernel`. O(n N r^2) once; then
    every differential J u and its adjoint J^* r costs O(n N r^2) with no product of cores
    (:func:`tt_linear_jvp_kernel`, :func:`tt_linear_vjp_kernel`)."""
    import numba

    @numba.njit(cache=False, nogil=True)
    def kernel(slices, ranks, indices, left, right):
        n_samples, order = indices.shape
        zero = 0.0 * slices[0, 0, 0, 0]
        for k in range(n_samples):
            left[k, 0, 0] = 1.0
            for n in range(order):
                m = slices[n, indices[k, n]]
                for b in range(ranks[n + 1]):
                    acc = zero
                    for a in range(ranks[n]):
                        acc += left[k, n, a] * m[a, b]
                    left[k, n + 1, b] = acc
            right[k, order, 0] = 1.0
            for n in range(order - 1, -1, -1):
                m = slices[n, indices[k, n]]
                for a in range(ranks[n]):
                    acc = zero
                    for b in range(ranks[n + 1]):
                        acc += m[a, b] * right[k, n + 1, b]
                    right[k, n, a] = acc

    return kernel


@functools.cache
def tt_linear_jvp_kernel():
    """Compile (once per process) the differential of the sampled entries in the direction of
    the core perturbations ``du`` (packed like the slices): out[k] = sum_n left[k, n]
    dX_n(i_nk) right[k, n + 1], from the interfaces of :func:`tt_interfaces_kernel`."""
    import numba

    @numba.njit(cache=False, nogil=True)
    def kernel(du, ranks, indices, left, right, out):
        n_samples, order = indices.shape
        zero = 0.0 * du[0, 0, 0, 0]
        for k in range(n_samples):
            total = zero
            for n in range(order):
                m = du[n, indices[k, n]]
                for a in range(ranks[n]):
                    acc = zero
                    for b in range(ranks[n + 1]):
                        acc += m[a, b] * right[k, n + 1, b]
                    total += left[k, n, a] * acc
            out[k] = total

    return kernel


@functools.cache
def tt_linear_vjp_kernel():
    """Compile (once per process) the adjoint of :func:`tt_linear_jvp_kernel`: the core
    gradients of Re sum_k conj(r_k) (J du)_k, grads[n, i_nk] += r_k conj(left[k, n])^T
    conj(right[k, n + 1])^T (the same conjugation as :func:`tt_sample_vjp_kernel`)."""
    import numba
    import numpy as np

    @numba.njit(cache=False, nogil=True)
    def kernel(ranks, indices, left, right, r, grads):
        n_samples, order = indices.shape
        for k in range(n_samples):
            rk = r[k]
            for n in range(order):
                g = grads[n, indices[k, n]]
                for a in range(ranks[n]):
                    la = rk * np.conj(left[k, n, a])
                    for b in range(ranks[n + 1]):
                        g[a, b] += la * np.conj(right[k, n + 1, b])

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


def _slice_times(width: int, indent: str, v: str) -> list[str]:
    """Source lines of the column-vector step v <- s v (``v0``, ``v1``, ... in registers)."""
    W = range(width)
    return [
        *(f"{indent}t{a} = " + _sum(width, lambda b, a=a: f"s[{a}, {b}] * {v}{b}") for a in W),
        *(f"{indent}{v}{a} = t{a}" for a in W),
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
def tt_interfaces_kernel_unrolled(width: int):
    """:func:`tt_interfaces_kernel` for packed width ``width``
    (``kernel(slices, indices, left, right)``; ``left``, ``right`` zero-initialised)."""
    W = range(width)
    lines = [
        "def kernel(slices, indices, left, right):",
        "    n_samples, order = indices.shape",
        "    for k in range(n_samples):",
        "        left[k, 0, 0] = 1.0",
        "        s = slices[0, indices[k, 0]]",
        *(f"        v{b} = s[0, {b}]" for b in W),
        *(f"        left[k, 1, {b}] = v{b}" for b in W),
        "        for n in range(1, order):",
        "            s = slices[n, indices[k, n]]",
        *_times_slice(width, "            ", "v"),
        *(f"            left[k, n + 1, {b}] = v{b}" for b in W),
        "        right[k, order, 0] = 1.0",
        "        s = slices[order - 1, indices[k, order - 1]]",
        *(f"        v{a} = s[{a}, 0]" for a in W),
        *(f"        right[k, order - 1, {a}] = v{a}" for a in W),
        "        for n in range(order - 2, -1, -1):",
        "            s = slices[n, indices[k, n]]",
        *_slice_times(width, "            ", "v"),
        *(f"            right[k, n, {a}] = v{a}" for a in W),
    ]
    return _compile("\n".join(lines) + "\n", "kernel")


def _jvp_site(width: int, indent: str) -> list[str]:
    """Source lines of site n's term left[k, n] dX_n(i_nk) right[k, n + 1] (``m`` the slice of
    dX_n at the sample's index) into ``term``."""
    W = range(width)
    return [
        *(f"{indent}u{b} = right[k, n + 1, {b}]" for b in W),
        f"{indent}term = "
        + " + ".join(
            f"left[k, n, {a}] * (" + _sum(width, lambda b, a=a: f"m[{a}, {b}] * u{b}") + ")" for a in W
        ),
    ]


def _vjp_accumulate(width: int, indent: str) -> list[str]:
    """Source lines adding rk conj(left[k, n]) (x) conj(right[k, n + 1]) to the slice ``g``."""
    W = range(width)
    return [
        *(f"{indent}c{a} = rk * np.conj(left[k, n, {a}])" for a in W),
        *(f"{indent}u{b} = np.conj(right[k, n + 1, {b}])" for b in W),
        *(f"{indent}g[{a}, {b}] += c{a} * u{b}" for a in W for b in W),
    ]


def _jvp_total(width: int) -> list[str]:
    """Source lines summing sample k's (J du)_k over the sites into ``total``."""
    return [
        "        n = 0",
        "        m = du[0, indices[k, 0]]",
        *_jvp_site(width, "        "),
        "        total = term",
        "        for n in range(1, order):",
        "            m = du[n, indices[k, n]]",
        *_jvp_site(width, "            "),
        "            total += term",
    ]


def _vjp_sites(width: int) -> list[str]:
    """Source lines adding sample k's rk conj(left) (x) conj(right) to every site's slice."""
    return [
        "        for n in range(order):",
        "            g = grads[n, indices[k, n]]",
        *_vjp_accumulate(width, "            "),
    ]


@functools.cache
def tt_linear_jvp_kernel_unrolled(width: int):
    """:func:`tt_linear_jvp_kernel` for packed width ``width``
    (``kernel(du, indices, left, right, out)``)."""

    lines = [
        "def kernel(du, indices, left, right, out):",
        "    n_samples, order = indices.shape",
        "    for k in range(n_samples):",
        *_jvp_total(width),
        "        out[k] = total",
    ]
    return _compile("\n".join(lines) + "\n", "kernel")


@functools.cache
def tt_linear_vjp_kernel_unrolled(width: int):
    """:func:`tt_linear_vjp_kernel` for packed width ``width``
    (``kernel(indices, left, right, r, grads)``)."""
    lines = [
        "def kernel(indices, left, right, r, grads):",
        "    n_samples, order = indices.shape",
        "    for k in range(n_samples):",
        "        rk = r[k]",
        *_vjp_sites(width),
    ]
    return _compile("\n".join(lines) + "\n", "kernel")


@functools.cache
def tt_linear_normal_kernel_unrolled(width: int):
    """J^* (alpha J du + beta conj(J du)) in one pass over the samples for packed width
    ``width`` (``kernel(du, indices, left, right, alpha, beta, grads)``, alpha and beta one
    scalar per sample): per sample, (J du)_k as in :func:`tt_linear_jvp_kernel_unrolled`, then
    r_k = alpha_k (J du)_k + beta_k conj((J du)_k) added to the gradients as in
    :func:`tt_linear_vjp_kernel_unrolled`. The interfaces are read once per product instead of
    twice (a Gauss-Newton product with per-sample weights; beta for the chain rule of
    y = |a|^2)."""

    lines = [
        "def kernel(du, indices, left, right, alpha, beta, grads):",
        "    n_samples, order = indices.shape",
        "    for k in range(n_samples):",
        *_jvp_total(width),
        "        rk = alpha[k] * total + beta[k] * np.conj(total)",
        *_vjp_sites(width),
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
