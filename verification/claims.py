r"""The claim registry: one :class:`Claim` per statement of the paper that the toolkit checks.

Contract for adding a claim (how C6/C7 join from ``verification/mitigations.py``)
---------------------------------------------------------------------------------
A module registers a claim by calling :func:`register_claim` at import time::

    from verification.claims import Claim, register_claim
    from verification import config as cfg

    register_claim(Claim(
        id="C6", source="seed §3.1", title="...", statement=r"\frac{dL}{dW} = ...",
        params={"steps": cfg.positive_int(100, "training steps"), ...},
        run=run_c6,        # (section: dict, context: Context) -> Verdict
        check=check_c6,    # (evidence, **numbers) -> Verdict, pure: testable on constructed inputs
        plot=plot_c6,      # optional (verdict, out_dir: Path) -> list of PNG file names written
        summary=...,       # optional (verdict) -> one short string for the verdict table
        preflight=...,     # optional (section, context) -> None; cheap checks run for every
                           # selected claim before any claim runs (raise ConfigError to refuse)
    ))

What registration gives, with no edit elsewhere:

* **configuration**: ``[C6]`` becomes a TOML section with ``params``'s defaults and validation
  (:func:`verification.config.schema` reads :data:`CLAIMS`); ``ntk-verify config --default`` prints it;
* **selection**: ``ntk-verify run --claims C6`` and ``[run] claims = ["C6"]`` accept the id;
* **running**: :func:`verification.pipeline.run_claims` calls ``claim.run(config[id], context)``
  in registry order; the :class:`Context` gives the validated configuration, the seed, keys,
  the shared data set (:meth:`Context.dataset`), a memo shared between claims and progress bars;
* **report**: the verdict joins ``summary.json`` and the table of ``report.md``; its
  ``explanation`` is the claim's paragraph, and ``plot`` draws its figures (also when
  ``ntk-verify report DIR`` re-renders from ``summary.json`` + ``evidence.npz``: ``plot`` must
  use only the verdict, its numbers and its ``arrays``).

The CLI and the pipeline call :func:`load_extensions`, which imports each module of
:data:`EXTENSION_MODULES` that exists (``importlib.util.find_spec``); importing this module
does not, so an extension may import it freely. Claim ids are ``C`` followed by digits; the
registry keeps insertion order (C1 … C5 first).

Verdict rules (SPEC §4) are implemented by each claim's pure ``check``; see
:mod:`verification.verdict` for the statuses and how parts combine.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import re
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import jax

from verification.config import Field
from verification.verdict import Verdict

__all__ = ["Claim", "Context", "CLAIMS", "register_claim", "load_extensions", "import_if_present", "EXTENSION_MODULES"]

EXTENSION_MODULES = ("verification.mitigations",)
"""Modules that register further claims when they exist (imported by :func:`load_extensions`)."""

_ID = re.compile(r"^C[0-9]+$")


@dataclasses.dataclass(frozen=True)
class Claim:
    """A checkable statement: identity, the LaTeX statement, its configuration, how to run and check it."""

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


CLAIMS: dict[str, Claim] = {}
"""Registered claims by id, in registration order."""


def register_claim(claim: Claim, *, replace: bool = False) -> Claim:
    """Add ``claim`` to :data:`CLAIMS`; an existing id is refused unless ``replace``."""
    if not isinstance(claim, Claim):
        raise ValueError(f"claim: expected a verification.claims.Claim, got {type(claim).__name__}")
    if not _ID.match(claim.id):
        raise ValueError(f"claim.id: expected 'C' followed by digits, e.g. 'C6', got {claim.id!r}")
    if claim.id in ("run", "data"):
        raise ValueError(f"claim.id: {claim.id!r} is a reserved section name")
    if claim.id in CLAIMS and not replace:
        raise ValueError(f"claim.id: {claim.id!r} is already registered (pass replace=True to override)")
    for key, field in claim.params.items():
        if not isinstance(field, Field):
            raise ValueError(f"claim.params[{key!r}]: expected a verification.config.Field, got {type(field).__name__}")
    CLAIMS[claim.id] = claim
    return claim


def import_if_present(name: str):
    """The module ``name`` if ``importlib.util.find_spec`` finds it (imported), else ``None``."""
    try:
        spec = importlib.util.find_spec(name)
    except ModuleNotFoundError:
        spec = None
    return importlib.import_module(name) if spec is not None else None


def load_extensions() -> list[str]:
    """Import every module of :data:`EXTENSION_MODULES` that exists; returns the names imported."""
    return [name for name in EXTENSION_MODULES if import_if_present(name) is not None]


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
        """The shared state-space data set (see :func:`verification.pipeline.make_dataset`)."""
        from verification.pipeline import make_dataset

        n = self.config["data"]["n"] if n is None else n
        name = f"dataset/{n}/{n_test}/{noise_std!r}"
        return self.cached(name, lambda: make_dataset(self.config["data"], self.key("data"), n=n,
                                                      n_test=n_test, noise_std=noise_std))

    def progress(self, desc: str, total: int):
        """A progress bar for one stage."""
        from tqdm import tqdm  # text bars: tqdm.auto warns in kernels without ipywidgets

        return tqdm(total=total, desc=desc, disable=self.quiet, leave=False, dynamic_ncols=True)


# C1..C5 register themselves on import (kept last: that module imports the names above)
from verification import paper_claims  # noqa: E402,F401
