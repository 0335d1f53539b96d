r"""C2 (Theorem 5.2): asymmetric learning, the sign of :math:`w_r` follows the output sign :math:`a_r`.

**Statement.** After :math:`t \ge \Omega(m/(\eta\lambda v_{\min}))` steps,
:math:`\Pr[w_r(t) > 0 \mid a_r = 1] \ge 1-\delta` and :math:`\Pr[w_r(t) < 0 \mid a_r = -1] \ge 1-\delta`.

**Reading.** The agreement of :math:`\mathrm{sign}(w_r)` with :math:`a_r` in each group, pooled over
seeds, at recorded :math:`t \ge t_{align}(m) = c_A m/(\eta\lambda v_{\min})` (docs/theory.md, "C2").

**Verdict rule** (:func:`check_c2`). The Clopper–Pearson interval of each group's agreement against
:math:`1-\delta`; VACUOUS when λ is unresolved or :math:`t_{align}` exceeds the steps run. The
per-step update directions and the alignment time's exponent in m are diagnostics.
"""

from __future__ import annotations

import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ntk_attention import Params, forward, jacobian
from verification import bounds
from verification import config as cfg
from verification.contract import Claim, memory_sum, sweep_bytes, train_bytes
from verification.stats import clopper_pearson, loglog_slope
from verification.verdict import HOLDS, VACUOUS, VIOLATED, Part, Verdict, combine_status
from verification.claims._common import (
    ALPHA, data_n_memory, data_n_training, DELTA, fmt, interval_status, lam_words, lambda_of, pyplot,
    save_figure, shared_sweep, SWEEP_DEFAULTS, train_runs, training_fields,
)


# ---------------------------------------------------------------------------------------------
# C2: asymmetric learning, sign agreement (Theorem 5.2)


