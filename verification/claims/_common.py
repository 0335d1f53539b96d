r"""What the built-in claims share (private): decision helpers, the shared measurements, divergence
notes, figures and configuration fields.

Shared measurements are computed once per run (:meth:`verification.contract.Context.cached`):

* a width × seed sweep with random output signs (:func:`ntk_attention.sweep.plan_sweep` /
  ``run_block``: one compilation for all widths) gives C1's losses, C2's sign agreement and C4's
  NTK distances;
* :func:`ntk_attention.train` with per-neuron records gives C3's position masses (all
  :math:`a_r = -1`), C2's per-step updates and C5's predictions.

λ enters through :func:`verification.training._bounds.lambda_star`: when :math:`\lambda \le \rho`
(its float64 resolution) everything with :math:`1/\lambda` in it is VACUOUS, with both numbers in
the verdict (docs/theory.md, "Verdicts").
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np

from ntk_attention import sweep as sw
from ntk_attention.data import sign_consistent
from ntk_attention.stability import lambda_max
from verification import config as cfg
from verification import files
from verification.contract import StepSize, TrainingRun, sweep_bytes
from verification.data._datasets import ood_test_windows
from verification.data._sources import SourceError

# re-exported: the report sets the source
from verification.files import FIGURE_SOURCE, plain_log_ticks  # noqa: F401
from verification.rules._verdict import HOLDS, INCONCLUSIVE, VACUOUS, VIOLATED, Part, Verdict
from verification.training import _step_size as steps

RTOL = 1e-9
"""Relative float64 tolerance on recorded losses (many-term sums in float64 are exact to ~1e-13)."""


# ---------------------------------------------------------------------------------------------
# decision helpers (pure)


def interval_status(lo: float, hi: float, bound: float, *, upper: bool) -> str:
    """HOLDS/VIOLATED/INCONCLUSIVE for an interval against a bound.

    ``upper=True``: the claim is ``value <= bound`` (HOLDS if ``hi <= bound``, VIOLATED if
    ``lo > bound``); ``upper=False``: the claim is ``value >= bound`` (mirror image).
    """
    if upper:
        return HOLDS if hi <= bound else (VIOLATED if lo > bound else INCONCLUSIVE)
    return HOLDS if lo >= bound else (VIOLATED if hi < bound else INCONCLUSIVE)


def slope_status(lo: float, hi: float, predicted: float = -0.5) -> str:
    r"""Verdict on a decay rate :math:`O(m^{p})` (``predicted`` p < 0) from a slope interval [lo,
    hi].

    The claim is "slope :math:`\le p`": VIOLATED if the whole interval is above p (decays more
    slowly than predicted); HOLDS if the whole interval lies at or below p (decays at least as
    fast, intervals included); INCONCLUSIVE when it straddles p (an interval such as
    [-0.8, -0.3] cannot tell decay like :math:`m^{-1/2}` from a slower one like :math:`m^{-0.3}`).
    """
    if lo > predicted:
        return VIOLATED
    return HOLDS if hi <= predicted else INCONCLUSIVE


def fmt(x: float) -> str:
    return f"{x:.3g}" if math.isfinite(x) else ("inf" if x > 0 else ("-inf" if x < 0 else "nan"))


def first_case(mask: np.ndarray) -> tuple[int, ...]:
    """Smallest index first along each axis in turn (width, then seed, then step): the smallest
    counterexample."""
    idx = np.argwhere(mask)
    return tuple(int(v) for v in idx[np.lexsort(idx.T[::-1])][0])


def lam_words(lam: float, rho: float) -> str:
    return (
        f"λ = λ_min(H*) = {fmt(lam)} is not above its float64 resolution "
        f"ρ = n(e_quad + eps‖H*‖) = {fmt(rho)}"
    )


# ---------------------------------------------------------------------------------------------
# shared measurements


def sweep_memory(section: dict, n: int) -> list:
    """The memory parts of a claim's width × seed sweep at ``n`` windows, run in blocks of
    ``seeds_per_block`` seeds (:func:`verification.contract.sweep_bytes`), and the symmetrised
    H(t) of every record of a block brought to the host (R × runs × n × n); for
    :func:`verification.contract.memory_sum`."""
    per = blocks_of(section["seeds"], section["seeds_per_block"])
    R = section["steps"] // section["record_every"] + 1
    sweep = sweep_bytes(
        n=n,
        widths=section["widths"],
        seeds=section["seeds"],
        steps=section["steps"],
        record_every=section["record_every"],
        seeds_per_block=per,
    )
    records = 8 * R * per * len(section["widths"]) * n * n
    return [sweep, (records, "H(t) records of one block (R × runs × n × n)")]


def blocks_of(seeds: int, seeds_per_block: int) -> int:
    """Seeds per compiled block: the largest divisor of ``seeds`` not above ``seeds_per_block``."""
    return max(k for k in range(1, min(seeds_per_block, seeds) + 1) if seeds % k == 0)


def width_sweep(
    ctx, n: int, section: dict, desc: str, *, sigma: float, eta: float
) -> sw.SweepResult:
    """Random-sign width × seed sweep at size n (nested prefixes) at the step size ``eta`` (η
    itself, resolved by the claim through :meth:`verification.contract.Context.step_size`), seeds
    batched ``seeds_per_block`` (the largest divisor of their number not above it) into each call
    of the one compiled program; memoised on everything that defines it."""
    widths = tuple(section["widths"])
    seeds = tuple(ctx.network_seeds(section["seeds"]))
    per = blocks_of(len(seeds), section.get("seeds_per_block", 1))
    key = ctx.memo_key(
        "sweep",
        n=n,
        widths=widths,
        seeds=seeds,
        steps=section["steps"],
        record_every=section["record_every"],
        eta=eta,
        sigma=sigma,
        per=per,
    )

    def compute():
        ds = ctx.dataset(n)
        plan = sw.plan_sweep(
            ds.X,
            ds.y,
            widths=widths,
            steps=section["steps"],
            learning_rate=eta,
            record_every=section["record_every"],
            sigma=sigma,
            seeds_per_block=per,
        )
        bar = ctx.progress(desc, len(seeds) // per)
        out = []
        for i in range(0, len(seeds), per):
            out.append(sw.run_block(plan, list(seeds[i : i + per])))
            bar.update(1)
        bar.close()
        return sw.concatenate(out)

    res = ctx.cached(key, compute)
    for w, s in zip(*np.nonzero(np.asarray(res.diverged_step) >= 0)):
        ctx.record_divergence(
            width=res.widths[w],
            seed=res.seeds[s],
            n=n,
            step=res.diverged_step[w, s],
            eta=eta,
            lambda_max_h0=lambda_max(res.ntk_initial[w, s]),
        )
    return res


# ---------------------------------------------------------------------------------------------
# figures


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path) -> str:
    """Save a figure atomically (:func:`verification.files.save_figure`, the one resolution);
    returns the file name."""
    pyplot()  # the Agg backend before pyplot is touched
    return files.save_figure(fig, path)


# ---------------------------------------------------------------------------------------------
# configuration sections and registration

ALPHA = cfg.probability(0.05, "level of every interval (1 - alpha coverage)")
DELTA = cfg.probability(0.1, "the theorem's failure probability δ (the paper takes δ < 0.1)")


def training_fields(widths, seeds, steps, record_every, eta):
    return {
        "widths": cfg.int_list(widths, "network widths m (strictly increasing)", minimum=2),
        "seeds": cfg.positive_int(seeds, "network seeds per width", maximum=64),
        "steps": cfg.positive_int(steps, "gradient-descent steps T"),
        "record_every": cfg.positive_int(record_every, "record every k steps (a divisor of steps)"),
        "eta": cfg.positive_float(eta, "learning rate η (GD is stable for η < 2/λ_max(H(0)))"),
    }


ETA_MODE = cfg.choice(
    "relative",
    steps.MODES,
    "how eta is read: a fraction of the data's stability limit, η = eta · 2/λ_max(H*) (stable on "
    "every source), or the step size itself",
)


def data_n_training(section: dict, data: dict) -> list[TrainingRun]:
    """The runs of a claim training the paper's network on ``[data] n`` windows at its ``widths``
    with its ``eta`` (C2, C3, C4: :attr:`verification.contract.Claim.training`)."""
    return [TrainingRun(StepSize.of(section), tuple(section["widths"]), (data["n"],))]


# ---------------------------------------------------------------------------------------------
# the out-of-distribution split of C5's data set (C6 and C7 train on it)


class OodSplit(NamedTuple):
    """Training windows and the sign-inconsistent test windows of the OOD claims
    (:func:`ood_split`).

    ``y`` / ``y_test`` carry the observation noise ``noise_std``, ``y_clean`` / ``y_test_clean`` do
    not; ``scanned`` test windows were looked at to find ``len(X_test)`` sign-inconsistent ones,
    ``how`` says where they come from (generated for a synthetic family, the series' future
    otherwise)."""

    X: np.ndarray
    y: np.ndarray
    consistent: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    y_clean: np.ndarray
    y_test_clean: np.ndarray
    scanned: int
    how: str


def ood_split(section: dict, ctx, cid: str, *, consistent_only: bool, n_key: str = "n") -> OodSplit:
    """Training windows (the first n of the pool; only sign-consistent ones when
    ``consistent_only``, as C5) and the sign-inconsistent test windows; ConfigError when too few
    training windows. Too few test windows is the caller's verdict (:func:`ood_premise_verdict`),
    not an error. ``n_key`` is the configuration key the messages name for n (C5's is ``sizes``,
    whose largest entry is n).

    Sign-inconsistency is judged on the noise-free targets (the process crosses zero), noise is
    added after. For a synthetic family the test windows are generated
    (:func:`verification.data._datasets.ood_test_windows`: ``ood_windows`` of them, from fresh
    stretches of the same process); for a finite series they are the sign-inconsistent ones among
    the ``test_windows`` that follow the training values.
    """
    ds = ctx.dataset(
        section["pool"], n_test=section["test_windows"], noise_std=section["noise_std"]
    )
    clean = ctx.dataset(section["pool"], n_test=section["test_windows"], noise_std=0.0)
    cons = np.asarray(sign_consistent(ds.X, ds.y))
    idx = (
        np.flatnonzero(cons)[: section["n"]]
        if consistent_only
        else np.arange(min(section["n"], ds.X.shape[0]))
    )
    if idx.size < section["n"]:
        if (
            section["n"] > section["pool"]
        ):  # impossible whatever the data: the configuration's fault
            raise cfg.ConfigError(
                f"{cid}.{n_key}: expected {n_key} <= {cid}.pool = {section['pool']}, "
                f"got {section['n']}"
            )
        kind = "sign-consistent windows" if consistent_only else "windows"
        raise SourceError(
            f"{ds.source}: only {idx.size} {kind} among {cid}.pool = {section['pool']}, "
            f"{cid}.{n_key} needs {section['n']} (a smaller n or a larger pool)"
        )
    want = section["ood_windows"]
    gen = ctx.cached(
        f"ood/{section['pool']}/{want}",
        lambda: ood_test_windows(ctx.config["data"], ctx.key("data"), n=section["pool"], want=want),
    )
    if gen is None:
        test = ~np.asarray(sign_consistent(clean.X_test, clean.y_test))
        Xt, yt_clean = np.asarray(clean.X_test)[test], np.asarray(clean.y_test)[test]
        yt = np.asarray(ds.y_test)[test]
        scanned, how = (
            int(test.size),
            f"{int(test.sum())} sign-inconsistent among the {test.size} test windows after the "
            "training values",
        )
    else:
        Xt, yt_clean, scanned, how = gen
        key = np.asarray(jax.random.key_data(ctx.key("ood noise"))).ravel().tolist()
        yt = yt_clean + section["noise_std"] * np.random.default_rng([*key, 4]).standard_normal(
            yt_clean.shape
        )
    return OodSplit(
        np.asarray(ds.X)[idx],
        np.asarray(ds.y)[idx],
        cons[idx],
        np.asarray(Xt),
        np.asarray(yt),
        np.asarray(clean.y)[idx],
        np.asarray(yt_clean),
        int(scanned),
        how,
    )


def own_noise_variance(X, y) -> float:
    r"""The series' own noise :math:`\sigma_0^2`: residual variance of the least-squares regression
    of the noise-free targets on :math:`(1, x)`, :math:`\sum_i \hat e_i^2/(N - d - 1)` over N
    windows (0 when N ≤ d + 1: not estimable). A linear predictor of the window cannot remove it; it
    is part of every risk, so C5's ratios divide by :math:`\sigma_0^2 + \sigma_\varepsilon^2`."""
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64)
    rows, d = X.shape
    if rows <= d + 1:
        return 0.0
    A = np.column_stack([np.ones(rows), X])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    e = y - A @ coef
    return float(e @ e / (rows - d - 1))


