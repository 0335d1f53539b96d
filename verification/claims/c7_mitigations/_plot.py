"""C7's figure, drawn from the verdict alone: each variant's OOD risk against the residual linear
reference, each mitigation's risk factor against the margin 1 − Δ, and C3's statistic (the last
token's mass relative to uniform) per variant."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from verification.claims._common import pyplot, save_figure
from verification.rules._verdict import Verdict


def _bars(ax, x, names, rows, color) -> None:
    """Estimates with their intervals at ``x``, labelled by the variant names."""
    ax.errorbar(
        x,
        rows[:, 0],
        yerr=[rows[:, 0] - rows[:, 1], rows[:, 2] - rows[:, 0]],
        fmt="o",
        color=color,
        capsize=4,
    )
    ax.set_xticks(x, names, rotation=25, fontsize=8)


def risk_axes(ax, x, names, A) -> None:
    """R/σ² per variant (geometric mean over seeds) and the linear reference's interval."""
    _bars(ax, x, names, A["risk_ratio"], "C3")
    lr = A["linear_risk_ratio"]
    ax.axhspan(
        lr[1], lr[2], color="C0", alpha=0.25, label=f"residual linear {lr[0]:.3g} (interval)"
    )
    ax.axhline(1.0, color="gray", ls=":", lw=1, label="noise floor R = σ²")
    ax.set_yscale("log")
    ax.set_ylabel("OOD risk R/σ² (geometric mean over seeds)")
    ax.set_title("risk on sign-inconsistent windows", fontsize=10)
    ax.legend(fontsize=7)


def factor_axes(ax, x, names, f, thr: float) -> None:
    """Each mitigation's paired risk factor against the baseline, green when its upper end is
    below the margin 1 − Δ (``thr``), red when its lower end is above."""
    colors = ["C2" if r[2] < thr else ("C3" if r[1] > thr else "gray") for r in f]
    for i in range(1, len(names)):
        ax.errorbar(
            [x[i]],
            [f[i, 0]],
            yerr=[[f[i, 0] - f[i, 1]], [f[i, 2] - f[i, 0]]],
            fmt="o",
            color=colors[i],
            capsize=4,
        )
    ax.axhline(1.0, color="k", ls="--", lw=1, label="no effect")
    ax.axhline(thr, color="C2", ls=":", lw=1, label=f"margin 1 − Δ = {thr:g}")
    ax.set_xticks(x, names, rotation=25, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel(f"risk relative to {names[0]} (paired)")
    ax.set_title("effect of each mitigation (green: mitigates, red: does not; 1 − α)", fontsize=10)
    ax.legend(fontsize=7)


def mass_axes(ax, x, names, A) -> None:
    """C3's statistic per variant: L times the mean last-token mass (1 = uniform)."""
    _bars(ax, x, names, A["last_mass_ratio"], "C4")
    ax.axhline(1.0, color="gray", ls=":", lw=1, label="uniform attention")
    ax.set_ylabel("L × mean last-token mass S_LL")
    ax.set_title("attention on the most recent token (C3's statistic)", fontsize=10)
    ax.legend(fontsize=7)


def plot_c7(v: Verdict, out: Path) -> list[str]:
    """``c7_mitigations.png`` in ``out``: risk, risk factor and last-token mass per variant;
    nothing for a VACUOUS verdict (no sign-inconsistent windows). Returns the names."""
    A = v.arrays
    if "risk_ratio" not in A:
        return []
    plt = pyplot()
    names = list(v.measured.get("variants", [f"v{i}" for i in range(len(A["risk_ratio"]))]))
    x = np.arange(len(names))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
    risk_axes(axes[0], x, names, A)
    factor_axes(axes[1], x, names, A["risk_factor"], v.bounds.get("mitigation_factor", 1.0))
    mass_axes(axes[2], x, names, A)
    fig.suptitle(
        f"C7: mitigations of asymmetric learning, 95% bootstrap intervals ({v.status})", fontsize=11
    )
    return [save_figure(fig, out / "c7_mitigations.png")]
