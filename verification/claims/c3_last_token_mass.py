r"""C3 (Theorem 5.3): when every :math:`a_r = -1`, the last position gets the least attention.

**Statement.** If every :math:`a_r = -1`, then
:math:`\mathbb E[\mathrm{softmax}_d(x_d w_r(t) x)] \le \mathbb E[\mathrm{softmax}_k(x_d w_r(t) x)]`
with probability :math:`\ge 1-\delta`. The proof speaks of trained weights that have turned
negative, :math:`w_r(T) < 0` (docs/theory.md, "C3").

**Reading.** Premises first, every one of them (docs/theory.md, "C3"): Theorem 5.3 inherits
Theorem 5.2's kernel regime (:math:`\|H(T)-H(0)\|/\|H(0)\|` at most 1/4: above it no λ keeps
:math:`\|H(t)-H(0)\| \le \lambda/4`) and step size :math:`\eta \le O(\lambda\delta/\mathrm{poly})`,
and speaks of weights that have turned negative, :math:`w_r(T) < 0`. The conclusion's
:math:`\mathbb E` is ambiguous twice, so both are parameters: per neuron or over the population
of neurons (``expectation``), against every other position or their average (``versus``). The
unit of every probability is the network draw (seed), not the neuron: the neurons of one network
share :math:`f(t)` (:mod:`verification.rules._laws`).

**Verdict rule** (:func:`check_c3`). Theorem: :func:`verification.rules._verdict.combine_parts` — a
premise not met or not checked makes it VACUOUS; else the conclusion decides, one trial per
network (the first negative neuron, or the network's averaged masses) by
:func:`verification.rules._laws.seed_decision` (Clopper–Pearson, Holm over widths). Observed: the same
rule at every log-spaced record, with the last t and median :math:`|w_r|` at which the last
position is still least attended and the first at which it is not, beside the data's own boundary
:math:`|w|^*` (the masses at a common weight on a grid).
"""

from __future__ import annotations

import math
from pathlib import Path

import jax
import numpy as np

