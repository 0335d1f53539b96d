r"""C5 (Proposition 6.3): out of distribution, attention fails where the residual linear network succeeds.

**Statement.** Trained on sign-consistent next-step windows and tested on sign-inconsistent ones,
the attention network's risk is not :math:`\tilde O(\sigma^2)`, the residual linear network's is.

**Reading (constant-free, decisive).** :math:`\tilde O(\sigma^2)` is a statement about scaling: the
linear net's risk vanishes with the noise, attention's does not. The target noise is swept over
``noise_levels`` (σ over at least 4 decades, the same noise draws scaled: common random numbers) at
the largest size and step count; the noise variance is :math:`\sigma^2 = \sigma_0^2 + \sigma_k^2`,
:math:`\sigma_0^2` the series' own noise (:func:`own_noise_variance`: the residual variance of the
least-squares regression of the noise-free targets on (1, x) over the pool's windows). The exponent
of R in σ² (:func:`verification.rules._ood.noise_exponent_decision`, margin Δ): the linear part
HOLDS when it is at least :math:`1-\Delta` (lower end), attention's when it is below :math:`1-\Delta`
(upper end: :math:`R/\sigma^2` grows as σ → 0; "does not vanish" when it is below Δ). No constant
decides; this is also the claim's ``observed`` verdict.

**Diagnostics.** The former reading :math:`R \le c_R(1+\ln n)\,\sigma^2` with a chosen
:math:`c_R` (percentile bootstrap intervals over test windows, sizes × steps at ``noise_std``),
kept as non-decisive parts; the looseness reports the :math:`c_R` the linear net's risks would need.

**Premise.** The test set must hold sign-inconsistent windows: for a synthetic family
``ood_windows`` of them are generated (:func:`verification.data._datasets.ood_test_windows`), for a finite
series those among ``test_windows`` after the training values are used (count and interval width
reported); fewer than ``min_ood_windows``: VACUOUS naming the count.
"""

from __future__ import annotations

import math
from pathlib import Path

import jax
import numpy as np

from ntk_attention import Params, forward, init_params
from ntk_attention import linear as lin
from verification import config as cfg
from verification.claims._common import (
    ALPHA,
    interval_status,
    ood_premise_verdict,
    ood_split,
    own_noise_variance,
    pyplot,
    save_figure,
)
from verification.contract import (
    Claim,
    StepSize,
    TrainingRun,
    memory_bytes,
    memory_sum,
    train_bytes,
)
from verification.rules import bootstrap_interval
from verification.rules._ood import exponent_seeds_for_power, noise_exponent_decision
from verification.rules._verdict import (
    HOLDS,
    INCONCLUSIVE,
    VIOLATED,
    Observed,
    Part,
    Verdict,
    combine_parts,
    combine_status,
)

# ---------------------------------------------------------------------------------------------
# C5: out-of-distribution risk (Proposition 6.3)


