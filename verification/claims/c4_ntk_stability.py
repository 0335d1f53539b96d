r"""C4 (the lemmas of Theorem 5.2): the NTK stays near :math:`H^*` and :math:`H(0)` as the width grows.

**Statement.** :math:`\|H(0)-H^*\|` and :math:`\sup_t\|H(t)-H(0)\|` are :math:`O(m^{-1/2})`; every
neuron moves by :math:`\max_r|w_r(t)-w_r(0)| = O(m^{-1/2})`; :math:`\lambda_{\min}(H(t)) \ge \lambda/2`;
and :math:`\|H(0)-H^*\| \le t_\delta(m)` (matrix Bernstein) with probability :math:`\ge 1-\delta`.

**Reading.** A width × seed sweep (default 9 widths 64…16384 × 36 seeds, 20 steps, every step
recorded; docs/theory.md, "C4"), run as one compiled program per block of seeds (seeds batched,
:func:`ntk_attention.sweep.plan_sweep` / ``run_block``).

**Verdict rule** (:func:`check_c4`), each part naming the rule that decided it:

* the two rates by :func:`verification.rules.rate_decision` on the per-seed values (slope interval
  clustered by seed): HOLDS when its upper end is :math:`\le -1/2 + \Delta` (``margin``, default
  0.1), VIOLATED when its lower end is :math:`> -1/2 + \Delta_v` (``violation_margin``, default
  0.1); calibrated in docs/calibration.md (rows "rate": the CLT case reaches HOLDS in 100% of
  replicates at 9 widths × 30 seeds, and in 24% at the former 4 × 3 budget);
* the weight movement by its explicit bound (:func:`verification.rules.bounded_by`, deterministic):
  :math:`|\partial L/\partial w_r| = m^{-1/2}|\sum_i x_{i,d}V_r(x_i)r_i| \le m^{-1/2}\sqrt{K}\sqrt{2L}`
  with :math:`\sqrt K = \|x_d\,\mathrm{range}(x)^2/4\|_2` (Popoviciu, :func:`verification.training._bounds.popoviciu_constant`),
  so :math:`\max_r|w_r(t)-w_r(0)| \le \eta\,m^{-1/2}\sqrt K\sum_{s<t}\sqrt{2L(s)}` from the recorded
  losses. Its fitted rate is a diagnostic only (the maximum over :math:`m` neurons fits a slope
  above −1/2 at these widths; docs/calibration.md, "pre-asymptotic" rows);
* :math:`\lambda_{\min}(H(t)) \ge \lambda/2` with λ from :func:`verification.training._bounds.lambda_star`
  (``extended=True``: extended precision where float64 cannot resolve it): VIOLATED below
  :math:`(\lambda-\rho)/2 - e`, HOLDS above :math:`(\lambda+\rho)/2 + e` (e: the float64 error of
  a computed eigenvalue), VACUOUS when λ/2 is below e and the measured values are rounding;
* the Bernstein bound by :func:`verification.rules.bounded_by` with δ (exceedances per width by
  :func:`verification.rules.probability_decision`, Holm over widths; 0 exceedances in 36 runs give a
  Clopper–Pearson upper end 0.097 ≤ δ = 0.1, in 30 runs 0.116: 36 seeds is the smallest budget that
  can reach HOLDS).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from verification import config as cfg
from verification.claims._common import (
    ALPHA,
    DELTA,
    blocks_of,
    data_n_training,
    first_case,
    fmt,
    lam_words,
    pyplot,
    save_figure,
    training_fields,
    width_sweep,
)
from verification.contract import Claim, memory_sum, sweep_bytes
from verification.rules import bounded_by, clopper_pearson, rate_decision
from verification.rules._verdict import (
    HOLDS,
    INCONCLUSIVE,
    VACUOUS,
    VIOLATED,
    Observed,
    Part,
    Verdict,
    combine_parts,
    combine_status,
)
from verification.training import _bounds as bounds

WEIGHT_VIOLATION_MARGIN = 0.2
"""Δ_v of the weight-movement rate diagnostic: the calibrated margin that keeps a maximum over m
bounded-but-heavy-tailed terms from a false VIOLATED (docs/calibration.md, rate rows with Δ_v = 0.2)."""

C4_DEFAULTS = dict(
    widths=[64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384],
    seeds=36,
    steps=20,
    record_every=1,
    eta=0.05,
)
"""9 widths × 36 seeds × 20 steps: a budget whose CLT rate reaches HOLDS (docs/calibration.md) and
whose Bernstein part can (36 runs per width)."""


# ---------------------------------------------------------------------------------------------
# C4: NTK stability in width (lemmas behind Theorem 5.2)


def weight_bound(loss, steps, *, eta: float, widths, K: float) -> np.ndarray:
    r"""Explicit bound on :math:`\max_r|w_r(t)-w_r(0)|` from the losses at every step.

    Gradient descent on :math:`L = \tfrac12\sum_i r_i^2` (:math:`r = f - y`) moves neuron r by
    :math:`\eta\,\partial L/\partial w_r = \eta\,m^{-1/2} a_r\sum_i x_{i,d}V_r(x_i)r_i` per step
    (docs/theory.md, "Model"). With :math:`0 \le V_r(x_i) \le \mathrm{range}(x_i)^2/4` (Popoviciu)
    and Cauchy–Schwarz, :math:`|\partial L/\partial w_r| \le m^{-1/2}\sqrt K\,\|r\|_2 = m^{-1/2}\sqrt K\sqrt{2L}`,
    :math:`K = \sum_i x_{i,d}^2\,\mathrm{range}(x_i)^4/16`, so

    .. math:: \max_r|w_r(t)-w_r(0)| \le \eta\, m^{-1/2}\sqrt K \sum_{s<t}\sqrt{2L(s)}.

    ``loss`` (W, S, R) recorded at ``steps`` (R,) = 0, 1, …, T (every step: the sum needs each
    L(s)); returns the bound (W, S, R).
    """
    L = np.asarray(loss, np.float64)
    t = np.asarray(steps)
    if L.ndim != 3 or L.shape[-1] != t.size or not np.array_equal(t, np.arange(t.size)):
        raise ValueError(
            f"loss, steps: expected losses (W, S, R) at every step 0..R-1, got shape {L.shape} at steps "
            f"{t[:5].tolist()}…"
        )
    if not (math.isfinite(K) and K >= 0):
        raise ValueError(f"K: expected a finite non-negative Popoviciu constant, got {K!r}")
    steps_sum = np.concatenate(
        [np.zeros(L.shape[:-1] + (1,)), np.cumsum(np.sqrt(2 * np.maximum(L, 0))[..., :-1], -1)], -1
    )
    m = np.asarray(widths, np.float64)[:, None, None]
    return eta * np.sqrt(K) / np.sqrt(m) * steps_sum


def _rate_part(label, widths, vals, *, margin, violation_margin, alpha, decisive=True):
    """A Part for "``label`` = O(m^-1/2)" by :func:`rate_decision` on a (W, S) table, and the decision (or None)."""
    vals = np.asarray(vals, np.float64)
    name = f"{label} = O(m^-1/2)"
    if np.any(~np.isfinite(vals)) or np.any(vals <= 0):
        return Part(
            name,
            INCONCLUSIVE,
            "a value is 0 or not finite: no log-log slope.",
            decisive,
            why="a value 0 or not finite",
        ), None
    d = rate_decision(
        widths, vals, exponent=-0.5, margin=margin, violation_margin=violation_margin, alpha=alpha
    )
    why = {HOLDS: "", VIOLATED: f"slope ≥ {d.lo:.2f}"}.get(
        d.status, f"slope interval [{d.lo:.2f}, {d.hi:.2f}] straddles"
    )
    return Part(
        name,
        d.status,
        f"fitted exponent {d.slope:.3f}, {1 - alpha:.0%} interval [{d.lo:.3f}, {d.hi:.3f}] "
        f"over {d.widths} widths × {d.seeds} seeds. Rule: {d.rule}.",
        decisive,
        why=why,
    ), d


def runs_for_zero_failures(delta: float, alpha: float = 0.05) -> int:
    r"""Fewest runs S at which 0 failures make :func:`verification.rules.probability_decision` read HOLDS.

    The one-sided :math:`1-\alpha/2` Clopper–Pearson upper end at 0 failures in S runs is
    :math:`1-(\alpha/2)^{1/S}`; it is :math:`\le\delta` iff :math:`S \ge \ln(\alpha/2)/\ln(1-\delta)`
    (δ = 0.1, α = 0.05: 35.01 → 36; 30 runs give 0.116).
    """
    delta, alpha = float(delta), float(alpha)
    if not (0.0 < delta < 1.0 and 0.0 < alpha < 1.0):
        raise ValueError(
            f"delta, alpha: expected probabilities in (0, 1), got delta = {delta!r}, alpha = {alpha!r}"
        )
    S = max(1, math.ceil(math.log(alpha / 2) / math.log1p(-delta) - 1e-9))
    while clopper_pearson(0, S, alpha)[1] > delta:  # guard the closed form against rounding
        S += 1
    return S


def _bernstein_why(bb) -> str:
    """A few words for the headline on a Bernstein part that did not hold."""
    if bb.status == HOLDS:
        return ""
    if bb.probability is None:
        return f"{bb.exceedances} exceedances"
    return (
        f"{bb.exceedances}/{bb.points} exceed; CP end {max(bb.probability.upper):.3g} vs δ = {bb.delta:g}"
        if bb.status == INCONCLUSIVE
        else f"{bb.exceedances}/{bb.points} exceed t_δ"
    )


def _c4_observed(widths, h0, ht, *, lam, margin, violation_margin, alpha, steps=None) -> Observed:
    r"""C4's conclusion as an empirical law: both rates O(m^{-1/2}) by :func:`rate_decision` over all widths run
    (the calibrated budget: docs/calibration.md, "rate" rows), and the *onset* — the smallest width m₀ from
    which both rates read HOLDS on the widths ≥ m₀ (at least 3) — with the exponents fitted there.
    The onset is a scan over cut points (descriptive; the status is the full-range decision, not the scan).
    Looseness: orders of magnitude between m₀ and 1/λ, a lower bound on the theorem's width poly(1/λ, …)."""
    full = [
        rate_decision(
            widths, v, exponent=-0.5, margin=margin, violation_margin=violation_margin, alpha=alpha
        )
        if np.all(np.isfinite(v)) and np.all(v > 0)
        else None
        for v in (h0, ht)
    ]
    if any(d is None for d in full):
        return Observed(
            INCONCLUSIVE,
            "rate_decision (docs/calibration.md, rate rows)",
            f"m = {int(widths[0])}–{int(widths[-1])}",
            "a distance is 0 or not finite: no log-log slope.",
        )
    status = combine_status(d.status for d in full)
    onset, fits = None, None
    for j in range(len(widths) - 2):
        ds = [
            rate_decision(
                widths[j:],
                v[j:],
                exponent=-0.5,
                margin=margin,
                violation_margin=violation_margin,
                alpha=alpha,
            )
            for v in (h0, ht)
        ]
        if all(d.status == HOLDS for d in ds):
            onset, fits = int(widths[j]), ds
            break
    S = h0.shape[1]
    scale = f"m = {int(widths[0])}–{int(widths[-1])} ({len(widths)} widths) × {S} seeds" + (
        f", t ≤ {int(steps)} steps" if steps is not None else ""
    )
    fitted = (
        f"‖H(0) − H*‖ slope {full[0].slope:.3f} [{full[0].lo:.3f}, {full[0].hi:.3f}], sup_t ‖H(t) − H(0)‖ "
        f"slope {full[1].slope:.3f} [{full[1].lo:.3f}, {full[1].hi:.3f}] over all widths"
    )
    if onset is not None:
        finding = (
            f"Both rates O(m^-1/2) read HOLDS from m₀ = {onset} (slopes {fits[0].slope:.3f}, {fits[1].slope:.3f} "
            f"on m ≥ {onset}); {fitted}."
        )
    else:
        finding = f"No width from which both rates read HOLDS; {fitted}."
    looseness = {
        "onset_width": onset,
        "slope_H0_minus_Hstar": full[0].slope,
        "slope_sup_Ht_minus_H0": full[1].slope,
    }
    if lam > 0 and onset is not None:
        looseness["orders_theorem_width_over_onset"] = math.log10(1.0 / lam) - math.log10(onset)
    budget = (
        ""
        if status != INCONCLUSIVE
        else "9 widths (64–16384) × 30 seeds: the rate rule's power for a CLT rate reaches 0.8 (docs/calibration.md)"
    )
    return Observed(
        status,
        f"rate_decision on per-seed slopes, Δ = {margin:g}, Δ_v = {violation_margin:g} "
        "(docs/calibration.md, rate rows)",
        scale,
        finding,
        looseness,
        budget,
    )


