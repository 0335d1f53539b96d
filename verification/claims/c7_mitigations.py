r"""C7 (seed §3.2): differential attention, RoPE, patching, Adam and weight decay mitigate the OOD failure.

**Statement and reading.** On C5's task (train on sign-consistent next-step windows, test on sign-inconsistent ones,
risk :math:`R/\sigma_\varepsilon^2`) and C3's last-token-mass statistic, the multi-dimensional model
is trained in six variants over the same seeds: vanilla attention with gradient descent (the
baseline), differential attention, RoPE, patching (all with gradient descent), Adam, and gradient
descent with decoupled weight decay; the residual linear network is the reference. "v mitigates" is
read with a margin Δ (``[C7] margin``, default 0.1): v lowers the OOD risk by at least the fraction
Δ, its risk factor against vanilla :math:`e^{E d_v}`, :math:`d_{v,s} = \log(R_{v,s}/R_{\mathrm{vanilla},s})`
per seed s (the network draw is the unit), at most :math:`1-\Delta`. "No significant effect" is no
evidence of no effect; with the margin, "no effect" can be shown.

**Verdict rule** (:func:`check_c7`, :func:`verification.rules._ood.margin_effects`): per variant,
"mitigates" (HOLDS) when a one-sided paired :math:`t` test over seeds rejects
:math:`E d_v \ge \log(1-\Delta)` at α/2 (the factor's upper end below :math:`1-\Delta`); "does not
mitigate" (VIOLATED) when a one-sided test rejects :math:`E d_v \le \log(1-\Delta)`, Holm over the
variants at α/2; otherwise undecided. The claim (every variant mitigates) is VIOLATED when one
variant is shown not to mitigate (Holm: family-wise α/2), HOLDS when every variant is shown to
mitigate (intersection–union, each at α/2, no correction), else INCONCLUSIVE with the seeds at which
power reaches 0.8. The two-sided "helps / hurts" paired test (:func:`verification.rules._ood.paired_effects`)
is kept as a diagnostic (docs/theory.md, "C7"; calibration rows 'margin_effects (C7)').
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ntk_attention import linear as lin
from ntk_attention import multidim as md
from verification import config as cfg
from verification.claims._common import (
    ALPHA,
    ood_data_fields,
    ood_premise_verdict,
    ood_split,
    own_noise_variance,
    pyplot,
    save_figure,
)
from verification.contract import Claim, StepSize, memory_bytes
from verification.rules import bootstrap_interval
from verification.rules._ood import (
    margin_effects,
    margin_seeds_for_power,
    paired_effects,
    seed_log_ratios,
)
from verification.rules._verdict import (
    HOLDS,
    INCONCLUSIVE,
    VIOLATED,
    Observed,
    Part,
    Verdict,
    combine_parts,
)

VARIANTS = ("vanilla", "differential", "rope", "patching", "adam", "weight_decay")
"""The trained variants; the first is the baseline."""
MARGIN_WORDS = {HOLDS: "mitigates", VIOLATED: "does not mitigate", INCONCLUSIVE: "undecided"}
"""A variant's status under the margin rule, in words."""


# ---------------------------------------------------------------------------------------------- C7


class OptimizerSetting(NamedTuple):
    """Numbers selecting one member of :func:`optimizer_family` (scalars, or arrays under vmap)."""

    gd_lr: float
    adam_lr: float
    weight_decay: float
    adam: bool


def optimizer_family(setting: OptimizerSetting) -> optax.GradientTransformation:
    r"""Gradient descent, GD with decoupled weight decay, and Adam as one transformation.

    Update :math:`-\eta_{\mathrm{Adam}}\, \hat m/(\sqrt{\hat v}+\epsilon)` (optax's
    ``scale_by_adam``) when ``setting.adam``, else :math:`-\eta(g + \mathrm{wd}\,\theta)`: with
    ``weight_decay = 0`` plain GD. The selection is by numbers, so the three optimizers of one
    architecture train in one compiled, vmapped program (equal to ``optax.sgd``,
    ``chain(add_decayed_weights, sgd)`` and ``optax.adam``; tested).
    """
    adam = optax.scale_by_adam()

    def update(grads, state, params):
        direction, state = adam.update(grads, state, params)
        upd = jax.tree.map(
            lambda g, a, p: jnp.where(
                setting.adam, -setting.adam_lr * a, -setting.gd_lr * (g + setting.weight_decay * p)
            ),
            grads,
            direction,
            params,
        )
        return upd, state

    return optax.GradientTransformation(adam.init, update)


