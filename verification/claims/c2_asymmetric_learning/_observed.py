r"""C2's observed law: each network's onset of :math:`1-\delta` agreement and its exponent in m
beside :math:`t_{align} \propto m`, the orders between them and the :math:`c_A` that would close
them, the plateaus settled below :math:`1-\delta`, the seed-level decision at T with its budget,
and (the ``eta_factors`` run) the onset's exponent in η beside :math:`t_{align} \propto 1/\eta`.
Numbers and statuses are decided here; the sentences come from :mod:`._words`."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from verification.claims.c2_asymmetric_learning import _words as words
from verification.claims.c2_asymmetric_learning._curves import onset_times
from verification.claims.c2_asymmetric_learning._fits import OnsetFit, onset_fit
from verification.rules import _laws as laws
from verification.rules._verdict import INCONCLUSIVE, VACUOUS, Observed


class Onsets(NamedTuple):
    """Each network's onset (W, S): the first record from which both groups' agreement stays
    ≥ 1-δ at every later record (``inf``: censored, no onset by T); ``censored`` networks per
    width; ``latest`` (``inf`` where any network is censored) and ``median`` per width; ``fit`` its
    exponent in m against 1 (:func:`._fits.onset_fit`)."""

    onset: np.ndarray
    censored: np.ndarray
    latest: np.ndarray
    median: np.ndarray
    fit: OnsetFit


def onsets(onset_seed, j_target: int, steps, widths, *, margin: float, alpha: float) -> Onsets:
    """The onsets from the per-seed onsets ``onset_seed[g]`` (W, S, L) at the level index
    ``j_target`` (1-δ): the later of the two groups', and their exponent in m."""
    onset = np.maximum(onset_seed["+1"][:, :, j_target], onset_seed["-1"][:, :, j_target])
    fit = onset_fit(widths, onset, steps, exponent=1.0, margin=margin, alpha=alpha)
    censored = np.sum(~np.isfinite(onset), axis=1)
    return Onsets(onset, censored, onset.max(axis=1), np.median(onset, axis=1), fit)


def looseness(o: Onsets, t_align, widths, *, eta, lam, v_min) -> dict:
    r"""Orders of magnitude from the observed onset (the latest network's; the median network's
    where some network is censored) to :math:`t_{align}`, and the :math:`c_A` that would make
    :math:`t_{align}` that onset; onsets only (a censored width is left out); empty where no width
    has both."""
    ref, who = (o.latest, words.LATEST) if np.isfinite(o.latest).all() else (o.median, words.MEDIAN)
    ok = np.isfinite(ref) & (ref > 0) & np.isfinite(t_align)
    if not ok.any():
        return {}
    orders = np.log10(t_align[ok] / ref[ok])
    return {
        "orders_t_align_over_onset": [float(x) for x in orders],
        "onset_of": who,
        "onset_widths": [int(m) for m in widths[ok]],
        "c_A_supported": float(np.max(ref[ok] * eta * lam * v_min / widths[ok])),
    }


def onset_look(o: Onsets, widths, T: int) -> tuple[dict, list]:
    """The onsets' sentence and their exponent in m (or why it is uninformative)."""
    look, sentences = {}, [words.onset_words(widths, o.median, o.latest, o.censored, T)]
    if o.fit.rate is not None:
        look["onset_exponent_m"] = o.fit.rate.slope
        look["onset_exponent_interval"] = [o.fit.rate.lo, o.fit.rate.hi]
        sentences.append(words.onset_rate_words(o.fit.rate, o.fit.basis))
    else:
        sentences.append(words.onset_uninformative(o.fit.why))
    return look, sentences


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
    onset_seed,
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
    r"""Asymmetric learning as an empirical law: each network's onset (first record from which
    both groups' agreement stays ≥ 1-δ to T; none, censored, when it does not), its exponent in m
    beside t_align ∝ m, and the seed-level decision at
    T (:func:`verification.rules._laws.fraction_decision` on the per-network failure
    ``fractions``, one array per width × group); when INCONCLUSIVE, the budget from resampling them
    (:func:`budget`). With ``eta_scan`` (``check_c2``'s), the onset's exponent in η beside
    t_align ∝ 1/η (:func:`eta_exponent`): a diagnostic, never the status. Adds
    ``observed_onset``, ``median_onset`` and ``onset_censored`` to ``measured``."""
    o = onsets(onset_seed, j_target, steps, widths, margin=margin, alpha=alpha)
    T = int(steps[-1])
    look, sentences = onset_look(o, widths, T)
    if eta_scan is not None:
        e_look, e_words = eta_exponent(eta_scan, steps, 1 - delta, margin=margin, alpha=alpha)
        look.update(e_look)
        sentences.append(e_words)
    loose = looseness(o, t_align, widths, eta=eta, lam=lam, v_min=v_min)
    if loose:
        look.update(loose)
        bound = "≥ " if o.fit.why.startswith("reached by") else ""
        orders = np.asarray(loose["orders_t_align_over_onset"])
        sentences.append(words.looseness_words(loose, bound, orders))
    elif np.isfinite(t_align).any():
        sentences.append(words.NO_LOOSENESS)
    low = settled_below(measured, widths, delta)
    if low:
        look["settled_below_target"] = {str(m): [p, q] for m, p, q in low}
        sentences.append(words.settled_below_words(low))
    status = VACUOUS if dec is None else dec.status
    measured["onset_censored"] = [int(k) for k in o.censored]
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
    r"""The onset's exponent in η: each network's onset (first record from which both groups'
    agreement stays ≥ ``target`` to T) at each step size of ``scan`` (``etas`` (E,),
    ``agree_*`` (E, S, R), ``n_*`` (E, S), optional ``diverged`` (E,) counts), log onset on log η
    by
    :func:`verification.rules.rate_decision` (the seed the unit) against exponent −1
    (t_align ∝ 1/η) with margin ``margin``, by :func:`._fits.onset_fit` (uninformative with fewer
    than 3 step sizes or finite medians, censored, quantised or collinear onsets). Returns
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
                onset_times(
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
    T = int(np.asarray(steps)[-1])
    fit = onset_fit(etas, onset, steps, exponent=-1.0, margin=margin, alpha=alpha, unit="step size")
    if fit.rate is None:
        look["onset_exponent_eta_status"] = words.eta_uninformative(fit.why)
        return look, words.eta_words(etas, look["median_onset_eta"], div, fit.why, None, T)
    rd = fit.rate
    look.update(
        onset_exponent_eta=rd.slope,
        onset_exponent_eta_interval=[rd.lo, rd.hi],
        onset_exponent_eta_status=rd.status,
    )
    return look, words.eta_words(etas, look["median_onset_eta"], div, "", rd, T)