from ntk_attention import Params, empirical_ntk, init_params, mean_attention_mass
from verification import config as cfg
from verification.claims import _c3_evidence as ev
from verification.claims._common import (
    ALPHA,
    DELTA,
    data_n_training,
    pyplot,
    save_figure,
)
from verification.contract import Claim, memory_sum, train_bytes
from verification.rules._verdict import (
    HOLDS,
    INCONCLUSIVE,
    VACUOUS,
    VIOLATED,
    Observed,
    Part,
    Verdict,
    combine_parts,
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


def data_condition(second_moments) -> dict:
    r"""The data condition behind the "every" reading: :math:`\max_{k<d}\mathbb E[x_d x_k] \le \mathbb E[x_d^2]`.

    ``second_moments`` (d,) is :math:`\mathbb E[x_d x_k]` for k = 1..d (empirical, over the
    training windows). Returns the maximum over k < d, the 1-based position k that attains it,
    :math:`\mathbb E[x_d^2]` and whether the condition holds.
    """
    s = np.asarray(second_moments, np.float64)
    if s.ndim != 1 or s.size < 2:
        raise ValueError(
            f"second_moments: expected E[x_d x_k] for k = 1..d (d >= 2), got shape {s.shape}"
        )
    k = int(np.argmax(s[:-1]))
    return {
        "max_other": float(s[k]),
        "argmax_position": k + 1,
        "last": float(s[-1]),
        "holds": bool(s[k] <= s[-1]),
    }


def check_c3(
    *,
    widths,
    seeds,
    masses_final,
    weights_final,
    masses_init=None,
    delta: float,
    alpha: float = 0.05,
    atol: float = 1e-12,
    expectation: str = "neuron",
    versus: str = "every",
    second_moments=None,
    steps=None,
    mass_trajectory=None,
    negative_trajectory=None,
    conclusion_trajectory=None,
    kernel_change=None,
    kernel_threshold: float = 0.25,
    eta=None,
    lam=None,
    lam_resolution: float = 0.0,
    neuron_ok_trajectory=None,
    weights_trajectory=None,
    w_grid=None,
    grid_masses=None,
    source: str = "",
    config: dict | None = None,
    seed: int | None = None,
) -> Verdict:
    r"""C3 from the final weights and data-averaged masses :math:`\bar s_{r,k} = \frac1n\sum_i s_{r,k}(x_i)`.

    Per width ``widths[w]``: ``weights_final[w]`` (S, m_w) holds :math:`w_r(T)` and
    ``masses_final[w]`` (S, m_w, d) the masses at T (``masses_init`` likewise at t = 0). The unit
    of every probability is the network draw (seed; :mod:`verification.rules._laws`).

    1. **Premises** (``role="premise"``, all checked before the conclusion): the kernel regime,
       ``kernel_change[w]`` (S,) :math:`\|H(T)-H(0)\|_2/\|H(0)\|_2` at most ``kernel_threshold``
       (1/4: above it no λ can keep :math:`\|H(T)-H(0)\| \le \lambda/4`); the step size
       :math:`\eta \le c_\eta\lambda\delta` (``eta``, ``lam``, ``lam_resolution``); and
       :math:`\Pr[w_r(T) < 0] \ge 1-\delta` with neuron 0 of each network as one trial
       (:func:`verification.rules._laws.seed_decision`). Any premise not met or not checked: VACUOUS.
    2. **Conclusion**, under the chosen reading, one trial per network: ``neuron`` — the first
       neuron with :math:`w_r(T) < 0` satisfies :math:`\bar s_d \le \min_{k<d}\bar s_k` (``every``)
       or :math:`\le \frac1{d-1}\sum_{k<d}\bar s_k` (``average``, ⇔ :math:`\le 1/d`); ``population``
       — the masses averaged over the network's negative neurons do. Seed-level rule, Holm over widths.
    3. Diagnostics: the other readings; all readings on every neuron; the data condition
       :math:`\max_{k<d}\mathbb E[x_d x_k] \le \mathbb E[x_d^2]` from ``second_moments`` (d,).
    4. **Observed** (:class:`verification.rules._verdict.Observed`, when ``neuron_ok_trajectory[w]`` and
       ``weights_trajectory[w]`` (S, R, m) at ``steps`` are given): the conclusion per record,
       seed-level, with the last t and median :math:`|w_r|` where it held and the first where it
       fails; ``w_grid`` (G,) with ``grid_masses`` (G, d), the data-averaged masses at a common
       weight, give the data's boundary :math:`|w|^*`.

    ``mass_trajectory`` (W, R, d), ``negative_trajectory`` (W, R) and ``conclusion_trajectory``
    (W, R) (fraction of the negative neurons meeting the inequality per record) are figure data.
    """
    if expectation not in C3_EXPECTATIONS:
        raise ValueError(f"expectation: expected one of {C3_EXPECTATIONS}, got {expectation!r}")
    if versus not in C3_VERSUS:
        raise ValueError(f"versus: expected one of {C3_VERSUS}, got {versus!r}")
    if len(masses_final) != len(widths) or len(weights_final) != len(widths):
        raise ValueError(
            f"masses_final, weights_final: expected one array per width ({len(widths)}), "
            f"got {len(masses_final)} and {len(weights_final)}"
        )
    chosen = (expectation, versus)
    widths = [int(m) for m in widths]
    target = 1 - delta
    Ms = [np.asarray(M, np.float64) for M in masses_final]
    Ws = [np.asarray(w, np.float64) for w in weights_final]
    for wi, (M, w) in enumerate(zip(Ms, Ws)):
        if M.ndim != 3 or w.shape != M.shape[:2]:
            raise ValueError(
                f"weights_final[{wi}]: expected shape {M.shape[:2]} (seeds, m) matching masses_final[{wi}] "
                f"{M.shape}, got {w.shape}"
            )
    d = Ms[0].shape[-1]
    neg = [w < 0 for w in Ws]
    n_neg = np.array([int(x.sum()) for x in neg], np.int64)
    n_all = np.array([x.size for x in neg], np.int64)
    kpart = ev.kernel_premise(kernel_change, widths, kernel_threshold)
    spart, orders = ev.step_premise(eta, lam, lam_resolution, delta)
    npart, nres, intervals = ev.negative_premise(Ws, widths, seeds, delta=delta, alpha=alpha)
    parts = [kpart, spart, npart]
    measured = {
        "decisive_reading": f"{expectation}/{versus}",
        "premise_status": npart.status,
        "kernel_premise": kpart.status,
        "step_size_premise": spart.status,
        "step_size_orders": orders,
        "negative_fraction": [float(k / t) for k, t in zip(n_neg, n_all)],
        "negative_count": n_neg.tolist(),
        "neurons": n_all.tolist(),
        "negative_designated": [r["trials"] - r["fails"] for r in nres],
        "networks": [r["trials"] for r in nres],
        "mean_last_mass": [float(M[..., -1].mean()) for M in Ms],
        "median_abs_weight": [float(np.median(np.abs(w))) for w in Ws],
    }
    if kernel_change is not None:
        measured["kernel_change"] = [[float(x) for x in np.ravel(k)] for k in kernel_change]
    cond = {
        r: [ev.seed_reading(M, k, seeds, m, *r, atol=atol) for M, k, m in zip(Ms, neg, widths)]
        for r in C3_READINGS
    }
    uncond = {
        r: [
            ev.seed_reading(M, np.ones_like(k), seeds, m, *r, atol=atol)
            for M, k, m in zip(Ms, neg, widths)
        ]
        for r in C3_READINGS
    }
    for r in C3_READINGS:
        measured[_C3_KEYS[r] + "_premise"] = [x["value"] for x in cond[r]]
        measured[_C3_KEYS[r]] = [x["value"] for x in uncond[r]]
        measured[_C3_KEYS[r] + "_network_failures"] = [x["fails"] for x in cond[r]]
    st, rule = ev.decide(cond[chosen], widths, delta=delta, alpha=alpha)
    finding = (
        "; ".join(f"m = {m}: {x['words']}" for m, x in zip(widths, cond[chosen]))
        + f". Rule: {rule}."
    )
    why = {
        HOLDS: "",
        VIOLATED: "last position not least attended",
        VACUOUS: "no negative neuron",
        INCONCLUSIVE: f"{len(seeds)} networks cannot show 1-δ",
    }[st]
    parts.append(
        Part(
            f"[{expectation}/{versus}] on the neurons with w_r(T) < 0: {_C3_WORDS[chosen]}",
            st,
            finding,
            why=why,
        )
    )
    counter = None
    if st == VIOLATED:
        failing = [x for x in cond[chosen] if "counterexample" in x]
        counter = dict(failing[0]["counterexample"], premise="w_r(T) < 0") if failing else None
    for r in C3_READINGS:
        if r != chosen:
            s_, _ = ev.decide(cond[r], widths, delta=delta, alpha=alpha)
            parts.append(
                Part(
                    f"[{r[0]}/{r[1]}] on w_r(T) < 0 (diagnostic)",
                    s_,
                    "; ".join(f"m = {m}: {x['words']}" for m, x in zip(widths, cond[r])),
                    False,
                )
            )
    for r in C3_READINGS:
        s_, _ = ev.decide(uncond[r], widths, delta=delta, alpha=alpha)
        parts.append(
            Part(
                f"[{r[0]}/{r[1]}] on every neuron (unconditional, diagnostic)",
                s_,
                "; ".join(f"m = {m}: {x['words']}" for m, x in zip(widths, uncond[r])),
                False,
            )
        )
    if second_moments is not None:
        dc = data_condition(second_moments)
        measured["data_condition"] = dc
        parts.append(
            Part(
                "data condition max_{k<d} E[x_d x_k] <= E[x_d²] (behind the 'every' reading)",
                HOLDS if dc["holds"] else VIOLATED,
                f"max_k<d E[x_d x_k] = {dc['max_other']:.4g} at k = {dc['argmax_position']}, E[x_d²] = "
                f"{dc['last']:.4g}"
                + (
                    "." if dc["holds"] else f": position {dc['argmax_position']} wins, not d = {d}."
                ),
                False,
            )
        )
    if masses_init is not None:
        for v_ in C3_VERSUS:
            measured[_C3_KEYS[("neuron", v_)] + "_at_init"] = [
                float(ev.neuron_ok(np.asarray(M0, np.float64), v_, atol).mean())
                for M0 in masses_init
            ]
    obs = None
    if neuron_ok_trajectory is not None and weights_trajectory is not None and steps is not None:
        grid_ok = (
            None
            if grid_masses is None
            else ev.neuron_ok(np.asarray(grid_masses, np.float64), versus, atol)
        )
        kw = max((max(k) for k in measured.get("kernel_change", [])), default=math.nan)
        o = ev.observed(
            [np.asarray(x, bool) for x in neuron_ok_trajectory],
            [np.asarray(x, np.float64) for x in weights_trajectory],
            steps,
            widths,
            delta=delta,
            alpha=alpha,
            w_grid=w_grid,
            grid_ok=grid_ok,
            step_orders=orders,
            kernel_worst=kw,
            source=source,
        )
        measured["observed_record_status"] = o.pop("record_status")
        obs = Observed(**o)
    status = combine_parts(parts)
    explanation = _c3_explanation(status, chosen, parts, cond, measured, widths, target, d, obs)
    mean_neg = [(M[k].mean(axis=0) if k.any() else np.full(d, np.nan)) for M, k in zip(Ms, neg)]
    arrays = {
        "widths": np.asarray(widths),
        "mean_mass_final": np.asarray([M.reshape(-1, d).mean(axis=0) for M in Ms]),
        "mean_mass_final_negative": np.asarray(mean_neg),
        "negative_count": n_neg,
        "neurons": n_all,
        **{_C3_KEYS[r]: np.asarray(measured[_C3_KEYS[r]]) for r in C3_READINGS},
        **{
            _C3_KEYS[r] + "_premise": np.asarray(measured[_C3_KEYS[r] + "_premise"])
            for r in C3_READINGS
        },
    }
    if masses_init is not None:
        arrays["mean_mass_init"] = np.asarray(
            [np.asarray(M0, np.float64).reshape(-1, d).mean(axis=0) for M0 in masses_init]
        )
    if second_moments is not None:
        arrays["second_moments"] = np.asarray(second_moments, np.float64)
    if w_grid is not None and grid_masses is not None:
        arrays["w_grid"], arrays["grid_masses"] = (
            np.asarray(w_grid, np.float64),
            np.asarray(grid_masses, np.float64),
        )
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
                "reading": f"neuron/{versus}",
                "min": [float(np.nanmin(r)) if np.isfinite(r).any() else float("nan") for r in ct],
                "last": [float(r[-1]) for r in ct],
            }
    return Verdict(
        claim="C3",
        status=status,
        explanation=explanation,
        measured=measured,
        bounds={"one_minus_delta": target, "kernel_threshold": kernel_threshold},
        intervals=intervals,
        parts=tuple(parts),
        counterexample=counter,
        tested_range={
            "widths": widths,
            "seeds": [int(x) for x in seeds],
            **({"steps": int(np.asarray(steps)[-1])} if steps is not None else {}),
        },
        config=config or {},
        seed=seed,
        arrays=arrays,
        observed=obs,
    )


