"""``[data] source`` (families, real series, csv/npy files, haar as before issue 13) and
``ntk-verify data``."""

import json
from pathlib import Path

import jax
import numpy as np
import pytest

from ntk_attention import data as ntk_data
from verification import config as cfg
from verification.commands import _cli as cli
from verification.contract import Context
from verification.data._datasets import FAMILY_LENGTH, make_dataset
from verification.data._sources import SourceError

jax.config.update("jax_enable_x64", True)

REFERENCE = Path(__file__).parent / "data" / "haar_reference.npz"
SMALL = "[data]\nn = 6\nd = 4\n"


def _np_lag1(u):
    c = np.asarray(u, np.float64) - np.mean(u)
    return float(np.sum(c[:-1] * c[1:]) / np.sum(c * c))


def _z(values, ref):
    return (np.asarray(values, np.float64) - np.mean(ref)) / np.std(ref)


def _data_json(capsys, *argv):
    code = cli.main(["data", "--json", *argv])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


# ----------------------------------------------------------------------------------- haar as before

HAAR_ULPS = 256
"""The haar data pass a state through a Haar-orthogonal matrix (LAPACK's QR) for the burn-in and the
series, then normalise: each value carries a rounding error of a few hundred ε·max|u| at most, and
BLAS/LAPACK/numpy kernels round differently between CPUs (measured: 2e-15 absolute on values of
order 1 under ../shared/tools/portability-check). On the machine that made the file they agree to
the bit; across machines the promise is this tolerance (docs/reliability.md)."""


def _assert_haar_close(got, want, what):
    want = np.asarray(want)
    atol = HAAR_ULPS * np.finfo(np.float64).eps * float(np.abs(want).max(initial=1.0))
    np.testing.assert_allclose(np.asarray(got), want, rtol=0, atol=atol, err_msg=what)


@pytest.mark.parametrize("case", ["default", "seed7", "sliding", "raw"])
def test_haar_source_reproduces_the_pre_issue_13_data(case):
    """The values in haar_reference.npz were computed by make_dataset of commit 01c44c3
    (before issue 13), by scripts/haar_reference.py; `source = "haar"` must give them to rounding
    (:data:`HAAR_ULPS`)."""
    ref = np.load(REFERENCE)
    base = cfg.loads('[data]\nsource = "haar"\n')
    assert base["data"]["state_dim"] == cfg.HAAR_STATE_DIM == 6  # "haar" alone: the old default N
    data = base["data"]
    cases = {
        "default": (data, Context(config=base, seed=0).key("data"), 24, 4, 0.1),
        "seed7": (data, Context(config=base, seed=7).key("data"), 10, 0, 0.0),
        "sliding": (
            {**data, "windows": "sliding", "state_dim": 3, "d": 4, "burn_in": 5},
            jax.random.key(3),
            12,
            5,
            0.0,
        ),
        "raw": ({**data, "normalize": False, "radius": 0.9}, jax.random.key(11), 6, 2, 0.3),
    }
    c, key, n, n_test, noise = cases[case]
    ds = make_dataset(c, key, n=n, n_test=n_test, noise_std=noise)
    for field in ("X", "y", "X_test", "y_test", "series"):
        _assert_haar_close(getattr(ds, field), ref[f"{case}/{field}"], field)
    assert ds.source == "haar" and ds.ssm is not None


def test_haar_through_the_context_is_the_old_default_data():
    ref = np.load(REFERENCE)
    ds = Context(config=cfg.loads('[data]\nsource = "haar"\n'), seed=0).dataset(
        24, n_test=4, noise_std=0.1
    )
    _assert_haar_close(ds.X, ref["default/X"], "X")
    _assert_haar_close(ds.y_test, ref["default/y_test"], "y_test")


# ------------------------------------------------------------------------------------- config keys


