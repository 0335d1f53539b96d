"""C3's figure, drawn from the verdict alone: the masses per position, the premise and the
inequality over training, and where the conclusion stops holding on the data."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from verification.claims._common import pyplot, save_figure
from verification.claims.c3_last_token_mass._words import summary_c3
from verification.rules._verdict import Verdict


def plot_c3(v: Verdict, out: Path) -> list[str]:
    """``c3_last_token_mass.png`` in ``out``, from the verdict ``v`` alone; returns its name."""
    plt = pyplot()
    A = v.arrays
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.6))
    cmap = plt.get_cmap("viridis")
    _masses(axes[0], A, cmap)
    if "steps" in A and "negative_fraction_trajectory" in A:
        _over_training(axes[1], v, cmap)
    if "w_grid" in A and "grid_masses" in A:
        _boundary(axes[2], v)
    else:
        axes[2].set_axis_off()
    fig.suptitle(
        f"C3 ({v.measured.get('decisive_reading', 'neuron/every')}): {summary_c3(v)}",
        fontsize=10,
        wrap=True,
    )
    return [save_figure(fig, out / "c3_last_token_mass.png")]


def _color(cmap, A, wi):
    return cmap(wi / max(1, len(A["widths"]) - 1))


def _masses(ax, A, cmap) -> None:
    """Mean softmax mass per position at T (the negative neurons, all neurons) and at t = 0."""
    d = A["mean_mass_final"].shape[-1]
    pos = np.arange(1, d + 1)
    for wi, m in enumerate(A["widths"]):
        c = _color(cmap, A, wi)
        if np.all(np.isfinite(A["mean_mass_final_negative"][wi])):
            ax.plot(
                pos,
                A["mean_mass_final_negative"][wi],
                "o-",
                color=c,
                label=f"m = {m}, t = T, w_r < 0",
            )
        ax.plot(
            pos,
            A["mean_mass_final"][wi],
            "s--",
            color=c,
            alpha=0.5,
            ms=3,
            label=f"m = {m}, t = T, all",
        )
        if "mean_mass_init" in A:
            ax.plot(pos, A["mean_mass_init"][wi], "x:", color=c, alpha=0.6, label=f"m = {m}, t = 0")
    ax.axhline(1 / d, color="gray", ls=":", lw=1, label="uniform 1/d")
    ax.set_xlabel("position k (k = d is the most recent value)")
    ax.set_ylabel("mean softmax mass")
    ax.set_title("mass per position, all a_r = -1", fontsize=10)
    ax.legend(fontsize=6)


def _over_training(ax, v: Verdict, cmap) -> None:
    """The premise's fraction w_r(t) < 0 and, of those neurons, the inequality's, per record."""
    A = v.arrays
    t = np.maximum(A["steps"], 0.5)  # step 0 drawn at 0.5 on the log axis
    least = "least" if "every" in v.measured.get("decisive_reading", "") else "≤ 1/d"
    for wi, m in enumerate(A["widths"]):
        c = _color(cmap, A, wi)
        ax.plot(
            t,
            A["negative_fraction_trajectory"][wi],
            color=c,
            label=f"fraction w_r < 0, m = {m}",
        )
        if "conclusion_trajectory" in A:
            ax.plot(
                t,
                A["conclusion_trajectory"][wi],
                color=c,
                ls="--",
                label=f"of them, last {least}, m = {m}",
            )
    ax.axhline(v.bounds["one_minus_delta"], color="r", ls="--", lw=1, label="1 - δ")
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("step t (0 drawn at 0.5)")
    ax.set_ylabel("fraction of neurons")
    ax.set_title("premise w_r(t) < 0, and the inequality on those neurons", fontsize=9)
    ax.legend(fontsize=7)


def _reference(G, v: Verdict):
    every = "every" in v.measured.get("decisive_reading", "/every")
    return G[:, :-1].min(axis=1) if every else G[:, :-1].mean(axis=1)


def _boundary(ax, v: Verdict) -> None:
    """The data's own boundary |w|*: masses at a common weight w < 0 — of the data process, with
    |w|* and its interval where the data condition holds, and of the training windows (one
    sample) — with the median |w_r| where the observed law held and where it failed."""
    A = v.arrays
    wg, G = np.abs(A["w_grid"]), A["grid_masses"]
    n = (v.measured.get("data_boundary_training_windows") or {}).get("windows")
    sample = f"{n} training windows" if n else "training windows"
    alpha = 0.5 if "process_masses" in A else 1.0
    ax.plot(wg, G[:, -1], color="C3", alpha=alpha, lw=1, label=f"last position d, {sample}")
    ax.plot(wg, _reference(G, v), color="C0", alpha=alpha, lw=1, label=f"others, {sample}")
    if "process_masses" in A:
        _process_curve(ax, v, wg)
    L = v.observed.looseness if v.observed is not None else {}

    def inside(x):  # lines off the grid (a diverged run's |w_r|) are not drawn
        return bool(np.isfinite(x) and wg.min() <= x <= wg.max())

    for key, ls in (("median_abs_w_at_t_hold", "--"), ("median_abs_w_at_t_star", "-.")):
        if inside(L.get(key, np.nan)):
            ax.axvline(
                L[key],
                color="gray",
                ls=ls,
                lw=1,
                label=f"median |w_r| at t = {L[key.replace('median_abs_w_at_', '')]}",
            )
    ax.set_xscale("log")
    ax.set_xlim(wg.min(), wg.max())
    ax.set_xlabel("|w| of a common weight w < 0")
    ax.set_ylabel("data-averaged softmax mass")
    ax.set_title("where the conclusion stops holding (observed)", fontsize=9)
    ax.legend(fontsize=6)


def _process_curve(ax, v: Verdict, wg) -> None:
    """The data process's masses (the others: min or mean, as the reading) and its |w|* with the
    bootstrap interval, drawn only where the data condition holds."""
    A, dp = v.arrays, v.measured.get("data_process", {})
    pw, P = A["process_w_abs"], A["process_masses"]
    keep = (pw >= wg.min()) & (pw <= wg.max())
    src = f"process {dp.get('source', '')}, {dp.get('windows', '?')} windows"
    ax.plot(pw[keep], P[keep, -1], color="C3", lw=2, label=f"last position d, {src}")
    ax.plot(pw[keep], _reference(P, v)[keep], color="C0", lw=2, label=f"others, {src}")
    if dp.get("gate") != "HOLDS" or not np.isfinite(dp.get("w_star", np.nan)):
        return
    lo, hi = dp["w_star_interval"]
    ax.axvspan(lo, min(hi, wg.max()), color="k", alpha=0.12, lw=0)
    ax.axvline(
        dp["w_star"],
        color="k",
        ls=":",
        lw=1,
        label=f"|w|* = {dp['w_star']:.3g} [{lo:.3g}, {hi:.3g}] ({dp['confidence']:.0%}, process)",
    )