def _c3_explanation(status, chosen, parts, cond, measured, widths, target, d, obs):
    unmet = [p for p in parts if p.role == "premise" and p.status != HOLDS]
    s = [
        "Theorem 5.3 inherits Theorem 5.2's premises — the kernel regime and η ≤ O(λδ/poly) — and speaks of "
        "weights that have turned negative; each probability counts network draws (seeds), not neurons."
    ]
    if unmet:
        s.append(
            "Premises not met: "
            + "; ".join(f"{p.name.removeprefix('premise: ')} — {p.why or p.status}" for p in unmet)
            + f". The theorem's verdict is therefore {status}."
        )
    else:
        s.append(f"Every premise is met; the conclusion decides: {status}.")
    c = cond[chosen][-1]
    s.append(
        f"Read as C3.expectation = '{chosen[0]}', C3.versus = '{chosen[1]}' ({_C3_WORDS[chosen]}): at m = "
        f"{widths[-1]}, {c['words']}."
    )
    dc = measured.get("data_condition")
    if dc is not None:
        s.append(
            f"Data condition for the 'every' reading: max_k<d E[x_d x_k] = {dc['max_other']:.3g} (k = "
            f"{dc['argmax_position']}) {'≤' if dc['holds'] else '>'} E[x_d²] = {dc['last']:.3g}."
        )
    s.append(
        f"Averaged over neurons the last position gets {measured['mean_last_mass'][-1]:.3f} of the mass "
        f"(uniform 1/d = {1 / d:.3f}); median |w_r(T)| = {measured['median_abs_weight'][-1]:.3g}."
    )
    if obs is not None:
        s.append(f"Observed law ({obs.scale}): {obs.finding}")
    return " ".join(s)