def variant_setup(name: str, section: dict) -> tuple[md.ModelConfig, OptimizerSetting]:
    """Model configuration and optimizer setting of one variant (:data:`VARIANTS`) from the C7 section."""
    base = md.ModelConfig(
        heads=section["heads"], key_dim=section["key_dim"], lambda_init=section["lambda_init"]
    )
    gd = OptimizerSetting(StepSize.of(section).resolve(), section["adam_lr"], 0.0, False)
    if name == "vanilla":
        return base, gd
    if name == "differential":
        return base._replace(kind="differential"), gd
    if name == "rope":
        return base._replace(rope=True, rope_base=section["rope_base"]), gd
    if name == "patching":
        return base._replace(patch_len=section["patch_len"], stride=section["patch_stride"]), gd
    if name == "adam":
        return base, gd._replace(adam=True)
    if name == "weight_decay":
        return base, gd._replace(weight_decay=section["weight_decay"])
    raise ValueError(f"name: expected one of {VARIANTS}, got {name!r}")


@functools.partial(jax.jit, static_argnames=("config", "steps", "dtype"))
def _train_eval(settings, keys, X, y, X_test, y_test, *, config, steps, dtype):
    def one(setting, key):
        g, p = md.init_model(config, key, dtype=dtype)
        res = md.fit(g, p, X, y, optimizer=optimizer_family(setting), steps=steps)
        err = (md.apply_model(g, res.params, X_test) - y_test) ** 2
        mass = md.head_outputs(g, res.params, X).weights.mean(
            axis=0
        )  # (H, L): averaged over training windows
        return err, mass, res.loss[jnp.array([0, steps])]

    over_seeds = jax.vmap(one, in_axes=(None, 0))
    return jax.vmap(over_seeds, in_axes=(0, None))(settings, keys)


def train_variants(
    config: md.ModelConfig, settings, seeds, X, y, X_test, y_test, *, steps: int, dtype=jnp.float32
):
    r"""Train one architecture under several optimizer settings and seeds (one compiled, vmapped program).

    Returns ``(sq_err (V, S, N_test), mass (V, S, H, L), loss (V, S, 2))`` for the V settings
    (:class:`OptimizerSetting`) and S seeds: squared test errors :math:`(f(x)-y)^2`, the
    data-averaged last-query attention :math:`\frac1n\sum_i S_{h,L\cdot}(x_i)`, and the training
    loss at steps 0 and T.
    """
    keys = jnp.stack([jax.random.key(int(s)) for s in seeds])
    cast = functools.partial(jnp.asarray, dtype=dtype)
    batch = OptimizerSetting(
        *(
            jnp.asarray([getattr(st, f) for st in settings], dtype=bool if f == "adam" else dtype)
            for f in OptimizerSetting._fields
        )
    )
    out = _train_eval(
        batch,
        keys,
        cast(X),
        cast(y),
        cast(X_test),
        cast(y_test),
        config=config,
        steps=steps,
        dtype=dtype,
    )
    return tuple(np.asarray(o, np.float64) for o in out)


def paired_risk_bootstrap(
    err, err_ref=None, *, alpha: float = 0.05, resamples: int = 1000, seed: int = 0
):
    r"""Risk factor :math:`\exp\big(\frac1S\sum_s \log(\bar e_s / \bar e^{\mathrm{ref}}_s)\big)` with a two-way bootstrap.

    ``err``, ``err_ref``: (S, N) errors of two models on the same S seeds and N test windows;
    :math:`\bar e_s` is the mean over windows. ``err_ref=None`` gives the geometric mean over seeds
    of :math:`\bar e_s` itself. Each resample draws seeds and test windows with replacement,
    independently (both sources of variation), keeping the pairing. Returns
    ``(estimate, lo, hi)``, percentile interval at level :math:`1-\alpha`.
    """
    e = np.asarray(err, np.float64)
    r = np.ones_like(e) if err_ref is None else np.asarray(err_ref, np.float64)
    if e.shape != r.shape or e.ndim != 2:
        raise ValueError(
            f"err_ref: expected the shape of err {e.shape} (seeds, windows), got {r.shape}"
        )
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: expected a level in (0, 1), got {alpha!r}")

    def stat(rows, cols):
        return np.mean(np.log(e[np.ix_(rows, cols)].mean(1) / r[np.ix_(rows, cols)].mean(1)))

    S, N = e.shape
    rng = np.random.default_rng(seed)
    boot = np.array(
        [stat(rng.integers(0, S, S), rng.integers(0, N, N)) for _ in range(int(resamples))]
    )
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return float(np.exp(stat(np.arange(S), np.arange(N)))), float(np.exp(lo)), float(np.exp(hi))


