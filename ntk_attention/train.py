r"""Full-batch training of the hidden weights, recorded along the way.

Loss :math:`L(w) = \frac12\sum_i (f(x_i; w, a) - y_i)^2`, gradient
:math:`\nabla_w L = J^\top (f - y)` with the closed-form Jacobian
:math:`J_{ir} = m^{-1/2} a_r x_{i,d} V_r(x_i)`. Plain gradient descent is
:math:`w(t+1) = w(t) - \eta \nabla L(w(t))` (the theorem's setting); any optax
``GradientTransformation`` can be given instead (Adam, weight decay: the mitigation study).

Each step makes **one** pass of exponentials, which gives :math:`f`, :math:`J` and the last-token
mass together; :math:`H(t) = J J^\top` at a recorded step reuses that :math:`J`. The loop runs
under :func:`jax.lax.scan`: one compilation for the whole run.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Bool, Float, Int

from ntk_attention import _checks
from ntk_attention.model import (
    Params,
    _chunk_moments,
    _mean_mass_impl,
    _resolve_chunk,
    _window_stats,
)

__all__ = [
    "Trajectory",
    "train",
    "NEURON_RECORD_LIMIT",
    "RISE_TOLERANCE",
]

NEURON_RECORD_LIMIT = 1 << 16
"""Widths up to this record per-neuron arrays (weights, masses) by default; above, statistics
only."""

RISE_TOLERANCE = 1e-3
r"""A run whose final loss exceeds
:math:`(1 + \text{RISE\_TOLERANCE}) L(0) + \varepsilon \tfrac12\|y\|^2`
(:math:`\varepsilon`: the dtype's machine epsilon) is reported as diverged by :func:`train`."""


class Trajectory(NamedTuple):
    r"""What :func:`train` records at steps ``0, k, 2k, ..., T`` (``k = record_every``), R records.

    ``step`` (R,), ``loss`` (R,) :math:`L(w(t))`; ``weights`` (R, m) :math:`w(t)` or ``None``;
    ``weight_mean``/``weight_std`` (R,); ``max_weight_change`` (R,) :math:`\max_r|w_r(t)-w_r(0)|`;
    ``sign_agree_plus`` (R,) :math:`\#\{r: a_r=+1, w_r(t)>0\}` out of ``n_plus``;
    ``sign_agree_minus`` (R,) :math:`\#\{r: a_r=-1, w_r(t)<0\}` out of ``n_minus``;
    ``last_token_mass`` (R, m) :math:`\frac1n\sum_i s_{r,d}(x_i)` or ``None``; ``position_mass``
    (R, m, d) :math:`\frac1n\sum_i s_{r,k}(x_i)` or ``None``; ``mean_position_mass`` (R, d), its
    average over neurons; ``ntk`` (R, n, n) :math:`H(t)` or ``None``; ``params`` the final
    parameters; ``n_plus``/``n_minus`` () int32 arrays, the numbers of :math:`a_r = \pm 1`.

    ``diverged_step`` () int32 array: the first step whose loss was non-finite or above
    ``divergence_factor * L(0)`` (training stopped there: later records repeat that state), else,
    when the run *ended* above :math:`L(0)` (see :data:`RISE_TOLERANCE`: the loss grew and stayed
    up, or settled there with the softmax saturated), the first step of that final stretch above
    :math:`L(0)`; -1 if none. ``stopped`` () bool array: ``True`` in the first case (training
    stopped updating at ``diverged_step``), ``False`` otherwise.

    Every field is an array (or ``None``, decided by ``record_ntk``/``record_neurons`` alone), so
    the pytree is the same eager, under :func:`jax.jit` and under :func:`jax.vmap` (a leading
    batch axis). The words about a divergence and the float64 :math:`\lambda_{\max}(H(0))` are
    host-side: :func:`divergence_report`.
    """

    step: Int[Array, " R"]
    loss: Float[Array, " R"]
    weights: Float[Array, "R m"] | None
    weight_mean: Float[Array, " R"]
    weight_std: Float[Array, " R"]
    max_weight_change: Float[Array, " R"]
    sign_agree_plus: Int[Array, " R"]
    sign_agree_minus: Int[Array, " R"]
    n_plus: Int[Array, ""]
    n_minus: Int[Array, ""]
    last_token_mass: Float[Array, "R m"] | None
    position_mass: Float[Array, "R m d"] | None
    mean_position_mass: Float[Array, "R d"]
    ntk: Float[Array, "R n n"] | None
    params: Params
    diverged_step: Int[Array, ""]
    stopped: Bool[Array, ""]


def _f_jac_mass(w, a, X, chunk):
    """f (n,), J (n, m) and data-mean last-token mass (m,) in one chunked pass of exponentials."""
    m = w.shape[0]
    chunks = -(-m // chunk)
    pad = chunks * chunk - m
    wp = jnp.pad(w, (0, pad)).reshape(chunks, chunk)
    ap = jnp.pad(a, (0, pad)).reshape(chunks, chunk)
    xc, c, cmax, cmin, centre = _window_stats(X)
    scale = 1.0 / jnp.sqrt(jnp.asarray(m, X.dtype))

    def body(f, wa):
        wc, ac = wa
        mean_c, var, last = _chunk_moments(wc, xc, c, cmax, cmin)
        f = f + (mean_c + centre[:, None]) @ ac
        return f, (X[:, -1:] * var * ac[None, :], last.mean(axis=0))

    f, (J, mass) = jax.lax.scan(body, jnp.zeros(X.shape[0], X.dtype), (wp, ap))
    J = jnp.moveaxis(J, 0, 1).reshape(X.shape[0], chunks * chunk)[:, :m] * scale
    return f * scale, J, mass.reshape(-1)[:m]


@functools.partial(
    jax.jit,
    static_argnames=("steps", "record_every", "optimizer", "record_ntk", "record_neurons", "chunk"),
)
def _train_impl(
    w0,
    a,
    X,
    y,
    lr,
    divergence_factor,
    gaps=None,
    *,
    steps,
    record_every,
    optimizer,
    record_ntk,
    record_neurons,
    chunk,
):
    tx = optimizer if optimizer is not None else optax.sgd(lr)
    opt0 = tx.init(w0)

    def evaluate(w):
        f, J, mass = _f_jac_mass(w, a, X, chunk)
        r = f - y
        return 0.5 * jnp.sum(r * r), J, r, mass

    def record(w, loss, J, mass):
        rec = {
            "loss": loss,
            "weight_mean": w.mean(),
            "weight_std": w.std(),
            "max_weight_change": jnp.max(jnp.abs(w - w0)),
            "sign_agree_plus": jnp.sum((a > 0) & (w > 0)),
            "sign_agree_minus": jnp.sum((a < 0) & (w < 0)),
        }
        pos = _mean_mass_impl(w, X, chunk)  # (m, d)
        rec["mean_position_mass"] = pos.mean(axis=0)
        if record_neurons:
            rec["weights"] = w
            rec["last_token_mass"] = mass
            rec["position_mass"] = pos
        if record_ntk:
            rec["ntk"] = J @ J.T
        return rec

    def step(carry, loss, J, r):
        """One update; a step whose loss is non-finite or above the factor freezes the run."""
        w, opt, bad, t, above = carry
        bad = jnp.where((bad < 0) & diverging(loss), t, bad)
        above = rising(loss, t, above)
        upd, opt_new = tx.update(J.T @ r, opt, w)
        ok = bad < 0
        w = jnp.where(ok, optax.apply_updates(w, upd), w)
        opt = jax.tree.map(lambda n_, o_: jnp.where(ok, n_, o_), opt_new, opt)
        return w, opt, bad, t + 1, above

    loss0, _, _, _ = evaluate(w0)
    rise = (1 + RISE_TOLERANCE) * loss0 + jnp.finfo(y.dtype).eps * 0.5 * jnp.sum(y * y)

    def diverging(loss):
        return ~jnp.isfinite(loss) | (loss > divergence_factor * loss0)

    def rising(loss, t, above):
        """First step of the current stretch of losses above L(0) (RISE_TOLERANCE), -1 when
        below."""
        return jnp.where(loss > rise, jnp.where(above < 0, t, above), -1)

    def plain_step(carry, _):
        loss, J, r, _ = evaluate(carry[0])
        return step(carry, loss, J, r), None

    def block(carry, _):
        loss, J, r, mass = evaluate(carry[0])
        rec = record(carry[0], loss, J, mass)
        carry = step(carry, loss, J, r)
        if record_every > 1:
            carry, _ = jax.lax.scan(plain_step, carry, None, length=record_every - 1)
        return carry, rec

    init = (
        w0,
        opt0,
        jnp.asarray(-1, jnp.int32),
        jnp.asarray(0, jnp.int32),
        jnp.asarray(-1, jnp.int32),
    )
    if gaps is not None:
        return _advance_and_record(init, gaps, plain_step, evaluate, record, diverging, rising)
    (w, _, bad, t, above), recs = jax.lax.scan(block, init, None, length=steps // record_every)
    loss, J, _, mass = evaluate(w)
    bad = jnp.where((bad < 0) & diverging(loss), t, bad)
    above = rising(loss, t, above)
    last = record(w, loss, J, mass)
    recs = jax.tree.map(lambda seq, x: jnp.concatenate([seq, x[None]]), recs, last)
    return w, bad, above, recs


def _advance_and_record(init, gaps, plain_step, evaluate, record, diverging, rising):
    """Records at cumulative sums of ``gaps``: each segment is a loop of dynamic length, then a
    record.

    One compiled program for any record times (only their number is static); memory O(records).
    """

    def segment(carry, gap):
        carry = jax.lax.fori_loop(0, gap, lambda _, c: plain_step(c, None)[0], carry)
        w, opt, bad, t, above = carry
        loss, J, _, mass = evaluate(w)
        bad = jnp.where((bad < 0) & diverging(loss), t, bad)
        above = rising(loss, t, above)
        return (w, opt, bad, t, above), record(w, loss, J, mass)

    (w, _, bad, _, above), recs = jax.lax.scan(segment, init, gaps)
    return w, bad, above, recs


def train(
    params: Params,
    X: Float[Array, "n d"],
    y: Float[Array, " n"],
    *,
    steps: int | None = None,
    learning_rate: float | None = None,
    optimizer: optax.GradientTransformation | None = None,
    record_every: int = 1,
    record_ntk: bool = True,
    record_neurons: bool | None = None,
    divergence_factor: float = 1e8,
    chunk_size: int | None = None,
    record_at=None,
) -> Trajectory:
    r"""Train :math:`w` by full-batch gradient descent on :math:`L = \frac12\sum_i(f(x_i)-y_i)^2`.

    :math:`w(t+1) = w(t) - \eta\, J(t)^\top (f(t) - y)` with ``learning_rate`` :math:`\eta`, or
    the updates of ``optimizer`` (an optax ``GradientTransformation``) when given. ``steps`` must
    be a multiple of ``record_every``; records are taken at :math:`t = 0, k, \dots, T`.
    ``record_neurons`` (default: :math:`m \le` ``NEURON_RECORD_LIMIT``) keeps per-neuron arrays;
    ``record_ntk`` keeps :math:`H(t)` (R, n, n). Computation is in the dtype of ``params`` and
    ``X`` (enable x64 yourself for float64).

    Training stops updating at the first step whose loss is non-finite or exceeds
    ``divergence_factor`` :math:`\times L(0)`; :attr:`Trajectory.diverged_step` names it
    (:attr:`Trajectory.stopped` is then ``True``). A run that ends with its loss above
    :math:`L(0)` (:data:`RISE_TOLERANCE`) is reported as diverged too, from the step its loss last
    rose above :math:`L(0)`. For a diverged run :func:`divergence_report` says why, host-side, and
    compares :math:`\eta` with :math:`2/\lambda_{\max}(H(0))`.

    Returns the same pytree eager and under :func:`jax.jit` (every field an array or ``None``).
    Composes with :func:`jax.vmap` and :func:`jax.jit` over ``params``, ``X``, ``y``,
    ``learning_rate`` and ``divergence_factor`` (e.g.
    ``jax.vmap(lambda k: train(init_params(k, m), X, y, steps=T, learning_rate=eta))(keys)``: one
    program for every seed; ``jax.vmap(lambda eta: train(p, X, y, steps=T,
    learning_rate=eta))(etas)``: one program for every step size). ``steps``, ``record_every``,
    ``record_at``, ``optimizer``, ``record_ntk``, ``record_neurons`` and ``chunk_size`` are
    static (``static_argnames`` under ``jit``). A traced ``learning_rate`` or
    ``divergence_factor`` is not validated (its value is unknown): validation needs a value.

    ``record_at`` (instead of ``steps`` and ``record_every``): strictly increasing non-negative
    step numbers, e.g. ``np.unique(np.geomspace(1, 1e6, 61).astype(int))``; training runs to the
    last one and records exactly there (``Trajectory.step`` is ``record_at``). One compiled program
    whatever the times (only their count is static) and memory O(records): 10^6 steps cost 10^6
    steps and no more.

    >>> import jax
    >>> from ntk_attention import init_params
    >>> p = init_params(jax.random.key(0), 32)
    >>> X = jax.random.normal(jax.random.key(1), (8, 4)); y = X[:, -1]
    >>> traj = train(p, X, y, steps=10, learning_rate=0.1, record_every=5)
    >>> traj.loss.shape
    (3,)
    """
    w, a = _checks.check_params(params)
    X = _checks.check_windows(X)
    y = _checks.check_targets(y, X.shape[0])
    gaps = None
    if record_at is not None:
        record_at = _check_record_at(record_at, steps)
        if record_every != 1:
            raise ValueError(
                "record_every: expected the default 1 with record_at (records are at "
                f"record_at), got {record_every!r}"
            )
        steps, record_every = int(record_at[-1]), 1
        gaps = jnp.asarray(np.diff(record_at, prepend=0), jnp.int32)
    steps = _checks.check_positive(steps, "steps", integer=True)
    record_every = _checks.check_positive(record_every, "record_every", integer=True)
    if steps % record_every:
        raise ValueError(f"record_every: expected a divisor of steps = {steps}, got {record_every}")
    if optimizer is None:
        if learning_rate is None:
            raise ValueError(
                "learning_rate: expected a positive step size (or an optax optimizer), got None"
            )
        lr = _checks.check_positive(learning_rate, "learning_rate")
    else:
        if not isinstance(optimizer, optax.GradientTransformation):
            raise ValueError(
                "optimizer: expected an optax GradientTransformation, got "
                f"{type(optimizer).__name__}"
            )
        lr = (
            0.0 if learning_rate is None else _checks.check_positive(learning_rate, "learning_rate")
        )
    divergence_factor = _checks.check_positive(divergence_factor, "divergence_factor")
    _checks.check_model_scale(
        w,
        X,
        jnp.result_type(w, X),
        power=6,
        extra=(("y", y),),
        terms=4.0 * X.shape[0] * w.shape[0] * X.shape[1],
        what="the loss, gradient and NTK",
    )
    m = w.shape[0]
    if record_neurons is None:
        record_neurons = m <= NEURON_RECORD_LIMIT
    chunk = _resolve_chunk(chunk_size, X.shape[0], m, X.shape[1])
    dtype = jnp.result_type(w, X)
    w, a, X, y = (t.astype(dtype) for t in (w, a, X, y))
    w_final, bad, above, recs = _train_impl(
        w,
        a,
        X,
        y,
        jnp.asarray(lr, dtype),
        jnp.asarray(divergence_factor, dtype),
        gaps,
        steps=0 if gaps is not None else steps,
        record_every=record_every,
        optimizer=optimizer,
        record_ntk=bool(record_ntk),
        record_neurons=bool(record_neurons),
        chunk=chunk,
    )
    n_plus = jnp.sum(a > 0).astype(jnp.int32)
    return Trajectory(
        step=jnp.arange(0, steps + 1, record_every, dtype=jnp.int32)
        if gaps is None
        else jnp.asarray(record_at),
        loss=recs["loss"],
        weights=recs.get("weights"),
        weight_mean=recs["weight_mean"],
        weight_std=recs["weight_std"],
        max_weight_change=recs["max_weight_change"],
        sign_agree_plus=recs["sign_agree_plus"],
        sign_agree_minus=recs["sign_agree_minus"],
        n_plus=n_plus,
        n_minus=jnp.asarray(m, jnp.int32) - n_plus,
        last_token_mass=recs.get("last_token_mass"),
        position_mass=recs.get("position_mass"),
        mean_position_mass=recs["mean_position_mass"],
        ntk=recs.get("ntk"),
        params=Params(w_final, a),
        diverged_step=jnp.where(bad >= 0, bad, above).astype(jnp.int32),
        stopped=bad >= 0,
    )


def _check_record_at(record_at, steps):
    """Strictly increasing whole step numbers >= 0 below 2**31; ``steps`` None or their last."""
    try:
        r = np.asarray(record_at)
    except (TypeError, ValueError):
        raise ValueError(
            f"record_at: expected a 1-D array of step numbers, got {type(record_at).__name__}"
        ) from None
    if (
        r.ndim != 1
        or r.size < 1
        or not (np.issubdtype(r.dtype, np.integer) or np.issubdtype(r.dtype, np.floating))
    ):
        raise ValueError(
            "record_at: expected a non-empty 1-D array of step numbers, got shape "
            f"{r.shape}, dtype {r.dtype}"
        )
    if (
        not np.all(np.isfinite(r))
        or np.any(r != np.round(r))
        or np.any(r < 0)
        or np.any(r >= 2**31)
    ):
        raise ValueError(
            "record_at: expected whole step numbers in [0, 2**31), got min "
            f"{r.min()!r}, max {r.max()!r}"
        )
    r = r.astype(np.int64)
    if np.any(np.diff(r) <= 0):
        raise ValueError(
            "record_at: expected strictly increasing steps, got "
            f"{r[1:][np.diff(r) <= 0][0]} after a step >= it"
        )
    if r[-1] < 1:
        raise ValueError("record_at: expected at least one step after 0, got only step 0")
    if steps is not None and steps != r[-1]:
        raise ValueError(f"steps: expected None or the last of record_at ({r[-1]}), got {steps!r}")
    return r
