"""C5's scale and pool (issue 27, item 4): the σ² range printed is the range fitted
(σ² = σ_0² + σ_ε², in decades, short ranges said to be short), and the pool of windows is sized
from the series, so a long series with enough sign-consistent windows is used at the defaults."""

import math
import re

import numpy as np
import pytest

from verification import config as cfg
from verification.claims import c5_ood_risk as c5
from verification.claims._common import ood_split
from verification.contract import Context
from verification.data._sources import SourceError
from verification.rules._verdict import HOLDS, VACUOUS

DECADES = re.compile(r"σ² (\S+)–(\S+) \((\S+) decades")


def _check(own_noise_var):
    kw, _ = c5.example_check_input()
    return c5.check_c5(**kw, own_noise_var=own_noise_var), np.asarray(kw["noise_levels"])


@pytest.mark.parametrize("own", [0.0, 1.16e-4, 0.5])
def test_sigma2_decades_printed_equal_an_independent_computation(own):
    v, sig = _check(own)
    lo, hi = own + sig.min() ** 2, own + sig.max() ** 2
    decades = math.log10(hi / lo)
    for text in (v.observed.scale, c5.summary_c5(v), v.explanation):
        m = DECADES.search(text)
        assert m, text
        assert float(m[1]) == pytest.approx(lo, rel=5e-3)
        assert float(m[2]) == pytest.approx(hi, rel=5e-3)
        assert float(m[3]) == pytest.approx(decades, abs=0.051)
    assert v.tested_range["noise_var"] == pytest.approx([lo, hi], rel=1e-12)
    assert v.tested_range["noise_var_decades"] == pytest.approx(decades, rel=1e-12)
    # σ_ε's 4 decades are not what was fitted once σ_0² lifts the floor
    assert ("short range" in v.observed.scale) == (decades < 1)
    if own:
        assert "σ_ε ∈" not in v.observed.scale and "(4 decades" not in v.observed.scale


def test_default_synthetic_pool_unchanged_and_explicit_pool_kept():
    section = cfg.default_config()["C5"]
    assert section["pool"] == 0  # sized from the data
    assert c5.pool_size(section, cfg.default_config()["data"]) == 48
    sunspots = {**cfg.default_config()["data"], "source": "sunspots"}
    assert c5.pool_size({**section, "pool": 16}, sunspots) == 16
    # a finite series: half its windows (309 values, d = 8: (301 - 8) // 2), at most pool_max
    assert c5.pool_size(section, sunspots) == 146
    assert c5.pool_size({**section, "pool_max": 100}, sunspots) == 100
    nile = {**sunspots, "source": "nile"}
    assert c5.pool_size(section, nile) == 48  # at least the synthetic pool: nile keeps serving
    with pytest.raises(cfg.ConfigError):
        cfg.validate({"C5": {"pool": 2}})


def _persistent_after_alternating(path, length=600):
    """A series whose first 60 values alternate in sign (no sign-consistent window), followed by a
    persistent AR(1) that crosses zero now and then."""
    rng = np.random.default_rng(3)
    u = np.empty(length)
    u[:60] = (-1.0) ** np.arange(60) * (1 + 0.1 * rng.random(60))
    for k in range(60, length):
        u[k] = 0.95 * u[k - 1] + 0.3 * rng.standard_normal()
    path.write_text("v\n" + "\n".join(f"{x:.6f}" for x in u) + "\n")
    return f"csv:{path}#v"


def _context(source, **c5_section):
    config = cfg.validate({"data": {"source": source}, "C5": c5_section})
    return config, Context(config=config, seed=0, quiet=True)


def test_a_long_series_is_used_at_the_defaults(tmp_path):
    src = _persistent_after_alternating(tmp_path / "s.csv")
    config, ctx = _context(src)
    section = {**config["C5"], "n": max(config["C5"]["sizes"])}
    with pytest.raises(SourceError, match="among C5.pool = 48"):  # the former fixed pool
        ood_split({**section, "pool": 48}, ctx, "C5", consistent_only=True, n_key="sizes")
    pool = c5.pool_size(config["C5"], config["data"])
    assert pool == (600 - 8 - 8) // 2
    split = ood_split({**section, "pool": pool}, ctx, "C5", consistent_only=True, n_key="sizes")
    assert split.X.shape[0] == 32 and split.consistent.all()
    assert split.X_test.shape[0] >= config["C5"]["min_ood_windows"]


@pytest.mark.parametrize("source", ["elec_equip", "sunspots"])
def test_bundled_series_serve_c5_at_the_default_pool(source):
    config, ctx = _context(source)
    c5.preflight_c5(config["C5"], ctx)  # raised SourceError for elec_equip with a pool of 48
    pool = c5.pool_size(config["C5"], config["data"])
    section = {**config["C5"], "n": 32, "pool": pool}
    split = ood_split(section, ctx, "C5", consistent_only=True, n_key="sizes")
    assert split.X_test.shape[0] >= config["C5"]["min_ood_windows"]


def test_a_small_run_on_the_long_series_is_decided_and_reports_its_pool(tmp_path):
    src = _persistent_after_alternating(tmp_path / "s.csv")
    config, ctx = _context(src, width=8, seeds=6, steps=[5, 10])
    v = c5.run_c5(config["C5"], ctx)
    assert v.status != VACUOUS and v.parts[0].status == HOLDS
    assert v.tested_range["pool"] == 292 and "pool of 292" in v.observed.scale
    assert v.config["C5"]["pool"] == 0  # the configuration as given
