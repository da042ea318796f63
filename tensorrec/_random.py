"""Layer 0: explicit randomness.

Every function that draws takes ``rng``: a seed (int), a ``numpy.random.Generator``, a
``numpy.random.SeedSequence`` or None (fresh OS entropy). It is converted once with
:func:`as_generator`. Independent trials use :func:`spawn`. Draws are made with numpy and
moved to the target device, so the same seed gives the same numbers on CPU and GPU.
The library never seeds a global generator.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

from tensorrec._backend import describe, is_complex_dtype, real_dtype

RngLike = int | np.random.Generator | np.random.SeedSequence | None


def as_generator(rng: RngLike) -> np.random.Generator:
    """Convert a seed / SeedSequence / Generator / None into a ``numpy.random.Generator``.

    A Generator is returned as is (drawing from it advances the caller's stream).
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"rng: expected a non-negative integer seed, got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(
        "rng: expected an int seed, a numpy.random.Generator, a numpy.random.SeedSequence "
        f"or None, got {describe(rng)}"
    )


def spawn(rng: RngLike, n: int) -> list[np.random.Generator]:
    """``n`` statistically independent generators derived from ``rng``.

    For an int seed this is ``SeedSequence(seed).spawn(n)``, so trial ``k`` of a sweep can be
    re-run alone with the same stream.
    """
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"rng: expected a non-negative integer seed, got {rng}")
        return [np.random.default_rng(s) for s in np.random.SeedSequence(int(rng)).spawn(n)]
    return list(as_generator(rng).spawn(n))


def torch_generator(rng: RngLike, device: torch.device | str = "cpu") -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded from ``rng`` (one 63-bit draw)."""
    gen = torch.Generator(device=device)
    gen.manual_seed(int(as_generator(rng).integers(2**63 - 1)))
    return gen


def randn(
    rng: RngLike,
    shape: tuple[int, ...],
    *,
    dtype: torch.dtype,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Standard Gaussian tensor; complex dtypes get E|z|^2 = 1 (real and imaginary parts N(0, 1/2))."""
    gen = as_generator(rng)
    if is_complex_dtype(dtype):
        parts = gen.standard_normal((2, *shape)) / np.sqrt(2.0)
        arr = parts[0] + 1j * parts[1]
    else:
        arr = gen.standard_normal(shape)
    out = torch.from_numpy(arr).to(dtype=dtype)
    return out if device is None else out.to(device)


__all__ = ["RngLike", "as_generator", "spawn", "torch_generator", "randn", "real_dtype"]
