r"""The claims: the built-in C1–C7 (one module each), the registry, and plug-in claims.

Built-in claims are the explicit tuple :data:`BUILTIN`, in order. A claim is a
:class:`verification.contract.Claim` (its fields are the whole contract with the pipeline); it lives
in its own module, which imports leaves only (never another claim, the pipeline or the report).

Adding a claim without editing the package: a **plug-in** is a module (a dotted name on
``sys.path`` or a ``.py`` file) whose attribute ``CLAIMS`` (a tuple of Claim) or ``CLAIM`` holds
the claims; ``ntk-verify run --plugin MODULE_OR_FILE`` (repeatable) loads it, as does an
installed package declaring an entry point in the group ``ntk_verify.claims``
(``[project.entry-points."ntk_verify.claims"] c8 = "mypkg.c8"``). A loaded plug-in's claims join
:data:`CLAIMS`: their ``[Cn]`` section is configurable (``ntk-verify config --default --plugin …``),
``--claims C8`` accepts the id, and the results record the plug-in (``summary.json``), so that
``ntk-verify report DIR`` reloads it to redraw its figures.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import sys
from pathlib import Path

from verification import config as cfg
from verification.claims import (
    c1_convergence,
    c2_asymmetric_learning,
    c3_last_token_mass,
    c4_ntk_stability,
    c5_ood_risk,
    c6_gradient_formula,
    c7_mitigations,
)
from verification.contract import Claim, Context, TrainingRun, check_claim

__all__ = [
    "BUILTIN",
    "CLAIMS",
    "Claim",
    "Context",
    "TrainingRun",
    "PLUGINS",
    "ENTRY_POINT_GROUP",
    "register_claim",
    "load_plugin",
    "load_extensions",
]

BUILTIN: tuple[Claim, ...] = (
    c1_convergence.CLAIM,
    c2_asymmetric_learning.CLAIM,
    c3_last_token_mass.CLAIM,
    c4_ntk_stability.CLAIM,
    c5_ood_risk.CLAIM,
    c6_gradient_formula.CLAIM,
    c7_mitigations.CLAIM,
)
"""The built-in claims, in order."""

ENTRY_POINT_GROUP = "ntk_verify.claims"

CLAIMS: dict[str, Claim] = cfg.REGISTERED
"""Registered claims by id, in registration order (the built-in ones first); the same dict that
:func:`verification.config.schema` reads when given no claims."""

PLUGINS: dict[str, tuple[str, ...]] = {}
"""Loaded plug-ins: the name given (module or file) -> the ids of its claims."""


def register_claim(claim: Claim, *, replace: bool = False) -> Claim:
    """Add ``claim`` to :data:`CLAIMS`; an existing id is refused unless ``replace``."""
    check_claim(claim)
    if claim.id in CLAIMS and not replace:
        raise ValueError(
            f"claim.id: {claim.id!r} is already registered (pass replace=True to override)"
        )
    CLAIMS[claim.id] = claim
    return claim


for _claim in BUILTIN:
    register_claim(_claim, replace=True)


def _is_file(spec: str) -> bool:
    return spec.endswith(".py") or "/" in spec or "\\" in spec


def _import(spec: str):
    """The module named ``spec``: a ``.py`` file path or a dotted module name."""
    if _is_file(spec):
        path = Path(spec).resolve()
        name = "ntk_verify_plugin_" + hashlib.sha1(str(path).encode()).hexdigest()[:12]
        if name in sys.modules:
            return sys.modules[name]
        loader_spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[name] = module
        try:
            loader_spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        return module
    return importlib.import_module(spec)


def load_plugin(spec: str) -> tuple[str, ...]:
    """Import the plug-in ``spec`` (dotted module name or ``.py`` file) and register its ``CLAIMS``
    (a tuple of Claim) or ``CLAIM``; returns their ids. Loading the same plug-in twice is a no-op;
    any failure is one ValueError line naming the plug-in."""
    if spec in PLUGINS:
        return PLUGINS[spec]
    if _is_file(spec) and not Path(spec).is_file():
        raise ValueError(f"--plugin: {spec!r}: no such file")
    try:
        module = _import(spec)
    except Exception as err:
        raise ValueError(f"--plugin: cannot load {spec!r} ({type(err).__name__}: {err})") from None
    found = getattr(module, "CLAIMS", None)
    if found is None and getattr(module, "CLAIM", None) is not None:
        found = (module.CLAIM,)
    if not isinstance(found, (tuple, list)) or not found:
        raise ValueError(f"--plugin: {spec!r} defines neither CLAIMS (a tuple of Claim) nor CLAIM")
    ids = []
    for claim in found:
        try:
            check_claim(claim)
        except ValueError as err:
            raise ValueError(f"--plugin: {spec!r}: {err}") from None
        if claim.id in CLAIMS and CLAIMS[claim.id] is not claim:
            raise ValueError(f"--plugin: {spec!r}: claim id {claim.id!r} is already registered")
        CLAIMS[claim.id] = claim
        ids.append(claim.id)
    PLUGINS[spec] = tuple(ids)
    return PLUGINS[spec]


def load_extensions() -> list[str]:
    """Load every installed plug-in of the entry-point group ``ntk_verify.claims``; returns their
    names."""
    names = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        load_plugin(ep.value.split(":")[0])
        names.append(ep.value.split(":")[0])
    return names
