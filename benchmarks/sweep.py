"""Width sweep: one compiled program against separately jitted ``train`` runs; peak memory.

    python benchmarks/sweep.py                                # widths 2^6 .. 2^20, n = 64, d = 16
    python benchmarks/sweep.py --max-log2 14 --steps 4        # quicker
    python benchmarks/sweep.py --recompute-jacobian           # memory O(M) instead of O(n M)

Both sides do the same training (every width of ``--min-log2 .. --max-log2``, each from the
nested prefix of one draw, ``--steps`` gradient steps, H(t) at t = 0 and T) in one process, and
both times **include compilation**: the sweep compiles one program, the baseline one ``train``
program per width. ``train`` additionally averages the attention mass over positions at each
record (one extra pass of exponentials per record); the sweep records only the last-token mass.

Peak memory is the process's maximum resident set (``resource.getrusage``), printed after the
sweep (before the baseline runs), next to the sizes that must grow with the widths: the weights
and, unless ``--recompute-jacobian``, one step's Jacobian ``n x M``. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import resource
import time

import jax
import jax.numpy as jnp
import numpy as np
from _common import machine_line

from ntk_attention import Params, init_params, train
from ntk_attention import sweep as sw


def peak_rss_mb() -> float:
    """Maximum resident set size of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--min-log2", type=int, default=6, help="smallest width 2^k (default %(default)s)"
    )
    parser.add_argument(
        "--max-log2", type=int, default=20, help="largest width 2^k (default %(default)s)"
    )
    parser.add_argument("--n", type=int, default=64, help="windows (default %(default)s)")
    parser.add_argument("--d", type=int, default=16, help="window length (default %(default)s)")
    parser.add_argument("--steps", type=int, default=2, help="gradient steps (default %(default)s)")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument(
        "--recompute-jacobian", action="store_true", help="sweep keeps no n x M Jacobian"
    )
    parser.add_argument("--no-baseline", action="store_true", help="time the sweep only")
    parser.add_argument(
        "--warm", action="store_true", help="also time both again, compiled (steady state)"
    )
    args = parser.parse_args()
    if args.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    dtype = jnp.dtype(args.dtype)
    widths = [2**k for k in range(args.min_log2, args.max_log2 + 1)]
    M = sum(widths)
    X = jax.random.normal(jax.random.key(0), (args.n, args.d), dtype)
    y = X[:, -1] * 0.5
    lr = 0.01
    print(machine_line())
    print(
        f"widths 2^{args.min_log2}..2^{args.max_log2} ({len(widths)} widths, M = {M} neurons), "
        f"n = {args.n}, d = {args.d}, {args.steps} steps, {args.dtype}, "
        f"recompute_jacobian = {args.recompute_jacobian}"
    )
    rss0 = peak_rss_mb()

    def run_sweep():
        return sw.sweep(
            X,
            y,
            widths=widths,
            seeds=(0,),
            steps=args.steps,
            learning_rate=lr,
            record_every=args.steps,
            recompute_jacobian=args.recompute_jacobian,
        )

    t0 = time.perf_counter()
    res = run_sweep()
    t_sweep = time.perf_counter() - t0
    rss_sweep = peak_rss_mb()
    item = dtype.itemsize
    jac_mb = 0 if args.recompute_jacobian else args.n * M * item / 2**20
    print(
        f"sweep (one compilation): {t_sweep:.2f} s; "
        f"final loss per width {np.array2string(res.loss[:, 0, -1], precision=4)}"
    )
    print(
        f"peak RSS: {rss0:.0f} MiB before the sweep, {rss_sweep:.0f} MiB after it "
        f"(+{rss_sweep - rss0:.0f} MiB); "
        f"weights w(0), w, a: {3 * M * item / 2**20:.0f} MiB, "
        f"one step's Jacobian n x M: {jac_mb:.0f} MiB; "
        f"an (n, m_max, d) tensor would be {args.n * widths[-1] * args.d * item / 2**20:.0f} MiB"
    )
    if args.no_baseline:
        return

    w_all, a_all = init_params(jax.random.key(0), widths[-1], dtype=dtype)

    def run_separately():
        losses = []
        for m in widths:
            traj = train(
                Params(w_all[:m], a_all[:m]),
                X,
                y,
                steps=args.steps,
                learning_rate=lr,
                record_every=args.steps,
                record_neurons=False,
            )
            losses.append(float(jax.block_until_ready(traj.loss)[-1]))
        return np.array(losses)

    t0 = time.perf_counter()
    losses = run_separately()
    t_sum = time.perf_counter() - t0
    diff = float(np.max(np.abs(losses - res.loss[:, 0, -1]) / np.abs(losses)))
    print(
        f"separately jitted train, {len(widths)} widths: {t_sum:.2f} s "
        f"(peak RSS now {peak_rss_mb():.0f} MiB); "
        f"max relative difference of the final losses {diff:.1e}"
    )
    print(f"ratio sweep / separate runs (compilation included): {t_sweep / t_sum:.2f}")
    if args.warm:
        t0 = time.perf_counter()
        run_sweep()
        t_sweep_warm = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_separately()
        t_sum_warm = time.perf_counter() - t0
        print(
            f"compiled (second call of each): sweep {t_sweep_warm:.2f} s, "
            f"separate runs {t_sum_warm:.2f} s, ratio {t_sweep_warm / t_sum_warm:.2f}"
        )


if __name__ == "__main__":
    main()
