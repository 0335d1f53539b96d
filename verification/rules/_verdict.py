r"""The outcome of checking one claim: a :class:`Verdict` with its evidence, serialisable to JSON.

Statuses (docs/theory.md, "Verdicts"):

* ``HOLDS`` — every measurement is within the bound over the tested range, intervals included;
* ``VIOLATED`` — a reproducible counterexample exists (``counterexample`` names the smallest one
  found: seed and sizes);
* ``VACUOUS`` — the claim's hypotheses cannot be met or checked at this precision (for instance
  :math:`\lambda = \lambda_{\min}(H^*)` below the float64 resolution :math:`n\,\epsilon\,\|H^*\|`,
  or
  a required width or step count beyond reach); the explanation says which and by how much;
* ``INCONCLUSIVE`` — the intervals straddle the bound.

A claim usually checks several things (*parts*). Each decisive part is a *premise* (what the theorem
assumes: a width, a step size, the kernel regime, an alignment time) or a *conclusion* (what it
asserts); non-decisive parts are diagnostics. :func:`combine_parts` is the one combining rule
(docs/theory.md, "Combining parts"):

1. a premise that is not met (VIOLATED) or cannot be checked (VACUOUS) makes the theorem's verdict
   VACUOUS: its conclusion is not judged where its hypotheses fail;
2. otherwise the conclusion parts that could be checked decide, with the precedence
   VIOLATED > INCONCLUSIVE > HOLDS; a premise that is INCONCLUSIVE caps the result at INCONCLUSIVE
   (a failure there is not a counterexample) unless nothing could be checked;
3. conclusion parts that cannot be checked (VACUOUS: λ below float64 resolution, the float floor,
   an unreachable horizon) do not hide the ones that were decided — they are named in the headline
   (:func:`headline`, e.g. ``HOLDS 4 · VACUOUS 1 (λ below float64)``); when no conclusion part could
   be checked the verdict is VACUOUS.

:func:`combine_status` (precedence VIOLATED > INCONCLUSIVE > VACUOUS > HOLDS) folds the statuses of
sub-checks *inside* one part (every width of one bound, say).

Besides this *theorem* verdict, a claim may carry an :class:`Observed` verdict: its conclusion as an
empirical law at the scales that were run (which widths, times, data), decided by a calibrated rule
whose name it carries, with the looseness of the theorem's premises (orders of magnitude between
where
the conclusion is observed and where the theorem requires it).

JSON is lossless: floats are written with ``repr`` (shortest round-trip form), non-finite floats
as ``{"$float": "inf" | "-inf" | "nan"}``, and arrays (figure data) as
``{"$array": {"dtype", "shape", "data"}}``, so ``Verdict.from_dict(v.to_dict()) == v``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

__all__ = [
    "HOLDS",
    "VIOLATED",
    "VACUOUS",
    "INCONCLUSIVE",
    "STATUSES",
    "ROLES",
    "Part",
    "Observed",
    "Verdict",
    "combine_status",
    "combine_parts",
    "headline",
    "to_jsonable",
    "from_jsonable",
]

HOLDS = "HOLDS"
VIOLATED = "VIOLATED"
VACUOUS = "VACUOUS"
INCONCLUSIVE = "INCONCLUSIVE"
STATUSES = (HOLDS, VIOLATED, VACUOUS, INCONCLUSIVE)
_PRECEDENCE = (VIOLATED, INCONCLUSIVE, VACUOUS, HOLDS)
ROLES = ("premise", "conclusion")
_COUNT_ORDER = (HOLDS, VIOLATED, INCONCLUSIVE, VACUOUS)


def combine_status(statuses) -> str:
    """Overall status of several decisive parts: VIOLATED > INCONCLUSIVE > VACUOUS > HOLDS.

    >>> combine_status(["HOLDS", "VACUOUS"])
    'VACUOUS'
    """
    statuses = list(statuses)
    if not statuses:
        raise ValueError("statuses: expected at least one status, got none")
    for s in statuses:
        if s not in STATUSES:
            raise ValueError(f"statuses: expected each in {STATUSES}, got {s!r}")
    return next(s for s in _PRECEDENCE if s in statuses)


def combine_parts(parts) -> str:
    """The theorem verdict of a claim from its parts, by the one combining rule (module docstring).

    Only decisive parts count; premises first, then the conclusion parts that could be checked.

    >>> parts = [Part("rate", "HOLDS", ""), Part("λ/2", "VACUOUS", "", why="λ below float64")]
    >>> combine_parts(parts)
    'HOLDS'
    >>> combine_parts([Part("width", "VIOLATED", "", role="premise"), Part("rate", "HOLDS", "")])
    'VACUOUS'
    """
    parts = [p for p in parts if p.decisive]
    premises = [p.status for p in parts if p.role == "premise"]
    if VIOLATED in premises or VACUOUS in premises:
        return VACUOUS
    checked = [p.status for p in parts if p.role == "conclusion" and p.status != VACUOUS]
    if not checked:
        return VACUOUS
    status = combine_status(checked)
    if INCONCLUSIVE in premises and status != INCONCLUSIVE:
        return INCONCLUSIVE
    return status


def headline(parts) -> str:
    """The decisive parts counted by status, with the reasons of those that did not hold.

    ``HOLDS 4 · VACUOUS 1 (λ below float64)``; premises that are not met come first and are marked
    (``premise VIOLATED 1 (η above λδ by 1e36)``). Empty string when no part is decisive.

    >>> c = Part("c", "VACUOUS", "", why="λ below float64")
    >>> headline([Part("a", "HOLDS", ""), Part("b", "HOLDS", ""), c])
    'HOLDS 2 · VACUOUS 1 (λ below float64)'
    """
    parts = [p for p in parts if p.decisive]
    out = []
    for role, prefix in (("premise", "premise "), ("conclusion", "")):
        group = [p for p in parts if p.role == role]
        for status in _COUNT_ORDER:
            hit = [p for p in group if p.status == status]
            if not hit or (role == "premise" and status == HOLDS):
                continue
            whys = list(dict.fromkeys(p.why or p.name for p in hit)) if status != HOLDS else []
            out.append(f"{prefix}{status} {len(hit)}" + (f" ({'; '.join(whys)})" if whys else ""))
    held = [p for p in parts if p.role == "premise" and p.status == HOLDS]
    if held:
        out.append(f"premises met {len(held)}")
    return " · ".join(out)


def to_jsonable(x: Any) -> Any:
    """Plain JSON types for ``x``: numpy scalars to Python, tuples to lists, non-finite floats
    tagged.

    Numpy arrays of any dtype become ``{"$array": {...}}`` (exact: floats keep every bit).
    """
    if isinstance(x, dict):
        out = {}
        for k, v in x.items():
            if not isinstance(k, str):
                raise ValueError(f"keys: expected string dictionary keys for JSON, got {k!r}")
            out[k] = to_jsonable(v)
        return out
    if isinstance(x, (list, tuple)):
        return [to_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biuf":
            raise ValueError(f"array: expected a bool, integer or float array, got dtype {x.dtype}")
        return {
            "$array": {
                "dtype": x.dtype.str,
                "shape": list(x.shape),
                "data": [to_jsonable(v) for v in x.ravel().tolist()],
            }
        }
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        v = float(x)
        if math.isfinite(v):
            return v
        return {"$float": "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")}
    if x is None or isinstance(x, str):
        return x
    if hasattr(x, "__array__"):  # jax arrays
        return to_jsonable(np.asarray(x))
    raise ValueError(
        f"value: expected JSON-representable data (numbers, strings, lists, dicts, arrays), got "
        f"{type(x).__name__}"
    )


def from_jsonable(x: Any) -> Any:
    """Inverse of :func:`to_jsonable`."""
    if isinstance(x, dict):
        if set(x) == {"$float"}:
            return float(x["$float"])
        if set(x) == {"$array"}:
            spec = x["$array"]
            data = [from_jsonable(v) for v in spec["data"]]
            return np.asarray(data, dtype=np.dtype(spec["dtype"])).reshape(spec["shape"])
        return {k: from_jsonable(v) for k, v in x.items()}
    if isinstance(x, list):
        return [from_jsonable(v) for v in x]
    return x


@dataclasses.dataclass(frozen=True)
class Part:
    """One checked statement inside a claim: its name, status, one-line finding, and how it counts.

    ``role`` is ``"premise"`` (a hypothesis of the theorem) or ``"conclusion"`` (what it asserts);
    ``why`` a few words on a status other than HOLDS, for the headline (``"λ below float64"``).
    Parts with ``decisive=False`` are reported (a mechanism, a diagnostic) but do not enter the
    claim's status (:func:`combine_parts`).
    """

    name: str
    status: str
    finding: str
    decisive: bool = True
    role: str = "conclusion"
    why: str = ""

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status: expected one of {STATUSES}, got {self.status!r}")
        if self.role not in ROLES:
            raise ValueError(f"role: expected one of {ROLES}, got {self.role!r}")


@dataclasses.dataclass(frozen=True)
class Observed:
    """A claim's conclusion read as an empirical law at the scales that were run.

    ``status`` one of :data:`STATUSES`; ``rule`` the calibrated decision rule that decided it (as
    named in docs/calibration.md); ``scale`` the range it speaks for (``"m ≤ 1024, t ≤ 1e4, data
    residual"``); ``finding`` one sentence with the numbers; ``looseness`` named numbers: orders of
    magnitude between where the conclusion is observed and where the theorem requires it, and the
    constants (c_T, c_A, c_R …) the observations would support; ``budget`` where the status is
    INCONCLUSIVE, the budget at which the rule's power reaches 0.8 (from the calibration).
    """

    status: str
    rule: str
    scale: str
    finding: str
    looseness: dict = dataclasses.field(default_factory=dict)
    budget: str = ""

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"observed.status: expected one of {STATUSES}, got {self.status!r}")
        for name in ("rule", "scale", "finding"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(
                    f"observed.{name}: expected a non-empty string, got {getattr(self, name)!r}"
                )
        object.__setattr__(self, "looseness", from_jsonable(to_jsonable(dict(self.looseness))))


@dataclasses.dataclass(frozen=True, eq=False)
class Verdict:
    r"""The verdict on one claim, with every number that produced it.

    ``claim`` the claim id ("C1"…); ``status`` one of :data:`STATUSES`; ``explanation`` two or
    three plain-language sentences; ``measured`` and ``bounds`` named numbers (scalars or lists);
    ``intervals`` name → ``[lo, hi]``; ``tested_range`` the sizes tried; ``config`` the claim's
    configuration (and the data section it used); ``seed`` the run seed; ``parts`` the checked
    statements; ``counterexample`` the smallest failing case (for VIOLATED); ``constants`` the
    unknown constants :math:`c_\cdot` used and their values; ``arrays`` figure data (numpy arrays,
    written to ``evidence.npz`` by the report, not to ``summary.json``); ``observed`` the conclusion
    as an empirical law (:class:`Observed`) beside ``status``, the theorem's verdict.
    """

    claim: str
    status: str
    explanation: str
    measured: dict = dataclasses.field(default_factory=dict)
    bounds: dict = dataclasses.field(default_factory=dict)
    intervals: dict = dataclasses.field(default_factory=dict)
    tested_range: dict = dataclasses.field(default_factory=dict)
    config: dict = dataclasses.field(default_factory=dict)
    seed: int | None = None
    parts: tuple = ()
    counterexample: dict | None = None
    constants: dict = dataclasses.field(default_factory=dict)
    arrays: dict = dataclasses.field(default_factory=dict)
    observed: Observed | None = None

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status: expected one of {STATUSES}, got {self.status!r}")
        if self.observed is not None and not isinstance(self.observed, Observed):
            object.__setattr__(self, "observed", Observed(**self.observed))
        if not isinstance(self.claim, str) or not self.claim:
            raise ValueError(f"claim: expected a claim id such as 'C1', got {self.claim!r}")
        # normalise to JSON-native values so that a round trip compares equal
        for name in ("measured", "bounds", "intervals", "tested_range", "config", "constants"):
            object.__setattr__(self, name, from_jsonable(to_jsonable(dict(getattr(self, name)))))
        if self.counterexample is not None:
            object.__setattr__(
                self, "counterexample", from_jsonable(to_jsonable(dict(self.counterexample)))
            )
        parts = tuple(p if isinstance(p, Part) else Part(**p) for p in self.parts)
        object.__setattr__(self, "parts", parts)
        object.__setattr__(self, "arrays", {str(k): np.asarray(v) for k, v in self.arrays.items()})
        if self.seed is not None:
            object.__setattr__(self, "seed", int(self.seed))

    def to_dict(self, *, include_arrays: bool = True) -> dict:
        """JSON-ready dict; ``include_arrays=False`` leaves the figure data out (summary.json)."""
        out = {
            "id": self.claim,
            "status": self.status,
            "explanation": self.explanation,
            "measured": to_jsonable(self.measured),
            "bounds": to_jsonable(self.bounds),
            "intervals": to_jsonable(self.intervals),
            "tested_range": to_jsonable(self.tested_range),
            "config": to_jsonable(self.config),
            "seed": self.seed,
            "parts": [dataclasses.asdict(p) for p in self.parts],
            "counterexample": to_jsonable(self.counterexample),
            "constants": to_jsonable(self.constants),
            "headline": headline(self.parts),
            "observed": None
            if self.observed is None
            else to_jsonable(dataclasses.asdict(self.observed)),
        }
        if include_arrays:
            out["arrays"] = to_jsonable(self.arrays)
        return out

    @classmethod
    def from_dict(cls, data: dict, *, arrays: dict | None = None) -> Verdict:
        """Rebuild from :meth:`to_dict` output; ``arrays`` supplies figure data stored elsewhere."""
        known = {
            "id",
            "status",
            "explanation",
            "measured",
            "bounds",
            "intervals",
            "tested_range",
            "config",
            "seed",
            "parts",
            "counterexample",
            "constants",
            "arrays",
            "headline",
            "observed",
        }
        unknown = set(data) - known
        if unknown:
            raise ValueError(
                f"data: unknown verdict fields {sorted(unknown)}; expected a subset of "
                f"{sorted(known)}"
            )
        for key in ("id", "status", "explanation"):
            if key not in data:
                raise ValueError(f"data: a verdict needs the field {key!r}")
        arr = from_jsonable(data.get("arrays", {}))
        if arrays is not None:
            arr = {**arr, **arrays}
        return cls(
            claim=data["id"],
            status=data["status"],
            explanation=data["explanation"],
            measured=from_jsonable(data.get("measured", {})),
            bounds=from_jsonable(data.get("bounds", {})),
            intervals=from_jsonable(data.get("intervals", {})),
            tested_range=from_jsonable(data.get("tested_range", {})),
            config=from_jsonable(data.get("config", {})),
            seed=data.get("seed"),
            parts=tuple(Part(**p) for p in data.get("parts", [])),
            counterexample=from_jsonable(data.get("counterexample")),
            constants=from_jsonable(data.get("constants", {})),
            arrays=arr,
            observed=None
            if data.get("observed") is None
            else Observed(**from_jsonable(data["observed"])),
        )

    def __eq__(self, other):
        if not isinstance(other, Verdict):
            return NotImplemented
        return self.to_dict() == other.to_dict()  # NaN is tagged there, so NaN == NaN

    __hash__ = None
