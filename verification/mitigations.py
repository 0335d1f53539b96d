r"""Claims C6 and C7 (seed §3.1–3.2): the multi-dimensional gradient formula, and the mitigations.

**C6.** For :math:`\mathrm{Attn}(X, W) = S X W_V`, :math:`S = \mathrm{softmax}(X W X^\top)`, the seed
prints

.. math::

    \frac{dL}{dW} = X^\top\Big(S \odot \big(G W_V^\top X^\top - (\mathrm{Attn}\odot G)\,1_{d\times n}\big)\Big) X .

Reading (stated in :func:`ntk_attention.multidim.printed_attention_gradient`): G is
:math:`\partial L/\partial\mathrm{Attn}`, :math:`1_{d\times n}` all ones with d the width of Attn,
W the scaled product :math:`W_Q W_K^\top/\sqrt d`, softmax over keys (rows of S). Under it, the
formula is the softmax chain rule :math:`\partial L/\partial A = S\odot(\partial L/\partial S -
\mathrm{rowsum}(\partial L/\partial S\odot S))` with :math:`\partial L/\partial S = G W_V^\top X^\top`,
:math:`\mathrm{rowsum}(\partial L/\partial S\odot S)_i = \langle G_i, \mathrm{Attn}_i\rangle`,
:math:`dL/dW = X^\top(\partial L/\partial A)X`. The check compares both with :func:`jax.grad` in
float64 on random shapes (also :math:`d_v \ne d`) and score scales; the column-softmax reading is
reported as a diagnostic. Over training of the vanilla multi-dimensional model on state-space
windows it also counts the seed's two cases :math:`\langle G_i, W_V^\top X_i\rangle \gtrless 0`
(last token, per head) and what gradient descent does to the local score :math:`A_{LL}` in each.

**C7.** On C5's task (train on sign-consistent next-step windows, test on sign-inconsistent ones,
risk :math:`R/\sigma_\varepsilon^2`) and C3's last-token-mass statistic, the multi-dimensional model
is trained in six variants over the same seeds: vanilla attention with gradient descent (the
baseline), differential attention, RoPE, patching (all with gradient descent), Adam, and gradient
descent with decoupled weight decay; the residual linear network is the reference. A mitigation
*measurably helps* when the bootstrap interval of its risk relative to vanilla,
:math:`\exp(\mathrm{mean}_s \log(R_{v,s}/R_{\mathrm{vanilla},s}))`, lies below 1 (resampling seeds
and test windows together); above 1 it measurably hurts (a counterexample to "mitigates"); an
interval containing 1 is INCONCLUSIVE.

Registered on import through :func:`verification.claims.register_claim`.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ntk_attention import linear as lin
from ntk_attention import multidim as md
from ntk_attention.data import sign_consistent
from verification import config as cfg
from verification.claims import Claim, register_claim
from verification.paper_claims import _pyplot, _save, interval_status
from verification.stats import bootstrap_interval, clopper_pearson
from verification.verdict import HOLDS, INCONCLUSIVE, VIOLATED, Part, Verdict, combine_status

__all__ = [
    "VARIANTS",
    "formula_errors",
    "case_statistics",
    "check_c6",
    "run_c6",
    "OptimizerSetting",
    "optimizer_family",
    "train_variants",
    "paired_risk_bootstrap",
    "check_c7",
    "run_c7",
]

READINGS = ("printed_rows", "chain_rows", "printed_cols", "chain_cols")
"""Columns of :func:`formula_errors`: formula × softmax axis (rows = keys, cols = queries)."""

VARIANTS = ("vanilla", "differential", "rope", "patching", "adam", "weight_decay")


# ---------------------------------------------------------------------------------------------- C6


def random_shapes(count: int, max_tokens: int, max_width: int, seed: int) -> np.ndarray:
    """``count`` distinct (n tokens, d, d_v) sorted by size, always including (2, 1, 1) and a d_v != d one."""
    rng = np.random.default_rng(seed)
    shapes = {(2, 1, 1), (3, 2, 3)}
    while len(shapes) < count:
        shapes.add((int(rng.integers(1, max_tokens + 1)), int(rng.integers(1, max_width + 1)),
                    int(rng.integers(1, max_width + 1))))
    return np.array(sorted(shapes, key=lambda s: (s[0] * s[1] * s[2], s)), dtype=np.int64)


@jax.jit
def _gradients(X, W, W_V, Y):
    """(autodiff, printed, chain rule) dL/dW for L = 1/2 |Attn - Y|^2, G = Attn - Y; rows then columns softmax."""
    out = []
    for axis in ("keys", "queries"):
        G = md.attention(X, W, W_V, softmax_axis=axis) - Y
        auto = jax.grad(lambda W_: 0.5 * jnp.sum((md.attention(X, W_, W_V, softmax_axis=axis) - Y) ** 2))(W)
        out += [auto, md.printed_attention_gradient(X, W, W_V, G, softmax_axis=axis),
                md.attention_gradient(X, W, W_V, G, softmax_axis=axis)]
    return out


def _rel(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    scale = float(np.abs(b).max())
    return float(np.abs(a - b).max()) / (scale if scale > 0 else 1.0)


def formula_errors(shapes, seeds, scales) -> np.ndarray:
    r"""Max relative errors against :func:`jax.grad`, shape (len(shapes), len(seeds), 4), float64.

    Columns :data:`READINGS`. Case (shape, seed j): :math:`X, W_V, Y` standard normal,
    :math:`W = c_j Z` with :math:`c_j` = ``scales[j % len(scales)]`` (sharper softmax for larger c).
    Error :math:`\max|g - g_{\mathrm{auto}}| / \max|g_{\mathrm{auto}}|` (absolute when the autodiff
    gradient is zero, e.g. n = 1).
    """
    out = np.zeros((len(shapes), len(seeds), len(READINGS)))
    with jax.enable_x64(True):
        for i, (n, d, dv) in enumerate(np.asarray(shapes).tolist()):
            for j, s in enumerate(seeds):
                rng = np.random.default_rng(int(s))  # numpy draws: no compilation per shape
                X, Z, W_V, Y = (rng.standard_normal(sh) for sh in ((n, d), (d, d), (d, dv), (n, dv)))
                grads = _gradients(X, scales[j % len(scales)] * Z, W_V, Y)
                for a in range(2):
                    auto, printed, chain = grads[3 * a : 3 * a + 3]
                    out[i, j, 2 * a] = _rel(printed, auto)
                    out[i, j, 2 * a + 1] = _rel(chain, auto)
    return out


@functools.partial(jax.jit, static_argnames=("config", "segments", "every", "eta", "dtype"))
def _cases_over_training(keys, X, y, *, config, segments, every, eta, dtype):
    def one(key):
        g, p = md.init_model(config, key, dtype=dtype)

        def segment(p, _):
            cases = md.local_attention_cases(g, p, X, y)
            return md.fit(g, p, X, y, optimizer=optax.sgd(eta), steps=every).params, cases

        p, cases = jax.lax.scan(segment, p, None, length=segments)
        last = md.local_attention_cases(g, p, X, y)
        return jax.tree.map(lambda a, b: jnp.concatenate([a, b[None]]), cases, last)

    return jax.vmap(one)(keys)


def case_statistics(config: md.ModelConfig, seeds, X, y, *, steps: int, record_every: int, eta: float,
                    dtype=jnp.float32) -> md.LocalCases:
    r""":class:`~ntk_attention.multidim.LocalCases` at steps 0, k, …, T of gradient descent, (S, R, n, H).

    Full-batch GD (``optax.sgd(eta)``) on :math:`\frac1{2n}\sum_i(f(x_i)-y_i)^2`, run in segments
    of ``record_every`` steps (GD has no state, so the segments are the uninterrupted run).
    """
    keys = jnp.stack([jax.random.key(int(s)) for s in seeds])
    return _cases_over_training(keys, jnp.asarray(X, dtype), jnp.asarray(y, dtype), config=config,
                                segments=steps // record_every, every=record_every, eta=float(eta), dtype=dtype)


def _case_summary(alignment, score_gradient, local_mass, consistent, alpha):
    """Per case (c > 0, c < 0): counts, the fraction moving A_LL the seed's way, its interval, mean ΔS_LL."""
    c = np.asarray(alignment, np.float64)
    g = np.asarray(score_gradient, np.float64)
    m = np.asarray(local_mass, np.float64)
    dm = np.concatenate([m[:, 1:] - m[:, :-1], np.full_like(m[:, :1], np.nan)], axis=1)  # change until the next record
    cons = np.broadcast_to(np.asarray(consistent, bool)[None, None, :, None], c.shape)
    out = {}
    for name, mask, seed_way in (("case1", c > 0, g > 0), ("case2", c < 0, g < 0)):
        k = int(np.sum(mask & seed_way))
        tot = int(np.sum(mask))
        lo, hi = clopper_pearson(k, tot, alpha) if tot else (0.0, 1.0)
        out[name] = {
            "count": tot,
            "fraction": tot / c.size,
            "fraction_among_consistent": float(np.sum(mask & cons) / max(1, np.sum(cons))),
            "fraction_among_inconsistent": float(np.sum(mask & ~cons) / max(1, np.sum(~cons))),
            "seed_direction": k / tot if tot else float("nan"),
            "seed_direction_interval": [float(lo), float(hi)],
            "mean_local_mass": float(m[mask].mean()) if tot else float("nan"),
            "mean_local_mass_change": float(np.nanmean(np.where(mask, dm, np.nan))) if tot else float("nan"),
        }
    return out


