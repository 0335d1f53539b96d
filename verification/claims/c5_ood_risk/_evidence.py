r"""What C5's run measures: the paper's network and the residual linear network trained on
sign-consistent windows and tested on sign-inconsistent ones — squared errors over sizes × steps
at ``noise_std`` and the risks over the noise sweep, the same noise draws scaled at every level
(common random numbers), and the series' own noise :math:`\sigma_0^2` — the inputs of
:func:`~verification.claims.c5_ood_risk.check_c5`; the declared training, the memory estimate
and a constructed input whose verdict is known."""

from __future__ import annotations

import math

import jax
import numpy as np

from ntk_attention import Params, forward, init_params
from ntk_attention import linear as lin
from verification.claims._common import ood_premise_verdict, ood_split, own_noise_variance
from verification.claims.c5_ood_risk._pool import SYNTHETIC_POOL, finite_source, pool_size
from verification.claims.c5_ood_risk._rule import check_c5
from verification.contract import StepSize, TrainingRun, memory_bytes, memory_sum, train_bytes
from verification.rules._verdict import HOLDS, Verdict


def _section_n(section: dict, ctx) -> dict:
    """C5's section as :func:`ood_split` reads it: n = the largest training size, ``pool`` the
    pool sized from the data (:func:`pool_size`)."""
    return {**section, "n": max(section["sizes"]), "pool": pool_size(section, ctx.config["data"])}


def preflight_c5(section: dict, ctx) -> None:
    """Too few windows for the largest training size, refused before any claim runs."""
    ood_split(_section_n(section, ctx), ctx, "C5", consistent_only=True, n_key="sizes")


def _noise(seed: int, shape, stream: int) -> np.ndarray:
    """Standard normal noise of one seed (the same draws at every level: common random numbers)."""
    return np.random.default_rng([int(seed), stream]).standard_normal(shape)


def _targets(split, seeds):
    """Every run's targets: the noise-free targets plus σ times one draw per seed (common random
    numbers), so the grid's largest-size run at σ = noise_std is also the sweep's run at that
    level. Returns ``targets(seed, σ, n) -> (y, y_test)``."""
    noise = {
        s: (_noise(s, split.y_clean.shape, 0), _noise(s, split.y_test_clean.shape, 1))
        for s in seeds
    }

    def targets(s, sd, n):
        return split.y_clean[:n] + sd * noise[s][0][:n], split.y_test_clean + sd * noise[s][1]

    return targets


def _fitter(section: dict, ctx, bar):
    """``fit(X, y, seed, steps, record_every) -> (params, trajectory)``: one run of the paper's
    network through ``ctx`` (its step size resolved once, at every size), ticking ``bar``."""
    sigma = ctx.sigma()
    eta = ctx.step_size(section, sizes=section["sizes"], sigma=sigma)

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

    return fit


def grid_errors(section: dict, split, seeds, fit, targets, att_risk, lin_risk):
    """Squared test errors at ``noise_std`` per size and step: attention (N_test, S) and the
    linear net (N_test, S) per ``[size][step]``; the largest size's risks fill the sweep's level
    equal to ``noise_std`` in ``att_risk`` and ``lin_risk`` (levels, seeds)."""
    sizes, steps_list, Xt = section["sizes"], section["steps"], split.X_test
    T, every, n_max = max(steps_list), math.gcd(*steps_list), max(sizes)
    shared = [k for k, sd in enumerate(section["noise_levels"]) if sd == section["noise_std"]]
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
    return att, lin_err


def noise_sweep(section: dict, split, seeds, fit, targets, att_risk, lin_risk) -> None:
    """The risks at the other noise levels, at the largest size and step count, into
    ``att_risk`` and ``lin_risk`` (levels, seeds) where they are still NaN."""
    n_max, T, Xt = max(section["sizes"]), max(section["steps"]), split.X_test
    X = split.X[:n_max]
    for si, s in enumerate(seeds):
        for k, sd in enumerate(section["noise_levels"]):
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