def ood_premise_verdict(
    cid: str,
    found: int,
    windows: int,
    minimum: int,
    *,
    config: dict | None = None,
    seed: int | None = None,
) -> Verdict:
    """VACUOUS: the data hold fewer sign-inconsistent next steps than an OOD risk needs (Prop 6.3's
    premise)."""
    finding = (
        f"only {found} of {windows} test windows are sign-inconsistent (sign(y) != sign(x_d)); "
        f"the OOD risk needs at least {cid}.min_ood_windows = {minimum}. Persistent series "
        "(lag-1 near 1) rarely cross "
        f"zero: raise {cid}.test_windows or use a source that crosses zero."
    )
    return Verdict(
        claim=cid,
        status=VACUOUS,
        explanation=f"VACUOUS: {finding}",
        measured={"ood_windows": int(found), "test_windows": int(windows)},
        parts=(Part("enough sign-inconsistent test windows", VACUOUS, finding),),
        tested_range={"test_windows": int(windows)},
        config=config or {},
        seed=seed,
    )


def ood_data_fields(n: int) -> dict:
    """The shared C5 data set (same defaults as [C5], so one run builds it once)."""
    return {
        "n": cfg.positive_int(n, "training windows", minimum=2),
        "pool": cfg.positive_int(
            48, "windows scanned for training examples (as C5.pool)", minimum=4
        ),
        "test_windows": cfg.positive_int(3000, "test windows (as C5.test_windows)", minimum=4),
        "ood_windows": cfg.positive_int(
            200,
            "sign-inconsistent test windows generated for a synthetic family (as C5.ood_windows)",
            minimum=2,
        ),
        "min_ood_windows": cfg.positive_int(
            5, "sign-inconsistent test windows needed (as C5.min_ood_windows)", minimum=2
        ),
        "noise_std": cfg.positive_float(0.1, "observation noise σ_ε on targets (as C5.noise_std)"),
    }
