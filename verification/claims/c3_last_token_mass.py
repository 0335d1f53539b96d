r"""C3 (Theorem 5.3): when every :math:`a_r = -1`, the last position gets the least attention.

**Statement.** If every :math:`a_r = -1`, then
:math:`\mathbb E[\mathrm{softmax}_d(x_d w_r(t) x)] \le \mathbb E[\mathrm{softmax}_k(x_d w_r(t) x)]`
with probability :math:`\ge 1-\delta`. The proof speaks of trained weights that have turned
negative, :math:`w_r(T) < 0` (docs/theory.md, "C3").

**Reading.** Premise first: the fraction of neurons with :math:`w_r(T) < 0` must reach
:math:`1-\delta`. The conclusion is then judged only on the neurons where the premise holds. Its
:math:`\mathbb E` is ambiguous twice, so both are parameters: per neuron or over the population
of neurons (``expectation``), against every other position or their average (``versus``); the
other readings, and all four on every neuron (premise or not), are diagnostics. The data
condition behind the "every" reading, :math:`\max_{k<d}\mathbb E[x_d x_k] \le \mathbb E[x_d^2]`,
is reported with the position that wins when it fails.

**Verdict rule** (:func:`check_c3`). Premise: :func:`verification.stats.probability_decision`
on the count of neurons with :math:`w_r(T) \ge 0` per width against δ (Clopper–Pearson upper end
≤ δ at every width, intersection–union; Holm over widths for the other side); not HOLDS →
VACUOUS naming the negative fraction and its Clopper–Pearson interval. Conclusion, neuron
reading: :func:`~verification.stats.probability_decision` on the premise neurons failing the
inequality (Holm over widths); population reading: a percentile-bootstrap interval of the gap
against 0 per width.
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

from ntk_attention import init_params, train
from verification import config as cfg
from verification.contract import Claim, memory_sum, train_bytes
from verification.stats import bootstrap_interval, clopper_pearson, probability_decision
from verification.verdict import HOLDS, VACUOUS, VIOLATED, Part, Verdict, combine_status
from verification.claims._common import (
    ALPHA, data_n_training, DELTA, interval_status, note_train_divergence, pyplot, save_figure,
)


# ---------------------------------------------------------------------------------------------
# C3: the last position gets the least mass when every a_r = -1 (Theorem 5.3)


C3_EXPECTATIONS = ("neuron", "population")
"""Readings of Theorem 5.3's :math:`\\mathbb E`: over the data per neuron r, or over data and neurons."""
C3_VERSUS = ("every", "average")
"""Readings of its right-hand side: every other position k, or their average (equivalently :math:`1/d`)."""
C3_READINGS = tuple((e, v) for e in C3_EXPECTATIONS for v in C3_VERSUS)

_C3_WORDS = {
    ("neuron", "every"): "per neuron, s̄_{r,d} ≤ min_{k<d} s̄_{r,k}",
    ("neuron", "average"): "per neuron, s̄_{r,d} ≤ mean_{k<d} s̄_{r,k} (⇔ s̄_{r,d} ≤ 1/d)",
    ("population", "every"): "over neurons, E_r s̄_{r,d} ≤ min_{k<d} E_r s̄_{r,k}",
    ("population", "average"): "over neurons, E_r s̄_{r,d} ≤ mean_{k<d} E_r s̄_{r,k} (⇔ ≤ 1/d)",
}
_C3_KEYS = {  # measured / arrays name of each reading's statistic
    ("neuron", "every"): "fraction_last_least",
    ("neuron", "average"): "fraction_last_below_average",
    ("population", "every"): "mean_gap_other_minus_last",
    ("population", "average"): "mean_gap_average_minus_last",
}


def _c3_reference(M: np.ndarray, versus: str) -> np.ndarray:
    """The right-hand side per row: :math:`\\min_{k<d}` (``every``) or :math:`\\frac1{d-1}\\sum_{k<d}` (``average``)."""
    return M[..., :-1].min(axis=-1) if versus == "every" else M[..., :-1].mean(axis=-1)


def _c3_neuron_ok(M: np.ndarray, versus: str, atol: float) -> np.ndarray:
    """Per neuron: :math:`\\bar s_{r,d} \\le` the reference + ``atol`` (boolean, shape ``M.shape[:-1]``)."""
    return M[..., -1] <= _c3_reference(M, versus) + atol


