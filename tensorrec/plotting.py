"""Figures (matplotlib, Agg-safe). Experiments call these; nothing in the core imports them."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def new_figure(ncols: int = 1, *, width: float = 4.5, height: float = 3.4):
    """A figure with ``ncols`` axes side by side (constrained layout). Headless machines get
    matplotlib's Agg fallback; the Makefile and CI also set ``MPLBACKEND=Agg``."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), layout="constrained", squeeze=False)
    return fig, list(axes[0])


def save_figure(fig, out_dir: str | Path, stem: str) -> list[Path]:
    """Save ``fig`` as ``stem.png`` (150 dpi) and ``stem.pdf`` in ``out_dir``; close it."""
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.png", out_dir / f"{stem}.pdf"]
    fig.savefig(paths[0], dpi=150)
    fig.savefig(paths[1])
    plt.close(fig)
    return paths


def plot_convergence(
    ax,
    errors: Sequence[float],
    *,
    label: str,
    predicted_rate: float | None = None,
    anchor: int = 0,
    color=None,
):
    """Semilog plot of ``errors`` against the iteration, with the line C q^t of a predicted
    rate q drawn through the point ``anchor`` of the curve."""
    e = np.asarray(errors, dtype=float)
    t = np.arange(len(e))
    (line,) = ax.semilogy(t, e, label=label, color=color)
    if predicted_rate is not None:
        ref = e[anchor] * predicted_rate ** (t - anchor)
        ax.semilogy(
            t, ref, "--", color=line.get_color(), alpha=0.6, label=f"predicted q = {predicted_rate:.3f}"
        )
    ax.set_xlabel("iteration t")
    ax.grid(True, which="major", alpha=0.3)
    return line


def plot_rate_vs_order(results: dict, out_dir, stem: str, title: str) -> list[Path]:
    """Two panels: relative error vs iteration for each order N (first seed), and the fitted
    rate vs N for every seed with the predicted rate. ``results["rows"]`` holds dicts with
    ``order``, ``seed``, ``errors``, ``rate``, ``predicted``."""
    fig, (left, right) = new_figure(2)
    rows = results["rows"]
    for row in rows:
        if row["seed"] == 0:
            left.semilogy(row["errors"], label=f"N = {row['order']}")
    left.set_xlabel("iteration t")
    left.set_ylabel("||X_t - X*|| / ||X*||")
    left.legend(fontsize=7, ncol=2)
    left.grid(True, alpha=0.3)
    orders = sorted({row["order"] for row in rows})
    right.plot(
        [r["order"] for r in rows], [r["rate"] for r in rows], "o", alpha=0.6, label="fitted (per seed)"
    )
    right.plot(orders, [rows[0]["predicted"]] * len(orders), "--", label="1 - mu sigma_min^2 / ||X*||^2")
    right.set_xlabel("order N")
    right.set_ylabel("rate per iteration")
    right.set_ylim(0.8, 1.0)
    right.legend(fontsize=7)
    right.grid(True, alpha=0.3)
    fig.suptitle(title)
    return save_figure(fig, out_dir, stem)