def check_c2(*, widths, seeds, steps, agree_plus, n_plus, agree_minus, n_minus, lam: float, lam_resolution: float,
             eta: float, v_min: float, delta: float, c_A: float = 1.0, alpha: float = 0.05,
             direction_steps=None, direction_along=None, direction_total: int | None = None,
             config: dict | None = None, seed: int | None = None) -> Verdict:
    r"""C2 from sign-agreement counts (W, S, R) and per-step update directions.

    Decisive part: at recorded :math:`t \ge t_{align}(m) = c_A m/(\eta\lambda v_{\min})`, the
    Clopper–Pearson interval (level 1-``alpha``) of each group's agreement, pooled over seeds,
    against :math:`1-\delta` (:func:`interval_status`, lower bound). VACUOUS when λ is unresolved
    or :math:`t_{align}` exceeds the steps run (factor reported).
    Diagnostics: the first recorded time the pooled agreement of both groups reaches
    :math:`1-\delta` per width, its fitted exponent in m (when 3+ widths reach it); the fraction of
    neurons whose per-step update :math:`\Delta w_r` has the sign of :math:`a_r`
    (``direction_along`` counts out of ``direction_total`` at ``direction_steps``).
    """
    widths = np.asarray(widths)
    steps = np.asarray(steps)
    kp, np_ = np.asarray(agree_plus).sum(axis=1), np.asarray(n_plus).sum(axis=1)  # pooled over seeds: (W, R), (W,)
    km, nm = np.asarray(agree_minus).sum(axis=1), np.asarray(n_minus).sum(axis=1)
    target = 1 - delta
    resolved = lam > lam_resolution
    t_align = [c_A * float(m) / (eta * lam * v_min) if resolved else math.inf for m in widths]
    parts, counter = [], None
    if not resolved:
        parts.append(Part("Pr[sign w_r(t) = a_r] >= 1-δ for t >= t_align", VACUOUS,
                          f"{lam_words(lam, lam_resolution)}: t_align = c_A m/(ηλ v_min) is unbounded."))
    else:
        statuses = []  # (status, width index, group, first failing step)
        for wi, m in enumerate(widths):
            late = steps >= t_align[wi]
            if not late.any():
                statuses.append((VACUOUS, wi, None, None))
                continue
            for k, n_, grp in ((kp[wi], np_[wi], "+1"), (km[wi], nm[wi], "-1")):
                if n_ == 0:  # no neuron drew this sign: nothing to check in this group
                    statuses.append((VACUOUS, wi, grp, None))
                    continue
                lo, hi = clopper_pearson(k[late].astype(np.int64), np.int64(n_), alpha)
                st = interval_status(float(np.min(lo)), float(np.min(hi)), target, upper=False)
                statuses.append((st, wi, grp, int(steps[late][np.argmax(hi < target)]) if st == VIOLATED else None))
        st_all = combine_status(s for s, *_ in statuses)
        if st_all == VIOLATED:
            _, wi, grp, t_bad = next(x for x in statuses if x[0] == VIOLATED)
            k_bad = int((kp if grp == "+1" else km)[wi][list(steps).index(t_bad)])
            n_bad = int((np_ if grp == "+1" else nm)[wi])
            counter = {"width": int(widths[wi]), "group": f"a_r = {grp}", "seeds": [int(s) for s in seeds],
                       "t_align": t_align[wi], "step": t_bad, "agreeing": k_bad, "of": n_bad}
            finding = (f"at m = {int(widths[wi])}, step {t_bad} >= t_align = {fmt(t_align[wi])}: {k_bad} of {n_bad} "
                       f"neurons with a_r = {grp} agree, an interval below 1-δ = {target:g}.")
        else:
            bits = []
            beyond = [wi for s, wi, grp, _ in statuses if s == VACUOUS and grp is None]
            if beyond:
                wi = beyond[0]
                bits.append(f"at m = {', '.join(str(int(widths[w])) for w in beyond)} t_align = c_A m/(ηλ v_min) is beyond "
                            f"reach: {fmt(t_align[wi])} steps at m = {int(widths[wi])} (c_A = {c_A:g}) but "
                            f"{int(steps[-1])} were run, a factor {fmt(t_align[wi] / max(float(steps[-1]), 1.0))}")
            bits += [f"no neuron has a_r = {grp} at m = {int(widths[wi])}" for s, wi, grp, _ in statuses
                     if s == VACUOUS and grp is not None]
            checked = [(s, wi) for s, wi, *_ in statuses if s != VACUOUS]
            if checked:
                bits.append(f"checked at every recorded t >= t_align at m = "
                            f"{', '.join(sorted({str(int(widths[wi])) for _, wi in checked}, key=int))}: "
                            f"{combine_status(s for s, _ in checked)}")
            finding = "; ".join(bits) + "."
        parts.append(Part("Pr[sign w_r(t) = a_r] >= 1-δ for t >= t_align", st_all, finding))
    # diagnostics: first time reaching 1 - delta, exponent
    with np.errstate(invalid="ignore", divide="ignore"):  # a group without neurons: nan
        frac = np.minimum(kp / np_[:, None], km / nm[:, None])  # (W, R)
        final_plus, final_minus = kp[:, -1] / np_, km[:, -1] / nm
        init_plus, init_minus = kp[:, 0] / np_, km[:, 0] / nm
    first = [float(steps[np.argmax(f >= target)]) if (f >= target).any() else math.inf for f in frac]
    reached = [(float(m), t) for m, t in zip(widths, first) if math.isfinite(t) and t > 0]
    measured = {
        "final_agreement_plus": [float(v) for v in final_plus],
        "final_agreement_minus": [float(v) for v in final_minus],
        "first_time_reaching_1_minus_delta": first,
    }
    if steps[0] == 0:  # the agreement at initialisation, when recorded
        measured["initial_agreement_plus"] = [float(v) for v in init_plus]
        measured["initial_agreement_minus"] = [float(v) for v in init_minus]
    intervals = {}
    for wi, m in enumerate(widths):
        for name, k, n_ in (("plus", kp, np_), ("minus", km, nm)):
            if n_[wi] > 0:
                intervals[f"agreement_{name}_final[m={int(m)}]"] = list(
                    clopper_pearson(np.int64(k[wi, -1]), np.int64(n_[wi]), alpha))
    if len(reached) >= 3:
        fit = loglog_slope([r[0] for r in reached], [r[1] for r in reached], alpha=alpha)
        measured["first_time_exponent"] = fit.slope
        intervals["first_time_exponent"] = [fit.lo, fit.hi]
        finding = f"t_first ∝ m^{fit.slope:.2f} [{fit.lo:.2f}, {fit.hi:.2f}] (theory: exponent 1)."
        parts.append(Part("first time agreement >= 1-δ vs m", interval_status(fit.lo, fit.hi, 1.0, upper=True), finding, False))
    else:
        parts.append(Part("first time agreement >= 1-δ vs m", VACUOUS,
                          f"both groups reach 1-δ = {target:g} at {len(reached)} width(s) within {int(steps[-1])} steps: "
                          "no exponent can be fitted. Final agreement (+1 / -1): "
                          + ", ".join(f"m={int(m)}: {a:.2f}/{b:.2f}" for m, a, b in
                                      zip(widths, measured["final_agreement_plus"], measured["final_agreement_minus"])) + ".",
                          False))
    if direction_along is not None:
        along = np.asarray(direction_along, np.int64)
        lo, hi = clopper_pearson(along, np.int64(direction_total), alpha)
        share = along / direction_total
        measured["update_along_a_fraction"] = [float(v) for v in share]
        measured["update_along_a_min"] = float(share.min())
        measured["update_along_a_max"] = float(share.max())
        measured["update_along_a_at_every_step"] = bool(share.min() >= target)
        st = combine_status(interval_status(float(a), float(b), target, upper=False) for a, b in zip(lo, hi))
        parts.append(Part("per-step update Δw_r has the sign of a_r", st,
                          f"fraction of neurons per step between {share.min():.2f} and {share.max():.2f} "
                          f"over {len(share)} recorded steps (1-δ = {target:g}).", False))
    status = combine_status(p.status for p in parts if p.decisive)
    explanation = _c2_explanation(status, measured, lam, lam_resolution, parts[0].finding, steps, widths)
    arrays = {"widths": widths, "steps": steps, "agree_plus": kp, "n_plus": np_, "agree_minus": km, "n_minus": nm}
    if direction_along is not None:
        arrays.update(direction_steps=np.asarray(direction_steps), direction_along=np.asarray(direction_along),
                      direction_total=np.asarray(direction_total))
    return Verdict(
        claim="C2", status=status, explanation=explanation, measured=measured,
        bounds={"one_minus_delta": target, "t_align": t_align}, intervals=intervals, parts=tuple(parts),
        counterexample=counter, constants={"c_A": c_A},
        tested_range={"widths": [int(m) for m in widths], "seeds": [int(s) for s in seeds], "steps": int(steps[-1])},
        config=config or {}, seed=seed, arrays=arrays,
    )


