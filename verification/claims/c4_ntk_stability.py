r"""C4 (the lemmas of Theorem 5.2): the NTK stays near :math:`H^*` and :math:`H(0)` as the width grows.

**Statement.** :math:`\|H(0)-H^*\|`, :math:`\sup_t\|H(t)-H(0)\|` and :math:`\max_r|w_r(t)-w_r(0)|` are
:math:`O(m^{-1/2})`, and :math:`\lambda_{\min}(H(t)) \ge \lambda/2`.

**Reading.** Log-log slopes over a width × seed sweep, the matrix Bernstein bound at each width, and
the smallest eigenvalue along training (docs/theory.md, "C4").

**Verdict rule** (:func:`check_c4`). Each slope's interval against −1/2 (:func:`slope_status`); the
Bernstein bound by the Clopper–Pearson interval of its exceedance rate against δ; the eigenvalue
bound with λ widened by its resolution and the eigenvalue error, VACUOUS when λ is unresolved.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from verification import bounds
from verification.contract import Claim, sweep_bytes
from verification.stats import clopper_pearson, loglog_slope
from verification.verdict import HOLDS, INCONCLUSIVE, VACUOUS, VIOLATED, Part, Verdict, combine_status
from verification.claims._common import (
    ALPHA, data_n_memory, data_n_training, DELTA, first_case, fmt, lam_words, lambda_of, pyplot, save_figure,
    shared_sweep, slope_status, SWEEP_DEFAULTS, training_fields,
)


# ---------------------------------------------------------------------------------------------
# C4: NTK stability in width (lemmas behind Theorem 5.2)


def check_c4(*, widths, seeds, h0_dist, ht_change, weight_change, min_eig, lam: float, lam_resolution: float,
             bernstein: np.ndarray, delta: float, alpha: float = 0.05, eig_error: float = 0.0,
             config: dict | None = None, seed: int | None = None) -> Verdict:
    r"""C4 from per-run numbers (W, S): :math:`\|H(0)-H^*\|`, :math:`\sup_t\|H(t)-H(0)\|`,
    :math:`\max_t\max_r|w_r(t)-w_r(0)|`, :math:`\min_t \lambda_{\min}(H(t))`, and the matrix
    Bernstein bound :math:`t_\delta(m)` (W,).

    Parts: three log-log slopes against :math:`-1/2` (:func:`slope_status`, t interval over all
    W·S points); the Bernstein bound: HOLDS when no run exceeds it, VIOLATED when the
    Clopper–Pearson lower bound of the exceedance rate is above δ, else INCONCLUSIVE;
    :math:`\lambda_{\min}(H(t)) \ge \lambda/2`: VACUOUS when λ is unresolved, else VIOLATED if some
    run is below :math:`(\lambda-\rho)/2 - e`, HOLDS if all are above :math:`(\lambda+\rho)/2 + e`
    (``eig_error`` e), INCONCLUSIVE between.
    """
    widths = np.asarray(widths, np.float64)
    W, S = len(widths), len(seeds)
    mm = np.repeat(widths[:, None], S, axis=1)
    parts, measured, intervals, counter = [], {}, {}, None
    for name, vals, label in (("H0_minus_Hstar", h0_dist, "‖H(0) − H*‖"), ("sup_Ht_minus_H0", ht_change, "sup_t ‖H(t) − H(0)‖"),
                              ("max_weight_change", weight_change, "max_r |w_r(t) − w_r(0)|")):
        vals = np.asarray(vals, np.float64)
        measured[name] = [[float(x) for x in row] for row in vals]
        if np.any(vals <= 0):
            parts.append(Part(f"{label} ∝ m^-1/2", INCONCLUSIVE, "a value is 0: no log-log fit."))
            continue
        fit = loglog_slope(mm, vals, alpha=alpha)
        measured[f"slope_{name}"] = fit.slope
        intervals[f"slope_{name}"] = [fit.lo, fit.hi]
        parts.append(Part(f"{label} ∝ m^-1/2", slope_status(fit.lo, fit.hi),
                          f"fitted exponent {fit.slope:.3f}, {1 - alpha:.0%} interval [{fit.lo:.3f}, {fit.hi:.3f}] "
                          f"over {fit.points} runs (O(m^-1/2) needs it at or below -0.5)."))
    h0 = np.asarray(h0_dist, np.float64)
    bern = np.asarray(bernstein, np.float64)
    exceed = h0 > bern[:, None]
    k = int(exceed.sum())
    lo, hi = clopper_pearson(np.int64(k), np.int64(exceed.size), alpha)
    intervals["bernstein_exceedance_rate"] = [lo, hi]
    if k == 0:
        st = HOLDS
        finding = (f"‖H(0) − H*‖ below the matrix-Bernstein bound t_δ(m) in all {exceed.size} runs; the bound is "
                   f"{float(np.min(bern[:, None] / np.maximum(h0, 1e-300))):.1f}× to "
                   f"{float(np.max(bern[:, None] / np.maximum(h0, 1e-300))):.1f}× the measured value.")
    else:
        st = VIOLATED if lo > delta else INCONCLUSIVE
        wi, si = (int(x) for x in np.argwhere(exceed)[0])
        if st == VIOLATED:
            counter = {"width": int(widths[wi]), "seed": int(np.asarray(seeds)[si]), "H0_minus_Hstar": float(h0[wi, si]),
                       "bernstein_bound": float(bern[wi])}
        finding = f"{k} of {exceed.size} runs exceed t_δ(m); exceedance rate interval [{lo:.3f}, {hi:.3f}] vs δ = {delta:g}."
    parts.append(Part(f"‖H(0) − H*‖ <= t_δ(m) w.p. >= 1-δ (matrix Bernstein)", st, finding))
    eig = np.asarray(min_eig, np.float64)
    measured["min_eig_Ht"] = [[float(x) for x in row] for row in eig]
    if not lam > lam_resolution:
        parts.append(Part("λ_min(H(t)) >= λ/2", VACUOUS, f"{lam_words(lam, lam_resolution)}; measured min_t λ_min(H(t)) "
                          f"ranges over [{fmt(float(eig.min()))}, {fmt(float(eig.max()))}], itself at rounding level."))
    else:
        lo_b, hi_b = (lam - lam_resolution) / 2 - eig_error, (lam + lam_resolution) / 2 + eig_error
        bad = eig < lo_b
        if bad.any():
            wi, si = first_case(bad)
            counter = counter or {"width": int(widths[wi]), "seed": int(np.asarray(seeds)[si]),
                                  "min_eig_Ht": float(eig[wi, si]), "lambda_over_2": lam / 2}
            parts.append(Part("λ_min(H(t)) >= λ/2", VIOLATED,
                              f"at m = {int(widths[wi])}, seed {int(np.asarray(seeds)[si])}: λ_min(H(t)) = "
                              f"{fmt(float(eig[wi, si]))} < λ/2 = {fmt(lam / 2)}."))
        elif (eig >= hi_b).all():
            parts.append(Part("λ_min(H(t)) >= λ/2", HOLDS, f"min over runs and t: {fmt(float(eig.min()))} >= λ/2 = {fmt(lam / 2)}."))
        else:
            parts.append(Part("λ_min(H(t)) >= λ/2", INCONCLUSIVE, "some λ_min(H(t)) lie within rounding of λ/2."))
    status = combine_status(p.status for p in parts)
    slopes = ", ".join(f"{measured[k_]:.2f}" for k_ in ("slope_H0_minus_Hstar", "slope_sup_Ht_minus_H0", "slope_max_weight_change")
                       if k_ in measured)
    bern_part = parts[3]
    bern_words = {HOLDS: "stays below", VIOLATED: "exceeds too often", INCONCLUSIVE: "sometimes exceeds"}[bern_part.status]
    explanation = (f"Across widths {int(widths[0])}–{int(widths[-1])} the three distances have fitted exponents {slopes} "
                   f"(predicted at most -1/2; slope parts: {', '.join(p.status for p in parts[:3])}), and ‖H(0) − H*‖ {bern_words} an explicit matrix-Bernstein bound (Popoviciu's bound on "
                   f"V makes every term ≤ K). {parts[-1].name}: {parts[-1].status}"
                   + (" — with λ this small the lazy-training picture cannot certify a positive-definite H(t)." if parts[-1].status == VACUOUS else ".")
                   )
    return Verdict(claim="C4", status=status, explanation=explanation, measured=measured,
                   bounds={"bernstein_t_delta": [float(b) for b in bern], "lambda_over_2": lam / 2, "delta": delta},
                   intervals=intervals, parts=tuple(parts), counterexample=counter,
                   tested_range={"widths": [int(w) for w in widths], "seeds": [int(s) for s in seeds]},
                   config=config or {}, seed=seed,
                   arrays={"widths": widths, "h0_dist": h0, "ht_change": np.asarray(ht_change, np.float64),
                           "weight_change": np.asarray(weight_change, np.float64), "bernstein": bern, "min_eig": eig})


def run_c4(section: dict, ctx) -> Verdict:
    n = ctx.config["data"]["n"]
    res = shared_sweep(ctx, n, section, f"C4 sweep n={n}")
    lam = lambda_of(ctx, n)
    ds = ctx.dataset(n)
    K = bounds.popoviciu_constant(ds.X)
    bern = bounds.bernstein_deviation(res.widths, K=K, norm=lam.norm + lam.quadrature_error, n=n, delta=section["delta"])
    bern = bern + n * lam.quadrature_error  # H* is known only to its quadrature error
    eig_err = n * bounds.EPS64 * float(np.abs(res.ntk_initial).max()) * 4
    return check_c4(widths=res.widths, seeds=res.seeds, h0_dist=res.ntk_infinite_distance,
                    ht_change=res.ntk_change.max(axis=-1), weight_change=res.max_weight_change.max(axis=-1),
                    min_eig=res.ntk_min_eigenvalue.min(axis=-1), lam=lam.value, lam_resolution=lam.resolution,
                    bernstein=bern, delta=section["delta"], alpha=section["alpha"], eig_error=eig_err,
                    config={"C4": section, "data": ctx.config["data"]}, seed=ctx.seed)


def plot_c4(v: Verdict, out: Path) -> list[str]:
    plt = pyplot()
    A = v.arrays
    m = A["widths"]
    fig, ax = plt.subplots(figsize=(7, 5))
    for key, label, c in (("h0_dist", "‖H(0) − H*‖", "C0"), ("ht_change", "sup_t ‖H(t) − H(0)‖", "C1"),
                          ("weight_change", "max_r |w_r(t) − w_r(0)|", "C2")):
        vals = A[key]
        for si in range(vals.shape[1]):
            ax.plot(m, vals[:, si], "o", color=c, ms=4, alpha=0.6)
        slope_key = {"h0_dist": "slope_H0_minus_Hstar", "ht_change": "slope_sup_Ht_minus_H0",
                     "weight_change": "slope_max_weight_change"}[key]
        if slope_key in v.measured and np.all(vals > 0):
            fit = loglog_slope(np.repeat(m[:, None], vals.shape[1], axis=1), vals)
            lo, hi = v.intervals[slope_key]
            ax.plot(m, np.exp(fit.intercept) * m**fit.slope, "-", color=c,
                    label=f"{label}: slope {fit.slope:.2f} [{lo:.2f}, {hi:.2f}]")
    ax.plot(m, A["bernstein"], "k--", label=f"matrix-Bernstein bound t_δ(m), δ = {v.bounds['delta']:g}")
    ref = A["h0_dist"][0].mean() * (m / m[0]) ** -0.5
    ax.plot(m, ref, ":", color="gray", label="reference slope -1/2")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("width m")
    ax.set_ylabel("distance (spectral norm / max abs)")
    ax.set_title("C4: NTK and weights stay near initialisation as m grows", fontsize=11)
    ax.legend(fontsize=7)
    return [save_figure(fig, out / "c4_ntk_width.png")]


def summary_c4(v: Verdict) -> str:
    s = [v.measured.get(k) for k in ("slope_H0_minus_Hstar", "slope_sup_Ht_minus_H0", "slope_max_weight_change")]
    return "slopes " + "/".join(f"{x:.2f}" if x is not None else "–" for x in s) + " (need ≤ −0.5)"



def example_check_input() -> tuple[dict, str]:
    r"""Keyword arguments of :func:`check_c4` whose verdict is known, and that verdict: distances
    decaying like :math:`m^{-0.7}` (with 5% scatter), below the Bernstein bound, and
    :math:`\lambda_{\min}(H(t)) = 0.8 \ge \lambda/2 = 0.5`: HOLDS."""
    m = np.array([64.0, 256, 1024, 4096])
    h0 = m[:, None] ** -0.7 * np.exp(0.05 * np.random.default_rng(0).normal(size=(4, 3)))
    return dict(widths=m, seeds=[0, 1, 2], h0_dist=h0, ht_change=h0 / 2, weight_change=h0 * 3,
                min_eig=np.full((4, 3), 0.8), lam=1.0, lam_resolution=1e-12, bernstein=np.full(4, 100.0),
                delta=0.1), HOLDS



def memory_c4(section: dict, data: dict) -> tuple[int, str]:
    """Peak memory growth: the width × seed sweep at ``[data] n`` (:func:`verification.contract.sweep_bytes`)."""
    return sweep_bytes(n=data["n"], widths=section["widths"], seeds=section["seeds"], steps=section["steps"],
                       record_every=section["record_every"])


CLAIM = Claim(
    id="C4", source="lemmas of Thm 5.2", title="NTK stays near H* and H(0) as m grows",
    statement=r"\|H(0)-H^*\|,\ \sup_t\|H(t)-H(0)\|,\ \max_r|w_r(t)-w_r(0)| = O(m^{-1/2});\ "
              r"\lambda_{\min}(H(t))\ge\lambda/2",
    params={**training_fields(**SWEEP_DEFAULTS), "delta": DELTA, "alpha": ALPHA},
    run=run_c4, check=check_c4, plot=plot_c4, summary=summary_c4,
    training=data_n_training, memory=memory_c4,
)
