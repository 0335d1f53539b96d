r"""C3's readings with the network draw as the unit, its premises, and its observed law (private to C3).

Every probability statement counts networks (seeds), not neurons (:mod:`verification.rules._laws`): the
neuron reading follows one designated neuron per network — the first one with :math:`w_r < 0`
(the premise) — and the population reading asks of each network whether its neuron-averaged masses
satisfy the inequality. Neuron fractions are reported beside them as descriptive numbers.
"""

from __future__ import annotations

import math

import numpy as np

from verification.rules import _laws as laws
from verification.rules import clopper_pearson
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VACUOUS, VIOLATED, Part

KERNEL_THRESHOLD_WHY = (
    "the theorem's kernel regime needs ‖H(t) − H(0)‖ ≤ λ/4 (Weyl: λ_min(H(t)) ≥ λ/2 given λ_min(H(0)) ≥ 3λ/4), "
    "and λ ≤ ‖H*‖ ≈ ‖H(0)‖, so a relative change above 1/4 rules the regime out whatever λ is"
)


def reference(M: np.ndarray, versus: str) -> np.ndarray:
    """The right-hand side per row: :math:`\\min_{k<d}` (``every``) or :math:`\\frac1{d-1}\\sum_{k<d}` (``average``)."""
    return M[..., :-1].min(axis=-1) if versus == "every" else M[..., :-1].mean(axis=-1)


def neuron_ok(M: np.ndarray, versus: str, atol: float) -> np.ndarray:
    """Per neuron: :math:`\\bar s_{r,d} \\le` the reference + ``atol`` (boolean, shape ``M.shape[:-1]``)."""
    return M[..., -1] <= reference(M, versus) + atol


def seed_reading(
    M: np.ndarray,
    eligible: np.ndarray,
    seeds,
    m: int,
    expectation: str,
    versus: str,
    *,
    atol: float,
) -> dict:
    r"""One reading of Thm 5.3 at one width, one trial per network: ``M`` (S, m, d), ``eligible`` (S, m).

    ``neuron``: the designated neuron (the first eligible one) satisfies the inequality;
    ``population``: the masses averaged over the network's eligible neurons do. Returns the failing
    and trial counts, the descriptive value (fraction of eligible neurons satisfying it, or the mean
    gap over networks) and the first failing network as a counterexample.
    """
    S = M.shape[0]
    if expectation == "neuron":
        ok = neuron_ok(M, versus, atol)
        fails, trials, idx = laws.designated_outcomes(ok, eligible)
        value = float(ok[eligible].mean()) if eligible.any() else math.nan
        bad = [s for s in range(S) if idx[s] >= 0 and not ok[s, idx[s]]]
        out = {
            "fails": fails,
            "trials": trials,
            "value": value,
            "words": f"designated neuron fails in {fails}/{trials} networks; {value:.1%} of eligible neurons hold "
            "(descriptive)",
        }
        if bad:
            s, r = bad[0], int(idx[bad[0]])
            out["counterexample"] = {
                "reading": f"{expectation}/{versus}",
                "width": m,
                "seed": int(np.asarray(seeds)[s]),
                "neuron": r,
                "mass_last": float(M[s, r, -1]),
                "reference_mass": float(reference(M[s, r], versus)),
                "least_attended_position": int(np.argmin(M[s, r, :-1])) + 1,
            }
        return out
    gaps = np.array(
        [
            reference(M[s][eligible[s]].mean(axis=0), versus) - M[s][eligible[s]].mean(axis=0)[-1]
            if eligible[s].any()
            else math.nan
            for s in range(S)
        ]
    )
    has = np.isfinite(gaps)
    fails = int(np.sum(gaps[has] < -atol))
    value = float(np.mean(gaps[has])) if has.any() else math.nan
    out = {
        "fails": fails,
        "trials": int(has.sum()),
        "value": value,
        "words": f"network-averaged masses fail in {fails}/{int(has.sum())} networks; mean gap {value:.4g}",
    }
    if fails:
        s = int(np.flatnonzero(has & (gaps < -atol))[0])
        out["counterexample"] = {
            "reading": f"{expectation}/{versus}",
            "width": m,
            "seed": int(np.asarray(seeds)[s]),
            "gap": float(gaps[s]),
        }
    return out


def decide(results, widths, *, delta: float, alpha: float) -> tuple[str, str]:
    """Status and rule of :func:`verification.rules._laws.seed_decision` over the widths' ``results``."""
    dec = laws.seed_decision(
        [r["fails"] for r in results], [r["trials"] for r in results], delta=delta, alpha=alpha
    )
    if dec is None:
        return VACUOUS, "no network has an eligible neuron"
    return dec.status, f"{laws.SEED_RULE}: {dec.rule}"


