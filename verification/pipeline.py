r"""Running the claims: the shared data set, the run environment, and :func:`run_claims`.

Nothing here writes files (that is :mod:`verification.report`).

The data (SPEC §3): a random stable SSM (:func:`ntk_attention.data.random_stable_ssm`, closed-loop
spectral norm ``radius``). A window is :math:`x = (u_{b+1}, \dots, u_{b+d})` with target
:math:`y = u_{b+d+1}` (+ noise :math:`N(0, \sigma_\varepsilon^2)` when ``noise_std > 0``), ``b`` the
burn-in. Two ways to take windows (``[data] windows``):

* ``"independent"`` (default): every window comes from its own initial state
  :math:`h_1 \sim N(0, I_N)`, so windows are i.i.d. draws of one representation pattern. A stable
  SSM's single series decays geometrically (with ``radius = 1`` its amplitude typically falls 100×
  within a hundred steps), so the later windows of one series are near zero and a risk
  :math:`E[(f(x)-y)^2]` measured on them says nothing; independent windows keep one scale;
* ``"sliding"``: consecutive windows of one series :math:`u_1, u_2, \dots` (SPEC §3 literally).

Window ``i`` of the training set and of the test set draw from separate key streams
(``fold_in(key, i)``), so the first ``n`` windows are the same whatever ``n`` and the test set does
not depend on ``n``. Values are divided by one scale, the root-mean-square of a fixed reference
batch of 256 windows (``normalize``), so that :math:`B = \max|x_{i,k}|` stays near 2-3 whatever the SSM.
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
    """Training windows ``X`` (n, d), targets ``y`` (n,), test windows/targets, the SSM.

    ``series`` is the sliding series (``windows = "sliding"``) or, for independent windows, the
    first window's values followed by the last one's (for display only).
    """

    X: jax.Array
    y: jax.Array
    X_test: jax.Array
    y_test: jax.Array
    series: jax.Array
    ssm: ssm_data.SSM
    noise_std: float


def _windows(ssm: ssm_data.SSM, h1s: np.ndarray, burn_in: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows ``(u_{b+1..b+d})`` and targets ``u_{b+d+1}`` of one SSM from many initial states (float64 numpy).

    Runs :math:`u_k = C^\\top h_k`, :math:`h_{k+1} = A h_k + B u_k` for every row of ``h1s`` at
    once (the recursion of :func:`ntk_attention.data.ssm_series`, vectorised over initial states).
    """
    A, B, C = (np.asarray(t, np.float64) for t in ssm)
    H = np.array(h1s, np.float64)
    u = np.empty((H.shape[0], burn_in + d + 1))
    for k in range(burn_in + d + 1):
        u[:, k] = H @ C
        H = H @ A.T + u[:, k : k + 1] * B[None, :]
    return u[:, burn_in : burn_in + d], u[:, burn_in + d]


def _rng(key: jax.Array, *stream: int) -> np.random.Generator:
    """A numpy generator seeded by the JAX key's data and ``stream`` (platform independent)."""
    return np.random.default_rng([*(int(v) for v in np.asarray(jax.random.key_data(key)).ravel()), *stream])


def _initial_states(key: jax.Array, stream: int, count: int, N: int) -> np.ndarray:
    """Row i is :math:`h_1 \\sim N(0, I_N)` from its own stream (key, stream, i): prefixes agree across counts."""
    return np.stack([_rng(key, stream, i).standard_normal(N) for i in range(count)]) if count else np.zeros((0, N))


_random_ssm = jax.jit(ssm_data.random_stable_ssm, static_argnums=1, static_argnames=("radius", "dtype"))
"""One compiled program for the SSM draw (op-by-op dispatch would compile each operation)."""

REFERENCE_WINDOWS = 256