def _c2_explanation(status, measured, lam, rho, decisive_finding, steps, widths):
    fp, fm = measured["final_agreement_plus"][-1], measured["final_agreement_minus"][-1]
    init = (f" ({measured['initial_agreement_plus'][-1]:.0%} and {measured['initial_agreement_minus'][-1]:.0%} at t = 0)"
            if "initial_agreement_plus" in measured else "")
    s = [f"At the widest width (m = {int(widths[-1])}) after {int(steps[-1])} steps, "
         f"{fp:.0%} of a_r = +1 neurons have w_r > 0 and {fm:.0%} of a_r = -1 neurons have w_r < 0{init}."]
    if not lam > rho:
        s.append(f"The theorem's alignment time m/(ηλ v_min) is unbounded because λ = {fmt(lam)} is below its "
                 f"float64 resolution {fmt(rho)}, so the claim cannot be tested: VACUOUS.")
    elif status == VACUOUS:
        s.append(f"VACUOUS: {decisive_finding}")
    if "update_along_a_min" in measured:
        lo, hi = measured["update_along_a_min"], measured["update_along_a_max"]
        s.append(f"The share of neurons whose per-step update Δw_r points toward a_r ranges from {lo:.0%} to {hi:.0%} "
                 "over training: Δw_r = -η m^-1/2 a_r Σ_i x_i,d V_r(x_i)(f_i - y_i) follows a_r only while the "
                 "residual-weighted sum keeps one sign"
                 + (", which it does here." if measured["update_along_a_at_every_step"] else ", which it does not here."))
    return " ".join(s)


