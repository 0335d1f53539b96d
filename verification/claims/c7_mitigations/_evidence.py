r"""What C7's run measures: the multi-dimensional model trained in each variant over the same
seeds (the variants that share an architecture in one compiled, vmapped program), their squared
errors on the sign-inconsistent test windows and their last-query attention, the residual linear
reference and the series' own noise — the inputs of
:func:`~verification.claims.c7_mitigations.check_c7`; the memory estimate and a constructed input
whose verdict is known."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ntk_attention import linear as lin
from ntk_attention import multidim as md
from verification import config as cfg
from verification.claims._common import ood_premise_verdict, ood_split, own_noise_variance
from verification.claims.c7_mitigations._rule import check_c7
from verification.claims.c7_mitigations._variants import (
    OptimizerSetting,
    optimizer_family,
    variant_setup,
)
from verification.contract import memory_bytes
from verification.rules._verdict import VIOLATED, Verdict


@functools.partial(jax.jit, static_argnames=("config", "steps", "dtype"))
def _train_eval(settings, keys, X, y, X_test, y_test, *, config, steps, dtype):
    def one(setting, key):
        g, p = md.init_model(config, key, dtype=dtype)
        res = md.fit(g, p, X, y, optimizer=optimizer_family(setting), steps=steps)
        err = (md.apply_model(g, res.params, X_test) - y_test) ** 2
        # (H, L): averaged over training windows
        mass = md.head_outputs(g, res.params, X).weights.mean(axis=0)
        return err, mass, res.loss[jnp.array([0, steps])]

    over_seeds = jax.vmap(one, in_axes=(None, 0))
    return jax.vmap(over_seeds, in_axes=(0, None))(settings, keys)


def train_variants(
    config: md.ModelConfig, settings, seeds, X, y, X_test, y_test, *, steps: int, dtype=jnp.float32
):
    r"""Train one architecture under several optimizer settings and seeds (one compiled, vmapped
    program).

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


def preflight_c7(section: dict, ctx):
    """Settings the variants cannot use, and too few windows, refused before any claim runs."""
    if "rope" in section["variants"] and section["key_dim"] % 2:
        raise cfg.ConfigError(
            "C7.key_dim: RoPE rotates coordinate pairs; expected an even key_dim, got "
            f"{section['key_dim']}"
        )
    d = ctx.config["data"]["d"]
    if "patching" in section["variants"] and section["patch_len"] > d:
        raise cfg.ConfigError(
            f"C7.patch_len: expected a patch no longer than the window, data.d = {d}, "
            f"got {section['patch_len']}"
        )
    return ood_split(section, ctx, "C7", consistent_only=True)


def variant_errors(section: dict, seeds, split, ctx) -> tuple[dict, dict]:
    """Squared test errors (S, N) and masses (S, H, L) per variant, the variants that share an
    architecture trained together."""
    groups: dict[md.ModelConfig, list] = {}
    for name in section["variants"]:
        model_cfg, setting = variant_setup(name, section)
        groups.setdefault(model_cfg, []).append((name, setting))
    sq_err, mass = {}, {}
    bar = ctx.progress("C7 mitigations", len(groups))
    for model_cfg, members in groups.items():
        err, ms, _ = train_variants(
            model_cfg,
            [st for _, st in members],
            seeds,
            split.X,
            split.y,
            split.X_test,
            split.y_test,
            steps=section["steps"],
            dtype=jnp.dtype(section["dtype"]),
        )
        for k, (name, _) in enumerate(members):
            sq_err[name], mass[name] = err[k], ms[k]
        bar.update(1)
    bar.close()
    return sq_err, mass


def evidence_c7(section: dict, ctx, split) -> dict:
    """The keyword arguments of :func:`check_c7` measured on ``split``: every variant's errors
    and masses, the residual linear net's errors and σ_0² from the pool's noise-free windows."""
    X, y, Xt, yt = split.X, split.y, split.X_test, split.y_test
    seeds = ctx.network_seeds(section["seeds"])
    sq_err, mass = variant_errors(section, seeds, split, ctx)
    lin_err = np.asarray((lin.linear_forward(lin.fit_linear_lstsq(X, y), Xt) - yt) ** 2)
    pool = ctx.dataset(section["pool"], n_test=section["test_windows"], noise_std=0.0)
    return dict(
        variants=section["variants"],
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
            "variants": list(section["variants"]),
            "seeds": seeds,
            "n": int(X.shape[0]),
            "test_windows": int(Xt.shape[0]),
            "scanned_windows": split.scanned,
            "test_set": split.how,
            "steps": section["steps"],
        },
    )


def run_c7(section: dict, ctx) -> Verdict:
    """C7's verdict: VACUOUS with fewer than ``min_ood_windows`` sign-inconsistent test windows,
    else :func:`check_c7` on what :func:`evidence_c7` measures."""
    split = preflight_c7(section, ctx)
    if split.X_test.shape[0] < section["min_ood_windows"]:
        return ood_premise_verdict(
            "C7",
            split.X_test.shape[0],
            split.scanned,
            section["min_ood_windows"],
            config={"C7": section, "data": ctx.config["data"]},
            seed=ctx.seed,
        )
    return check_c7(**evidence_c7(section, ctx, split))


def memory_c7(section: dict, data: dict) -> tuple[int, str]:
    """Peak memory growth: the windows of the pool and test set (the small models' compiled
    programs are in :data:`verification.pipeline.BASELINE_BYTES`; measured 75 MiB)."""
    return memory_bytes(
        d=data["d"], n=section["n"], windows=section["pool"] + section["test_windows"]
    )


def example_check_input() -> tuple[dict, str]:
    r"""Keyword arguments of :func:`check_c7` whose verdict is known, and that verdict: patching
    divides the risk by 3 (mitigates), Adam multiplies it by 3 (shown not to mitigate by
    Δ = 0.1): VIOLATED."""
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
