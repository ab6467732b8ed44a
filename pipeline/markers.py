"""Boundary markers (mốc giới): the legal boundary of every protection zone.

A province approves a zone by the coordinates of its boundary markers, so the
polygon through the markers *is* the zone. This module turns the final
(proposed or hand-adjusted) zones into marker polygons and numbered markers:

* **Outward generalisation.** Each ring of a zone is generalised so that the
  marker polygon *contains* the zone, never cuts inside it, and strays at most
  ``max_offset_m`` from it. Two moves are tried greedily, the one adding the
  least area first: dropping a concave or collinear vertex (the chord lies
  outside), and replacing a short edge between two convex vertices by the
  meeting point of its neighbouring edges (the corner lies outside). A move is
  kept only when the new boundary stays within ``max_offset_m`` of the zone,
  inside the park, off every other unit's zone, and the rings stay simple;
  containment is verified with shapely at the end, and a part that fails keeps
  all its vertices.
* **Zone II.** The outer footprint (Zone I and Zone II together) is generalised
  the same way around Zone I's marker polygon; Zone II is the footprint's
  marker polygon minus Zone I's. Its inner edge is Zone I's markers.
* **Numbering.** Per zone, ring by ring (parts from the north, each outer ring
  then its holes), clockwise from the northernmost vertex: ``I-1, I-2, ...``
  for Zone I, ``II-1, ...`` for the footprint's rings of Zone II. A marker
  within ``keep_number_within_m`` of a marker of the previous outputs (same
  unit and zone) keeps its number; new markers take the next free numbers; a
  zone none of whose markers stayed is numbered afresh.

Every area the project states for a zone is the area of its marker polygon.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LinearRing, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from pipeline.config import Markers
from pipeline.crs import transform_xy

#: Columns of the ``boundary_markers`` layer, in order (geometry last).
MARKER_COLUMNS = [
    "unit_code",
    "zone_class",
    "part",
    "ring",
    "ring_kind",
    "seq",
    "number",
    "label",
    "x_vn2000",
    "y_vn2000",
    "lon",
    "lat",
    "status",
]

_AREA_EPS_M2 = 1e-6  # containment is checked to a square millimetre
_DECIMALS = 2  # markers are stated to the centimetre


# --------------------------------------------------------------------------- generalisation


def _cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))


def _line_meet(a: np.ndarray, i: np.ndarray, j: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """Where edge a->i extended beyond i meets edge b->j extended beyond j, if ahead of both."""
    d1, d2 = i - a, j - b
    denom = d1[0] * d2[1] - d1[1] * d2[0]
    if abs(denom) < 1e-12:
        return None
    w = j - i
    t = (w[0] * d2[1] - w[1] * d2[0]) / denom
    s = (w[0] * d1[1] - w[1] * d1[0]) / denom
    if t <= 1e-9 or s <= 1e-9:
        return None
    return i + t * d1


@dataclass
class _Constraints:
    """Where a ring may grow: within ``max_offset_m`` of ``zone``, inside ``allowed``,
    off ``forbidden``."""

    zone: BaseGeometry
    max_offset_m: float
    allowed: BaseGeometry | None
    forbidden: BaseGeometry | None

    def fits(
        self, pieces: list[np.ndarray], triangle: Polygon, others: BaseGeometry | None
    ) -> bool:
        step = max(self.max_offset_m / 8, 0.05)
        samples = []
        for p, q in itertools.pairwise(pieces):
            n = max(2, int(np.ceil(np.hypot(*(q - p)) / step)) + 1)
            samples.append(p + np.linspace(0, 1, n)[:, None] * (q - p))
        points = shapely.points(np.vstack(samples))
        if shapely.distance(points, self.zone).max() > self.max_offset_m:
            return False
        if triangle.area <= 0:
            return True
        if self.allowed is not None and not shapely.covers(self.allowed, triangle):
            return False
        if self.forbidden is not None and shapely.intersects(self.forbidden, triangle):
            return False
        return not (others is not None and shapely.intersects(others, triangle))


def _generalise_ring(
    coords: np.ndarray, rules: _Constraints, others: BaseGeometry | None
) -> np.ndarray:
    """Greedy outward generalisation of one ring whose interior lies to its left."""
    pts = [np.asarray(c, float) for c in coords]
    n = len(pts)
    nxt = [(k + 1) % n for k in range(n)]
    prv = [(k - 1) % n for k in range(n)]
    alive = [True] * n
    size = n
    heap: list[tuple[float, int, str, tuple[int, ...]]] = []
    counter = 0

    def push_drop(i: int) -> None:
        nonlocal counter
        a, b = prv[i], nxt[i]
        turn = _cross(pts[a], pts[i], pts[b])
        if turn <= 1e-9 * max(1.0, np.hypot(*(pts[b] - pts[a])) ** 2):  # concave or collinear
            counter += 1
            heapq.heappush(heap, (abs(turn) / 2, counter, "drop", (a, i, b)))

    def push_merge(i: int) -> None:
        nonlocal counter
        j = nxt[i]
        a, b = prv[i], nxt[j]
        if a == j or b == i:
            return
        p = _line_meet(pts[a], pts[i], pts[j], pts[b])
        if p is None or _cross(pts[i], pts[j], p) >= 0:
            return
        counter += 1
        heapq.heappush(heap, (abs(_cross(pts[i], p, pts[j])) / 2, counter, "merge", (a, i, j, b)))

    for k in range(n):
        push_drop(k)
        push_merge(k)

    def ring_now() -> list[int]:
        start = next(k for k in range(len(pts)) if alive[k])
        order, k = [start], nxt[start]
        while k != start:
            order.append(k)
            k = nxt[k]
        return order

    while heap and size > 3:
        _, _, kind, ids = heapq.heappop(heap)
        if not all(alive[k] for k in ids) or any(nxt[x] != y for x, y in itertools.pairwise(ids)):
            continue  # stale: the ring changed here since this move was proposed
        if kind == "drop":
            a, i, b = ids
            pieces, triangle = [pts[a], pts[b]], Polygon([pts[a], pts[i], pts[b]])
        else:
            a, i, j, b = ids
            p = _line_meet(pts[a], pts[i], pts[j], pts[b])
            if p is None:
                continue
            pieces, triangle = [pts[i], p, pts[j]], Polygon([pts[i], p, pts[j]])
        if not triangle.is_valid and triangle.area > 0:
            continue
        if not rules.fits(pieces, triangle, others):
            continue
        # tentatively apply, keep only if the ring stays simple
        if kind == "drop":
            nxt[a], prv[b], alive[i] = b, a, False
            trial = ring_now()
            if not LinearRing([pts[k] for k in trial]).is_simple:
                nxt[a], prv[b], alive[i] = i, i, True
                continue
            size -= 1
            touched = [a, b]
        else:
            pts.append(p)
            new = len(pts) - 1
            nxt.append(b)
            prv.append(a)
            alive.append(True)
            nxt[a], prv[b], alive[i], alive[j] = new, new, False, False
            trial = ring_now()
            if not LinearRing([pts[k] for k in trial]).is_simple:
                nxt[a], prv[b], alive[i], alive[j], alive[new] = i, j, True, True, False
                continue
            size -= 1
            touched = [a, new, b]
        for k in touched:
            push_drop(k)
            push_merge(prv[k])
            push_merge(k)
    return np.array([pts[k] for k in ring_now()])


def _oriented_polygons(geom: BaseGeometry | None) -> list[Polygon]:
    """Polygon parts with the interior left of every ring (outer CCW, holes CW)."""
    if geom is None or geom.is_empty:
        return []
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon) and not g.is_empty]
    return [shapely.geometry.polygon.orient(p, 1.0) for p in parts]


def generalise_outward(
    zone: BaseGeometry,
    max_offset_m: float,
    *,
    allowed: BaseGeometry | None = None,
    forbidden: BaseGeometry | None = None,
) -> BaseGeometry:
    """The marker polygon of ``zone``: fewer vertices, containing ``zone``.

    Parameters
    ----------
    zone
        A polygon or multipolygon (metres).
    max_offset_m
        No point of the result's boundary lies farther than this from ``zone``.
    allowed
        Growth stays inside this area (the park), when given.
    forbidden
        Growth never touches this area (other units' zones), when given.

    Returns
    -------
    Polygon or MultiPolygon
        Containing ``zone`` (verified); a part whose generalisation cannot be
        verified keeps all its vertices.
    """
    if zone is None or zone.is_empty:
        return zone
    # Markers are stated to the centimetre: generalise a 1 cm wider zone, so the
    # rounded markers still contain the zone itself.
    parts = _oriented_polygons(shapely.buffer(zone, 0.01, join_style="mitre"))
    rules = _Constraints(zone, max_offset_m, allowed, forbidden)
    shapely.prepare(zone)
    for geom in (allowed, forbidden):
        if geom is not None:
            shapely.prepare(geom)
    rings: list[list[np.ndarray]] = [
        [np.asarray(p.exterior.coords)[:-1]] + [np.asarray(h.coords)[:-1] for h in p.interiors]
        for p in parts
    ]
    for pi, part_rings in enumerate(rings):
        for ri, coords in enumerate(part_rings):
            if len(coords) > 3:
                others = [
                    LinearRing(c)
                    for pj, pr in enumerate(rings)
                    for rj, c in enumerate(pr)
                    if (pj, rj) != (pi, ri) and len(c) >= 3
                ]
                other_geom = shapely.union_all(others) if others else None
                if other_geom is not None:
                    shapely.prepare(other_geom)
                coords = _generalise_ring(coords, rules, other_geom)
            rings[pi][ri] = np.round(coords, _DECIMALS)
    out = []
    for part, part_rings in zip(parts, rings, strict=True):
        poly = Polygon(part_rings[0], part_rings[1:])
        inside = shapely.intersection(zone, part)
        if not poly.is_valid or shapely.area(shapely.difference(inside, poly)) > _AREA_EPS_M2:
            poly = part  # cannot verify: keep every vertex of this part
        out.append(poly)
    result: BaseGeometry = out[0] if len(out) == 1 else MultiPolygon(out)
    if not result.is_valid or shapely.area(shapely.difference(zone, result)) > _AREA_EPS_M2:
        result = zone
    return result


# --------------------------------------------------------------------------- numbering


def _clockwise_from_north(coords: np.ndarray) -> np.ndarray:
    """Ring vertices (no closing point) clockwise, starting at the northernmost (then westernmost)."""
    coords = np.asarray(coords, float)
    if LinearRing(coords).is_ccw:
        coords = coords[::-1]
    start = int(np.lexsort((coords[:, 0], -coords[:, 1]))[0])
    return np.roll(coords, -start, axis=0)


def marker_rings(geom: BaseGeometry | None) -> list[tuple[int, int, str, np.ndarray]]:
    """(part, ring, kind, clockwise coords) of a marker polygon, in numbering order.

    Parts from the north (their northernmost vertex, then the west), each outer
    ring then its holes (holes likewise from the north).
    """
    if geom is None or geom.is_empty:
        return []
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon)]

    def north_key(ring: LinearRing) -> tuple[float, float]:
        xy = np.asarray(ring.coords)
        k = int(np.lexsort((xy[:, 0], -xy[:, 1]))[0])
        return -xy[k, 1], xy[k, 0]

    parts.sort(key=lambda p: north_key(p.exterior))
    out = []
    ring_no = 0
    for part_no, poly in enumerate(parts, start=1):
        ring_no += 1
        out.append((part_no, ring_no, "outer", _clockwise_from_north(poly.exterior.coords[:-1])))
        for hole in sorted(poly.interiors, key=north_key):
            ring_no += 1
            out.append((part_no, ring_no, "hole", _clockwise_from_north(hole.coords[:-1])))
    return out


def _numbers(xy: np.ndarray, previous: pd.DataFrame | None, within_m: float) -> np.ndarray:
    """Marker numbers for ``xy`` (numbering order), keeping the previous run's where they stayed."""
    fresh = np.arange(1, len(xy) + 1)
    if previous is None or previous.empty or not len(xy):
        return fresh
    old = previous[["y_vn2000", "x_vn2000"]].to_numpy(float)  # easting, northing
    dist = np.hypot(xy[:, None, 0] - old[None, :, 0], xy[:, None, 1] - old[None, :, 1])
    numbers = np.zeros(len(xy), dtype=int)
    taken: set[int] = set()
    # closest pairs first, one-to-one
    for flat in np.argsort(dist, axis=None):
        i, j = divmod(int(flat), dist.shape[1])
        if dist[i, j] > within_m:
            break
        if numbers[i] or j in taken:
            continue
        numbers[i] = int(previous["number"].iloc[j])
        taken.add(j)
    if not numbers.any():
        return fresh
    next_free = int(previous["number"].max()) + 1
    for i in np.flatnonzero(numbers == 0):
        numbers[i] = next_free
        next_free += 1
    return numbers


def zone_markers(
    unit_code: str,
    zone_class: str,
    geom: BaseGeometry | None,
    previous: pd.DataFrame | None,
    within_m: float,
) -> pd.DataFrame:
    """The numbered markers of one zone (unit and class) as a table (VN-2000 metres)."""
    rows = []
    for part, ring, kind, coords in marker_rings(geom):
        for seq, (easting, northing) in enumerate(coords, start=1):
            rows.append((part, ring, kind, seq, easting, northing))
    frame = pd.DataFrame(rows, columns=["part", "ring", "ring_kind", "seq", "easting", "northing"])
    numbers = _numbers(frame[["easting", "northing"]].to_numpy(float), previous, within_m)
    frame.insert(0, "zone_class", zone_class)
    frame.insert(0, "unit_code", unit_code)
    frame["number"] = numbers
    frame["label"] = [f"{zone_class}-{n}" for n in numbers]
    frame["x_vn2000"] = frame.pop("northing")
    frame["y_vn2000"] = frame.pop("easting")
    return frame


def polygon_from_markers(markers: pd.DataFrame) -> BaseGeometry:
    """The polygon through a zone's markers (rows of one unit and zone class)."""
    polys = []
    for _, part in markers.sort_values(["part", "ring", "seq"]).groupby("part", sort=True):
        rings = [
            list(zip(r["y_vn2000"], r["x_vn2000"], strict=True))
            for _, r in part.groupby("ring", sort=True)
        ]
        polys.append(Polygon(rings[0], rings[1:]))
    if not polys:
        return Polygon()
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


# --------------------------------------------------------------------------- the stage


@dataclass
class LegalBoundaries:
    """What :func:`legal_boundaries` returns."""

    zones: gpd.GeoDataFrame  # protection_zones: the marker polygons, areas of them
    detailed: gpd.GeoDataFrame  # the zones as given (proposal or adjustment), before markers
    markers: gpd.GeoDataFrame  # boundary_markers
    #: (unit_code, zone_class) -> the marker polygon an approved unit would get if it were not
    #: frozen (compared with the approved boundary by the QA)
    pending: dict[tuple[str, str], BaseGeometry]


def _with_wgs84(frame: pd.DataFrame, crs: str) -> pd.DataFrame:
    lon, lat = transform_xy(
        frame["y_vn2000"].to_numpy(float), frame["x_vn2000"].to_numpy(float), crs, "EPSG:4326"
    )
    return frame.assign(lon=np.round(lon, 8), lat=np.round(lat, 8))


def markers_layer(frame: pd.DataFrame, crs: str) -> gpd.GeoDataFrame:
    """The ``boundary_markers`` layer from marker rows (adds WGS 84 and the point geometry)."""
    frame = frame.reset_index(drop=True)
    if "status" not in frame:
        frame["status"] = "proposed"
    frame = _with_wgs84(frame, crs) if len(frame) else frame.assign(lon=[], lat=[])
    frame = frame[MARKER_COLUMNS]
    geometry = shapely.points(frame["y_vn2000"].to_numpy(float), frame["x_vn2000"].to_numpy(float))
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs=crs), crs=crs)