def check_c5(
    *,
    sizes,
    steps,
    att_sq_err,
    lin_sq_err,
    noise_std: float,
    c_R: float,
    noise_levels,
    att_risk,
    lin_risk,
    own_noise_var: float = 0.0,
    margin: float = 0.1,
    alpha: float = 0.05,
    resamples: int = 1000,
    test_windows: int | None = None,
    test_set: str = "",
    config: dict | None = None,
    seed: int | None = None,
) -> Verdict:
    r"""C5 from the noise sweep (decisive) and the risks at ``noise_std`` (diagnostic).

    Decisive: ``lin_risk[k, s]`` and ``att_risk[k, s]`` are the OOD risks at noise level
    ``noise_levels[k]`` (σ) for seed s (the largest size and step count); with
    :math:`\sigma^2_k = \sigma_0^2 + \sigma_k^2` (``own_noise_var`` :math:`\sigma_0^2`) the exponent of
    R in σ² decides (:func:`verification.rules._ood.noise_exponent_decision`): the linear part claims
    "vanishes like σ²", the attention part "does not". Premise: the test set holds sign-inconsistent
    windows (``test_windows``, described by ``test_set``). Diagnostic: ``att_sq_err[i][j]`` (N_test, S)
    and ``lin_sq_err[i][j]`` (N_test, 1) squared errors at ``noise_std`` for ``sizes[i]`` and
    ``steps[j]`` (or (N_test, S) when the linear net's targets differ by seed); :math:`R/\sigma^2` with
    percentile bootstrap intervals over test windows against
    :math:`c_R(1+\ln n)` (attention above, linear below).
    """
    var = own_noise_var + noise_std**2
    n_test = (
        int(np.asarray(att_sq_err[0][0]).shape[0]) if test_windows is None else int(test_windows)
    )
    measured, intervals, counter = (
        {"test_windows": n_test, "own_noise_var": own_noise_var, "sigma2": var},
        {},
        None,
    )
    statuses = {"attention": [], "linear": []}
    ratios = {
        "attention": np.zeros((len(sizes), len(steps), 3)),
        "linear": np.zeros((len(sizes), len(steps), 3)),
    }
    levels = [c_R * (1 + math.log(n)) for n in sizes]
    for i, n in enumerate(sizes):
        for j, T in enumerate(steps):
            for model, errs, upper in (
                ("attention", att_sq_err, False),
                ("linear", lin_sq_err, True),
            ):
                e = np.asarray(errs[i][j], np.float64) / var
                est, lo, hi = bootstrap_interval(
                    e, lambda rows: rows.mean(), resamples=resamples, seed=i * 1000 + j, alpha=alpha
                )
                key = f"{model}_risk_ratio[n={n},T={T}]"
                measured[key] = est
                intervals[key] = [lo, hi]
                ratios[model][i, j] = (est, lo, hi)
                statuses[model].append(interval_status(lo, hi, levels[i], upper=upper))
    half = float(np.max(ratios["attention"][..., 2] - ratios["attention"][..., 1])) / 2
    parts = [
        Part(
            "enough sign-inconsistent test windows",
            HOLDS,
            f"{n_test} sign-inconsistent test windows"
            + (f" ({test_set})" if test_set else "")
            + f"; widest 95% interval of attention's R/σ² at σ_ε = {noise_std:g}: ±{half:.3g}.",
            role="premise",
        )
    ]
    sig = np.asarray(noise_levels, np.float64)
    x = own_noise_var + sig**2
    A, L = np.asarray(att_risk, np.float64), np.asarray(lin_risk, np.float64)
    decisions = {
        "linear": noise_exponent_decision(x, L, vanishes=True, margin=margin, alpha=alpha),
        "attention": noise_exponent_decision(x, A, vanishes=False, margin=margin, alpha=alpha),
    }
    for model, words in (
        ("linear", "the residual linear net's OOD risk vanishes like σ² (Õ(σ²))"),
        ("attention", "attention's OOD risk does not vanish like σ² (not Õ(σ²))"),
    ):
        dec = decisions[model]
        R = L if model == "linear" else A
        st = dec.status
        measured[f"{model}_noise_exponent"] = dec.slope
        intervals[f"{model}_noise_exponent"] = [dec.lo, dec.hi]
        if st == VIOLATED and counter is None:
            counter = {
                "model": model,
                "noise_exponent": dec.slope,
                "interval": [dec.lo, dec.hi],
                "seeds": dec.seeds,
            }
        parts.append(
            Part(
                words,
                st,
                f"{dec.rule}; R/σ² from {(R / x[:, None]).mean(1)[0]:.3g} (σ_ε = {sig[0]:g}) to "
                f"{(R / x[:, None]).mean(1)[-1]:.3g} (σ_ε = {sig[-1]:g}).",
                why="" if st == HOLDS else f"exponent {dec.slope:.2g} [{dec.lo:.2g}, {dec.hi:.2g}]",
            )
        )
    for model, words in (
        ("attention", "attention's OOD risk is not Õ(σ²): R/σ² > c_R (1 + ln n)"),
        ("linear", "the residual linear net's OOD risk is Õ(σ²): R/σ² <= c_R (1 + ln n)"),
    ):
        r = ratios[model]
        parts.append(
            Part(
                words + " (diagnostic, c_R chosen)",
                combine_status(statuses[model]),
                f"R/σ² from {r[..., 0].min():.3g} to {r[..., 0].max():.3g} over n ∈ {list(sizes)}, "
                f"T ∈ {list(steps)}; level c_R (1 + ln n) = "
                + ", ".join(f"{lv:.3g}" for lv in levels)
                + f" (c_R = {c_R:g}).",
                decisive=False,
            )
        )
    status = combine_parts(parts)
    a_, l_ = ratios["attention"][..., 0], ratios["linear"][..., 0]
    dl, da = decisions["linear"], decisions["attention"]
    scale = (
        f"σ_ε ∈ [{sig.min():g}, {sig.max():g}] ({len(sig)} levels, {np.log10(sig.max() / sig.min()):.3g} decades), "
        f"σ_0² = {own_noise_var:.3g}, n = {max(sizes)}, T = {max(steps)}, {A.shape[1]} seeds, {n_test} "
        "sign-inconsistent test windows"
    )
    c_lin = float(np.max(ratios["linear"][..., 2] / np.asarray(levels)[:, None] * c_R))
    c_att = float(np.min(ratios["attention"][..., 1] / np.asarray(levels)[:, None] * c_R))
    undecided = [
        (m, exponent_seeds_for_power(dec, alpha=alpha))
        for m, dec in decisions.items()
        if dec.status == INCONCLUSIVE
    ]
    budget = "; ".join(
        f"{m}: {k} seeds" if k else f"{m}: more than 1000 seeds (or a wider σ range)"
        for m, k in undecided
    )
    if budget:
        budget = (
            f"power 0.8 at the observed exponent and per-seed spread needs {budget} (the σ range is bounded "
            f"below by σ_0² = {own_noise_var:.3g})"
        )
    observed = Observed(
        budget=budget,
        status=combine_parts([p for p in parts if p.role == "conclusion"]),
        rule=f"noise_exponent (Δ = {margin:g}): linear {dl.status}, attention {da.status}",
        scale=scale,
        finding=(
            f"exponent of R in σ²: linear {dl.slope:.3g} [{dl.lo:.3g}, {dl.hi:.3g}], attention {da.slope:.3g} "
            f"[{da.lo:.3g}, {da.hi:.3g}] (1 = vanishes like σ², 0 = does not vanish)."
        ),
        looseness={"c_R_linear_needs": c_lin, "c_R_attention_exceeds": c_att},
    )
    explanation = (
        f"Trained on sign-consistent windows and tested on {n_test} sign-inconsistent ones, with the target noise σ_ε "
        f"swept over {np.log10(sig.max() / sig.min()):.3g} decades (σ² = σ_0² + σ_ε², σ_0² = {own_noise_var:.3g} the "
        f"series' own noise), the residual linear net's risk scales like σ² to the power {dl.slope:.3g} "
        f"[{dl.lo:.3g}, {dl.hi:.3g}] and attention's like σ² to the power {da.slope:.3g} [{da.lo:.3g}, {da.hi:.3g}]: "
        f"read without any constant (Δ = {margin:g}), the proposition "
        f"{'is borne out' if status == HOLDS else 'gets the verdict ' + status}. At σ_ε = {noise_std:g} attention's "
        f"risk is {a_.min():.3g}–{a_.max():.3g} σ², the linear net's {l_.min():.3g}–{l_.max():.3g} σ² over n ∈ "
        f"{list(sizes)}, T ∈ {list(steps)} (diagnostic: a reading R ≤ c_R(1 + ln n) σ² would need c_R ≥ {c_lin:.3g} "
        "for the linear net)."
    )
    return Verdict(
        claim="C5",
        status=status,
        explanation=explanation,
        measured=measured,
        bounds={
            "risk_level_over_sigma2": levels,
            "sigma2": var,
            "own_noise_var": own_noise_var,
            "exponent_threshold": 1 - margin,
        },
        intervals=intervals,
        parts=tuple(parts),
        counterexample=counter,
        constants={"c_R": c_R},
        tested_range={
            "n": [int(n) for n in sizes],
            "steps": [int(t) for t in steps],
            "noise_levels": sig.tolist(),
            "noise_std": noise_std,
            "test_windows": n_test,
            "test_set": test_set,
        },
        config=config or {},
        seed=seed,
        observed=observed,
        arrays={
            "sizes": np.asarray(sizes),
            "steps": np.asarray(steps),
            "attention_ratio": ratios["attention"],
            "linear_ratio": ratios["linear"],
            "levels": np.asarray(levels),
            "noise_var": x,
            "attention_risk": A,
            "linear_risk": L,
        },
    )


