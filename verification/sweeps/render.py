r"""The report of a sweep folder: the decay of the NTK distances with the width (log-log slopes with
intervals, :func:`verification.rules.loglog_slope`), λ_min(H*) with its resolution, and the figure
``sweep.png``; one of the sections of ``ntk-verify report`` (:data:`verification.report.SECTIONS`,
an explicit tuple)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from verification import files
from verification import rules as st
from verification.sweeps.merge import load_merged
from verification.sweeps.plan import context
from verification.sweeps.store import read_json, sweep_precision

__all__ = ["lambda_min_text", "lambda_star_text", "render_sweep"]


def _slope(widths, values):
    """:func:`verification.rules.loglog_slope` of every positive finite (width, seed) value against
    m, or None when fewer than 3 such points at 2 widths remain."""
    x = np.broadcast_to(np.asarray(widths, float)[:, None], np.shape(values)).ravel()
    v = np.asarray(values, float).ravel()
    ok = np.isfinite(v) & (v > 0)
    if ok.sum() < 3 or np.unique(x[ok]).size < 2:
        return None
    return st.loglog_slope(x[ok], v[ok])


def _slope_text(fit) -> str:
    if fit is None:
        return "n/a (fewer than 3 positive points at 2 widths)"
    return f"{fit.slope:+.2f} [{fit.lo:+.2f}, {fit.hi:+.2f}] (95%, {fit.points} points)"


def lambda_min_text(matrix, error: float) -> str:
    r"""``λ_min(H*) = …`` with a caveat when it is below what the computation resolves.

    Resolution :math:`\rho = n\,\varepsilon_{quad} + n\,\epsilon_{64}\,\|H^*\|_2`: an entrywise
    quadrature error :math:`\varepsilon_{quad}` moves an eigenvalue by at most
    :math:`\|E\|_2 \le n \max|E_{ij}|`, float64 rounding by about :math:`n\epsilon\|H^*\|_2`.
    """
    H = np.asarray(matrix, np.float64)
    ev = np.linalg.eigvalsh(H)
    n = H.shape[0]
    rho = n * float(error) + n * np.finfo(np.float64).eps * float(np.abs(ev).max())
    text = f"λ_min(H*) = {ev[0]:.3e} (quadrature error ≤ {error:.1e})"
    if abs(ev[0]) <= rho:
        text += (
            f", below resolution: |λ_min| ≤ {rho:.1e} = n × quadrature error + n ε ‖H*‖₂, so H* is "
            "numerically singular here and λ_min(H*) is indistinguishable from 0"
        )
    return text


def lambda_star_text(lam) -> str:
    r"""``λ_min(H*) = value ± error`` of a :class:`verification.training._bounds.Lambda` — the one
    answer every command gives (extended precision where float64 cannot resolve it), with its
    precision and float64 resolution."""
    state = "resolved" if lam.resolved else "NOT resolved: indistinguishable from 0"
    return (
        f"λ_min(H*) = {lam.value:.4g} ± {lam.resolution:.2g} ({lam.precision}; float64 resolution "
        f"{lam.float64_resolution:.2g}; {state})"
    )


def render_sweep(out) -> str | None:
    """Markdown (and ``sweep.png``) for the sweep in ``out``; None when ``out`` holds no sweep.

    Per width, means over seeds: final loss, :math:`\\|H(0)-H^*\\|_2`,
    :math:`\\sup_t\\|H(t)-H(0)\\|_2`, :math:`\\max_t\\max_r|w_r(t)-w_r(0)|`, sign agreement at T and
    last-token mass at T; then log-log slopes of the three distances against m with 95% t intervals
    (every width × seed value a point), and λ_min(H*) of the sweep's windows as every command gives
    it (:meth:`verification.contract.Context.lambda_star`, :func:`lambda_star_text`).
    """
    out = Path(out)
    if not (out / "sweep.json").exists():
        return None
    res = load_merged(out)
    head = read_json(out / "sweep.json")
    config = head["config"]
    with sweep_precision(head):
        lam = context(config).lambda_star(sigma=config["data"]["sigma"])[0]
    widths = res.widths.astype(float)
    stats = {
        "final loss ½Σ(f−y)²": res.loss[:, :, -1].mean(axis=1),
        "‖H(0)−H*‖": res.ntk_infinite_distance.mean(axis=1),
        "sup_t ‖H(t)−H(0)‖": res.ntk_change.max(axis=2).mean(axis=1),
        "max_t,r abs(Δw_r)": res.max_weight_change.max(axis=2).mean(axis=1),
        "sign agreement at T": (
            (res.sign_agree_plus[:, :, -1] + res.sign_agree_minus[:, :, -1])
            / (res.n_plus + res.n_minus)
        ).mean(axis=1),
        "last-token mass at T": res.last_token_mass[:, :, -1].mean(axis=1),
    }
    lines = [
        "## Width sweep",
        "",
        f"{len(res.widths)} widths × {len(res.seeds)} seeds, "
        f"T = {int(res.step[-1])} steps recorded every "
        f"{int(res.step[1] - res.step[0]) if len(res.step) > 1 else 0}; means over seeds. "
        f"{lambda_star_text(lam)}.",
        "",
        "| m | " + " | ".join(stats) + " |",
        "|---|" + "---|" * len(stats),
    ]
    for i, m in enumerate(res.widths):
        lines.append(f"| {int(m)} | " + " | ".join(f"{v[i]:.4g}" for v in stats.values()) + " |")
    per_seed = {
        "‖H(0)−H*‖": res.ntk_infinite_distance,
        "sup_t ‖H(t)−H(0)‖": res.ntk_change.max(axis=2),
        "max_t,r abs(Δw_r)": res.max_weight_change.max(axis=2),
    }
    fits = {k: _slope(widths, v) for k, v in per_seed.items()}
    slopes = {k: None if f is None else f.slope for k, f in fits.items()}
    text = "; ".join(f"{k}: {_slope_text(f)}" for k, f in fits.items())
    lines += [
        "",
        "Log-log slopes against m, fitted to every (width, seed) value (theory: −0.5 each; "
        f"t intervals, verification.rules.loglog_slope): {text}.",
        "",
    ]
    if len(res.widths) > 1:
        lines += [f"![width sweep]({_plot(out, widths, per_seed, slopes)})", ""]
    return "\n".join(lines)


def _figure(widths, per_seed, slopes):
    r"""The sweep figure: every (width, seed) value (dots), the mean over seeds (line), the band
    min–max over seeds, and a reference :math:`\propto m^{-1/2}` through the first mean of each
    quantity; x ticks at the widths only (no minor labels)."""
    import matplotlib.pyplot as plt  # heavy: only where a figure is drawn
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    fig, ax = plt.subplots(figsize=(6, 4.2))
    for idx, (k, v) in enumerate(per_seed.items()):
        colour = f"C{idx}"
        v = np.where(np.isfinite(v) & (v > 0), v, np.nan)
        ok = np.isfinite(v).any(axis=1)
        if not ok.any():
            continue
        s = slopes.get(k)
        mean = np.nanmean(v[ok], axis=1)
        ax.fill_between(
            widths[ok],
            np.nanmin(v[ok], axis=1),
            np.nanmax(v[ok], axis=1),
            color=colour,
            alpha=0.15,
            linewidth=0,
        )
        ax.plot(
            np.repeat(widths[ok], v.shape[1]),
            v[ok].ravel(),
            ".",
            color=colour,
            alpha=0.35,
            markersize=3,
        )
        ax.plot(
            widths[ok],
            mean,
            "o-",
            color=colour,
            label=f"{k} (slope {'n/a' if s is None else f'{s:+.2f}'})",
        )
        m0 = widths[ok][0]
        ax.plot(
            widths[ok],
            mean[0] * np.sqrt(m0 / widths[ok]),
            "--",
            color=colour,
            alpha=0.7,
            linewidth=1,
            label="∝ $m^{-1/2}$ (dashed)" if idx == 0 else "_ref",
            gid=f"reference {k}",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(FixedLocator(widths))
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda x, _: f"{x:g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.tick_params(axis="x", labelrotation=45 if len(widths) > 6 else 0)
    ax.set_xlabel("width m")
    ax.set_ylabel("value (dots: seeds; line: mean; band: min–max)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _plot(out: Path, widths, per_seed, slopes) -> str:
    # the one resolution
    return files.save_figure(_figure(widths, per_seed, slopes), out / "sweep.png")
