r"""What C2's run measures: every seed of each width trained as one vmapped program (through
``ctx``: step size, memo, divergence records), the sign-agreement counts per group over
log-spaced records, the designated neurons, the data term at t = 0, the linearised
:math:`t\to\infty` signs at the widest width and (opt-in) the η scan — the inputs of
:func:`~verification.claims.c2_asymmetric_learning.check_c2`; the training runs and memory it
declares, and a constructed input whose verdict is known."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ntk_attention import Params, init_params, train
from ntk_attention import data as ntk_data
from ntk_attention.linearized import predict
from verification.claims._common import data_n_training
from verification.claims.c2_asymmetric_learning._rule import check_c2
from verification.contract import StepSize, TrainingRun, memory_sum
from verification.rules._verdict import HOLDS, Verdict
from verification.training import _bounds as bounds
from verification.training._memory import TRAIN_NUMBERS_PER_NEURON

LINEAR_SEEDS = 3
"""Seeds whose linearised t → ∞ signs are compared with training's (a diagnostic at the widest
width)."""


def record_steps(steps: int, records: int) -> np.ndarray:
    """0 and ``records`` log-spaced steps up to ``steps`` (integers, strictly increasing, the last
    being ``steps``).

    >>> record_steps(1000, 5).tolist()
    [0, 1, 5, 31, 177, 1000]
    """
    if steps < 1 or records < 2:
        raise ValueError(
            f"steps, records: expected steps >= 1 and records >= 2, got {steps}, {records}"
        )
    return np.unique(
        np.concatenate([[0], np.geomspace(1, steps, records).astype(np.int64), [steps]])
    )


def linear_sign_agreement(params, X, y, eta, w_final) -> float:
    """Fraction of neurons with sign(w_lin(∞) − w_0) = sign(w(T) − w_0), w_lin from
    :func:`ntk_attention.linearized.predict`."""
    lin = predict(params, X, y, np.array([1e15]), learning_rate=eta)
    w0 = np.asarray(params.w, np.float64)
    return float(
        np.mean(
            np.sign(np.asarray(lin.w[0], np.float64) - w0)
            == np.sign(np.asarray(w_final, np.float64) - w0)
        )
    )


def train_seeds(ctx, ds, m: int, seeds, keys, rec, eta: float, sigma: float):
    """Every seed of width ``m`` at step size ``eta`` as one compiled, vmapped program (cached):
    ``(params at t = 0, trajectory, data-term fraction)``, each batched over the seeds."""
    cache = ctx.memo_key(
        "train_vmap", claim="C2", n=ds.X.shape[0], width=m, seeds=seeds, record_at=rec, eta=eta
    )
    cache += f"/sigma={sigma!r}"

    def go():
        def one(k):
            p = init_params(k, m, sigma=sigma)
            tr = train(
                p,
                ds.X,
                ds.y,
                learning_rate=eta,
                record_at=rec,
                record_ntk=False,
                record_neurons=False,
            )
            return p, tr, ntk_data.data_term_fraction(p, ds.X, ds.y)

        return jax.jit(jax.vmap(one))(keys)

    return ctx.cached(cache, go)


def agreement_counts(ctx, ds, P, tr, rec, eta: float, seeds):
    """Sign-agreement counts of one vmapped run, ``(agree_plus, agree_minus, n_plus, n_minus)``,
    after recording each diverged network (:meth:`verification.contract.Context.note_divergence`
    on its slice of the batched trajectory: nothing is trained again)."""
    for si in np.flatnonzero(np.asarray(tr.diverged_step) >= 0):
        one = jax.tree.map(lambda x, si=si: x[si], tr)
        ctx.note_divergence(one, Params(P.w[si], P.a[si]), ds.X, learning_rate=eta, seed=seeds[si])
    return (
        np.asarray(tr.sign_agree_plus),
        np.asarray(tr.sign_agree_minus),
        np.asarray(tr.n_plus),
        np.asarray(tr.n_minus),
    )


def designated_agreement(a_all, w_all) -> np.ndarray:
    """(S, 2): whether the first neuron of group +1 and of group −1 of each network has
    sign(w_r(T)) = a_r (True for a network without a neuron of the group)."""
    S = a_all.shape[0]
    out = np.ones((S, 2), bool)
    for gi, g in enumerate((1, -1)):
        hit = a_all == g
        first = np.argmax(hit, axis=1)
        out[:, gi] = ~hit.any(axis=1) | (np.sign(w_all[np.arange(S), first]) == g)
    return out


def measure_widths(ctx, section, ds, seeds, rec, eta: float, sigma: float) -> dict:
    """Every width's counts (W, S, R) and (W, S), designated neurons (W, S, 2), the data-term
    fraction over every neuron and the linearised signs of the widest width's first seeds."""
    W, S, R = section["widths"], len(seeds), rec.size
    ap, am = np.zeros((len(W), S, R), np.int64), np.zeros((len(W), S, R), np.int64)
    npl, nmi = np.zeros((len(W), S), np.int64), np.zeros((len(W), S), np.int64)
    lin = np.zeros(min(S, LINEAR_SEEDS))
    des = np.ones((len(W), S, 2), bool)
    positive, total = 0, 0
    bar = ctx.progress("C2 random signs", len(W) * S)
    keys = jnp.stack([jax.random.key(s) for s in seeds])
    # dispatched first: JAX runs them side by side
    runs = [train_seeds(ctx, ds, m, seeds, keys, rec, eta, sigma) for m in W]
    for wi, m in enumerate(W):
        P, tr, dtf = runs[wi]
        ap[wi], am[wi], npl[wi], nmi[wi] = agreement_counts(ctx, ds, P, tr, rec, eta, seeds)
        a_all, w_all = np.asarray(P.a), np.asarray(tr.params.w)
        des[wi] = designated_agreement(a_all, w_all)
        if m == W[-1]:  # a diagnostic: the widest width, the first few seeds
            for si in range(lin.size):
                lin[si] = linear_sign_agreement(
                    Params(P.w[si], P.a[si]), ds.X, ds.y, eta, w_all[si]
                )
        positive += int(np.sum(np.round(np.asarray(dtf, np.float64) * m)))
        total += m * S
        bar.update(S)
    bar.close()
    return dict(
        agree_plus=ap,
        n_plus=npl,
        agree_minus=am,
        n_minus=nmi,
        designated_agree=des,
        data_term_fraction=positive / total,
        linear_agreement={W[-1]: lin},
        keys=keys,
    )