def _direction_counts(ctx, section: dict, n: int):
    """Per-step updates Δw_r = -η ∂L/∂w_r at each recorded step of one run; count sign(Δw_r) = sign(a_r)."""
    ds = ctx.dataset(n)
    m, seed = section["direction_width"], ctx.network_seeds(1)[0]
    runs = ctx.cached(repr(("train", n, m, seed, section["steps"], section["record_every"], section["eta"], "random")),
                      lambda: train_runs(ctx, ds.X, ds.y, widths=[m], seeds=[seed], steps=section["steps"],
                                          record_every=section["record_every"], eta=section["eta"], signs="random",
                                          desc="C2 per-step updates"))
    tr = runs[(m, seed)]
    along = _updates_along_a(tr.weights, tr.params.a, ds.X, ds.y)
    return np.asarray(tr.step), np.asarray(along), m


@jax.jit
def _updates_along_a(weights, a, X, y):
    r"""Per recorded :math:`w(t)`: :math:`\#\{r: \mathrm{sign}(\Delta w_r) = a_r\}`, :math:`\Delta w = -\eta J^\top(f - y)`."""

    def count(w):
        p = Params(w, a)
        grad = jacobian(p, X).T @ (forward(p, X) - y)
        return jnp.sum(jnp.sign(-grad) == jnp.sign(a))

    return jax.vmap(count)(weights)


def run_c2(section: dict, ctx) -> Verdict:
    n = ctx.config["data"]["n"]
    res = shared_sweep(ctx, n, section, f"C2 sweep n={n}")
    lam = lambda_of(ctx, n)
    ds = ctx.dataset(n)
    dsteps, along, total = _direction_counts(ctx, section, n)
    return check_c2(widths=res.widths, seeds=res.seeds, steps=res.step, agree_plus=res.sign_agree_plus,
                    n_plus=res.n_plus, agree_minus=res.sign_agree_minus, n_minus=res.n_minus, lam=lam.value,
                    lam_resolution=lam.resolution, eta=section["eta"], v_min=bounds.data_constants(ds.X, ds.y)["v_min"],
                    delta=section["delta"], c_A=section["c_A"], alpha=section["alpha"], direction_steps=dsteps,
                    direction_along=along, direction_total=total,
                    config={"C2": section, "data": ctx.config["data"]}, seed=ctx.seed)


