r"""C1 (Theorem 5.2): the training loss of the two-layer attention network converges linearly.

**Statement.** For :math:`m = \Omega(\mathrm{poly}(\lambda^{-1}, e^{B^2}, e^{D}, n, d))` neurons and a small
enough step η, with probability :math:`\ge 1-\delta` over the initialisation,
:math:`L(T) \le \varepsilon` after :math:`T \ge \Omega((\eta\lambda)^{-1}\log(nB^2/\varepsilon))` steps.

**Reading.** The proof's envelope :math:`L(t) \le (1-\eta\lambda/2)^t L(0)` at every recorded t, and
:math:`L(t) \le \varepsilon` from :math:`T_{req} = c_T(\eta\lambda)^{-1}\log(nB^2/\varepsilon)` on, per
data size n, over a width × seed sweep (docs/theory.md, "C1").

**Verdict rule** (:func:`check_c1`). A run fails or meets each part with λ widened by its float64
resolution ρ; per width, VIOLATED when the Clopper–Pearson lower bound of the failure rate over
seeds exceeds δ; VACUOUS when λ is unresolved, when the envelope's demanded decrease is below the
loss tolerance, or when :math:`T_{req}` lies beyond the steps run.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import numpy as np

from verification import config as cfg
from verification.contract import Claim, TrainingRun, memory_bytes, memory_sum, sweep_bytes
from verification.stats import clopper_pearson
from verification.verdict import HOLDS, INCONCLUSIVE, VACUOUS, VIOLATED, Part, Verdict, combine_status
from verification.claims._common import (
    ALPHA, DELTA, first_case, fmt, lam_words, lambda_of, pyplot, RTOL, save_figure, shared_sweep,
    SWEEP_DEFAULTS, training_fields,
)


# ---------------------------------------------------------------------------------------------
# C1: linear convergence envelope (Theorem 5.2)


class EnvelopeRun(NamedTuple):
    """C1 evidence for one data size: losses (W, S, R) at ``steps`` (R,), λ and its resolution."""

    n: int
    lam: float
    lam_resolution: float
    widths: np.ndarray
    seeds: np.ndarray
    steps: np.ndarray
    loss: np.ndarray
    B: float
    lambda_max_h0: float


def _per_width_failures(fail: np.ndarray, met: np.ndarray, widths, *, delta: float, alpha: float):
    r"""Decide "w.p. :math:`\ge 1-\delta` over the seeds" at each width from (W, S) run outcomes.

    ``fail[w, s]``: run s at width w breaks the bound; ``met[w, s]``: it certainly meets it. Per
    width, with :math:`[lo, hi]` the Clopper–Pearson interval of the failure rate
    :math:`k/S`: VIOLATED if :math:`lo > \delta` (failures more frequent than δ allows), HOLDS if
    every run meets the bound, else INCONCLUSIVE. Returns the combined status, the index of the
    smallest VIOLATED width (or ``None``) and the per-width intervals.
    """
    k = fail.sum(axis=1).astype(np.int64)
    lo, hi = clopper_pearson(k, np.full_like(k, fail.shape[1]), alpha)
    sts = [VIOLATED if lo[w] > delta else (HOLDS if met[w].all() else INCONCLUSIVE) for w in range(len(k))]
    bad = [w for w, s in enumerate(sts) if s == VIOLATED]
    smallest = min(bad, key=lambda w: widths[w]) if bad else None
    return combine_status(sts), smallest, [[float(a), float(b)] for a, b in zip(lo, hi)]


def check_c1(runs: list[EnvelopeRun], *, eta: float, eps: float, delta: float, c_T: float = 1.0, alpha: float = 0.05,
             rtol: float = RTOL, config: dict | None = None, seed: int | None = None) -> Verdict:
    r"""C1 from losses: envelope :math:`L(t) \le (1-\eta\lambda/2)^t L(0)` and :math:`L(T_{req}) \le \varepsilon`.

    Both hold w.p. :math:`\ge 1-\delta` over the initialisation, so one failing seed is not a
    counterexample: runs are decided one by one and each width by :func:`_per_width_failures`
    (VIOLATED when the Clopper–Pearson lower bound of its seeds' failure rate exceeds δ).
    Per data size: λ unresolved → both parts VACUOUS. Otherwise with
    :math:`\lambda_\pm = \lambda \pm \rho`, a run breaks the envelope if
    :math:`L(t) > (1-\eta\lambda_-/2)^t L(0)(1+\text{rtol})` at some t and meets it if
    :math:`L(t) \le (1-\eta\lambda_+/2)^t L(0)(1+\text{rtol})` at every t. When the decrease the
    envelope demands over the run, :math:`1-(1-\eta\lambda_+/2)^T`, is at most rtol, meeting it is
    indistinguishable from :math:`L(T) \le L(0)`: the part is VACUOUS (unless VIOLATED).
    :math:`T_{req} = c_T(\eta\lambda)^{-1}\log(nB^2/\varepsilon)`: VACUOUS when beyond the steps
    run (by the factor reported), else a run fails if :math:`L(t) > \varepsilon` at a recorded
    :math:`t \ge T_{req}`.
    """
    parts, measured, bounds_out, intervals = [], {}, {}, {}
    counter = None
    for run in runs:
        tag = f"n = {run.n}"
        loss = np.asarray(run.loss, np.float64)
        t = np.asarray(run.steps, np.float64)
        T = float(t[-1])
        measured[f"lambda[n={run.n}]"] = run.lam
        measured[f"lambda_resolution[n={run.n}]"] = run.lam_resolution
        measured[f"final_over_initial_loss[n={run.n}]"] = [float(v) for v in (loss[..., -1] / loss[..., 0]).max(axis=1)]
        measured[f"eta_times_lambda_max_H0[n={run.n}]"] = eta * run.lambda_max_h0
        if not run.lam > run.lam_resolution:
            words = lam_words(run.lam, run.lam_resolution)
            parts.append(Part(f"envelope ({tag})", VACUOUS, f"{words}: the rate 1 - ηλ/2 cannot be told from 1."))
            parts.append(Part(f"L(T_req) <= eps ({tag})", VACUOUS, f"{words}: T_req = c_T (ηλ)^-1 log(nB²/ε) is unbounded."))
            bounds_out[f"T_req[n={run.n}]"] = math.inf
            continue
        lam_lo, lam_hi = run.lam - run.lam_resolution, run.lam + run.lam_resolution
        intervals[f"lambda[n={run.n}]"] = [lam_lo, lam_hi]
        env_lo = np.power(np.maximum(1 - eta * lam_lo / 2, 0.0), t)  # loosest envelope
        env_hi = np.power(np.maximum(1 - eta * lam_hi / 2, 0.0), t)
        demanded = _envelope_decrease(eta * lam_hi, T)
        bounds_out[f"envelope_decrease_demanded[n={run.n}]"] = demanded
        L0 = loss[..., :1]
        ratio = loss / (L0 * env_lo)  # > 1 + rtol: broken even for the smallest plausible λ
        broken = ratio > 1 + rtol
        met = (loss <= L0 * env_hi * (1 + rtol)).all(axis=-1)
        measured[f"max_loss_over_envelope[n={run.n}]"] = float(ratio.max())
        status, wi, rates = _per_width_failures(broken.any(axis=-1), met, run.widths, delta=delta, alpha=alpha)
        intervals[f"envelope_failure_rate[n={run.n}]"] = rates
        if status == VIOLATED:
            si, ri = first_case(broken[wi])
            case = {"n": run.n, "width": int(run.widths[wi]), "seed": int(run.seeds[si]), "step": int(t[ri]),
                    "loss": float(loss[wi, si, ri]), "envelope": float(L0[wi, si, 0] * env_lo[ri]),
                    "failing_seeds": int(broken[wi].any(axis=-1).sum()), "failure_rate_interval": rates[wi]}
            counter = counter or case
            finding = (f"at width {case['width']}, {case['failing_seeds']} of {loss.shape[1]} seeds break it (failure-rate "
                       f"interval [{rates[wi][0]:.3f}, {rates[wi][1]:.3f}] > δ = {delta:g}); first: seed {case['seed']}, "
                       f"step {case['step']}: L = {fmt(case['loss'])} > envelope {fmt(case['envelope'])}.")
        elif demanded <= rtol:
            status = VACUOUS
            finding = (f"the envelope demands L(T)/L(0) <= 1 - {demanded:.2g} over {int(T)} steps, within the loss "
                       f"tolerance rtol = {rtol:g}: meeting it cannot be told from L(T) <= L(0).")
        elif status == HOLDS:
            finding = (f"L(t) <= (1 - ηλ/2)^t L(0) at all {loss.size} recorded points; the envelope demands "
                       f"L(T)/L(0) <= 1 - {demanded:.3g}.")
        else:
            finding = ("some runs lie between the envelopes of λ - ρ and λ + ρ, or break them too rarely to exceed "
                       f"δ = {delta:g}; failure-rate intervals per width: {rates}.")
        parts.append(Part(f"envelope ({tag})", status, finding))
        T_req = c_T * math.log(run.n * run.B**2 / eps) / (eta * run.lam)
        bounds_out[f"T_req[n={run.n}]"] = T_req
        late = t >= T_req
        if not late.any():
            parts.append(Part(f"L(T_req) <= eps ({tag})", VACUOUS,
                              f"T_req = {fmt(T_req)} steps (c_T = {c_T:g}) but {int(T)} were run: beyond reach by "
                              f"a factor {fmt(T_req / max(T, 1))}."))
            continue
        bad = loss[..., late] > eps
        status, wi, rates = _per_width_failures(bad.any(axis=-1), ~bad.any(axis=-1), run.widths, delta=delta, alpha=alpha)
        intervals[f"eps_failure_rate[n={run.n}]"] = rates
        if status == VIOLATED:
            si, ri = first_case(bad[wi])
            case = {"n": run.n, "width": int(run.widths[wi]), "seed": int(run.seeds[si]),
                    "step": int(t[late][ri]), "loss": float(loss[..., late][wi, si, ri]), "eps": eps,
                    "failing_seeds": int(bad[wi].any(axis=-1).sum()), "failure_rate_interval": rates[wi]}
            counter = counter or case
            finding = (f"at width {case['width']}, {case['failing_seeds']} of {loss.shape[1]} seeds have L > ε = {eps:g} "
                       f"after T_req = {fmt(T_req)}; first: seed {case['seed']}, L = {fmt(case['loss'])} "
                       f"at step {case['step']}.")
        elif status == HOLDS:
            finding = f"L(t) <= ε = {eps:g} for every recorded t >= T_req = {fmt(T_req)}."
        else:
            finding = f"some seeds have L > ε = {eps:g} after T_req = {fmt(T_req)}, too few to exceed δ = {delta:g}: {rates}."
        parts.append(Part(f"L(T_req) <= eps ({tag})", status, finding))
    status = combine_status(p.status for p in parts)
    explanation = _c1_explanation(status, runs, parts, eta)
    return Verdict(
        claim="C1", status=status, explanation=explanation, measured=measured, bounds=bounds_out,
        intervals=intervals, parts=tuple(parts), counterexample=counter, constants={"c_T": c_T},
        tested_range={"n": [r.n for r in runs], "widths": [int(w) for w in runs[0].widths],
                      "seeds": [int(s) for s in runs[0].seeds], "steps": int(runs[0].steps[-1])},
        config=config or {}, seed=seed,
        arrays={**{f"loss_n{r.n}": np.asarray(r.loss, np.float64) for r in runs},
                **{f"steps_n{r.n}": np.asarray(r.steps) for r in runs},
                "n_values": np.asarray([r.n for r in runs]), "widths": np.asarray(runs[0].widths),
                "lam": np.asarray([r.lam for r in runs]), "lam_resolution": np.asarray([r.lam_resolution for r in runs])},
    )


def _envelope_decrease(eta_lam: float, T: float) -> float:
    r""":math:`1 - (1 - \eta\lambda/2)^T` without cancellation (``expm1``/``log1p``); 1 when :math:`\eta\lambda \ge 2`."""
    if eta_lam >= 2:
        return 1.0
    return float(-math.expm1(T * math.log1p(-eta_lam / 2)))


def _c1_explanation(status, runs, parts, eta):
    unresolved = [r.n for r in runs if not r.lam > r.lam_resolution]
    resolved = [r for r in runs if r.lam > r.lam_resolution]
    s = []
    if unresolved:
        s.append(f"For n = {', '.join(map(str, unresolved))} the infinite-width NTK's smallest eigenvalue is below "
                 "float64 resolution, so the theorem's rate (1 - ηλ/2)^t and its T_req = (ηλ)^-1 log(nB²/ε) say nothing.")
    for r in resolved:
        s.append(f"For n = {r.n}, λ = {fmt(r.lam)} is resolved: over {int(r.steps[-1])} steps the envelope demands that "
                 f"the loss fall by at least a fraction {_envelope_decrease(eta * r.lam, float(r.steps[-1])):.3g} of L(0).")
    if status == VIOLATED:
        s.append("At some width the runs break the bound more often than δ allows (counterexample below); the theorem's "
                 "unspecified constants may exclude such widths.")
    elif status == INCONCLUSIVE:
        s.append("Some runs fall between the envelopes of λ ± ρ or fail too rarely to contradict the probability 1 - δ.")
    elif status == VACUOUS:
        s.append("No width contradicts the theorem, but its hypotheses cannot be checked at this precision or within reach.")
    elif status == HOLDS:
        s.append("Every run meets the envelope and reaches ε by T_req.")
    return " ".join(s)


def run_c1(section: dict, ctx) -> Verdict:
    runs = []
    for n in section["sizes"]:
        res = shared_sweep(ctx, n, section, f"C1 sweep n={n}")
        lam = lambda_of(ctx, n)
        ds = ctx.dataset(n)
        lmax = float(max(np.linalg.eigvalsh(h)[-1] for h in res.ntk_initial.reshape(-1, n, n)))
        runs.append(EnvelopeRun(n, lam.value, lam.resolution, res.widths, res.seeds, res.step, res.loss,
                                float(np.abs(np.asarray(ds.X)).max()), lmax))
    v = check_c1(runs, eta=section["eta"], eps=section["eps"], delta=section["delta"], c_T=section["c_T"],
                 alpha=section["alpha"], config={"C1": section, "data": ctx.config["data"]}, seed=ctx.seed)
    return v


def plot_c1(v: Verdict, out: Path) -> list[str]:
    plt = pyplot()
    ns = [int(n) for n in v.arrays["n_values"]]
    fig, axes = plt.subplots(1, len(ns), figsize=(5.2 * len(ns), 4), squeeze=False)
    eta = v.config["C1"]["eta"]
    for ax, n, lam, rho in zip(axes[0], ns, v.arrays["lam"], v.arrays["lam_resolution"]):
        loss, steps = v.arrays[f"loss_n{n}"], v.arrays[f"steps_n{n}"]
        widths = v.arrays["widths"]
        cmap = plt.get_cmap("viridis")
        for wi, m in enumerate(widths):
            c = cmap(wi / max(1, len(widths) - 1))
            for si in range(loss.shape[1]):
                ax.plot(steps, loss[wi, si], color=c, lw=1, alpha=0.8, label=f"m = {m}" if si == 0 else None)
        L0 = loss[..., 0].max()
        if lam > rho:
            ax.plot(steps, L0 * (1 - eta * lam / 2) ** steps.astype(float), "k--", lw=1.5,
                    label=f"(1-ηλ/2)^t max L(0), λ={lam:.2g}")
            title = f"n = {n}: λ = {lam:.2g} (resolution {rho:.1g})"
        else:
            ax.axhline(L0, color="k", ls=":", lw=1.5, label="envelope ≈ L(0): λ unresolved")
            title = f"n = {n}: λ = {lam:.1g} ≤ resolution {rho:.1g} (VACUOUS)"
        ax.set_yscale("log")
        ax.set_xlabel("gradient-descent step t")
        ax.set_ylabel("training loss L(t)")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=7)
    fig.suptitle(f"C1: loss against the linear-rate envelope (η = {eta:g}; seeds overlaid)", fontsize=11)
    return [save_figure(fig, out / "c1_loss_envelope.png")]


def summary_c1(v: Verdict) -> str:
    bits = []
    for n, lam, rho in zip(v.arrays.get("n_values", []), v.arrays.get("lam", []), v.arrays.get("lam_resolution", [])):
        bits.append(f"n={int(n)}: λ={lam:.1e} (ρ={rho:.0e})")
    return "; ".join(bits)



def example_check_input() -> tuple[dict, str]:
    r"""Keyword arguments of :func:`check_c1` whose verdict is known, and that verdict: losses
    :math:`2\cdot 0.9^t` meet the envelope :math:`(1-\eta\lambda/2)^t L(0) = 0.95^t L(0)` and fall
    below ε = 1e-3 from :math:`T_{req} = \ln(4/10^{-3})/0.1 \approx 83` on: HOLDS."""
    steps = np.arange(0, 101, 10)
    loss = np.broadcast_to(2.0 * 0.9 ** steps.astype(float), (2, 2, steps.size)).copy()
    run = EnvelopeRun(4, 0.1, 1e-14, np.array([8, 16]), np.array([0, 1]), steps, loss, 1.0, 1.0)
    return {"runs": [run], "eta": 1.0, "eps": 1e-3, "delta": 0.1, "config": {"C1": {"eta": 1.0}}}, HOLDS


def training_c1(section: dict, data: dict) -> list[TrainingRun]:
    """The paper's network trained by gradient descent: the width × seed sweep at every size of ``sizes``."""
    return [TrainingRun(section["eta"], tuple(section["widths"]), tuple(section["sizes"]))]


def memory_c1(section: dict, data: dict) -> tuple[int, str]:
    """Peak memory growth: the width × seed sweep at the largest size (one at a time; the smaller sizes'
    results stay, counted by their NTK matrices and records) and the data windows."""
    kw = dict(widths=section["widths"], seeds=section["seeds"], steps=section["steps"], record_every=section["record_every"])
    return memory_sum(sweep_bytes(n=max(section["sizes"]), **kw),
                      *(sweep_bytes(n=n, **{**kw, "widths": [1] * len(section["widths"])}) for n in section["sizes"][:-1]),
                      memory_bytes(d=data["d"], n=max(section["sizes"]), widths=[1]))


CLAIM = Claim(
    id="C1", source="Thm 5.2", title="linear convergence of the training loss",
    statement=r"m=\Omega(\mathrm{poly}(\lambda^{-1},e^{B^2},e^{D},n,d)),\ \eta\le O(\lambda\delta/\mathrm{poly}),\ "
              r"T\ge\Omega\big(\tfrac{1}{\eta\lambda}\log\tfrac{nB^2}{\epsilon}\big)\ \Rightarrow\ L(T)\le\epsilon"
              r"\ \text{w.p.}\ \ge 1-\delta;\ \text{checked: } L(t)\le(1-\eta\lambda/2)^t L(0)",
    params={**training_fields(**SWEEP_DEFAULTS),
            "sizes": cfg.int_list([8, 24], "training-set sizes n to test (λ shrinks fast with n)", minimum=2),
            "eps": cfg.positive_float(1e-3, "target loss ε"),
            "delta": DELTA, "alpha": ALPHA,
            "c_T": cfg.positive_float(1.0, "unknown constant of T = Ω((ηλ)^-1 log(nB²/ε))")},
    run=run_c1, check=check_c1, plot=plot_c1, summary=summary_c1,
    training=training_c1, memory=memory_c1,
)
