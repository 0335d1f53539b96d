r"""What C6's run measures: dL/dW by the printed formula, the chain rule and :func:`jax.grad` on
random shapes and score scales (float64), and the seed's two cases over gradient-descent training
of the vanilla multi-dimensional model on state-space windows — the inputs of
:func:`check_c6`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ntk_attention import multidim as md
from verification.claims._common import ood_split
from verification.claims.c6_gradient_formula._rule import READINGS, check_c6
from verification.contract import memory_bytes
from verification.rules._verdict import Verdict


def random_shapes(count: int, max_tokens: int, max_width: int, seed: int) -> np.ndarray:
    """``count`` distinct (n tokens, d, d_v) sorted by size, always including (2, 1, 1) and a
    d_v != d one.

    >>> shapes = random_shapes(5, max_tokens=6, max_width=3, seed=0)
    >>> shapes.shape, [2, 1, 1] in shapes.tolist(), [3, 2, 3] in shapes.tolist()
    ((5, 3), True, True)
    """
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
    """(autodiff, printed, chain rule) dL/dW for L = 1/2 |Attn - Y|^2, G = Attn - Y; rows then
    columns softmax."""
    out = []
    for axis in ("keys", "queries"):
        G = md.attention(X, W, W_V, softmax_axis=axis) - Y
        auto = jax.grad(
            lambda W_, axis=axis: (
                0.5 * jnp.sum((md.attention(X, W_, W_V, softmax_axis=axis) - Y) ** 2)
            )
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

    Columns :data:`._rule.READINGS`. Case (shape, seed j): :math:`X, W_V, Y` standard normal,
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
    r""":class:`~ntk_attention.multidim.LocalCases` at steps 0, k, …, T of gradient descent,
    (S, R, n, H).

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


def preflight_c6(section: dict, ctx) -> None:
    """Fail before any training (ConfigError) when the data cannot give C6 its n training windows
    (:func:`verification.claims._common.ood_split`)."""
    ood_split(section, ctx, "C6", consistent_only=False)


def evidence_c6(section: dict, ctx) -> dict:
    """Measure what :func:`check_c6` reads; returns its keyword arguments."""
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
    return dict(
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


def run_c6(section: dict, ctx) -> Verdict:
    """C6's verdict on the configured run: :func:`check_c6` of what ``evidence_c6`` measures."""
    return check_c6(**evidence_c6(section, ctx))


def memory_c6(section: dict, data: dict) -> tuple[int, str]:
    """Peak memory growth: the attention matrices of the largest shape and the windows (the small
    models' compiled programs are in :data:`verification.pipeline.BASELINE_BYTES`; measured
    40 MiB)."""
    return memory_bytes(
        d=data["d"],
        n=section["n"],
        tokens=section["max_tokens"],
        token_width=section["max_width"],
        windows=section["pool"] + section["test_windows"],
    )