def _section_n(section: dict) -> dict:
    """C5's section as :func:`ood_split` reads it: n = the largest training size."""
    return {**section, "n": max(section["sizes"])}


def preflight_c5(section: dict, ctx) -> None:
    ood_split(_section_n(section), ctx, "C5", consistent_only=True, n_key="sizes")


def _noise(seed: int, shape, stream: int) -> np.ndarray:
    """Standard normal noise of one seed (the same draws at every level: common random numbers)."""
    return np.random.default_rng([int(seed), stream]).standard_normal(shape)


def run_c5(section: dict, ctx) -> Verdict:
    sizes, steps_list = section["sizes"], section["steps"]
    T = max(steps_list)
    every = math.gcd(*steps_list)
    seeds = ctx.network_seeds(section["seeds"])
    split = ood_split(_section_n(section), ctx, "C5", consistent_only=True, n_key="sizes")
    Xt = split.X_test
    cfg_out = {"C5": section, "data": ctx.config["data"]}
    if Xt.shape[0] < section["min_ood_windows"]:
        return ood_premise_verdict(
            "C5",
            Xt.shape[0],
            split.scanned,
            section["min_ood_windows"],
            config=cfg_out,
            seed=ctx.seed,
        )
    levels = section["noise_levels"]
    shared_level = any(sd == section["noise_std"] for sd in levels)
    bar = ctx.progress("C5 OOD risk", (len(sizes) + len(levels) - shared_level) * len(seeds))
    sigma = ctx.sigma()
    eta = ctx.step_size(section, sizes=sizes, sigma=sigma)

    def fit(X, y, s, steps, record_every):
        p = init_params(jax.random.key(s), section["width"], sigma=sigma)
        tr = ctx.train(
            p,
            X,
            y,
            learning_rate=eta,
            seed=s,
            steps=steps,
            record_every=record_every,
            record_ntk=False,
            record_neurons=True,
        )
        bar.update(1)
        return p, tr

    # every run's targets: noise-free targets plus σ times one draw per seed (common random numbers), so the
    # grid's largest-size run at σ = noise_std is also the sweep's run at that level
    noise = {
        s: (_noise(s, split.y_clean.shape, 0), _noise(s, split.y_test_clean.shape, 1))
        for s in seeds
    }

    def targets(s, sd, n):
        return split.y_clean[:n] + sd * noise[s][0][:n], split.y_test_clean + sd * noise[s][1]

    n_max = max(sizes)
    att_risk, lin_risk = (
        np.full((len(levels), len(seeds)), np.nan),
        np.full((len(levels), len(seeds)), np.nan),
    )
    shared = [k for k, sd in enumerate(levels) if sd == section["noise_std"]]
    att, lin_err = [], []
    for n in sizes:
        X = split.X[:n]
        per_T, lin_sq = [[] for _ in steps_list], []
        for si, s in enumerate(seeds):
            y, yt = targets(s, section["noise_std"], n)
            p, tr = fit(X, y, s, T, every)
            for j, t in enumerate(steps_list):
                per_T[j].append(
                    np.asarray((forward(Params(tr.weights[t // every], p.a), Xt) - yt) ** 2)
                )
            lin_sq.append(
                np.asarray((lin.linear_forward(lin.fit_linear_lstsq(X, y), Xt) - yt) ** 2)
            )
            if n == n_max and shared:
                att_risk[shared[0], si], lin_risk[shared[0], si] = (
                    float(per_T[-1][-1].mean()),
                    float(lin_sq[-1].mean()),
                )
        att.append([np.stack(e, axis=1) for e in per_T])
        lin_err.append([np.stack(lin_sq, axis=1) for _ in steps_list])
    # the noise sweep: largest size and step count, the other levels
    X = split.X[:n_max]
    for si, s in enumerate(seeds):
        for k, sd in enumerate(levels):
            if not np.isnan(att_risk[k, si]):
                continue
            y, yt = targets(s, sd, n_max)
            p, tr = fit(X, y, s, T, T)
            att_risk[k, si] = float(
                np.mean((np.asarray(forward(Params(tr.weights[-1], p.a), Xt)) - yt) ** 2)
            )
            lin_risk[k, si] = float(
                np.mean((np.asarray(lin.linear_forward(lin.fit_linear_lstsq(X, y), Xt)) - yt) ** 2)
            )
    bar.close()
    pool = ctx.dataset(section["pool"], n_test=section["test_windows"], noise_std=0.0)
    own = own_noise_variance(pool.X, pool.y)
    return check_c5(
        sizes=sizes,
        steps=steps_list,
        att_sq_err=att,
        lin_sq_err=lin_err,
        noise_std=section["noise_std"],
        c_R=section["c_R"],
        noise_levels=levels,
        att_risk=att_risk,
        lin_risk=lin_risk,
        own_noise_var=own,
        margin=section["margin"],
        alpha=section["alpha"],
        test_windows=int(Xt.shape[0]),
        test_set=split.how,
        config=cfg_out,
        seed=ctx.seed,
    )


def plot_c5(v: Verdict, out: Path) -> list[str]:
    A = v.arrays
    if "attention_ratio" not in A:  # VACUOUS for want of sign-inconsistent windows: nothing to draw
        return []
    plt = pyplot()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 4.5))
    x2 = A["noise_var"]
    for model, c in (("attention", "C3"), ("linear", "C0")):
        R = A[f"{model}_risk"]
        ax2.plot(np.repeat(x2[:, None], R.shape[1], axis=1), R, "o", color=c, alpha=0.5, ms=4)
        ax2.plot(
            x2,
            np.exp(np.log(R).mean(axis=1)),
            "-",
            color=c,
            label=f"{'attention' if model == 'attention' else 'residual linear'}, exponent "
            f"{v.measured.get(model + '_noise_exponent', float('nan')):.2g}",
        )
    ax2.plot(x2, x2, "k:", lw=1, label="R = σ² (exponent 1)")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("noise variance σ² = σ_0² + σ_ε²")
    ax2.set_ylabel("OOD risk R (per seed; line: geometric mean)")
    ax2.set_title("decisive: does the risk vanish with the noise?", fontsize=10)
    ax2.legend(fontsize=7)
    sizes, steps = A["sizes"], A["steps"]
    x = np.arange(len(sizes) * len(steps))
    labels = [f"n={n}\nT={t}" for n in sizes for t in steps]
    for off, model, c in ((-0.15, "attention", "C3"), (0.15, "linear", "C0")):
        r = A[f"{model}_ratio"].reshape(-1, 3)
        ax.errorbar(
            x + off,
            r[:, 0],
            yerr=[r[:, 0] - r[:, 1], r[:, 2] - r[:, 0]],
            fmt="o",
            color=c,
            capsize=3,
            label=f"{'attention' if model == 'attention' else 'residual linear'} R/σ²",
        )
    lv = np.repeat(A["levels"], len(steps))
    ax.step(
        np.r_[x - 0.5, x[-1] + 0.5],
        np.r_[lv, lv[-1]],
        where="post",
        color="k",
        ls="--",
        lw=1,
        label=f"Õ(σ²) level c_R (1 + ln n), c_R = {v.constants.get('c_R', 1.0):g}",
    )
    ax.axhline(1.0, color="gray", ls=":", lw=1, label="noise floor R = σ²")
    ax.set_yscale("log")
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylabel("OOD risk / σ_ε² on sign-inconsistent windows")
    ax.set_title(
        f"diagnostic: R/σ² at σ_ε = {v.tested_range.get('noise_std', float('nan')):g} (95% bootstrap)",
        fontsize=10,
    )
    fig.suptitle(
        f"C5: attention vs residual linear net out of distribution ({v.status})", fontsize=11
    )
    ax.legend(fontsize=7)
    return [save_figure(fig, out / "c5_ood_risk.png")]


def summary_c5(v: Verdict) -> str:
    a, l_ = v.arrays.get("attention_ratio"), v.arrays.get("linear_ratio")
    if a is None:
        return ""
    ex = {m: v.measured.get(f"{m}_noise_exponent", float("nan")) for m in ("linear", "attention")}
    sig = v.tested_range.get("noise_levels", [float("nan")])
    thr = v.bounds.get("exponent_threshold", float("nan"))
    return (
        f"exponent of R in σ² (1: vanishes with the noise): linear {ex['linear']:.2g} (claim ≥ {thr:g}), attention "
        f"{ex['attention']:.2g} (claim < {thr:g}), σ_ε {min(sig):g}–{max(sig):g}; R/σ² at σ_ε = {v.tested_range.get('noise_std', float('nan')):g}: attention "
        f"{a[..., 0].min():.3g}–{a[..., 0].max():.3g}, linear {l_[..., 0].min():.3g}–{l_[..., 0].max():.3g}; "
        f"{v.tested_range.get('test_windows', '?')} sign-inconsistent test windows"
    )


def example_check_input() -> tuple[dict, str]:
    r"""Keyword arguments of :func:`check_c5` whose verdict is known, and that verdict: over σ_ε =
    1e-4 … 1 the linear risk is 1.1 σ² (exponent 1), attention's 0.5 + σ² (exponent near 0): HOLDS."""
    rng = np.random.default_rng(1)
    att = [[200.0 * rng.chisquare(1, size=(60, 2)) * 0.01]]
    lin = [[1.1 * rng.chisquare(1, size=(60, 1)) * 0.01]]
    sig = np.array([1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    jitter = np.exp(rng.normal(0.0, 0.05, size=(2, 5, 10)))
    return dict(
        sizes=[16],
        steps=[100],
        att_sq_err=att,
        lin_sq_err=lin,
        noise_std=0.1,
        c_R=1.0,
        resamples=300,
        noise_levels=sig,
        att_risk=(0.5 + sig[:, None] ** 2) * jitter[0],
        lin_risk=1.1 * sig[:, None] ** 2 * jitter[1],
    ), HOLDS


def training_c5(section: dict, data: dict) -> list[TrainingRun]:
    """The paper's network trained by gradient descent: one width at every size of ``sizes``."""
    return [
        TrainingRun(StepSize.of(section), (section["width"],), tuple(section["sizes"]))
    ]  # the sweep: at max(sizes)


def memory_c5(section: dict, data: dict) -> tuple[int, str]:
    """Peak memory growth: one training run at a time (its records at every gcd(steps) step), the
    forward pass on the test windows (the softmax moments mean, variance and last mass and the output
    per test window × neuron; only the sign-inconsistent test windows are used, about half by default)
    and the windows."""
    every = math.gcd(*section["steps"])
    m, t = section["width"], max(section["test_windows"], section["ood_windows"])
    return memory_sum(
        train_bytes(
            n=max(section["sizes"]),
            d=data["d"],
            widths=[m],
            seeds=section["seeds"],
            steps=max(section["steps"]),
            record_every=every,
            held=False,
        ),
        (8 * t * m * 4, "forward pass on the test windows"),
        memory_bytes(d=data["d"], n=max(section["sizes"]), windows=section["pool"] + t),
    )


CLAIM = Claim(
    id="C5",
    source="Prop 6.3",
    title="OOD risk: attention fails, residual linear succeeds",
    statement=r"\text{sign-inconsistent next-step prediction: } R(f_{\mathrm{attn}})\not\le\tilde O(\sigma^2),\quad "
    r"R(f_{\mathrm{lin}})\le\tilde O(\sigma^2)",
    params={
        "width": cfg.positive_int(1024, "attention width m", minimum=2),
        "sizes": cfg.int_list([16, 32], "sign-consistent training windows n", minimum=2),
        "steps": cfg.int_list([100, 300], "training steps T at which risks are measured"),
        "seeds": cfg.positive_int(10, "network seeds", maximum=64),
        "eta": cfg.positive_float(0.05, "attention learning rate η"),
        "noise_std": cfg.positive_float(0.1, "observation noise σ_ε on targets"),
        "pool": cfg.positive_int(
            48,
            "windows scanned for sign-consistent training examples (48: real series "
            "as short as nile's 100 values keep test windows)",
            minimum=4,
        ),
        "test_windows": cfg.positive_int(
            3000,
            "test windows following the training pool (persistent series "
            "have few sign-inconsistent next steps)",
            minimum=4,
        ),
        "ood_windows": cfg.positive_int(
            200,
            "sign-inconsistent test windows generated for a synthetic family "
            "(a finite series: those among test_windows)",
            minimum=2,
        ),
        "min_ood_windows": cfg.positive_int(
            5, "sign-inconsistent test windows needed; fewer: VACUOUS", minimum=2
        ),
        "noise_levels": cfg.float_list(
            [1e-4, 1e-2, 1e-1, 1.0],
            "target noise σ_ε swept for the noise "
            "exponent (at least 3 levels; 4 decades by default)",
            min_len=3,
        ),
        "margin": cfg.probability(
            0.1, "margin Δ of the noise exponent: linear ≥ 1 − Δ, attention < 1 − Δ"
        ),
        "c_R": cfg.positive_float(
            1.0, "diagnostic only: Õ(σ²) read as R <= c_R (1 + ln n) σ² (unknown constant)"
        ),
        "alpha": ALPHA,
    },
    run=run_c5,
    check=check_c5,
    plot=plot_c5,
    summary=summary_c5,
    training=training_c5,
    memory=memory_c5,
    preflight=preflight_c5,
)