def kernel_premise(kernel_change, widths, threshold: float) -> Part:
    r"""Premise: the run stays in the kernel regime, :math:`\max_s \|H(T)-H(0)\|_2/\|H(0)\|_2 \le` ``threshold``."""
    name = f"premise: kernel regime ‖H(T) − H(0)‖/‖H(0)‖ ≤ {threshold:g}"
    if kernel_change is None:
        return Part(
            name, VACUOUS, "not measured.", role="premise", why="kernel regime not measured"
        )
    worst = [float(np.max(k)) for k in kernel_change]
    ok = max(worst) <= threshold
    finding = (
        ", ".join(f"m = {m}: max over seeds {w:.3g}" for m, w in zip(widths, worst))
        + f" {'≤' if ok else '>'} {threshold:g} ({KERNEL_THRESHOLD_WHY})."
    )
    return Part(
        name,
        HOLDS if ok else VIOLATED,
        finding,
        role="premise",
        why="" if ok else f"kernel regime left: ‖ΔH‖/‖H(0)‖ = {max(worst):.3g} > {threshold:g}",
    )


def step_premise(eta, lam, lam_resolution, delta: float) -> tuple[Part, float]:
    """Premise η ≤ O(λδ/poly) (:func:`verification.rules._laws.step_size_premise`) and its orders of magnitude."""
    name = "premise: step size η ≤ O(λδ/poly)"
    if eta is None or lam is None:
        return Part(
            name, VACUOUS, "λ or η not given.", role="premise", why="step size not checked"
        ), math.nan
    sp = laws.step_size_premise(float(eta), float(lam), float(lam_resolution), delta=delta)
    why = {
        HOLDS: "",
        VIOLATED: f"η above λδ by {sp.orders:.0f} orders",
        VACUOUS: "λ below its resolution",
    }[sp.status]
    return Part(name, sp.status, sp.finding + ".", role="premise", why=why), sp.orders


def negative_premise(
    weights, widths, seeds, *, delta: float, alpha: float
) -> tuple[Part, list, dict]:
    r"""Premise :math:`w_r(T) < 0`: the designated neuron (neuron 0) of each network, seeds as trials."""
    res, intervals = [], {}
    for w, m in zip(weights, widths):
        neg = w < 0
        fails, trials, _ = laws.designated_outcomes(neg[:, :1])
        res.append({"fails": fails, "trials": trials, "fraction": float(neg.mean())})
        lo, hi = clopper_pearson(np.int64(trials - fails), np.int64(trials), alpha)
        intervals[f"negative_designated[m={m}]"] = [float(lo), float(hi)]
    status, rule = decide(res, widths, delta=delta, alpha=alpha)
    finding = (
        "; ".join(
            f"m = {m}: neuron 0 negative in {r['trials'] - r['fails']}/{r['trials']} networks, "
            f"{r['fraction']:.3f} of all neurons negative (descriptive)"
            for m, r in zip(widths, res)
        )
        + f" vs 1-δ = {1 - delta:g}. Rule: {rule}."
    )
    why = {
        HOLDS: "",
        VIOLATED: "w_r(T) ≥ 0 too often",
        INCONCLUSIVE: f"{len(seeds)} networks cannot show 1-δ",
        VACUOUS: "no network",
    }[status]
    return (
        Part(
            "premise: Pr[w_r(T) < 0] ≥ 1-δ (network draws as trials)",
            status,
            finding,
            role="premise",
            why=why,
        ),
        res,
        intervals,
    )