def check_c4(
    *,
    widths,
    seeds,
    h0_dist,
    ht_change,
    weight_change,
    min_eig,
    lam: float,
    lam_resolution: float,
    bernstein,
    delta: float,
    weight_bound=None,
    alpha: float = 0.05,
    margin: float = 0.1,
    violation_margin: float = 0.1,
    eig_error: float = 0.0,
    lam_precision: str = "float64",
    config: dict | None = None,
    seed: int | None = None,
    steps: int | None = None,
) -> Verdict:
    r"""C4 from per-run numbers: ``h0_dist`` :math:`\|H(0)-H^*\|` (W, S), ``ht_change``
    :math:`\sup_t\|H(t)-H(0)\|` (W, S), ``weight_change`` :math:`\max_r|w_r(t)-w_r(0)|` (W, S, R) with
    its explicit bound ``weight_bound`` (same shape; :func:`weight_bound`), ``min_eig``
    :math:`\min_t\lambda_{\min}(H(t))` (W, S), the Bernstein bound :math:`t_\delta(m)` (W,).

    Parts (see the module docstring): two rates by :func:`rate_decision` (``margin`` Δ,
    ``violation_margin`` Δ_v); weight movement by :func:`bounded_by` (deterministic), its rate a
    non-decisive diagnostic with :math:`\Delta_v` = ``WEIGHT_VIOLATION_MARGIN``;
    :math:`\lambda_{\min}(H(t)) \ge \lambda/2` (VACUOUS when λ is unresolved, or when λ/2 lies below
    the eigenvalue error ``eig_error`` and the measured values are within it); Bernstein by
    :func:`bounded_by` with δ (Holm over widths).
    """
    widths = np.asarray(widths, np.float64)
    seeds = np.asarray(seeds)
    W, S = len(widths), len(seeds)
    h0 = np.asarray(h0_dist, np.float64)
    ht = np.asarray(ht_change, np.float64)
    wc = np.asarray(weight_change, np.float64)
    wb = None if weight_bound is None else np.asarray(weight_bound, np.float64)
    eig = np.asarray(min_eig, np.float64)
    bern = np.asarray(bernstein, np.float64)
    for name, a in (("h0_dist", h0), ("ht_change", ht), ("min_eig", eig)):
        if a.shape != (W, S):
            raise ValueError(f"{name}: expected shape (widths, seeds) = {(W, S)}, got {a.shape}")
    if wc.ndim == 2:
        wc = wc[..., None]
        wb = None if weight_bound is None else wb.reshape(W, S, -1)
    if wc.shape[:2] != (W, S) or (wb is not None and wb.shape != wc.shape):
        raise ValueError(
            f"weight_change, weight_bound: expected equal shapes (W, S, R) with (W, S) = {(W, S)}, "
            f"got {wc.shape} and {None if wb is None else wb.shape}"
        )
    if bern.shape != (W,):
        raise ValueError(f"bernstein: expected one bound per width, shape ({W},), got {bern.shape}")
    parts, measured, intervals, counter = [], {}, {}, None

    # (a) the two rates
    for key, vals, label in (
        ("H0_minus_Hstar", h0, "‖H(0) − H*‖"),
        ("sup_Ht_minus_H0", ht, "sup_t ‖H(t) − H(0)‖"),
    ):
        measured[key] = [[float(x) for x in row] for row in vals]
        part, d = _rate_part(
            label, widths, vals, margin=margin, violation_margin=violation_margin, alpha=alpha
        )
        parts.append(part)
        if d is not None:
            measured[f"slope_{key}"] = d.slope
            intervals[f"slope_{key}"] = [d.lo, d.hi]

    # (b) weight movement: explicit bound decides; the rate is a diagnostic
    wmax = wc.max(axis=-1)
    measured["max_weight_change"] = [[float(x) for x in row] for row in wmax]
    bname = "max_r |w_r(t) − w_r(0)| ≤ η m^-1/2 √K Σ_s √(2L(s))"
    if wb is None:
        bd = None
        parts.append(
            Part(
                bname,
                INCONCLUSIVE,
                "no bound: it sums the loss of every step, and the losses were not "
                "recorded at every step (set record_every = 1).",
                why="losses not recorded every step",
            )
        )
    else:
        bd = bounded_by(wc, wb, delta=0.0)
        measured["weight_change_over_bound_max"] = bd.max_ratio
        if bd.status == VIOLATED:
            wi, si = bd.worst[0], bd.worst[1]
            counter = {
                "width": int(widths[wi]),
                "seed": int(seeds[si]),
                "max_weight_change": float(wc[bd.worst]),
                "bound": float(wb[bd.worst]),
            }
        parts.append(
            Part(
                bname,
                bd.status,
                f"measured/bound at most {fmt(bd.max_ratio)} over {bd.points} (width, seed, "
                f"step) points. Rule: bounded_by (deterministic bound): {bd.rule}.",
                why="" if bd.status == HOLDS else f"measured/bound {fmt(bd.max_ratio)}",
            )
        )
    wpart, wd = _rate_part(
        "max_r |w_r(t) − w_r(0)|",
        widths,
        wmax,
        margin=margin,
        violation_margin=max(violation_margin, WEIGHT_VIOLATION_MARGIN),
        alpha=alpha,
        decisive=False,
    )
    if wd is not None:
        measured["slope_max_weight_change"] = wd.slope
        intervals["slope_max_weight_change"] = [wd.lo, wd.hi]
    parts.append(
        Part(
            wpart.name + " (diagnostic)",
            wpart.status,
            wpart.finding
            + " Not decisive: a maximum over m neurons fits a slope above −1/2 at these "
            "widths (docs/calibration.md, pre-asymptotic rows); the bound above decides.",
            False,
        )
    )

    # (c) λ_min(H(t)) >= λ/2
    measured["min_eig_Ht"] = [[float(x) for x in row] for row in eig]
    name = "λ_min(H(t)) ≥ λ/2"
    if not lam > lam_resolution:
        parts.append(
            Part(
                name,
                VACUOUS,
                f"{lam_words(lam, lam_resolution)}; measured min_t λ_min(H(t)) in "
                f"[{fmt(float(eig.min()))}, {fmt(float(eig.max()))}].",
                why="λ unresolved",
            )
        )
    else:
        lo_b, hi_b = (lam - lam_resolution) / 2 - eig_error, (lam + lam_resolution) / 2 + eig_error
        bad = eig < lo_b
        where = f"λ = {fmt(lam)} ± {fmt(lam_resolution)} ({lam_precision}), eigenvalue error e = {fmt(eig_error)}"
        if bad.any():
            wi, si = first_case(bad)
            counter = counter or {
                "width": int(widths[wi]),
                "seed": int(seeds[si]),
                "min_eig_Ht": float(eig[wi, si]),
                "lambda_over_2": lam / 2,
            }
            parts.append(
                Part(
                    name,
                    VIOLATED,
                    f"at m = {int(widths[wi])}, seed {int(seeds[si])}: λ_min(H(t)) = "
                    f"{fmt(float(eig[wi, si]))} < (λ − ρ)/2 − e = {fmt(lo_b)} ({where}).",
                    why="λ_min(H(t)) below λ/2",
                )
            )
        elif (eig >= hi_b).all():
            parts.append(
                Part(
                    name,
                    HOLDS,
                    f"min over runs and t {fmt(float(eig.min()))} ≥ (λ + ρ)/2 + e = {fmt(hi_b)} ({where}).",
                )
            )
        elif lam / 2 < eig_error:
            parts.append(
                Part(
                    name,
                    VACUOUS,
                    f"λ/2 = {fmt(lam / 2)} lies below the float64 error e = {fmt(eig_error)} of a "
                    f"computed λ_min(H(t)), and the measured values [{fmt(float(eig.min()))}, "
                    f"{fmt(float(eig.max()))}] are within it: the check cannot be read ({where}).",
                    why="λ below float64",
                )
            )
        else:
            parts.append(
                Part(
                    name,
                    INCONCLUSIVE,
                    f"some λ_min(H(t)) lie within rounding of λ/2 = {fmt(lam / 2)} ({where}).",
                    why="within rounding of λ/2",
                )
            )

    # (d) matrix Bernstein, 1 - δ per run
    bb = bounded_by(h0, bern[:, None], delta=delta, alpha=alpha, correction="holm")
    ratio = bern[:, None] / np.maximum(h0, 1e-300)
    if bb.status == VIOLATED and counter is None:
        wi, si = bb.worst
        counter = {
            "width": int(widths[wi]),
            "seed": int(seeds[si]),
            "H0_minus_Hstar": float(h0[wi, si]),
            "bernstein_bound": float(bern[wi]),
        }
    if bb.probability is not None:
        intervals["bernstein_exceedance_upper"] = list(bb.probability.upper)
    parts.append(
        Part(
            "‖H(0) − H*‖ ≤ t_δ(m) w.p. ≥ 1 − δ (matrix Bernstein)",
            bb.status,
            f"{bb.exceedances} of {bb.points} runs exceed t_δ(m); the bound is {float(ratio.min()):.1f}× to "
            f"{float(ratio.max()):.1f}× the measured value. Rule: bounded_by with δ = {delta:g}: {bb.rule}.",
            why=_bernstein_why(bb),
        )
    )

    status = combine_parts(
        parts
    )  # a part that cannot be read (λ below float64) is named, it does not hide the rest
    decisive = "; ".join(f"{p.name}: {p.status}" for p in parts if p.decisive)
    observed = _c4_observed(
        widths,
        h0,
        ht,
        lam=lam,
        margin=margin,
        violation_margin=violation_margin,
        alpha=alpha,
        steps=steps,
    )
    budget = f"{W} widths {int(widths[0])}–{int(widths[-1])} × {S} seeds"
    need = ""
    if status == INCONCLUSIVE:
        need = (
            " A rate reaches HOLDS once its interval's half-width is below Δ: about 9 widths × 30 seeds for a CLT "
            f"rate (docs/calibration.md); the Bernstein part needs ≥ {runs_for_zero_failures(delta, alpha)} runs "
            f"per width at δ = {delta:g}, α = {alpha:g} (0 failures then give a Clopper–Pearson end ≤ δ)."
        )
    explanation = (
        f"Over {budget}: {decisive}. The weight rate is a diagnostic "
        + (f"(fitted {wd.slope:.2f}); " if wd is not None else "; ")
        + (
            f"each neuron moves at most {fmt(bd.max_ratio)} of its explicit bound."
            if bd is not None
            else "no weight bound (losses not recorded at every step)."
        )
        + need
    )
    return Verdict(
        claim="C4",
        status=status,
        explanation=explanation,
        measured=measured,
        bounds={
            "bernstein_t_delta": [float(b) for b in bern],
            "lambda_over_2": lam / 2,
            "delta": delta,
            "margin": margin,
            "violation_margin": violation_margin,
            "weight_violation_margin": max(violation_margin, WEIGHT_VIOLATION_MARGIN),
        },
        intervals=intervals,
        parts=tuple(parts),
        counterexample=counter,
        tested_range={"widths": [int(w) for w in widths], "seeds": [int(s) for s in seeds]},
        config=config or {},
        seed=seed,
        observed=observed,
        arrays={
            "widths": widths,
            "h0_dist": h0,
            "ht_change": ht,
            "weight_change": wmax,
            **({} if wb is None else {"weight_bound": wb.max(axis=-1)}),
            "bernstein": bern,
            "min_eig": eig,
        },
    )


