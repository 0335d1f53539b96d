r"""C1's figure, drawn from the verdict alone: each run's :math:`L(t)/L(0)` against the envelope
:math:`(1-\eta\lambda/2)^t` per trained size, with the linearised model's worst run."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from verification.claims._common import pyplot, save_figure
from verification.rules._verdict import Verdict


def _runs(ax, plt, v: Verdict, n: int, steps) -> None:
    """Every run's L(t)/L(0), one colour per width."""
    loss = v.arrays[f"loss_n{n}"]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        rel = loss / loss[..., :1]
    # diverged or non-finite: off the log axis
    rel = np.where((rel > 1e-300) & (rel < 1e100), rel, np.nan)
    widths = v.arrays["widths"]
    cmap = plt.get_cmap("viridis")
    for wi, m in enumerate(widths):
        c = cmap(wi / max(1, len(widths) - 1))
        for si in range(loss.shape[1]):
            ax.plot(
                steps,
                rel[wi, si],
                color=c,
                lw=0.6,
                alpha=0.3,
                label=f"m = {m} (each run)" if si == 0 else None,
            )


def _envelope(ax, n: int, lam: float, rho: float, eta: float, steps) -> str:
    """The envelope where it exists; returns the panel's title."""
    rate = 1 - eta * (lam - rho) / 2
    if lam > rho and 0 < rate < 1:
        with np.errstate(under="ignore"):
            env = rate**steps
        env = np.where(env > 1e-300, env, np.nan)  # underflow: off the log axis
        ax.plot(steps, env, "k--", lw=1.5, label=f"envelope (1 − ηλ/2)^t, λ = {lam:.2g}")
        return f"n = {n}: λ = {lam:.2g} (± {rho:.1g})"
    if lam > rho:
        return f"n = {n}: ηλ/2 = {eta * lam / 2:.3g} ≥ 1: no envelope (η past the stability limit)"
    ax.axhline(1.0, color="k", ls=":", lw=1.5, label="envelope ≈ 1: λ unresolved")
    return f"n = {n}: λ = {lam:.1g} ≤ resolution {rho:.1g} (VACUOUS)"


def _linearised(ax, v: Verdict, n: int, steps) -> None:
    """The linearised model's worst run at its times within the horizon drawn."""
    if f"lin_t_n{n}" not in v.arrays:
        return
    lt, ll = v.arrays[f"lin_t_n{n}"], v.arrays[f"lin_loss_n{n}"]
    sel = (lt > 0) & (lt <= 1.5 * steps[-1])
    if not sel.any():
        return
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        worst = (ll[..., sel] / ll[..., :1]).max(axis=(0, 1))
    ok = np.isfinite(worst) & (worst > 0)
    if ok.any():
        ax.plot(lt[sel][ok], worst[ok], "rx", label="linearised, worst run")


def plot_c1(v: Verdict, out: Path) -> list[str]:
    """``c1_loss_envelope.png``: one panel per trained size."""
    plt = pyplot()
    ns = [int(n) for n in v.arrays["n_values"]]
    fig, axes = plt.subplots(1, len(ns), figsize=(6 * len(ns), 4.5), squeeze=False)
    eta = v.measured.get("eta", v.config["C1"]["eta"])  # η itself (eta may be a fraction)
    for ax, n, lam, rho in zip(axes[0], ns, v.arrays["lam"], v.arrays["lam_resolution"]):
        steps = v.arrays[f"steps_n{n}"].astype(float)
        _runs(ax, plt, v, n, steps)
        title = _envelope(ax, n, lam, rho, eta, steps)
        _linearised(ax, v, n, steps)
        ax.set_yscale("log")
        ax.set_xlabel("gradient-descent step t")
        ax.set_ylabel("L(t) / L(0) per run")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=7)
    fig.suptitle(f"C1: each run's L(t)/L(0) against the envelope (η = {eta:g})", fontsize=11)
    return [save_figure(fig, out / "c1_loss_envelope.png")]
