r"""C2's pure helpers on agreement curves, its observed law, the linearised signs and its vmapped
training of every seed of one width (private to C2)."""

from __future__ import annotations

import jax
import numpy as np

from ntk_attention import Params, init_params, train
from ntk_attention import data as ntk_data
from ntk_attention.linearized import predict
from verification.claims._common import fmt
from verification.rules import _laws as laws
from verification.rules import rate_decision
from verification.rules._verdict import INCONCLUSIVE, VACUOUS, Observed


def record_steps(steps: int, records: int) -> np.ndarray:
    """0 and ``records`` log-spaced steps up to ``steps`` (integers, strictly increasing, the last being ``steps``)."""
    if steps < 1 or records < 2:
        raise ValueError(
            f"steps, records: expected steps >= 1 and records >= 2, got {steps}, {records}"
        )
    return np.unique(
        np.concatenate([[0], np.geomspace(1, steps, records).astype(np.int64), [steps]])
    )


def first_times(fractions, steps, levels) -> np.ndarray:
    r"""First recorded step at which each curve reaches each level: :math:`\min\{t_j : f_j \ge L\}`.

    ``fractions`` (..., R) over ``steps`` (R,); returns (..., len(levels)) with ``inf`` where a
    curve never reaches the level (and where it is NaN: a group without neurons).
    """
    f = np.asarray(fractions, np.float64)
    steps = np.asarray(steps, np.float64)
    if f.shape[-1] != steps.size:
        raise ValueError(
            f"fractions: expected a last axis of {steps.size} records, got shape {f.shape}"
        )
    out = np.full(f.shape[:-1] + (len(levels),), np.inf)
    for j, L in enumerate(levels):
        hit = f >= L
        out[..., j] = np.where(hit.any(axis=-1), steps[np.argmax(hit, axis=-1)], np.inf)
    return out


def plateau(
    fractions, steps, *, tail: float = 0.1, tol: float = 0.02
) -> tuple[np.ndarray, np.ndarray]:
    r"""Saturation level of agreement curves: the mean over records with :math:`t \ge` ``tail`` :math:`\cdot T`.

    Returns ``(level, settled)`` of shape ``fractions.shape[:-1]``: ``settled`` when the curve
    moves by at most ``tol`` (max − min) over that last stretch (the final decade by default).
    """
    f = np.asarray(fractions, np.float64)
    steps = np.asarray(steps, np.float64)
    if f.shape[-1] != steps.size:
        raise ValueError(
            f"fractions: expected a last axis of {steps.size} records, got shape {f.shape}"
        )
    last = f[..., steps >= tail * steps[-1]]
    return last.mean(axis=-1), (last.max(axis=-1) - last.min(axis=-1)) <= tol