def evidence_c5(section: dict, ctx, split) -> dict:
    """The keyword arguments of :func:`check_c5` measured on ``split``: the grid at
    ``noise_std``, the noise sweep (through ``ctx``: step size, training, divergence records) and
    σ_0² from the pool's noise-free windows (the pool sized from the data, :func:`pool_size`)."""
    pool_n = pool_size(section, ctx.config["data"])
    sizes, levels = section["sizes"], section["noise_levels"]
    seeds = ctx.network_seeds(section["seeds"])
    shared_level = any(sd == section["noise_std"] for sd in levels)
    bar = ctx.progress("C5 OOD risk", (len(sizes) + len(levels) - shared_level) * len(seeds))
    fit = _fitter(section, ctx, bar)
    targets = _targets(split, seeds)
    att_risk = np.full((len(levels), len(seeds)), np.nan)
    lin_risk = np.full((len(levels), len(seeds)), np.nan)
    att, lin_err = grid_errors(section, split, seeds, fit, targets, att_risk, lin_risk)
    noise_sweep(section, split, seeds, fit, targets, att_risk, lin_risk)
    bar.close()
    pool = ctx.dataset(pool_n, n_test=section["test_windows"], noise_std=0.0)
    return dict(
        sizes=sizes,
        steps=section["steps"],
        att_sq_err=att,
        lin_sq_err=lin_err,
        noise_std=section["noise_std"],
        c_R=section["c_R"],
        noise_levels=levels,
        att_risk=att_risk,
        lin_risk=lin_risk,
        own_noise_var=own_noise_variance(pool.X, pool.y),
        pool=pool_n,
        margin=section["margin"],
        alpha=section["alpha"],
        test_windows=int(split.X_test.shape[0]),
        test_set=split.how,
        config={"C5": section, "data": ctx.config["data"]},
        seed=ctx.seed,
    )


def run_c5(section: dict, ctx) -> Verdict:
    """C5's verdict: VACUOUS with fewer than ``min_ood_windows`` sign-inconsistent test windows,
    else :func:`check_c5` on what :func:`evidence_c5` measures."""
    split = ood_split(_section_n(section, ctx), ctx, "C5", consistent_only=True, n_key="sizes")
    if split.X_test.shape[0] < section["min_ood_windows"]:
        return ood_premise_verdict(
            "C5",
            split.X_test.shape[0],
            split.scanned,
            section["min_ood_windows"],
            config={"C5": section, "data": ctx.config["data"]},
            seed=ctx.seed,
        )
    return check_c5(**evidence_c5(section, ctx, split))


def training_c5(section: dict, data: dict) -> list[TrainingRun]:
    """The paper's network trained by gradient descent: one width at every size of ``sizes``
    (the noise sweep at the largest)."""
    return [TrainingRun(StepSize.of(section), (section["width"],), tuple(section["sizes"]))]


def memory_c5(section: dict, data: dict) -> tuple[int, str]:
    """Peak memory growth: one training run at a time (its records at every gcd(steps) step), the
    forward pass on the test windows (the softmax moments mean, variance and last mass and the
    output per test window × neuron; only the sign-inconsistent test windows are used, about half
    by default) and the windows."""
    every = math.gcd(*section["steps"])
    m, t = section["width"], max(section["test_windows"], section["ood_windows"])
    pool = section["pool"] or (section["pool_max"] if finite_source(data) else SYNTHETIC_POOL)
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
        memory_bytes(d=data["d"], n=max(section["sizes"]), windows=pool + t),
    )


def example_check_input() -> tuple[dict, str]:
    r"""Keyword arguments of :func:`check_c5` whose verdict is known, and that verdict: over σ_ε =
    1e-4 … 1 the linear risk is 1.1 σ² (exponent 1), attention's 0.5 + σ² (exponent near 0), over
    10 seeds with 5% scatter: HOLDS."""
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
