r"""C2's observed law: each network's onset of :math:`1-\delta` agreement and its exponent in m
beside :math:`t_{align} \propto m`, the orders between them and the :math:`c_A` that would close
them, the plateaus settled below :math:`1-\delta`, the seed-level decision at T with its budget,
and (the ``eta_factors`` run) the onset's exponent in η beside :math:`t_{align} \propto 1/\eta`.
Numbers and statuses are decided here; the sentences come from :mod:`._words`."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from verification.claims.c2_asymmetric_learning import _words as words
from verification.claims.c2_asymmetric_learning._curves import first_times
from verification.rules import _laws as laws
from verification.rules import rate_decision
from verification.rules._decisions import RateDecision
from verification.rules._verdict import INCONCLUSIVE, VACUOUS, Observed


class Onsets(NamedTuple):
    """Each network's onset (W, S): the first record with both groups' agreement ≥ 1-δ;
    ``latest`` and ``median`` per width; ``why`` the onsets cannot carry an exponent in m ('' when
    they can, :func:`verification.rules._laws.onset_fit_reading`); ``rate`` its decision against
    exponent 1 (None when uninformative or fewer than 3 widths)."""

    onset: np.ndarray
    latest: np.ndarray
    median: np.ndarray
    why: str
    rate: RateDecision | None


def onsets(first_seed, j_target: int, steps, widths, *, margin: float, alpha: float) -> Onsets:
    """The onsets from the per-seed first times ``first_seed[g]`` (W, S, L) at the level index
    ``j_target`` (1-δ), and their exponent in m by :func:`verification.rules.rate_decision`."""
    onset = np.maximum(first_seed["+1"][:, :, j_target], first_seed["-1"][:, :, j_target])
    why = laws.onset_fit_reading(onset, steps)
    rate = None
    if not why and len(widths) >= 3:
        rate = rate_decision(widths, onset, exponent=1.0, margin=margin, alpha=alpha)
    return Onsets(onset, onset.max(axis=1), np.median(onset, axis=1), why, rate)


def looseness(o: Onsets, t_align, widths, *, eta, lam, v_min) -> dict:
    r"""Orders of magnitude from the observed onset (the latest network's; the median network's
    where some network never aligns) to :math:`t_{align}`, and the :math:`c_A` that would make
    :math:`t_{align}` that onset; empty where no width has both."""
    ref, who = (
        (o.latest, "the latest network")
        if np.isfinite(o.latest).all()
        else (o.median, "the median network")
    )
    ok = np.isfinite(ref) & (ref > 0) & np.isfinite(t_align)
    if not ok.any():
        return {}
    orders = np.log10(t_align[ok] / ref[ok])
    return {
        "orders_t_align_over_onset": [float(x) for x in orders],
        "onset_of": who,
        "c_A_supported": float(np.max(ref[ok] * eta * lam * v_min / widths[ok])),
    }


def settled_below(measured: dict, widths, delta: float) -> list[tuple[int, float, float]]:
    """The widths whose plateaus (+1, -1) both settled, one of them below 1-δ."""
    return [
        (int(m), measured["plateau_plus"][wi], measured["plateau_minus"][wi])
        for wi, m in enumerate(widths)
        if measured["plateau_settled_plus"][wi]
        and measured["plateau_settled_minus"][wi]
        and min(measured["plateau_plus"][wi], measured["plateau_minus"][wi]) < 1 - delta
    ]


def budget(dec, fractions, *, delta: float, alpha: float) -> str:
    """Where the decision at T is INCONCLUSIVE, the budget from resampling the per-network
    ``fractions`` (:func:`verification.rules._laws.fraction_seeds_for_power`): none when the mean
    failure fraction is already at or above δ; '' otherwise."""
    if dec is None or dec.status != INCONCLUSIVE:
        return ""
    seeds = None
    if max(dec.mean) < delta:
        seeds = laws.fraction_seeds_for_power(fractions, delta=delta, alpha=alpha)
    return words.observed_budget(dec, delta, seeds)


def observed(
    dec,
    fractions,
    first_seed,
    steps,
    widths,
    j_target,
    t_align,
    *,
    eta,
    lam,
    v_min,
    delta,
    alpha,
    margin,
    seeds,
    source,
    measured,
    eta_scan=None,
) -> Observed:
    r"""Asymmetric learning as an empirical law: each network's onset (first record with both
    groups' agreement ≥ 1-δ), its exponent in m beside t_align ∝ m, and the seed-level decision at
    T (:func:`verification.rules._laws.fraction_decision` on the per-network failure
    ``fractions``, one array per width × group); when INCONCLUSIVE, the budget from resampling them
    (:func:`budget`). With ``eta_scan`` (``check_c2``'s), the onset's exponent in η beside
    t_align ∝ 1/η (:func:`eta_exponent`): a diagnostic, never the status. Adds
    ``observed_onset`` and ``median_onset`` to ``measured``."""
    o = onsets(first_seed, j_target, steps, widths, margin=margin, alpha=alpha)
    look, sentences = {}, []
    if np.isfinite(o.latest).any():
        sentences.append(words.onset_words(widths, o.latest))
    if o.rate is not None:
        look["onset_exponent_m"] = o.rate.slope
        look["onset_exponent_interval"] = [o.rate.lo, o.rate.hi]
        sentences.append(words.onset_rate_words(o.rate))
    elif o.why:
        sentences.append(words.onset_uninformative(o.why))
    if eta_scan is not None:
        e_look, e_words = eta_exponent(eta_scan, steps, 1 - delta, margin=margin, alpha=alpha)
        look.update(e_look)
        sentences.append(e_words)
    loose = looseness(o, t_align, widths, eta=eta, lam=lam, v_min=v_min)
    if loose:
        look.update(loose)
        bound = "≥ " if o.why.startswith("reached by") else ""
        orders = np.asarray(loose["orders_t_align_over_onset"])
        sentences.append(
            words.looseness_words(loose["onset_of"], bound, orders, loose["c_A_supported"])
        )
    low = settled_below(measured, widths, delta)
    if low:
        look["settled_below_target"] = {str(m): [p, q] for m, p, q in low}
        sentences.append(words.settled_below_words(low))
    status = VACUOUS if dec is None else dec.status
    T = int(steps[-1])
    measured["observed_onset"] = [float(x) for x in o.latest]
    measured["median_onset"] = [float(x) for x in o.median]
    return Observed(
        status,
        laws.FRACTION_RULE,
        words.observed_scale(widths, T, eta, seeds, source),
        words.observed_finding(T, status, dec, sentences),
        look,
        budget(dec, fractions, delta=delta, alpha=alpha),
    )


def eta_exponent(scan, steps, target: float, *, margin: float, alpha: float) -> tuple[dict, str]:
    r"""The onset's exponent in η: each network's onset (first record with both groups' agreement
    ≥ ``target``) at each step size of ``scan`` (``etas`` (E,), ``agree_*`` (E, S, R), ``n_*``
    (E, S), optional ``diverged`` (E,) counts), log onset on log η by
    :func:`verification.rules.rate_decision` (the seed the unit) against exponent −1
    (t_align ∝ 1/η) with margin ``margin``. Uninformative when fewer than 3 step sizes or when the
    onsets are censored (:func:`verification.rules._laws.onset_fit_reading`). Returns
    ``(looseness entries, words)``; a diagnostic that never decides the observed status.

    Onsets ∝ 1/η at η = 1, 2, 4 with per-network scatter of one record at two of 40 networks (the
    same onset in every network would be zero spread, never decided):

    >>> steps = np.array([0, 1, 2, 4, 8, 16, 32, 64, 128, 256])
    >>> t = np.tile([[64], [32], [16]], (1, 40))  # (E, S): onset per step size and network
    >>> t[0, 0], t[2, 1] = 128, 32  # network 0 aligns late at η = 1, network 1 at η = 4
    >>> a = np.where(steps >= t[..., None], 10, 0)
    >>> n = np.full((3, 40), 10)
    >>> scan = dict(etas=[1, 2, 4], agree_plus=a, agree_minus=a, n_plus=n, n_minus=n)
    >>> look, words = eta_exponent(scan, steps, 0.9, margin=0.1, alpha=0.05)
    >>> round(look["onset_exponent_eta"], 3), look["onset_exponent_eta_status"]
    (-1.0, 'HOLDS')
    """
    etas = np.asarray(scan["etas"], np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        onset = np.maximum(
            *(
                first_times(
                    np.asarray(scan[f"agree_{g}"]) / np.asarray(scan[f"n_{g}"])[..., None],
                    steps,
                    [target],
                )[..., 0]
                for g in ("plus", "minus")
            )
        )  # (E, S)
    look = {
        "eta_scan": [float(e) for e in etas],
        "median_onset_eta": [float(x) for x in np.median(onset, axis=1)],
    }
    div = [int(k) for k in scan.get("diverged", [])]
    why = laws.onset_fit_reading(onset, steps).replace("width", "step size") or (
        "" if etas.size >= 3 else words.too_few_step_sizes(etas.size)
    )
    if why:
        look["onset_exponent_eta_status"] = words.eta_uninformative(why)
        return look, words.eta_words(etas, look["median_onset_eta"], div, why, None)
    rd = rate_decision(etas, onset, exponent=-1.0, margin=margin, alpha=alpha)
    look.update(
        onset_exponent_eta=rd.slope,
        onset_exponent_eta_interval=[rd.lo, rd.hi],
        onset_exponent_eta_status=rd.status,
    )
    return look, words.eta_words(etas, look["median_onset_eta"], div, "", rd)
