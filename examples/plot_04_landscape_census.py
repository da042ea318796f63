"""
A landscape census of your own objective
========================================

:mod:`tensorrec.landscape` works on any :class:`tensorrec.Problem`: a cost written by the
user on one of the library's manifolds. This example takes the quartic
``f(x) = sum_i x_i^4`` on the unit sphere in R^3, whose critical points are known -- 8
minima ``(+-1, +-1, +-1) / sqrt(3)`` (f = 1/3), 12 saddles ``(+-1, +-1, 0) / sqrt(2)``
(f = 1/2) and 6 maxima ``+-e_i`` (f = 1) -- and finds and classifies them all with
:func:`~tensorrec.landscape.find_critical_points`: Riemannian Newton (which converges to
critical points of every index), descent and ascent from random starts, each end classified
by the eigenvalues of the Riemannian Hessian (:func:`~tensorrec.landscape.classify`), and
:meth:`~tensorrec.landscape.SearchResult.coverage` estimating how many points were missed.
"""

import collections

import matplotlib.pyplot as plt
import numpy as np
import torch

import tensorrec as tr
from tensorrec.landscape import find_critical_points
from tensorrec.manifolds import Sphere

tr.pin_threads(1)

# %%
# The objective
# -------------
# A callable cost and, optionally, its Euclidean gradient (autograd supplies whatever is
# missing, here the Hessian-vector products Newton needs).
problem = tr.Problem(Sphere(3), lambda x: (x**4).sum(), egrad=lambda x: 4 * x**3)

# %%
# The census
# ----------
# 120 random starts, a third each for Newton, descent and ascent, until the Riemannian
# gradient norm is below 1e-10. Newton alone is strongly attracted to some critical sets;
# the mix reaches every kind.
search = find_critical_points(problem, n_starts=120, method=("newton", "descent", "ascent"), rng=0)
print(f"{len(search.points)} starts converged, {search.unconverged} did not")
by_kind = collections.Counter(p.kind for p in search.points)
for kind in ("minimum", "strict_saddle", "maximum"):
    cov = search.coverage(kind=kind)
    values = sorted({round(p.value, 8) for p in search.points if p.kind == kind})
    print(
        f"{kind:14s}: reached {by_kind[kind]:3d} times, {cov.found:2d} distinct points at f = {values}, "
        f"Chao1 estimate of the total {cov.estimated_total:.1f}"
    )
index = {p.kind: p.index for p in search.points}
print("Morse index per kind:", index)

# %%
# The saddles are the rarest ends (Newton reaches them, descent and ascent never do), so
# many were reached only once and the Chao1 estimate says more may be missing. Here the
# topology settles it: the Euler characteristic of the sphere is 2 = #minima - #saddles +
# #maxima, so no critical point is missing.
found = {kind: search.coverage(kind=kind).found for kind in ("minimum", "strict_saddle", "maximum")}
print("minima - saddles + maxima =", found["minimum"] - found["strict_saddle"] + found["maximum"])

# %%
# A picture
# ---------
# The cost on a latitude-longitude grid, with the critical points found.
theta, phi = np.meshgrid(np.linspace(0, np.pi, 121), np.linspace(-np.pi, np.pi, 241), indexing="ij")
xyz = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)])
fig, ax = plt.subplots(figsize=(7, 3.8))
ax.contourf(phi, theta, (xyz**4).sum(axis=0), levels=30, cmap="viridis")
markers = {"minimum": ("o", "white"), "strict_saddle": ("x", "red"), "maximum": ("^", "orange")}
for kind, (marker, color) in markers.items():
    pts = torch.stack([torch.as_tensor(p.point) for p in search.points if p.kind == kind]).numpy()
    ax.plot(np.arctan2(pts[:, 1], pts[:, 0]), np.arccos(np.clip(pts[:, 2], -1, 1)), marker, color=color,
            ls="none", label=kind)  # fmt: skip
ax.set_xlabel("longitude phi")
ax.set_ylabel("colatitude theta")
ax.invert_yaxis()
ax.set_title("sum x_i^4 on the sphere and its critical points")
ax.legend(loc="upper right", fontsize=8)
plt.tight_layout()
plt.show()