def test_default_source_is_the_default_family_with_its_options_as_keys():
    data = cfg.default_config()["data"]
    family, options = ntk_data.DEFAULT_FAMILY
    assert data["source"] == family
    assert {k: data[k] for k in options} == options
    assert (
        cfg.loads('[data]\nsource = "haar"\nstate_dim = 3\n')["data"]["state_dim"] == 3
    )  # given: kept


@pytest.mark.parametrize(
    "text, words",
    [
        ('source = "nope"', "data.source: expected a family"),
        ("source = 3", "data.source: expected"),
        ('source = "csv:"', "data.source: expected"),
        ("r_lo = 0.95\nr_hi = 0.9", "data.r_hi: expected a number >= data.r_lo"),
        ("r_hi = 1.0", "data.r_hi: expected a number in [0, 1)"),
        ('detrend = "log"', "data.detrend: expected one of"),
        ("offset = -1", "data.offset: expected an integer >= 0"),
        ('sources = "nile"', "data.sources: unknown key"),
    ],
)
def test_bad_data_keys_are_one_line_errors(text, words):
    with pytest.raises(cfg.ConfigError) as err:
        cfg.loads(f"[data]\n{text}\n")
    assert words in str(err.value) and "\n" not in str(err.value)


# ------------------------------------------------------------------------------------- windows


def test_series_windows_offset_training_then_test_and_training_scale():
    """Independent computation from statsmodels' table: sliding windows from the offset, the test
    windows right after the training values, z-scored with the training values only."""
    sm = pytest.importorskip("statsmodels.datasets.nile")
    raw = np.asarray(sm.load_pandas().data["volume"], np.float64)
    c = cfg.loads('[data]\nsource = "nile"\noffset = 3\nd = 4\nplacement = "first"\n')["data"]
    n, n_test, d, o = 5, 4, 4, 3
    ds = make_dataset(c, jax.random.key(0), n=n, n_test=n_test)
    train = raw[o : o + n + d]
    X = np.stack([raw[o + i : o + i + d] for i in range(n)])
    y = raw[o + d : o + d + n]
    t0 = o + n + d
    Xt = np.stack([raw[t0 + j : t0 + j + d] for j in range(n_test)])
    yt = raw[t0 + d : t0 + d + n_test]
    for got, want in ((ds.X, X), (ds.y, y), (ds.X_test, Xt), (ds.y_test, yt)):
        np.testing.assert_allclose(np.asarray(got), _z(want, train), rtol=1e-12, atol=1e-12)
    assert ds.source_length == 100 and ds.ssm is None


def test_family_source_is_the_family_series_of_the_data_key():
    c = cfg.default_config()["data"]
    key = jax.random.key(4)
    ds = make_dataset(c, key, n=7, n_test=3)
    family, options = ntk_data.DEFAULT_FAMILY
    u = np.asarray(
        ntk_data.family_series(family, FAMILY_LENGTH, jax.random.split(key)[0], **options),
        np.float64,
    )
    d = c["d"]
    np.testing.assert_allclose(
        np.asarray(ds.X), _z(np.stack([u[i : i + d] for i in range(7)]), u[: 7 + d]), atol=1e-12
    )
    np.testing.assert_allclose(
        np.asarray(ds.y_test), _z(u[7 + 2 * d : 7 + 2 * d + 3], u[: 7 + d]), atol=1e-12
    )


def test_noise_is_added_to_targets_only():
    c = cfg.default_config()["data"]
    clean = make_dataset(c, jax.random.key(2), n=300, n_test=10)
    noisy = make_dataset(c, jax.random.key(2), n=300, n_test=10, noise_std=0.5)
    np.testing.assert_array_equal(noisy.X, clean.X)
    assert np.std(np.asarray(noisy.y - clean.y)) == pytest.approx(0.5, rel=0.15)


def test_too_short_a_source_names_source_length_and_need():
    c = cfg.loads('[data]\nsource = "nile"\n')["data"]
    with pytest.raises(SourceError) as err:
        make_dataset(c, jax.random.key(0), n=90, n_test=8)
    msg = str(err.value)
    assert msg.startswith("nile:") and "100 values" in msg and "need 114" in msg and "\n" not in msg


