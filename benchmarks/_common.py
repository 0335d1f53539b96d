"""Shared pieces of the benchmark scripts: interleaved median timing, the machine, the floors.

The machine these run on is usually shared, so every script times its candidates *interleaved*
(one call of each per round, several rounds) and reports medians and ratios measured in the same
run; absolute times are only indicative.
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import time
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp


class Timing(NamedTuple):
    """Median seconds of one candidate: ``wall`` clock and ``cpu`` (this process's CPU time, all
    threads).

    On a machine shared with other work the CPU time moves less than the wall time (waiting for
    a core does not count); both are printed.
    """

    wall: float
    cpu: float


def interleaved_medians(
    fns: dict[str, Callable[[], object]],
    repeats: int,
    *,
    once_above_s: float = float("inf"),
    settle: float = 0.25,
    settle_max_s: float = 2.0,
) -> dict[str, Timing]:
    """Median wall and CPU time of each zero-argument callable, one call of each per round.

    Every callable is called once first (compilation, warm-up); results are blocked on, so
    asynchronous dispatch is included in the time. Each result is released outside the timed
    region, then the loop sleeps ``settle`` times the call's duration (at most ``settle_max_s``):
    a baseline that frees gigabytes otherwise slows the next call, measured up to 100x, while the
    memory goes back to the system. A callable whose warm-up took longer than ``once_above_s``
    seconds is timed in the first round only.
    """
    slow = set()
    for name, fn in fns.items():
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        elapsed = time.perf_counter() - t0
        if elapsed > once_above_s:
            slow.add(name)
        gc.collect()
        time.sleep(min(settle_max_s, settle * elapsed))
    wall: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    for r in range(repeats):
        for name, fn in fns.items():
            if r and name in slow:
                continue
            t0, c0 = time.perf_counter(), time.process_time()
            out = jax.block_until_ready(fn())
            cpu[name].append(time.process_time() - c0)
            wall[name].append(time.perf_counter() - t0)
            del (
                out
            )  # free outside the timed region, then let the freeing finish before the next call
            gc.collect()
            time.sleep(min(settle_max_s, settle * wall[name][-1]))
    return {
        name: Timing(statistics.median(wall[name]), statistics.median(cpu[name])) for name in fns
    }


def exp_floor(
    count: int, dtype, key, *, max_elements: int = 1 << 28
) -> tuple[Callable[[], jax.Array], float]:
    """``jnp.sum(jnp.exp(z))`` over standard-normal ``z``: the exponential floor of ``count``
    exponentials.

    Returns the callable and the factor its time is multiplied by: ``z`` holds
    ``min(count, max_elements)`` numbers (accelerator sizes would not fit), and the time scales
    linearly to ``count``. The factor is 1 whenever ``count <= max_elements``.
    """
    size = min(count, max_elements)
    z = jax.random.normal(key, (size,), dtype=dtype)
    fn = jax.jit(lambda z_: jnp.sum(jnp.exp(z_)))
    return (lambda: fn(z)), count / size


def gram_floor(n: int, m: int, dtype, key) -> Callable[[], jax.Array]:
    """A bare ``J @ J.T`` of shape (n, m): the matmul floor of one NTK."""
    J = jax.random.normal(key, (n, m), dtype=dtype)
    fn = jax.jit(lambda J_: J_ @ J_.T)
    return lambda: fn(J)


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo (falls back to :func:`platform.processor`)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def peak_device_bytes() -> int | None:
    """Peak bytes in use on the first device, where the backend reports it (GPUs), else ``None``."""
    stats = jax.devices()[0].memory_stats() or {}
    return stats.get("peak_bytes_in_use")


def machine_line() -> str:
    """One line naming the device(s), the CPU and the JAX version."""
    devices = jax.devices()
    kinds = sorted({d.device_kind for d in devices})
    return (
        f"devices: {len(devices)} x {', '.join(kinds)} ({jax.default_backend()}); "
        f"cpu: {cpu_model()}; jax {jax.__version__}"
    )


def dtypes_enabled(names: str):
    """The ``jnp.dtype`` of each comma-separated name; turns on float64 first when one asks for
    it."""
    dtypes = [jnp.dtype(t) for t in names.split(",") if t]
    if jnp.dtype("float64") in dtypes:
        jax.config.update("jax_enable_x64", True)
    return dtypes


def size_parser(
    description: str, *, n: int, m: int, d: int, repeats: int
) -> argparse.ArgumentParser:
    """Command-line parser with the sizes every benchmark takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--n", type=int, default=n, help="windows (default %(default)s)")
    parser.add_argument("--m", type=int, default=m, help="width, neurons (default %(default)s)")
    parser.add_argument("--d", type=int, default=d, help="window length (default %(default)s)")
    parser.add_argument(
        "--repeats", type=int, default=repeats, help="timed rounds (default %(default)s)"
    )
    return parser
