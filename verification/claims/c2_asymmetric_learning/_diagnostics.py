r"""C2's diagnostics, reported beside the verdict and never deciding it: the designated neuron (the
former one-trial-per-network rule), the first record each level is crossed (pooled), the
saturation plateau, the exponent of the networks' onsets against m and the linearised
:math:`t\to\infty` signs."""

from __future__ import annotations

import numpy as np

from verification.claims.c2_asymmetric_learning import _words as words
from verification.claims.c2_asymmetric_learning._curves import GROUPS, NAME, C2Input, plateau
from verification.claims.c2_asymmetric_learning._fits import MIN_POINTS, median_onsets, onset_fit
from verification.rules import _laws as laws
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VACUOUS, Part, combine_status


def designated(x: C2Input, designated_agree, *, delta: float, alpha: float) -> Part | None:
    """The former rule as a diagnostic: the first neuron of each group in each network as one
    trial (:func:`verification.rules._laws.seed_decision`); ``designated_agree`` (W, S, 2)."""
    W, S = x.widths.size, x.agree["+1"].shape[1]
    D = np.asarray(designated_agree, bool)
    if D.shape != (W, S, 2):
        raise ValueError(f"designated_agree: expected shape (W={W}, S={S}, 2), got {D.shape}")
    has = {g: x.n[g] > 0 for g in GROUPS}  # (W, S) networks with a neuron of the group
    fails = [int(np.sum(~D[wi, has[g][wi], gi])) for gi, g in enumerate(GROUPS) for wi in range(W)]
    trials = [int(np.sum(has[g][wi])) for g in GROUPS for wi in range(W)]
    dec = laws.seed_decision(fails, trials, delta=delta, alpha=alpha)
    if dec is None:
        return None
    finding = words.designated_finding(fails, trials, x.widths, GROUPS, dec.rule)
    return Part(words.DESIGNATED_NAME, dec.status, finding, False)


def curve_numbers(x: C2Input, first, level, settled, all_levels) -> dict:
    """Per group: the pooled agreement at T and at t = 0, the plateau, whether it settled, and the
    first crossing of each level (pooled; not an onset)."""
    measured = {}
    for g in GROUPS:
        name = NAME[g]
        measured[f"final_agreement_{name}"] = [float(v) for v in x.frac[g][:, -1]]
        measured[f"initial_agreement_{name}"] = [float(v) for v in x.frac[g][:, 0]]
        measured[f"plateau_{name}"] = [float(v) for v in level[g]]
        measured[f"plateau_settled_{name}"] = [bool(v) for v in settled[g]]
        measured[f"first_crossing_{name}"] = {
            f"{L:g}": [float(v) for v in first[g][:, j]] for j, L in enumerate(all_levels)
        }
    return measured


def levels_part(x: C2Input, first, all_levels, target: float, T: int) -> Part:
    """The first record both groups cross each level (pooled over networks; a first crossing, not
    an onset); HOLDS when 1-δ is crossed at every width."""
    reached = []
    for j, L in enumerate(all_levels):
        both = np.maximum(first["+1"][:, j], first["-1"][:, j])
        ok = np.isfinite(both)
        reached.append((L, list(zip(x.widths[ok], both[ok]))))
    jt = all_levels.index(target)
    at_target = np.isfinite(np.maximum(first["+1"][:, jt], first["-1"][:, jt]))
    status = HOLDS if at_target.all() else INCONCLUSIVE
    return Part(words.LEVELS_NAME, status, words.levels_finding(reached, T), False)


def saturation(x: C2Input, level, settled) -> tuple[Part, list | None]:
    """The plateau of each group and width, HOLDS when every one settled; with 3+ widths and
    positive plateaus, their least-squares change per unit log m (descriptive)."""
    slopes = None
    if x.widths.size >= 3 and all(
        np.all(np.isfinite(level[g])) and np.all(level[g] > 0) for g in GROUPS
    ):
        slopes = [float(np.polyfit(np.log(x.widths), level[g], 1)[0]) for g in GROUPS]
    status = HOLDS if all(settled[g].all() for g in GROUPS) else INCONCLUSIVE
    finding = words.saturation_finding(x.widths, level, settled, slopes)
    return Part(words.SATURATION_NAME, status, finding, False), slopes


