r"""C6 (seed §3.1): the printed gradient of multi-dimensional attention.

**Statement.** For :math:`\mathrm{Attn}(X, W) = S X W_V`, :math:`S = \mathrm{softmax}(X W X^\top)`, the seed
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

**Verdict rule** (:func:`check_c6`). HOLDS when every relative error against autodiff is within
``rtol`` (float64), VIOLATED at the first shape and draw beyond it (docs/theory.md, "C6"); the case
counts over training are diagnostics.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ntk_attention import multidim as md
from verification import config as cfg
from verification.claims._common import (
    ALPHA,
    interval_status,
    ood_data_fields,
    ood_split,
    pyplot,
    save_figure,
)
from verification.contract import Claim, memory_bytes
from verification.rules import clopper_pearson
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

READINGS = ("printed_rows", "chain_rows", "printed_cols", "chain_cols")
"""Columns of :func:`formula_errors`: formula × softmax axis (rows = keys, cols = queries)."""


# ---------------------------------------------------------------------------------------------- C6


def random_shapes(count: int, max_tokens: int, max_width: int, seed: int) -> np.ndarray:
    """``count`` distinct (n tokens, d, d_v) sorted by size, always including (2, 1, 1) and a d_v != d one."""
    rng = np.random.default_rng(seed)
    shapes = {(2, 1, 1), (3, 2, 3)}
    while len(shapes) < count:
        shapes.add(
            (
                int(rng.integers(1, max_tokens + 1)),
                int(rng.integers(1, max_width + 1)),
                int(rng.integers(1, max_width + 1)),
            )
        )
    return np.array(sorted(shapes, key=lambda s: (s[0] * s[1] * s[2], s)), dtype=np.int64)


@jax.jit
def _gradients(X, W, W_V, Y):
    """(autodiff, printed, chain rule) dL/dW for L = 1/2 |Attn - Y|^2, G = Attn - Y; rows then columns softmax."""
    out = []
    for axis in ("keys", "queries"):
        G = md.attention(X, W, W_V, softmax_axis=axis) - Y
        auto = jax.grad(
            lambda W_: 0.5 * jnp.sum((md.attention(X, W_, W_V, softmax_axis=axis) - Y) ** 2)
        )(W)
        out += [
            auto,
            md.printed_attention_gradient(X, W, W_V, G, softmax_axis=axis),
            md.attention_gradient(X, W, W_V, G, softmax_axis=axis),
        ]
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
                X, Z, W_V, Y = (
                    rng.standard_normal(sh) for sh in ((n, d), (d, d), (d, dv), (n, dv))
                )
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


def case_statistics(
    config: md.ModelConfig,
    seeds,
    X,
    y,
    *,
    steps: int,
    record_every: int,
    eta: float,
    dtype=jnp.float32,
) -> md.LocalCases:
    r""":class:`~ntk_attention.multidim.LocalCases` at steps 0, k, …, T of gradient descent, (S, R, n, H).

    Full-batch GD (``optax.sgd(eta)``) on :math:`\frac1{2n}\sum_i(f(x_i)-y_i)^2`, run in segments
    of ``record_every`` steps (GD has no state, so the segments are the uninterrupted run).
    """
    keys = jnp.stack([jax.random.key(int(s)) for s in seeds])
    return _cases_over_training(
        keys,
        jnp.asarray(X, dtype),
        jnp.asarray(y, dtype),
        config=config,
        segments=steps // record_every,
        every=record_every,
        eta=float(eta),
        dtype=dtype,
    )


def _case_summary(alignment, score_gradient, local_mass, consistent, alpha):
    """Per case (c > 0, c < 0): counts, the fraction moving A_LL the seed's way, its interval, mean ΔS_LL."""
    c = np.asarray(alignment, np.float64)
    g = np.asarray(score_gradient, np.float64)
    m = np.asarray(local_mass, np.float64)
    dm = np.concatenate(
        [m[:, 1:] - m[:, :-1], np.full_like(m[:, :1], np.nan)], axis=1
    )  # change until the next record
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
            "mean_local_mass_change": float(np.nanmean(np.where(mask, dm, np.nan)))
            if tot
            else float("nan"),
        }
    return out


