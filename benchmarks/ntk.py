"""Empirical NTK against its floors: the exponentials it must evaluate and the Gram product.

    # n = 512, m = 16384, d = 16; float32 and float64
    python benchmarks/ntk.py
    # other sizes
    python benchmarks/ntk.py --n 256 --m 4096 --d 8
    # extra rows: (a) at other chunk sizes
    python benchmarks/ntk.py --chunks 256,1024,4096
    # no (b), (b'): sizes where (n, m, d) does not fit
    python benchmarks/ntk.py --baseline-dtypes ""

Times, in one process, interleaved (one call of each per round; medians over ``--repeats``):

(a) ``empirical_ntk(params, X)``, the default closed form (one fused pass of exponentials per
    neuron chunk, ``H += J_c J_c^T``), called through the public API;
(b) ``empirical_ntk(params, X, method="autodiff")``: ``jax.jacrev`` of the batched
    ``jax.nn.softmax`` forward, then ``J J^T``. Its reverse pass holds one (n, m, d) cotangent per
    output, ~``n^2 m d`` numbers, so it runs only when that fits ``--autodiff-gib``;
(b') per-example autodiff, what generic NTK libraries do: ``vmap`` over windows of ``jax.grad``
    of the single-window ``jax.nn.softmax`` forward (memory ~``n m d``), then ``J J^T``;
(c) the exponential floor: ``n*m*d`` exponentials summed by one jitted ``jnp.sum(jnp.exp(z))``
    (above 2^28 of them, e.g. at accelerator sizes, timed on 2^28 and scaled linearly);
(d) a bare ``J @ J.T`` of shape (n, m).

and prints ``a/(c+d)`` (how far the NTK is from the work it cannot avoid), ``b/a`` and ``b'/a``,
on the wall clock and on this process's CPU time. (b) and (b') run for ``--baseline-dtypes``
only; one whose first call takes over 30 s is timed once.
Nothing here asserts a time; on a shared machine only the ratios mean much.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from _common import (
    Timing,
    dtypes_enabled,
    exp_floor,
    gram_floor,
    interleaved_medians,
    machine_line,
    peak_device_bytes,
    size_parser,
)

from ntk_attention import empirical_ntk, init_params
from ntk_attention.model import default_chunk_size


@jax.jit
def per_example_autodiff_ntk(w, a, X):
    r"""(b'): :math:`J_{i\cdot} = \nabla_w f(x_i)` by ``vmap(grad)`` of a plain softmax forward,
    then :math:`J J^\top`."""

    def f(w_, x):  # f(x; w, a) = m^{-1/2} sum_r a_r <softmax(x_d w_r x), x>
        s = jax.nn.softmax(w_[:, None] * (x[-1] * x)[None, :], axis=-1)
        return (s @ x) @ a / jnp.sqrt(jnp.asarray(w_.shape[0], x.dtype))

    J = jax.vmap(jax.grad(f), in_axes=(None, 0))(w, X)
    return J @ J.T


def batch_autodiff_bytes(n: int, m: int, d: int, dtype) -> float:
    """Rough peak of (b): ``jacrev`` of the batch carries n cotangents of shape (n, m, d), about
    twice."""
    return 2.0 * n * n * m * d * jnp.dtype(dtype).itemsize


def measure(
    n, m, d, dtype, *, repeats, autodiff_bytes, baselines=True, chunks=()
) -> dict[str, Timing]:
    """Median times: ``ntk`` (a), ``autodiff`` (b, when it fits), ``per_example`` (b'), ``exp`` (c),
    ``gram`` (d) and ``ntk@<chunk>`` for each extra chunk size."""
    k_w, k_x, k_z, k_j = jax.random.split(jax.random.key(0), 4)
    params = init_params(k_w, m, dtype=dtype)
    X = jax.random.normal(k_x, (n, d), dtype=dtype)
    exp_fn, exp_factor = exp_floor(n * m * d, dtype, k_z)
    fns = {
        "ntk": lambda: empirical_ntk(params, X),
        "exp": exp_fn,
        "gram": gram_floor(n, m, dtype, k_j),
    }
    if baselines:
        fns["per_example"] = lambda: per_example_autodiff_ntk(params.w, params.a, X)
        if batch_autodiff_bytes(n, m, d, dtype) <= autodiff_bytes:
            fns["autodiff"] = lambda: empirical_ntk(params, X, method="autodiff")
    for chunk in chunks:
        fns[f"ntk@{chunk}"] = lambda chunk=chunk: empirical_ntk(params, X, chunk_size=chunk)
    t = interleaved_medians(fns, repeats, once_above_s=30.0)
    t["exp"] = Timing(t["exp"].wall * exp_factor, t["exp"].cpu * exp_factor)
    return t


def ratios(t: dict[str, Timing], clock: str) -> str:
    """``a/(c+d)``, ``b/a`` and ``b'/a`` on one clock (``wall`` or ``cpu``), those measured."""
    get = {k: getattr(v, clock) for k, v in t.items()}
    out = [f"a/(c+d) = {get['ntk'] / (get['exp'] + get['gram']):.2f}"]
    out += [
        f"{label}/a = {get[k] / get['ntk']:.1f}"
        for k, label in (("autodiff", "b"), ("per_example", "b'"))
        if k in get
    ]
    return ", ".join(out)


def main() -> None:
    parser = size_parser(__doc__.splitlines()[0], n=512, m=16384, d=16, repeats=7)
    parser.add_argument(
        "--dtypes", default="float32,float64", help="comma-separated (default %(default)s)"
    )
    parser.add_argument(
        "--baseline-dtypes",
        default="float32",
        help=(
            "dtypes that also time (b) and (b'); in float64 (b') takes minutes "
            "(default %(default)s)"
        ),
    )
    parser.add_argument(
        "--autodiff-gib",
        type=float,
        default=4.0,
        help="run (b) only when its ~2 n^2 m d numbers fit in this many GiB (default %(default)s)",
    )
    parser.add_argument(
        "--chunks", default="", help="comma-separated chunk sizes timed as extra rows"
    )
    args = parser.parse_args()
    dtypes = dtypes_enabled(args.dtypes)
    with_baselines = {jnp.dtype(t) for t in args.baseline_dtypes.split(",") if t}
    chunks = [int(c) for c in args.chunks.split(",") if c]
    budget = args.autodiff_gib * 2**30
    print(machine_line())
    print(
        f"n = {args.n}, m = {args.m}, d = {args.d}: {args.n * args.m * args.d:.3g} exponentials; "
        f"default chunk {default_chunk_size(args.n, args.m, args.d)} neurons; "
        f"medians of {args.repeats} interleaved rounds "
        f"(wall clock; cpu = this process's CPU time)"
    )
    print(
        f"{'dtype':8s} {'(a) ntk':>11s} {'(b) autodiff':>13s} {'(b2) per-ex':>11s} "
        f"{'(c) exp':>11s} {'(d) J@J.T':>11s}"
    )
    for dtype in dtypes:
        base = dtype in with_baselines
        t = measure(
            args.n,
            args.m,
            args.d,
            dtype,
            repeats=args.repeats,
            autodiff_bytes=budget,
            baselines=base,
            chunks=chunks,
        )
        ms = {k: f"{v.wall * 1e3:9.1f}ms" for k, v in t.items()}
        peak = peak_device_bytes()
        print(
            f"{dtype.name:8s} {ms['ntk']} {ms.get('autodiff', '-'):>13s} "
            f"{ms.get('per_example', '-'):>11s} {ms['exp']} {ms['gram']}"
        )
        print(
            f"{'':8s} wall: {ratios(t, 'wall')}; a/d = {t['ntk'].wall / t['gram'].wall:.2f}"
            + (f"; device peak {peak / 2**30:.2f} GiB so far" if peak is not None else "")
        )
        print(f"{'':8s} cpu:  {ratios(t, 'cpu')}")
        if base and "autodiff" not in t:
            need = batch_autodiff_bytes(args.n, args.m, args.d, dtype)
            print(f"{'':8s} (b) skipped: jacrev of the batch needs ~{need / 2**30:.0f} GiB")
        for chunk in chunks:
            tc = {"ntk": t[f"ntk@{chunk}"], "exp": t["exp"], "gram": t["gram"]}
            print(
                f"{'':8s} chunk {chunk:>6d}: {tc['ntk'].wall * 1e3:8.1f}ms; "
                f"wall {ratios(tc, 'wall')}; cpu {ratios(tc, 'cpu')}"
            )


if __name__ == "__main__":
    main()