def record_steps(steps: int, records: int) -> np.ndarray:
    """0 and ``records`` log-spaced steps up to ``steps`` (integers, strictly increasing, the last being ``steps``)."""
    if steps < 1 or records < 2:
        raise ValueError(
            f"steps, records: expected steps >= 1 and records >= 2, got {steps}, {records}"
        )
    return np.unique(
        np.concatenate([[0], np.geomspace(1, steps, records).astype(np.int64), [steps]])
    )


W_GRID_MAX = 1e4
"""Largest absolute weight of the data's mass curve: beyond it the softmax of standardised windows is one-hot."""


def _kernel_change(key, m: int, sigma: float, tr, X) -> float:
    r""":math:`\|H(T) - H(0)\|_2/\|H(0)\|_2` of one run (all :math:`a_r = -1`); inf when the run diverged or
    its weights are beyond what the softmax evaluates (then it is far from any kernel regime)."""
    wT = np.asarray(tr.params.w)
    if tr.diverged_step >= 0 or not np.all(np.isfinite(wT)):
        return math.inf
    p0 = init_params(key, m, sigma=sigma, output_signs="minus")
    try:
        HT = np.asarray(empirical_ntk(Params(tr.params.w, p0.a), X), np.float64)
    except ValueError:  # attention scores past the float range (ntk_attention's overflow guard)
        return math.inf
    H0 = np.asarray(empirical_ntk(p0, X), np.float64)
    return float(np.linalg.norm(HT - H0, 2) / np.linalg.norm(H0, 2))