def eta_scan(ctx, section, ds, seeds, keys, rec, eta: float, sigma: float) -> dict | None:
    """The exponent in η: the widest width at η × each of ``eta_factors`` (and η itself), same
    seeds; None when the scan is off."""
    if not section["eta_factors"]:
        return None
    m = section["widths"][-1]
    etas = sorted({eta * f for f in section["eta_factors"]} | {eta})
    scan = [train_seeds(ctx, ds, m, seeds, keys, rec, e, sigma) for e in etas]
    counts = [agreement_counts(ctx, ds, P, tr, rec, e, seeds) for e, (P, tr, _) in zip(etas, scan)]
    return {
        "etas": etas,
        **{
            k: np.stack([c[i] for c in counts])
            for i, k in enumerate(("agree_plus", "agree_minus", "n_plus", "n_minus"))
        },
        "diverged": [int(np.sum(np.asarray(tr.diverged_step) >= 0)) for _, tr, _ in scan],
    }


def measure_c2(section: dict, ctx) -> dict:
    """The keyword arguments of :func:`check_c2` measured at ``[data] n``: λ* with its resolution
    and precision, the step size (through ``ctx``), every width's counts over the records, the
    data constants and (opt-in) the η scan."""
    n = ctx.config["data"]["n"]
    ds = ctx.dataset(n)
    sigma = ctx.config["data"]["sigma"]
    seeds = ctx.network_seeds(section["seeds"])
    rec = record_steps(section["steps"], section["records"])
    lam = ctx.lambda_star(n, sigma=sigma)[0]
    eta = ctx.learning_rate(section, sizes=[n], sigma=sigma)
    counts = measure_widths(ctx, section, ds, seeds, rec, eta, sigma)
    keys = counts.pop("keys")
    scan = eta_scan(ctx, section, ds, seeds, keys, rec, eta, sigma)
    return dict(
        widths=section["widths"],
        seeds=seeds,
        steps=rec,
        **counts,
        lam=lam.value,
        lam_resolution=lam.resolution,
        lam_precision=lam.precision,
        eta=eta,
        v_min=bounds.data_constants(ds.X, ds.y)["v_min"],
        delta=section["delta"],
        c_A=section["c_A"],
        alpha=section["alpha"],
        levels=section["levels"],
        corr_y_xd=float(ntk_data.corr_y_xd(ds.X, ds.y)),
        data_term_threshold=section["data_term_threshold"],
        margin=section["margin"],
        eta_scan=scan,
        source=str(ctx.config["data"].get("source", "")),
        config={"C2": section, "data": ctx.config["data"]},
        seed=ctx.seed,
    )