def test_windows_file_rows_in_order(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(9, 5))
    path = tmp_path / "w.npy"
    np.save(path, a)
    c = cfg.loads(f'[data]\nsource = "npy:{path}"\nd = 4\n')["data"]
    ds = make_dataset(c, jax.random.key(0), n=6, n_test=3)
    ref = np.concatenate([a[:6, :4].ravel(), a[:6, 4]])
    np.testing.assert_allclose(np.asarray(ds.X), _z(a[:6, :4], ref), atol=1e-12)
    np.testing.assert_allclose(np.asarray(ds.y_test), _z(a[6:, 4], ref), atol=1e-12)
    with pytest.raises(
        SourceError, match=r"holds 9 windows; n = 7 training \+ n_test = 3 test windows need 10"
    ):
        make_dataset(c, jax.random.key(0), n=7, n_test=3)


# ---------------------------------------------------------------------------------- ntk-verify data


def test_data_json_default_looks_like_forecasting_data(capsys):
    stats = _data_json(capsys)
    for key in (
        "source",
        "length",
        "lag1_autocorrelation",
        "corr_y_xd",
        "sign_consistent_fraction",
        "data_term_fraction",
        "lambda_min",
        "lambda_error",
        "lambda_resolution",
        "v_min",
        "B",
        "D",
    ):
        assert key in stats, key
    assert stats["source"] == ntk_data.DEFAULT_FAMILY[0]
    assert stats["lag1_autocorrelation"] >= 0.8 and stats["sign_consistent_fraction"] >= 0.75
    # independent: numpy on the very windows the claims get
    config = cfg.default_config()
    ds = Context(config=config, seed=0, quiet=True).dataset()
    assert stats["lag1_autocorrelation"] == pytest.approx(
        _np_lag1(ds.whole_series), rel=1e-12
    )  # every value drawn
    assert stats["lag1_training"] == pytest.approx(_np_lag1(ds.series), rel=1e-12)
    assert stats["train_starts"] == list(range(24)) and stats["placement"] == "first"
    X, y = np.asarray(ds.X), np.asarray(ds.y)
    assert stats["corr_y_xd"] == pytest.approx(np.corrcoef(X[:, -1], y)[0, 1], rel=1e-10)
    assert stats["B"] == np.abs(X).max() and stats["D"] == np.abs(y).max()
    assert stats["lambda_resolution"] > 0 and stats["lambda_error"] >= 0


def test_data_json_sunspots_and_csv(capsys, tmp_path):
    conf = tmp_path / "c.toml"
    conf.write_text(SMALL)
    stats = _data_json(capsys, "--config", str(conf), "--source", "sunspots")
    # by default a real series' windows are spread over all of it (placement "auto")
    assert (stats["placement"], stats["placement_requested"]) == ("spread", "auto")
    assert (stats["first_value"], stats["last_value"], stats["coverage"]) == (0, 308, 1.0)
    assert stats["lag1_training"] is None and stats["train_starts"][-1] == 309 - 4 - 1
    conf.write_text(SMALL + 'placement = "first"\n')  # the first n + d values, as before
    stats = _data_json(capsys, "--config", str(conf), "--source", "sunspots")
    assert stats["placement"] == "first" and stats["coverage"] == pytest.approx(10 / 309)
    sm = pytest.importorskip("statsmodels.datasets.sunspots")
    raw = np.asarray(sm.load_pandas().data["SUNACTIVITY"], np.float64)
    assert stats["source"] == "sunspots" and stats["length"] == raw.size == 309
    assert stats["lag1_autocorrelation"] == pytest.approx(
        _np_lag1(raw), rel=1e-10
    )  # the whole series
    assert stats["lag1_training"] == pytest.approx(
        _np_lag1(raw[:10]), rel=1e-10
    )  # n + d = 10 values
    # a CSV with a header, column by name
    u = np.cumsum(np.random.default_rng(1).normal(size=40))
    path = tmp_path / "my.csv"
    path.write_text("t,value\n" + "".join(f"{i},{float(v)!r}\n" for i, v in enumerate(u)))
    stats = _data_json(capsys, "--config", str(conf), "--source", f"csv:{path}#value")
    assert stats["length"] == 40 and stats["lag1_over"] == "series"
    assert stats["lag1_autocorrelation"] == pytest.approx(_np_lag1(u), rel=1e-10)
    assert stats["lag1_training"] == pytest.approx(_np_lag1(u[:10]), rel=1e-10)
    X = np.stack([u[i : i + 4] for i in range(6)])
    assert stats["v_min"] == pytest.approx(float((_z(X, u[:10])).var(axis=1).min()), rel=1e-10)


