"""Empirical NTK against its floors: the exponentials it must evaluate and the Gram product.

    python benchmarks/ntk.py                          # n = 512, m = 16384, d = 16; float32 and float64
    python benchmarks/ntk.py --n 256 --m 4096 --d 8   # other sizes
    python benchmarks/ntk.py --chunks 256,1024,4096   # extra rows: (a) at other chunk sizes
    python benchmarks/ntk.py --no-autodiff            # sizes where (n, m, d) does not fit

Times, in one process, interleaved (one call of each per round; medians over ``--repeats``):

(a) ``empirical_ntk(params, X)``, the default closed form (one fused pass of exponentials per
    neuron chunk, ``H += J_c J_c^T``), called through the public API;
(b) ``empirical_ntk(params, X, method="autodiff")``: ``jax.jacrev`` of the batched
    ``jax.nn.softmax`` forward, then ``J J^T``. Its reverse pass holds one (n, m, d) cotangent per
    output, ~``n^2 m d`` numbers, so it runs only when that fits ``--autodiff-gib``;
(b') per-example autodiff, what generic NTK libraries do: ``vmap`` over windows of ``jax.grad``
    of the single-window ``jax.nn.softmax`` forward (memory ~``n m d``), then ``J J^T``;
(c) the exponential floor: ``n*m*d`` exponentials summed by one jitted ``jnp.sum(jnp.exp(z))``;
(d) a bare ``J @ J.T`` of shape (n, m).

and prints ``a/(c+d)`` (how far the NTK is from the work it cannot avoid), ``b/a`` and ``b'/a``.
Nothing here asserts a time; on a shared machine only the ratios mean much.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from _common import exp_floor, gram_floor, interleaved_medians, machine_line, size_parser
from ntk_attention import empirical_ntk, init_params
from ntk_attention.model import default_chunk_size


@jax.jit
def per_example_autodiff_ntk(w, a, X):
    r"""(b'): :math:`J_{i\cdot} = \nabla_w f(x_i)` by ``vmap(grad)`` of a plain softmax forward, then :math:`J J^\top`."""

    def f(w_, x):  # f(x; w, a) = m^{-1/2} sum_r a_r <softmax(x_d w_r x), x>
        s = jax.nn.softmax(w_[:, None] * (x[-1] * x)[None, :], axis=-1)
        return (s @ x) @ a / jnp.sqrt(jnp.asarray(w_.shape[0], x.dtype))

    J = jax.vmap(jax.grad(f), in_axes=(None, 0))(w, X)
    return J @ J.T


def batch_autodiff_bytes(n: int, m: int, d: int, dtype) -> float:
    """Rough peak of (b): ``jacrev`` of the batch carries n cotangents of shape (n, m, d), about twice."""
    return 2.0 * n * n * m * d * jnp.dtype(dtype).itemsize


def measure(n, m, d, dtype, *, repeats, autodiff_bytes, chunks=()) -> dict[str, float]:
    """Median seconds: ``ntk`` (a), ``autodiff`` (b, when it fits), ``per_example`` (b'), ``exp`` (c),
    ``gram`` (d) and ``ntk@<chunk>`` for each extra chunk size."""
    k_w, k_x, k_z, k_j = jax.random.split(jax.random.key(0), 4)
    params = init_params(k_w, m, dtype=dtype)
    X = jax.random.normal(k_x, (n, d), dtype=dtype)
    fns = {
        "ntk": lambda: empirical_ntk(params, X),
        "exp": exp_floor((n * m * d,), dtype, k_z),
        "gram": gram_floor(n, m, dtype, k_j),
    }
    if autodiff_bytes > 0:
        fns["per_example"] = lambda: per_example_autodiff_ntk(params.w, params.a, X)
        if batch_autodiff_bytes(n, m, d, dtype) <= autodiff_bytes:
            fns["autodiff"] = lambda: empirical_ntk(params, X, method="autodiff")
    for chunk in chunks:
        fns[f"ntk@{chunk}"] = lambda chunk=chunk: empirical_ntk(params, X, chunk_size=chunk)
    return interleaved_medians(fns, repeats)


def _cell(t: dict[str, float], key: str, scale: float = 1e3, fmt: str = "{:9.1f}ms") -> str:
    return fmt.format(t[key] * scale) if key in t else f"{'-':>{len(fmt.format(0.0))}s}"


def main() -> None:
    parser = size_parser(__doc__.splitlines()[0], n=512, m=16384, d=16, repeats=7)
    parser.add_argument("--dtypes", default="float32,float64", help="comma-separated (default %(default)s)")
    parser.add_argument("--autodiff-gib", type=float, default=4.0,
                        help="run (b) only when its ~2 n^2 m d numbers fit in this many GiB; 0 also skips (b') "
                             "(default %(default)s)")
    parser.add_argument("--chunks", default="", help="comma-separated chunk sizes timed as extra rows")
    args = parser.parse_args()
    dtypes = [jnp.dtype(t) for t in args.dtypes.split(",") if t]
    if any(t == jnp.float64 for t in dtypes):
        jax.config.update("jax_enable_x64", True)
    chunks = [int(c) for c in args.chunks.split(",") if c]
    budget = args.autodiff_gib * 2**30
    print(machine_line())
    print(f"n = {args.n}, m = {args.m}, d = {args.d}: {args.n * args.m * args.d:.3g} exponentials; "
          f"default chunk {default_chunk_size(args.n, args.m, args.d)} neurons; medians of {args.repeats} interleaved rounds")
    print(f"{'dtype':8s} {'(a) ntk':>11s} {'(b) autodiff':>11s} {'(b2) per-ex':>11s} {'(c) exp':>11s} {'(d) J@J.T':>11s} "
          f"{'a/(c+d)':>8s} {'b/a':>6s} {'b2/a':>6s}")
    for dtype in dtypes:
        t = measure(args.n, args.m, args.d, dtype, repeats=args.repeats, autodiff_bytes=budget, chunks=chunks)
        ratios = {"floor": t["ntk"] / (t["exp"] + t["gram"])}
        ratios.update({k: t[k] / t["ntk"] for k in ("autodiff", "per_example") if k in t})
        print(f"{dtype.name:8s} {_cell(t, 'ntk')} {_cell(t, 'autodiff')} {_cell(t, 'per_example')} {_cell(t, 'exp')} "
              f"{_cell(t, 'gram')} {_cell(ratios, 'floor', 1, '{:8.2f}')} {_cell(ratios, 'autodiff', 1, '{:6.1f}')} "
              f"{_cell(ratios, 'per_example', 1, '{:6.1f}')}")
        if budget > 0 and "autodiff" not in t:
            print(f"{'':8s} (b) skipped: jacrev of the batch needs ~{batch_autodiff_bytes(args.n, args.m, args.d, dtype) / 2**30:.0f} GiB")
        for chunk in chunks:
            print(f"{'':8s} chunk {chunk:>6d}: {t[f'ntk@{chunk}'] * 1e3:8.1f}ms, a/(c+d) = {t[f'ntk@{chunk}'] / (t['exp'] + t['gram']):.2f}")


if __name__ == "__main__":
    main()