def _fx(x: float) -> str:
    """A risk factor for display: three decimals near 1 (0.997, 1.005), three significant digits otherwise."""
    return f"{x:.3f}" if 0.01 <= abs(x) < 100 else f"{x:.3g}"


def _mass_ratio(M):
    """C3's statistic per seed: L times the data-averaged last-token mass, averaged over heads (1 = uniform)."""
    M = np.asarray(M, np.float64)
    return (M.shape[-1] * M[..., -1]).mean(axis=1)


def check_c7(
    *,
    variants,
    sq_err,
    mass,
    linear_sq_err,
    noise_std: float,
    own_noise_var: float = 0.0,
    alpha: float = 0.05,
    margin: float = 0.1,
    resamples: int = 1000,
    config: dict | None = None,
    seed: int | None = None,
    tested: dict | None = None,
) -> Verdict:
    r"""C7 from per-variant squared OOD errors ``sq_err[v]`` (S, N) and masses ``mass[v]`` (S, H, L).

    ``variants[0]`` is the baseline. Risk ratios :math:`R/\sigma_\varepsilon^2` are geometric means
    over seeds with two-way bootstrap intervals (display). Decisive, per mitigation, on
    :math:`d_s = \log(\bar e_{v,s}/\bar e_{\mathrm{base},s})` (the network draw is the unit): the
    margin rule :func:`verification.rules._ood.margin_effects` with margin Δ = ``margin``: HOLDS
    ("mitigates": the one-sided t test rejects :math:`E d \ge \log(1-\Delta)` at α/2, no correction),
    VIOLATED ("does not mitigate": the one-sided t test rejects :math:`E d \le \log(1-\Delta)`,
    Holm over the mitigations at α/2), INCONCLUSIVE (undecided). The claim, a conjunction over the
    mitigations, is VIOLATED when any one does not mitigate (Holm keeps that family-wise at α/2) and
    HOLDS only when every one mitigates (intersection–union: each at α/2); the theorem and the
    observed verdict both read it (C7 is an empirical statement, no theorem of its own). The factor
    :math:`e^{\bar d}` gets the 1 − α t interval whose ends the rule compares with 1 − Δ.
    Diagnostic: the two-sided paired test of :func:`verification.rules._ood.paired_effects` ("helps" /
    "hurts" / "no measurable effect", Holm, Bonferroni-simultaneous interval) in ``measured``.
    Diagnostic, per mitigation: C3's statistic,
    the last token's data-averaged mass relative to uniform, :math:`L\,\bar S_{h,LL}` (1 = uniform)
    averaged over heads; its paired change from the baseline gets a bootstrap interval over seeds
    (HOLDS if above 0: more local attention); and the fraction of heads whose last token is the
    least attended (C3's inequality). ``linear_sq_err`` (N,) is the residual linear reference.
    """
    base = variants[0]
    var = own_noise_var + noise_std**2  # σ² = σ_0² + σ_ε², as C5
    measured = {
        "variants": list(variants),
        "noise_std": noise_std,
        "own_noise_var": own_noise_var,
        "sigma2": var,
    }
    intervals, parts, counter = {}, [], None
    risk = np.zeros((len(variants), 3))  # R/σ² geometric mean over seeds, lo, hi
    factor = np.full((len(variants), 3), np.nan)  # vs baseline
    mass_ratio = np.zeros((len(variants), 3))
    lin_est = bootstrap_interval(
        np.asarray(linear_sq_err, np.float64) / var, alpha=alpha, resamples=resamples, seed=1
    )
    measured["linear_risk_ratio"] = lin_est[0]
    intervals["linear_risk_ratio"] = [lin_est[1], lin_est[2]]
    base_mass = _mass_ratio(mass[base])
    if len(variants) < 2:
        raise ValueError(
            f"variants: expected the baseline and at least one mitigation, got {list(variants)}"
        )
    logr = np.stack([seed_log_ratios(sq_err[n], sq_err[base]) for n in variants[1:]])
    dec = margin_effects(logr, margin=margin, alpha=alpha)
    effects = paired_effects(logr, alpha=alpha)  # diagnostic: helps / hurts / no measurable effect
    thr = 1.0 - dec.margin
    measured["margin"] = dec.margin
    for vi, name in enumerate(variants):
        e = np.asarray(sq_err[name], np.float64) / var
        risk[vi] = paired_risk_bootstrap(e, alpha=alpha, resamples=resamples, seed=vi)
        per_seed_mass = _mass_ratio(mass[name])
        mass_ratio[vi] = bootstrap_interval(
            per_seed_mass, alpha=alpha, resamples=resamples, seed=100 + vi
        )
        M = np.asarray(mass[name])
        least = float((M[..., -1] <= M[..., :-1].min(axis=-1)).mean()) if M.shape[-1] > 1 else 0.0
        measured[f"{name}/risk_ratio"] = risk[vi, 0]
        measured[f"{name}/risk_ratio_per_seed"] = e.mean(axis=1).tolist()
        measured[f"{name}/last_mass_ratio"] = mass_ratio[vi, 0]
        measured[f"{name}/fraction_last_least"] = least
        intervals[f"{name}/risk_ratio"] = [risk[vi, 1], risk[vi, 2]]
        intervals[f"{name}/last_mass_ratio"] = [mass_ratio[vi, 1], mass_ratio[vi, 2]]
        if name == base:
            continue
        k = vi - 1
        factor[vi] = (dec.factor[k], dec.lo[k], dec.hi[k])
        f_est, f_lo, f_hi = factor[vi]
        st = dec.statuses[k]
        diag = {HOLDS: "helps", VIOLATED: "hurts", INCONCLUSIVE: "no measurable effect"}[
            effects.statuses[k]
        ]
        measured[f"{name}/risk_factor_vs_{base}"] = f_est
        measured[f"{name}/mitigation"] = MARGIN_WORDS[st]
        measured[f"{name}/p_mitigates"] = dec.p_mitigates[k]
        measured[f"{name}/p_not_mitigates_holm"] = dec.p_not_holm[k]
        measured[f"{name}/paired_effect"] = diag
        measured[f"{name}/p_helps_holm"] = effects.p_helps[k]
        measured[f"{name}/p_hurts_holm"] = effects.p_hurts[k]
        intervals[f"{name}/risk_factor_vs_{base}"] = [f_lo, f_hi]
        intervals[f"{name}/risk_factor_vs_{base}_simultaneous"] = [effects.lo[k], effects.hi[k]]
        if st == VIOLATED and (
            counter is None or dec.p_not_holm[k] < counter["p_not_mitigates_holm"]
        ):
            counter = {
                "variant": name,
                "risk_factor": f_est,
                "interval": [f_lo, f_hi],
                "margin": dec.margin,
                "seeds": e.shape[0],
                "p_not_mitigates_holm": dec.p_not_holm[k],
            }
        words = MARGIN_WORDS[st]
        toward_not = st == VIOLATED or (st == INCONCLUSIVE and f_est >= thr)
        p_dec = dec.p_not_holm[k] if toward_not else dec.p_mitigates[k]
        p_name = "Holm-adjusted p of 'does not'" if toward_not else "p of 'mitigates'"
        on = f" [{dec.basis[k]}]" if dec.basis and dec.basis[k] else ""
        parts.append(
            Part(
                f"{name}: OOD risk vs {base} (margin Δ = {dec.margin:g})",
                st,
                f"{words}{on} (margin: risk × ≤ {thr:g}): risk × {_fx(f_est)} [{_fx(f_lo)}, {_fx(f_hi)}] over {e.shape[0]} "
                f"seeds, one-sided {p_name} = {p_dec:.3g} (α/2 = {alpha / 2:g}); R/σ² {risk[vi, 0]:.3g} vs "
                f"{risk[0, 0]:.3g}; paired test vs 1 (diagnostic): {diag}.",
                why="" if st == HOLDS else words,
            )
        )
        d_est, d_lo, d_hi = bootstrap_interval(
            per_seed_mass - base_mass, alpha=alpha, resamples=resamples, seed=200 + vi
        )
        measured[f"{name}/last_mass_ratio_change"] = d_est
        intervals[f"{name}/last_mass_ratio_change"] = [d_lo, d_hi]
        mst = HOLDS if d_lo > 0 else (VIOLATED if d_hi < 0 else INCONCLUSIVE)
        parts.append(
            Part(
                f"{name}: last-token mass vs {base} (diagnostic)",
                mst,
                f"L·S_LL {mass_ratio[vi, 0]:.3g} vs {mass_ratio[0, 0]:.3g} (1 = uniform), change {d_est:+.3g} "
                f"[{d_lo:+.3g}, {d_hi:+.3g}]; last token least attended in {least:.0%} of heads.",
                decisive=False,
            )
        )
    tested = dict(tested or {})
    n_test = int(np.asarray(sq_err[base]).shape[-1])
    measured["test_windows"] = n_test
    parts.insert(
        0,
        Part(
            "enough sign-inconsistent test windows",
            HOLDS,
            f"{n_test} sign-inconsistent test windows"
            + (f" ({tested['test_set']})" if tested.get("test_set") else "")
            + ".",
            role="premise",
        ),
    )
    status = combine_parts(parts)
    others = list(enumerate(variants))[1:]
    helps = [(n, factor[i]) for i, n in others if dec.statuses[i - 1] == HOLDS]
    hurts = [(n, factor[i]) for i, n in others if dec.statuses[i - 1] == VIOLATED]
    unclear = [(n, factor[i]) for i, n in others if dec.statuses[i - 1] == INCONCLUSIVE]
    fmt = lambda items: ", ".join(
        f"{n} (risk × {_fx(f[0])} [{_fx(f[1])}, {_fx(f[2])}])" for n, f in items
    )  # noqa: E731
    best = int(np.argmin(risk[:, 0]))
    S = int(np.asarray(sq_err[base]).shape[0])
    where = (
        f"{S} seeds, {n_test} sign-inconsistent test windows, n = {tested.get('n', '?')}, "
        f"T = {tested.get('steps', '?')} steps"
    )
    budget = ""
    obs_status = combine_parts([p for p in parts if p.role == "conclusion"])
    if unclear:  # every undecided variant gets its budget, whatever the claim reads
        need = [
            (n, margin_seeds_for_power(dec, i - 1))
            for i, n in others
            if dec.statuses[i - 1] == INCONCLUSIVE
        ]
        budget = (
            "undecided variants, power 0.8 at the observed share of seeds below/above 1 − Δ: "
            + ", ".join(f"{n} {k} seeds" if k else f"{n} more than 1000 seeds" for n, k in need)
            + f" (exact sign-test budget against 1 − Δ = {thr:g}: α/2 toward 'mitigates', Holm's "
            f"first step over {len(variants) - 1} toward 'does not'; calibration rows 'margin_effects (C7)' in "
            "docs/calibration.md)"
        )
    if obs_status == VIOLATED:
        head = f"does not mitigate by Δ = {dec.margin:g} (risk × > {thr:g}): {fmt(hurts)}"
    elif obs_status == HOLDS:
        head = f"every variant mitigates by Δ = {dec.margin:g} (risk × < {thr:g}): {fmt(helps)}"
    else:
        head = f"no variant shown not to mitigate by Δ = {dec.margin:g} (risk × ≤ {thr:g}), not all shown to"
    rest = [
        f"{lab}: {fmt(items)}"
        for lab, items, show in (
            ("mitigates", helps, obs_status != HOLDS),
            ("undecided", unclear, True),
            ("does not mitigate", hurts, obs_status == INCONCLUSIVE),
        )
        if show and items
    ]
    observed = Observed(
        status=obs_status,
        rule=dec.rule,
        scale=where,
        finding=head
        + "".join(f"; {r}" for r in rest)
        + f" (1 − α intervals of the {dec.estimand} over seeds).",
        looseness={},
        budget=budget,
    )
    explanation = (
        f"On {n_test} sign-inconsistent test windows ({S} seeds, one-sided paired t tests per mitigation against the "
        f"margin 1 − Δ = {thr:g} of the risk factor, Holm over {len(variants) - 1} for 'does not mitigate'), trained on sign-consistent next-step windows, with σ² = σ_0² + σ_ε² = {own_noise_var:.3g} + "
        f"{noise_std**2:.3g} (the series' own noise and the injected one), vanilla attention's "
        f"risk is {risk[0, 0]:.3g} σ² against {lin_est[0]:.3g} σ² for the residual linear net. "
        + (
            f"Mitigates by at least Δ = {dec.margin:g}: {fmt(helps)}. "
            if helps
            else f"No mitigation is shown to lower the risk by Δ = {dec.margin:g}. "
        )
        + (f"Does not mitigate by Δ: {fmt(hurts)}. " if hurts else "")
        + (f"Undecided: {fmt(unclear)}. " if unclear else "")
        + f"The best variant ({variants[best]}, {risk[best, 0]:.3g} σ²) stays "
        f"{'above' if risk[best, 1] > lin_est[2] else 'within reach of'} the linear reference; the last token's "
        f"data-averaged mass is {mass_ratio[:, 0].min():.2g}–{mass_ratio[:, 0].max():.2g} × uniform across variants."
    )
    arrays = {
        "risk_ratio": risk,
        "risk_factor": factor,
        "last_mass_ratio": mass_ratio,
        "linear_risk_ratio": np.asarray(lin_est),
    }
    return Verdict(
        claim="C7",
        status=status,
        explanation=explanation,
        measured=measured,
        intervals=intervals,
        bounds={"no_effect_factor": 1.0, "mitigation_factor": thr},
        parts=tuple(parts),
        counterexample=counter,
        tested_range=tested,
        config=config or {},
        seed=seed,
        arrays=arrays,
        observed=observed,
    )