@pytest.mark.parametrize(
    "content, words",
    [
        ("value\n1.0\nabc\n3\n", "row 3, column 'value': non-numeric cell 'abc'"),
        ("value\n2\n2\n2\n", "the series is constant"),
        ("a,b\n1,2\n3,\n", "row 3, column 'b': missing value"),
    ],
)
def test_data_bad_csv_is_one_line_exit_2(capsys, tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    column = "#b" if content.startswith("a,b") else ""
    code = cli.main(["data", "--json", "--source", f"csv:{path}{column}"])
    err = capsys.readouterr()
    assert code == 2 and err.out == ""
    lines = err.err.strip().splitlines()
    assert len(lines) == 1 and "bad.csv" in lines[0] and words in lines[0], lines


def test_data_missing_file_and_short_series_exit_2(capsys, tmp_path):
    assert cli.main(["data", "--source", f"npy:{tmp_path / 'none.npy'}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "none.npy: no such file" in err[0]
    short = tmp_path / "short.npy"
    np.save(short, np.arange(20.0) ** 1.5)
    assert cli.main(["data", "--source", f"npy:{short}"]) == 2  # n + d = 32 values needed
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "20 values" in err[0] and "need 32" in err[0]
    nan = tmp_path / "nan.npy"
    np.save(nan, np.array([1.0, 2.0, np.nan, 4.0]))
    assert cli.main(["data", "--source", f"npy:{nan}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nan.npy: row 2" in err[0]


def test_pooled_lag1_against_a_double_loop():
    from verification.data._describe import pooled_lag1

    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(5, 4)) + 2.0, rng.normal(size=5)
    rows = [list(X[i]) + [y[i]] for i in range(5)]
    mean = sum(sum(r) for r in rows) / 25
    num = sum((r[k] - mean) * (r[k + 1] - mean) for r in rows for k in range(4))
    den = sum((v - mean) ** 2 for r in rows for v in r)
    assert pooled_lag1(X, y) == pytest.approx(num / den, rel=1e-12)
    with pytest.raises(ValueError, match="0/0"):
        pooled_lag1(np.ones((3, 4)), np.ones(3))


def test_a_finite_series_gives_the_test_windows_it_holds():
    """nile has 100 values: 48 training windows of length 8 use 56, the rest give 100 - 56 - 8 = 36
    test windows however many are asked; a training set that does not fit is still refused."""
    c = cfg.loads('[data]\nsource = "nile"\n')["data"]
    ds = make_dataset(c, jax.random.key(0), n=48, n_test=3000)
    assert ds.X.shape == (48, 8) and ds.X_test.shape == (36, 8) and ds.y_test.shape == (36,)
    u = np.asarray(ds.series)
    np.testing.assert_allclose(
        np.asarray(ds.X_test)[-1], u[-9:-1], atol=1e-12
    )  # the last window ends the series
    np.testing.assert_allclose(np.asarray(ds.y_test)[-1], u[-1], atol=1e-12)
    with pytest.raises(SourceError, match="need"):
        make_dataset(c, jax.random.key(0), n=90, n_test=3000)
