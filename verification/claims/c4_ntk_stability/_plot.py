"""C4's figure, drawn from the verdict alone: the three distances against the width with their
fitted slopes, the explicit weight bound, the matrix-Bernstein bound and a reference slope −1/2."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from verification.claims._common import pyplot, save_figure
from verification.rules._verdict import Verdict


def plot_c4(v: Verdict, out: Path) -> list[str]:
    """``c4_ntk_width.png`` in ``out``: per-seed points, fitted slopes with their intervals and the
    bounds, on log-log axes; returns the file names."""
    plt = pyplot()
    A = v.arrays
    m = A["widths"]
    fig, ax = plt.subplots(figsize=(7, 5))
    for key, label, c, sk in (
        ("h0_dist", "‖H(0) − H*‖", "C0", "slope_H0_minus_Hstar"),
        ("ht_change", "sup_t ‖H(t) − H(0)‖", "C1", "slope_sup_Ht_minus_H0"),
        ("weight_change", "max_r |w_r(t) − w_r(0)|", "C2", "slope_max_weight_change"),
    ):
        vals = A[key]
        for si in range(vals.shape[1]):
            ax.plot(m, vals[:, si], "o", color=c, ms=3, alpha=0.4)
        if sk in v.measured:
            s = v.measured[sk]
            lo, hi = v.intervals[sk]
            gm = np.exp(np.log(vals).mean(axis=1))
            ax.plot(
                m,
                gm[0] * (m / m[0]) ** s,
                "-",
                color=c,
                label=f"{label}: slope {s:.2f} [{lo:.2f}, {hi:.2f}]",
            )
    if "weight_bound" in A:
        ax.plot(
            m,
            A["weight_bound"].max(axis=1),
            "-.",
            color="C2",
            label="explicit bound on max_r |Δw_r| (worst seed)",
        )
    ax.plot(
        m, A["bernstein"], "k--", label=f"matrix-Bernstein bound t_δ(m), δ = {v.bounds['delta']:g}"
    )
    ref = np.exp(np.log(A["h0_dist"][0]).mean()) * (m / m[0]) ** -0.5
    ax.plot(m, ref, ":", color="gray", label="reference slope −1/2")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("width m")
    ax.set_ylabel("distance (spectral norm / max abs)")
    ax.set_title(
        f"C4: NTK and weights near initialisation ({A['h0_dist'].shape[1]} seeds per width)",
        fontsize=11,
    )
    ax.legend(fontsize=7)
    return [save_figure(fig, out / "c4_ntk_width.png")]