def preflight_c7(section: dict, ctx):
    """Settings the variants cannot use, and too few windows, refused before any claim runs."""
    if "rope" in section["variants"] and section["key_dim"] % 2:
        raise cfg.ConfigError(
            f"C7.key_dim: RoPE rotates coordinate pairs; expected an even key_dim, got {section['key_dim']}"
        )
    d = ctx.config["data"]["d"]
    if "patching" in section["variants"] and section["patch_len"] > d:
        raise cfg.ConfigError(
            f"C7.patch_len: expected a patch no longer than the window, data.d = {d}, "
            f"got {section['patch_len']}"
        )
    return ood_split(section, ctx, "C7", consistent_only=True)


def run_c7(section: dict, ctx) -> Verdict:
    split = preflight_c7(section, ctx)
    X, y, Xt, yt = split.X, split.y, split.X_test, split.y_test
    if Xt.shape[0] < section["min_ood_windows"]:
        return ood_premise_verdict(
            "C7",
            Xt.shape[0],
            split.scanned,
            section["min_ood_windows"],
            config={"C7": section, "data": ctx.config["data"]},
            seed=ctx.seed,
        )
    seeds = ctx.network_seeds(section["seeds"])
    dtype = jnp.dtype(section["dtype"])
    variants = section["variants"]
    groups: dict[md.ModelConfig, list] = {}  # variants sharing an architecture train together
    for name in variants:
        model_cfg, setting = variant_setup(name, section)
        groups.setdefault(model_cfg, []).append((name, setting))
    sq_err, mass = {}, {}
    bar = ctx.progress("C7 mitigations", len(groups))
    for model_cfg, members in groups.items():
        err, ms, _ = train_variants(
            model_cfg,
            [st for _, st in members],
            seeds,
            X,
            y,
            Xt,
            yt,
            steps=section["steps"],
            dtype=dtype,
        )
        for k, (name, _) in enumerate(members):
            sq_err[name], mass[name] = err[k], ms[k]
        bar.update(1)
    bar.close()
    lin_err = np.asarray((lin.linear_forward(lin.fit_linear_lstsq(X, y), Xt) - yt) ** 2)
    pool = ctx.dataset(section["pool"], n_test=section["test_windows"], noise_std=0.0)
    v = check_c7(
        variants=variants,
        sq_err=sq_err,
        mass=mass,
        linear_sq_err=lin_err,
        noise_std=section["noise_std"],
        own_noise_var=own_noise_variance(pool.X, pool.y),
        alpha=section["alpha"],
        margin=section["margin"],
        resamples=section["resamples"],
        config={"C7": section, "data": ctx.config["data"]},
        seed=ctx.seed,
        tested={
            "variants": list(variants),
            "seeds": seeds,
            "n": int(X.shape[0]),
            "test_windows": int(Xt.shape[0]),
            "scanned_windows": split.scanned,
            "test_set": split.how,
            "steps": section["steps"],
        },
    )
    return v


