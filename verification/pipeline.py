r"""Running the claims: the shared data set, the run environment, and :func:`run_claims`.

Nothing here writes files (that is :mod:`verification.report`).

The data (SPEC §3): a random stable SSM (:func:`ntk_attention.data.random_stable_ssm`, closed-loop
spectral norm ``radius``) started from :math:`h_1 \sim N(0, I_N)`; the series
:math:`u_1, \dots, u_{n + n_{test} + d}` is scaled to unit root-mean-square (``normalize``) so that
:math:`B = \max|x_{i,k}|` stays near 2 whatever the SSM; windows of length ``d`` predict the next
value. The first ``n`` windows train, the following ``n_test`` windows test (the same series
continued: the same representation pattern). Noise :math:`N(0,\sigma_\varepsilon^2)` is added to
every target when ``noise_std > 0``.
"""

from __future__ import annotations

import importlib.metadata
import platform
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ntk_attention import data as ssm_data
from verification.claims import CLAIMS, Context, load_extensions
from verification.verdict import Verdict

__all__ = ["Dataset", "make_dataset", "run_claims", "environment", "selected_claims"]

PACKAGES = ("ntk-attention", "jax", "jaxlib", "numpy", "scipy", "optax", "matplotlib")


class Dataset(NamedTuple):
    """Training windows ``X`` (n, d), targets ``y`` (n,), test windows/targets, the series and SSM."""

    X: jax.Array
    y: jax.Array
    X_test: jax.Array
    y_test: jax.Array
    series: jax.Array
    ssm: ssm_data.SSM
    noise_std: float


def make_dataset(data_cfg: dict, key: jax.Array, *, n: int, n_test: int = 0, noise_std: float = 0.0,
                 dtype=None) -> Dataset:
    """Windows of one SSM series: ``n`` for training, then ``n_test`` for testing (see module docstring)."""
    dtype = jnp.zeros(()).dtype if dtype is None else dtype
    d, N = data_cfg["d"], data_cfg["state_dim"]
    k_ssm, k_h, k_noise = jax.random.split(key, 3)
    ssm = ssm_data.random_stable_ssm(k_ssm, N, radius=data_cfg["radius"], dtype=dtype)
    h1 = jax.random.normal(k_h, (N,), dtype)
    u = ssm_data.ssm_series(ssm, n + n_test + d, h1)
    if data_cfg["normalize"]:
        rms = jnp.sqrt(jnp.mean(u * u))
        u = u / jnp.where(rms > 0, rms, 1.0)
    X, y = ssm_data.next_step_windows(u, d)
    if noise_std > 0:
        y = y + noise_std * jax.random.normal(k_noise, y.shape, y.dtype)
    return Dataset(X[:n], y[:n], X[n:], y[n:], u, ssm, float(noise_std))


def selected_claims(config: dict, claims: list[str] | None = None) -> list[str]:
    """Claim ids to run: ``claims`` if given, else ``[run] claims``, else every registered claim."""
    load_extensions()
    chosen = claims or config["run"]["claims"] or list(CLAIMS)
    unknown = [c for c in chosen if c not in CLAIMS]
    if unknown:
        raise ValueError(f"claims: unknown claim id(s) {unknown}; registered: {', '.join(CLAIMS)}")
    return [c for c in CLAIMS if c in chosen]


def run_claims(config: dict, claims: list[str] | None = None, *, quiet: bool = False) -> list[Verdict]:
    """Run the selected claims in registry order on one shared :class:`Context`; returns their verdicts."""
    ids = selected_claims(config, claims)
    ctx = Context(config=config, seed=config["run"]["seed"], quiet=quiet)
    return [CLAIMS[c].run(config[c], ctx) for c in ids]


def environment() -> dict:
    """Package versions, JAX backend and devices, default dtype and the x64 flag (no timestamps)."""
    versions = {}
    for p in PACKAGES:
        try:
            versions[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            versions[p] = None
    return {
        "python": platform.python_version(),
        "packages": versions,
        "jax_backend": jax.default_backend(),
        "jax_devices": [f"{d.platform}:{d.id}:{d.device_kind}" for d in jax.devices()],
        "dtype": str(jnp.zeros(()).dtype),
        "x64": bool(jax.config.jax_enable_x64),
        "numpy_float64_eps": float(np.finfo(np.float64).eps),
    }
