"""Where the training windows of ``[data]`` sit, without building the data set (for the reports:
summary.json ``data_windows``, report.md's data line; ``ntk-verify data``)."""

from __future__ import annotations

from ntk_attention import data as ssm_data
from verification.data._datasets import family_length, load_source, needed_length
from verification.data._sources import SourceError
from verification.data._windows import resolve_placement, window_coverage, window_starts

__all__ = ["window_placement"]


def window_placement(data_cfg: dict, n: int | None = None, n_test: int = 0) -> dict:
    """Where the ``n`` (default ``[data] n``) training windows of ``[data]`` sit, without building
    the data set (a real series or file is read for its length; a family is not drawn).

    Keys: ``source``; ``kind`` (``"synthetic"``, ``"series"``, ``"windows file"`` or ``"haar"``);
    ``placement``, the placement :func:`verification.data._datasets.make_dataset` uses (``None``
    for a windows file or ``haar``); ``requested``, ``[data] placement``; ``d``; and the keys of
    :func:`verification.data._windows.window_coverage` (``haar``: ``windows`` and ``how``).
    :func:`verification.data._windows.placement_words` says it in words. Raises
    :class:`verification.data._sources.SourceError` as ``make_dataset`` does.
    """
    name, d = data_cfg.get("source", "haar"), int(data_cfg["d"])
    n = int(data_cfg["n"]) if n is None else int(n)
    requested = data_cfg.get("placement", "first")
    out = {"source": name, "kind": "haar", "placement": None, "requested": requested, "d": d}
    if name == "haar":
        return {**out, "windows": n, "how": f"{data_cfg.get('windows', 'independent')} windows"}
    o, synthetic = int(data_cfg.get("offset", 0)), name in ssm_data.FAMILIES
    if synthetic:  # the length load_source draws, less the value "difference" drops
        T = family_length(needed_length(data_cfg, n, n_test))
        T -= data_cfg.get("detrend", "none") == "difference"
    else:
        src = load_source(data_cfg, None)
        if src.series is None:
            rows = int(src.X.shape[0])
            cover = {"windows": n, "first_value": 0, "last_value": n - 1, "length": rows}
            cover.update(coverage=n / rows, values_used=n * (d + 1))
            return {**out, "kind": "windows file", **cover}
        T = int(src.series.shape[0])
    placement = resolve_placement(requested, T, n, d, offset=o, n_test=n_test, synthetic=synthetic)
    try:
        train, _ = window_starts(T, n, d, offset=o, n_test=n_test, placement=placement)
    except ValueError as err:
        raise SourceError(f"{name}: {err}") from None
    kind = "synthetic" if synthetic else "series"
    return {**out, "kind": kind, "placement": placement, **window_coverage(train, T, d)}