def check_c6(*, shapes, seeds, errors, rtol: float, cases: md.LocalCases | None = None, consistent=None,
             alpha: float = 0.05, config: dict | None = None, seed: int | None = None,
             tested: dict | None = None) -> Verdict:
    r"""C6 from the relative errors of :func:`formula_errors` (and, optionally, the training cases).

    Decisive: the printed formula and the chain rule, both with row-wise softmax, agree with
    autodiff within ``rtol`` on every (shape, seed); the first failing shape (smallest, shapes
    sorted by size) is the counterexample. Diagnostics: the column-softmax reading, and the two
    cases over training — the seed says case 1 (:math:`c > 0`) lowers attention on the local
    entry and case 2 (:math:`c < 0`) raises it; the fraction of (seed, step, window, head) in each
    case that moves :math:`A_{LL}` that way under gradient descent (sign of
    :math:`-\partial L_i/\partial A_{LL}`) gets a Clopper–Pearson interval against 1/2 (the records
    are correlated over steps, so the interval is optimistic).
    """
    shapes = np.asarray(shapes)
    E = np.asarray(errors, np.float64)
    parts, counter = [], None
    measured = {"max_rel_error": {r: float(E[..., a].max()) for a, r in enumerate(READINGS)},
                "shapes": shapes.tolist(), "rtol": rtol}
    for a, (reading, words) in enumerate((("printed_rows", "the printed formula equals autodiff (row softmax)"),
                                          ("chain_rows", "the chain rule S⊙(dS − rowsum(dS⊙S)) equals autodiff"))):
        bad = np.argwhere(E[..., a] > rtol)
        status = VIOLATED if bad.size else HOLDS
        if bad.size and counter is None:
            i, j = (int(t) for t in bad[0])
            counter = {"formula": reading, "n": int(shapes[i, 0]), "d": int(shapes[i, 1]), "d_v": int(shapes[i, 2]),
                       "seed": int(seeds[j]), "rel_error": float(E[i, j, a])}
        parts.append(Part(words, status, f"max relative error {E[..., a].max():.2e} over {E[..., a].size} cases "
                                         f"(tolerance {rtol:g}, float64)."))
    col = E[..., 2]
    fails = np.argwhere(col > rtol)
    col_words = (f"with column-wise softmax the printed row-sum term is wrong: relative error up to {col.max():.3g}"
                 + (f", smallest failing shape (n, d, d_v) = {tuple(int(t) for t in shapes[fails[0][0]])}" if fails.size else "")
                 + f"; the column-sum chain rule matches to {E[..., 3].max():.1e}.")
    parts.append(Part("column-softmax reading (diagnostic)", VIOLATED if fails.size else HOLDS, col_words, decisive=False))
    arrays = {"shapes": shapes, "errors": E}
    if cases is not None:
        summ = _case_summary(cases.alignment, cases.score_gradient, cases.local_mass, consistent, alpha)
        measured["cases"] = summ
        sts = []
        for name, way in (("case1", "lowers"), ("case2", "raises")):
            lo, hi = summ[name]["seed_direction_interval"]
            sts.append(interval_status(lo, hi, 0.5, upper=False) if summ[name]["count"] else INCONCLUSIVE)
        c1, c2 = summ["case1"], summ["case2"]
        parts.append(Part(
            "the seed's two cases over training (diagonal entry A_LL, diagnostic)", combine_status(sts),
            f"case 1 (⟨G,W_Vᵀx_L⟩ > 0) in {c1['fraction']:.0%} of records, gradient descent lowers the local score in "
            f"{c1['seed_direction']:.0%}; case 2 (< 0) in {c2['fraction']:.0%}, it raises it in {c2['seed_direction']:.0%}; "
            f"mean change of S_LL until the next record: {c1['mean_local_mass_change']:+.2e} (case 1), "
            f"{c2['mean_local_mass_change']:+.2e} (case 2).", decisive=False))
    status = combine_status(p.status for p in parts if p.decisive)
    explanation = (
        f"Reading G = ∂L/∂Attn, 1_(d×n) all ones with d the width of Attn and a row-wise softmax, the printed "
        f"dL/dW is exactly the softmax chain rule (the term (Attn⊙G)1 is rowsum(∂L/∂S⊙S)): against autodiff its "
        f"largest relative error is {E[..., 0].max():.1e} over {len(shapes)} shapes (n, d, d_v up to "
        f"{tuple(int(t) for t in shapes.max(axis=0))}, d_v ≠ d included), so the formula {'holds' if status == HOLDS else 'fails'} "
        f"as printed. The one reading under which it fails is a column-wise softmax (error up to {col.max():.2g}); "
        f"with d_v ≠ d the printed size 1_(d×n) must be read as 1_(d_v×n), the only size that multiplies.")
    return Verdict(claim="C6", status=status, explanation=explanation, measured=measured, bounds={"rtol": rtol},
                   parts=tuple(parts), counterexample=counter, tested_range=tested or {"shapes": len(shapes),
                                                                                      "seeds": [int(s) for s in seeds]},
                   config=config or {}, seed=seed, arrays=arrays)


