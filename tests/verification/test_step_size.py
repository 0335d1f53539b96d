"""The one step-size reader (verification/step_size.py) and the one stability limit
(ntk_attention/stability.py): planted truths, and the same configured ``eta`` giving the same η in
``run``, ``bounds`` and ``sweep`` (issue 23)."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntk_attention.stability import stability_limit, stability_words
from verification import config as cfg
from verification import sweeps as sc
from verification.claims import c1_convergence
from verification.claims.c1_convergence import _evidence as c1_evidence
from verification.commands import _cli as cli
from verification.contract import Context
from verification.training import _bounds as bounds
from verification.training import _step_size as steps


def test_stability_limit_and_words_on_planted_truths():
    assert (
        stability_limit(4.0) == 0.5
        and stability_limit(0.0) == math.inf
        and stability_limit(-1.0) == math.inf
    )
    assert " is past " in stability_words(
        0.5, 4.0
    )  # boundary: η = 2/λ_max is not stable (|1 - ηλ| = 1)
    assert " is past " in stability_words(0.6, 4.0)
    assert " is below " in stability_words(0.4999, 4.0)
    assert "2/λ_max(H*) = 0.5 (λ_max(H*) = 4)" in stability_words(0.1, 4.0, kernel="H*")


@settings(deadline=None, max_examples=50)
@given(eta=st.floats(1e-6, 10.0), lam=st.floats(1e-12, 1e12))
def test_relative_eta_is_that_fraction_of_the_limit(eta, lam):
    got = steps.learning_rate(eta, "relative", lam)
    assert math.isclose(got * lam / 2.0, eta, rel_tol=4e-16 * 4)
    assert steps.learning_rate(eta, "absolute", lam) == eta
    assert (
        steps.learning_rate(eta, "absolute", lambda: 1 / 0) == eta
    )  # λ_max never computed for an absolute eta


def test_section_learning_rate_takes_the_most_restrictive_size():
    lams = {2: 1.0, 4: 8.0, 8: 2.0}
    assert (
        steps.section_learning_rate(
            {"eta": 0.5, "eta_mode": "relative"}, lams.__getitem__, [2, 4, 8]
        )
        == 0.125
    )
    assert (
        steps.section_learning_rate({"eta": 0.5, "eta_mode": "absolute"}, lams.__getitem__, [2])
        == 0.5
    )
    assert (
        steps.section_learning_rate({"eta": 0.5}, lams.__getitem__, [2]) == 0.5
    )  # no eta_mode: absolute


@pytest.mark.parametrize(
    "args, key",
    [
        ((0.1, "fraction", 1.0), "eta_mode"),
        ((-0.1, "absolute"), "eta"),
        ((float("nan"), "absolute"), "eta"),
        ((0.1, "relative"), "lambda_max"),
        ((0.1, "relative", 0.0), "lambda_max"),
        ((0.1, "relative", math.inf), "lambda_max"),
    ],
)
def test_bad_input_names_the_argument(args, key):
    with pytest.raises(ValueError, match=f"^{key}: expected"):
        steps.learning_rate(*args)


def test_the_same_eta_key_gives_the_same_step_size_in_run_bounds_and_sweep(
    tmp_path, capsys, monkeypatch
):
    """[C1] eta = 0.4 relative and [sweep] eta = 0.4 relative on the same windows (n = 2) and σ = 3:
    one η, 0.4 · 2/λ_max(H*), in what `run` trains C1 with, what `bounds --json` prints and what
    `sweep` trains with."""
    path = tmp_path / "c.toml"
    path.write_text(
        "[data]\nn = 2\nsigma = 3.0\n"
        "[C1]\neta = 0.4\neta_mode = 'relative'\nsigma = 3.0\nsizes = [2]\n"
        "[sweep]\neta = 0.4\neta_mode = 'relative'\n"
    )
    assert cli.main(["bounds", "--config", str(path), "--json"]) == 0
    from_bounds = json.loads(capsys.readouterr().out)["inputs"]["eta"]["value"]

    class Trained(Exception):
        pass

    def spy(ctx, n, section, desc, *, sigma, eta):  # what run_c1 would train with, no training
        raise Trained(eta)

    config = cfg.load(str(path))
    monkeypatch.setattr(c1_evidence, "width_sweep", spy)  # where run_c1 looks it up
    with pytest.raises(Trained) as got:
        c1_convergence.run_c1(
            config["C1"], Context(config=config, seed=config["run"]["seed"], quiet=True)
        )
    from_run = got.value.args[0]
    from_sweep = sc.learning_rate(sc.resolve_config(str(path)))

    ctx = Context(config=config, seed=config["run"]["seed"], quiet=True)
    lam_max = ctx.lambda_star(2, sigma=3.0)[0].norm
    H = ctx.lambda_star(2, sigma=3.0)[1]
    assert math.isclose(
        lam_max, float(np.linalg.eigvalsh(np.asarray(H, np.float64))[-1]), rel_tol=1e-12
    )
    expected = 0.4 * 2.0 / lam_max  # independent of the reader: the formula itself
    assert from_run == from_bounds == from_sweep
    assert math.isclose(from_run, expected, rel_tol=1e-15)


def test_lambda_star_is_computed_once_under_one_key(monkeypatch):
    config = cfg.default_config()
    ctx = Context(config=config, seed=0, quiet=True)
    calls = []
    original = bounds.lambda_star
    monkeypatch.setattr(bounds, "lambda_star", lambda *a, **k: calls.append(1) or original(*a, **k))
    first = ctx.lambda_star(3, sigma=1.0)
    again = ctx.lambda_star(3, sigma=1)  # the same σ as an int: the same key
    assert first is again and len(calls) == 1
    assert [k for k in ctx.memo if k.startswith("lambda_star/")] == ["lambda_star/n=3/sigma=1.0"]
    ctx.lambda_star(3, sigma=2.0)
    assert len(calls) == 2