def run_c3(section: dict, ctx) -> Verdict:
    n = ctx.config["data"]["n"]
    ds = ctx.dataset(n)
    sigma = ctx.sigma()
    eta = ctx.step_size(section, sizes=[n], sigma=sigma)
    seeds = ctx.network_seeds(section["seeds"])
    W = section["widths"]
    rec = record_steps(section["steps"], section["records"])
    final, weights, init, traj, negt, conc, ok_traj, w_traj, kchange = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    bar = ctx.progress("C3 all a_r = -1", len(W) * len(seeds))
    for m in W:
        fm, wm, im, tm, nm, ok_neg, n_neg, okm, wtm, km = [], [], [], [], [], 0, 0, [], [], []
        for s in seeds:
            p = init_params(jax.random.key(s), m, sigma=sigma, output_signs="minus")
            tr = ctx.train(
                p,
                ds.X,
                ds.y,
                learning_rate=eta,
                seed=s,
                memo={"claim": "C3", "n": n, "width": m, "record_at": rec, "sigma": sigma},
                record_at=rec,
                record_ntk=False,
                record_neurons=True,
            )
            PM, Wt = np.asarray(tr.position_mass), np.asarray(tr.weights)
            fm.append(PM[-1]), wm.append(Wt[-1]), im.append(PM[0])
            tm.append(np.asarray(tr.mean_position_mass)), nm.append((Wt < 0).mean(axis=1))
            okt = ev.neuron_ok(PM, section["versus"], 1e-12)  # (R, m)
            ok_neg = ok_neg + ((Wt < 0) & okt).sum(axis=1)  # (R,)
            okm.append(okt), wtm.append(Wt)
            km.append(_kernel_change(jax.random.key(s), m, sigma, tr, ds.X))
            n_neg = n_neg + (Wt < 0).sum(axis=1)
            bar.update(1)
        final.append(np.stack(fm)), weights.append(np.stack(wm)), init.append(np.stack(im))
        traj.append(np.mean(tm, axis=0)), negt.append(np.mean(nm, axis=0))
        with np.errstate(invalid="ignore", divide="ignore"):  # no negative neuron at a record: NaN
            conc.append(ok_neg / n_neg)
        ok_traj.append(np.stack(okm)), w_traj.append(np.stack(wtm)), kchange.append(np.asarray(km))
    bar.close()
    X = np.asarray(ds.X, np.float64)
    lam = ctx.lambda_star(n, sigma=sigma)[0]  # shared with C1, C2 and the stability pre-check
    # the data's own boundary: masses at a common weight w < 0, out to beyond the trained weights
    finite = np.concatenate([np.abs(w[np.isfinite(w)]) for w in w_traj] + [np.ones(1)])
    wmax = min(1.5 * float(finite.max()), W_GRID_MAX)
    w_grid = -np.geomspace(1e-3, wmax, 160)
    grid = np.asarray(
        mean_attention_mass(
            Params(w_grid.astype(ds.X.dtype), -np.ones(w_grid.size, ds.X.dtype)), ds.X
        ),
        np.float64,
    )
    return check_c3(
        widths=W,
        seeds=seeds,
        masses_final=final,
        weights_final=weights,
        masses_init=init,
        delta=section["delta"],
        alpha=section["alpha"],
        expectation=section["expectation"],
        versus=section["versus"],
        second_moments=(X[:, -1:] * X).mean(axis=0),
        steps=rec,
        mass_trajectory=np.stack(traj),
        negative_trajectory=np.stack(negt),
        conclusion_trajectory=np.stack(conc),
        kernel_change=kchange,
        kernel_threshold=section["kernel_threshold"],
        eta=eta,
        lam=lam.value,
        lam_resolution=lam.resolution,
        neuron_ok_trajectory=ok_traj,
        weights_trajectory=w_traj,
        w_grid=w_grid,
        grid_masses=grid,
        source=str(ctx.config["data"].get("source", "")),
        config={"C3": section, "data": ctx.config["data"]},
        seed=ctx.seed,
    )