def check_c6(
    *,
    shapes,
    seeds,
    errors,
    rtol: float,
    cases: md.LocalCases | None = None,
    consistent=None,
    alpha: float = 0.05,
    config: dict | None = None,
    seed: int | None = None,
    tested: dict | None = None,
) -> Verdict:
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
    measured = {
        "max_rel_error": {r: float(E[..., a].max()) for a, r in enumerate(READINGS)},
        "shapes": shapes.tolist(),
        "rtol": rtol,
    }
    for a, (reading, words) in enumerate(
        (
            ("printed_rows", "the printed formula equals autodiff (row softmax)"),
            ("chain_rows", "the chain rule S⊙(dS − rowsum(dS⊙S)) equals autodiff"),
        )
    ):
        bad = np.argwhere(E[..., a] > rtol)
        status = VIOLATED if bad.size else HOLDS
        if bad.size and counter is None:
            i, j = (int(t) for t in bad[0])
            counter = {
                "formula": reading,
                "n": int(shapes[i, 0]),
                "d": int(shapes[i, 1]),
                "d_v": int(shapes[i, 2]),
                "seed": int(seeds[j]),
                "rel_error": float(E[i, j, a]),
            }
        parts.append(
            Part(
                words,
                status,
                f"max relative error {E[..., a].max():.2e} over {E[..., a].size} cases "
                f"(tolerance {rtol:g}, float64).",
                why="" if status == HOLDS else f"relative error {E[..., a].max():.2g} > {rtol:g}",
            )
        )
    col = E[..., 2]
    fails = np.argwhere(col > rtol)
    col_words = (
        f"with column-wise softmax the printed row-sum term is wrong: relative error up to {col.max():.3g}"
        + (
            f", smallest failing shape (n, d, d_v) = {tuple(int(t) for t in shapes[fails[0][0]])}"
            if fails.size
            else ""
        )
        + f"; the column-sum chain rule matches to {E[..., 3].max():.1e}."
    )
    parts.append(
        Part(
            "column-softmax reading (diagnostic)",
            VIOLATED if fails.size else HOLDS,
            col_words,
            decisive=False,
        )
    )
    arrays = {"shapes": shapes, "errors": E}
    if cases is not None:
        summ = _case_summary(
            cases.alignment, cases.score_gradient, cases.local_mass, consistent, alpha
        )
        measured["cases"] = summ
        sts = []
        for name, way in (("case1", "lowers"), ("case2", "raises")):
            lo, hi = summ[name]["seed_direction_interval"]
            sts.append(
                interval_status(lo, hi, 0.5, upper=False) if summ[name]["count"] else INCONCLUSIVE
            )
        c1, c2 = summ["case1"], summ["case2"]
        parts.append(
            Part(
                "the seed's two cases over training (diagonal entry A_LL, diagnostic)",
                combine_status(sts),
                f"case 1 (⟨G,W_Vᵀx_L⟩ > 0) in {c1['fraction']:.0%} of records, gradient descent lowers the local score in "
                f"{c1['seed_direction']:.0%}; case 2 (< 0) in {c2['fraction']:.0%}, it raises it in {c2['seed_direction']:.0%}; "
                f"mean change of S_LL until the next record: {c1['mean_local_mass_change']:+.2e} (case 1), "
                f"{c2['mean_local_mass_change']:+.2e} (case 2).",
                decisive=False,
            )
        )
    status = combine_parts(parts)
    worst = float(E[..., :2].max())
    big = tuple(int(t) for t in shapes.max(axis=0))
    observed = Observed(
        status=status,
        rule=(
            f"max relative error against jax.grad ≤ rtol = {rtol:g} on every (shape, draw), float64: a deterministic "
            "identity check (no sampling error, so no size or power to calibrate; a wrong formula fails by O(1))"
        ),
        scale=(
            f"{len(shapes)} shapes (n, d, d_v) up to {big}, d_v ≠ d included, {E.shape[1]} draws each "
            f"(score scales 0.3, 1, 3 in turn), row-wise softmax"
        ),
        finding=(
            f"the printed dL/dW equals autodiff to {worst:.1e} at every size tried"
            if status == HOLDS
            else f"the printed dL/dW differs from autodiff by up to {worst:.2g}"
        ),
        looseness={
            "max_rel_error": worst,
            "orders_below_tolerance": float(np.log10(rtol / worst)) if worst > 0 else float("inf"),
        },
    )
    explanation = (
        f"Reading G = ∂L/∂Attn, 1_(d×n) all ones with d the width of Attn and a row-wise softmax, the printed "
        f"dL/dW is exactly the softmax chain rule (the term (Attn⊙G)1 is rowsum(∂L/∂S⊙S)): against autodiff its "
        f"largest relative error is {E[..., 0].max():.1e} over {len(shapes)} shapes (n, d, d_v up to "
        f"{tuple(int(t) for t in shapes.max(axis=0))}, d_v ≠ d included), so the formula {'holds' if status == HOLDS else 'fails'} "
        f"as printed. The one reading under which it fails is a column-wise softmax (error up to {col.max():.2g}); "
        f"with d_v ≠ d the printed size 1_(d×n) must be read as 1_(d_v×n), the only size that multiplies."
    )
    return Verdict(
        claim="C6",
        status=status,
        explanation=explanation,
        measured=measured,
        bounds={"rtol": rtol},
        parts=tuple(parts),
        counterexample=counter,
        tested_range=tested or {"shapes": len(shapes), "seeds": [int(s) for s in seeds]},
        config=config or {},
        seed=seed,
        arrays=arrays,
        observed=observed,
    )


