r"""Width × seed sweeps of :func:`ntk_attention.train` in **one** compiled, sharded program.

Each run (width :math:`m`, seed :math:`s`) is plain gradient descent on
:math:`L = \frac12\sum_i (f(x_i) - y_i)^2` exactly as :func:`ntk_attention.train` does it, and
records at :math:`t = 0, k, 2k, \dots, T`:

* ``loss`` :math:`L(w(t))`;
* ``sign_agree_plus`` :math:`\#\{r: a_r = +1, w_r(t) > 0\}` and ``sign_agree_minus``
  :math:`\#\{r: a_r = -1, w_r(t) < 0\}` (out of ``n_plus``, ``n_minus``);
* ``last_token_mass`` :math:`\frac1{mn}\sum_r\sum_i s_{r,d}(x_i)`;
* ``ntk_change`` :math:`\|H(t) - H(0)\|_2` and ``ntk_min_eigenvalue`` :math:`\lambda_{\min}(H(t))`;
* ``max_weight_change`` :math:`\max_r |w_r(t) - w_r(0)|`;

and once per run ``ntk_initial`` :math:`H(0)` and ``ntk_infinite_distance``
:math:`\|H(0) - H^*\|_2`, with :math:`H^*` from :func:`ntk_attention.infinite_ntk` (float64 numpy,
width independent: computed once per sweep, outside the compiled program).

Design: neuron segments
-----------------------
The neurons of every run of a *block* (``seeds_per_block`` seeds × every width) are concatenated
into one vector of :math:`M = \text{seeds\_per\_block}\cdot\sum_m m` neurons, cut into chunks of
``c`` neurons, ``c`` a divisor of every width, so that **no chunk straddles two runs**; chunk
:math:`k` carries its run id :math:`q(k)` and its scale :math:`1/\sqrt{m_{q(k)}}`. One pass of
exponentials over the chunks (the core kernel ``model._chunk_moments``, ``G`` chunks at a time
under :func:`jax.lax.scan`) gives every run at once:

.. math::

    f_q(x_i) = \sum_{k: q(k) = q}\ \sum_{r \in k} \frac{a_r}{\sqrt{m_q}} \mu_r(x_i)
    \quad\text{(a segment sum)}, \qquad
    J_{ir} = \frac{a_r}{\sqrt{m_q}} x_{i,d} V_r(x_i),

    w_r \leftarrow w_r - \eta \sum_i J_{ir}\,(f_{q}(x_i) - y_i), \qquad
    H_q(t) = \sum_{k: q(k) = q} J_k J_k^\top .

So the work is exactly :math:`\sum_m m` neurons per seed (no padding to the widest width, unlike
masks), and the whole sweep is **one** XLA program whose shapes do not depend on which seeds a
block holds (every block reuses it: one compilation per sweep, not per width).

Memory: ``O(n·c·G·d)`` for the exponentials of one scan step, ``O(M)`` for the weights, the
``(R, runs, n, n)`` recorded NTKs :math:`H(t)` (returned to the host for the eigenvalues) and the
records (:func:`device_bytes` estimates one device's share); no ``(n, m, d)`` tensor is ever formed. By default one
step's Jacobian, ``O(n·M)``, is kept between the forward pass and the update (as :func:`train`
keeps its ``(n, m)`` Jacobian); ``recompute_jacobian=True`` recomputes it chunk by chunk in the
update instead (twice the exponentials, memory independent of ``n·M``).

Nested prefixes (docs/theory.md, "Computation"): a width-``m`` run of seed ``s`` starts from the first ``m`` neurons of
``init_params(jax.random.key(s), max(widths))``, so widths share their randomness and their
comparison is less noisy; each run alone has exactly the law of :func:`init_params` at width ``m``.

Devices: two layouts on a :func:`jax.make_mesh` mesh (axis ``"devices"``) of the given devices,
run with :func:`jax.shard_map`, chosen by :func:`plan_sweep` from a memory estimate
(:func:`device_bytes`):

* ``"runs"`` (whenever the largest device share fits): whole runs are placed on devices (largest
  width first, on the least loaded device), each device scans only its own runs' chunks and
  **no collective** is ever executed; run ids are device-local slots. This is the layout on one
  device.
* ``"neurons"`` (only when one run does not fit on one device): every run's chunks are spread over
  the devices and the per-run sums (:math:`f`, :math:`H`, counts, masses) are ``psum``-ed
  (``pmax`` for the weight change) at every step.

Either way the chunk count per device is padded to a multiple of ``G`` with dummy chunks
(``a = 0``) in a dump segment that is dropped, and each run's chunks are summed in the same order,
so the layouts and device counts agree to rounding (tested to 1e-12 in float64).

Eigenvalues are computed on the host (float64 numpy) from the recorded :math:`H(t)`, never inside
the compiled program: jaxlib 0.10's CPU LAPACK kernels (``lapack_dsyevd_ffi``) split a batch over
XLA's intra-op thread pool and block a pool thread until the pieces finish; with several CPU
devices running such a kernel at once every pool thread can be waiting and the program never
finishes (see docs/distributed.md). Across hosts the independent axis is the seed block (see
``verification.sweep_cmd``): no communication between hosts.

>>> import jax, jax.numpy as jnp
>>> X = jax.random.normal(jax.random.key(0), (6, 3)); y = X[:, -1]
>>> res = sweep(X, y, widths=(8, 16), seeds=(0, 1), steps=4, learning_rate=0.1, record_every=2)
>>> res.loss.shape  # width x seed x recorded step
(2, 2, 3)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P
from jaxtyping import Array, Float, Int

from ntk_attention import _checks
from ntk_attention.model import _chunk_moments, default_chunk_size, init_params, _window_stats
from ntk_attention.ntk import infinite_ntk
from ntk_attention.train import RISE_TOLERANCE

__all__ = [
    "SweepPlan", "SweepResult", "plan_sweep", "run_block", "concatenate", "sweep", "device_bytes", "RECORD_FIELDS",
    "LAYOUTS", "ARRAYS", "load",
]

AXIS = "devices"
LAYOUTS = ("runs", "neurons")
"""Device layouts of a block: whole runs per device (no collective) or every run split over devices."""

RECORD_FIELDS = (
    "loss",
    "sign_agree_plus",
    "sign_agree_minus",
    "last_token_mass",
    "ntk_change",
    "ntk_min_eigenvalue",
    "max_weight_change",
)
"""Fields of :class:`SweepResult` recorded at every recorded step, shape (W, S, R)."""


class SweepResult(NamedTuple):
    r"""A sweep's records as numpy arrays, indexed width × seed × recorded step.

    ``widths`` (W,), ``seeds`` (S,), ``step`` (R,); every name in :data:`RECORD_FIELDS` is
    (W, S, R) (counts are int64); ``n_plus``, ``n_minus`` (W, S) :math:`\#\{a_r = \pm1\}`;
    ``diverged_step`` (W, S) as in :class:`ntk_attention.Trajectory` (-1 if none);
    ``ntk_initial`` (W, S, n, n) :math:`H(0)`; ``ntk_infinite_distance`` (W, S)
    :math:`\|H(0) - H^*\|_2`; ``ntk_infinite`` (n, n) :math:`H^*` and ``ntk_infinite_error`` its
    quadrature error estimate (see :func:`ntk_attention.infinite_ntk`).
    """

    widths: Int[np.ndarray, " W"]
    seeds: Int[np.ndarray, " S"]
    step: Int[np.ndarray, " R"]
    loss: Float[np.ndarray, "W S R"]
    sign_agree_plus: Int[np.ndarray, "W S R"]
    sign_agree_minus: Int[np.ndarray, "W S R"]
    last_token_mass: Float[np.ndarray, "W S R"]
    ntk_change: Float[np.ndarray, "W S R"]
    ntk_min_eigenvalue: Float[np.ndarray, "W S R"]
    max_weight_change: Float[np.ndarray, "W S R"]
    n_plus: Int[np.ndarray, "W S"]
    n_minus: Int[np.ndarray, "W S"]
    diverged_step: Int[np.ndarray, "W S"]
    ntk_initial: Float[np.ndarray, "W S n n"]
    ntk_infinite_distance: Float[np.ndarray, "W S"]
    ntk_infinite: Float[np.ndarray, "n n"]
    ntk_infinite_error: float

    def to_xarray(self):
        """An :class:`xarray.Dataset` with dimensions width, seed, step, i, j (coordinates: the
        widths, seeds and steps) and each field's meaning from :data:`ARRAYS` as its ``description``
        attribute; ``sign_agree_*_fraction`` (counts over ``n_plus``/``n_minus``) added.
        Needs xarray (``pip install "ntk-attention[xarray]"``)."""
        try:
            import xarray as xr
        except ImportError:  # pragma: no cover - xarray is optional
            raise ImportError("to_xarray: expected the optional package xarray to be installed "
                              "(pip install 'ntk-attention[xarray]')") from None
        coords = {"width": np.asarray(self.widths), "seed": np.asarray(self.seeds), "step": np.asarray(self.step)}
        data = {}
        for k, (dims, text) in ARRAYS.items():
            if len(dims) == 1 and dims[0] in coords:  # widths, seeds, step are the coordinates
                continue
            data[k] = xr.DataArray(np.asarray(getattr(self, k)), dims=dims, attrs={"description": text})
        for side in ("plus", "minus"):
            total = np.asarray(getattr(self, f"n_{side}"), np.float64)[..., None]
            with np.errstate(invalid="ignore", divide="ignore"):
                frac = np.where(total > 0, np.asarray(getattr(self, f"sign_agree_{side}")) / np.maximum(total, 1), np.nan)
            data[f"sign_agree_{side}_fraction"] = xr.DataArray(frac, dims=("width", "seed", "step"), attrs={
                "description": f"sign_agree_{side} / n_{side}, a fraction in [0, 1]; NaN when n_{side} = 0"})
        return xr.Dataset(data, coords=coords)


def load(path) -> SweepResult:
    r"""A :class:`SweepResult` from an ``.npz`` file holding its fields (``sweep.npz`` of
    ``ntk-verify sweep``): e.g. ``loss[w, s, r]`` :math:`= L_{m_w, s}(t_r) = \frac12\sum_i (f(x_i) - y_i)^2`.
    Other arrays in the file are ignored; nothing is unpickled."""
    with np.load(path, allow_pickle=False) as npz:
        missing = [k for k in SweepResult._fields if k not in npz.files]
        if missing:
            raise ValueError(f"path: expected an .npz with every SweepResult field, {path} lacks {missing}")
        fields = {k: npz[k] for k in SweepResult._fields}
    fields["ntk_infinite_error"] = float(fields["ntk_infinite_error"])
    return SweepResult(**fields)


ARRAYS: dict[str, tuple[tuple[str, ...], str]] = {
    "widths": (("width",), "network width m (neurons)"),
    "seeds": (("seed",), "network seed s: run (m, s) starts from init_params(jax.random.key(s), max(widths))[:m]"),
    "step": (("step",), "gradient-descent step t of each record"),
    "loss": (("width", "seed", "step"), "L(w(t)) = 1/2 sum_i (f(x_i) - y_i)^2 (a sum over the n windows, not a mean)"),
    "sign_agree_plus": (("width", "seed", "step"), "count of neurons with a_r = +1 and w_r(t) > 0 (out of n_plus)"),
    "sign_agree_minus": (("width", "seed", "step"), "count of neurons with a_r = -1 and w_r(t) < 0 (out of n_minus)"),
    "last_token_mass": (("width", "seed", "step"), "attention on the last token, mean over neurons and windows"),
    "ntk_change": (("width", "seed", "step"), "||H(t) - H(0)||_2, spectral norm, units of H"),
    "ntk_min_eigenvalue": (("width", "seed", "step"), "lambda_min(H(t)), units of H"),
    "max_weight_change": (("width", "seed", "step"), "max_r |w_r(t) - w_r(0)|, units of w"),
    "n_plus": (("width", "seed"), "count of neurons with a_r = +1"),
    "n_minus": (("width", "seed"), "count of neurons with a_r = -1"),
    "diverged_step": (("width", "seed"), "first step whose loss is non-finite or above divergence_factor * L(0); -1 if none"),
    "ntk_initial": (("width", "seed", "i", "j"), "H(0) = J J^T over windows i, j"),
    "ntk_infinite_distance": (("width", "seed"), "||H(0) - H*||_2, spectral norm, units of H"),
    "ntk_infinite": (("i", "j"), "H*, the infinite-width NTK (float64 quadrature)"),
    "ntk_infinite_error": ((), "quadrature error estimate of H* (max over entries)"),
}
"""Dimensions and meaning (with units) of every :class:`SweepResult` field, for files and xarray."""


class SweepPlan(NamedTuple):
    """Everything fixed for a sweep: sizes, hyper-parameters, layout, mesh and :math:`H^*`.

    Built by :func:`plan_sweep`; every :func:`run_block` call with one plan runs the same
    compiled program. ``layout`` is one of :data:`LAYOUTS`; ``placement[q] = (device, slot)`` says
    where run ``q = seed_index * W + width_index`` of a block lives (``slots`` segments per
    device); ``padded_chunks`` is the chunk count of all devices together; ``device_bytes`` the
    estimate of :func:`device_bytes` for the chosen layout and ``device_budget`` the bytes one
    device may use.
    """

    X: Float[Array, "n d"]
    y: Float[Array, " n"]
    widths: tuple[int, ...]
    seeds_per_block: int
    steps: int
    record_every: int
    learning_rate: float
    sigma: float
    output_signs: str
    divergence_factor: float
    chunk: int
    group: int
    padded_chunks: int
    recompute_jacobian: bool
    mesh: jax.sharding.Mesh
    layout: str
    placement: tuple[tuple[int, int], ...]
    slots: int
    device_bytes: int
    device_budget: int
    ntk_infinite: np.ndarray
    ntk_infinite_error: float


def _check_widths(widths) -> tuple[int, ...]:
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) or len(widths) == 0:
        raise ValueError(f"widths: expected a non-empty sequence of positive integers, got {widths!r}")
    out = tuple(_checks.check_positive(m, "widths", integer=True) for m in widths)
    if any(b <= a for a, b in zip(out, out[1:])):
        raise ValueError(f"widths: expected strictly increasing widths, got {list(out)}")
    return out


def _check_seeds(seeds) -> tuple[int, ...]:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or len(seeds) == 0:
        raise ValueError(f"seeds: expected a non-empty sequence of integers in [0, 2**31), got {seeds!r}")
    out = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 0 <= s < 2**31:
            raise ValueError(f"seeds: expected integers in [0, 2**31), got {s!r}")
        out.append(int(s))
    if len(set(out)) != len(out):
        raise ValueError(f"seeds: expected distinct seeds, got {out}")
    return tuple(out)


def _resolve_sweep_chunk(chunk_size, widths, n, d) -> int:
    """Largest divisor of gcd(widths) not above the default chunk, or a checked ``chunk_size``."""
    g = functools.reduce(math.gcd, widths)
    if chunk_size is not None:
        chunk = _checks.check_positive(chunk_size, "chunk_size", integer=True)
        if g % chunk:
            raise ValueError(f"chunk_size: expected a divisor of every width (gcd {g}), got {chunk}")
        return chunk
    cap = default_chunk_size(n, widths[-1], d)
    return max(q for q in range(1, min(g, cap) + 1) if g % q == 0)


def plan_sweep(
    X: Float[Array, "n d"],
    y: Float[Array, " n"],
    *,
    widths: Sequence[int],
    steps: int,
    learning_rate: float,
    record_every: int = 1,
    sigma: float = 1.0,
    output_signs: str = "random",
    seeds_per_block: int = 1,
    divergence_factor: float = 1e8,
    chunk_size: int | None = None,
    group_size: int | None = None,
    recompute_jacobian: bool = False,
    devices: Sequence[jax.Device] | None = None,
    infinite_nodes: int | None = None,
    layout: str = "auto",
    device_memory: int | None = None,
) -> SweepPlan:
    r"""Fix a sweep: check the inputs, choose the chunk layout and mesh, compute :math:`H^*` once.

    ``widths`` strictly increasing; ``chunk_size`` (default: the largest divisor of
    :math:`\gcd(\text{widths})` not above :func:`ntk_attention.default_chunk_size`) must divide
    every width. ``group_size`` chunks are evaluated together per scan step (default: about
    ``default_chunk_size`` neurons): the working set is ``n * chunk * group_size * d`` numbers.
    ``recompute_jacobian``: the gradient pass recomputes the moments instead of keeping one step's
    Jacobian, twice the exponentials for memory ``O(M)`` instead of ``O(n M)``.
    ``devices`` (default :func:`jax.local_devices`) form the ``"devices"`` mesh; ``infinite_nodes``
    is passed to :func:`ntk_attention.infinite_ntk` as ``nodes``.
    ``layout``: ``"auto"`` (default) takes ``"runs"`` (whole runs per device, no collective) when
    :func:`device_bytes` of the most loaded device is within ``device_memory`` (default: the
    device's allocator limit, or on CPU half the host memory divided among the devices), else
    ``"neurons"`` (each run split over the devices, ``psum`` per step); ``"runs"`` or
    ``"neurons"`` force one (see the module docstring).
    Computation is in the dtype of ``X`` and ``y`` (enable x64 yourself for float64).
    """
    X = _checks.check_windows(X)
    y = _checks.check_targets(y, X.shape[0])
    widths = _check_widths(widths)
    steps = _checks.check_positive(steps, "steps", integer=True)
    record_every = _checks.check_positive(record_every, "record_every", integer=True)
    if steps % record_every:
        raise ValueError(f"record_every: expected a divisor of steps = {steps}, got {record_every}")
    lr = _checks.check_positive(learning_rate, "learning_rate")
    sigma = _checks.check_positive(sigma, "sigma")
    if output_signs not in ("random", "minus", "plus"):
        raise ValueError(f"output_signs: expected one of ('random', 'minus', 'plus'), got {output_signs!r}")
    seeds_per_block = _checks.check_positive(seeds_per_block, "seeds_per_block", integer=True)
    divergence_factor = _checks.check_positive(divergence_factor, "divergence_factor")
    devices = list(jax.local_devices() if devices is None else devices)
    if not devices:
        raise ValueError("devices: expected at least one device, got none")
    if layout not in ("auto",) + LAYOUTS:
        raise ValueError(f"layout: expected one of {('auto',) + LAYOUTS}, got {layout!r}")
    n, d = X.shape
    D = len(devices)
    chunk = _resolve_sweep_chunk(chunk_size, widths, n, d)
    run_chunks = [m // chunk for _ in range(seeds_per_block) for m in widths]  # run q = s_idx * W + m_idx
    runs = len(run_chunks)
    records = steps // record_every + 1
    dtype = jnp.result_type(X, y)
    cap = default_chunk_size(n, widths[-1], d) // chunk
    budget = _device_budget(devices) if device_memory is None else _checks.check_positive(
        device_memory, "device_memory", integer=True)

    def arrange(kind):
        """Placement, slots and chunks per device (before padding to the group) of a layout."""
        if kind == "neurons":
            return tuple((0, q) for q in range(runs)), runs, -(-sum(run_chunks) // D)
        load, count, owner = [0] * D, [0] * D, [0] * runs
        for q in sorted(range(runs), key=lambda q: (-run_chunks[q], q)):  # largest first, least loaded device
            dev = min(range(D), key=lambda i: (load[i], count[i], i))
            owner[q] = dev
            load[dev] += run_chunks[q]
            count[dev] += 1
        # slots in increasing q on each device: its chunks are then sorted by segment id
        place = tuple((owner[q], sum(owner[p] == owner[q] for p in range(q))) for q in range(runs))
        return place, max(count), max(load)

    def sized(kind):
        place, slots, per_device = arrange(kind)
        group = (max(1, min(cap, per_device)) if group_size is None
                 else _checks.check_positive(group_size, "group_size", integer=True))
        per_device = -(-per_device // group) * group
        need = device_bytes(n=n, d=d, chunk=chunk, group=group, chunks_per_device=per_device, slots=slots,
                            records=records, itemsize=jnp.dtype(dtype).itemsize,
                            recompute_jacobian=recompute_jacobian)
        return place, slots, group, per_device, need

    if layout == "auto":
        runs_fit = sized("runs")
        layout = "runs" if runs_fit[-1] <= budget or D == 1 else "neurons"
    place, slots, group, per_device, need = sized(layout)
    mesh = jax.make_mesh((D,), (AXIS,), devices=devices)
    replicated = NamedSharding(mesh, P())
    hstar = infinite_ntk(np.asarray(X, np.float64), sigma=sigma, nodes=infinite_nodes, return_error=True)
    return SweepPlan(
        X=jax.device_put(X.astype(dtype), replicated),
        y=jax.device_put(y.astype(dtype), replicated),
        widths=widths,
        seeds_per_block=seeds_per_block,
        steps=steps,
        record_every=record_every,
        learning_rate=lr,
        sigma=sigma,
        output_signs=output_signs,
        divergence_factor=divergence_factor,
        chunk=chunk,
        group=group,
        padded_chunks=per_device * D,
        recompute_jacobian=bool(recompute_jacobian),
        mesh=mesh,
        layout=layout,
        placement=place,
        slots=slots,
        device_bytes=int(need),
        device_budget=int(budget),
        ntk_infinite=hstar.matrix,
        ntk_infinite_error=hstar.error_estimate,
    )


def device_bytes(*, n: int, d: int, chunk: int, group: int, chunks_per_device: int, slots: int, records: int,
                 itemsize: int, recompute_jacobian: bool = False) -> int:
    r"""Upper estimate of the bytes one device holds while running a block.

    With :math:`K` chunks of :math:`c` neurons on the device (:math:`Kc` neurons), :math:`G`
    chunks per scan step, :math:`S` run slots (+1 dump segment), :math:`R` records and
    :math:`b` bytes per number:

    .. math::

        b\,\big(6Kc + 2nKc\,[\text{Jacobian kept}] + 8\,n\,c\,G\,d
                 + (R + 4)(S + 1)\,n^2 + 4(R + 1)(S + 1)\big)

    (weights, initial weights, signs, scales, gradient and update; the step's Jacobian and its
    product with the residuals; the exponentials of one scan step and their moments; the recorded
    :math:`H(t)` with the carried :math:`H`, :math:`H(0)` and the scan's copy; the scalar records).
    """
    K, c, S = chunks_per_device, chunk, slots + 1
    numbers = 6 * K * c + (0 if recompute_jacobian else 2 * n * K * c) + 8 * n * c * group * d
    numbers += (records + 4) * S * n * n + 4 * (records + 1) * S
    return int(itemsize * numbers)


def _device_budget(devices) -> int:
    """Bytes one device may use: its allocator limit, else (CPU) half the host memory over the devices."""
    stats = None
    try:
        stats = devices[0].memory_stats()
    except Exception:  # noqa: BLE001 - backends without memory statistics
        stats = None
    if stats and stats.get("bytes_limit"):
        return int(stats["bytes_limit"])
    import os

    try:
        host = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        host = 8 * 2**30
    return int(host // 2 // len(devices))


@functools.partial(jax.jit, static_argnames=("width", "sigma", "output_signs", "dtype"))
def _initial_draws(seeds, *, width, sigma, output_signs, dtype):
    """``init_params(jax.random.key(s), width)`` for every seed s in one program: (S, width) twice."""
    draw = functools.partial(init_params, width=width, sigma=sigma, output_signs=output_signs, dtype=dtype)
    return jax.vmap(lambda s: draw(jax.random.key(s)))(seeds)


def _layout(plan: SweepPlan, seeds: tuple[int, ...]):
    """Host-side neuron layout of one block: chunked w(0), a, segment id and 1/sqrt(m) per chunk.

    Run ``q = seed_index * W + width_index`` goes to ``plan.placement[q] = (device, slot)``; the
    chunks of device ``i`` are rows ``i*K … (i+1)*K - 1`` (``K = padded_chunks / devices``), its
    runs in increasing ``q``, then dummy chunks in the dump segment ``slots``. In the ``"neurons"``
    layout every run is on "device 0" of one long row range that the mesh cuts into equal shares.
    """
    dtype = np.dtype(plan.X.dtype)
    c, W = plan.chunk, len(plan.widths)
    D = 1 if plan.layout == "neurons" else plan.mesh.devices.size
    K = plan.padded_chunks // D
    W_full, A_full = (np.asarray(v) for v in _initial_draws(
        jnp.asarray(seeds, jnp.int32), width=plan.widths[-1], sigma=plan.sigma,
        output_signs=plan.output_signs, dtype=dtype,
    ))
    parts = [([], [], [], []) for _ in range(D)]
    signs = []
    for s_idx, (w_full, a_full) in enumerate(zip(W_full, A_full)):
        for m_idx, m in enumerate(plan.widths):
            dev, slot = plan.placement[s_idx * W + m_idx]
            ws, as_, seg, coef = parts[dev]
            ws.append(w_full[:m].reshape(-1, c))
            as_.append(a_full[:m].reshape(-1, c))
            seg.append(np.full(m // c, slot, np.int32))
            coef.append(np.full(m // c, 1.0 / math.sqrt(m), dtype))
            signs.append((int(np.sum(a_full[:m] > 0)), int(np.sum(a_full[:m] < 0))))
    out = []
    for ws, as_, seg, coef in parts:
        pad = K - sum(len(r) for r in seg)
        ws.append(np.zeros((pad, c), dtype))
        as_.append(np.zeros((pad, c), dtype))
        seg.append(np.full(pad, plan.slots, np.int32))
        coef.append(np.zeros(pad, dtype))
        out.append(tuple(np.concatenate(v) for v in (ws, as_, seg, coef)))
    return tuple(np.concatenate(v) for v in zip(*out)), np.array(signs)


def _block_program(w0, a, coef, run, X, y, lr, div, *, slots, steps, record_every, group, recompute_jacobian,
                   collective):
    """One device's share of a block: GD on its chunks, per-run (segment) sums.

    ``w0``, ``a`` (K, c); ``coef`` :math:`1/\\sqrt{m_q}` and ``run`` (the run's segment) per chunk
    (K,). ``collective``: the runs are split over the mesh and every per-run sum is ``psum``-ed
    (``"neurons"`` layout); otherwise nothing leaves the device (``"runs"`` layout). Returns the
    records (R, slots + 1), the symmetrised H(t) (R, slots + 1, n, n) and the divergence steps.
    No eigenvalue (LAPACK) call happens here: see the module docstring.
    """
    K, c = w0.shape
    n = X.shape[0]
    segs = slots + 1  # + dump segment of the padding chunks
    psum = functools.partial(jax.lax.psum, axis_name=AXIS) if collective else (lambda v: v)
    pmax = functools.partial(jax.lax.pmax, axis_name=AXIS) if collective else (lambda v: v)
    xc, cx, cmax, cmin, centre = _window_stats(X)
    xd = X[:, -1]
    scale = a * coef[:, None]  # a_r / sqrt(m_q), (K, c)
    seg_sum = functools.partial(jax.ops.segment_sum, segment_ids=run, num_segments=segs, indices_are_sorted=True)
    width = jnp.maximum(psum(seg_sum(jnp.full((K,), c, X.dtype))), 1)  # 1 for empty slots

    def moments(wg):
        """Mean (shifted back), variance and last mass of G chunks, each (n, G, c)."""
        mean, var, last = (v.reshape(n, group, c) for v in _chunk_moments(wg.reshape(-1), xc, cx, cmax, cmin))
        return mean + centre[:, None, None], var, last

    def jac(var, sg):  # J_ir = a_r / sqrt(m_q) x_{i,d} V_r(x_i), as (G, n, c)
        return jnp.moveaxis(xd[:, None, None] * var, 0, 1) * sg[:, None, :]

    def groups(w):
        return w.reshape(-1, group, c), scale.reshape(-1, group, c), run.reshape(-1, group)

    def evaluate(w, with_ntk):
        """Loss, residuals (segs, n), neuron-mean last mass, H per run and J (K, n, c) unless recomputed."""

        def body(H, chunk):
            wg, sg, rg = chunk  # (G, c), (G, c), (G,)
            mean, var, last = moments(wg)
            J_g = jac(var, sg)
            if with_ntk:
                H = H.at[rg].add(jnp.einsum("gic,gjc->gij", J_g, J_g))
            out = (jnp.einsum("igc,gc->gi", mean, sg), last.mean(axis=0).sum(axis=-1))
            return H, out + (() if recompute_jacobian else (J_g,))

        H0 = jax.lax.pcast(jnp.zeros((segs, n, n) if with_ntk else (), X.dtype), AXIS, to="varying")
        H, (f, mass, *J) = jax.lax.scan(body, H0, groups(w))
        f = psum(seg_sum(f.reshape(K, n)))
        r = f - y[None, :]
        loss = 0.5 * jnp.sum(r * r, axis=1)
        mass = psum(seg_sum(mass.reshape(K))) / width
        H = psum(H) if with_ntk else None
        return loss, (J[0].reshape(K, n, c) if J else None), r, mass, H

    def gradient(w, J, r):
        """:math:`\\partial L/\\partial w_r = \\sum_i J_{ir} r_{q(r),i}`, from J or by a second pass."""
        if J is not None:
            return jnp.einsum("kic,ki->kc", J, r[run])

        def body(_, chunk):
            wg, sg, rg = chunk
            return None, jnp.einsum("gic,gi->gc", jac(moments(wg)[1], sg), r[rg])

        return jax.lax.scan(body, None, groups(w))[1].reshape(K, c)

    def record(w, loss, mass, H):
        return {
            "loss": loss,
            "sign_agree_plus": psum(seg_sum(jnp.sum((a > 0) & (w > 0), axis=1))),
            "sign_agree_minus": psum(seg_sum(jnp.sum((a < 0) & (w < 0), axis=1))),
            "last_token_mass": mass,
            "ntk": H,
            "max_weight_change": pmax(
                jax.ops.segment_max(jnp.max(jnp.abs(w - w0), axis=1), run, segs, indices_are_sorted=True)
            ),
        }

    rise_floor = jnp.finfo(X.dtype).eps * 0.5 * jnp.sum(y * y)

    def step(carry, loss, J, r):
        """One GD step per run; a run whose loss is non-finite or above the factor freezes; ``above``:
        first step of its current stretch above L(0) (RISE_TOLERANCE, as in train), -1 when below."""
        w, bad, t, loss0, above = carry
        diverging = ~jnp.isfinite(loss) | (loss > div * loss0)
        bad = jnp.where((bad < 0) & diverging, t, bad)
        above = jnp.where(loss > (1 + RISE_TOLERANCE) * loss0 + rise_floor, jnp.where(above < 0, t, above), -1)
        w = jnp.where((bad[run] < 0)[:, None], w - lr * gradient(w, J, r), w)
        return w, bad, t + 1, loss0, above

    def plain_steps(carry):
        def plain_step(carry, _):
            loss, J, r, _, _ = evaluate(carry[0], False)
            return step(carry, loss, J, r), None

        return jax.lax.scan(plain_step, carry, None, length=record_every - 1)[0]

    def block(carry, _):
        """Record at t = 0, k, ..., T; the last block (t = T) only records and checks divergence."""
        w, bad, t, loss0, above = carry
        loss, J, r, mass, H = evaluate(w, True)
        H = 0.5 * (H + jnp.swapaxes(H, 1, 2))
        loss0 = jnp.where(t == 0, loss, loss0)
        rec = record(w, loss, mass, H)
        state = step((w, bad, t, loss0, above), loss, J, r)
        if record_every > 1:  # one traced copy of each pass keeps compilation short
            state = jax.lax.cond(t < steps, plain_steps, lambda s: s, state)
        return state, rec

    zeros = jnp.zeros((segs,), X.dtype)
    none = jnp.full((segs,), -1, jnp.int32)
    init = (w0, none, jnp.asarray(0, jnp.int32), zeros, none)
    if not collective:  # every per-run value is device-local (varying over the mesh) from the first step
        init = (w0,) + tuple(jax.lax.pcast(v, AXIS, to="varying") for v in init[1:])
    (_, bad, _, _, above), recs = jax.lax.scan(block, init, None, length=steps // record_every + 1)
    bad = jnp.where(bad >= 0, bad, above)  # as train's diverged_step
    if collective:
        return recs, bad
    return jax.tree.map(lambda v: v[None], (recs, bad))  # a leading device axis, laid out over the mesh


@functools.partial(
    jax.jit, static_argnames=("mesh", "slots", "steps", "record_every", "group", "recompute_jacobian", "layout")
)
def _block_impl(w0, a, coef, run, X, y, lr, div, *, mesh, slots, steps, record_every, group, recompute_jacobian,
                layout):
    sharded, rep = P(AXIS), P()
    collective = layout == "neurons"
    program = functools.partial(_block_program, slots=slots, steps=steps, record_every=record_every, group=group,
                                recompute_jacobian=recompute_jacobian, collective=collective)
    out = rep if collective else sharded
    return jax.shard_map(
        program,
        mesh=mesh,
        in_specs=(sharded, sharded, sharded, sharded, rep, rep, rep, rep),
        out_specs=(out, out),
    )(w0, a, coef, run, X, y, lr, div)


def run_block(plan: SweepPlan, seeds: Sequence[int], *, stage=None) -> SweepResult:
    r"""Run every width for ``plan.seeds_per_block`` seeds in the plan's compiled program.

    Seed ``s`` starts from ``init_params(jax.random.key(s), max(widths))`` (nested prefixes).
    The eigenvalues :math:`\|H(t) - H(0)\|_2 = \max_k |\lambda_k(H(t) - H(0))|`,
    :math:`\lambda_{\min}(H(t))` and :math:`\|H(0) - H^*\|_2` are computed here in float64
    numpy from the recorded :math:`H(t)`. ``stage``, if given, is called with a short text before
    each phase (``"drawing and laying out the initial weights"``, ``"compiling and dispatching"``,
    ``"waiting for the device computation"``, ``"host eigenvalues"``) so that a caller can say
    what a slow block was waiting for.
    """
    seeds = _check_seeds(seeds)
    if len(seeds) != plan.seeds_per_block:
        raise ValueError(f"seeds: expected {plan.seeds_per_block} seeds (plan.seeds_per_block), got {len(seeds)}")
    note = stage or (lambda text: None)
    note("drawing and laying out the initial weights")
    (w0, a, run, coef), signs = _layout(plan, seeds)
    sharded = NamedSharding(plan.mesh, P(AXIS))
    dtype = plan.X.dtype
    note("compiling and dispatching")
    recs, bad = _block_impl(
        *(jax.device_put(v, sharded) for v in (w0, a, coef, run)),
        plan.X, plan.y, jnp.asarray(plan.learning_rate, dtype), jnp.asarray(plan.divergence_factor, dtype),
        mesh=plan.mesh, slots=plan.slots, steps=plan.steps, record_every=plan.record_every, group=plan.group,
        recompute_jacobian=plan.recompute_jacobian, layout=plan.layout,
    )
    note("waiting for the device computation")
    recs, bad = jax.device_get((recs, bad))
    note("host eigenvalues")
    if plan.layout == "neurons":  # replicated: give it the device axis of the runs layout
        recs, bad = jax.tree.map(lambda v: np.asarray(v)[None], (recs, bad))
    dev = np.array([p[0] for p in plan.placement])
    slot = np.array([p[1] for p in plan.placement])
    S, W = len(seeds), len(plan.widths)

    def per_run(x):  # (D, R, slots + 1, ...) or (D, slots + 1) -> (W, S, ...) with R last
        x = np.asarray(x)
        x = x[dev, :, slot] if x.ndim > 2 else x[dev, slot]  # (runs, R, ...) or (runs,)
        return np.swapaxes(x.reshape(S, W, *x.shape[1:]), 0, 1)

    H = per_run(recs["ntk"]).astype(np.float64)  # (W, S, R, n, n)
    fields = {k: per_run(recs[k]) for k in ("loss", "sign_agree_plus", "sign_agree_minus", "last_token_mass",
                                            "max_weight_change")}
    fields["ntk_change"] = np.abs(np.linalg.eigvalsh(H - H[:, :, :1])).max(axis=-1)
    fields["ntk_min_eigenvalue"] = np.linalg.eigvalsh(H)[..., 0]
    for k in ("sign_agree_plus", "sign_agree_minus"):
        fields[k] = fields[k].astype(np.int64)
    H0 = per_run(recs["ntk"])[:, :, 0]
    diff = H0.astype(np.float64) - plan.ntk_infinite
    return SweepResult(
        widths=np.array(plan.widths, np.int64),
        seeds=np.array(seeds, np.int64),
        step=np.arange(0, plan.steps + 1, plan.record_every, dtype=np.int64),
        **fields,
        n_plus=_per_run_flat(signs[:, 0], S, W).astype(np.int64),
        n_minus=_per_run_flat(signs[:, 1], S, W).astype(np.int64),
        diverged_step=per_run(bad).astype(np.int64),
        ntk_initial=H0,
        ntk_infinite_distance=np.abs(np.linalg.eigvalsh(diff)).max(axis=-1),
        ntk_infinite=plan.ntk_infinite,
        ntk_infinite_error=float(plan.ntk_infinite_error),
    )


def _per_run_flat(x, S, W):
    """(runs,) in run order q = seed_index * W + width_index -> (W, S)."""
    return np.swapaxes(np.asarray(x).reshape(S, W), 0, 1)


_PER_SWEEP = ("widths", "step", "ntk_infinite", "ntk_infinite_error")


def ntk_infinite_tolerance(a: "SweepResult", b: "SweepResult") -> float:
    r"""How far two computations of the same :math:`H^*` may differ entrywise: the sum of their
    quadrature error estimates plus :math:`16\,n\,\epsilon\,\max|H^*|` of rounding (BLAS, XLA and
    numpy's SIMD paths round differently between CPUs, so blocks from two hosts differ in the last
    bits; docs/reliability.md)."""
    H = np.asarray(a.ntk_infinite, np.float64)
    eps = np.finfo(np.float64).eps
    return float(a.ntk_infinite_error) + float(b.ntk_infinite_error) + 16 * H.shape[-1] * eps * float(np.abs(H).max(initial=0.0))


def concatenate(results: Sequence[SweepResult]) -> SweepResult:
    """Join blocks of one sweep along the seed axis (in the given order).

    Blocks must agree exactly on widths and recorded steps, and on :math:`H^*` within
    :func:`ntk_infinite_tolerance` (blocks computed on other hosts differ in its last bits); a
    mismatch raises ValueError naming the field and both values. The joined :math:`H^*` is block 0's,
    its error estimate the largest of the blocks'.
    """
    results = list(results)
    if not results:
        raise ValueError("results: expected at least one SweepResult, got none")
    first = results[0]
    for i, res in enumerate(results[1:], 1):
        for k in ("widths", "step"):
            a, b = getattr(first, k), getattr(res, k)
            if not np.array_equal(a, b):
                raise ValueError(f"results: block {i} has {k} = {b.tolist()}, block 0 has {a.tolist()}; not one sweep")
        a, b = np.asarray(first.ntk_infinite, np.float64), np.asarray(res.ntk_infinite, np.float64)
        if a.shape != b.shape:
            raise ValueError(f"results: block {i} has ntk_infinite of shape {b.shape}, block 0 {a.shape}; not one sweep")
        gap, tol = float(np.abs(a - b).max(initial=0.0)), ntk_infinite_tolerance(first, res)
        if not gap <= tol:
            raise ValueError(f"results: block {i}'s ntk_infinite differs from block 0's by {gap:.3g} (max entry), "
                             f"beyond their quadrature errors and rounding {tol:.3g}; not one sweep")
    joined = {k: getattr(first, k) for k in _PER_SWEEP}
    joined["ntk_infinite_error"] = max(float(r.ntk_infinite_error) for r in results)
    joined["seeds"] = np.concatenate([r.seeds for r in results])
    for k in SweepResult._fields:
        if k not in joined:
            joined[k] = np.concatenate([getattr(r, k) for r in results], axis=1)
    _check_seeds(list(joined["seeds"]))
    return SweepResult(**joined)


def sweep(
    X: Float[Array, "n d"],
    y: Float[Array, " n"],
    *,
    widths: Sequence[int],
    seeds: Sequence[int],
    steps: int,
    learning_rate: float,
    record_every: int = 1,
    sigma: float = 1.0,
    output_signs: str = "random",
    seeds_per_block: int = 1,
    divergence_factor: float = 1e8,
    chunk_size: int | None = None,
    group_size: int | None = None,
    recompute_jacobian: bool = False,
    devices: Sequence[jax.Device] | None = None,
    layout: str = "auto",
) -> SweepResult:
    r"""Train every width in ``widths`` from every seed in ``seeds``; records indexed (W, S, R).

    Run :math:`(m, s)` is gradient descent from the nested prefix
    :math:`w^{(m,s)}(0) = w^{(s)}_{1:m}(0)`:

    .. math::

        w^{(m,s)}(t+1) = w^{(m,s)}(t) - \eta\, J^{(m,s)}(t)^\top \big(f^{(m,s)}(t) - y\big),
        \qquad H^{(m,s)}(t) = J^{(m,s)}(t) J^{(m,s)}(t)^\top ,

    recorded at :math:`t = 0, k, \dots, T` (see :class:`SweepResult`). Equivalent, run by run, to ``train(Params(w[:m], a[:m]), X, y, steps=steps,
    learning_rate=learning_rate, record_every=record_every)`` with
    ``w, a = init_params(jax.random.key(seed), max(widths), sigma=sigma,
    output_signs=output_signs)``, but compiled once for all widths and seeds (see the module
    docstring). ``len(seeds)`` must be a multiple of ``seeds_per_block``; ``layout`` as in
    :func:`plan_sweep`.
    """
    seeds = _check_seeds(seeds)
    plan = plan_sweep(
        X, y, widths=widths, steps=steps, learning_rate=learning_rate, record_every=record_every,
        sigma=sigma, output_signs=output_signs, seeds_per_block=seeds_per_block,
        divergence_factor=divergence_factor, chunk_size=chunk_size, group_size=group_size,
        recompute_jacobian=recompute_jacobian, devices=devices, layout=layout,
    )
    if len(seeds) % plan.seeds_per_block:
        raise ValueError(f"seeds: expected a multiple of seeds_per_block = {plan.seeds_per_block} seeds, got {len(seeds)}")
    b = plan.seeds_per_block
    return concatenate([run_block(plan, seeds[i : i + b]) for i in range(0, len(seeds), b)])