def plot_c3(v: Verdict, out: Path) -> list[str]:
    plt = pyplot()
    A = v.arrays
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.6))
    d = A["mean_mass_final"].shape[-1]
    pos = np.arange(1, d + 1)
    cmap = plt.get_cmap("viridis")
    ax = axes[0]
    for wi, m in enumerate(A["widths"]):
        c = cmap(wi / max(1, len(A["widths"]) - 1))
        if np.all(np.isfinite(A["mean_mass_final_negative"][wi])):
            ax.plot(
                pos,
                A["mean_mass_final_negative"][wi],
                "o-",
                color=c,
                label=f"m = {m}, t = T, w_r < 0",
            )
        ax.plot(
            pos,
            A["mean_mass_final"][wi],
            "s--",
            color=c,
            alpha=0.5,
            ms=3,
            label=f"m = {m}, t = T, all",
        )
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
            ax.plot(
                t,
                A["negative_fraction_trajectory"][wi],
                color=c,
                label=f"fraction w_r < 0, m = {m}",
            )
            if "conclusion_trajectory" in A:
                ax.plot(
                    t,
                    A["conclusion_trajectory"][wi],
                    color=c,
                    ls="--",
                    label=f"of them, last {'least' if 'every' in v.measured.get('decisive_reading', '') else '≤ 1/d'}, m = {m}",
                )
        ax.axhline(v.bounds["one_minus_delta"], color="r", ls="--", lw=1, label="1 - δ")
        ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("step t (0 drawn at 0.5)")
        ax.set_ylabel("fraction of neurons")
        ax.set_title("premise w_r(t) < 0, and the inequality on those neurons", fontsize=9)
        ax.legend(fontsize=7)
    ax = axes[2]
    if (
        "w_grid" in A and "grid_masses" in A
    ):  # the data's own boundary |w|*: masses at a common weight w < 0
        wg, G = np.abs(A["w_grid"]), A["grid_masses"]
        ref = (
            G[:, :-1].min(axis=1)
            if "every" in v.measured.get("decisive_reading", "/every")
            else G[:, :-1].mean(axis=1)
        )
        ax.plot(wg, G[:, -1], color="C3", label="mass on the last position d")
        ax.plot(wg, ref, color="C0", label="the other positions (min or mean, as the reading)")
        L = v.observed.looseness if v.observed is not None else {}

        def inside(x):  # lines off the grid (a diverged run's |w_r|) are not drawn
            return bool(np.isfinite(x) and wg.min() <= x <= wg.max())

        if inside(L.get("w_star_data", np.nan)):
            ax.axvline(
                L["w_star_data"],
                color="k",
                ls=":",
                lw=1,
                label=f"|w|* = {L['w_star_data']:.3g} (data)",
            )
        for key, ls in (("median_abs_w_at_t_hold", "--"), ("median_abs_w_at_t_star", "-.")):
            if inside(L.get(key, np.nan)):
                ax.axvline(
                    L[key],
                    color="gray",
                    ls=ls,
                    lw=1,
                    label=f"median |w_r| at t = {L[key.replace('median_abs_w_at_', '')]}",
                )
        ax.set_xscale("log")
        ax.set_xlabel("|w| of a common weight w < 0")
        ax.set_ylabel("data-averaged softmax mass")
        ax.set_title("where the conclusion stops holding (observed)", fontsize=9)
        ax.legend(fontsize=7)
    else:
        ax.set_axis_off()
    fig.suptitle(
        f"C3 ({v.measured.get('decisive_reading', 'neuron/every')}): {summary_c3(v)}",
        fontsize=10,
        wrap=True,
    )
    return [save_figure(fig, out / "c3_last_token_mass.png")]