def preflight_c6(section: dict, ctx) -> None:
    ood_split(section, ctx, "C6", consistent_only=False)


def run_c6(section: dict, ctx) -> Verdict:
    shapes = random_shapes(section["shapes"], section["max_tokens"], section["max_width"], ctx.seed)
    seeds = ctx.network_seeds(section["trials"])
    errors = formula_errors(shapes, seeds, (0.3, 1.0, 3.0))
    X, y, cons = ood_split(section, ctx, "C6", consistent_only=False)[:3]
    mcfg = md.ModelConfig(heads=section["heads"], key_dim=section["key_dim"])
    cases = case_statistics(
        mcfg,
        ctx.network_seeds(section["seeds"]),
        X,
        y,
        steps=section["steps"],
        record_every=section["record_every"],
        eta=ctx.step_size(section),
    )
    return check_c6(
        shapes=shapes,
        seeds=seeds,
        errors=errors,
        rtol=section["rtol"],
        cases=cases,
        consistent=cons,
        alpha=section["alpha"],
        config={"C6": section, "data": ctx.config["data"]},
        seed=ctx.seed,
        tested={
            "shapes": shapes.tolist(),
            "trials_per_shape": section["trials"],
            "training_seeds": section["seeds"],
            "steps": section["steps"],
            "n": section["n"],
        },
    )


