r"""The claim–pipeline contract: :class:`Claim`, :class:`Context`, :class:`TrainingRun`.

A claim is one :class:`Claim` object; everything the pipeline, the configuration, the command line
and the report need from it is a field, declared, never inferred from the names of its keys:

* ``params``: its TOML section ``[Cn]`` (defaults and validation, :mod:`verification.config`);
* ``run(section, context) -> Verdict``: measures, then calls the pure ``check``;
* ``check(...) -> Verdict``: the verdict rule (docs/theory.md, "Verdicts"), a pure function of
  numbers and arrays, testable on constructed inputs;
* ``plot(verdict, out_dir) -> list[str]``: figures drawn from the verdict alone (its numbers and
  ``arrays``), so that ``ntk-verify report DIR`` redraws them without recomputation;
* ``summary(verdict) -> str``: one short line for the verdict table;
* ``preflight(section, context) -> None``: cheap checks run for every selected claim before any
  claim runs (raise :class:`verification.config.ConfigError` to refuse);
* ``training(section, data_cfg) -> list[TrainingRun]``: the gradient-descent runs of the paper's
  two-layer attention network that ``run`` will make (learning rate, widths, data sizes); the
  pipeline warns before training, and makes the verdict VACUOUS, when a learning rate is past the
  stability limit :math:`2/\lambda_{\max}(H(0))` (docs/theory.md, "Training");
* ``memory(section, data_cfg) -> (bytes, why)``: an estimate of the peak memory growth of ``run``
  (what it holds at once, built from :func:`sweep_bytes`, :func:`train_bytes`, :func:`memory_bytes`
  and :func:`memory_sum`), an upper bound within 3x of the measured growth at sizes where the
  sizes dominate (tests/verification/test_memory.py); the command line refuses a configuration
  whose estimate plus :data:`verification.training._memory.BASELINE_BYTES` exceeds the machine's
  physical memory, before any work.

This module imports only the leaves :mod:`verification.config`, :mod:`verification.rules._verdict`,
:mod:`verification.data._datasets`, :mod:`verification.training._bounds` and
:mod:`verification.training._step_size`.
"""

from __future__ import annotations

import dataclasses
import re
import zlib
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import numpy as np
from tqdm import tqdm

from ntk_attention import divergence_report, init_params, train
from ntk_attention.stability import h0_lambda_max, stability_limit
from verification.config import Field
from verification.data._datasets import make_dataset
from verification.rules._verdict import Verdict
from verification.training import _bounds as bounds
from verification.training import _step_size as steps
from verification.training._memory import (  # noqa: F401 - claims import them here
    memory_bytes,
    memory_sum,
    sweep_bytes,
    train_bytes,
)
from verification.training._step_size import StepSize

__all__ = ["Claim", "Context", "TrainingRun", "DIVERGED", "STEP_SIZES", "check_claim"]

DIVERGED = "diverged_runs"
"""``Context.memo`` key: dicts (width, seed, n, step, eta, lambda_max_h0, limit) of runs that
diverged; :func:`verification.pipeline.run_claims` turns the ones a claim used into its verdict."""

STEP_SIZES = "step_sizes"
"""``Context.memo`` key: the step sizes resolved by :meth:`Context.step_size` (η, how it was read,
the n and σ it was computed at); the pipeline records those of a claim as ``measured["eta"]``."""

_ID = re.compile(r"^C[0-9]+$")


class TrainingRun(NamedTuple):
    """Gradient-descent runs of the paper's network that a claim makes, declared as data: the step
    size (a number: η itself; or a :class:`StepSize`, relative ones included), widths m, data sizes
    n and the neuron scale σ (``None``: ``[data] sigma``).

    The pipeline resolves η with :meth:`Context.step_size` (as the claim's run does) and checks it
    against 2/λ_max(H(0)) at the smallest width and the largest size (λ_max(H(0)) grows with n and
    fluctuates most at small m).
    """

    eta: float | StepSize
    widths: tuple[int, ...]
    sizes: tuple[int, ...]
    sigma: float | None = None


@dataclasses.dataclass(frozen=True)
class Claim:
    """A checkable statement: identity, LaTeX statement, configuration, what the pipeline calls.

    See the module docstring for each field's signature and meaning.
    """

    id: str
    source: str
    title: str
    statement: str
    params: Mapping[str, Field]
    run: Callable[[dict, Context], Verdict]
    check: Callable[..., Verdict]
    plot: Callable[[Verdict, Any], list] | None = None
    summary: Callable[[Verdict], str] | None = None
    preflight: Callable[[dict, Context], None] | None = None
    training: Callable[[dict, dict], list[TrainingRun]] | None = None
    memory: Callable[[dict, dict], tuple[int, str]] | None = None


