r"""C2's figure, drawn from the verdict alone: each group's agreement over t with Clopper–Pearson
bands, and the first-reaching times against m beside t_align ∝ m."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from verification.claims._common import pyplot, save_figure
from verification.claims.c2_asymmetric_learning._words import summary_c2
from verification.rules import clopper_pearson
from verification.rules._verdict import Verdict


def plot_c2(v: Verdict, out: Path) -> list[str]:
    """``c2_sign_agreement.png`` in ``out``: agreement per group over t with Clopper–Pearson
    bands, and first-reaching times against m, titled by the summary line; returns the file
    names."""
    title = summary_c2(v)
    plt = pyplot()
    A = v.arrays
    steps, widths = A["steps"], A["widths"]
    alpha = v.config.get("C2", {}).get("alpha", 0.05)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4), squeeze=False)
    cmap = plt.get_cmap("viridis")
    t = np.maximum(steps, 0.5)  # step 0 drawn at 0.5 on the log axis
    for ax, key, nkey, grp in (
        (axes[0][0], "agree_plus", "n_plus", "+1"),
        (axes[0][1], "agree_minus", "n_minus", "-1"),
    ):
        for wi, m in enumerate(widths):
            c = cmap(wi / max(1, len(widths) - 1))
            n_ = np.int64(A[nkey][wi])
            if n_ == 0:  # no neuron of this sign at this width
                continue
            k = A[key][wi].astype(np.int64)
            lo, hi = clopper_pearson(k, n_, alpha)
            ax.plot(t, k / n_, color=c, label=f"m = {m}")
            ax.fill_between(t, lo, hi, color=c, alpha=0.2)
        ax.axhline(v.bounds["one_minus_delta"], color="r", ls="--", lw=1, label="1 - δ")
        ax.axhline(0.5, color="gray", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("step t (0 drawn at 0.5)")
        ax.set_ylabel(f"fraction with sign(w_r) = {grp}")
        ax.set_title(f"group a_r = {grp} (CP {1 - alpha:.0%} bands)", fontsize=10)
        ax.legend(fontsize=7)
    ax = axes[0][2]
    levels = A["levels"]
    first = np.maximum(A["first_plus"], A["first_minus"])  # both groups
    for j, L in enumerate(levels):
        ok = np.isfinite(first[:, j]) & (first[:, j] > 0)
        if ok.any():
            ax.plot(widths[ok], first[ok, j], "o-", label=f"level {L:g}")
    pos = np.isfinite(first) & (first > 0)
    if pos.any():
        ref = widths.astype(float)
        ax.plot(ref, ref / ref[0] * float(first[pos].min()), "k:", lw=1, label="∝ m (t_align)")
    else:
        ax.text(
            0.5, 0.5, "no level reached at t > 0", transform=ax.transAxes, ha="center", va="center"
        )
        ax.set_ylim(1, 10)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("width m")
    ax.set_ylabel("first step both groups reach the level")
    ax.set_title("first-reaching time vs m", fontsize=10)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    fig.suptitle(f"C2: {title}", fontsize=10)
    return [save_figure(fig, out / "c2_sign_agreement.png")]