def summary_c3(v: Verdict) -> str:
    """One line: which premises fail and by how much (theorem), and where the conclusion stops (observed)."""
    M = v.measured
    reading = tuple(M.get("decisive_reading", "neuron/every").split("/"))
    if "negative_fraction" not in M:  # a verdict from before the premises were checked
        f = M.get(_C3_KEYS.get(reading, "fraction_last_least"), [])
        what = "last position least attended" if reading[1] == "every" else "last position ≤ 1/d"
        return (
            f"{what}: "
            + ", ".join(f"{x:.2f}" for x in f)
            + f" (need ≥ {v.bounds.get('one_minus_delta', 0.9):.2f})"
        )
    bits = []
    unmet = [p for p in v.parts if p.role == "premise" and p.decisive and p.status != HOLDS]
    if unmet:
        bits.append("premises unmet: " + "; ".join(p.why or p.name for p in unmet))
    fails = M.get(_C3_KEYS.get(reading, "fraction_last_least") + "_network_failures")
    if fails is not None:
        bits.append(
            f"last {'least attended' if reading[1] == 'every' else '≤ 1/d'} fails in "
            + ", ".join(f"{f}/{n}" for f, n in zip(fails, M.get("networks", ["?"] * len(fails))))
            + " networks at T"
        )
    o = v.observed
    if o is not None:
        L = o.looseness
        held = (
            f"holds to t = {L['t_hold']} (|w_r| {L['median_abs_w_at_t_hold']:.2g})"
            if "t_hold" in L
            else "never holds"
        )
        fail = (
            f", fails from t = {L['t_star']} (|w_r| {L['median_abs_w_at_t_star']:.2g})"
            if "t_star" in L
            else ""
        )
        w_star = L.get("w_star_data", float("nan"))
        data = (
            f"; data boundary |w|* = {w_star:.2g}"
            if math.isfinite(w_star)
            else "; data: fails at every |w| of the grid"
            if "w_fail_data" in L
            else ""
        )
        bits.append(f"observed {o.status}: {held}{fail}{data}")
    return "; ".join(bits) if bits else f"theorem {v.status}"