def observed(
    dec,
    fractions,
    frac_seed,
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
    r"""Asymmetric learning as an empirical law: each network's onset (first record with both groups'
    agreement ≥ 1-δ), its exponent in m beside t_align ∝ m, and the seed-level decision at T
    (:func:`verification.rules._laws.fraction_decision` on the per-network failure ``fractions``, one array
    per width × group); when INCONCLUSIVE, the budget from resampling them
    (:func:`verification.rules._laws.fraction_seeds_for_power`). With ``eta_scan`` (``check_c2``'s), the
    onset's exponent in η beside t_align ∝ 1/η (:func:`eta_exponent`): a diagnostic, never the status."""
    onset = np.maximum(first_seed["+1"][:, :, j_target], first_seed["-1"][:, :, j_target])  # (W, S)
    latest = onset.max(axis=1)  # per width, the last network to align
    look = {}
    words = []
    if np.isfinite(latest).any():
        words.append(
            "Onset of 1-δ agreement (latest network): "
            + ", ".join(f"m = {int(m)}: t = {fmt(t)}" for m, t in zip(widths, latest))
        )
    why = laws.onset_fit_reading(onset, steps)
    if not why and len(widths) >= 3:
        rd = rate_decision(widths, onset, exponent=1.0, margin=margin, alpha=alpha)
        look["onset_exponent_m"] = rd.slope
        look["onset_exponent_interval"] = [rd.lo, rd.hi]
        words.append(
            f"onset ∝ m^{rd.slope:.2f} [{rd.lo:.2f}, {rd.hi:.2f}] against t_align ∝ m^1 ({rd.status})"
        )
    elif why:
        words.append(f"onset exponent in m uninformative ({why})")
    if eta_scan is not None:
        e_look, e_words = eta_exponent(eta_scan, steps, 1 - delta, margin=margin, alpha=alpha)
        look.update(e_look)
        words.append(e_words)
    # looseness from the latest network's onset; where some network never aligns, from the median network's
    median = np.median(onset, axis=1)
    ref, who = (
        (latest, "the latest network")
        if np.isfinite(latest).all()
        else (median, "the median network")
    )
    ok = np.isfinite(ref) & (ref > 0) & np.isfinite(t_align)
    if ok.any():
        orders = np.log10(t_align[ok] / ref[ok])
        bound = "≥ " if laws.onset_fit_reading(onset, steps).startswith("reached by") else ""
        look["orders_t_align_over_onset"] = [float(x) for x in orders]
        look["onset_of"] = who
        look["c_A_supported"] = float(np.max(ref[ok] * eta * lam * v_min / widths[ok]))
        words.append(
            f"t_align exceeds the observed onset ({who}) by {bound}{orders.min():.1f}–{orders.max():.1f} "
            f"orders; c_A = {look['c_A_supported']:.3g} would make t_align that onset"
        )
    low = [
        (int(m), measured["plateau_plus"][wi], measured["plateau_minus"][wi])
        for wi, m in enumerate(widths)
        if measured["plateau_settled_plus"][wi]
        and measured["plateau_settled_minus"][wi]
        and min(measured["plateau_plus"][wi], measured["plateau_minus"][wi]) < 1 - delta
    ]
    if low:
        look["settled_below_target"] = {str(m): [p, q] for m, p, q in low}
        words.append(
            "agreement settled below 1-δ at "
            + ", ".join(f"m = {m} ({p:.2f}/{q:.2f})" for m, p, q in low)
        )
    status = VACUOUS if dec is None else dec.status
    rule_words = "no network with neurons" if dec is None else dec.rule
    finding = f"At T = {int(steps[-1])}: {status} ({rule_words}). " + "; ".join(words) + "."
    measured["observed_onset"] = [float(x) for x in latest]
    measured["median_onset"] = [float(x) for x in median]
    scale = (
        f"m ∈ {{{', '.join(str(int(m)) for m in widths)}}}, t ≤ {int(steps[-1])}, η = {eta:.3g}, "
        f"{seeds} network draws per width" + (f", data {source}" if source else "")
    )
    budget = ""
    if status == INCONCLUSIVE:
        if max(dec.mean) >= delta:
            budget = (
                f"none: the observed mean failure fraction {max(dec.mean):.3g} is at or above δ = {delta:g}, "
                "so more seeds move toward VIOLATED, not HOLDS"
            )
        else:
            S = laws.fraction_seeds_for_power(fractions, delta=delta, alpha=alpha)
            budget = (
                f"{S} seeds per width (power 0.8 of the seed-level rule under the conservative "
                "law: whole groups flipping at the pilot's median-unbiased upper failure rate)"
                if S
                else "more than 512 seeds per width under the conservative law (whole groups "
                "flipping), or a pilot too small to bound the failure rate below δ"
            )
    return Observed(status, laws.FRACTION_RULE, scale, finding, look, budget)


def eta_exponent(scan, steps, target: float, *, margin: float, alpha: float) -> tuple[dict, str]:
    r"""The onset's exponent in η: each network's onset (first record with both groups' agreement ≥
    ``target``) at each step size of ``scan`` (``etas`` (E,), ``agree_*`` (E, S, R), ``n_*`` (E, S),
    optional ``diverged`` (E,) counts), log onset on log η by :func:`verification.rules.rate_decision`
    (the seed the unit) against exponent −1 (t_align ∝ 1/η) with margin ``margin``. Uninformative when
    fewer than 3 step sizes or when the onsets are censored (:func:`verification.rules._laws.onset_fit_reading`).
    Returns ``(looseness entries, words)``; a diagnostic that never decides the observed status.

    >>> steps = np.array([0, 1, 2, 4, 8, 16, 32, 64, 128, 256])
    >>> t = np.array([64, 32, 16])[:, None, None]  # onset ∝ 1/η at η = 1, 2, 4
    >>> a = np.where(steps >= t, 10, 0) * np.ones((3, 4, 1), np.int64)
    >>> look, words = eta_exponent(dict(etas=[1, 2, 4], agree_plus=a, agree_minus=a, n_plus=np.full((3, 4), 10),
    ...                                 n_minus=np.full((3, 4), 10)), steps, 0.9, margin=0.1, alpha=0.05)
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
    at = ", ".join(f"η = {e:.3g}: t = {fmt(t)}" for e, t in zip(etas, look["median_onset_eta"]))
    div = [int(k) for k in scan.get("diverged", [])]
    tail = f"; diverged networks per η: {div} (past the stability limit)" if any(div) else ""
    head = "onset exponent in η (diagnostic, not the status)"
    why = laws.onset_fit_reading(onset, steps).replace("width", "step size") or (
        "" if etas.size >= 3 else f"{etas.size} step sizes: the fit needs 3"
    )
    if why:
        look["onset_exponent_eta_status"] = f"uninformative ({why})"
        return look, f"{head} uninformative ({why}); median onset {at}{tail}"
    rd = rate_decision(etas, onset, exponent=-1.0, margin=margin, alpha=alpha)
    look.update(
        onset_exponent_eta=rd.slope,
        onset_exponent_eta_interval=[rd.lo, rd.hi],
        onset_exponent_eta_status=rd.status,
    )
    return look, (
        f"{head}: onset ∝ η^{rd.slope:.2f} [{rd.lo:.2f}, {rd.hi:.2f}] against t_align ∝ η^-1 ({rd.status}); "
        f"median onset {at}{tail}"
    )


def linear_sign_agreement(params, X, y, eta, w_final) -> float:
    """Fraction of neurons with sign(w_lin(∞) − w_0) = sign(w(T) − w_0), w_lin from :func:`ntk_attention.linearized.predict`."""
    lin = predict(params, X, y, np.array([1e15]), learning_rate=eta)
    w0 = np.asarray(params.w, np.float64)
    return float(
        np.mean(
            np.sign(np.asarray(lin.w[0], np.float64) - w0)
            == np.sign(np.asarray(w_final, np.float64) - w0)
        )
    )


def train_seeds(ctx, ds, m: int, seeds, keys, rec, eta: float, sigma: float):
    """Every seed of width ``m`` at step size ``eta`` as one compiled, vmapped program (cached):
    ``(params at t = 0, trajectory, data-term fraction)``, each batched over the seeds."""
    cache = ctx.memo_key(
        "train_vmap", claim="C2", n=ds.X.shape[0], width=m, seeds=seeds, record_at=rec, eta=eta
    )
    cache += f"/sigma={sigma!r}"

    def go():
        def one(k):
            p = init_params(k, m, sigma=sigma)
            tr = train(
                p,
                ds.X,
                ds.y,
                learning_rate=eta,
                record_at=rec,
                record_ntk=False,
                record_neurons=False,
            )
            return p, tr, ntk_data.data_term_fraction(p, ds.X, ds.y)

        return jax.jit(jax.vmap(one))(keys)

    return ctx.cached(cache, go)


def agreement_counts(ctx, ds, P, tr, rec, eta: float, seeds):
    """Sign-agreement counts of one vmapped run, ``(agree_plus, agree_minus, n_plus, n_minus)``, after
    recording each diverged network (:meth:`verification.contract.Context.note_divergence` on its
    slice of the batched trajectory: nothing is trained again)."""
    for si in np.flatnonzero(np.asarray(tr.diverged_step) >= 0):
        one = jax.tree.map(lambda x, si=si: x[si], tr)
        ctx.note_divergence(one, Params(P.w[si], P.a[si]), ds.X, learning_rate=eta, seed=seeds[si])
    return (
        np.asarray(tr.sign_agree_plus),
        np.asarray(tr.sign_agree_minus),
        np.asarray(tr.n_plus),
        np.asarray(tr.n_minus),
    )