def run_c2(section: dict, ctx) -> Verdict:
    """C2's verdict: :func:`check_c2` on the counts, data term and λ* this run measures."""
    return check_c2(**measure_c2(section, ctx))


def training_c2(section: dict, data: dict) -> list[TrainingRun]:
    """The runs for the stability check, as data: every width at the configured step size (a
    relative one is resolved by the pipeline against the data, as the run resolves it), and the
    widest width at each η × factor of ``eta_factors``."""
    m, step = max(section["widths"]), StepSize.of(section)
    scan = [TrainingRun(step.scaled(f), (m,), (data["n"],)) for f in section["eta_factors"]]
    return data_n_training(section, data) + [r for r in scan if r.eta != step]


def memory_c2(section: dict, data: dict) -> tuple[int, str]:
    """Peak memory growth: the seeds of one width train as one vmapped program, so the widest
    width's ``seeds`` runs are held at once (``records + 2`` records, no per-neuron records), and
    the linearised model's Jacobian and SVD at the widest width."""
    n, d, m, S = data["n"], data["d"], max(section["widths"]), section["seeds"]
    R = section["records"] + 2
    # the η scan's programs may run side by side
    E = 1 + len([f for f in section.get("eta_factors", []) if f != 1])
    return memory_sum(
        (
            E * (8 * S * m * (n + d + TRAIN_NUMBERS_PER_NEURON) + 8 * S * R * (d + 8)),
            f"training state of the widest width's {S} seeds, one vmapped program (Jacobians "
            f"{S} × n × m)" + (f", × {E} step sizes (eta_factors)" if E > 1 else ""),
        ),
        (8 * 3 * n * m, "linearised model at the widest width (J, its SVD factor, w(t))"),
    )


def example_check_input() -> tuple[dict, str]:
    r"""Keyword arguments of :func:`check_c2` whose verdict is known, and that verdict: data term
    positive for every neuron, :math:`t_{align}(m) = m` reached, 40 networks per width whose 60
    neurons per group all agree with their :math:`a_r` from step 20 on: every failure fraction is
    0 in 40 of 40 networks (p of p ≥ δ 0.0246 ≤ α/2, upper bound 0.0997 ≤ δ = 0.1 everywhere):
    HOLDS."""
    S = 40
    steps = np.array([0, 1, 2, 5, 10, 20, 50, 100])
    agree = np.full((2, S, steps.size), 30)
    agree[..., steps >= 20] = 60
    total = np.full((2, S), 60)
    return dict(
        widths=np.array([8, 16]),
        seeds=np.arange(S),
        steps=steps,
        agree_plus=agree,
        n_plus=total,
        agree_minus=agree,
        n_minus=total,
        lam=1.0,
        lam_resolution=1e-12,
        eta=1.0,
        v_min=1.0,
        delta=0.1,
        corr_y_xd=0.9,
        data_term_fraction=1.0,
        designated_agree=np.ones((2, S, 2), bool),
        config={"C2": {"alpha": 0.05}},
    ), HOLDS
