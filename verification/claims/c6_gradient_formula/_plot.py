"""C6's figure, drawn from the verdict alone: each reading's error against autodiff per shape, and
the seed's two cases over training."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from verification.claims._common import pyplot, save_figure
from verification.claims.c6_gradient_formula._rule import READINGS
from verification.rules._verdict import Verdict


def plot_c6(v: Verdict, out: Path) -> list[str]:
    """``c6_gradient_formula.png`` in ``out``, from the verdict ``v`` alone; returns its name."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    _errors(axes[0], v)
    cases = v.measured.get("cases")
    if cases:
        _cases(axes[1], cases)
    fig.suptitle(f"C6: {v.status}", fontsize=11)
    return [save_figure(fig, out / "c6_gradient_formula.png")]


def _errors(ax, v: Verdict) -> None:
    """Largest relative error over the draws per shape, per reading, against the tolerance."""
    E, shapes = v.arrays["errors"], v.arrays["shapes"]
    x = np.arange(len(shapes))
    floor = 1e-18  # exact zeros drawn at the floor of the log axis
    for a, (reading, style) in enumerate(zip(READINGS, ("o", "x", "s", "+"))):
        ax.plot(x, np.maximum(E[..., a].max(axis=1), floor), style, label=reading.replace("_", " "))
    ax.axhline(v.bounds.get("rtol", 1e-9), color="k", ls="--", lw=1, label="tolerance")
    ax.set_yscale("log")
    ax.set_xticks(x, [f"{n},{d},{dv}" for n, d, dv in shapes.tolist()], rotation=60, fontsize=7)
    ax.set_xlabel("shape (n tokens, d, d_v)")
    ax.set_ylabel("max relative error vs autodiff (float64)")
    ax.set_title("dL/dW: printed formula and chain rule, row / column softmax", fontsize=10)
    ax.legend(fontsize=7)


def _cases(ax, cases: dict) -> None:
    """Each case's share of the records, and how often it moves A_LL the seed's way."""
    names = ("case1", "case2")
    labels = [
        "case 1: <G, W_Vᵀx_L> > 0\n(seed: local score falls)",
        "case 2: <G, W_Vᵀx_L> < 0\n(seed: local score rises)",
    ]
    frac = [cases[k]["fraction"] for k in names]
    way = [cases[k]["seed_direction"] for k in names]
    ints = np.array([cases[k]["seed_direction_interval"] for k in names])
    ax.bar(np.arange(2) - 0.2, frac, 0.4, label="share of records", color="C0")
    ax.bar(
        np.arange(2) + 0.2,
        way,
        0.4,
        yerr=[np.subtract(way, ints[:, 0]), np.subtract(ints[:, 1], way)],
        capsize=3,
        label="moves A_LL the seed's way",
        color="C1",
    )
    ax.axhline(0.5, color="gray", ls=":", lw=1)
    ax.set_xticks(np.arange(2), labels, fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_title("two cases over GD training (vanilla multi-dim attention)", fontsize=10)
    ax.legend(fontsize=7)
