"""Heatmaps of the regime maps (:mod:`verification.regime._map`): one figure per claim, one panel
per grid.

Cells are coloured by status with four colours of the perceptually uniform ``cividis`` map and a
categorical legend (VIOLATED darkest, HOLDS lightest); each cell is annotated with the seeds that
met the conclusion out of those counted when the grid is small. The theorem's premise curves are
drawn on the same axes (log scales, units in the labels); a premise beyond the plotted range is
drawn as an arrow at the edge with its value and how many decades away it is.
"""

from __future__ import annotations

import math

import numpy as np

from verification.files import save_figure
from verification.regime._map import RegimeMap
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VACUOUS, VIOLATED

__all__ = ["STATUS_ORDER", "status_colours", "premise_placement", "heatmap"]

STATUS_ORDER = (VIOLATED, INCONCLUSIVE, VACUOUS, HOLDS)
"""Colour order of the statuses (cividis from dark to light)."""


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def status_colours() -> dict:
    """Status → RGBA: four evenly spaced colours of ``cividis`` (perceptually uniform, colour-blind
    safe)."""
    cmap = _pyplot().get_cmap("cividis")
    return {s: cmap(x) for s, x in zip(STATUS_ORDER, np.linspace(0.0, 1.0, len(STATUS_ORDER)))}


def _edges(values, kind: str) -> np.ndarray:
    """Cell edges on a log axis: given edges as they are; centres → geometric midpoints (0 drawn at
    0.5)."""
    v = np.asarray(values, np.float64)
    if kind == "edges":
        return v
    v = np.where(v > 0, v, 0.5)
    mid = np.sqrt(v[1:] * v[:-1])
    first = v[0] ** 2 / mid[0] if v.size > 1 else v[0] / 2
    last = v[-1] ** 2 / mid[-1] if v.size > 1 else v[0] * 2
    return np.concatenate([[first], mid, [last]])


def premise_placement(value, lo: float, hi: float) -> tuple[str, float | None]:
    r"""Where a premise value falls against a log axis ``[lo, hi]``: ``("inside", 0)``, or
    ``("above", d)`` / ``("below", d)`` with :math:`d = |\log_{10}(v/\mathrm{edge})|` decades to the
    nearer edge; ``("above", None)`` when infinite or unknown.

    >>> premise_placement(1e6, 1.0, 1e3)
    ('above', 3.0)
    """
    if value is None or not math.isfinite(value):
        return "above", None
    if value > hi:
        return "above", math.log10(value / hi)
    if value < lo:
        return "below", math.log10(lo / value) if value > 0 else None
    return "inside", 0.0


def _premise_on(ax, name: str, curve: dict, xlim, ylim, widths, colour) -> None:
    """Draw one premise curve: a line where it is inside the axes, else an arrow at the edge with
    its value."""
    label = f"{name} = {curve['formula']}"
    if curve["axis"] in ("t", "abs_w") and "values" in curve:
        xs = np.asarray([np.inf if v is None else v for v in curve["values"]], np.float64)
        ys = np.asarray(widths, np.float64)
    elif curve["axis"] in ("t", "abs_w"):  # one value for every width: a vertical line
        v = curve["value"]
        if premise_placement(v, *xlim)[0] == "inside":
            ax.axvline(v, color=colour, ls="--", lw=1.5, label=label)
            return
        xs = np.full(len(widths), np.inf if v is None else v)
        ys = np.asarray(widths, np.float64)
    else:  # a width requirement: a horizontal line
        v = curve["value"]
        where, dec = premise_placement(v, *ylim)
        if where == "inside":
            ax.axhline(v, color=colour, ls="--", lw=1.5, label=label)
        else:
            ax.annotate(
                f"{name} ≈ {v if v is None else f'{v:.2g}'} "
                f"({'∞' if dec is None else f'{dec:.0f}'} decades "
                f"{where} the plot)",
                xy=(0.02, 0.98),
                xycoords="axes fraction",
                va="top",
                fontsize=7,
                color=colour,
                bbox=dict(boxstyle="round", fc="white", alpha=0.8),
            )
        return
    inside = np.array([premise_placement(x, *xlim)[0] == "inside" for x in xs])
    if inside.any():
        ax.plot(xs[inside], ys[inside], "o-", color=colour, lw=2, label=label)
    if (~inside).any():
        v = float(np.nanmax(xs[~inside])) if np.isfinite(xs[~inside]).any() else math.inf
        where, d = premise_placement(v, *xlim)
        dec = "∞" if d is None else f"{d:.0f}"
        right = where == "above"
        ax.annotate(
            f"{name} ≈ {v:.2g} ({dec} decades {'right' if right else 'left'} of the plot)",
            xy=(0.98 if right else 0.02, 0.03),
            xytext=(0.5, 0.03),
            xycoords="axes fraction",
            textcoords="axes fraction",
            fontsize=7,
            color=colour,
            ha="right" if right else "left",
            arrowprops=dict(arrowstyle="->", color=colour),
            bbox=dict(boxstyle="round", fc="white", alpha=0.8),
        )