def run_c4(section: dict, ctx) -> Verdict:
    n = ctx.config["data"]["n"]
    sigma = ctx.config["data"]["sigma"]
    eta = ctx.step_size(section, sizes=[n])
    res = width_sweep(ctx, n, section, f"C4 sweep n={n}", sigma=ctx.sigma())
    X = np.asarray(ctx.dataset(n).X)
    lam = ctx.lambda_star(n, sigma=sigma)[0]
    K = bounds.popoviciu_constant(X)
    bern = bounds.bernstein_deviation(
        res.widths, K=K, norm=lam.norm + lam.quadrature_error, n=n, delta=section["delta"]
    )
    bern = bern + n * lam.quadrature_error  # H* is known only to its quadrature error
    eig_err = n * bounds.EPS64 * float(np.abs(res.ntk_initial).max()) * 4
    wb = (
        weight_bound(res.loss, res.step, eta=eta, widths=res.widths, K=K)
        if section["record_every"] == 1
        else None
    )  # the bound sums the loss of every step
    return check_c4(
        widths=res.widths,
        seeds=res.seeds,
        h0_dist=res.ntk_infinite_distance,
        ht_change=res.ntk_change.max(axis=-1),
        weight_change=res.max_weight_change,
        weight_bound=wb,
        min_eig=res.ntk_min_eigenvalue.min(axis=-1),
        lam=lam.value,
        lam_resolution=lam.resolution,
        lam_precision=lam.precision,
        bernstein=bern,
        delta=section["delta"],
        alpha=section["alpha"],
        margin=section["margin"],
        violation_margin=section["violation_margin"],
        eig_error=eig_err,
        steps=section["steps"],
        config={"C4": section, "data": ctx.config["data"]},
        seed=ctx.seed,
    )


