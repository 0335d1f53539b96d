"""Peak memory of one wide empirical NTK: it must not grow with the width beyond the weights.

    python benchmarks/memory.py                      # m = 2^22, n = 256, d = 16, float32
    python benchmarks/memory.py --log2-m 20 --n 128

``empirical_ntk`` accumulates ``H = sum_c J_c J_c^T`` over neuron chunks, and each chunk's
exponentials are reduced inside one fused loop, so the working set is ``O(n^2 + n * chunk)``
whatever ``m``: only the parameters ``w, a`` (2 m numbers) grow with the width. An ``(n, m, d)``
tensor would take ``n m d`` numbers (64 GiB at the default sizes), one ``(n, m)`` Jacobian
``n m`` (4 GiB).

Prints the process's peak resident set (``resource.getrusage``, which never decreases) after
importing JAX, after drawing the parameters and after the NTK, next to those sizes; on a GPU
also the device's peak bytes in use.
"""

from __future__ import annotations

import argparse
import resource
import time

import jax
import numpy as np
from _common import dtypes_enabled, machine_line, peak_device_bytes

from ntk_attention import default_chunk_size, empirical_ntk, init_params

GIB = 2.0**30


def peak_rss_bytes() -> float:
    """Maximum resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--log2-m", type=int, default=22, help="width m = 2^k (default %(default)s)"
    )
    parser.add_argument("--n", type=int, default=256, help="windows (default %(default)s)")
    parser.add_argument("--d", type=int, default=16, help="window length (default %(default)s)")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    args = parser.parse_args()
    (dtype,) = dtypes_enabled(args.dtype)
    n, m, d = args.n, 2**args.log2_m, args.d
    item = dtype.itemsize
    print(machine_line())
    print(
        f"n = {n}, m = 2^{args.log2_m} = {m}, d = {d}, {args.dtype}; "
        f"default chunk {default_chunk_size(n, m, d)} neurons"
    )
    print(
        f"sizes: w and a {2 * m * item / GIB:.3f} GiB, H {n * n * item / GIB:.4f} GiB; "
        f"one (n, m) Jacobian would be {n * m * item / GIB:.1f} GiB, "
        f"an (n, m, d) tensor {n * m * d * item / GIB:.0f} GiB"
    )
    print(f"peak RSS after importing JAX:       {peak_rss_bytes() / GIB:.3f} GiB")
    k_w, k_x = jax.random.split(jax.random.key(0))
    params = init_params(k_w, m, dtype=dtype)
    X = jax.random.normal(k_x, (n, d), dtype=dtype)
    jax.block_until_ready(params)
    print(f"peak RSS after init_params:         {peak_rss_bytes() / GIB:.3f} GiB")
    t0 = time.perf_counter()
    H = np.asarray(empirical_ntk(params, X))
    seconds = time.perf_counter() - t0
    print(
        f"peak RSS after empirical_ntk:       {peak_rss_bytes() / GIB:.3f} GiB  (target <= 1.5 GB)"
    )
    device_peak = peak_device_bytes()
    if device_peak is not None:
        print(f"peak device memory in use:          {device_peak / GIB:.3f} GiB")
    print(
        f"empirical_ntk took {seconds:.1f} s (compilation included); H is {H.shape}, "
        f"finite: {bool(np.isfinite(H).all())}, "
        f"trace {np.trace(H):.4g}"
    )


if __name__ == "__main__":
    main()