def make_dataset(data_cfg: dict, key: jax.Array, *, n: int, n_test: int = 0, noise_std: float = 0.0,
                 dtype=None) -> Dataset:
    """``n`` training and ``n_test`` test windows of one SSM (see the module docstring)."""
    dtype = jnp.zeros(()).dtype if dtype is None else dtype
    d, N, b = data_cfg["d"], data_cfg["state_dim"], data_cfg["burn_in"]
    k_ssm, k_h = jax.random.split(key)
    ssm = _random_ssm(k_ssm, N, radius=float(data_cfg["radius"]))
    if data_cfg["windows"] == "independent":
        X, y = _windows(ssm, _initial_states(k_h, 0, n, N), b, d)
        X_test, y_test = _windows(ssm, _initial_states(k_h, 1, n_test, N), b, d)
        X_ref, _ = _windows(ssm, _initial_states(k_h, 2, REFERENCE_WINDOWS, N), b, d)
        series = np.concatenate([X[0], y[:1]]) if n else np.zeros((0,))
    else:
        length = b + max(n + n_test, REFERENCE_WINDOWS) + d
        u = np.asarray(ssm_data.ssm_series(ssm, length, jnp.asarray(_initial_states(k_h, 0, 1, N)[0])), np.float64)[b:]
        idx = np.arange(length - b - d)[:, None] + np.arange(d)[None, :]
        Xall, yall = u[idx], u[d:]
        X, y, X_test, y_test = Xall[:n], yall[:n], Xall[n : n + n_test], yall[n : n + n_test]
        X_ref, series = Xall[:REFERENCE_WINDOWS], u[: n + n_test + d]
    if data_cfg["normalize"]:
        rms = float(np.sqrt(np.mean(X_ref * X_ref)))
        scale = rms if rms > 0 else 1.0
        X, y, X_test, y_test, series = (t / scale for t in (X, y, X_test, y_test, series))
    if noise_std > 0:
        y = y + noise_std * _rng(k_h, 3).standard_normal(y.shape)
        y_test = y_test + noise_std * _rng(k_h, 4).standard_normal(y_test.shape)
    if not all(np.isfinite(t).all() for t in (X, y, X_test, y_test)):
        raise ValueError("data: the SSM series overflowed (radius too large for this length); lower [data] radius or burn_in")
    X, y, X_test, y_test, series = (jnp.asarray(t, dtype) for t in (X, y, X_test, y_test, series))
    return Dataset(X, y, X_test, y_test, series, ssm, float(noise_std))


def selected_claims(config: dict, claims: list[str] | None = None) -> list[str]:
    """Claim ids to run: ``claims`` if given, else ``[run] claims``, else every registered claim."""
    load_extensions()
    chosen = claims or config["run"]["claims"] or list(CLAIMS)
    unknown = [c for c in chosen if c not in CLAIMS]
    if unknown:
        raise ValueError(f"claims: unknown claim id(s) {unknown}; registered: {', '.join(CLAIMS)}")
    return [c for c in CLAIMS if c in chosen]


def run_claims(config: dict, claims: list[str] | None = None, *, quiet: bool = False,
               stability: dict | None = None) -> list[Verdict]:
    """Run the selected claims in registry order on one shared :class:`Context`; returns their verdicts.

    A claim whose runs diverged, or whose ``eta`` is past the gradient-descent stability limit
    (``stability``: :func:`stability_report`, computed when ``None``), gets a VACUOUS verdict
    naming η, λ_max(H(0)) and the limit (:func:`divergence_verdict`).
    """
    ids = selected_claims(config, claims)
    stability = stability_report(config, ids) if stability is None else stability
    ctx = Context(config=config, seed=config["run"]["seed"], quiet=quiet)
    for c in ids:  # refuse a bad configuration before any long computation
        if CLAIMS[c].preflight is not None:
            CLAIMS[c].preflight(config[c], ctx)
    verdicts = []
    for c in ids:
        seen = len(ctx.memo.get(DIVERGED, []))
        try:
            v = CLAIMS[c].run(config[c], ctx)
        except Exception as err:  # hardening: a check fed non-finite records of diverged runs
            if not ctx.memo.get(DIVERGED, [])[seen:]:
                raise
            v = Verdict(claim=c, status="VACUOUS", explanation=f"Its checks could not run on them ({err}).",
                        config={c: config[c], "data": config["data"]}, seed=ctx.seed)
        verdicts.append(divergence_verdict(v, ctx.memo.get(DIVERGED, [])[seen:], stability.get(c)))
    return verdicts


# ----------------------------------------------------------------------------------------------
# Hardening (issue 8): gradient-descent stability, before training (a warning) and after (the verdict)

DIVERGED = "hardening/diverged"  # ctx.memo key filled by verification.paper_claims.note_divergence


def _stability_words(eta: float, lmax: float) -> str:
    limit = 2.0 / lmax if lmax > 0 else float("inf")
    side = "past" if eta >= limit else "below"
    return f"η = {eta:g} is {side} the gradient-descent stability limit 2/λ_max(H(0)) = {limit:.3g} (λ_max(H(0)) = {lmax:.3g})"


