"""Planning a sweep: checking its inputs, choosing the chunk and device layout within the devices'
memory (:func:`device_bytes`), computing :math:`H^*` once — :class:`SweepPlan`,
:func:`plan_sweep`."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
from jaxtyping import Array, Float

from ntk_attention import _checks
from ntk_attention.infinite import infinite_ntk
from ntk_attention.model import default_chunk_size

__all__ = ["AXIS", "LAYOUTS", "SweepPlan", "plan_sweep", "device_bytes"]


AXIS = "devices"
LAYOUTS = ("runs", "neurons")
"""Device layouts of a block: whole runs per device (no collective) or every run split over
devices."""


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
        raise ValueError(
            f"widths: expected a non-empty sequence of positive integers, got {widths!r}"
        )
    out = tuple(_checks.check_positive(m, "widths", integer=True) for m in widths)
    if any(b <= a for a, b in zip(out, out[1:])):
        raise ValueError(f"widths: expected strictly increasing widths, got {list(out)}")
    return out


def _check_seeds(seeds) -> tuple[int, ...]:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or len(seeds) == 0:
        raise ValueError(
            f"seeds: expected a non-empty sequence of integers in [0, 2**31), got {seeds!r}"
        )
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
            raise ValueError(
                f"chunk_size: expected a divisor of every width (gcd {g}), got {chunk}"
            )
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
        raise ValueError(
            f"output_signs: expected one of ('random', 'minus', 'plus'), got {output_signs!r}"
        )
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
    run_chunks = [
        m // chunk for _ in range(seeds_per_block) for m in widths
    ]  # run q = s_idx * W + m_idx
    runs = len(run_chunks)
    records = steps // record_every + 1
    dtype = jnp.result_type(X, y)
    cap = default_chunk_size(n, widths[-1], d) // chunk
    budget = (
        _device_budget(devices)
        if device_memory is None
        else _checks.check_positive(device_memory, "device_memory", integer=True)
    )

    def arrange(kind):
        """Placement, slots and chunks per device (before padding to the group) of a layout."""
        if kind == "neurons":
            return tuple((0, q) for q in range(runs)), runs, -(-sum(run_chunks) // D)
        load, count, owner = [0] * D, [0] * D, [0] * runs
        for q in sorted(
            range(runs), key=lambda q: (-run_chunks[q], q)
        ):  # largest first, least loaded device
            dev = min(range(D), key=lambda i: (load[i], count[i], i))
            owner[q] = dev
            load[dev] += run_chunks[q]
            count[dev] += 1
        # slots in increasing q on each device: its chunks are then sorted by segment id
        place = tuple((owner[q], sum(owner[p] == owner[q] for p in range(q))) for q in range(runs))
        return place, max(count), max(load)

    def sized(kind):
        place, slots, per_device = arrange(kind)
        group = (
            max(1, min(cap, per_device))
            if group_size is None
            else _checks.check_positive(group_size, "group_size", integer=True)
        )
        per_device = -(-per_device // group) * group
        need = device_bytes(
            n=n,
            d=d,
            chunk=chunk,
            group=group,
            chunks_per_device=per_device,
            slots=slots,
            records=records,
            itemsize=jnp.dtype(dtype).itemsize,
            recompute_jacobian=recompute_jacobian,
        )
        return place, slots, group, per_device, need

    if layout == "auto":
        runs_fit = sized("runs")
        layout = "runs" if runs_fit[-1] <= budget or D == 1 else "neurons"
    place, slots, group, per_device, need = sized(layout)
    mesh = jax.make_mesh((D,), (AXIS,), devices=devices)
    replicated = NamedSharding(mesh, P())
    hstar = infinite_ntk(
        np.asarray(X, np.float64), sigma=sigma, nodes=infinite_nodes, return_error=True
    )
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


def device_bytes(
    *,
    n: int,
    d: int,
    chunk: int,
    group: int,
    chunks_per_device: int,
    slots: int,
    records: int,
    itemsize: int,
    recompute_jacobian: bool = False,
) -> int:
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
    """Bytes one device may use: its allocator limit, else (CPU) half the host memory over the
    devices."""
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
