"""Layer 0: pinning BLAS / OpenMP / numba / torch threads.

On small and medium linear algebra, multi-threaded BLAS on a 2-core virtual machine is
100-1000x slower than one thread (a 729 x 81 QR: 3 ms with one thread, 2 s with two).
Call :func:`pin_threads` at the top of a script, and record :func:`thread_settings` with
every timing.
"""

from __future__ import annotations

import os
import sys

import torch

from tensorrec._backend import check_positive_int

THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)

_limiter = None  # keeps the threadpoolctl limits alive


def pin_threads(n: int = 1) -> dict:
    """Limit every thread pool of this process to ``n`` threads and return the settings.

    Sets the environment variables (inherited by subprocesses; BLAS libraries loaded later
    read them), limits the already loaded BLAS/OpenMP pools through threadpoolctl, calls
    ``torch.set_num_threads(n)``, and ``numba.set_num_threads`` when numba is loaded.

    Examples
    --------
    >>> import tensorrec
    >>> tensorrec.pin_threads(1)["torch"]
    1
    """
    global _limiter
    n = check_positive_int("n", n)
    from threadpoolctl import threadpool_limits

    for var in THREAD_ENV_VARS:
        os.environ[var] = str(n)
    _limiter = threadpool_limits(limits=n)
    torch.set_num_threads(n)
    numba = sys.modules.get("numba")
    if numba is not None:
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    return thread_settings()


def thread_settings() -> dict:
    """The thread settings in force: env variables, torch threads and each BLAS/OpenMP pool."""
    from threadpoolctl import threadpool_info

    pools = [
        {k: info.get(k) for k in ("user_api", "internal_api", "version", "num_threads", "prefix")}
        for info in threadpool_info()
    ]
    return {
        "env": {var: os.environ.get(var) for var in THREAD_ENV_VARS},
        "torch": torch.get_num_threads(),
        "pools": pools,
    }