def plot_c4(v: Verdict, out: Path) -> list[str]:
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


def summary_c4(v: Verdict) -> str:
    s = [v.measured.get(k) for k in ("slope_H0_minus_Hstar", "slope_sup_Ht_minus_H0")]
    slopes = "/".join(f"{x:.2f}" if x is not None else "–" for x in s)
    r = v.measured.get("weight_change_over_bound_max")
    ob = v.observed
    onset = None if ob is None else ob.looseness.get("onset_width")
    return (
        f"slopes {slopes} (HOLDS ≤ −0.5 + Δ = {-0.5 + v.bounds.get('margin', 0.1):.2f}); "
        f"max|Δw|/bound {fmt(r) if r is not None else '–'}"
        + (
            ""
            if ob is None
            else f"; observed {ob.status}" + (f" from m₀ = {onset}" if onset is not None else "")
        )
    )


def example_check_input() -> tuple[dict, str]:
    r"""Keyword arguments of :func:`check_c4` whose verdict is known, and that verdict: distances
    decaying like :math:`m^{-0.5}` (5% scatter, 9 widths × 30 seeds: slope interval within
    −1/2 ± 0.05 ≤ −0.4), weight changes at half their bound, below the Bernstein bound in all 40 runs
    per width, and :math:`\lambda_{\min}(H(t)) = 0.8 \ge \lambda/2 = 0.5`: HOLDS."""
    m = 64.0 * 2.0 ** np.arange(9)
    S = 40
    h0 = m[:, None] ** -0.5 * np.exp(0.05 * np.random.default_rng(0).normal(size=(9, S)))
    wc = np.stack([h0 * 3 * k / 4 for k in range(5)], -1)
    return dict(
        widths=m,
        seeds=list(range(S)),
        h0_dist=h0,
        ht_change=h0 / 2,
        weight_change=wc,
        weight_bound=2 * wc + 1e-3 * np.arange(5),
        min_eig=np.full((9, S), 0.8),
        lam=1.0,
        lam_resolution=1e-12,
        bernstein=np.full(9, 100.0),
        delta=0.1,
    ), HOLDS