def plot_c2(v: Verdict, out: Path) -> list[str]:
    plt = pyplot()
    A = v.arrays
    steps, widths = A["steps"], A["widths"]
    alpha = v.config["C2"]["alpha"]
    has_dir = "direction_along" in A
    fig, axes = plt.subplots(1, 3 if has_dir else 2, figsize=(15 if has_dir else 10, 4), squeeze=False)
    cmap = plt.get_cmap("viridis")
    for ax, key, nkey, grp in ((axes[0][0], "agree_plus", "n_plus", "+1"), (axes[0][1], "agree_minus", "n_minus", "-1")):
        for wi, m in enumerate(widths):
            c = cmap(wi / max(1, len(widths) - 1))
            k = A[key][wi].astype(np.int64)
            n_ = np.int64(A[nkey][wi])
            if n_ == 0:  # no neuron of this sign at this width
                continue
            lo, hi = clopper_pearson(k, n_, alpha)
            ax.plot(steps, k / n_, color=c, label=f"m = {m}")
            ax.fill_between(steps, lo, hi, color=c, alpha=0.2)
        ax.axhline(v.bounds["one_minus_delta"], color="r", ls="--", lw=1, label="1 - δ")
        ax.axhline(0.5, color="gray", ls=":", lw=1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("step t")
        ax.set_ylabel(f"fraction of a_r = {grp} neurons with sign(w_r) = {grp}")
        ax.set_title(f"group a_r = {grp} (Clopper–Pearson {1 - alpha:.0%} bands)", fontsize=10)
        ax.legend(fontsize=7)
    if has_dir:
        ax = axes[0][2]
        tot = np.int64(A["direction_total"])
        k = A["direction_along"].astype(np.int64)
        lo, hi = clopper_pearson(k, tot, alpha)
        ax.plot(A["direction_steps"], k / tot, "o-", ms=3)
        ax.fill_between(A["direction_steps"], lo, hi, alpha=0.3)
        ax.axhline(0.5, color="gray", ls=":", lw=1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("step t")
        ax.set_ylabel("fraction with sign(Δw_r) = sign(a_r)")
        ax.set_title(f"direction of the per-step update (m = {int(tot)})", fontsize=10)
    fig.suptitle("C2: sign agreement of w_r with a_r over training", fontsize=11)
    return [save_figure(fig, out / "c2_sign_agreement.png")]


def summary_c2(v: Verdict) -> str:
    p, m = v.measured.get("final_agreement_plus", [math.nan]), v.measured.get("final_agreement_minus", [math.nan])
    return f"final agreement +1/−1 at m={v.tested_range.get('widths', ['?'])[-1]}: {p[-1]:.2f}/{m[-1]:.2f}"



def example_check_input() -> tuple[dict, str]:
    r"""Keyword arguments of :func:`check_c2` whose verdict is known, and that verdict: every neuron's
    sign agrees with its :math:`a_r` from :math:`t_{align}(m) = m` on (100/100 pooled: the
    Clopper–Pearson lower bound 0.964 is above 1 − δ = 0.9): HOLDS."""
    steps = np.arange(0, 101, 10)
    agree = np.full((2, 2, steps.size), 25)
    agree[..., steps >= 8] = 50
    total = np.full((2, 2), 50)
    return dict(widths=np.array([8, 16]), seeds=np.array([0, 1]), steps=steps, agree_plus=agree, n_plus=total,
                agree_minus=agree, n_minus=total, lam=1.0, lam_resolution=1e-12, eta=1.0, v_min=1.0, delta=0.1,
                config={"C2": {"alpha": 0.05}}), HOLDS



def memory_c2(section: dict, data: dict) -> tuple[int, str]:
    """Peak memory growth: the width × seed sweep at ``[data] n``, the per-step run at
    ``direction_width`` and its recomputed Jacobians and gradients at every recorded step."""
    n, m = data["n"], section["direction_width"]
    R = section["steps"] // section["record_every"] + 1
    return memory_sum(
        sweep_bytes(n=n, widths=section["widths"], seeds=section["seeds"], steps=section["steps"],
                    record_every=section["record_every"]),
        train_bytes(n=n, d=data["d"], widths=[m], seeds=1, steps=section["steps"], record_every=section["record_every"]),
        (8 * R * m * (2 * n + 4), "Jacobians of the recorded steps (R × n × direction_width)"))


CLAIM = Claim(
    id="C2", source="Thm 5.2", title="asymmetric learning: sign(w_r) follows a_r",
    statement=r"t\ge\Omega\big(\tfrac{m}{\eta\lambda v_{\min}}\big)\Rightarrow \Pr[w_r(t)>0\mid a_r=1]\ge1-\delta,\ "
              r"\Pr[w_r(t)<0\mid a_r=-1]\ge1-\delta",
    params={**training_fields(**SWEEP_DEFAULTS), "delta": DELTA, "alpha": ALPHA,
            "direction_width": cfg.positive_int(256, "width of the run whose per-step updates Δw_r are inspected", minimum=2),
            "c_A": cfg.positive_float(1.0, "unknown constant of t_align = Ω(m/(ηλ v_min))")},
    run=run_c2, check=check_c2, plot=plot_c2, summary=summary_c2,
    training=data_n_training, memory=memory_c2,
)
