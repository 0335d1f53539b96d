"""The contract every built-in claim keeps (:class:`verification.contract.Claim`): a known verdict
from ``check`` on a constructed input, figures from the verdict alone, a one-line summary, a
default section that validates, and the declared training runs and memory estimate."""

import importlib

import numpy as np
import pytest

from verification import config as cfg
from verification.claims import BUILTIN, CLAIMS
from verification.contract import Claim, StepSize, TrainingRun, check_claim
from verification.rules._verdict import STATUSES, Verdict

IDS = [c.id for c in BUILTIN]


def _module(claim: Claim):
    """The claim's own module: a built-in claim's package front (``verification.claims.cN_…``)."""
    name = claim.run.__module__
    if name.startswith("verification.claims."):
        name = ".".join(name.split(".")[:3])
    return importlib.import_module(name)


def test_builtin_claims_are_the_registered_ones_in_order():
    assert IDS == [f"C{i}" for i in range(1, 8)]
    assert list(CLAIMS)[: len(BUILTIN)] == IDS and all(CLAIMS[c.id] is c for c in BUILTIN)


@pytest.mark.parametrize("claim", BUILTIN, ids=IDS)
def test_check_gives_the_known_verdict_and_plot_and_summary_use_the_verdict_alone(claim, tmp_path):
    check_claim(claim)
    kwargs, expected = _module(claim).example_check_input()
    assert expected in STATUSES
    v = claim.check(**kwargs)
    assert isinstance(v, Verdict) and v.claim == claim.id and v.status == expected, (
        v.status,
        v.explanation,
    )
    again = Verdict.from_dict(v.to_dict(), arrays=v.arrays)  # what `ntk-verify report` reads back
    files = claim.plot(again, tmp_path)
    assert files and all((tmp_path / f).stat().st_size > 0 for f in files)
    line = claim.summary(again)
    assert isinstance(line, str) and line and "\n" not in line


@pytest.mark.parametrize("claim", BUILTIN, ids=IDS)
def test_default_section_validates_and_declares_training_and_memory(claim):
    default = cfg.default_config()
    assert cfg.validate({claim.id: default[claim.id]})[claim.id] == default[claim.id]
    section, data = default[claim.id], default["data"]
    need, why = claim.memory(section, data)
    assert isinstance(need, int) and need >= 8 * data["d"] and isinstance(why, str)
    runs = claim.training(section, data) if claim.training is not None else []
    for run in runs:  # a typed step size, read from the section (C2's scan: η × each factor)
        assert isinstance(run, TrainingRun) and isinstance(run.eta, StepSize)
        assert run.eta.mode == StepSize.of(section).mode and run.eta.eta > 0
        assert min(run.widths) >= 2 and run.sizes
    if runs:
        assert runs[0].eta == StepSize.of(section)


def test_training_is_declared_exactly_for_the_claims_training_the_papers_network():
    assert [c.id for c in BUILTIN if c.training is not None] == ["C1", "C2", "C3", "C4", "C5"]


def test_memory_matches_a_count_by_hand():
    d = cfg.default_config()
    data = {**d["data"], "d": 8}
    sec = {
        **d["C1"],
        "sizes": [8, 24],
        "widths": [64, 4096],
        "seeds": 120,
        "seeds_per_block": 120,
        "steps": 800,
        "record_every": 10,
    }
    need, why = CLAIMS["C1"].memory(sec, data)
    R, per, n = 800 // 10 + 1, 120, 24  # records, seeds in one block, the largest size
    block = 8 * per * (64 + 4096) * (n + 24)  # Jacobian rows and 24 other numbers per neuron
    matrices = (
        8 * n**2 * (3 * (2 * per + 1) + 2 * 120 + 8)
    )  # H(0), H(t), H(0) per run of the block, every H(0), H*
    records = 8 * 10 * 2 * 120 * R  # ten fields per run and record
    host_ntk = 8 * R * per * 2 * n * n  # the symmetrised H(t) of every record of a block
    windows = 8 * n * 8
    # the kernel-regime reading: seeds × n × widest m × (d + 4) numbers (attention, Jacobian,
    # residuals)
    mechanism = (
        8 * sec["mechanism_seeds"] * sec["mechanism_n"] * max(sec["mechanism_widths"]) * (8 + 4)
    )
    assert (need, why) == (
        block + matrices + records + host_ntk + windows + mechanism,
        "sweep block (Jacobian n × Σ widths and per-neuron state)",
    )
    need, why = CLAIMS["C7"].memory({**d["C7"], "n": 32, "pool": 96, "test_windows": 200}, data)
    assert need == 8 * (32 + 96 + 200) * 8 and "windows" in why
    need, _ = CLAIMS["C6"].memory({**d["C6"], "max_tokens": 1000, "max_width": 6}, data)
    assert need == 8 * 1000**2 * 6


def test_a_malformed_claim_is_refused_in_one_line():
    good = BUILTIN[0]
    import dataclasses

    for field, value, words in (
        ("id", "X1", "claim.id"),
        ("training", 3, "C1.training"),
        ("run", None, "C1.run"),
    ):
        with pytest.raises(ValueError, match=words) as err:
            check_claim(dataclasses.replace(good, **{field: value}))
        assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="params"):
        check_claim(dataclasses.replace(good, params={"k": np.float64(1)}))