def data_condition(second_moments) -> dict:
    r"""The data condition behind the "every" reading: :math:`\max_{k<d}\mathbb E[x_d x_k] \le \mathbb E[x_d^2]`.

    ``second_moments`` (d,) is :math:`\mathbb E[x_d x_k]` for k = 1..d (empirical, over the
    training windows). Returns the maximum over k < d, the 1-based position k that attains it,
    :math:`\mathbb E[x_d^2]` and whether the condition holds.
    """
    s = np.asarray(second_moments, np.float64)
    if s.ndim != 1 or s.size < 2:
        raise ValueError(f"second_moments: expected E[x_d x_k] for k = 1..d (d >= 2), got shape {s.shape}")
    k = int(np.argmax(s[:-1]))
    return {"max_other": float(s[k]), "argmax_position": k + 1, "last": float(s[-1]), "holds": bool(s[k] <= s[-1])}


def _c3_reading(rows: np.ndarray, where: np.ndarray, seeds, m: int, expectation: str, versus: str, *,
                target: float, alpha: float, atol: float, boot_seed: int) -> dict:
    """One reading of Thm 5.3 on the neurons ``rows`` (N, d) at one width (``where`` (N, 2): seed index, neuron index).

    Neuron reading: the count failing (for :func:`probability_decision`) and its Clopper–Pearson
    interval of the fraction satisfying; population reading: the bootstrap interval of the gap.
    """
    words = f"{expectation}/{versus}"
    if rows.shape[0] == 0:
        return {"status": VACUOUS, "value": float("nan"), "interval": [float("nan"), float("nan")], "ok": 0, "total": 0,
                "finding": "no neuron to judge."}
    if expectation == "neuron":
        ok = _c3_neuron_ok(rows, versus, atol)
        k, tot = np.int64(ok.sum()), np.int64(ok.size)
        lo, hi = clopper_pearson(k, tot, alpha)
        out = {"status": interval_status(lo, hi, target, upper=False), "value": float(k / tot), "interval": [lo, hi],
               "ok": int(k), "total": int(tot),
               "finding": f"{k / tot:.1%} of {tot} neurons, {1 - alpha:.0%} Clopper–Pearson [{lo:.3f}, {hi:.3f}] "
                          f"vs 1-δ = {target:g}."}
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            si, ri = (int(x) for x in where[i])
            out["counterexample"] = {"reading": words, "width": m, "seed": int(np.asarray(seeds)[si]), "neuron": ri,
                                     "mass_last": float(rows[i, -1]),
                                     ("min_mass_other" if versus == "every" else "mean_mass_other"):
                                         float(_c3_reference(rows[i], versus)),
                                     "least_attended_position": int(np.argmin(rows[i, :-1])) + 1}
        return out
    gap, glo, ghi = bootstrap_interval(rows, lambda r: float(_c3_reference(r.mean(axis=0), versus) - r.mean(axis=0)[-1]),
                                       resamples=400, seed=boot_seed, alpha=alpha)
    st = interval_status(glo, ghi, -atol, upper=False)
    out = {"status": st, "value": gap, "interval": [glo, ghi],
           "finding": f"gap {('min' if versus == 'every' else 'mean')}_k<d − last of the neuron-averaged masses = "
                      f"{gap:.4f}, {1 - alpha:.0%} bootstrap over {rows.shape[0]} neurons [{glo:.4f}, {ghi:.4f}] vs 0."}
    if st == VIOLATED:
        mean = rows.mean(axis=0)
        out["counterexample"] = {"reading": words, "width": m, "seeds": [int(s) for s in seeds],
                                 "mean_mass_last": float(mean[-1]),
                                 ("min_mean_mass_other" if versus == "every" else "mean_mean_mass_other"):
                                     float(_c3_reference(mean, versus)),
                                 "gap": gap, "interval": [glo, ghi],
                                 "least_attended_position": int(np.argmin(mean[:-1])) + 1}
    return out


