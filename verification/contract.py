r"""The contract between a claim and the pipeline: :class:`Claim`, :class:`Context`, :class:`TrainingRun`.

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
  sizes dominate (tests/verification/test_memory.py); the command line refuses a configuration whose
  estimate plus :data:`verification.pipeline.BASELINE_BYTES` exceeds the machine's physical memory,
  before any work.

This module imports only the leaves :mod:`verification.config`, :mod:`verification.verdict`,
:mod:`verification.datasets`, :mod:`verification.bounds` and :mod:`verification.step_size`.
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

from verification import bounds
from verification import step_size as steps
from verification.config import Field
from verification.datasets import make_dataset
from verification.verdict import Verdict

__all__ = ["Claim", "Context", "TrainingRun", "DIVERGED", "memory_bytes", "memory_sum", "sweep_bytes", "train_bytes",
           "check_claim"]

DIVERGED = "hardening/diverged"
"""``Context.memo`` key: dicts (width, seed, n, step, eta, lambda_max_h0, limit) of runs that diverged;
:func:`verification.pipeline.run_claims` turns the ones a claim used into its verdict."""

_ID = re.compile(r"^C[0-9]+$")


class TrainingRun(NamedTuple):
    """Gradient-descent runs of the paper's network that a claim makes: learning rate η, widths m, data sizes n.

    The stability check takes the smallest width at the largest size (λ_max(H(0)) grows with n and
    fluctuates most at small m).
    """

    eta: float
    widths: tuple[int, ...]
    sizes: tuple[int, ...]


def memory_bytes(*, d: int, n: int, widths=(), tokens: int = 0, token_width: int = 1, windows: int = 0) -> tuple[int, str]:
    r"""A lower bound in bytes (float64) and its reason: the largest of the Jacobian
    :math:`J_{ir} = \partial f(x_i)/\partial w_r` of the widest network (:math:`n\,m_{\max}` numbers),
    the attention matrices (``tokens² × token_width``) and the data windows (``(n + windows) × d``)."""
    terms = {"the Jacobian of the widest network (n × m)": int(n) * max((int(w) for w in widths), default=0),
             "the attention matrices (max_tokens² × max_width)": int(tokens) ** 2 * int(token_width),
             "the data windows ((n + pool + test_windows) × d)": (int(n) + int(windows)) * int(d)}
    why = max(terms, key=terms.get)
    return 8 * terms[why], why


SWEEP_BYTES_PER_NEURON = 24
"""Float64 numbers per neuron of a sweep block besides its Jacobian row of n: w(0), a, w(t), the
gradient, a/sqrt(m), the divergence masks, |w - w(0)|, the chunk layout on the host (draws at the
largest width and their per-width copies) and the device copies of each, with a margin (measured: 13-20 per neuron
with the Jacobian, tests/verification/test_memory.py)."""

TRAIN_NUMBERS_PER_NEURON = 16
"""Float64 numbers per neuron of one :func:`ntk_attention.train` run besides its Jacobian (n) and
mean position masses (d): w, w(0), the optimiser state, the update, masses, the recorded copies."""


def memory_sum(*terms: tuple[int, str]) -> tuple[int, str]:
    """The sum of several ``(bytes, why)`` estimates; the reason is the largest part's."""
    terms = list(terms)
    total = sum(b for b, _ in terms)
    return total, max(terms, key=lambda t: t[0])[1] if terms else "nothing size-dependent"


def sweep_bytes(*, n: int, widths, seeds: int, steps: int, record_every: int, seeds_per_block: int = 1) -> tuple[int, str]:
    r"""Peak bytes (float64) of a width × seed sweep (:func:`ntk_attention.sweep.run_block` per block):
    per block of :math:`M = \text{seeds\_per\_block}\sum_k m_k` neurons, the Jacobian kept for the
    gradient (:math:`nM`) and ``SWEEP_BYTES_PER_NEURON`` M other numbers; the NTK matrices
    :math:`n^2` (H(0), H(t) and H(0) again per run of the block, H(0) of every run of the sweep, H*
    and its quadrature); the records of every run (ten fields at :math:`T/k + 1` steps)."""
    W, S = len(widths), int(seeds)
    M = int(seeds_per_block) * sum(int(w) for w in widths)
    R = int(steps) // int(record_every) + 1
    runs = W * int(seeds_per_block) + 1
    return memory_sum(
        (8 * M * (int(n) + SWEEP_BYTES_PER_NEURON), "sweep block (Jacobian n × Σ widths and per-neuron state)"),
        (8 * int(n) ** 2 * (3 * runs + W * S + 8), "NTK matrices (n × n per run, H*)"),
        (8 * 10 * W * S * R, "sweep records"))


