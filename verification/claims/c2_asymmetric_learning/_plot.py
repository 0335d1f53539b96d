r"""C2's figure, drawn from the verdict alone: each group's agreement over t, the mean over networks
of each network's fraction with its bootstrap band over the networks (the network the unit, never
neurons pooled across networks), and the median network's onset of 1-δ against m beside
t_align ∝ m, censored widths marked as such."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from verification.claims._common import pyplot, save_figure
from verification.claims.c2_asymmetric_learning._words import summary_c2
from verification.rules._verdict import Verdict

GROUP_KEYS = (("+1", "plus"), ("-1", "minus"))


def _group_panel(ax, A: dict, grp: str, name: str, t, cmap, alpha: float) -> None:
    """One group's curves: the network mean and band where the verdict has them, else the pooled
    fraction without a band (results written before the bands)."""
    widths = A["widths"]
    banded = f"network_mean_{name}" in A
    for wi, m in enumerate(widths):
        c = cmap(wi / max(1, len(widths) - 1))
        if banded:
            S = int(A[f"networks_{name}"][wi])
            if S == 0:  # no network drew a neuron of this sign at this width
                continue
            ax.plot(t, A[f"network_mean_{name}"][wi], color=c, label=f"m = {m} ({S} networks)")
            lo, hi = A[f"network_lo_{name}"][wi], A[f"network_hi_{name}"][wi]
            ax.fill_between(t, lo, hi, color=c, alpha=0.2)
        elif int(A[f"n_{name}"][wi]) > 0:
            ax.plot(t, A[f"agree_{name}"][wi] / A[f"n_{name}"][wi], color=c, label=f"m = {m}")
    band = (
        f"mean over networks; band: bootstrap {1 - alpha:.0%} over the networks' fractions"
        if banded
        else "pooled neurons, no network-level band in these results"
    )
    ax.set_title(f"group a_r = {grp}\n({band})", fontsize=9)
    ax.set_ylabel(f"fraction with sign(w_r) = {grp}")


def _onset_panel(ax, A: dict) -> None:
    """The median network's onset of 1-δ per width (censored widths at T, marked), with ∝ m."""
    widths, T = A["widths"].astype(float), float(A["steps"][-1])
    med = np.asarray(A.get("median_onset", np.full(widths.size, np.inf)), float)
    ok = np.isfinite(med) & (med > 0)
    if ok.any():
        ax.plot(widths[ok], med[ok], "o-", label="median network's onset")
        ax.plot(widths, widths / widths[ok][0] * med[ok][0], "k:", lw=1, label="∝ m (t_align)")
    if (~np.isfinite(med)).any():
        cens = ~np.isfinite(med)
        ax.plot(widths[cens], np.full(cens.sum(), T), "r^", label=f"censored: no onset by {T:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("width m")
    ax.set_ylabel("onset: first step from which 1-δ holds to T")
    ax.set_title("onset of 1-δ vs m (median network)", fontsize=10)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)


def plot_c2(v: Verdict, out: Path) -> list[str]:
    """``c2_sign_agreement.png`` in ``out``: agreement per group over t (network mean, bootstrap
    band over the networks), and the median network's onset against m, titled by the summary
    line; returns the file names."""
    title = summary_c2(v)
    plt = pyplot()
    A = v.arrays
    alpha = v.config.get("C2", {}).get("alpha", 0.05)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), squeeze=False)
    cmap = plt.get_cmap("viridis")
    t = np.maximum(A["steps"], 0.5)  # step 0 drawn at 0.5 on the log axis
    for ax, (grp, name) in zip(axes[0][:2], GROUP_KEYS):
        _group_panel(ax, A, grp, name, t, cmap, alpha)
        ax.axhline(v.bounds["one_minus_delta"], color="r", ls="--", lw=1, label="1 - δ")
        ax.axhline(0.5, color="gray", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("step t (0 drawn at 0.5)")
        ax.legend(fontsize=7)
    _onset_panel(axes[0][2], A)
    fig.suptitle(f"C2: {title}", fontsize=10)
    return [save_figure(fig, out / "c2_sign_agreement.png")]
