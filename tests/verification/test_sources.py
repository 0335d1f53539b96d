"""Data sources: every bundled series, the user's CSV and .npy files, and one-line errors for bad
files."""

import pathlib

import numpy as np
import pytest

from ntk_attention import data
from verification.data import _sources as sources
from verification.data._sources import SourceError, load_series

statsmodels = pytest.importorskip("statsmodels")
DATASETS = pathlib.Path(statsmodels.__file__).parent / "datasets"


def _lag1(u):
    c = np.asarray(u, np.float64) - np.mean(u)
    return float(np.dot(c[:-1], c[1:]) / np.dot(c, c))


def _column(csv_file, name):
    """Independent read of one column of a shipped CSV (numpy's parser, not pandas)."""
    table = np.genfromtxt(DATASETS / csv_file, delimiter=",", names=True, dtype=float)
    return table[name]


# (name, shipped file, column, expected lag-1 range): the ranges bracket the values the issue
# measured
EXPECTED = [
    ("sunspots", "sunspots/sunspots.csv", "SUNACTIVITY", (0.78, 0.86)),
    ("nile", "nile/nile.csv", "volume", (0.45, 0.55)),
    ("realgdp", "macrodata/macrodata.csv", "realgdp", (0.98, 0.995)),
    ("unemployment", "macrodata/macrodata.csv", "unemp", (0.93, 0.97)),
    ("inflation", "macrodata/macrodata.csv", "infl", (0.6, 0.7)),
]


@pytest.mark.parametrize("name,csv_file,col,bounds", EXPECTED, ids=[e[0] for e in EXPECTED])
def test_bundled_series_against_numpy(name, csv_file, col, bounds):
    raw = _column(csv_file, col)
    src = load_series(name, normalize="none")
    np.testing.assert_allclose(src.series, raw, rtol=0, atol=0)
    z = load_series(name).series
    np.testing.assert_allclose(z, (raw - raw.mean()) / raw.std(), rtol=1e-12, atol=1e-12)
    lag1 = float(data.lag1_autocorrelation(z))
    assert lag1 == pytest.approx(_lag1(raw), abs=1e-10)
    assert bounds[0] <= lag1 <= bounds[1]


def test_elnino_is_flattened_row_by_row():
    table = np.genfromtxt(DATASETS / "elnino/elnino.csv", delimiter=",", skip_header=1)[:, 1:]
    src = load_series("elnino", normalize="none")
    np.testing.assert_array_equal(src.series, table.reshape(-1))
    assert src.series[12] == table[1, 0]  # January of the second year follows December of the first
    assert 0.8 <= _lag1(src.series) <= 0.9


def test_co2_missing_values_interpolated_or_dropped():
    raw = np.genfromtxt(DATASETS / "co2/co2.csv", delimiter=",", skip_header=1)[:, 1]
    gaps = np.isnan(raw)
    assert gaps.sum() == 59
    dropped = load_series("co2", normalize="none", missing="drop").series
    np.testing.assert_array_equal(dropped, raw[~gaps])
    filled = load_series("co2", normalize="none").series
    k = int(np.flatnonzero(gaps)[0])  # an isolated gap: the mean of its neighbours
    assert not gaps[k - 1] and not gaps[k + 1]
    assert filled[k] == pytest.approx(0.5 * (raw[k - 1] + raw[k + 1]))
    assert filled.shape == raw.shape and _lag1(filled) > 0.99


def test_every_bundled_series_loads_and_elec_equip():
    for name in sources.REAL_SERIES:
        src = load_series(name, d=8)
        assert np.isfinite(src.series).all() and src.series.shape[0] >= 100
        assert abs(src.series.mean()) < 1e-9 and src.series.std() == pytest.approx(1.0)
        assert name.split("_")[0] in src.preprocessing
    raw = np.genfromtxt(
        DATASETS / "elec_equip/elec_equip.csv", delimiter=",", skip_header=1, usecols=1
    )
    np.testing.assert_array_equal(load_series("elec_equip", normalize="none").series, raw)


def test_detrend_options():
    raw = _column("sunspots/sunspots.csv", "SUNACTIVITY")
    np.testing.assert_allclose(
        load_series("sunspots", detrend="difference", normalize="none").series, np.diff(raw)
    )
    lin = load_series("realgdp", detrend="linear", normalize="none").series
    g = _column("macrodata/macrodata.csv", "realgdp")
    t = np.arange(g.size)
    # the residual of a least-squares line is orthogonal to 1 and t
    assert abs(lin.sum()) < 1e-6 * np.abs(g).sum() and abs(lin @ t) < 1e-6 * np.abs(g * t).sum()
    assert np.abs(lin).max() < 0.2 * np.abs(g - g.mean()).max()


def test_synthetic_family_source():
    src = load_series("ar", length=300, seed=1, coefficients=[0.9])
    assert src.series.shape == (300,) and "ar" in src.preprocessing
    assert 0.8 < _lag1(src.series) < 0.97
    default = load_series(data.DEFAULT_FAMILY[0], length=64, **data.DEFAULT_FAMILY[1])
    assert default.length == 64


def test_csv_happy_paths(tmp_path):
    u = np.sin(np.arange(30) / 3.0) + 0.01 * np.arange(30)
    f = tmp_path / "s.csv"
    f.write_text("date,value\n" + "".join(f"2020-{i},{float(v)!r}\n" for i, v in enumerate(u)))
    for spec, kw in ((f"csv:{f}#value", {}), (f"csv:{f}#1", {}), (f"csv:{f}", {"column": "value"})):
        np.testing.assert_array_equal(load_series(spec, normalize="none", **kw).series, u)
    g = tmp_path / "plain.csv"  # no header, one column
    g.write_text("".join(f"{float(v)!r}\n" for v in u))
    np.testing.assert_array_equal(load_series(f"csv:{g}", normalize="none").series, u)
    h = tmp_path / "numeric_header.csv"  # header=False forced: the first row is data
    h.write_text("1,2\n3,4\n5,7\n")
    np.testing.assert_array_equal(
        load_series(f"csv:{h}#1", header=False, normalize="none").series, [2, 4, 7]
    )


