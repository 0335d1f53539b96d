"""Long runs in segments: same records as one train(record_at) program, resume after an
interruption."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ntk_attention as na
from verification.training import _longrun as longrun


def setup(m=16, n=5, d=4, seed=0):
    kp, kx = jax.random.split(jax.random.key(seed))
    p = na.init_params(kp, m, dtype=jnp.float64)
    X = jax.random.normal(kx, (n, d), jnp.float64)
    return p, X, -X[:, -1]


REC = np.array([0, 3, 10, 40, 41, 150, 200])


def test_segments_reproduce_one_program():
    p, X, y = setup()
    one = na.train(p, X, y, record_at=REC, learning_rate=0.2, record_ntk=False)
    seg = longrun.train_long(
        p, X, y, record_at=REC, learning_rate=0.2, segment_steps=37, progress=False
    )
    np.testing.assert_array_equal(seg.step, REC)
    for f in ("loss", "weights", "sign_agree_plus", "sign_agree_minus", "weight_mean"):
        np.testing.assert_allclose(
            getattr(seg, f), np.asarray(getattr(one, f)), rtol=1e-12, atol=1e-15, err_msg=f
        )
    np.testing.assert_allclose(seg.params.w, one.params.w, rtol=1e-12)
    assert seg.diverged_step == -1 and seg.resumed_from == 0


def test_resume_after_interruption(tmp_path, monkeypatch):
    p, X, y = setup(seed=1)
    ck = tmp_path / "run.npz"
    calls = {"n": 0}
    real = longrun.train

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the machine went away during the third segment
        return real(*args, **kwargs)

    monkeypatch.setattr(longrun, "train", flaky)
    with pytest.raises(KeyboardInterrupt):
        longrun.train_long(
            p,
            X,
            y,
            record_at=REC,
            learning_rate=0.2,
            segment_steps=50,
            checkpoint=ck,
            progress=False,
        )
    assert ck.exists() and not [f for f in tmp_path.iterdir() if f.name.endswith(".tmp")]
    monkeypatch.setattr(longrun, "train", real)
    resumed = longrun.train_long(
        p, X, y, record_at=REC, learning_rate=0.2, segment_steps=50, checkpoint=ck, progress=False
    )
    fresh = longrun.train_long(
        p, X, y, record_at=REC, learning_rate=0.2, segment_steps=50, progress=False
    )
    assert resumed.resumed_from == 100
    np.testing.assert_array_equal(resumed.step, REC)
    np.testing.assert_allclose(resumed.loss, fresh.loss, rtol=1e-12)
    np.testing.assert_allclose(resumed.weights, fresh.weights, rtol=1e-12)
    with pytest.raises(ValueError, match="checkpoint: .* was written for other inputs"):
        longrun.train_long(p, X, y, record_at=REC, learning_rate=0.3, checkpoint=ck, progress=False)


def test_divergence_against_the_whole_run():
    p, X, y = setup(seed=2)
    eta = 50.0 / float(jnp.linalg.eigvalsh(na.empirical_ntk(p, X))[-1])
    one = na.train(p, X, y, steps=200, learning_rate=eta, divergence_factor=10.0, record_ntk=False)
    seg = longrun.train_long(
        p,
        X,
        y,
        record_at=REC,
        learning_rate=eta,
        divergence_factor=10.0,
        segment_steps=20,
        progress=False,
    )
    assert seg.diverged_step == one.diverged_step >= 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"record_at": [0, 5, 5]}, "record_at: expected strictly increasing"),
        ({"record_at": [0.5, 2]}, "record_at: expected a non-empty 1-D array of whole"),
        ({"segment_steps": 0}, "segment_steps: expected a positive integer"),
        ({"checkpoint": "run.json"}, "checkpoint: expected a path ending in .npz"),
    ],
)
def test_bad_input(kwargs, match):
    p, X, y = setup()
    args = {"record_at": REC, "learning_rate": 0.1, "progress": False, **kwargs}
    with pytest.raises(ValueError, match=match):
        longrun.train_long(p, X, y, **args)
