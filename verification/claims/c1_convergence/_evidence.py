r"""What C1's run measures: the width × seed sweep's losses at each trained size, the linearised
model of the same runs at :math:`T_{req}` and beyond, λ at the extended sizes, and the
kernel-regime readings on each mechanism source — the inputs of
:func:`verification.claims.c1_convergence.check_c1`.

Training goes through the context (:class:`verification.contract.Context`): η from
``ctx.step_size``/``ctx.learning_rate``, the sweep through
:func:`verification.claims._common.width_sweep`, every reading memoised by ``ctx.cached`` under
``ctx.memo_key``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from ntk_attention import init_params
from ntk_attention.linearized import predict
from ntk_attention.model import Params
from ntk_attention.stability import lambda_max
from verification import config as cfg
from verification.claims._common import sweep_memory, width_sweep
from verification.claims.c1_convergence._mechanism import MechanismRun, gather_mechanism
from verification.claims.c1_convergence._rule import (
    EnvelopeRun,
    ExtendedSize,
    LinearRun,
    check_c1,
    t_required,
)
from verification.contract import (
    StepSize,
    TrainingRun,
    memory_bytes,
    memory_sum,
)
from verification.data._datasets import make_dataset
from verification.rules._verdict import HOLDS, Verdict
from verification.training import _bounds as bounds


def _linearised(X, y, *, widths, seeds, sigma: float, eta: float, times) -> np.ndarray:
    """Losses (W, S, K) of the linearised model of each run (nested prefix of seed s's widest draw,
    as the sweep); the seeds of one width in one compiled program."""
    t = jnp.asarray(times, jnp.float64)
    full = [
        init_params(jax.random.key(int(s)), max(widths), sigma=sigma, output_signs="random")
        for s in seeds
    ]
    out = []
    for m in widths:
        w = jnp.stack([p.w[: int(m)] for p in full])
        a = jnp.stack([p.a[: int(m)] for p in full])
        out.append(
            np.asarray(
                jax.jit(
                    jax.vmap(
                        lambda w_, a_: predict(Params(w_, a_), X, y, t, learning_rate=eta).loss
                    )
                )(w, a)
            )
        )
    return np.stack(out)


def _trained_size(ctx, section: dict, n: int, lam, eta: float):
    """The sweep at size n (its EnvelopeRun) and, where λ is resolved and T_req ≤ 1e13, the
    linearised model of its runs at 0, the steps run, T_req and two decades beyond (else None)."""
    sigma = section["sigma"]
    ds = ctx.dataset(n)
    X = np.asarray(ds.X)
    res = width_sweep(ctx, n, section, f"C1 sweep n={n}", sigma=sigma, eta=eta)
    lmax = max(lambda_max(h) for h in res.ntk_initial.reshape(-1, n, n))
    B = float(np.abs(X).max())
    y_max = float(np.abs(np.asarray(ds.y)).max())
    run = EnvelopeRun(
        n,
        lam.value,
        lam.resolution,
        res.widths,
        res.seeds,
        res.step,
        res.loss,
        B,
        lmax,
        y_max,
        lam.precision,
    )
    if not lam.value > lam.resolution:
        return run, None
    T_req = t_required(lam.value, eta, n, B, section["eps"], section["c_T"])
    if not (math.isfinite(T_req) and T_req <= 1e13):
        return run, None
    T = math.ceil(T_req)
    times = np.array([0.0, float(section["steps"]), T, 10 * T, 100 * T])
    ll = _linearised(
        ds.X, ds.y, widths=res.widths, seeds=res.seeds, sigma=sigma, eta=eta, times=times
    )
    return run, LinearRun(n, times, ll)


def _extended_size(ctx, n: int, eta: float, sigma: float) -> ExtendedSize:
    """λ at size n in extended precision, and the step it is read at (η, at most 1/λ_max(H*))."""
    ds = ctx.dataset(n)
    X = np.asarray(ds.X)
    lam, _ = ctx.lambda_star(n, sigma=sigma)
    eta_n = min(eta, 1.0 / lam.norm)
    return ExtendedSize(n, lam.value, lam.resolution, lam.precision, eta_n, float(np.abs(X).max()))


def _mechanism_data(ctx, section: dict, src: str, n: int, sigma: float):
    """The windows of a mechanism source and the step size read there: the configured data's own,
    or another source's (its λ_max(H*) from its own windows)."""
    if src == "data":
        return ctx.dataset(n), ctx.step_size(section, sizes=[n], sigma=sigma)
    ds = ctx.cached(
        ctx.memo_key("dataset", source=src, n=n),
        lambda: make_dataset({**ctx.config["data"], "source": src}, ctx.key("data"), n=n),
    )
    norm = ctx.cached(
        ctx.memo_key("lambda_star", source=src, n=n, sigma=sigma),
        lambda: bounds.lambda_star(np.asarray(ds.X), sigma=sigma)[0].norm,
    )
    return ds, StepSize.of(section).resolve(norm)