def _rows(M: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Neurons of every seed pooled: rows (N, d) and their (seed, neuron) indices, optionally only where ``mask``."""
    where = np.argwhere(np.ones(M.shape[:2], bool) if mask is None else mask)
    return M[where[:, 0], where[:, 1]], where


def check_c3(*, widths, seeds, masses_final, weights_final, masses_init=None, delta: float, alpha: float = 0.05,
             atol: float = 1e-12, expectation: str = "neuron", versus: str = "every", second_moments=None,
             steps=None, mass_trajectory=None, negative_trajectory=None, conclusion_trajectory=None,
             config: dict | None = None, seed: int | None = None) -> Verdict:
    r"""C3 from the final weights and data-averaged masses :math:`\bar s_{r,k} = \frac1n\sum_i s_{r,k}(x_i)`.

    Per width ``widths[w]``: ``weights_final[w]`` (S, m_w) holds :math:`w_r(T)` and
    ``masses_final[w]`` (S, m_w, d) the masses at T (``masses_init`` likewise at t = 0).

    1. **Premise** (decisive): the neurons with :math:`w_r(T) \ge 0` are failures of the premise;
       :func:`verification.stats.probability_decision` over widths (δ, ``alpha``, Holm) must say
       HOLDS (the Clopper–Pearson upper end of the failure rate ≤ δ at every width). Otherwise the
       verdict is VACUOUS, naming each width's negative fraction and its Clopper–Pearson interval.
    2. **Conclusion** (decisive once the premise is reached), on the premise neurons only, under
       the chosen reading. ``expectation = "neuron"``: the inequality per neuron must hold for
       :math:`\ge 1-\delta` of them: :func:`probability_decision` on the failing counts, Holm
       over widths; ``"population"``: the neuron-averaged masses are compared (percentile
       bootstrap interval of the gap against 0 per width; δ does not enter). ``versus = "every"``:
       :math:`\bar s_d \le \min_{k<d}\bar s_k`; ``"average"``: :math:`\bar s_d \le
       \frac1{d-1}\sum_{k<d}\bar s_k` (⇔ :math:`\bar s_d \le 1/d`).
    3. Diagnostics (not decisive): the other three readings on the premise neurons; all four on
       every neuron (the unconditional numbers); the data condition
       :math:`\max_{k<d}\mathbb E[x_d x_k] \le \mathbb E[x_d^2]` from ``second_moments`` (d,),
       :math:`\mathbb E[x_d x_k]`, naming the winning position when it fails.

    ``steps`` (R,), ``mass_trajectory`` (W, R, d) (neuron-averaged masses) and
    ``negative_trajectory`` (W, R) (fraction with :math:`w_r < 0`) are figure data;
    ``conclusion_trajectory`` (W, R), the fraction of the neurons with :math:`w_r(t) < 0` meeting
    the per-neuron inequality (``versus``) at each record, is reported (first and last value,
    minimum) and drawn: whether the conclusion held all along or only at some times.
    """
    if expectation not in C3_EXPECTATIONS:
        raise ValueError(f"expectation: expected one of {C3_EXPECTATIONS}, got {expectation!r}")
    if versus not in C3_VERSUS:
        raise ValueError(f"versus: expected one of {C3_VERSUS}, got {versus!r}")
    if len(masses_final) != len(widths) or len(weights_final) != len(widths):
        raise ValueError(f"masses_final, weights_final: expected one array per width ({len(widths)}), "
                         f"got {len(masses_final)} and {len(weights_final)}")
    chosen = (expectation, versus)
    widths = [int(m) for m in widths]
    target = 1 - delta
    Ms = [np.asarray(M, np.float64) for M in masses_final]
    Ws = [np.asarray(w, np.float64) for w in weights_final]
    for wi, (M, w) in enumerate(zip(Ms, Ws)):
        if M.ndim != 3 or w.shape != M.shape[:2]:
            raise ValueError(f"weights_final[{wi}]: expected shape {M.shape[:2]} (seeds, m) matching masses_final[{wi}] "
                             f"{M.shape}, got {w.shape}")
    d = Ms[0].shape[-1]
    neg = [w < 0 for w in Ws]
    n_neg = np.array([int(x.sum()) for x in neg], np.int64)
    n_all = np.array([x.size for x in neg], np.int64)
    prem = probability_decision(n_all - n_neg, n_all, delta=delta, alpha=alpha, correction="holm")
    neg_lo, neg_hi = clopper_pearson(n_neg, n_all, alpha)
    measured = {"decisive_reading": f"{expectation}/{versus}", "premise_status": prem.status,
                "negative_fraction": [float(k / t) for k, t in zip(n_neg, n_all)], "negative_count": n_neg.tolist(),
                "neurons": n_all.tolist(), "mean_last_mass": [float(M[..., -1].mean()) for M in Ms],
                "median_abs_weight": [float(np.median(np.abs(w))) for w in Ws]}
    intervals = {f"negative_fraction[m={m}]": [float(lo), float(hi)] for m, lo, hi in zip(widths, neg_lo, neg_hi)}
    fr = ", ".join(f"m = {m}: {k}/{t} = {k / t:.3f} [{lo:.3f}, {hi:.3f}]"
                   for m, k, t, lo, hi in zip(widths, n_neg, n_all, neg_lo, neg_hi))
    reached = prem.status == HOLDS
    parts = [Part("premise: fraction of neurons with w_r(T) < 0 >= 1-δ", HOLDS if reached else VACUOUS,
                  f"negative fraction (Clopper–Pearson {1 - alpha:.0%}) {fr} vs 1-δ = {target:g}; {prem.rule}"
                  + ("" if reached else ": premise not reached, the conclusion is not judged."))]
    # the conclusion on the premise neurons, every reading; and on every neuron (diagnostic)
    cond = {r: [] for r in C3_READINGS}
    uncond = {r: [] for r in C3_READINGS}
    for wi, m in enumerate(widths):
        rows_n, where_n = _rows(Ms[wi], neg[wi])
        rows_a, where_a = _rows(Ms[wi])
        for r in C3_READINGS:
            cond[r].append(_c3_reading(rows_n, where_n, seeds, m, *r, target=target, alpha=alpha, atol=atol,
                                       boot_seed=wi))
            uncond[r].append(_c3_reading(rows_a, where_a, seeds, m, *r, target=target, alpha=alpha, atol=atol,
                                         boot_seed=wi))
            measured.setdefault(_C3_KEYS[r] + "_premise", []).append(cond[r][-1]["value"])
            measured.setdefault(_C3_KEYS[r], []).append(uncond[r][-1]["value"])
            intervals[f"{_C3_KEYS[r]}_premise[m={m}]"] = cond[r][-1]["interval"]
            intervals[f"{_C3_KEYS[r]}[m={m}]"] = uncond[r][-1]["interval"]
    counter = None
    if reached:
        res = cond[chosen]
        if expectation == "neuron":
            fail = np.array([x["total"] - x["ok"] for x in res], np.int64)
            dec = probability_decision(fail, np.array([x["total"] for x in res], np.int64), delta=delta, alpha=alpha,
                                       correction="holm")
            st = dec.status
            finding = ("; ".join(f"m = {m}: {x['finding']}" for m, x in zip(widths, res)) + f" Rule: {dec.rule}.")
        else:
            st = combine_status(x["status"] for x in res)
            finding = ("; ".join(f"m = {m}: {x['finding']}" for m, x in zip(widths, res))
                       + f" Rule: {1 - alpha:.0%} percentile bootstrap interval of the gap against 0 at every width.")
        parts.append(Part(f"[{expectation}/{versus}] on the neurons with w_r(T) < 0: {_C3_WORDS[chosen]}", st, finding))
        if st == VIOLATED:
            failing = [(m, x) for m, x in zip(widths, res) if "counterexample" in x]
            counter = dict(failing[0][1]["counterexample"], premise="w_r(T) < 0") if failing else None
    else:
        parts.append(Part(f"[{expectation}/{versus}] on the neurons with w_r(T) < 0: {_C3_WORDS[chosen]}", VACUOUS,
                          "not judged: the premise (w_r(T) < 0 for a fraction >= 1-δ of neurons) is not reached."))
    for r in C3_READINGS:
        if r != chosen:
            parts.append(Part(f"[{r[0]}/{r[1]}] on w_r(T) < 0 (diagnostic)", combine_status(x["status"] for x in cond[r]),
                              "; ".join(f"m = {m}: {x['finding']}" for m, x in zip(widths, cond[r])), False))
    for r in C3_READINGS:
        parts.append(Part(f"[{r[0]}/{r[1]}] on every neuron (unconditional, diagnostic)",
                          combine_status(x["status"] for x in uncond[r]),
                          "; ".join(f"m = {m}: {x['finding']}" for m, x in zip(widths, uncond[r])), False))
    if second_moments is not None:
        dc = data_condition(second_moments)
        measured["data_condition"] = dc
        parts.append(Part("data condition max_{k<d} E[x_d x_k] <= E[x_d²] (behind the 'every' reading)",
                          HOLDS if dc["holds"] else VIOLATED,
                          f"max_k<d E[x_d x_k] = {dc['max_other']:.4g} at k = {dc['argmax_position']}, E[x_d²] = "
                          f"{dc['last']:.4g}" + ("." if dc["holds"] else
                                                 f": position {dc['argmax_position']} wins, not d = {d}."), False))
    if masses_init is not None:
        for v_ in C3_VERSUS:
            measured[_C3_KEYS[("neuron", v_)] + "_at_init"] = [
                float(_c3_neuron_ok(np.asarray(M0, np.float64), v_, atol).mean()) for M0 in masses_init]
    status = combine_status(p.status for p in parts if p.decisive)
    explanation = _c3_explanation(status, chosen, reached, cond, uncond, measured, widths, target, d)
    mean_neg = [(_rows(M, k)[0].mean(axis=0) if k.any() else np.full(d, np.nan)) for M, k in zip(Ms, neg)]
    arrays = {"widths": np.asarray(widths), "mean_mass_final": np.asarray([M.reshape(-1, d).mean(axis=0) for M in Ms]),
              "mean_mass_final_negative": np.asarray(mean_neg), "negative_count": n_neg, "neurons": n_all,
              **{_C3_KEYS[r]: np.asarray(measured[_C3_KEYS[r]]) for r in C3_READINGS},
              **{_C3_KEYS[r] + "_premise": np.asarray(measured[_C3_KEYS[r] + "_premise"]) for r in C3_READINGS}}
    if masses_init is not None:
        arrays["mean_mass_init"] = np.asarray([np.asarray(M0, np.float64).reshape(-1, d).mean(axis=0) for M0 in masses_init])
    if second_moments is not None:
        arrays["second_moments"] = np.asarray(second_moments, np.float64)
    if steps is not None:
        arrays["steps"] = np.asarray(steps)
        if mass_trajectory is not None:
            arrays["mean_position_mass"] = np.asarray(mass_trajectory, np.float64)
        if negative_trajectory is not None:
            arrays["negative_fraction_trajectory"] = np.asarray(negative_trajectory, np.float64)
        if conclusion_trajectory is not None:
            ct = np.asarray(conclusion_trajectory, np.float64)
            arrays["conclusion_trajectory"] = ct
            measured["conclusion_over_time"] = {
                "reading": f"neuron/{versus}", "min": [float(np.nanmin(r)) if np.isfinite(r).any() else float("nan") for r in ct],
                "last": [float(r[-1]) for r in ct]}
    return Verdict(claim="C3", status=status, explanation=explanation, measured=measured,
                   bounds={"one_minus_delta": target}, intervals=intervals, parts=tuple(parts), counterexample=counter,
                   tested_range={"widths": widths, "seeds": [int(x) for x in seeds],
                                 **({"steps": int(np.asarray(steps)[-1])} if steps is not None else {})},
                   config=config or {}, seed=seed, arrays=arrays)


def _c3_statistic_words(r, res) -> str:
    lo, hi = res["interval"]
    if r[0] == "neuron":
        return f"{res['value']:.1%} of neurons [{lo:.3f}, {hi:.3f}]"
    return f"gap {res['value']:.3g} [{lo:.3g}, {hi:.3g}]"


def _c3_explanation(status, chosen, reached, cond, uncond, measured, widths, target, d):
    frac = measured["negative_fraction"]
    s = [f"Theorem 5.3 speaks of neurons whose weight has turned negative: with every a_r = -1, the fraction "
         f"with w_r(T) < 0 is " + ", ".join(f"{f:.3f} (m = {m})" for m, f in zip(widths, frac))
         + f" against 1-δ = {target:g}: premise {'reached' if reached else 'not reached'}."]
    need = f"at least 1-δ = {target:g} of neurons" if chosen[0] == "neuron" else "a gap ≥ 0"
    s.append(f"The theorem is read as C3.expectation = '{chosen[0]}', C3.versus = '{chosen[1]}': {_C3_WORDS[chosen]}, "
             f"which needs {need}.")
    if reached:
        s.append(f"On the neurons with w_r(T) < 0 at m = {widths[-1]} this gives "
                 f"{_c3_statistic_words(chosen, cond[chosen][-1])}: {status}.")
    else:
        s.append("The conclusion is therefore not judged: VACUOUS.")
    s.append(f"On every neuron (diagnostic) the same reading gives {_c3_statistic_words(chosen, uncond[chosen][-1])}.")
    dc = measured.get("data_condition")
    if dc is not None:
        s.append(f"Data condition for the 'every' reading: max_k<d E[x_d x_k] = {dc['max_other']:.3g} (k = "
                 f"{dc['argmax_position']}) {'≤' if dc['holds'] else '>'} E[x_d²] = {dc['last']:.3g}"
                 + ("." if dc["holds"] else f": position {dc['argmax_position']} wins."))
    s.append(f"Averaged over neurons the last position gets {measured['mean_last_mass'][-1]:.3f} of the mass "
             f"(uniform 1/d = {1 / d:.3f}).")
    if "median_abs_weight" in measured:
        s.append(f"Median |w_r(T)| = {measured['median_abs_weight'][-1]:.3g} at m = {widths[-1]}: to first order in w "
                 "(the kernel regime) the deficit follows from the data condition; far from w = 0 the softmax "
                 "concentrates on argmin_k x_d x_k per window, which the theorem's width premise "
                 "m = Ω(poly(1/λ, ...)) — not checked here, far out of reach — would exclude.")
    return " ".join(s)


def record_steps(steps: int, records: int) -> np.ndarray:
    """0 and ``records`` log-spaced steps up to ``steps`` (integers, strictly increasing, the last being ``steps``)."""
    if steps < 1 or records < 2:
        raise ValueError(f"steps, records: expected steps >= 1 and records >= 2, got {steps}, {records}")
    return np.unique(np.concatenate([[0], np.geomspace(1, steps, records).astype(np.int64), [steps]]))


def run_c3(section: dict, ctx) -> Verdict:
    n = ctx.config["data"]["n"]
    ds = ctx.dataset(n)
    seeds = ctx.network_seeds(section["seeds"])
    W = section["widths"]
    rec = record_steps(section["steps"], section["records"])
    final, weights, init, traj, negt, conc = [], [], [], [], [], []
    bar = ctx.progress("C3 all a_r = -1", len(W) * len(seeds))
    for m in W:
        fm, wm, im, tm, nm, ok_neg, n_neg = [], [], [], [], [], 0, 0
        for s in seeds:
            key = repr(("train-c3", n, m, s, tuple(int(t) for t in rec), section["eta"], ctx.config["data"]["sigma"]))

            def go(m=m, s=s):
                p = init_params(jax.random.key(s), m, sigma=ctx.config["data"]["sigma"], output_signs="minus")
                tr = train(p, ds.X, ds.y, learning_rate=section["eta"], record_at=rec, record_ntk=False,
                           record_neurons=True)
                note_train_divergence(ctx, tr, p, ds.X, eta=section["eta"], seed=s)
                return tr

            tr = ctx.cached(key, go)
            PM, Wt = np.asarray(tr.position_mass), np.asarray(tr.weights)
            fm.append(PM[-1]), wm.append(Wt[-1]), im.append(PM[0])
            tm.append(np.asarray(tr.mean_position_mass)), nm.append((Wt < 0).mean(axis=1))
            ok_neg = ok_neg + ((Wt < 0) & _c3_neuron_ok(PM, section["versus"], 1e-12)).sum(axis=1)  # (R,)
            n_neg = n_neg + (Wt < 0).sum(axis=1)
            bar.update(1)
        final.append(np.stack(fm)), weights.append(np.stack(wm)), init.append(np.stack(im))
        traj.append(np.mean(tm, axis=0)), negt.append(np.mean(nm, axis=0))
        with np.errstate(invalid="ignore", divide="ignore"):  # no negative neuron at a record: NaN
            conc.append(ok_neg / n_neg)
    bar.close()
    X = np.asarray(ds.X, np.float64)
    return check_c3(widths=W, seeds=seeds, masses_final=final, weights_final=weights, masses_init=init,
                    delta=section["delta"], alpha=section["alpha"], expectation=section["expectation"],
                    versus=section["versus"], second_moments=(X[:, -1:] * X).mean(axis=0), steps=rec,
                    mass_trajectory=np.stack(traj), negative_trajectory=np.stack(negt),
                    conclusion_trajectory=np.stack(conc),
                    config={"C3": section, "data": ctx.config["data"]}, seed=ctx.seed)


def plot_c3(v: Verdict, out: Path) -> list[str]:
    plt = pyplot()
    A = v.arrays
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    d = A["mean_mass_final"].shape[-1]
    pos = np.arange(1, d + 1)
    cmap = plt.get_cmap("viridis")
    ax = axes[0]
    for wi, m in enumerate(A["widths"]):
        c = cmap(wi / max(1, len(A["widths"]) - 1))
        if np.all(np.isfinite(A["mean_mass_final_negative"][wi])):
            ax.plot(pos, A["mean_mass_final_negative"][wi], "o-", color=c, label=f"m = {m}, t = T, w_r < 0")
        ax.plot(pos, A["mean_mass_final"][wi], "s--", color=c, alpha=0.5, ms=3, label=f"m = {m}, t = T, all")
        if "mean_mass_init" in A:
            ax.plot(pos, A["mean_mass_init"][wi], "x:", color=c, alpha=0.6, label=f"m = {m}, t = 0")
    ax.axhline(1 / d, color="gray", ls=":", lw=1, label="uniform 1/d")
    ax.set_xlabel("position k (k = d is the most recent value)")
    ax.set_ylabel("mean softmax mass")
    ax.set_title("mass per position, all a_r = -1", fontsize=10)
    ax.legend(fontsize=6)
    ax = axes[1]
    if "steps" in A and "negative_fraction_trajectory" in A:
        t = np.maximum(A["steps"], 0.5)  # step 0 drawn at 0.5 on the log axis
        for wi, m in enumerate(A["widths"]):
            c = cmap(wi / max(1, len(A["widths"]) - 1))
            ax.plot(t, A["negative_fraction_trajectory"][wi], color=c, label=f"fraction w_r < 0, m = {m}")
            if "conclusion_trajectory" in A:
                ax.plot(t, A["conclusion_trajectory"][wi], color=c, ls="--",
                        label=f"of them, last {'least' if 'every' in v.measured.get('decisive_reading', '') else '≤ 1/d'}, m = {m}")
        ax.axhline(v.bounds["one_minus_delta"], color="r", ls="--", lw=1, label="1 - δ")
        ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("step t (0 drawn at 0.5)")
        ax.set_ylabel("fraction of neurons")
        ax.set_title("premise w_r(t) < 0, and the inequality on those neurons", fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle(f"C3 ({v.measured.get('decisive_reading', 'neuron/every')}): {summary_c3(v)}", fontsize=10, wrap=True)
    return [save_figure(fig, out / "c3_last_token_mass.png")]


def summary_c3(v: Verdict) -> str:
    target = v.bounds.get("one_minus_delta", 0.0)
    reading = tuple(v.measured.get("decisive_reading", "neuron/every").split("/"))
    if "negative_fraction" not in v.measured:  # a verdict from before the premise was checked
        f = v.measured.get(_C3_KEYS.get(reading, "fraction_last_least"), [])
        if reading[0] == "population":
            return (f"{reading[0]}/{reading[1]}: gap ({'min' if reading[1] == 'every' else 'mean'}_k<d − last) "
                    + ", ".join(f"{x:.3g}" for x in f) + " (need ≥ 0)")
        what = "last position least attended" if reading[1] == "every" else "last position ≤ 1/d"
        return f"{what}: " + ", ".join(f"{x:.2f}" for x in f) + f" (need ≥ {target:.2f})"
    frac = v.measured["negative_fraction"]
    neg = "w_r<0: " + ", ".join(f"{x:.2f}" for x in frac) + f" (need ≥ {target:.2f})"
    if v.measured.get("premise_status", HOLDS) != HOLDS:
        return f"premise not reached, {neg}"
    f = v.measured.get(_C3_KEYS.get(reading, "fraction_last_least") + "_premise", [])
    if reading[0] == "population":
        return (f"{neg}; on them gap ({'min' if reading[1] == 'every' else 'mean'}_k<d − last) "
                + ", ".join(f"{x:.3g}" for x in f) + " (need ≥ 0)")
    what = "last least attended" if reading[1] == "every" else "last ≤ 1/d"
    return f"{neg}; on them {what}: " + ", ".join(f"{x:.2f}" for x in f) + f" (need ≥ {target:.2f})"


def example_check_input() -> tuple[dict, str]:
    r"""Keyword arguments of :func:`check_c3` whose verdict is known, and that verdict: all 120
    neurons have :math:`w_r(T) < 0` (premise: Clopper–Pearson upper end of the failure rate 0.03 ≤ δ
    = 0.1) and each puts mass 0.1 on the last of d = 4 positions and 0.3 on each other one: HOLDS."""
    M = np.tile([0.3, 0.3, 0.3, 0.1], (2, 60, 1))
    return dict(widths=[60], seeds=[0, 1], masses_final=[M], weights_final=[-np.ones((2, 60))], masses_init=[M],
                delta=0.1, second_moments=np.array([0.1, 0.2, 0.3, 0.5]), steps=np.array([0, 5, 10]),
                mass_trajectory=np.tile(M.mean(axis=(0, 1)), (1, 3, 1)),
                negative_trajectory=np.array([[0.5, 0.9, 1.0]])), HOLDS


def memory_c3(section: dict, data: dict) -> tuple[int, str]:
    """Peak memory growth: one training run at a time at ``[data] n``, the per-neuron records
    (weights and position masses at ``records + 2`` log-spaced steps) of every width × seed kept
    until the check, and the population reading's bootstrap (400 resamples of the seeds × m neurons:
    an int64 index array, generated through a temporary of its size, and the resampled rows)."""
    pooled = section["seeds"] * max(section["widths"])
    R = section["records"] + 2
    return memory_sum(
        train_bytes(n=data["n"], d=data["d"], widths=section["widths"], seeds=section["seeds"], steps=R - 1,
                    record_every=1, held=True),
        (8 * pooled * (2 * 400 + 4 * data["d"]), "bootstrap over the pooled neurons (400 × seeds × m indices)"))


CLAIM = Claim(
    id="C3", source="Thm 5.3", title="all a_r = −1: the last position is least attended",
    statement=r"a_r=-1\ \forall r\ \Rightarrow\ \mathbb E[\mathrm{softmax}_d(x_d w_r(t) x)]\le"
              r"\mathbb E[\mathrm{softmax}_k(x_d w_r(t) x)]\ \text{w.p.}\ \ge1-\delta",
    params={"widths": cfg.int_list([64, 256], "network widths m (strictly increasing)", minimum=2),
            "seeds": cfg.positive_int(2, "network seeds per width", maximum=64),
            "steps": cfg.positive_int(2000, "gradient-descent steps T (records log-spaced up to T)"),
            "records": cfg.positive_int(24, "number of log-spaced records between step 1 and T (plus t = 0)", minimum=2),
            "eta": cfg.positive_float(0.1, "learning rate η (GD is stable for η < 2/λ_max(H(0)))"),
            "delta": DELTA, "alpha": ALPHA,
            "expectation": cfg.choice("neuron", C3_EXPECTATIONS,
                                      "Thm 5.3's E[.] is ambiguous: over the data per neuron r (then for >= 1-δ of "
                                      "neurons), or over data and neurons (the population); the other reading is a diagnostic"),
            "versus": cfg.choice("every", C3_VERSUS,
                                 "Thm 5.3's right-hand side: every other position k (the last least attended), or "
                                 "their average (mass_d <= 1/d); the other reading is a diagnostic")},
    run=run_c3, check=check_c3, plot=plot_c3, summary=summary_c3,
    training=data_n_training, memory=memory_c3,
)
