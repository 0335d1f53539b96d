r"""The outcome of checking one claim: a :class:`Verdict` with its evidence, serialisable to JSON.

Statuses (docs/theory.md, "Verdicts"):

* ``HOLDS`` — every measurement is within the bound over the tested range, intervals included;
* ``VIOLATED`` — a reproducible counterexample exists (``counterexample`` names the smallest one
  found: seed and sizes);
* ``VACUOUS`` — the claim's hypotheses cannot be met or checked at this precision (for instance
  :math:`\lambda = \lambda_{\min}(H^*)` below the float64 resolution :math:`n\,\epsilon\,\|H^*\|`, or
  a required width or step count beyond reach); the explanation says which and by how much;
* ``INCONCLUSIVE`` — the intervals straddle the bound.

A claim usually checks several things (*parts*); :func:`combine_status` folds the decisive parts
into one status with the precedence VIOLATED > INCONCLUSIVE > VACUOUS > HOLDS: a claim HOLDS only
when everything it states was checked and held.

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
    "Part",
    "Verdict",
    "combine_status",
    "to_jsonable",
    "from_jsonable",
]

HOLDS = "HOLDS"
VIOLATED = "VIOLATED"
VACUOUS = "VACUOUS"
INCONCLUSIVE = "INCONCLUSIVE"
STATUSES = (HOLDS, VIOLATED, VACUOUS, INCONCLUSIVE)
_PRECEDENCE = (VIOLATED, INCONCLUSIVE, VACUOUS, HOLDS)


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


def to_jsonable(x: Any) -> Any:
    """Plain JSON types for ``x``: numpy scalars to Python, tuples to lists, non-finite floats tagged.

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
        return {"$array": {"dtype": x.dtype.str, "shape": list(x.shape), "data": [to_jsonable(v) for v in x.ravel().tolist()]}}
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
    raise ValueError(f"value: expected JSON-representable data (numbers, strings, lists, dicts, arrays), got {type(x).__name__}")


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
    """One checked statement inside a claim: its name, status, one-line finding, and whether it counts.

    Parts with ``decisive=False`` are reported (a mechanism, a diagnostic) but do not enter the
    claim's overall status.
    """

    name: str
    status: str
    finding: str
    decisive: bool = True

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status: expected one of {STATUSES}, got {self.status!r}")


@dataclasses.dataclass(frozen=True, eq=False)
class Verdict:
    r"""The verdict on one claim, with every number that produced it.

    ``claim`` the claim id ("C1"…); ``status`` one of :data:`STATUSES`; ``explanation`` two or
    three plain-language sentences; ``measured`` and ``bounds`` named numbers (scalars or lists);
    ``intervals`` name → ``[lo, hi]``; ``tested_range`` the sizes tried; ``config`` the claim's
    configuration (and the data section it used); ``seed`` the run seed; ``parts`` the checked
    statements; ``counterexample`` the smallest failing case (for VIOLATED); ``constants`` the
    unknown constants :math:`c_\cdot` used and their values; ``arrays`` figure data (numpy arrays,
    written to ``evidence.npz`` by the report, not to ``summary.json``).
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

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status: expected one of {STATUSES}, got {self.status!r}")
        if not isinstance(self.claim, str) or not self.claim:
            raise ValueError(f"claim: expected a claim id such as 'C1', got {self.claim!r}")
        # normalise to JSON-native values so that a round trip compares equal
        for name in ("measured", "bounds", "intervals", "tested_range", "config", "constants"):
            object.__setattr__(self, name, from_jsonable(to_jsonable(dict(getattr(self, name)))))
        if self.counterexample is not None:
            object.__setattr__(self, "counterexample", from_jsonable(to_jsonable(dict(self.counterexample))))
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
        }
        if include_arrays:
            out["arrays"] = to_jsonable(self.arrays)
        return out

    @classmethod
    def from_dict(cls, data: dict, *, arrays: dict | None = None) -> "Verdict":
        """Rebuild from :meth:`to_dict` output; ``arrays`` supplies figure data stored elsewhere."""
        known = {"id", "status", "explanation", "measured", "bounds", "intervals", "tested_range", "config",
                 "seed", "parts", "counterexample", "constants", "arrays"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"data: unknown verdict fields {sorted(unknown)}; expected a subset of {sorted(known)}")
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
        )

    def __eq__(self, other):
        if not isinstance(other, Verdict):
            return NotImplemented
        return self.to_dict() == other.to_dict()  # NaN is tagged there, so NaN == NaN

    __hash__ = None