def _split(section: dict, ctx, cid: str, *, consistent_only: bool):
    """Training windows (the first n of the pool; only sign-consistent ones when ``consistent_only``, as C5)
    and the sign-inconsistent test windows, from the data set C5 uses; ConfigError when too few."""
    ds = ctx.dataset(section["pool"], n_test=section["test_windows"], noise_std=section["noise_std"])
    cons = np.asarray(sign_consistent(ds.X, ds.y))
    idx = np.flatnonzero(cons)[: section["n"]] if consistent_only else np.arange(min(section["n"], ds.X.shape[0]))
    if idx.size < section["n"]:
        kind = "sign-consistent windows" if consistent_only else "windows"
        raise cfg.ConfigError(f"{cid}.n: only {idx.size} {kind} among {cid}.pool = {section['pool']}; "
                              f"expected n <= {idx.size} or a larger pool")
    test = ~np.asarray(sign_consistent(ds.X_test, ds.y_test))
    if test.sum() < 2:
        raise cfg.ConfigError(f"{cid}.test_windows: only {int(test.sum())} sign-inconsistent windows among "
                              f"{section['test_windows']}; expected a larger {cid}.test_windows")
    return ds.X[idx], ds.y[idx], cons[idx], ds.X_test[test], ds.y_test[test]