def memory_c4(section: dict, data: dict) -> tuple[int, str]:
    """Peak memory growth: the width × seed sweep at ``[data] n`` in blocks of ``seeds_per_block``
    seeds (:func:`verification.contract.sweep_bytes`) and the symmetrised H(t) of every record of a
    block brought to the host (R × runs × n × n)."""
    S, n = section["seeds"], data["n"]
    per = blocks_of(S, section["seeds_per_block"])
    R = section["steps"] // section["record_every"] + 1
    return memory_sum(
        sweep_bytes(
            n=n,
            widths=section["widths"],
            seeds=S,
            steps=section["steps"],
            record_every=section["record_every"],
            seeds_per_block=per,
        ),
        (
            8 * R * per * len(section["widths"]) * n * n,
            "H(t) records of one block (R × runs × n × n)",
        ),
    )


CLAIM = Claim(
    id="C4",
    source="lemmas of Thm 5.2",
    title="NTK stays near H* and H(0) as m grows",
    statement=r"\|H(0)-H^*\|,\ \sup_t\|H(t)-H(0)\|,\ \max_r|w_r(t)-w_r(0)| = O(m^{-1/2});\ "
    r"\lambda_{\min}(H(t))\ge\lambda/2",
    params={
        **training_fields(**C4_DEFAULTS),
        "delta": DELTA,
        "alpha": ALPHA,
        "margin": cfg.nonneg_float(
            0.1,
            "rate margin Δ: O(m^-1/2) HOLDS when the slope's upper end ≤ −1/2 + Δ "
            "(docs/calibration.md)",
        ),
        "violation_margin": cfg.nonneg_float(
            0.1,
            "rate margin Δ_v ≥ Δ: VIOLATED when the slope's lower end > "
            "−1/2 + Δ_v (docs/calibration.md)",
        ),
        "seeds_per_block": cfg.positive_int(
            36, "seeds batched into one compiled program (memory ∝ this)"
        ),
    },
    run=run_c4,
    check=check_c4,
    plot=plot_c4,
    summary=summary_c4,
    training=data_n_training,
    memory=memory_c4,
)