def _previous_zone(
    previous: pd.DataFrame | None, unit: str, zone_class: str
) -> pd.DataFrame | None:
    if previous is None or previous.empty:
        return None
    return previous[(previous["unit_code"] == unit) & (previous["zone_class"] == zone_class)]


def legal_boundaries(
    zones: gpd.GeoDataFrame,
    park: BaseGeometry,
    settings: Markers,
    *,
    previous_markers: pd.DataFrame | None = None,
    approved_zones: gpd.GeoDataFrame | None = None,
    approved_markers: pd.DataFrame | None = None,
    status: dict[str, str] | None = None,
) -> LegalBoundaries:
    """The legal boundaries of the final protection zones.

    Parameters
    ----------
    zones
        ``protection_zones`` as zoned (and adjusted): one row per ``unit_code``
        and ``zone_class``; Zone I and Zone II do not overlap.
    park
        The park extent: markers never leave it.
    settings
        ``[zoning.markers]``.
    previous_markers
        The previous outputs' ``boundary_markers`` (numbers kept where the
        boundary did not move).
    approved_zones, approved_markers
        Frozen boundaries of approved units (from the edits GeoPackage): used
        exactly as they are, never recomputed.
    status
        ``unit_code`` -> ``proposed``/``adjusted``/``approved``; default proposed.

    Returns
    -------
    LegalBoundaries
        ``zones`` with the marker polygons as geometry and ``area_ha`` their
        area, ``status``; ``detailed`` the input zones; ``markers``.
    """
    crs = zones.crs
    status = dict(status or {})
    approved_units = set() if approved_zones is None else set(approved_zones["unit_code"])
    for unit in approved_units:
        status[unit] = "approved"
    keys = ["unit_code", "zone_class"]
    by_unit = {u: part for u, part in zones.groupby("unit_code", sort=True)}
    footprints = {u: shapely.union_all(part.geometry.values) for u, part in by_unit.items()}
    # What each unit occupies for its neighbours: its legal footprint once generalised (or
    # approved), its detailed one until then. Growing outward never enters it, so the
    # generalisation cannot make two units overlap.
    taken = dict(footprints)
    if approved_zones is not None:
        for unit, part in approved_zones.groupby("unit_code"):
            taken[unit] = shapely.union_all(part.geometry.values)
    tree_units = list(taken)
    tree = shapely.STRtree([shapely.buffer(g, settings.max_offset_m) for g in taken.values()])
    allowed = shapely.buffer(park, 0.01)

    geoms: dict[tuple[str, str], BaseGeometry] = {}
    marker_frames: list[pd.DataFrame] = []
    pending: dict[tuple[str, str], BaseGeometry] = {}
    for unit, part in by_unit.items():
        classes = dict(zip(part["zone_class"], part.geometry.values, strict=True))
        footprint = footprints[unit]
        reach = shapely.buffer(footprint, settings.max_offset_m + 1)
        neighbours = [tree_units[k] for k in tree.query(reach) if tree_units[k] != unit]
        forbidden = shapely.union_all([taken[u] for u in neighbours]) if neighbours else None
        core = classes.get("I")
        core_legal = (
            generalise_outward(core, settings.max_offset_m, allowed=allowed, forbidden=forbidden)
            if core is not None and not core.is_empty
            else None
        )
        outer_legal = None
        if "II" in classes:
            around = footprint if core_legal is None else shapely.union(footprint, core_legal)
            outer_legal = generalise_outward(
                around, settings.max_offset_m, allowed=allowed, forbidden=forbidden
            )
        if unit in approved_units:  # frozen: what this run would propose is only compared
            if core_legal is not None:
                pending[(unit, "I")] = core_legal
            if outer_legal is not None:
                pending[(unit, "II")] = (
                    outer_legal
                    if core_legal is None
                    else shapely.difference(outer_legal, core_legal)
                )
            continue
        taken[unit] = next(g for g in (outer_legal, core_legal, footprint) if g is not None)
        if core_legal is not None:
            geoms[(unit, "I")] = core_legal
            marker_frames.append(
                zone_markers(
                    unit,
                    "I",
                    core_legal,
                    _previous_zone(previous_markers, unit, "I"),
                    settings.keep_number_within_m,
                )
            )
        if outer_legal is not None:
            ring = (
                outer_legal if core_legal is None else shapely.difference(outer_legal, core_legal)
            )
            geoms[(unit, "II")] = ring
            marker_frames.append(
                zone_markers(
                    unit,
                    "II",
                    outer_legal,
                    _previous_zone(previous_markers, unit, "II"),
                    settings.keep_number_within_m,
                )
            )

    legal = zones.copy()
    legal_geoms = np.array(
        [
            geoms.get((u, z), g)
            for u, z, g in zip(
                legal["unit_code"], legal["zone_class"], legal.geometry.values, strict=True
            )
        ],
        dtype=object,
    )
    legal = legal.set_geometry(gpd.GeoSeries(legal_geoms, index=legal.index, crs=crs))
    legal["decision"] = pd.Series([None] * len(legal), index=legal.index, dtype=object)
    legal["decision_date"] = pd.Series([None] * len(legal), index=legal.index, dtype=object)
    if approved_zones is not None and len(approved_zones):
        frozen = approved_zones.to_crs(crs) if approved_zones.crs != crs else approved_zones
        legal = legal[~legal["unit_code"].isin(approved_units)]
        extra = frozen.drop(columns=[c for c in frozen.columns if c not in legal.columns])
        legal = pd.concat([legal, extra], ignore_index=True)
        legal = gpd.GeoDataFrame(legal, geometry="geometry", crs=crs)
    legal["geometry"] = [
        MultiPolygon([p for p in getattr(g, "geoms", [g]) if isinstance(p, Polygon)])
        for g in legal.geometry.values
    ]
    legal["area_ha"] = np.round(shapely.area(legal.geometry.values) / 1e4, 4)
    legal["status"] = legal["unit_code"].map(lambda u: status.get(u, "proposed"))
    legal = legal.sort_values(keys).reset_index(drop=True)
    legal = legal[[c for c in legal.columns if c != "geometry"] + ["geometry"]]

    markers = pd.concat(marker_frames, ignore_index=True) if marker_frames else pd.DataFrame()
    if approved_markers is not None and len(approved_markers):
        markers = pd.concat(
            [markers, pd.DataFrame(approved_markers).drop(columns="geometry", errors="ignore")],
            ignore_index=True,
        )
    if markers.empty:
        markers = pd.DataFrame(columns=MARKER_COLUMNS)
    markers["status"] = markers["unit_code"].map(lambda u: status.get(u, "proposed"))
    markers = markers.sort_values(["unit_code", "zone_class", "ring", "seq"]).reset_index(drop=True)
    detailed = zones.assign(area_ha=np.round(shapely.area(zones.geometry.values) / 1e4, 4))
    return LegalBoundaries(
        zones=gpd.GeoDataFrame(legal, geometry="geometry", crs=crs),
        detailed=gpd.GeoDataFrame(detailed, geometry="geometry", crs=crs),
        markers=markers_layer(markers, str(crs)),
        pending=pending,
    )