def preflight_c6(section: dict, ctx) -> None:
    _split(section, ctx, "C6", consistent_only=False)


def run_c6(section: dict, ctx) -> Verdict:
    shapes = random_shapes(section["shapes"], section["max_tokens"], section["max_width"], ctx.seed)
    seeds = ctx.network_seeds(section["trials"])
    errors = formula_errors(shapes, seeds, (0.3, 1.0, 3.0))
    X, y, cons, _, _ = _split(section, ctx, "C6", consistent_only=False)
    mcfg = md.ModelConfig(heads=section["heads"], key_dim=section["key_dim"])
    cases = case_statistics(mcfg, ctx.network_seeds(section["seeds"]), X, y, steps=section["steps"],
                            record_every=section["record_every"], eta=section["eta"])
    return check_c6(shapes=shapes, seeds=seeds, errors=errors, rtol=section["rtol"], cases=cases, consistent=cons,
                    alpha=section["alpha"], config={"C6": section, "data": ctx.config["data"]}, seed=ctx.seed,
                    tested={"shapes": shapes.tolist(), "trials_per_shape": section["trials"],
                            "training_seeds": section["seeds"], "steps": section["steps"], "n": section["n"]})


def plot_c6(v: Verdict, out: Path) -> list[str]:
    plt = _pyplot()
    A = v.arrays
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax = axes[0]
    E, shapes = A["errors"], A["shapes"]
    x = np.arange(len(shapes))
    floor = 1e-18  # exact zeros drawn at the floor of the log axis
    for a, (reading, style) in enumerate(zip(READINGS, ("o", "x", "s", "+"))):
        ax.plot(x, np.maximum(E[..., a].max(axis=1), floor), style, label=reading.replace("_", " "))
    ax.axhline(v.bounds.get("rtol", 1e-9), color="k", ls="--", lw=1, label="tolerance")
    ax.set_yscale("log")
    ax.set_xticks(x, [f"{n},{d},{dv}" for n, d, dv in shapes.tolist()], rotation=60, fontsize=7)
    ax.set_xlabel("shape (n tokens, d, d_v)")
    ax.set_ylabel("max relative error vs autodiff (float64)")
    ax.set_title("dL/dW: printed formula and chain rule, row / column softmax", fontsize=10)
    ax.legend(fontsize=7)
    ax = axes[1]
    cases = v.measured.get("cases")
    if cases:
        names = ("case1", "case2")
        labels = ["case 1: <G, W_Vᵀx_L> > 0\n(seed: local score falls)", "case 2: <G, W_Vᵀx_L> < 0\n(seed: local score rises)"]
        frac = [cases[k]["fraction"] for k in names]
        way = [cases[k]["seed_direction"] for k in names]
        ints = np.array([cases[k]["seed_direction_interval"] for k in names])
        ax.bar(np.arange(2) - 0.2, frac, 0.4, label="share of records", color="C0")
        ax.bar(np.arange(2) + 0.2, way, 0.4, yerr=[np.subtract(way, ints[:, 0]), np.subtract(ints[:, 1], way)],
               capsize=3, label="moves A_LL the seed's way", color="C1")
        ax.axhline(0.5, color="gray", ls=":", lw=1)
        ax.set_xticks(np.arange(2), labels, fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title("two cases over GD training (vanilla multi-dim attention)", fontsize=10)
        ax.legend(fontsize=7)
    fig.suptitle(f"C6: {v.status}", fontsize=11)
    return [_save(fig, out / "c6_gradient_formula.png")]


def summary_c6(v: Verdict) -> str:
    e = v.measured.get("max_rel_error", {})
    return (f"printed vs autodiff rel. err {e.get('printed_rows', float('nan')):.1e} (row softmax); "
            f"{e.get('printed_cols', float('nan')):.2g} (column softmax)")


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
        upd = jax.tree.map(lambda g, a, p: jnp.where(setting.adam, -setting.adam_lr * a,
                                                     -setting.gd_lr * (g + setting.weight_decay * p)),
                           grads, direction, params)
        return upd, state

    return optax.GradientTransformation(adam.init, update)


def variant_setup(name: str, section: dict) -> tuple[md.ModelConfig, OptimizerSetting]:
    """Model configuration and optimizer setting of one variant (:data:`VARIANTS`) from the C7 section."""
    base = md.ModelConfig(heads=section["heads"], key_dim=section["key_dim"], lambda_init=section["lambda_init"])
    gd = OptimizerSetting(section["eta"], section["adam_lr"], 0.0, False)
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
        mass = md.head_outputs(g, res.params, X).weights.mean(axis=0)  # (H, L): averaged over training windows
        return err, mass, res.loss[jnp.array([0, steps])]

    over_seeds = jax.vmap(one, in_axes=(None, 0))
    return jax.vmap(over_seeds, in_axes=(0, None))(settings, keys)


def train_variants(config: md.ModelConfig, settings, seeds, X, y, X_test, y_test, *, steps: int, dtype=jnp.float32):
    r"""Train one architecture under several optimizer settings and seeds (one compiled, vmapped program).

    Returns ``(sq_err (V, S, N_test), mass (V, S, H, L), loss (V, S, 2))`` for the V settings
    (:class:`OptimizerSetting`) and S seeds: squared test errors :math:`(f(x)-y)^2`, the
    data-averaged last-query attention :math:`\frac1n\sum_i S_{h,L\cdot}(x_i)`, and the training
    loss at steps 0 and T.
    """
    keys = jnp.stack([jax.random.key(int(s)) for s in seeds])
    cast = functools.partial(jnp.asarray, dtype=dtype)
    batch = OptimizerSetting(*(jnp.asarray([getattr(st, f) for st in settings], dtype=bool if f == "adam" else dtype)
                               for f in OptimizerSetting._fields))
    out = _train_eval(batch, keys, cast(X), cast(y), cast(X_test), cast(y_test), config=config, steps=steps, dtype=dtype)
    return tuple(np.asarray(o, np.float64) for o in out)


def paired_risk_bootstrap(err, err_ref=None, *, alpha: float = 0.05, resamples: int = 1000, seed: int = 0):
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
        raise ValueError(f"err_ref: expected the shape of err {e.shape} (seeds, windows), got {r.shape}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: expected a level in (0, 1), got {alpha!r}")

    def stat(rows, cols):
        return np.mean(np.log(e[np.ix_(rows, cols)].mean(1) / r[np.ix_(rows, cols)].mean(1)))

    S, N = e.shape
    rng = np.random.default_rng(seed)
    boot = np.array([stat(rng.integers(0, S, S), rng.integers(0, N, N)) for _ in range(int(resamples))])
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return float(np.exp(stat(np.arange(S), np.arange(N)))), float(np.exp(lo)), float(np.exp(hi))


def _mass_ratio(M):
    """C3's statistic per seed: L times the data-averaged last-token mass, averaged over heads (1 = uniform)."""
    M = np.asarray(M, np.float64)
    return (M.shape[-1] * M[..., -1]).mean(axis=1)


def check_c7(*, variants, sq_err, mass, linear_sq_err, noise_std: float, alpha: float = 0.05, resamples: int = 1000,
             config: dict | None = None, seed: int | None = None, tested: dict | None = None) -> Verdict:
    r"""C7 from per-variant squared OOD errors ``sq_err[v]`` (S, N) and masses ``mass[v]`` (S, H, L).

    ``variants[0]`` is the baseline. Risk ratios :math:`R/\sigma_\varepsilon^2` are geometric means
    over seeds with two-way bootstrap intervals. Decisive, per mitigation: the risk factor against
    the baseline (:func:`paired_risk_bootstrap`): HOLDS (helps) if its interval lies below 1,
    VIOLATED (hurts) if above, INCONCLUSIVE otherwise. Diagnostic, per mitigation: C3's statistic,
    the last token's data-averaged mass relative to uniform, :math:`L\,\bar S_{h,LL}` (1 = uniform)
    averaged over heads; its paired change from the baseline gets a bootstrap interval over seeds
    (HOLDS if above 0: more local attention); and the fraction of heads whose last token is the
    least attended (C3's inequality). ``linear_sq_err`` (N,) is the residual linear reference.
    """
    base = variants[0]
    var = noise_std**2
    measured = {"variants": list(variants), "noise_std": noise_std}
    intervals, parts, counter = {}, [], None
    risk = np.zeros((len(variants), 3))  # R/σ² geometric mean over seeds, lo, hi
    factor = np.full((len(variants), 3), np.nan)  # vs baseline
    mass_ratio = np.zeros((len(variants), 3))
    lin_est = bootstrap_interval(np.asarray(linear_sq_err, np.float64) / var, alpha=alpha, resamples=resamples, seed=1)
    measured["linear_risk_ratio"] = lin_est[0]
    intervals["linear_risk_ratio"] = [lin_est[1], lin_est[2]]
    base_mass = _mass_ratio(mass[base])
    for vi, name in enumerate(variants):
        e = np.asarray(sq_err[name], np.float64) / var
        risk[vi] = paired_risk_bootstrap(e, alpha=alpha, resamples=resamples, seed=vi)
        per_seed_mass = _mass_ratio(mass[name])
        mass_ratio[vi] = bootstrap_interval(per_seed_mass, alpha=alpha, resamples=resamples, seed=100 + vi)
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
        factor[vi] = paired_risk_bootstrap(sq_err[name], sq_err[base], alpha=alpha, resamples=resamples, seed=vi)
        f_est, f_lo, f_hi = factor[vi]
        measured[f"{name}/risk_factor_vs_{base}"] = f_est
        intervals[f"{name}/risk_factor_vs_{base}"] = [f_lo, f_hi]
        st = interval_status(f_lo, f_hi, 1.0, upper=True)
        if st == VIOLATED and counter is None:
            counter = {"variant": name, "risk_factor": f_est, "interval": [f_lo, f_hi], "seeds": e.shape[0]}
        words = {HOLDS: "helps", VIOLATED: "hurts", INCONCLUSIVE: "no measurable effect"}[st]
        parts.append(Part(f"{name}: OOD risk vs {base}", st,
                          f"{words}: risk × {f_est:.3g} [{f_lo:.3g}, {f_hi:.3g}] (R/σ² {risk[vi, 0]:.3g} vs {risk[0, 0]:.3g})."))
        d_est, d_lo, d_hi = bootstrap_interval(per_seed_mass - base_mass, alpha=alpha, resamples=resamples, seed=200 + vi)
        measured[f"{name}/last_mass_ratio_change"] = d_est
        intervals[f"{name}/last_mass_ratio_change"] = [d_lo, d_hi]
        mst = HOLDS if d_lo > 0 else (VIOLATED if d_hi < 0 else INCONCLUSIVE)
        parts.append(Part(f"{name}: last-token mass vs {base} (diagnostic)", mst,
                          f"L·S_LL {mass_ratio[vi, 0]:.3g} vs {mass_ratio[0, 0]:.3g} (1 = uniform), change {d_est:+.3g} "
                          f"[{d_lo:+.3g}, {d_hi:+.3g}]; last token least attended in {least:.0%} of heads.", decisive=False))
    if not parts:
        raise ValueError(f"variants: expected the baseline and at least one mitigation, got {list(variants)}")
    status = combine_status(p.status for p in parts if p.decisive)
    others = list(enumerate(variants))[1:]
    helps = [(n, factor[i]) for i, n in others if factor[i, 2] < 1]
    hurts = [(n, factor[i]) for i, n in others if factor[i, 1] > 1]
    unclear = [n for i, n in others if factor[i, 1] <= 1 <= factor[i, 2]]
    fmt = lambda items: ", ".join(f"{n} (risk × {f[0]:.2g}, [{f[1]:.2g}, {f[2]:.2g}])" for n, f in items)  # noqa: E731
    best = int(np.argmin(risk[:, 0]))
    explanation = (
        f"Trained on sign-consistent next-step windows and tested on sign-inconsistent ones, vanilla attention's "
        f"risk is {risk[0, 0]:.3g} σ² against {lin_est[0]:.3g} σ² for the residual linear net. "
        + (f"Measurably helps: {fmt(helps)}. " if helps else "No mitigation measurably lowers the risk. ")
        + (f"Measurably hurts: {fmt(hurts)}. " if hurts else "")
        + (f"No measurable effect: {', '.join(unclear)}. " if unclear else "")
        + f"The best variant ({variants[best]}, {risk[best, 0]:.3g} σ²) stays "
          f"{'above' if risk[best, 1] > lin_est[2] else 'within reach of'} the linear reference; the last token's "
          f"data-averaged mass is {mass_ratio[:, 0].min():.2g}–{mass_ratio[:, 0].max():.2g} × uniform across variants.")
    arrays = {"risk_ratio": risk, "risk_factor": factor, "last_mass_ratio": mass_ratio,
              "linear_risk_ratio": np.asarray(lin_est)}
    return Verdict(claim="C7", status=status, explanation=explanation, measured=measured, intervals=intervals,
                   bounds={"no_effect_factor": 1.0}, parts=tuple(parts), counterexample=counter,
                   tested_range=tested or {}, config=config or {}, seed=seed, arrays=arrays)


def preflight_c7(section: dict, ctx):
    """Settings the variants cannot use, and too few windows, refused before any claim runs."""
    if "rope" in section["variants"] and section["key_dim"] % 2:
        raise cfg.ConfigError(f"C7.key_dim: RoPE rotates coordinate pairs; expected an even key_dim, got {section['key_dim']}")
    d = ctx.config["data"]["d"]
    if "patching" in section["variants"] and section["patch_len"] > d:
        raise cfg.ConfigError(f"C7.patch_len: expected a patch no longer than the window, data.d = {d}, "
                              f"got {section['patch_len']}")
    return _split(section, ctx, "C7", consistent_only=True)


def run_c7(section: dict, ctx) -> Verdict:
    X, y, _, Xt, yt = preflight_c7(section, ctx)
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
        err, ms, _ = train_variants(model_cfg, [st for _, st in members], seeds, X, y, Xt, yt, steps=section["steps"],
                                    dtype=dtype)
        for k, (name, _) in enumerate(members):
            sq_err[name], mass[name] = err[k], ms[k]
        bar.update(1)
    bar.close()
    lin_err = np.asarray((lin.linear_forward(lin.fit_linear_lstsq(X, y), Xt) - yt) ** 2)
    v = check_c7(variants=variants, sq_err=sq_err, mass=mass, linear_sq_err=lin_err, noise_std=section["noise_std"],
                 alpha=section["alpha"], resamples=section["resamples"], config={"C7": section, "data": ctx.config["data"]},
                 seed=ctx.seed, tested={"variants": list(variants), "seeds": seeds, "n": int(X.shape[0]),
                                        "test_windows": int(Xt.shape[0]), "steps": section["steps"]})
    return v


def plot_c7(v: Verdict, out: Path) -> list[str]:
    plt = _pyplot()
    A = v.arrays
    names = list(v.measured.get("variants", [f"v{i}" for i in range(len(A["risk_ratio"]))]))
    x = np.arange(len(names))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))

    def bars(ax, rows, color):
        ax.errorbar(x, rows[:, 0], yerr=[rows[:, 0] - rows[:, 1], rows[:, 2] - rows[:, 0]], fmt="o", color=color, capsize=4)
        ax.set_xticks(x, names, rotation=25, fontsize=8)

    ax = axes[0]
    bars(ax, A["risk_ratio"], "C3")
    lr = A["linear_risk_ratio"]
    ax.axhspan(lr[1], lr[2], color="C0", alpha=0.25, label=f"residual linear {lr[0]:.3g} (interval)")
    ax.axhline(1.0, color="gray", ls=":", lw=1, label="noise floor R = σ²")
    ax.set_yscale("log")
    ax.set_ylabel("OOD risk R/σ² (geometric mean over seeds)")
    ax.set_title("risk on sign-inconsistent windows", fontsize=10)
    ax.legend(fontsize=7)
    ax = axes[1]
    f = A["risk_factor"]
    colors = ["C2" if r[2] < 1 else ("C3" if r[1] > 1 else "gray") for r in f]
    for i in range(1, len(names)):
        ax.errorbar([x[i]], [f[i, 0]], yerr=[[f[i, 0] - f[i, 1]], [f[i, 2] - f[i, 0]]], fmt="o", color=colors[i], capsize=4)
    ax.axhline(1.0, color="k", ls="--", lw=1, label="no effect")
    ax.set_xticks(x, names, rotation=25, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel(f"risk relative to {names[0]} (paired)")
    ax.set_title("effect of each mitigation (green: helps, red: hurts)", fontsize=10)
    ax.legend(fontsize=7)
    ax = axes[2]
    bars(ax, A["last_mass_ratio"], "C4")
    ax.axhline(1.0, color="gray", ls=":", lw=1, label="uniform attention")
    ax.set_ylabel("L × mean last-token mass S_LL")
    ax.set_title("attention on the most recent token (C3's statistic)", fontsize=10)
    ax.legend(fontsize=7)
    fig.suptitle(f"C7: mitigations of asymmetric learning, 95% bootstrap intervals ({v.status})", fontsize=11)
    return [_save(fig, out / "c7_mitigations.png")]


def summary_c7(v: Verdict) -> str:
    names = v.measured.get("variants", [])
    f = v.arrays.get("risk_factor")
    if f is None or not names:
        return ""
    helps = [f"{n} ×{f[i, 0]:.2g}" for i, n in enumerate(names) if i and f[i, 2] < 1]
    return "helps: " + (", ".join(helps) if helps else "none") + f"; vanilla R/σ² {v.arrays['risk_ratio'][0, 0]:.3g}"


# ---------------------------------------------------------------------------------------------- registration

_ALPHA = cfg.probability(0.05, "level of every interval (1 - alpha coverage)")


def _data_fields(n: int) -> dict:
    """The shared C5 data set (same defaults as [C5], so one run builds it once)."""
    return {
        "n": cfg.positive_int(n, "training windows", minimum=2),
        "pool": cfg.positive_int(96, "windows scanned for training examples (as C5.pool)", minimum=4),
        "test_windows": cfg.positive_int(200, "test windows (as C5.test_windows)", minimum=4),
        "noise_std": cfg.positive_float(0.1, "observation noise σ_ε on targets (as C5.noise_std)"),
    }


def _variants_list(v):
    if not isinstance(v, (list, tuple)) or len(v) < 2 or v[0] != "vanilla":
        raise TypeError
    if any(x not in VARIANTS for x in v) or len(set(v)) != len(v):
        raise ValueError
    return list(v)


register_claim(Claim(
    id="C6", source="seed §3.1", title="multi-dimensional attention gradient as printed",
    statement=r"\frac{dL}{dW} = X^\top\big(S\odot(G W_V^\top X^\top - (\mathrm{Attn}(X,W)\odot G)1_{d\times n})\big)X,"
              r"\ S=\mathrm{softmax}(XWX^\top),\ W=W_QW_K^\top/\sqrt d",
    params={"shapes": cfg.positive_int(6, "random shapes (n tokens, d, d_v) tested", minimum=2, maximum=64),
            "max_tokens": cfg.positive_int(12, "largest token count n", minimum=2),
            "max_width": cfg.positive_int(6, "largest d and d_v", minimum=2),
            "trials": cfg.positive_int(3, "random draws per shape (score scales 0.3, 1, 3 in turn)"),
            "rtol": cfg.positive_float(1e-9, "relative tolerance against autodiff (float64)"),
            **_data_fields(32),
            "heads": cfg.positive_int(4, "attention heads of the trained model"),
            "key_dim": cfg.positive_int(2, "query/key width d_k"),
            "steps": cfg.positive_int(300, "gradient-descent steps"),
            "record_every": cfg.positive_int(50, "record the two cases every k steps (a divisor of steps)"),
            "eta": cfg.positive_float(0.1, "learning rate (loss 1/(2n) Σ (f - y)²)"),
            "seeds": cfg.positive_int(3, "training seeds", maximum=64),
            "alpha": _ALPHA},
    run=run_c6, check=check_c6, plot=plot_c6, summary=summary_c6, preflight=preflight_c6,
))

register_claim(Claim(
    id="C7", source="seed §3.2", title="differential attention, RoPE, patching, Adam, weight decay mitigate",
    statement=r"(S_1-\lambda S_2)XW_V,\ \mathrm{RoPE},\ \mathcal P(x)\in\mathbb R^{L\times P},\ \text{Adam},\ "
              r"\text{weight decay}:\ R_{\mathrm{OOD}}\downarrow,\ \mathbb E[S_{LL}]\uparrow",
    params={**_data_fields(32),
            "variants": cfg.Field(list(VARIANTS), "variants to compare; the first is the baseline",
                                  f"a list starting with 'vanilla' of distinct names from {', '.join(VARIANTS)}",
                                  _variants_list),
            "seeds": cfg.positive_int(5, "seeds per variant (the same for every variant: paired)", minimum=2, maximum=64),
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
            "alpha": _ALPHA},
    run=run_c7, check=check_c7, plot=plot_c7, summary=summary_c7, preflight=preflight_c7,
))