def example_check_input() -> tuple[dict, str]:
    r"""Keyword arguments of :func:`check_c3` whose verdict is known, and that verdict: 40 networks of
    60 neurons, all with :math:`w_r(T) < 0`, in the kernel regime (relative change 0.01) with
    :math:`\eta = 10^{-3} \le \lambda\delta = 10^{-2}`; each neuron puts mass 0.1 on the last of
    d = 4 positions and 0.3 on each other one. The designated neuron holds in 40 of 40 networks
    (Clopper–Pearson upper end 0.09 ≤ δ = 0.1): HOLDS."""
    S = 40
    M = np.tile([0.3, 0.3, 0.3, 0.1], (S, 60, 1))
    return dict(
        widths=[60],
        seeds=list(range(S)),
        masses_final=[M],
        weights_final=[-np.ones((S, 60))],
        masses_init=[M],
        delta=0.1,
        second_moments=np.array([0.1, 0.2, 0.3, 0.5]),
        steps=np.array([0, 5, 10]),
        mass_trajectory=np.tile(M.mean(axis=(0, 1)), (1, 3, 1)),
        negative_trajectory=np.array([[0.5, 0.9, 1.0]]),
        kernel_change=[np.full(S, 0.01)],
        eta=1e-3,
        lam=0.1,
        lam_resolution=1e-12,
        neuron_ok_trajectory=[np.ones((S, 3, 60), bool)],
        weights_trajectory=[-np.ones((S, 3, 60))],
        w_grid=-np.array([0.1, 1.0]),
        grid_masses=M[0, :2],
    ), HOLDS


def memory_c3(section: dict, data: dict) -> tuple[int, str]:
    """Peak memory growth: one training run at a time at ``[data] n``, the per-neuron records
    (weights, position masses and the inequality flags at ``records + 2`` log-spaced steps) of every
    width × seed kept until the check, the check's float64 copies of the masses (all neurons, the
    negative ones, one network's rows), two n × n kernels per run, and the data's mass curve on a
    160-point grid of weights."""
    R, S, d = section["records"] + 2, section["seeds"], data["d"]
    neurons, widest = sum(section["widths"]), max(section["widths"])
    kept = 9 * R * S * neurons  # weights (float64) and inequality flags (bool) per record
    check = (
        8 * d * (3 * S * neurons + 2 * widest)
    )  # float64 masses at T and t = 0, the negative neurons, one network
    return memory_sum(
        train_bytes(
            n=data["n"],
            d=d,
            widths=section["widths"],
            seeds=S,
            steps=R - 1,
            record_every=1,
            held=True,
        ),
        (
            kept + check + 16 * data["n"] ** 2 + 8 * 160 * (data["n"] + 1) * d,
            "weights and flags per record, the check's float64 masses, H(0) and H(T), the mass curve",
        ),
    )


CLAIM = Claim(
    id="C3",
    source="Thm 5.3",
    title="all a_r = −1: the last position is least attended",
    statement=r"a_r=-1\ \forall r\ \Rightarrow\ \mathbb E[\mathrm{softmax}_d(x_d w_r(t) x)]\le"
    r"\mathbb E[\mathrm{softmax}_k(x_d w_r(t) x)]\ \text{w.p.}\ \ge1-\delta",
    params={
        "widths": cfg.int_list([64, 256], "network widths m (strictly increasing)", minimum=2),
        "seeds": cfg.positive_int(2, "network seeds per width", maximum=64),
        "steps": cfg.positive_int(2000, "gradient-descent steps T (records log-spaced up to T)"),
        "records": cfg.positive_int(
            24, "number of log-spaced records between step 1 and T (plus t = 0)", minimum=2
        ),
        "eta": cfg.positive_float(0.1, "learning rate η (GD is stable for η < 2/λ_max(H(0)))"),
        "kernel_threshold": cfg.positive_float(
            0.25,
            "premise: largest ‖H(T) − H(0)‖/‖H(0)‖ of the kernel regime "
            "(1/4: above it no λ keeps ‖H(t) − H(0)‖ ≤ λ/4)",
        ),
        "delta": DELTA,
        "alpha": ALPHA,
        "expectation": cfg.choice(
            "neuron",
            C3_EXPECTATIONS,
            "Thm 5.3's E[.] is ambiguous: over the data per neuron r (then for >= 1-δ of "
            "neurons), or over data and neurons (the population); the other reading is a diagnostic",
        ),
        "versus": cfg.choice(
            "every",
            C3_VERSUS,
            "Thm 5.3's right-hand side: every other position k (the last least attended), or "
            "their average (mass_d <= 1/d); the other reading is a diagnostic",
        ),
    },
    run=run_c3,
    check=check_c3,
    plot=plot_c3,
    summary=summary_c3,
    training=data_n_training,
    memory=memory_c3,
)