def divergence_verdict(v: Verdict, diverged: list[dict], stability: dict | None = None) -> Verdict:
    """``v`` unchanged when no run diverged and η is below the stability limit (``stability``: an
    entry of :func:`stability_report`); else VACUOUS, naming the first diverged run's step, η,
    λ_max(H(0)) and the limit 2/λ_max(H(0)); the claim's own parts stay, as diagnostics."""
    unstable = stability is not None and stability["eta"] >= stability["limit"]
    if not diverged and not unstable:
        return v
    import dataclasses

    from verification.verdict import VACUOUS, Part

    if diverged:
        first = min(diverged, key=lambda e: (e["step"], e["width"], e["seed"]))
        finding = (f"gradient descent diverged in {len(diverged)} run(s); first at step {first['step']} (width "
                   f"{first['width']}, seed {first['seed']}, n = {first['n']}: loss non-finite or above "
                   f"divergence_factor × L(0)); {_stability_words(first['eta'], first['lambda_max_h0'])}.")
    else:
        s = stability
        finding = (f"{_stability_words(s['eta'], s['lambda_max_h0'])} at width {s['width']}, n = {s['n']}, seed "
                   f"{s['seed']}: the step size is outside the regime the theorem describes (no run diverged: the loss "
                   f"stays bounded because f is).")
    parts = (Part("gradient descent stable", VACUOUS, finding),) + tuple(
        dataclasses.replace(p, decisive=False) for p in v.parts)
    return dataclasses.replace(
        v, status=VACUOUS, parts=parts, counterexample=None,
        measured={**v.measured, "diverged_runs": diverged},
        explanation=(f"{finding[0].upper() if finding[0].isascii() else finding[0]}{finding[1:]} The theorem assumes a step size small enough for gradient "
                     f"descent to converge, so these runs cannot test it; the claim's own checks (diagnostics "
                     f"below) include them. {v.explanation}"))


def stability_warnings(stability: dict) -> list[str]:
    """One line per claim of :func:`stability_report` whose ``eta`` is at or past 2/λ_max(H(0))."""
    return [f"{c}: {_stability_words(s['eta'], s['lambda_max_h0'])} at width {s['width']}, n = {s['n']}, seed "
            f"{s['seed']}: training may diverge, and the verdict will be VACUOUS"
            for c, s in stability.items() if s["eta"] >= s["limit"]]


def stability_report(config: dict, claims: list[str] | None = None) -> dict:
    """Per selected claim training the paper's model (a section with ``eta`` and ``widths`` or
    ``width``): η, λ_max(H(0)) for its largest data size and smallest width (λ_max grows with n;
    H(0) fluctuates most at small m) and the first network seed, and the limit 2/λ_max(H(0))."""
    from ntk_attention import empirical_ntk, init_params

    ctx = Context(config=config, seed=config["run"]["seed"], quiet=True)
    seed = ctx.network_seeds(1)[0]
    out = {}
    for c in selected_claims(config, claims):
        sec = config[c]
        if "eta" not in sec or not ("widths" in sec or "width" in sec):
            continue
        n, m = max(sec.get("sizes") or [config["data"]["n"]]), min(sec.get("widths") or [sec["width"]])
        p = init_params(jax.random.key(seed), m, sigma=config["data"]["sigma"])
        lmax = float(np.linalg.eigvalsh(np.asarray(empirical_ntk(p, ctx.dataset(n).X)))[-1])
        out[c] = {"eta": float(sec["eta"]), "lambda_max_h0": lmax, "limit": 2.0 / lmax if lmax > 0 else float("inf"),
                  "width": m, "n": n, "seed": seed}
    return out


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


# ----------------------------------------------------------------------------------------------
# Hardening (issue 8): refuse sizes that cannot fit in this machine's memory, before any work


def physical_memory() -> int:
    """Bytes of physical memory (``os.sysconf``); 0 when the platform does not say."""
    import os

    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


def memory_estimate(section: dict, data: dict) -> tuple[int, str]:
    r"""A lower bound (bytes, float64) on what one configuration section holds at once, and why.

    The largest of: the Jacobian :math:`J_{ir} = \partial f(x_i)/\partial w_r` of the widest
    network, :math:`n\, m_{max}` numbers (every training step forms it, in a sweep or in
    :func:`ntk_attention.train`); a multi-dimensional attention matrix, ``max_tokens² max_width``;
    the data windows, ``(n + pool + test_windows) d``.
    """
    d = int(data["d"])
    widths = list(section.get("widths") or ([section["width"]] if "width" in section else []))
    sizes = section.get("sizes")
    n = max(sizes) if isinstance(sizes, list) and sizes else int(section.get("n", data["n"]))
    terms = {"the Jacobian of the widest network (n × m)": n * max(widths, default=0),
             "the attention matrices (max_tokens² × max_width)": int(section.get("max_tokens", 0)) ** 2
             * int(section.get("max_width", 1)),
             "the data windows ((n + pool + test_windows) × d)": (n + int(section.get("pool", 0))
                                                                  + int(section.get("test_windows", 0))) * d}
    why = max(terms, key=terms.get)
    return 8 * terms[why], why


def check_memory(config: dict, sections: list[str]) -> None:
    """Raise :class:`verification.config.ConfigError` when a section's :func:`memory_estimate`
    exceeds the machine's physical memory, naming the section, the estimate and the memory."""
    from verification.config import ConfigError

    total = physical_memory()
    if not total:
        return
    for sec in sections:
        need, why = memory_estimate(config[sec], config["data"])
        if need > total:
            raise ConfigError(f"{sec}: needs at least {need / 2**30:.3g} GiB for {why}, more than this machine's "
                              f"{total / 2**30:.3g} GiB of memory; use smaller sizes")