def train_bytes(*, n: int, d: int, widths, seeds: int, steps: int, record_every: int, held: bool = True,
                neurons: bool = True) -> tuple[int, str]:
    r"""Peak bytes (float64) of :func:`ntk_attention.train` runs, one at a time: one run's Jacobian
    :math:`n m`, position masses :math:`m d` and ``TRAIN_NUMBERS_PER_NEURON`` m numbers at the largest
    width; the per-neuron records (``neurons``: weights, last-token and position masses,
    :math:`R\,m\,(d + 2)` at :math:`R = T/k + 1`) of every run when ``held`` (a claim keeping all
    its runs), else of one."""
    m_max = max(int(w) for w in widths)
    R = int(steps) // int(record_every) + 1
    per_run = R * (int(d) + 2) if neurons else 0
    kept = int(seeds) * sum(int(w) for w in widths) if held else m_max
    return memory_sum(
        (8 * m_max * (int(n) + int(d) + TRAIN_NUMBERS_PER_NEURON), "training state of the widest run (Jacobian n × m)"),
        (8 * per_run * kept, "per-neuron training records"))


@dataclasses.dataclass(frozen=True)
class Claim:
    """A checkable statement: identity, the LaTeX statement, its configuration, and what the pipeline calls.

    See the module docstring for each field's signature and meaning.
    """

    id: str
    source: str
    title: str
    statement: str
    params: Mapping[str, Field]
    run: Callable[[dict, "Context"], Verdict]
    check: Callable[..., Verdict]
    plot: Callable[[Verdict, Any], list] | None = None
    summary: Callable[[Verdict], str] | None = None
    preflight: Callable[[dict, "Context"], None] | None = None
    training: Callable[[dict, dict], list[TrainingRun]] | None = None
    memory: Callable[[dict, dict], tuple[int, str]] | None = None


def check_claim(claim: Any) -> Claim:
    """``claim`` if it is a well-formed :class:`Claim`, else a one-line ValueError naming the field."""
    if not isinstance(claim, Claim):
        raise ValueError(f"claim: expected a verification.contract.Claim, got {type(claim).__name__}")
    if not isinstance(claim.id, str) or not _ID.match(claim.id):
        raise ValueError(f"claim.id: expected 'C' followed by digits, e.g. 'C8', got {claim.id!r}")
    for key, field in claim.params.items():
        if not isinstance(field, Field):
            raise ValueError(f"{claim.id}.params[{key!r}]: expected a verification.config.Field, got {type(field).__name__}")
    for name in ("run", "check"):
        if not callable(getattr(claim, name)):
            raise ValueError(f"{claim.id}.{name}: expected a callable, got {getattr(claim, name)!r}")
    for name in ("plot", "summary", "preflight", "training", "memory"):
        if getattr(claim, name) is not None and not callable(getattr(claim, name)):
            raise ValueError(f"{claim.id}.{name}: expected a callable or None, got {getattr(claim, name)!r}")
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
        """``fn()`` computed once per run under ``name``."""
        if name not in self.memo:
            self.memo[name] = fn()
        return self.memo[name]

    def dataset(self, n: int | None = None, *, n_test: int = 0, noise_std: float = 0.0):
        """The shared state-space data set (see :func:`verification.datasets.make_dataset`)."""
        n = self.config["data"]["n"] if n is None else n
        name = f"dataset/{n}/{n_test}/{noise_std!r}"
        return self.cached(name, lambda: make_dataset(self.config["data"], self.key("data"), n=n,
                                                      n_test=n_test, noise_std=noise_std))

    def lambda_star(self, n: int | None = None, *, sigma: float | None = None):
        r"""``(Lambda, H*)`` of :func:`verification.bounds.lambda_star` (``extended=True``: λ with its
        precision) for the shared data set of ``n`` windows and neuron scale σ (default ``[data] sigma``),
        memoised under the one key ``lambda_star/<n>/<σ>``: every claim and command asking for the same
        λ gets the same number, computed once."""
        n = self.config["data"]["n"] if n is None else n
        sigma = float(self.config["data"]["sigma"] if sigma is None else sigma)
        return self.cached(f"lambda_star/{n}/{sigma!r}", lambda: bounds.lambda_star(
            np.asarray(self.dataset(n).X, np.float64), sigma=sigma, extended=True))

    def learning_rate(self, section: Mapping, *, sizes=None, sigma: float | None = None) -> float:
        r"""The step size η of a section's ``eta``/``eta_mode`` (:func:`verification.step_size.section_learning_rate`):
        ``eta`` itself, or ``eta · 2/λ_max(H*)`` at the most restrictive of ``sizes`` (default ``[data] n``)
        with neuron scale σ — the one reading every command and claim shares."""
        sizes = [self.config["data"]["n"]] if sizes is None else list(sizes)
        return steps.section_learning_rate(section, lambda n: self.lambda_star(n, sigma=sigma)[0].norm, sizes)

    def progress(self, desc: str, total: int):
        """A progress bar for one stage (tqdm text bars: tqdm.auto warns in kernels without ipywidgets)."""
        return tqdm(total=total, desc=desc, disable=self.quiet, leave=False, dynamic_ncols=True)