def plot_c6(v: Verdict, out: Path) -> list[str]:
    plt = pyplot()
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
        labels = [
            "case 1: <G, W_Vᵀx_L> > 0\n(seed: local score falls)",
            "case 2: <G, W_Vᵀx_L> < 0\n(seed: local score rises)",
        ]
        frac = [cases[k]["fraction"] for k in names]
        way = [cases[k]["seed_direction"] for k in names]
        ints = np.array([cases[k]["seed_direction_interval"] for k in names])
        ax.bar(np.arange(2) - 0.2, frac, 0.4, label="share of records", color="C0")
        ax.bar(
            np.arange(2) + 0.2,
            way,
            0.4,
            yerr=[np.subtract(way, ints[:, 0]), np.subtract(ints[:, 1], way)],
            capsize=3,
            label="moves A_LL the seed's way",
            color="C1",
        )
        ax.axhline(0.5, color="gray", ls=":", lw=1)
        ax.set_xticks(np.arange(2), labels, fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title("two cases over GD training (vanilla multi-dim attention)", fontsize=10)
        ax.legend(fontsize=7)
    fig.suptitle(f"C6: {v.status}", fontsize=11)
    return [save_figure(fig, out / "c6_gradient_formula.png")]


def summary_c6(v: Verdict) -> str:
    e = v.measured.get("max_rel_error", {})
    return (
        f"printed vs autodiff rel. err {e.get('printed_rows', float('nan')):.1e} (row softmax); "
        f"{e.get('printed_cols', float('nan')):.2g} (column softmax)"
    )


def example_check_input() -> tuple[dict, str]:
    r"""Keyword arguments of :func:`check_c6` whose verdict is known, and that verdict: the printed
    formula off by 0.3 at the shape (3, 2, 3): VIOLATED."""
    shapes = np.array([[2, 1, 1], [3, 2, 3], [5, 3, 3]])
    errors = np.full((3, 2, 4), 1e-15)
    errors[1, 1, 0] = 0.3
    arr = (
        np.array([[1.0, -1.0], [2.0, -0.5], [0.3, -2.0]]),
        np.array([[0.1, -0.2], [-0.1, 0.3], [0.2, -0.1]]),
        np.array([[0.1, 0.2], [0.15, 0.1], [0.2, 0.4]]),
    )
    cases = md.LocalCases(*(a[None, :, :, None] for a in arr))
    return dict(
        shapes=shapes, seeds=[7, 8], errors=errors, rtol=1e-9, cases=cases, consistent=[True, False]
    ), VIOLATED


def memory_c6(section: dict, data: dict) -> tuple[int, str]:
    """Peak memory growth: the attention matrices of the largest shape and the windows (the small models'
    compiled programs are in :data:`verification.pipeline.BASELINE_BYTES`; measured 40 MiB)."""
    return memory_bytes(
        d=data["d"],
        n=section["n"],
        tokens=section["max_tokens"],
        token_width=section["max_width"],
        windows=section["pool"] + section["test_windows"],
    )


CLAIM = Claim(
    id="C6",
    source="seed §3.1",
    title="multi-dimensional attention gradient as printed",
    statement=r"\frac{dL}{dW} = X^\top\big(S\odot(G W_V^\top X^\top - (\mathrm{Attn}(X,W)\odot G)1_{d\times n})\big)X,"
    r"\ S=\mathrm{softmax}(XWX^\top),\ W=W_QW_K^\top/\sqrt d",
    params={
        "shapes": cfg.positive_int(
            6, "random shapes (n tokens, d, d_v) tested", minimum=2, maximum=64
        ),
        "max_tokens": cfg.positive_int(12, "largest token count n", minimum=2),
        "max_width": cfg.positive_int(6, "largest d and d_v", minimum=2),
        "trials": cfg.positive_int(3, "random draws per shape (score scales 0.3, 1, 3 in turn)"),
        "rtol": cfg.positive_float(1e-9, "relative tolerance against autodiff (float64)"),
        **ood_data_fields(32),
        "heads": cfg.positive_int(4, "attention heads of the trained model"),
        "key_dim": cfg.positive_int(2, "query/key width d_k"),
        "steps": cfg.positive_int(300, "gradient-descent steps"),
        "record_every": cfg.positive_int(
            50, "record the two cases every k steps (a divisor of steps)"
        ),
        "eta": cfg.positive_float(0.1, "learning rate (loss 1/(2n) Σ (f - y)²)"),
        "seeds": cfg.positive_int(3, "training seeds", maximum=64),
        "alpha": ALPHA,
    },
    run=run_c6,
    check=check_c6,
    plot=plot_c6,
    summary=summary_c6,
    memory=memory_c6,
    preflight=preflight_c6,
)
