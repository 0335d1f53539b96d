r"""C3 (Theorem 5.3): when every :math:`a_r = -1`, the last position gets the least attention.

**Statement.** :math:`\mathbb E[\mathrm{softmax}_d(x_d w_r(t) x)] \le \mathbb E[\mathrm{softmax}_k(x_d w_r(t) x)]`
with probability :math:`\ge 1-\delta`.

**Reading.** Ambiguous twice, so both are parameters (docs/theory.md, "C3"): the expectation per
neuron or over the population of neurons (``expectation``), against every other position or their
average (``versus``); the other readings are diagnostics.

**Verdict rule** (:func:`check_c3`). Per neuron: the Clopper–Pearson interval of the fraction of
neurons satisfying the inequality against :math:`1-\delta`; population: a bootstrap interval of the
gap against 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from verification import config as cfg
from verification.contract import Claim, memory_sum, train_bytes
from verification.stats import bootstrap_interval, clopper_pearson
from verification.verdict import HOLDS, VIOLATED, Part, Verdict, combine_status
from verification.claims._common import (
    ALPHA, data_n_memory, data_n_training, DELTA, interval_status, pyplot, save_figure, train_runs,
    training_fields,
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


def _c3_reading(M: np.ndarray, seeds, m: int, expectation: str, versus: str, *, target: float, alpha: float,
                atol: float, boot_seed: int) -> dict:
    """One reading of Thm 5.3 at one width: status, statistic, interval, finding and (if any) a counterexample."""
    words = _C3_WORDS[(expectation, versus)]
    if expectation == "neuron":
        ok = _c3_neuron_ok(M, versus, atol)
        k, tot = np.int64(ok.sum()), np.int64(ok.size)
        lo, hi = clopper_pearson(k, tot, alpha)
        st = interval_status(lo, hi, target, upper=False)
        out = {"status": st, "value": float(k / tot), "interval": [lo, hi],
               "finding": f"{k / tot:.1%} of {tot} neurons, {1 - alpha:.0%} Clopper–Pearson [{lo:.3f}, {hi:.3f}] "
                          f"vs 1-δ = {target:g}."}
        if st == VIOLATED:
            si, ri = (int(x) for x in np.argwhere(~ok)[0])
            out["counterexample"] = {"reading": f"{expectation}/{versus}", "width": m, "seed": int(np.asarray(seeds)[si]),
                                     "neuron": ri, "mass_last": float(M[si, ri, -1]),
                                     ("min_mass_other" if versus == "every" else "mean_mass_other"):
                                         float(_c3_reference(M[si, ri], versus)),
                                     "least_attended_position": int(np.argmin(M[si, ri, :-1])) + 1}
        return out
    rows = M.reshape(-1, M.shape[-1])  # neurons of every seed pooled: the population sample
    gap, glo, ghi = bootstrap_interval(rows, lambda r: float(_c3_reference(r.mean(axis=0), versus) - r.mean(axis=0)[-1]),
                                       resamples=400, seed=boot_seed, alpha=alpha)
    st = interval_status(glo, ghi, -atol, upper=False)
    out = {"status": st, "value": gap, "interval": [glo, ghi],
           "finding": f"gap {('min' if versus == 'every' else 'mean')}_k<d − last of the neuron-averaged masses = "
                      f"{gap:.4f}, {1 - alpha:.0%} bootstrap over {rows.shape[0]} neurons [{glo:.4f}, {ghi:.4f}] vs 0."}
    if st == VIOLATED:
        mean = rows.mean(axis=0)
        out["counterexample"] = {"reading": f"{expectation}/{versus}", "width": m, "seeds": [int(s) for s in seeds],
                                 "mean_mass_last": float(mean[-1]),
                                 ("min_mean_mass_other" if versus == "every" else "mean_mean_mass_other"):
                                     float(_c3_reference(mean, versus)),
                                 "gap": gap, "interval": [glo, ghi],
                                 "least_attended_position": int(np.argmin(mean[:-1])) + 1}
    return out


def check_c3(*, widths, seeds, masses_final, masses_init=None, delta: float, alpha: float = 0.05, atol: float = 1e-12,
             expectation: str = "neuron", versus: str = "every", steps=None, mass_trajectory=None,
             config: dict | None = None, seed: int | None = None) -> Verdict:
    r"""C3 from data-averaged masses :math:`\bar s_{r,k} = \frac1n\sum_i s_{r,k}(x_i)`, under a chosen reading.

    Theorem 5.3, :math:`\mathbb E[\mathrm{softmax}_d(x_d w_r(t) x)] \le \mathbb E[\mathrm{softmax}_k(x_d
    w_r(t) x)]` w.p. :math:`\ge 1-\delta`, is ambiguous in two ways, so both are parameters:

    * ``expectation = "neuron"`` (default): :math:`\mathbb E` is over the data, for each neuron r; the
      inequality must hold for a fraction :math:`\ge 1-\delta` of neurons: the fraction pooled over
      seeds gets a Clopper–Pearson interval (level 1-``alpha``) compared with :math:`1-\delta`
      (:func:`interval_status`). ``"population"``: :math:`\mathbb E` is over data *and* neurons;
      the neuron-averaged masses :math:`\mathbb E_r \bar s_{r,k}` are compared (percentile
      bootstrap over the pooled neurons, interval of the gap against 0; δ does not enter);
    * ``versus = "every"`` (default): against every other position,
      :math:`\bar s_d \le \min_{k<d} \bar s_k` (the last position least attended); ``"average"``:
      against their average, :math:`\bar s_d \le \frac1{d-1}\sum_{k<d}\bar s_k`, which for masses
      summing to 1 is :math:`\bar s_d \le 1/d`.

    The chosen reading decides the verdict (one decisive part per width); the three others are
    reported as diagnostic parts, so every verdict shows all four. ``masses_final[w]`` is an array
    (S, m_w, d) for width ``widths[w]`` at the last step (``masses_init`` likewise at t = 0: the
    per-neuron fractions there are reported); ``atol`` is the tolerance of every comparison. The
    counterexample is that of the decisive reading at the smallest failing width (seed, neuron
    and masses, or the seeds and the neuron-averaged masses). ``steps`` (R,) and
    ``mass_trajectory`` (W, R, d) (neuron-averaged masses over time) are figure data.
    """
    if expectation not in C3_EXPECTATIONS:
        raise ValueError(f"expectation: expected one of {C3_EXPECTATIONS}, got {expectation!r}")
    if versus not in C3_VERSUS:
        raise ValueError(f"versus: expected one of {C3_VERSUS}, got {versus!r}")
    chosen = (expectation, versus)
    widths = [int(m) for m in widths]
    target = 1 - delta
    results = {r: [] for r in C3_READINGS}
    measured = {"decisive_reading": f"{expectation}/{versus}", "mean_last_mass": []}
    intervals, mean_final, mean_init = {}, [], []
    for wi, m in enumerate(widths):
        M = np.asarray(masses_final[wi], np.float64)  # (S, m, d)
        for r in C3_READINGS:
            res = _c3_reading(M, seeds, m, *r, target=target, alpha=alpha, atol=atol, boot_seed=wi)
            results[r].append(res)
            measured.setdefault(_C3_KEYS[r], []).append(res["value"])
            intervals[f"{_C3_KEYS[r]}[m={m}]"] = res["interval"]
        measured["mean_last_mass"].append(float(M[..., -1].mean()))
        mean_final.append(M.reshape(-1, M.shape[-1]).mean(axis=0))
        if masses_init is not None:
            M0 = np.asarray(masses_init[wi], np.float64)
            for v_ in C3_VERSUS:
                key = _C3_KEYS[("neuron", v_)] + "_at_init"
                measured.setdefault(key, []).append(float(_c3_neuron_ok(M0, v_, atol).mean()))
            mean_init.append(M0.reshape(-1, M0.shape[-1]).mean(axis=0))
    parts = [Part(f"[{r[0]}/{r[1]}] {_C3_WORDS[r]} (m = {m})", res["status"], res["finding"], r == chosen)
             for r in (chosen, *(q for q in C3_READINGS if q != chosen)) for m, res in zip(widths, results[r])]
    status = combine_status(p.status for p in parts if p.decisive)
    failing = [(m, res) for m, res in zip(widths, results[chosen]) if "counterexample" in res]
    counter = min(failing, key=lambda x: x[0])[1]["counterexample"] if failing else None
    explanation = _c3_explanation(status, chosen, results, measured, widths, target, len(mean_final[0]))
    arrays = {"widths": np.asarray(widths), "mean_mass_final": np.asarray(mean_final),
              **{_C3_KEYS[r]: np.asarray(measured[_C3_KEYS[r]]) for r in C3_READINGS}}
    if mean_init:
        arrays["mean_mass_init"] = np.asarray(mean_init)
    if steps is not None:
        arrays.update(steps=np.asarray(steps), mean_position_mass=np.asarray(mass_trajectory, np.float64))
    return Verdict(claim="C3", status=status, explanation=explanation, measured=measured,
                   bounds={"one_minus_delta": target}, intervals=intervals, parts=tuple(parts), counterexample=counter,
                   tested_range={"widths": widths, "seeds": [int(x) for x in seeds]},
                   config=config or {}, seed=seed, arrays=arrays)


def _c3_statistic_words(r, res) -> str:
    lo, hi = res["interval"]
    if r[0] == "neuron":
        return f"{res['value']:.1%} of neurons [{lo:.3f}, {hi:.3f}]"
    return f"gap {res['value']:.3g} [{lo:.3g}, {hi:.3g}]"


def _c3_explanation(status, chosen, results, measured, widths, target, d):
    need = f"at least 1-δ = {target:g} of neurons" if chosen[0] == "neuron" else "a gap ≥ 0"
    init = measured.get(_C3_KEYS[("neuron", chosen[1])] + "_at_init") if chosen[0] == "neuron" else None
    s = [f"Theorem 5.3 is ambiguous; it is read here as C3.expectation = '{chosen[0]}', C3.versus = '{chosen[1]}': "
         f"{_C3_WORDS[chosen]}, which needs {need}.",
         f"With every a_r = -1, at m = {widths[-1]} this gives {_c3_statistic_words(chosen, results[chosen][-1])}"
         + (f" ({init[-1]:.0%} at initialisation)" if init else "") + f": {status}.",
         "The other readings at that width (diagnostics): "
         + "; ".join(f"{r[0]}/{r[1]} {results[r][-1]['status']} ({_c3_statistic_words(r, results[r][-1])})"
                     for r in C3_READINGS if r != chosen) + ".",
         f"Averaged over neurons the last position gets {measured['mean_last_mass'][-1]:.3f} of the mass "
         f"(uniform 1/d = {1 / d:.3f})."]
    return " ".join(s)


def run_c3(section: dict, ctx) -> Verdict:
    n = ctx.config["data"]["n"]
    ds = ctx.dataset(n)
    seeds = ctx.network_seeds(section["seeds"])
    W = section["widths"]
    runs = train_runs(ctx, ds.X, ds.y, widths=W, seeds=seeds, steps=section["steps"],
                       record_every=section["record_every"], eta=section["eta"], signs="minus", desc="C3 all a_r = -1")
    final = [np.stack([np.asarray(runs[(m, s)].position_mass[-1]) for s in seeds]) for m in W]
    init = [np.stack([np.asarray(runs[(m, s)].position_mass[0]) for s in seeds]) for m in W]
    traj = np.stack([np.mean([np.asarray(runs[(m, s)].mean_position_mass) for s in seeds], axis=0) for m in W])
    v = check_c3(widths=W, seeds=seeds, masses_final=final, masses_init=init, delta=section["delta"],
                 alpha=section["alpha"], expectation=section["expectation"], versus=section["versus"],
                 steps=np.asarray(runs[(W[0], seeds[0])].step), mass_trajectory=traj, config={"C3": section, "data": ctx.config["data"]}, seed=ctx.seed)
    return v


def plot_c3(v: Verdict, out: Path) -> list[str]:
    plt = pyplot()
    A = v.arrays
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    d = A["mean_mass_final"].shape[-1]
    pos = np.arange(1, d + 1)
    cmap = plt.get_cmap("viridis")
    ax = axes[0]
    for wi, m in enumerate(A["widths"]):
        c = cmap(wi / max(1, len(A["widths"]) - 1))
        ax.plot(pos, A["mean_mass_final"][wi], "o-", color=c, label=f"m = {m}, t = T")
        if "mean_mass_init" in A:
            ax.plot(pos, A["mean_mass_init"][wi], "x:", color=c, alpha=0.6, label=f"m = {m}, t = 0")
    ax.axhline(1 / d, color="gray", ls=":", lw=1, label="uniform 1/d")
    ax.set_xlabel("position k (k = d is the most recent value)")
    ax.set_ylabel("mean softmax mass over data and neurons")
    ax.set_title("mass per position, all a_r = -1", fontsize=10)
    ax.legend(fontsize=7)
    ax = axes[1]
    if "mean_position_mass" in A:
        traj = A["mean_position_mass"]
        versus = v.measured.get("decisive_reading", "neuron/every").split("/")[1]
        other = "least-attended other position" if versus == "every" else "average other position"
        for wi, m in enumerate(A["widths"]):
            c = cmap(wi / max(1, len(A["widths"]) - 1))
            ax.plot(A["steps"], traj[wi, :, -1], color=c, label=f"last position, m = {m}")
            ax.plot(A["steps"], _c3_reference(traj[wi], versus), color=c, ls="--", label=f"{other}, m = {m}")
        ax.set_xlabel("step t")
        ax.set_ylabel("mean mass")
        ax.set_title(f"last-token mass vs the {other} (C3.versus = '{versus}')", fontsize=10)
        ax.legend(fontsize=7)
    fig.suptitle(f"C3 ({v.measured.get('decisive_reading', 'neuron/every')} reading): {summary_c3(v)}", fontsize=11)
    return [save_figure(fig, out / "c3_last_token_mass.png")]


def summary_c3(v: Verdict) -> str:
    reading = tuple(v.measured.get("decisive_reading", "neuron/every").split("/"))
    f = v.measured.get(_C3_KEYS.get(reading, "fraction_last_least"), [])
    if reading[0] == "population":
        return (f"{reading[0]}/{reading[1]}: gap ({'min' if reading[1] == 'every' else 'mean'}_k<d − last) "
                + ", ".join(f"{x:.3g}" for x in f) + " (need ≥ 0)")
    what = "last position least attended" if reading[1] == "every" else "last position ≤ 1/d"
    return f"{what}: " + ", ".join(f"{x:.2f}" for x in f) + f" (need ≥ {v.bounds.get('one_minus_delta', 0):.2f})"



def example_check_input() -> tuple[dict, str]:
    r"""Keyword arguments of :func:`check_c3` whose verdict is known, and that verdict: every neuron
    puts mass 0.1 on the last of d = 4 positions and at least 0.2 on each other one: HOLDS."""
    M = np.tile([0.3, 0.3, 0.3, 0.1], (2, 50, 1))
    return dict(widths=[50], seeds=[0, 1], masses_final=[M], masses_init=[M], delta=0.1,
                steps=np.array([0, 5, 10]), mass_trajectory=np.tile(M.mean(axis=(0, 1)), (1, 3, 1))), HOLDS



def memory_c3(section: dict, data: dict) -> tuple[int, str]:
    """Peak memory growth: one training run at a time at ``[data] n``, the per-neuron records
    (weights and position masses) of every width × seed kept until the check, and the population
    reading's bootstrap (400 resamples of the seeds × m neurons: an int64 index array, generated through a
    temporary of its size, and the resampled rows)."""
    pooled = section["seeds"] * max(section["widths"])
    return memory_sum(
        train_bytes(n=data["n"], d=data["d"], widths=section["widths"], seeds=section["seeds"],
                    steps=section["steps"], record_every=section["record_every"], held=True),
        (8 * pooled * (2 * 400 + 4 * data["d"]), "bootstrap over the pooled neurons (400 × seeds × m indices)"))


CLAIM = Claim(
    id="C3", source="Thm 5.3", title="all a_r = −1: the last position is least attended",
    statement=r"a_r=-1\ \forall r\ \Rightarrow\ \mathbb E[\mathrm{softmax}_d(x_d w_r(t) x)]\le"
              r"\mathbb E[\mathrm{softmax}_k(x_d w_r(t) x)]\ \text{w.p.}\ \ge1-\delta",
    params={**training_fields(widths=[256, 1024], seeds=3, steps=300, record_every=10, eta=0.05),
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
