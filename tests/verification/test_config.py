"""Configuration: defaults, TOML round trip, one-line refusals naming the key and allowed values."""

import tomllib

import pytest

from verification import config as cfg
from verification.claims import CLAIMS


def test_default_covers_every_claim_and_round_trips_through_toml():
    default = cfg.default_config()
    assert {"run", "data", *CLAIMS} <= set(default)
    text = cfg.to_toml(default)
    assert tomllib.loads(text) == default
    assert cfg.loads(text) == default
    assert "# network widths m" in text  # each key documented


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[C1]\nwidth = [8]", "C1.width: unknown key; allowed keys in [C1]: widths"),
        ("[C9]\nx = 1", "C9: unknown section; allowed sections: run, data"),
        (
            "[C1]\nwidths = 64",
            "C1.widths: expected a list of at least 1 integer(s) >= 2, strictly increasing, got 64",
        ),
        (
            "[C1]\nwidths = [256, 64]",
            "C1.widths: expected a list of at least 1 integer(s) >= 2, strictly increasing",
        ),
        ("[C1]\nseeds = 2.5", "C1.seeds: expected an integer >= 1 and <= 1024, got 2.5"),
        ("[C1]\neta = -0.1", "C1.eta: expected a finite number > 0, got -0.1"),
        ("[C1]\ndelta = 1.0", "C1.delta: expected a number in (0, 1), got 1.0"),
        ("[C1]\neta = true", "C1.eta: expected a finite number > 0, got True"),
        (
            "[data]\nwindows = 'rolling'",
            "data.windows: expected one of 'independent', 'sliding', got 'rolling'",
        ),
        ("[data]\nd = 1", "data.d: expected an integer >= 2 and <= 64, got 1"),
        (
            "[C1]\nsteps = 100\nrecord_every = 7",
            "C1.record_every: expected a divisor of C1.steps = 100, got 7",
        ),
        ("[run]\nclaims = ['C1', 'C42']", "run.claims: expected a list of registered claim ids"),
        ("C1 = 3", "C1: expected a [C1] table of keys, got 3"),
        ("[C1\n", "config: not valid TOML"),
    ],
)
def test_bad_values_refused_with_one_line(toml, message):
    with pytest.raises(cfg.ConfigError) as err:
        cfg.loads(toml)
    text = str(err.value)
    assert message in text and "\n" not in text


def test_partial_file_fills_defaults(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[C1]\nwidths = [16, 32]\n[run]\nseed = 4\n")
    c = cfg.load(path)
    assert c["C1"]["widths"] == [16, 32] and c["run"]["seed"] == 4
    assert c["C2"] == cfg.default_config()["C2"]
    with pytest.raises(cfg.ConfigError, match="--config: cannot read"):
        cfg.load(tmp_path / "missing.toml")
