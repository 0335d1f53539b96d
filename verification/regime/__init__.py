"""Regime maps (docs/theory.md, "Regime maps"): where a claim's conclusion holds, cell by cell.

Private modules behind this front: ``_map`` (cells, boundaries, looseness), ``_runs`` (the long
runs recorded at log-spaced steps), ``_plot`` (heatmaps), ``_report`` (``map.json``, terminal
lines, report.md's section). :func:`build_maps` computes, :func:`write_maps` writes,
:func:`load_maps` reads back; :func:`maps_section` is report.md's section.
"""

from verification.regime._build import build_maps as build_maps
from verification.regime._map import RegimeMap as RegimeMap
from verification.regime._map import cell_statuses as cell_statuses
from verification.regime._map import row_boundary as row_boundary
from verification.regime._map import seeds_for_holds as seeds_for_holds
from verification.regime._report import load_maps as load_maps
from verification.regime._report import maps_section as maps_section
from verification.regime._report import write_maps as write_maps
from verification.regime._runs import MapSettings as MapSettings

__all__ = [
    "MapSettings",
    "RegimeMap",
    "build_maps",
    "cell_statuses",
    "load_maps",
    "maps_section",
    "row_boundary",
    "seeds_for_holds",
    "write_maps",
]
