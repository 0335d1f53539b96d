"""Divergence: ``ntk-verify run`` warns before training when η is past 2/λ_max(H(0)), and a run
that diverged (or a step size past that limit) gives a VACUOUS verdict naming them."""

from __future__ import annotations

import jax
import numpy as np

from tests.hardening.cli_runs import TINY_RUN

DIVERGING = TINY_RUN + "eta = 1e300\n"  # appended to its [C3] section


def test_divergence_is_named_in_the_verdict(tmp_path, capsys):
    from ntk_attention import empirical_ntk, init_params
    from verification import config as cfg
    from verification.claims import Context
    from verification.commands._cli import main
    from verification.pipeline import divergence_verdict
    from verification.report import load_results
    from verification.rules._verdict import Part, Verdict

    (tmp_path / "div.toml").write_text(DIVERGING)
    code = main(
        ["run", "--config", str(tmp_path / "div.toml"), "--out", str(tmp_path / "out"), "--quiet"]
    )
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err
    X = Context(config=cfg.load(tmp_path / "div.toml"), seed=0, quiet=True).dataset(6).X
    p = init_params(jax.random.key(0), 8, sigma=1.0)  # first network seed, smallest width
    lmax = float(np.linalg.eigvalsh(np.asarray(empirical_ntk(p, X, method="autodiff")))[-1])
    line = (
        "ntk-verify run: warning: C3: η = 1e+300 is past the gradient-descent stability limit "
        f"2/λ_max(H(0)) = {2 / lmax:.3g} (λ_max(H(0)) = {lmax:.3g}) at width 8, n = 6, seed 0"
    )
    assert line in err, err
    (c3,) = load_results(tmp_path / "out")[1]
    assert c3.status == "VACUOUS" and c3.parts[0].name == "gradient descent stable"
    assert c3.parts[0].role == "premise" and c3.parts[0].status == "VACUOUS"
    # What any CPU's report contains: η against the limit of the first network (checked by autodiff
    # above).
    assert (
        "η = 1e+300 is past the gradient-descent stability limit 2/λ_max(H(0)) = " in c3.explanation
    )
    runs = c3.measured["diverged_runs"]
    # At η = 1e300 the weights overflow to ±inf (loss NaN: the runs diverged) on most CPUs; with
    # other exp/BLAS kernels they stay finite and the softmax saturates (the loss stays bounded
    # because f is).
    if not runs:
        assert "no run diverged: the loss stays bounded because f is" in c3.explanation, (
            c3.explanation
        )
        assert (
            f"2/λ_max(H(0)) = {2 / lmax:.3g} (λ_max(H(0)) = {lmax:.3g}) at width 8, n = 6, seed 0"
            in c3.explanation
        )
        return
    assert (
        len(runs) == 2 and {r["seed"] for r in runs} == {0, 1} and all(r["step"] == 1 for r in runs)
    )
    for r in runs:  # λ_max(H(0)) of the run's own network (all a_r = -1), by autodiff
        q = init_params(jax.random.key(r["seed"]), 8, sigma=1.0, output_signs="minus")
        ref = float(np.linalg.eigvalsh(np.asarray(empirical_ntk(q, X, method="autodiff")))[-1])
        assert abs(r["lambda_max_h0"] - ref) <= 1e-10 * ref and abs(r["limit"] * ref - 2) <= 1e-9
    first = min(runs, key=lambda r: r["seed"])
    assert (
        "first at step 1 (width 8, seed 0, n = 6" in c3.explanation
        and "η = 1e+300 is past the gradient-descent stability limit "
        f"2/λ_max(H(0)) = {first['limit']:.3g} "
        f"(λ_max(H(0)) = {first['lambda_max_h0']:.3g})"
        in c3.explanation
    ), c3.explanation

    # η past the limit without a diverged run (the model's loss is bounded): VACUOUS, not the
    # claim's VIOLATED
    v = Verdict(
        claim="C1",
        status="VIOLATED",
        explanation="envelope broken.",
        parts=(Part("envelope", "VIOLATED", "x"),),
        counterexample={"step": 3},
    )
    stab = {"eta": 1e6, "lambda_max_h0": 10.0, "limit": 0.2, "width": 8, "n": 6, "seed": 0}
    got = divergence_verdict(v, [], stab)
    assert got.status == "VACUOUS" and got.counterexample is None and not got.parts[1].decisive
    assert (
        "η = 1e+06 is past the gradient-descent stability limit 2/λ_max(H(0)) = 0.2 "
        "(λ_max(H(0)) = 10)" in got.explanation
    )
    assert (
        divergence_verdict(v, [], {**stab, "eta": 0.1}) is v
    )  # below the limit, nothing diverged: unchanged