def check_claim(claim: Any) -> Claim:
    """``claim`` if a well-formed :class:`Claim`, else a one-line ValueError naming the field."""
    if not isinstance(claim, Claim):
        raise ValueError(
            f"claim: expected a verification.contract.Claim, got {type(claim).__name__}"
        )
    if not isinstance(claim.id, str) or not _ID.match(claim.id):
        raise ValueError(f"claim.id: expected 'C' followed by digits, e.g. 'C8', got {claim.id!r}")
    for key, field in claim.params.items():
        if not isinstance(field, Field):
            raise ValueError(
                f"{claim.id}.params[{key!r}]: expected a verification.config.Field, "
                f"got {type(field).__name__}"
            )
    for name in ("run", "check"):
        if not callable(getattr(claim, name)):
            raise ValueError(
                f"{claim.id}.{name}: expected a callable, got {getattr(claim, name)!r}"
            )
    for name in ("plot", "summary", "preflight", "training", "memory"):
        if getattr(claim, name) is not None and not callable(getattr(claim, name)):
            raise ValueError(
                f"{claim.id}.{name}: expected a callable or None, got {getattr(claim, name)!r}"
            )
    return claim


@dataclasses.dataclass
class Context:
    """What a claim's ``run`` receives besides its own section.

    ``config`` the whole validated configuration; ``seed`` the master seed; ``memo`` results shared
    between claims (e.g. one width sweep used by C1, C2 and C4); ``progress(desc, total)`` returns a
    tqdm-like bar (``update(k)``, ``close()``; silent when ``quiet``).
    """

    config: dict
    seed: int
    quiet: bool = False
    memo: dict = dataclasses.field(default_factory=dict)

    def key(self, name: str) -> jax.Array:
        """A PRNG key for ``name``, the same for the same seed and name (crc32 of the name)."""
        return jax.random.fold_in(jax.random.key(self.seed), zlib.crc32(name.encode()) & 0x7FFFFFFF)

    def network_seeds(self, count: int) -> list[int]:
        """``count`` integer seeds for :func:`ntk_attention.init_params` (``jax.random.key(s)``)."""
        return [self.seed * 1000 + j for j in range(count)]

    def cached(self, name: str, fn: Callable[[], Any]) -> Any:
        """``fn()`` computed once per run under ``name`` (build names with :meth:`memo_key`)."""
        if name not in self.memo:
            self.memo[name] = fn()
        return self.memo[name]

    @staticmethod
    def memo_key(kind: str, **fields: Any) -> str:
        """The one key scheme of :attr:`memo`: ``kind`` then every field as ``name=repr(value)``
        (sequences as tuples), in the order given.

        >>> Context.memo_key("lambda_star", n=24, sigma=1.0)
        'lambda_star/n=24/sigma=1.0'
        """
        parts = [kind]
        for name, value in fields.items():
            if isinstance(value, (list, np.ndarray)):
                value = tuple(np.asarray(value).tolist())
            parts.append(f"{name}={value!r}")
        return "/".join(parts)

    def dataset(self, n: int | None = None, *, n_test: int = 0, noise_std: float = 0.0):
        """The shared state-space data set (:func:`verification.data._datasets.make_dataset`)."""
        n = self.config["data"]["n"] if n is None else n
        name = self.memo_key("dataset", n=n, n_test=n_test, noise_std=noise_std)
        return self.cached(
            name,
            lambda: make_dataset(
                self.config["data"], self.key("data"), n=n, n_test=n_test, noise_std=noise_std
            ),
        )

    def lambda_star(self, n: int | None = None, *, sigma: float | None = None):
        r"""``(Lambda, H*)`` of :func:`verification.training._bounds.lambda_star`
        (``extended=True``: λ with its precision) for the shared data set of ``n`` windows and
        neuron scale σ (default ``[data] sigma``), memoised under the one key
        ``lambda_star/<n>/<σ>``: every claim and command asking for the same λ gets the same
        number, computed once."""
        n = self.config["data"]["n"] if n is None else n
        sigma = float(self.config["data"]["sigma"] if sigma is None else sigma)
        return self.cached(
            self.memo_key("lambda_star", n=n, sigma=sigma),
            lambda: bounds.lambda_star(
                np.asarray(self.dataset(n).X, np.float64), sigma=sigma, extended=True
            ),
        )

    def sigma(self, sigma: float | None = None) -> float:
        """The neuron scale σ: ``sigma`` or ``[data] sigma``."""
        return float(self.config["data"]["sigma"] if sigma is None else sigma)

    def step_size(
        self, spec: Mapping | StepSize | TrainingRun, *, sizes=None, sigma: float | None = None
    ) -> float:
        r"""The step size η of ``spec`` — a section (``eta``, ``eta_mode``), a :class:`StepSize`
        or a :class:`TrainingRun` (its sizes and σ) — the one resolver every claim, the stability
        pre-check and ``ntk-verify bounds`` share: ``eta`` itself, or ``eta · 2/λ_max(H*)`` at the
        most restrictive of ``sizes`` (default ``[data] n``) with neuron scale σ. Each resolution
        is recorded under :data:`STEP_SIZES` (η, the reading, n and σ)."""
        if isinstance(spec, TrainingRun):
            sizes, sigma, spec = spec.sizes, spec.sigma, spec.eta
        step = spec if isinstance(spec, StepSize) else None
        if step is None:
            step = StepSize.of(spec) if isinstance(spec, Mapping) else StepSize(float(spec))
        sizes = [self.config["data"]["n"]] if sizes is None else list(sizes)
        sigma = self.sigma(sigma)
        eta = steps.section_learning_rate(
            step, lambda n: self.lambda_star(n, sigma=sigma)[0].norm, sizes
        )
        record = {"eta": eta, "eta_config": step.eta, "eta_mode": step.mode, "n": max(sizes)}
        record["sigma"] = sigma
        # every resolution, in order: the pipeline reads each claim's own (deduplicated there)
        self.memo.setdefault(STEP_SIZES, []).append(record)
        return eta

    def learning_rate(self, section: Mapping, *, sizes=None, sigma: float | None = None) -> float:
        """:meth:`step_size` of a configuration section (kept for plug-ins written against it)."""
        return self.step_size(section, sizes=sizes, sigma=sigma)

    def lambda_max_h0(self, width: int, n: int, *, sigma: float | None = None, seed: int) -> float:
        r""":math:`\lambda_{\max}(H(0))` of the network of ``width`` drawn with ``seed`` on the
        shared data set of ``n`` windows (:func:`ntk_attention.stability.h0_lambda_max`, the one
        owner), memoised under :meth:`memo_key` ``lambda_max_h0``."""
        sigma = self.sigma(sigma)

        def compute():
            params = init_params(jax.random.key(seed), width, sigma=sigma)
            return h0_lambda_max(params, self.dataset(n).X)

        key = self.memo_key("lambda_max_h0", width=width, n=n, sigma=sigma, seed=seed)
        return self.cached(key, compute)

    def record_divergence(
        self, *, width: int, seed: int, n: int, step: int, eta: float, lambda_max_h0: float
    ) -> None:
        """Record one run that diverged under :data:`DIVERGED` (the one recorder; the pipeline
        turns a claim's records into its VACUOUS premise)."""
        lmax = float(lambda_max_h0)
        entry = {"width": int(width), "seed": int(seed), "n": int(n), "step": int(step)}
        entry.update(eta=float(eta), lambda_max_h0=lmax)
        entry["limit"] = stability_limit(lmax) if lmax > 0 else None
        self.memo.setdefault(DIVERGED, []).append(entry)

    def train(self, params, X, y, *, learning_rate: float, seed: int, memo=None, **kwargs):
        """:func:`ntk_attention.train` of one network with η ``learning_rate``, its divergence
        recorded (:meth:`record_divergence`, λ_max(H(0)) from
        :func:`ntk_attention.divergence_report`), memoised under :meth:`memo_key` ``train`` with
        the fields ``memo`` (a dict naming everything else that defines the run; ``None``: not
        memoised)."""

        def compute():
            traj = train(params, X, y, learning_rate=learning_rate, **kwargs)
            self.note_divergence(traj, params, X, learning_rate=learning_rate, seed=seed)
            return traj

        if memo is None:
            return compute()
        key = self.memo_key("train", **memo, eta=float(learning_rate), seed=seed)
        return self.cached(key, compute)

    def note_divergence(self, traj, params, X, *, learning_rate: float, seed: int) -> None:
        """Record ``traj`` (one unbatched run of ``params`` on ``X``) if it diverged."""
        if int(traj.diverged_step) < 0:
            return
        report = divergence_report(traj, params, X, learning_rate=learning_rate)
        self.record_divergence(
            width=params.w.shape[0],
            seed=seed,
            n=X.shape[0],
            step=report.step,
            eta=learning_rate,
            lambda_max_h0=report.lambda_max_h0,
        )

    def progress(self, desc: str, total: int):
        """A tqdm text bar for one stage (tqdm.auto warns in kernels without ipywidgets)."""
        return tqdm(total=total, desc=desc, disable=self.quiet, leave=False, dynamic_ncols=True)