def _mechanism_runs(ctx, section: dict, sigma: float) -> list[MechanismRun]:
    """The kernel-regime reading at ``mechanism_n`` on each source once ('data': the configured
    data)."""
    data_src = ctx.config["data"]["source"]
    n = section["mechanism_n"]
    out = []
    for src in dict.fromkeys("data" if s == data_src else s for s in section["mechanism_sources"]):
        name = data_src if src == "data" else src
        ds, eta_m = _mechanism_data(ctx, section, src, n, sigma)
        out.append(
            ctx.cached(
                ctx.memo_key("C1 mechanism", source=name, n=n, sigma=sigma),
                lambda ds=ds, name=name, eta_m=eta_m: gather_mechanism(
                    ds.X,
                    ds.y,
                    source=name,
                    widths=section["mechanism_widths"],
                    seeds=ctx.network_seeds(section["mechanism_seeds"]),
                    sigma=sigma,
                    eta=eta_m,
                    steps=section["mechanism_steps"],
                    record_every=section["mechanism_record_every"],
                ),
            )
        )
    return out


def run_c1(section: dict, ctx) -> Verdict:
    """Train and read C1's evidence at the section's sizes (one η, stable at every size), then
    :func:`verification.claims.c1_convergence.check_c1`."""
    if section["mechanism_steps"] % section["mechanism_record_every"]:
        raise cfg.ConfigError(
            f"C1.mechanism_record_every: expected a divisor of C1.mechanism_steps = "
            f"{section['mechanism_steps']}, got {section['mechanism_record_every']}"
        )
    sigma = section["sigma"]
    lams = {n: ctx.lambda_star(n, sigma=sigma)[0] for n in section["sizes"]}
    eta = ctx.learning_rate(section, sizes=section["sizes"], sigma=sigma)
    runs, linear = [], []
    for n in section["sizes"]:
        run, lin = _trained_size(ctx, section, n, lams[n], eta)
        runs.append(run)
        if lin is not None:
            linear.append(lin)
    extended = [_extended_size(ctx, n, eta, sigma) for n in section["extended_sizes"]]
    return check_c1(
        runs,
        eta=eta,
        eps=section["eps"],
        delta=section["delta"],
        c_T=section["c_T"],
        alpha=section["alpha"],
        min_decrease=section["min_decrease"],
        linear=linear,
        extended=extended,
        mechanism=_mechanism_runs(ctx, section, sigma),
        margin=section["margin"],
        violation_margin=section["violation_margin"],
        config={"C1": section, "data": ctx.config["data"]},
        seed=ctx.seed,
    )


def example_check_input() -> tuple[dict, str]:
    r"""Keyword arguments of :func:`verification.claims.c1_convergence.check_c1` whose verdict is
    known, and that verdict: losses :math:`2\cdot 0.9^t` on 2 widths × 40 seeds over 2000 steps
    meet the envelope :math:`0.95^t L(0)` over 103 e-folds (the lower float floor, m = 8, lies 69
    e-folds below L(0): the horizon rule is met) and fall below ε = 1e-3 from
    :math:`T_{req} = 2\ln(4/10^{-3})/0.1 \approx 166` (linearised losses at t = 200 are 1e-6, a
    diagnostic): no run fails in 40 per width, Clopper–Pearson upper ends 0.088 ≤ δ = 0.1:
    HOLDS."""
    steps = np.arange(0, 2001, 50)
    loss = np.broadcast_to(2.0 * 0.9 ** steps.astype(float), (2, 40, steps.size)).copy()
    run = EnvelopeRun(4, 0.1, 1e-14, np.array([8, 16]), np.arange(40), steps, loss, 1.0, 1.0, 1.0)
    lin = LinearRun(
        4, np.array([0.0, 200.0]), np.broadcast_to(np.array([2.0, 1e-6]), (2, 40, 2)).copy()
    )
    return {
        "runs": [run],
        "eta": 1.0,
        "eps": 1e-3,
        "delta": 0.1,
        "linear": [lin],
        "config": {"C1": {"eta": 1.0}},
    }, HOLDS


def training_c1(section: dict, data: dict) -> list[TrainingRun]:
    """The paper's network trained by gradient descent, as data: the width × seed sweep at every
    size of ``sizes`` (one η, stable at every size) and the mechanism's runs at ``mechanism_n``
    (on the configured data), both at C1's own σ."""
    step, sigma = StepSize.of(section), section["sigma"]
    sweep = TrainingRun(step, tuple(section["widths"]), tuple(section["sizes"]), sigma)
    widths, n = tuple(section["mechanism_widths"]), section["mechanism_n"]
    return [sweep, TrainingRun(step, widths, (n,), sigma)]


def memory_c1(section: dict, data: dict) -> tuple[int, str]:
    """Peak memory growth: the width × seed sweep at the largest size, run in blocks of
    ``seeds_per_block`` seeds (:func:`verification.contract.sweep_bytes`), the symmetrised H(t) of
    every record of a block brought to the host, and the data windows."""
    n = max(section["sizes"])
    return memory_sum(
        *sweep_memory(section, n),
        (
            8
            * section["mechanism_seeds"]
            * section["mechanism_n"]
            * max(section["mechanism_widths"])
            * (data["d"] + 4),
            "kernel-regime reading (seeds × n × m × (d + 4): attention, Jacobian, residuals of "
            "one width)",
        ),
        memory_bytes(d=data["d"], n=n, widths=[1]),
    )
