"""Training throughput: ``ntk_attention.train`` against a plain ``jax.grad`` loop under
``lax.scan``.

    python benchmarks/train.py  # n = 512, m = 16384, d = 16, 20 steps, float32
    python benchmarks/train.py --steps 50 --dtype float64

Both sides do the same full-batch gradient descent ``w <- w - lr * grad L(w)`` on
``L = 1/2 sum_i (f(x_i) - y_i)^2`` for ``--steps`` steps, compiled once (timed after a warm-up
call, medians of interleaved rounds):

* ``train(params, X, y, steps=S, learning_rate=lr, record_every=S)``: one fused pass of
  exponentials per step giving f, J and the last-token mass; records (loss, H(t) = J J^T, the
  position masses) at t = 0 and t = S only, so the time is the steps' plus two records;
* the baseline: ``jax.grad`` of a straightforward forward (``jax.nn.softmax`` over the
  (n, m, d) scores, then the weighted sum), ``S`` steps under ``jax.lax.scan`` in one ``jax.jit``.

Prints steps per second of each and their ratio, and checks that both reach the same weights.
Then the cost of one ``train`` step against its exponential floor: ``jnp.sum(jnp.exp(z))`` over
``n*m*d`` numbers, the exponentials one step cannot avoid (target <= 1.5x; the issue's size is
``--n 24 --m 4096 --d 8 --dtype float64 --steps 200``). Nothing here asserts a time.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from _common import dtypes_enabled, exp_floor, interleaved_medians, machine_line, size_parser

from ntk_attention import init_params, train


def plain_loss(w, a, X, y):
    r""":math:`L(w) = \frac12\sum_i (f(x_i) - y_i)^2`, :math:`f = m^{-1/2}\sum_r
    a_r\langle\mathrm{softmax}(x_{i,d} w_r x_i), x_i\rangle`."""
    s = jax.nn.softmax(w[None, :, None] * (X[:, -1:] * X)[:, None, :], axis=-1)  # (n, m, d)
    f = jnp.einsum("imk,ik,m->i", s, X, a) / jnp.sqrt(jnp.asarray(w.shape[0], X.dtype))
    return 0.5 * jnp.sum((f - y) ** 2)


@functools.partial(jax.jit, static_argnames="steps")
def plain_gd(w, a, X, y, lr, steps):
    """``steps`` gradient-descent steps on :func:`plain_loss` under ``lax.scan``; returns final
    w."""

    def step(w_, _):
        return w_ - lr * jax.grad(plain_loss)(w_, a, X, y), None

    return jax.lax.scan(step, w, None, length=steps)[0]


def main() -> None:
    parser = size_parser(
        " ".join(__doc__.split("\n\n")[0].split()), n=512, m=16384, d=16, repeats=3
    )
    parser.add_argument(
        "--steps", type=int, default=20, help="gradient steps per run (default %(default)s)"
    )
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    args = parser.parse_args()
    (dtype,) = dtypes_enabled(args.dtype)
    k_w, k_x = jax.random.split(jax.random.key(0))
    params = init_params(k_w, args.m, dtype=dtype)
    X = jax.random.normal(k_x, (args.n, args.d), dtype=dtype)
    y = 0.5 * X[:, -1]
    lr = 0.5 / args.n

    def ours():
        return train(
            params, X, y, steps=args.steps, learning_rate=lr, record_every=args.steps
        ).params.w

    def plain():
        return plain_gd(params.w, params.a, X, y, jnp.asarray(lr, dtype), args.steps)

    print(machine_line())
    print(
        f"n = {args.n}, m = {args.m}, d = {args.d}, {args.steps} steps, {args.dtype}; "
        f"medians of {args.repeats} interleaved rounds (after one compiling call each)"
    )
    w_ours, w_plain = np.asarray(ours()), np.asarray(plain())
    change = np.linalg.norm(w_plain - np.asarray(params.w))
    print(
        "same trajectory: |w_train - w_plain| / |w_plain - w(0)| = "
        f"{np.linalg.norm(w_ours - w_plain) / change:.2e}"
    )
    floor, factor = exp_floor(args.n * args.m * args.d, dtype, jax.random.key(2))
    t = interleaved_medians(
        {"train": ours, "plain": plain, "exp_floor": floor}, args.repeats, once_above_s=120.0
    )
    for name in ("train", "plain"):
        print(
            f"{name}: {args.steps / t[name].wall:8.2f} steps/s "
            f"({t[name].wall * 1e3:.1f} ms per run, cpu {t[name].cpu * 1e3:.1f} ms)"
        )
    print(
        f"ratio train/plain in steps/s: wall {t['plain'].wall / t['train'].wall:.1f}x, "
        f"cpu {t['plain'].cpu / t['train'].cpu:.1f}x"
    )
    step_wall, step_cpu = t["train"].wall / args.steps, t["train"].cpu / args.steps
    fl_wall, fl_cpu = t["exp_floor"].wall * factor, t["exp_floor"].cpu * factor
    print(
        f"one train step: {step_wall * 1e3:.3f} ms; "
        f"floor of its {args.n * args.m * args.d} exponentials: {fl_wall * 1e3:.3f} ms; "
        f"step/floor: wall {step_wall / fl_wall:.2f}x, cpu {step_cpu / fl_cpu:.2f}x"
    )


if __name__ == "__main__":
    main()
