"""Boundary markers of the protection zones, the way Vietnamese zoning maps list them.

Each zone's outline is generalised (Douglas-Peucker, shapely ``simplify``
with the configured tolerance) to a sensible number of markers. The markers
are numbered once per sheet — Zone I first, then Zone II — clockwise from the
northernmost point of each ring; the same points are drawn on the map and
listed with X (northing) and Y (easting) in metres, VN-2000.
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from shapely.geometry import LinearRing, Polygon
from shapely.geometry.base import BaseGeometry

#: Share of a Zone II hole covered by Zone I above which the hole *is* Zone I's
#: outline (already listed with Zone I), not a boundary of its own.
_HOLE_IS_ZONE_I = 0.9


@dataclass(frozen=True)
class Marker:
    """One boundary marker: its number, zone, ring and VN-2000 coordinates."""

    number: int
    zone_class: str  # "I" or "II"
    ring: int  # 1-based ring of the zone (parts and holes)
    x_northing: float
    y_easting: float


def _polygons(geom: BaseGeometry | None) -> list[Polygon]:
    if geom is None or geom.is_empty:
        return []
    return [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon) and not g.is_empty]


def _clockwise_from_north(ring: LinearRing) -> list[tuple[float, float]]:
    coords = list(ring.coords)[:-1]
    if not coords:
        return []
    if LinearRing(coords).is_ccw:
        coords.reverse()
    start = max(range(len(coords)), key=lambda i: (coords[i][1], -coords[i][0]))
    return coords[start:] + coords[:start]


def zone_rings(
    zone_i: BaseGeometry | None, zone_ii: BaseGeometry | None, tolerance_m: float
) -> list[tuple[str, int, list[tuple[float, float]]]]:
    """The generalised rings to mark: (zone class, ring number, [(easting, northing), ...]).

    Zone I: every ring. Zone II: its outer rings, and only those holes that are
    not simply Zone I (Zone II surrounds Zone I, so its inner edge is Zone I's
    outline, listed once under Zone I).
    """
    out: list[tuple[str, int, list[tuple[float, float]]]] = []
    for zone_class, geom in (("I", zone_i), ("II", zone_ii)):
        n = 0
        for poly in _polygons(geom):
            simple = shapely.simplify(poly, tolerance_m, preserve_topology=True)
            rings = [simple.exterior]
            if zone_class == "I":
                rings += list(simple.interiors)
            else:
                for hole in simple.interiors:
                    hole_poly = Polygon(hole)
                    covered = hole_poly.intersection(zone_i).area if zone_i is not None else 0.0
                    if hole_poly.area == 0 or covered / hole_poly.area < _HOLE_IS_ZONE_I:
                        rings.append(hole)
            for ring in rings:
                n += 1
                out.append((zone_class, n, _clockwise_from_north(ring)))
    return out


def boundary_markers(
    zone_i: BaseGeometry | None, zone_ii: BaseGeometry | None, tolerance_m: float
) -> list[Marker]:
    """Numbered boundary markers of a zoning unit's Zone I and Zone II.

    Parameters
    ----------
    zone_i, zone_ii
        The unit's zones (EPSG:9215, metres); either may be missing.
    tolerance_m
        Generalisation tolerance: no marker-to-marker segment strays further
        than this from the true boundary.

    Returns
    -------
    list of Marker
        Numbered 1, 2, ... across both zones, Zone I first.
    """
    markers: list[Marker] = []
    for zone_class, ring_no, coords in zone_rings(zone_i, zone_ii, tolerance_m):
        for easting, northing in coords:
            markers.append(Marker(len(markers) + 1, zone_class, ring_no, northing, easting))
    return markers


def format_metres(value: float) -> str:
    """A coordinate in metres to the centimetre, Vietnamese decimal comma."""
    return f"{value:.2f}".replace(".", ",")
