r"""C5's figure, drawn from the verdict alone: the decisive noise sweep (risk against σ² per seed,
the geometric mean and the line R = σ²) beside the diagnostic R/σ² at ``noise_std`` per size and
step against the level :math:`c_R(1+\ln n)`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from verification.claims._common import pyplot, save_figure
from verification.claims.c5_ood_risk._words import num
from verification.rules._verdict import Verdict

COLORS = {"attention": "C3", "linear": "C0"}


def _label(model: str) -> str:
    return "attention" if model == "attention" else "residual linear"


def noise_axes(ax, v: Verdict) -> None:
    """Decisive: the risk per seed against σ² on log-log axes, with each model's exponent."""
    A = v.arrays
    x2 = A["noise_var"]
    for model in ("attention", "linear"):
        R, c = A[f"{model}_risk"], COLORS[model]
        ax.plot(np.repeat(x2[:, None], R.shape[1], axis=1), R, "o", color=c, alpha=0.5, ms=4)
        ax.plot(
            x2,
            np.exp(np.log(R).mean(axis=1)),
            "-",
            color=c,
            label=f"{_label(model)}, exponent "
            f"{v.measured.get(model + '_noise_exponent', float('nan')):.2g}",
        )
    ax.plot(x2, x2, "k:", lw=1, label="R = σ² (exponent 1)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    rng = v.tested_range.get("noise_var")
    span = f" ({v.tested_range['noise_var_decades']:.2g} decades)" if rng else ""
    ax.set_xlabel(f"noise variance σ² = σ_0² + σ_ε²{span}")
    ax.set_ylabel("OOD risk R (per seed; line: geometric mean)")
    ax.set_title("decisive: does the risk vanish with the noise?", fontsize=10)
    ax.legend(fontsize=7)


def ratio_axes(ax, v: Verdict) -> None:
    """Diagnostic: R/σ² with its bootstrap interval per size and step, the level c_R (1 + ln n)
    and the noise floor (legend drawn by the caller, after the title)."""
    A = v.arrays
    sizes, steps = A["sizes"], A["steps"]
    x = np.arange(len(sizes) * len(steps))
    labels = [f"n={n}\nT={t}" for n in sizes for t in steps]
    for off, model in ((-0.15, "attention"), (0.15, "linear")):
        r = A[f"{model}_ratio"].reshape(-1, 3)
        ax.errorbar(
            x + off,
            r[:, 0],
            yerr=[r[:, 0] - r[:, 1], r[:, 2] - r[:, 0]],
            fmt="o",
            color=COLORS[model],
            capsize=3,
            label=f"{_label(model)} R/σ²",
        )
    lv = np.repeat(A["levels"], len(steps))
    ax.step(
        np.r_[x - 0.5, x[-1] + 0.5],
        np.r_[lv, lv[-1]],
        where="post",
        color="k",
        ls="--",
        lw=1,
        label=f"Õ(σ²) level c_R (1 + ln n), c_R = {v.constants.get('c_R', 1.0):g}",
    )
    ax.axhline(1.0, color="gray", ls=":", lw=1, label="noise floor R = σ²")
    ax.set_yscale("log")
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylabel("OOD risk R/σ², σ² = σ_0² + σ_ε², on sign-inconsistent windows")
    noise_std = v.tested_range.get("noise_std", float("nan"))
    var = v.bounds.get("sigma2", float("nan"))
    ax.set_title(
        f"diagnostic: R/σ² at σ_ε = {noise_std:g}, σ² = {num(var)} (95% bootstrap)", fontsize=10
    )


def plot_c5(v: Verdict, out: Path) -> list[str]:
    """``c5_ood_risk.png`` in ``out``: the diagnostic grid (left) and the decisive noise sweep
    (right); nothing for a VACUOUS verdict (no sign-inconsistent windows). Returns the names."""
    if "attention_ratio" not in v.arrays:
        return []
    plt = pyplot()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 4.5))
    noise_axes(ax2, v)
    ratio_axes(ax, v)
    fig.suptitle(
        f"C5: attention vs residual linear net out of distribution ({v.status})", fontsize=11
    )
    ax.legend(fontsize=7)
    return [save_figure(fig, out / "c5_ood_risk.png")]
