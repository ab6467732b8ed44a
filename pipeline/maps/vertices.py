"""Boundary markers on the zoning sheets, read from the ``boundary_markers`` layer.

The markers themselves (outward generalisation, numbering) are made by
:mod:`pipeline.markers` during the run; a sheet lists exactly the markers the
GeoPackage, the marker tables and the database hold, numbered ``I-1, I-2, ...``
and ``II-1, ...`` clockwise from the northernmost of each ring, with X
(northing) and Y (easting) in metres, VN-2000.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline.numbers import vi_number


@dataclass(frozen=True)
class Marker:
    """One boundary marker: its number and label, zone, ring and VN-2000 coordinates."""

    number: int
    label: str  # "I-3", "II-12"
    zone_class: str  # "I" or "II"
    ring: int  # 1-based ring of the zone (parts and holes)
    x_northing: float
    y_easting: float


def unit_markers(layer: pd.DataFrame, unit_code: str) -> list[Marker]:
    """The markers of one unit, Zone I first, each ring in order along the boundary."""
    rows = layer[layer["unit_code"] == unit_code].sort_values(["zone_class", "ring", "seq"])
    return [
        Marker(int(r.number), str(r.label), str(r.zone_class), int(r.ring), r.x_vn2000, r.y_vn2000)
        for r in rows.itertuples()
    ]


def format_metres(value: float) -> str:
    """A coordinate in metres to the centimetre, Vietnamese decimal comma."""
    # no thousands separator: a coordinate is read digit by digit against the grid labels
    return vi_number(value, 2, thousands="")