def plot_c7(v: Verdict, out: Path) -> list[str]:
    A = v.arrays
    if "risk_ratio" not in A:  # VACUOUS for want of sign-inconsistent windows: nothing to draw
        return []
    plt = pyplot()
    names = list(v.measured.get("variants", [f"v{i}" for i in range(len(A["risk_ratio"]))]))
    x = np.arange(len(names))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))

    def bars(ax, rows, color):
        ax.errorbar(
            x,
            rows[:, 0],
            yerr=[rows[:, 0] - rows[:, 1], rows[:, 2] - rows[:, 0]],
            fmt="o",
            color=color,
            capsize=4,
        )
        ax.set_xticks(x, names, rotation=25, fontsize=8)

    ax = axes[0]
    bars(ax, A["risk_ratio"], "C3")
    lr = A["linear_risk_ratio"]
    ax.axhspan(
        lr[1], lr[2], color="C0", alpha=0.25, label=f"residual linear {lr[0]:.3g} (interval)"
    )
    ax.axhline(1.0, color="gray", ls=":", lw=1, label="noise floor R = σ²")
    ax.set_yscale("log")
    ax.set_ylabel("OOD risk R/σ² (geometric mean over seeds)")
    ax.set_title("risk on sign-inconsistent windows", fontsize=10)
    ax.legend(fontsize=7)
    ax = axes[1]
    f = A["risk_factor"]
    thr = v.bounds.get("mitigation_factor", 1.0)
    colors = ["C2" if r[2] < thr else ("C3" if r[1] > thr else "gray") for r in f]
    for i in range(1, len(names)):
        ax.errorbar(
            [x[i]],
            [f[i, 0]],
            yerr=[[f[i, 0] - f[i, 1]], [f[i, 2] - f[i, 0]]],
            fmt="o",
            color=colors[i],
            capsize=4,
        )
    ax.axhline(1.0, color="k", ls="--", lw=1, label="no effect")
    ax.axhline(thr, color="C2", ls=":", lw=1, label=f"margin 1 − Δ = {thr:g}")
    ax.set_xticks(x, names, rotation=25, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel(f"risk relative to {names[0]} (paired)")
    ax.set_title("effect of each mitigation (green: mitigates, red: does not; 1 − α)", fontsize=10)
    ax.legend(fontsize=7)
    ax = axes[2]
    bars(ax, A["last_mass_ratio"], "C4")
    ax.axhline(1.0, color="gray", ls=":", lw=1, label="uniform attention")
    ax.set_ylabel("L × mean last-token mass S_LL")
    ax.set_title("attention on the most recent token (C3's statistic)", fontsize=10)
    ax.legend(fontsize=7)
    fig.suptitle(
        f"C7: mitigations of asymmetric learning, 95% bootstrap intervals ({v.status})", fontsize=11
    )
    return [save_figure(fig, out / "c7_mitigations.png")]


def summary_c7(v: Verdict) -> str:
    names = v.measured.get("variants", [])
    f = v.arrays.get("risk_factor")
    if f is None or not names:
        return ""
    status = {
        p.name.split(":")[0]: p.status for p in v.parts if p.decisive and p.role == "conclusion"
    }
    helps = [f"{n} ×{_fx(f[i, 0])}" for i, n in enumerate(names) if i and status.get(n) == HOLDS]
    hurts = [f"{n} ×{_fx(f[i, 0])}" for i, n in enumerate(names) if i and status.get(n) == VIOLATED]
    margin = v.measured.get("margin", 0.1)
    return (
        f"mitigates by Δ = {margin:g}: "
        + (", ".join(helps) if helps else "none")
        + (f"; does not: {', '.join(hurts)}" if hurts else "")
        + f" (one-sided paired t over {v.tested_range.get('seeds') and len(v.tested_range['seeds']) or '?'} seeds "
        "vs 1 − Δ, Holm); "
        f"vanilla R/σ² {v.arrays['risk_ratio'][0, 0]:.3g} on {v.tested_range.get('test_windows', '?')} "
        "sign-inconsistent windows"
    )


def _variants_list(v):
    """``[C7] variants``: distinct names of :data:`VARIANTS`, at least two, starting with 'vanilla'."""
    if not isinstance(v, (list, tuple)) or len(v) < 2 or v[0] != "vanilla":
        raise TypeError
    if any(x not in VARIANTS for x in v) or len(set(v)) != len(v):
        raise ValueError
    return list(v)


def example_check_input() -> tuple[dict, str]:
    r"""Keyword arguments of :func:`check_c7` whose verdict is known, and that verdict: patching
    divides the risk by 3 (mitigates), Adam multiplies it by 3 (shown not to mitigate by Δ = 0.1): VIOLATED."""
    rng = np.random.default_rng(1)
    base = rng.exponential(size=(12, 40))
    jit = np.exp(rng.normal(0.0, 0.05, size=(2, 12, 1)))  # seeds differ: no zero spread
    sq = {"vanilla": base, "patching": 0.3 * base * jit[0], "adam": 3.0 * base * jit[1]}
    mass = {k: np.full((12, 2, 4), 0.25) for k in sq}
    return dict(
        variants=list(sq),
        sq_err=sq,
        mass=mass,
        linear_sq_err=np.full(40, 0.02),
        noise_std=0.1,
        resamples=300,
    ), VIOLATED


def memory_c7(section: dict, data: dict) -> tuple[int, str]:
    """Peak memory growth: the windows of the pool and test set (the small models' compiled programs are in
    :data:`verification.pipeline.BASELINE_BYTES`; measured 75 MiB)."""
    return memory_bytes(
        d=data["d"], n=section["n"], windows=section["pool"] + section["test_windows"]
    )


CLAIM = Claim(
    id="C7",
    source="seed §3.2",
    title="differential attention, RoPE, patching, Adam, weight decay mitigate",
    statement=r"(S_1-\lambda S_2)XW_V,\ \mathrm{RoPE},\ \mathcal P(x)\in\mathbb R^{L\times P},\ \text{Adam},\ "
    r"\text{weight decay}:\ R_{\mathrm{OOD}}\downarrow,\ \mathbb E[S_{LL}]\uparrow",
    params={
        **ood_data_fields(32),
        "variants": cfg.Field(
            list(VARIANTS),
            "variants to compare; the first is the baseline",
            f"a list starting with 'vanilla' of distinct names from {', '.join(VARIANTS)}",
            _variants_list,
        ),
        "seeds": cfg.positive_int(
            12, "seeds per variant (the same for every variant: paired)", minimum=2, maximum=64
        ),
        "steps": cfg.positive_int(300, "training steps"),
        "heads": cfg.positive_int(4, "attention heads H"),
        "key_dim": cfg.positive_int(2, "query/key width d_k (even: RoPE rotates pairs)"),
        "eta": cfg.positive_float(0.1, "gradient-descent learning rate (loss 1/(2n) Σ (f - y)²)"),
        "adam_lr": cfg.positive_float(0.01, "Adam learning rate"),
        "weight_decay": cfg.positive_float(0.01, "decoupled weight decay added to the GD update"),
        "lambda_init": cfg.probability(0.2, "initial λ of differential attention"),
        "rope_base": cfg.positive_float(10000.0, "RoPE base (frequencies base^(-2i/d_k))"),
        "patch_len": cfg.positive_int(2, "patch length P"),
        "patch_stride": cfg.positive_int(2, "patch stride"),
        "dtype": cfg.choice("float32", ("float32", "float64"), "training precision"),
        "resamples": cfg.positive_int(1000, "bootstrap resamples", minimum=100),
        "margin": cfg.probability(
            0.1,
            "margin Δ of 'mitigates': a variant lowers the OOD risk by at least the "
            "fraction Δ (risk factor vs vanilla ≤ 1 − Δ)",
        ),
        "alpha": ALPHA,
    },
    run=run_c7,
    check=check_c7,
    plot=plot_c7,
    summary=summary_c7,
    memory=memory_c7,
    preflight=preflight_c7,
)