def plot_error_band(ax, series: Sequence[Sequence[float]], *, label: str, color=None):
    """Median over runs of an error series against the iteration, with the min-max band
    (runs that stopped early are padded with NaN and drop out of the statistics)."""
    length = max(len(s) for s in series)
    e = np.full((len(series), length), np.nan)
    for k, s in enumerate(series):
        e[k, : len(s)] = s
    t = np.arange(length)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns after every run stopped
        lo, mid, hi = np.nanmin(e, axis=0), np.nanmedian(e, axis=0), np.nanmax(e, axis=0)
    (line,) = ax.semilogy(t, mid, label=f"{label} (median of {len(series)})", color=color)
    ax.fill_between(t, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel("iteration t")
    ax.grid(True, which="major", alpha=0.3)
    return line


def plot_order_of_convergence(series: dict[str, Sequence[Sequence[float]]], out_dir, stem: str, title: str):
    """Two panels: the error against the iteration (median and band of each labelled group of
    runs), and e_{t+1} against e_t on log-log axes with the lines of order 1 and 2 through the
    origin of the log scale (quadratic convergence follows slope 2)."""
    fig, (left, right) = new_figure(2)
    for label, runs in series.items():
        line = plot_error_band(left, runs, label=label)
        pairs = np.array(
            [(a, b) for run in runs for a, b in zip(run[:-1], run[1:], strict=True) if a > 0 and b > 0]
        )
        if len(pairs):
            right.loglog(pairs[:, 0], pairs[:, 1], "o", ms=3, alpha=0.5, color=line.get_color(), label=label)
    left.set_ylabel("||X_t - X*|| / ||X*||")
    left.legend(fontsize=7)
    grid = np.logspace(-16, 0, 50)
    right.loglog(grid, grid, ":", color="gray", label="order 1 (e_t+1 = e_t)")
    right.loglog(grid, grid**2, "--", color="gray", label="order 2 (e_t+1 = e_t^2)")
    right.set_ylim(1e-17, 1.0)
    right.set_xlabel("e_t")
    right.set_ylabel("e_t+1")
    right.legend(fontsize=7)
    right.grid(True, alpha=0.3)
    fig.suptitle(title)
    return save_figure(fig, out_dir, stem)


def plot_same_estimate(runs: Sequence[dict], out_dir, stem: str, title: str):
    """Two panels for two methods on the same noisy instances: the gradient norm relative to
    its start against the iteration (median and band per ``label``), and the final squared
    error of method b against method a per run, relative to the noise floor, with y = x.
    ``runs`` hold ``label``, ``grads_a``, ``grads_b``, ``error_a``, ``error_b``, ``floor``
    and the method names ``a`` and ``b``."""
    fig, (left, right) = new_figure(2)
    groups: dict[str, list] = {}
    for r in runs:
        for key in ("a", "b"):
            g = np.asarray(r[f"grads_{key}"], dtype=float)
            groups.setdefault(f"{r['label']} {r[key]}", []).append(g / g[0])
    for label, series in groups.items():
        plot_error_band(left, series, label=label)
    left.set_ylabel("||grad f|| / ||grad f(x_0)||")
    left.legend(fontsize=7)
    labels = sorted({r["label"] for r in runs})
    for label in labels:
        cell = [r for r in runs if r["label"] == label]
        a, b = ([r[f"error_{k}"] / r["floor"] for r in cell] for k in ("a", "b"))
        right.loglog(a, b, "o", ms=4, alpha=0.6, label=label)
    lo, hi = right.get_xlim()
    right.loglog([lo, hi], [lo, hi], "--", color="gray", label="y = x")
    right.set_xlabel(f"{runs[0]['a']}: ||X - X*||^2 / floor")
    right.set_ylabel(f"{runs[0]['b']}: ||X - X*||^2 / floor")
    right.legend(fontsize=7)
    right.grid(True, alpha=0.3)
    fig.suptitle(title)
    return save_figure(fig, out_dir, stem)


def plot_sweep_curves(rows: Sequence[dict], group: str, panel: str, out_dir, stem: str, title: str):
    """One panel per value of ``row[panel]``; in each, the error band (:func:`plot_error_band`)
    of every value of ``row[group]``. Rows hold ``errors``."""
    panels = sorted({r[panel] for r in rows}, key=str)
    fig, axes = new_figure(len(panels))
    for ax, p in zip(axes, panels, strict=True):
        sub = [r for r in rows if r[panel] == p]
        for g in sorted({r[group] for r in sub}):
            plot_error_band(ax, [r["errors"] for r in sub if r[group] == g], label=f"{group} = {g}")
        ax.set_title(f"{panel} = {p}", fontsize=9)
        ax.set_ylabel("||X_t - X*|| / ||X*||")
        ax.legend(fontsize=7)
    fig.suptitle(title)
    return save_figure(fig, out_dir, stem)


def plot_observed_vs_predicted(rows: Sequence[dict], group, out_dir, stem: str, title: str):
    """Observed ``asymptotic_rate`` against ``predicted`` for every row, one marker per value of
    ``group(row)``, with the line y = x."""
    fig, (ax,) = new_figure(1, width=4.8, height=4.2)
    labels = sorted({group(r) for r in rows})
    for label, marker in zip(labels, "osD^v<>", strict=False):
        sub = [r for r in rows if group(r) == label]
        ax.plot(
            [r["predicted"] for r in sub], [r["asymptotic_rate"] for r in sub], marker, alpha=0.7, label=label
        )
    lo = min(min(r["predicted"], r["asymptotic_rate"]) for r in rows) - 0.01
    ax.plot([lo, 1], [lo, 1], "k--", lw=0.8, label="observed = predicted")
    ax.set_xlabel("predicted 1 - mu sigma_min^2 / scale")
    ax.set_ylabel("observed asymptotic rate")
    ax.legend(fontsize=7)
    ax.grid(True, alpha=0.3)
    fig.suptitle(title)
    return save_figure(fig, out_dir, stem)


def plot_success_rates(panels: dict[str, Sequence[dict]], out_dir, stem: str, title: str):
    """Success fraction against m/p, one line per order N, one panel per entry of ``panels``
    (rows with ``order``, ``ratio`` and boolean ``success``)."""
    fig, axes = new_figure(len(panels))
    for ax, (name, rows) in zip(axes, panels.items(), strict=True):
        for order in sorted({r["order"] for r in rows}):
            sub = [r for r in rows if r["order"] == order]
            ratios = sorted({r["ratio"] for r in sub})
            frac = [np.mean([r["success"] for r in sub if r["ratio"] == c]) for c in ratios]
            ax.plot(ratios, frac, "o-", label=f"N = {order} (p = {sub[0]['p']})")
        ax.set_xlabel("m / p")
        ax.set_ylabel("success fraction")
        ax.set_ylim(-0.05, 1.05)
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(True, alpha=0.3)
    fig.suptitle(title)
    return save_figure(fig, out_dir, stem)


def plot_noise_floor(
    panels: dict[str, Sequence[dict]],
    out_dir,
    stem: str,
    title: str,
    *,
    prediction: str = "gamma^2 p m/(m-p)",
):
    """Mean final ||X - X*||^2 against gamma (log-log) for every m, with the predicted floor
    (``row["predicted"]``, named ``prediction`` in the legend) dashed; one panel per entry of
    ``panels``."""
    fig, axes = new_figure(len(panels))
    for ax, (name, rows) in zip(axes, panels.items(), strict=True):
        for m in sorted({r["m"] for r in rows}):
            sub = [r for r in rows if r["m"] == m]
            gammas = sorted({r["gamma"] for r in sub})
            mean = [np.mean([r["final_sq_error"] for r in sub if r["gamma"] == g]) for g in gammas]
            pred = [next(r["predicted"] for r in sub if r["gamma"] == g) for g in gammas]
            (line,) = ax.loglog(gammas, mean, "o-", label=f"m = {m} (mean of {len(sub) // len(gammas)})")
            ax.loglog(gammas, pred, "--", color=line.get_color(), alpha=0.7, label=f"m = {m}: {prediction}")
        ax.set_xlabel("noise level gamma")
        ax.set_ylabel("final ||X - X*||^2")
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(title)
    return save_figure(fig, out_dir, stem)


KIND_MARKERS = {"minimum": "o", "strict_saddle": "^", "maximum": "s", "degenerate": "x"}


def landscape_map(
    ax,
    s,
    t,
    values,
    points=(),
    *,
    title: str = "",
    xlabel: str = "t (second factor angle)",
    ylabel: str = "s (first factor angle)",
):
    """Heat map of ``values[i, j]`` at (s[i], t[j]) with critical points ``(s, t, kind)`` marked:
    minimum (circle), strict saddle (triangle), maximum (square), degenerate (cross)."""
    mesh = ax.pcolormesh(t, s, values, shading="auto", cmap="viridis")
    ax.figure.colorbar(mesh, ax=ax, shrink=0.8)
    seen = set()
    for ps, pt, kind in points:
        label = None if kind in seen else kind
        seen.add(kind)
        ax.plot(
            pt, ps, KIND_MARKERS.get(kind, "*"), color="white", markeredgecolor="black", ms=6, label=label
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    if points:
        ax.legend(fontsize=6, loc="upper right")
    return mesh


def _error_against_copies(ax, rows, group, label, key: str) -> None:
    """Mean ``row[key]`` against M (log-log) per ``group(row)``, with slope -1 dotted."""
    for g in sorted({group(r) for r in rows}):
        sub = [r for r in rows if group(r) == g]
        ms = sorted({r["M"] for r in sub})
        mean = [np.mean([r[key] for r in sub if r["M"] == m]) for m in ms]
        (line,) = ax.loglog(ms, mean, "o-", label=label(g))
        ax.loglog(ms, [mean[0] * ms[0] / m for m in ms], ":", color=line.get_color(), alpha=0.6)
    ax.set_xlabel("copies M")
    ax.set_ylabel("E ||rho-hat - rho*||_F^2")
    ax.set_title("error against copies (dotted: slope -1)", fontsize=9)
    ax.legend(fontsize=6)


def _normalised_against_n(ax, rows, series, label, estimate, raw) -> None:
    """Mean ``estimate(row)`` (solid) and ``raw(row)`` (dashed) against n, one line per
    ``series(row)``."""
    for g in sorted({series(r) for r in rows}):
        sub = [r for r in rows if series(r) == g]
        ns = sorted({r["n"] for r in sub})
        (line,) = ax.semilogy(ns, [np.mean([estimate(r) for r in sub if r["n"] == n]) for n in ns], "o-",
                              label=label(g))  # fmt: skip
        ax.semilogy(ns, [np.mean([raw(r) for r in sub if r["n"] == n]) for n in ns], "x--",
                    color=line.get_color(), alpha=0.5)  # fmt: skip
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("qubits n")
    ax.set_title("normalised error (dashed: raw shadow)", fontsize=9)
    ax.legend(fontsize=6)


def plot_tomography_scaling(rows: Sequence[dict], out_dir, stem: str, title: str) -> list[Path]:
    """Left: mean ||rho-hat - rho*||_F^2 against M (log-log) for every (n, D), with the slope -1
    of err ~ M^(-1/2). Right: M E err^2 / p against n at every M for the MPO estimate, and
    M E err^2 / p of the raw shadow (exponential in n) for comparison."""
    fig, (left, right) = new_figure(2, width=5.0)
    _error_against_copies(
        left, rows, lambda r: (r["n"], r["D"]), lambda g: f"n = {g[0]}, D = {g[1]}", "error2"
    )
    _normalised_against_n(
        right, rows, lambda r: (r["D"], r["M"]), lambda g: f"MPO, D = {g[0]}, M = {g[1]}",
        lambda r: r["M"] * r["error2"] / r["p"], lambda r: r["M"] * r["raw_error2"] / r["p"],
    )  # fmt: skip
    right.set_ylabel("M E err^2 / p")
    for ax in (left, right):
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(title)
    return save_figure(fig, out_dir, stem)


def plot_peps_copies(
    rows: Sequence[dict], out_dir, stem: str, title: str, start: str = "truth"
) -> list[Path]:
    """Left: mean ||rho-hat - rho*||_F^2 against M (log-log) for every (lattice, state), slope -1
    dotted. Right: M E err^2 normalised by the first-order value 2 p_eff (N + 1) / (N + 2)
    against n at every M (1 = the theory), and the raw shadow's normalised error (dashed)."""
    fig, (left, right) = new_figure(2, width=5.0)
    key = f"error2_{start}"
    _error_against_copies(left, rows, lambda r: (r["rows"], r["cols"], r["state"]),
                          lambda g: f"{g[0]} x {g[1]}, {g[2]}", key)  # fmt: skip
    _normalised_against_n(
        right, rows, lambda r: (r["state"], r["M"]), lambda g: f"PEPS, {g[0]}, M = {g[1]}",
        lambda r: r[key] / r["predicted"], lambda r: r["raw_error2"] / r["predicted"],
    )  # fmt: skip
    right.axhline(1.0, color="k", lw=0.8)
    right.set_ylabel("M E err^2 / (2 p_eff (N+1)/(N+2))")
    for ax in (left, right):
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(title)
    return save_figure(fig, out_dir, stem)


def plot_haar_settings(rows: Sequence[dict], out_dir, stem: str, title: str) -> list[Path]:
    """Mean M Q err^2 / (2 p_eff (N + 1)/(N + 2)) against the number of bases Q at a fixed
    budget Q M, one line per lattice (1 = the Haar-uniform POVM's law)."""
    fig, (ax,) = new_figure(1, width=5.5)
    for a, b in sorted({(r["rows"], r["cols"]) for r in rows}):
        sub = [r for r in rows if (r["rows"], r["cols"]) == (a, b)]
        qs = sorted({r["Q"] for r in sub})
        mean = [np.mean([r["error2"] / r["predicted"] for r in sub if r["Q"] == q]) for q in qs]
        ax.loglog(qs, mean, "o-", label=f"{a} x {b} (N = {2 ** (a * b)})")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xlabel("bases Q (Q M fixed)")
    ax.set_ylabel("M Q E err^2 / (2 p_eff (N+1)/(N+2))")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.suptitle(title)
    return save_figure(fig, out_dir, stem)


def plot_frontier(rows: Sequence[dict], x: str, y: str, method: str, panel: str, out_dir, stem: str,
                  title: str) -> list[Path]:  # fmt: skip
    """One panel per value of ``row[panel]``; in each, one line per ``method`` of the mean
    ``y`` against the mean ``x`` over rows of the same setting (``setting``), sorted by x
    (e.g. NMSE against L0: a reconstruction frontier)."""
    panels = sorted({r[panel] for r in rows}, key=str)
    fig, axes = new_figure(len(panels))
    for ax, p in zip(axes, panels, strict=True):
        sub = [r for r in rows if r[panel] == p]
        for m in sorted({r[method] for r in sub}):
            settings = sorted({r["setting"] for r in sub if r[method] == m}, key=str)
            points = sorted(
                (np.mean([r[x] for r in sub if r[method] == m and r["setting"] == s]),
                 np.mean([r[y] for r in sub if r[method] == m and r["setting"] == s]))
                for s in settings
            )  # fmt: skip
            ax.plot(*zip(*points, strict=True), marker="o", label=m)
        ax.set_xscale("log")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(f"{panel} = {p}", fontsize=9)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    return save_figure(fig, out_dir, stem)


def plot_method_bars(
    rows: Sequence[dict], metrics: Sequence[str], group: str, method: str, out_dir, stem: str, title: str
) -> list[Path]:
    """One panel per metric: the mean (and the spread over rows, as error bars) of every
    ``method`` value in every ``group`` value (e.g. activation within width P)."""
    fig, axes = new_figure(len(metrics), width=3.6)
    groups = sorted({r[group] for r in rows})
    methods = sorted({r[method] for r in rows})
    width = 0.8 / len(methods)
    for ax, metric in zip(axes, metrics, strict=True):
        for i, m in enumerate(methods):
            values = [[r[metric] for r in rows if r[group] == g and r[method] == m] for g in groups]
            means = [np.mean(v) if v else np.nan for v in values]  # a method absent from a group: no bar
            spread = [np.std(v) if v else np.nan for v in values]
            ax.bar(np.arange(len(groups)) + i * width, means, width, yerr=spread, label=m, capsize=3)
        ax.set_xticks(
            np.arange(len(groups)) + width * (len(methods) - 1) / 2, [f"{group} = {g}" for g in groups]
        )
        ax.set_title(metric, fontsize=9)
        ax.grid(True, axis="y", alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(title)
    return save_figure(fig, out_dir, stem)
