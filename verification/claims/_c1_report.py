r"""C1's report helpers (explanation, summary line, figure), split from :mod:`c1_convergence` to keep it short."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from verification.claims._common import fmt, pyplot, save_figure
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VACUOUS, VIOLATED, Verdict


def _envelope_decrease(eta_lam: float, T: float) -> float:
    r""":math:`1 - (1 - \eta\lambda/2)^T` without cancellation (``expm1``/``log1p``); 1 when :math:`\eta\lambda \ge 2`."""
    if eta_lam >= 2:
        return 1.0
    return float(-math.expm1(T * math.log1p(-eta_lam / 2)))


def T_floor_steps(need: float, efolds: float, runs, n: int) -> float:
    """Steps at which the envelope of size n reaches the float floor: the horizon scaled by need/efolds."""
    T = next(float(r.steps[-1]) for r in runs if r.n == n)
    return T * need / efolds if efolds > 0 else math.inf


def c1_explanation(status, runs, parts, eta, delta, alpha):
    s = []
    for r in runs:
        if not r.lam > r.lam_resolution:
            s.append(
                f"For n = {r.n} λ = {fmt(r.lam)} is not above its resolution {fmt(r.lam_resolution)}: the rate "
                "(1 - ηλ/2)^t and T_req say nothing."
            )
        else:
            s.append(
                f"For n = {r.n}, λ = {fmt(r.lam)} is resolved: over {int(r.steps[-1])} steps the envelope demands that "
                f"the loss fall by at least {_envelope_decrease(eta * r.lam, float(r.steps[-1])):.3g} of L(0), on "
                f"{r.loss.shape[1]} seeds per width."
            )
    s.append(
        f'Each part is "w.p. ≥ 1 − δ" per width (δ = {delta:g}), decided by Clopper–Pearson bounds with Holm over '
        f"all decisive parts × widths (α = {alpha:g})."
    )
    if status == VIOLATED:
        s.append(
            "At some width the runs fail more often than δ allows (counterexample below); the theorem's width "
            "premise m = Ω(poly(1/λ, …)) may exclude such widths."
        )
    elif status == INCONCLUSIVE:
        s.append(
            "Some failure rate is neither shown ≤ δ nor > δ: 120 runs per width give 80% power at a true rate "
            "0.02 (docs/calibration.md); with fewer seeds HOLDS may be out of reach."
        )
    unread = "; ".join(f"{p.name}: {p.why}" for p in parts if p.decisive and p.status == VACUOUS)
    if status == VACUOUS:
        s.append(
            "No width contradicts the theorem, but none of its conclusions could be checked here ("
            + unread
            + ")."
        )
    elif status == HOLDS:
        s.append(
            "Every checked conclusion holds with the required probability"
            + (f"; not checked: {unread}." if unread else ".")
        )
    mech = [p for p in parts if p.name.startswith("kernel regime")]
    if mech:
        s.append(
            "The observed verdict reads the proof's mechanism instead, at a realistic n: "
            + "; ".join(f"{p.name.split('(')[-1].rstrip(')')}: {p.status}" for p in mech)
            + "."
        )
    return " ".join(s)


def plot_c1(v: Verdict, out: Path) -> list[str]:
    plt = pyplot()
    ns = [int(n) for n in v.arrays["n_values"]]
    fig, axes = plt.subplots(1, len(ns), figsize=(6 * len(ns), 4.5), squeeze=False)
    eta = v.measured.get("eta", v.config["C1"]["eta"])  # η itself (eta may be a fraction)
    for ax, n, lam, rho in zip(axes[0], ns, v.arrays["lam"], v.arrays["lam_resolution"]):
        loss, steps = v.arrays[f"loss_n{n}"], v.arrays[f"steps_n{n}"].astype(float)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            rel = loss / loss[..., :1]
        rel = np.where(
            (rel > 1e-300) & (rel < 1e100), rel, np.nan
        )  # diverged or non-finite: off the log axis
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
        rate = 1 - eta * (lam - rho) / 2
        if lam > rho and 0 < rate < 1:
            with np.errstate(under="ignore"):
                env = rate**steps
            env = np.where(env > 1e-300, env, np.nan)  # underflow: off the log axis
            ax.plot(steps, env, "k--", lw=1.5, label=f"envelope (1 − ηλ/2)^t, λ = {lam:.2g}")
            title = f"n = {n}: λ = {lam:.2g} (± {rho:.1g})"
        elif lam > rho:
            title = (
                f"n = {n}: ηλ/2 = {eta * lam / 2:.3g} ≥ 1: no envelope (η past the stability limit)"
            )
        else:
            ax.axhline(1.0, color="k", ls=":", lw=1.5, label="envelope ≈ 1: λ unresolved")
            title = f"n = {n}: λ = {lam:.1g} ≤ resolution {rho:.1g} (VACUOUS)"
        if f"lin_t_n{n}" in v.arrays:
            lt, ll = v.arrays[f"lin_t_n{n}"], v.arrays[f"lin_loss_n{n}"]
            sel = (lt > 0) & (lt <= 1.5 * steps[-1])
            if sel.any():
                with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                    worst = (ll[..., sel] / ll[..., :1]).max(axis=(0, 1))
                ok = np.isfinite(worst) & (worst > 0)
                if ok.any():
                    ax.plot(lt[sel][ok], worst[ok], "rx", label="linearised, worst run")
        ax.set_yscale("log")
        ax.set_xlabel("gradient-descent step t")
        ax.set_ylabel("L(t) / L(0) per run")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=7)
    fig.suptitle(f"C1: each run's L(t)/L(0) against the envelope (η = {eta:g})", fontsize=11)
    return [save_figure(fig, out / "c1_loss_envelope.png")]


def summary_c1(v: Verdict) -> str:
    bits = []
    for n, lam, rho in zip(
        v.arrays.get("n_values", []), v.arrays.get("lam", []), v.arrays.get("lam_resolution", [])
    ):
        b = f"n={int(n)}: λ={lam:.1e} (ρ={rho:.0e})"
        dem = v.bounds.get(f"envelope_decrease_demanded[n={int(n)}]")
        if dem is not None:
            b += f", envelope demands {dem:.2g} of L(0)"
        ef = v.bounds.get(f"envelope_efolds_tested[n={int(n)}]")
        if ef is not None:
            b += (
                f", horizon {ef:.2g} e-folds of (1−ηλ/2)^t (float floor at "
                f"{v.bounds[f'envelope_efolds_to_float_floor[n={int(n)}]']:.2g})"
            )
        T = v.bounds.get(f"T_req[n={int(n)}]")
        if T is not None:
            b += f", T_req={fmt(T)}"
        bits.append(b)
    for k, T in v.bounds.items():
        if k.startswith("T_req[") and not any(
            k == f"T_req[n={int(n)}]" for n in v.arrays.get("n_values", [])
        ):
            bits.append(f"{k[6:-1]}: T_req={fmt(T)} (not trained)")
    if v.observed is not None:
        bits.append(f"observed ({v.observed.scale.split(';')[0]}): {v.observed.status}")
    return "; ".join(bits)
