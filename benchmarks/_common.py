"""Shared pieces of the benchmark scripts: interleaved median timing, the machine, the floors.

The machine these run on is usually shared, so every script times its candidates *interleaved*
(one call of each per round, several rounds) and reports medians and ratios measured in the same
run; absolute times are only indicative.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp


def interleaved_medians(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall time (seconds) of each zero-argument callable, one call of each per round.

    Every callable is called once first (compilation, warm-up); results are blocked on, so
    asynchronous dispatch is included in the time.
    """
    for fn in fns.values():
        jax.block_until_ready(fn())
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            jax.block_until_ready(fn())
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def exp_floor(shape: tuple[int, ...], dtype, key) -> Callable[[], jax.Array]:
    """``jnp.sum(jnp.exp(z))`` over ``prod(shape)`` standard-normal numbers: the exponential floor."""
    z = jax.random.normal(key, shape, dtype=dtype)
    fn = jax.jit(lambda z_: jnp.sum(jnp.exp(z_)))
    return lambda: fn(z)


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


def machine_line() -> str:
    """One line naming the device(s), the CPU and the JAX version."""
    devices = jax.devices()
    kinds = sorted({d.device_kind for d in devices})
    return f"devices: {len(devices)} x {', '.join(kinds)} ({jax.default_backend()}); cpu: {cpu_model()}; jax {jax.__version__}"


def size_parser(description: str, *, n: int, m: int, d: int, repeats: int) -> argparse.ArgumentParser:
    """Command-line parser with the sizes every benchmark takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--n", type=int, default=n, help="windows (default %(default)s)")
    parser.add_argument("--m", type=int, default=m, help="width, neurons (default %(default)s)")
    parser.add_argument("--d", type=int, default=d, help="window length (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=repeats, help="timed rounds (default %(default)s)")
    return parser