def _g(x) -> str:
    return "none" if x is None else f"{x:.3g}"


def heatmap(rm: RegimeMap, path) -> str:
    """Draw ``rm`` (one panel per grid, premise curves, legend) to the PNG ``path``; returns the
    file name."""
    plt = _pyplot()
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    colours = status_colours()
    cmap = ListedColormap([colours[s] for s in STATUS_ORDER])
    norm = BoundaryNorm(np.arange(len(STATUS_ORDER) + 1) - 0.5, cmap.N)
    panels = list(rm.panels.items())
    fig, axes = plt.subplots(1, len(panels), figsize=(6.4 * len(panels), 5.6), squeeze=False)
    curve_colours = ["tab:red", "tab:orange", "magenta"]
    for ax, (_name, p) in zip(axes[0], panels):
        xa, ya = rm.axes[p.columns], rm.axes[p.rows]
        xv = _edges(xa["values"], xa.get("kind", "centres"))
        yv = _edges(ya["values"], ya.get("kind", "centres"))
        code = np.vectorize(STATUS_ORDER.index)(p.status)
        ax.pcolormesh(xv, yv, code, cmap=cmap, norm=norm, edgecolors="white", linewidth=0.5)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_yticks(ya["values"], [str(v) for v in ya["values"]])
        ax.minorticks_off()
        if p.status.shape[1] <= 20:
            for i in range(p.status.shape[0]):
                for j in range(p.status.shape[1]):
                    # gated cells: the premise failed there
                    if p.runs[i, j] and p.status[i, j] != VACUOUS:
                        cx, cy = math.sqrt(xv[j] * xv[j + 1]), math.sqrt(yv[i] * yv[i + 1])
                        dark = STATUS_ORDER.index(p.status[i, j]) < 2
                        ax.text(
                            cx,
                            cy,
                            f"{p.successes[i, j]}/{p.runs[i, j]}",
                            ha="center",
                            va="center",
                            fontsize=6,
                            color="white" if dark else "black",
                        )
        xlim, ylim = (xv[0], xv[-1]), (yv[0], yv[-1])
        k = 0
        for cname, curve in rm.premise.get("curves", {}).items():
            if curve["axis"] == p.columns or (curve["axis"] == "m" and p.columns == "t"):
                _premise_on(
                    ax,
                    cname,
                    curve,
                    xlim,
                    ylim,
                    ya["values"],
                    curve_colours[k % len(curve_colours)],
                )
                k += 1
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_xlabel(f"{xa['label']} [{xa['unit']}]", fontsize=8)
        ax.set_ylabel(f"{ya['label']} [{ya['unit']}]", fontsize=8)
        b = p.boundary
        ax.set_title(
            f"{rm.claim}: {p.rows} × {p.columns}; onset (every m) {_g(b['onset_every_row'])}, "
            f"holds until (every m) {_g(b['holds_until_every_row'])}",
            fontsize=8,
        )
        handles = [Patch(color=colours[s], label=s) for s in STATUS_ORDER]
        extra, labels = ax.get_legend_handles_labels()
        ax.legend(
            handles=handles + extra,
            fontsize=6,
            loc="upper left",
            bbox_to_anchor=(0.0, -0.16),
            ncol=2,
            framealpha=0.85,
        )
    fig.suptitle(
        f"{rm.claim}: {rm.conclusion}\n{rm.scale}; at the horizon: {rm.verdict['status']}",
        fontsize=8,
        wrap=True,
    )
    return save_figure(fig, path)  # the one figure writer: verification.files