def test_npy_happy_paths(tmp_path):
    u = np.cumsum(np.random.default_rng(0).standard_normal(50))
    np.save(tmp_path / "u.npy", u)
    np.testing.assert_array_equal(
        load_series(f"npy:{tmp_path / 'u.npy'}", normalize="none").series, u
    )
    X, y = (np.asarray(t) for t in data.series_windows(u, 4))
    np.save(tmp_path / "w.npy", np.column_stack([X, y]))
    src = load_series(f"npy:{tmp_path / 'w.npy'}", d=4)
    assert src.series is None and src.X.shape == (X.shape[0], 4)
    np.testing.assert_allclose(src.X, (X - X.mean()) / X.std(), rtol=1e-12)
    np.testing.assert_allclose(src.y, (y - X.mean()) / X.std(), rtol=1e-12)


@pytest.mark.parametrize(
    "content,kwargs,match",
    [
        ("t,v\n1,2.0\n2,\n3,4.0\n", {"column": "v"}, r"s\.csv: row 3, column 'v': missing value$"),
        ("t,v\n1,2.0\n2,NA\n3,4.0\n", {"column": 1}, r"row 3, column 'v': missing value"),
        (
            "t,v\n1,2.0\n2,abc\n3,4.0\n",
            {"column": "v"},
            r"row 3, column 'v': non-numeric cell 'abc'",
        ),
        ("t,v\n1,2.0\n2,3.0\n", {"column": "w"}, r"s\.csv: no column 'w'; the header has 't', 'v'"),
        ("t,v\n1,2.0\n2,3.0\n", {}, r"s\.csv: 2 columns \('t', 'v'\); choose one"),
        ("t,v\n1,2.0\n2,3.0\n", {"column": 5}, r"column index 5 out of range"),
        ("v\n1\n2\n3\n", {"d": 8}, r"3 values after preprocessing, fewer than d \+ 1 = 9"),
        ("v\n5\n5\n5\n5\n", {}, r"the series is constant"),
        ("", {}, r"s\.csv: the file holds no rows"),
        ("v\n", {}, r"s\.csv: no rows: the file holds a header row \('v'\) and no data$"),
        (
            "t,v\n\n",
            {"column": "v"},
            r"s\.csv: no rows: the file holds a header row \('t', 'v'\) and no data$",
        ),
    ],
)
def test_bad_csv_files(tmp_path, content, kwargs, match):
    f = tmp_path / "s.csv"
    f.write_text(content)
    with pytest.raises(SourceError, match=match) as info:
        load_series(f"csv:{f}", **kwargs)
    assert "\n" not in str(info.value)


def test_bad_npy_and_missing_files(tmp_path):
    with pytest.raises(SourceError, match=r"nope\.csv: no such file"):
        load_series(f"csv:{tmp_path / 'nope.csv'}#v")
    with pytest.raises(SourceError, match=r"nope\.npy: no such file"):
        load_series(f"npy:{tmp_path / 'nope.npy'}")
    a = np.ones(10)
    a[3] = np.nan
    np.save(tmp_path / "nan.npy", a)
    with pytest.raises(SourceError, match=r"nan\.npy: row 3: missing or non-finite"):
        load_series(f"npy:{tmp_path / 'nan.npy'}")
    w = np.arange(12.0).reshape(4, 3)
    w[2, 1] = np.inf
    np.save(tmp_path / "w.npy", w)
    with pytest.raises(SourceError, match=r"w\.npy: row 2, column 1"):
        load_series(f"npy:{tmp_path / 'w.npy'}")
    np.save(tmp_path / "w5.npy", np.arange(15.0).reshape(5, 3))
    with pytest.raises(SourceError, match=r"expected d \+ 1 = 9 columns"):
        load_series(f"npy:{tmp_path / 'w5.npy'}", d=8)
    np.save(tmp_path / "empty.npy", np.zeros(0))
    with pytest.raises(SourceError, match=r"empty\.npy: no rows: the series holds no values$"):
        load_series(f"npy:{tmp_path / 'empty.npy'}")
    np.save(tmp_path / "c.npy", np.full(20, 3.0))
    with pytest.raises(SourceError, match="constant"):
        load_series(f"npy:{tmp_path / 'c.npy'}")
    (tmp_path / "junk.npy").write_bytes(b"not an array")
    with pytest.raises(SourceError, match=r"junk\.npy: not a readable \.npy"):
        load_series(f"npy:{tmp_path / 'junk.npy'}")


def test_bad_names_and_options():
    with pytest.raises(SourceError, match="source: expected one of sunspots"):
        load_series("sunspot")
    with pytest.raises(SourceError, match="detrend"):
        load_series("nile", detrend="quadratic")
    with pytest.raises(SourceError, match="options"):
        load_series("nile", coefficients=[0.5])
    assert issubclass(SourceError, ValueError)


def test_missing_statsmodels_names_the_install_line(monkeypatch):
    """statsmodels is a base dependency; an environment that lost it is told how to get it back."""
    monkeypatch.setattr(sources.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(
        SourceError,
        match=(
            r"sunspots: the bundled real series need statsmodels: "
            r'pip install "statsmodels>=0\.14"'
        ),
    ):
        load_series("sunspots")
