"""Figures name their data source and label narrow log axes with plain numbers
(issue 22 item 13)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from verification.claims._common import FIGURE_SOURCE, save_figure  # noqa: E402


def _labels(axis):
    return [
        t.get_text()
        for t in axis.get_minorticklabels() + axis.get_majorticklabels()
        if t.get_text()
    ]


def test_narrow_log_axis_has_plain_labels_and_the_source_is_named(tmp_path):
    fig, ax = plt.subplots()
    ax.loglog([2.0, 3.0, 9.0], [1.5, 4.0, 8.0])  # less than a decade: matplotlib would write 6×10⁰
    token = FIGURE_SOURCE.set("csv:sales.csv#sales")
    try:
        assert save_figure(fig, tmp_path / "f.png") == "f.png"
    finally:
        FIGURE_SOURCE.reset(token)
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    labels = _labels(ax.xaxis) + _labels(ax.yaxis)
    assert labels and not any("times" in s or "×" in s for s in labels), labels
    assert {"2", "3", "6"} <= set(labels) or {"2", "4", "6"} <= set(labels), labels
    assert fig._suptitle is not None and fig._suptitle.get_text() == "data: csv:sales.csv#sales"


def test_no_source_no_title(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    save_figure(fig, tmp_path / "g.png")
    assert fig._suptitle is None