def exponent_fits(x: C2Input, onset_seed, all_levels, *, margin: float, alpha: float):
    """For each group and level with a finite median onset at 3+ widths, the exponent of the
    networks' onsets (held to T) against m by :func:`._fits.onset_fit` against 1;
    ``(fits, uninformative)`` keyed ``"g@L"``, the latter with why (censored, quantised or
    collinear onsets, never HOLDS)."""
    fits, quantised = {}, {}
    for g in GROUPS:
        for j, L in enumerate(all_levels):
            onset = onset_seed[g][:, :, j]
            if np.isfinite(median_onsets(onset)).sum() < MIN_POINTS:
                continue
            fit = onset_fit(x.widths, onset, x.steps, exponent=1.0, margin=margin, alpha=alpha)
            if fit.rate is None:
                quantised[f"{g}@{L:g}"] = fit.why
            else:
                fits[f"{g}@{L:g}"] = fit.rate
    return fits, quantised


def exponent_part(fits: dict, quantised: dict) -> Part:
    if fits:
        status = combine_status(r.status for r in fits.values())
        finding = words.exponent_finding(fits, quantised)
        return Part(words.EXPONENT_NAME, status, finding, False)
    if quantised:
        finding = words.exponent_uninformative(quantised)
        why = words.EXPONENT_QUANTISED_WHY
        return Part(words.EXPONENT_NAME, VACUOUS, finding, False, why=why)
    return Part(words.EXPONENT_NAME, VACUOUS, words.NO_EXPONENT, False, why=words.NO_EXPONENT_WHY)


def exponent_numbers(fits: dict, quantised: dict) -> tuple[dict, dict]:
    measured, intervals = {}, {}
    for k, rd in fits.items():
        g, L = k.split("@")
        measured.setdefault("onset_exponent", {})[f"a_r={g}, level {L}"] = rd.slope
        intervals[f"onset_exponent[a_r={g}, level {L}]"] = [rd.lo, rd.hi]
    if quantised:
        measured["onset_exponent_uninformative"] = quantised
    return measured, intervals


def linear_part(linear_agreement, target: float) -> tuple[Part, dict]:
    r"""The fraction of neurons whose linearised :math:`t\to\infty` sign of
    :math:`w_r - w_r(0)` matches real training's (a mapping width → per-seed values); HOLDS when
    the worst seed reaches ``target``."""
    la = {int(m): np.asarray(v, np.float64) for m, v in dict(linear_agreement).items()}
    means = {str(m): float(v.mean()) for m, v in la.items()}
    predicts = min(float(v.min()) for v in la.values()) >= target
    part = Part(
        words.LINEAR_NAME,
        HOLDS if predicts else INCONCLUSIVE,
        words.linear_finding(la, predicts),
        False,
    )
    return part, means


def diagnostics(
    x: C2Input, first, onset_seed, all_levels, target, T, *, margin, alpha, linear_agreement
) -> tuple[list, dict, dict]:
    """The first crossings, saturation, onset exponent and linearised-sign parts (none
    decisive), with their measured numbers and intervals."""
    level, settled = {}, {}
    for g in GROUPS:
        level[g], settled[g] = plateau(x.frac[g], x.steps)
    measured = curve_numbers(x, first, level, settled, all_levels)
    measured["levels"] = list(all_levels)
    parts = [levels_part(x, first, all_levels, target, T)]
    sat, slopes = saturation(x, level, settled)
    if slopes is not None:
        measured["plateau_change_per_log_m"] = slopes
    parts.append(sat)
    fits, quantised = exponent_fits(x, onset_seed, all_levels, margin=margin, alpha=alpha)
    parts.append(exponent_part(fits, quantised))
    exp_measured, intervals = exponent_numbers(fits, quantised)
    measured.update(exp_measured)
    if linear_agreement is not None:
        lin, measured["linearized_sign_agreement"] = linear_part(linear_agreement, target)
        parts.append(lin)
    return parts, measured, intervals