def observed(
    ok_traj,
    w_traj,
    steps,
    widths,
    *,
    delta: float,
    alpha: float,
    w_grid=None,
    grid_ok=None,
    step_orders: float = math.nan,
    kernel_worst: float = math.nan,
    source: str = "",
) -> dict:
    r"""The conclusion as an empirical law over the records: ``ok_traj[w]`` (S, R, m) whether neuron r's
    masses satisfy the inequality at record j, ``w_traj[w]`` (S, R, m) its weight.

    At each record the designated neuron of every network (its first neuron with :math:`w_r(t) < 0`,
    the theorem's premise) is one trial
    (:func:`verification.rules._laws.seed_decision`, Holm over widths). The status is the decision at the
    last record T; ``t_hold`` is the last record before the first VIOLATED one at which every
    designated neuron held, ``t_star`` the first VIOLATED record, each with the median
    :math:`|w_r|` of the designated neurons; ``w_grid``/``grid_ok`` (the inequality of the data-averaged
    masses at a common weight w on a grid) give the data's boundary :math:`|w|^*`.
    """
    steps = np.asarray(steps)
    R = steps.size
    statuses, rules, allok = [], [], []
    med = np.full(R, math.nan)
    for j in range(R):
        res, absw_j = [], []
        for ok, w in zip(
            ok_traj, w_traj
        ):  # the designated neuron: the first with w_r(t) < 0 (the premise)
            fails, trials, idx = laws.designated_outcomes(ok[:, j], w[:, j] < 0)
            res.append({"fails": fails, "trials": trials})
            absw_j += [abs(w[s, j, i]) for s, i in enumerate(idx) if i >= 0]
        st, rule = decide(res, widths, delta=delta, alpha=alpha)
        (
            statuses.append(st),
            rules.append(rule),
            allok.append(all(r["fails"] == 0 and r["trials"] for r in res)),
        )
        last_res = ([r["fails"] for r in res], [r["trials"] for r in res])
        if absw_j:
            med[j] = float(np.median(absw_j))
    absw = np.concatenate([np.abs(w) for w in w_traj], axis=None)
    bad = [j for j in range(R) if statuses[j] == VIOLATED]
    j_star = bad[0] if bad else None
    held = [j for j in range(R if j_star is None else j_star) if allok[j]]
    j_hold = held[-1] if held else None
    look = {"step_size_orders": step_orders, "kernel_change": kernel_worst}
    words = []
    if j_hold is not None:
        look.update(t_hold=int(steps[j_hold]), median_abs_w_at_t_hold=float(med[j_hold]))
        words.append(
            f"the last position is least attended in every network up to t = {int(steps[j_hold])} "
            f"(median |w_r| {med[j_hold]:.3g})"
        )
    early = set(statuses[: R if j_star is None else j_star]) - {VACUOUS}
    if early and early != {HOLDS}:
        words.append(
            f"before that the seed-level rule reads {'/'.join(sorted(early))} "
            f"({ok_traj[0].shape[0]} draws per width; HOLDS needs {laws.seeds_for_power(delta=delta, alpha=alpha)})"
        )
    if j_star is not None:
        look.update(t_star=int(steps[j_star]), median_abs_w_at_t_star=float(med[j_star]))
        words.append(
            f"it fails from t = {int(steps[j_star])} on (median |w_r| {med[j_star]:.3g}; seed-level VIOLATED)"
        )
    if w_grid is not None and grid_ok is not None:
        order = np.argsort(np.abs(w_grid))
        w_hold, w_fail = laws.conclusion_boundary(
            np.abs(np.asarray(w_grid))[order], np.asarray(grid_ok)[order]
        )
        look.update(w_star_data=w_hold, w_fail_data=w_fail)
        if math.isnan(w_hold):
            words.append(
                f"on the data, a common weight w < 0 breaks it already at the grid's smallest |w| = {w_fail:.3g}"
            )
        elif math.isinf(w_fail):
            words.append(
                f"on the data, a common weight w < 0 keeps it up to the grid's largest |w| = {w_hold:.3g}"
            )
        else:
            words.append(
                f"on the data, a common weight w < 0 keeps it for |w| ≤ {w_hold:.3g} and breaks it at "
                f"|w| = {w_fail:.3g}"
            )
    status = statuses[-1]
    scale = (
        f"m ∈ {{{', '.join(str(m) for m in widths)}}}, t ≤ {int(steps[-1])}, |w_r| ≤ {float(absw.max()):.3g}, "
        f"{ok_traj[0].shape[0]} network draws per width" + (f", data {source}" if source else "")
    )
    text = "; ".join(words)
    finding = (
        f"At T = {int(steps[-1])}: {status} ({rules[-1]})."
        + (f" {text[:1].upper()}{text[1:]}." if text else "")
        + (
            f" Where this is observed, η exceeds the step-size premise λδ by {step_orders:.1f} orders of magnitude"
            if math.isfinite(step_orders) and step_orders > 0
            else ""
        )
        + (
            f"{',' if math.isfinite(step_orders) and step_orders > 0 else ' Where this is observed,'} H changes "
            f"by {kernel_worst:.3g} of ‖H(0)‖."
            if math.isfinite(kernel_worst)
            else ("." if math.isfinite(step_orders) and step_orders > 0 else "")
        )
    )
    return {
        "status": status,
        "rule": laws.SEED_RULE,
        "scale": scale,
        "finding": finding,
        "looseness": look,
        "budget": laws.budget_words(last_res[0], last_res[1], delta=delta, alpha=alpha)
        if status == INCONCLUSIVE
        else "",
        "record_status": statuses,
    }
