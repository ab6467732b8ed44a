"""Boundary markers (mốc giới): the legal boundary of every protection zone.

A province approves a zone by the coordinates of its boundary markers, so the
polygon through the markers *is* the zone. This module turns the final
(proposed or hand-adjusted) zones into marker polygons and numbered markers:

* **Outward generalisation.** Each zone is grown outward and its boundary
  simplified (Douglas-Peucker, topology kept) so that the marker polygon
  *contains* the zone and strays at most ``max_offset_m`` from it, measured
  along every chord; a tighter second pass serves concave bends. Growth is
  cut back to the park and kept off neighbouring units. Every result is
  verified with shapely, and a zone that fails keeps all its vertices. All
  units are done at once (shapely's array functions); only units with a
  neighbour within reach are done one after the other.
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

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from pipeline.config import Markers
from pipeline.crs import transform_xy
from pipeline.geometry import near, own_geometries
from pipeline.parallel import map_threads, threaded
from pipeline.progress import Advance, no_advance

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

#: (how far out the marker vertices are placed, how far a chord may dip back towards the
#: zone), as shares of ``max_offset_m``. The first pass uses nearly all the allowance and
#: gives few markers around convex zones; where a chord would bridge a concave bend too far
#: from the zone, the second pass (vertices + chord dip within the allowance) is used.
_PASSES = ((0.95, 0.85), (0.55, 0.45))
_ARC_QUAD_SEGS = 16


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Polygonal parts only (overlays can leave lines or points behind)."""
    out = np.array(geoms, dtype=object, copy=True)
    mixed = shapely.get_type_id(out) == 7
    if mixed.any():
        parts, index = shapely.get_parts(out[mixed], return_index=True)
        keep = shapely.get_type_id(parts) == 3
        rebuilt = np.full(mixed.sum(), shapely.Polygon(), dtype=object)
        if keep.any():
            present, dense = np.unique(index[keep], return_inverse=True)
            rebuilt[present] = shapely.multipolygons(parts[keep], indices=dense)
        out[mixed] = rebuilt
    return out


def _candidates(
    base: np.ndarray,
    reach_m: float,
    tolerance_m: float,
    allowed: BaseGeometry | None,
    forbidden: np.ndarray | None,
) -> np.ndarray:
    """Marker polygons of ``base``: grown by ``reach_m``, chords within ``tolerance_m``."""
    wide = threaded(shapely.buffer, base, reach_m, quad_segs=_ARC_QUAD_SEGS)
    out = threaded(shapely.simplify, wide, tolerance_m, preserve_topology=True)
    if allowed is not None:
        leaving = ~shapely.covers(allowed, out)
        if leaving.any():
            out[leaving] = threaded(
                shapely.intersection,
                out[leaving],
                near(out[leaving], np.full(leaving.sum(), allowed)),
            )
    if forbidden is not None:
        blocked = np.array([g is not None for g in forbidden], dtype=bool)
        if blocked.any():
            # a centimetre off, so rounding the markers never brings them onto a neighbour
            keep_off = shapely.buffer(forbidden[blocked], 10**-_DECIMALS, join_style="mitre")
            out[blocked] = threaded(shapely.difference, out[blocked], keep_off)
    # markers are stated to the centimetre
    return _polygonal(threaded(shapely.set_precision, _polygonal(out), 10**-_DECIMALS))


def _verified(zones: np.ndarray, legal: np.ndarray, max_offset_m: float) -> np.ndarray:
    """Which marker polygons are valid, contain their zone and stay within the allowance.

    Within the allowance: the marker polygon lies inside the zone grown by
    ``max_offset_m`` (plus the centimetre of rounding), so no point of any
    chord between two markers is farther from the zone.
    """
    ok = shapely.is_valid(legal) & ~shapely.is_empty(legal)
    # Contains the zone to the centimetre the markers are stated to: where the zone runs
    # along the park boundary, so does the marker polygon, rounded to the centimetre.
    inside = shapely.area(threaded(shapely.difference, zones[ok], legal[ok])) <= _AREA_EPS_M2
    rounding = np.flatnonzero(ok)[~inside]
    inside[~inside] = shapely.covers(
        shapely.buffer(legal[rounding], 10**-_DECIMALS, quad_segs=2), zones[rounding]
    )
    ok[ok] = inside
    # the arcs of the grown zone are inscribed: 16 segments a quarter lose < 1.3 mm at 10 m
    reach = threaded(
        shapely.buffer, zones[ok], max_offset_m + 2 * 10**-_DECIMALS, quad_segs=_ARC_QUAD_SEGS
    )
    ok[ok] = threaded(shapely.covers, reach, legal[ok])
    return ok


def generalise_outward_many(
    zones: np.ndarray,
    max_offset_m: float,
    *,
    allowed: BaseGeometry | None = None,
    forbidden: np.ndarray | None = None,
) -> np.ndarray:
    """The marker polygons of many zones at once (see :func:`generalise_outward`).

    ``forbidden``: per zone, an area its growth must not enter, or None.
    Missing or empty zones give None.
    """
    zones = np.asarray(zones, dtype=object)
    out = np.full(len(zones), None, dtype=object)
    present = np.flatnonzero(~(shapely.is_missing(zones) | shapely.is_empty(zones)))
    if not len(present):
        return out
    if allowed is not None:
        shapely.prepare(allowed)
    # A 1 cm wider zone is generalised, so the rounded markers still contain the zone.
    base = threaded(shapely.buffer, zones[present], 10**-_DECIMALS, join_style="mitre")
    todo = np.arange(len(present))
    for reach, tolerance in _PASSES:
        if not len(todo):
            break
        legal = _candidates(
            base[todo],
            reach * max_offset_m,
            tolerance * max_offset_m,
            allowed,
            None if forbidden is None else np.asarray(forbidden, dtype=object)[present[todo]],
        )
        ok = _verified(zones[present[todo]], legal, max_offset_m)
        out[present[todo[ok]]] = legal[ok]
        todo = todo[~ok]
    # Cannot verify a generalisation: every vertex is kept, never cut back to neighbours
    # (zones that overlap a neighbour are the QA's to report, not the markers' to hide).
    if len(todo):
        kept = base[todo]
        if allowed is not None:
            kept = shapely.intersection(kept, allowed)
        out[present[todo]] = _polygonal(shapely.set_precision(_polygonal(kept), 10**-_DECIMALS))
    return out


def generalise_outward(
    zone: BaseGeometry,
    max_offset_m: float,
    *,
    allowed: BaseGeometry | None = None,
    forbidden: BaseGeometry | None = None,
) -> BaseGeometry:
    """The marker polygon of ``zone``: fewer vertices, containing ``zone``.

    The zone is grown outward and its boundary simplified (Douglas-Peucker,
    topology kept) so that every chord between two markers stays outside the
    zone and within ``max_offset_m`` of it; growth is then cut back to
    ``allowed`` and off ``forbidden``; the result is verified (valid, contains
    the zone, offset measured along the chords), and a zone whose
    generalisation cannot be verified keeps all its vertices.

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
    """
    if zone is None or zone.is_empty:
        return zone
    blocked = None if forbidden is None else np.array([forbidden], dtype=object)
    return generalise_outward_many(
        np.array([zone], dtype=object), max_offset_m, allowed=allowed, forbidden=blocked
    )[0]


# --------------------------------------------------------------------------- numbering


def _marker_rows(geoms: np.ndarray) -> pd.DataFrame:
    """Every marker of every polygon in ``geoms``, in numbering order.

    Per polygon: parts from the north (their northernmost vertex, then the
    west), each outer ring then its holes (likewise from the north), each
    ring clockwise from its northernmost (then westernmost) vertex. Columns:
    ``zone`` (index into ``geoms``), ``part``, ``ring``, ``ring_kind``,
    ``seq``, ``easting``, ``northing``.
    """
    parts, part_zone = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    polygon = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    parts, part_zone = parts[polygon], part_zone[polygon]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    ring_first = np.flatnonzero(np.diff(ring_part, prepend=-1))
    is_hole = np.ones(len(rings), dtype=bool)
    is_hole[ring_first] = False
    xy, coord_ring = shapely.get_coordinates(rings, return_index=True)
    closing = np.r_[np.flatnonzero(np.diff(coord_ring)), len(coord_ring) - 1] if len(xy) else []
    keep = np.ones(len(xy), dtype=bool)
    keep[closing] = False
    xy, coord_ring = xy[keep], coord_ring[keep]
    size = np.bincount(coord_ring, minlength=len(rings))
    first = np.concatenate([[0], np.cumsum(size)[:-1]]) if len(rings) else np.empty(0, int)
    pos = np.arange(len(xy)) - first[coord_ring]
    # clockwise: a counter-clockwise ring is read backwards
    pos = np.where(shapely.is_ccw(rings)[coord_ring], size[coord_ring] - 1 - pos, pos)
    by_north = np.lexsort((xy[:, 0], -xy[:, 1], coord_ring))
    north = by_north[first]  # each ring's northernmost, then westernmost, vertex
    seq = (pos - pos[north][coord_ring]) % size[coord_ring]
    north_y, north_x = xy[north, 1], xy[north, 0]
    outer_of_part = ring_first  # parts from the north, by their outer ring
    part_rank = np.empty(len(parts), dtype=int)
    order = np.lexsort((north_x[outer_of_part], -north_y[outer_of_part], part_zone))
    part_rank[order] = np.arange(len(parts))
    ring_order = np.lexsort((north_x, -north_y, is_hole, part_rank[ring_part]))
    ring_rank = np.empty(len(rings), dtype=int)
    ring_rank[ring_order] = np.arange(len(rings))
    ring_zone = part_zone[ring_part]
    frame = pd.DataFrame(
        {
            "zone": ring_zone[coord_ring],
            "part_rank": part_rank[ring_part][coord_ring],
            "ring_rank": ring_rank[coord_ring],
            "ring_kind": np.where(is_hole, "hole", "outer")[coord_ring],
            "seq": seq + 1,
            "easting": xy[:, 0],
            "northing": xy[:, 1],
        }
    ).sort_values(["ring_rank", "seq"], kind="stable")
    # 1-based part and ring numbers within each zone
    for rank, column in (("part_rank", "part"), ("ring_rank", "ring")):
        frame[column] = frame.groupby("zone")[rank].rank(method="dense").astype(int)
    columns = ["zone", "part", "ring", "ring_kind", "seq", "easting", "northing"]
    return frame[columns].reset_index(drop=True)


def _numbers(xy: np.ndarray, previous: pd.DataFrame | None, within_m: float) -> np.ndarray:
    """Marker numbers for ``xy`` (numbering order), keeping the previous run's where they stayed."""
    fresh = np.arange(1, len(xy) + 1)
    if previous is None or previous.empty or not len(xy):
        return fresh
    old = previous[["y_vn2000", "x_vn2000"]].to_numpy(float)  # easting, northing
    # only the pairs within reach: a merged massif has tens of thousands of
    # markers, and all its pairs' distances would not fit in memory
    near, far = shapely.STRtree(shapely.points(old)).query(
        shapely.points(xy), predicate="dwithin", distance=within_m
    )
    dist = np.hypot(xy[near, 0] - old[far, 0], xy[near, 1] - old[far, 1])
    numbers = np.zeros(len(xy), dtype=int)
    taken: set[int] = set()
    previous_numbers = previous["number"].to_numpy()
    # closest pairs first (ties in numbering order), one-to-one
    for k in np.lexsort((far, near, dist)):
        i, j = int(near[k]), int(far[k])
        if dist[k] > within_m:
            break
        if numbers[i] or j in taken:
            continue
        numbers[i] = int(previous_numbers[j])
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
    return markers_table(
        np.array([unit_code], dtype=object),
        np.array([zone_class], dtype=object),
        np.array([geom], dtype=object),
        {(unit_code, zone_class): previous} if previous is not None else {},
        within_m,
    )


def markers_table(
    unit_codes: np.ndarray,
    zone_classes: np.ndarray,
    geoms: np.ndarray,
    previous: dict[tuple[str, str], pd.DataFrame],
    within_m: float,
) -> pd.DataFrame:
    """The numbered markers of many zones (aligned arrays) as one table (VN-2000 metres).

    ``previous``: the previous run's markers per ``(unit_code, zone_class)``;
    a marker within ``within_m`` of one of them keeps its number.
    """
    rows = _marker_rows(geoms)
    zone = rows.pop("zone").to_numpy()
    rows.insert(0, "zone_class", np.asarray(zone_classes, dtype=object)[zone])
    rows.insert(0, "unit_code", np.asarray(unit_codes, dtype=object)[zone])
    numbers = rows.groupby(zone).cumcount().to_numpy() + 1
    starts = np.flatnonzero(np.diff(zone, prepend=-1))
    ends = np.r_[starts[1:], len(zone)]
    xy = rows[["easting", "northing"]].to_numpy(float)
    for lo, hi in zip(starts, ends, strict=True):
        old = previous.get((rows.at[lo, "unit_code"], rows.at[lo, "zone_class"]))
        if old is not None and len(old):
            numbers[lo:hi] = _numbers(xy[lo:hi], old, within_m)
    rows["number"] = numbers
    rows["label"] = rows["zone_class"].astype(str) + "-" + rows["number"].astype(str)
    rows["x_vn2000"] = rows.pop("northing")
    rows["y_vn2000"] = rows.pop("easting")
    return rows


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


def _around(footprints: np.ndarray, core_legal: np.ndarray) -> np.ndarray:
    """What Zone II's markers enclose: the footprint and Zone I's marker polygon."""
    has_core = ~shapely.is_missing(core_legal)
    out = np.array(footprints, dtype=object, copy=True)
    out[has_core] = shapely.union(footprints[has_core], core_legal[has_core])
    return out


def _waves(crowded: np.ndarray, near_a: np.ndarray, near_b: np.ndarray) -> list[np.ndarray]:
    """The crowded units in waves: each after every lower-numbered neighbour's wave.

    Generalising a wave at a time, each unit keeping off its neighbours' current
    footprints, gives what generalising the units one by one in index order gives.
    """
    wave_of = np.zeros(len(crowded), dtype=np.intp)
    both = crowded[near_a] & crowded[near_b]
    low = np.minimum(near_a[both], near_b[both])
    high = np.maximum(near_a[both], near_b[both])
    for lo, hi in sorted(zip(low.tolist(), high.tolist(), strict=True), key=lambda p: p[1]):
        wave_of[hi] = max(wave_of[hi], wave_of[lo] + 1)
    members = np.flatnonzero(crowded)
    return [members[wave_of[members] == w] for w in np.unique(wave_of[members])]


def legal_boundaries(
    zones: gpd.GeoDataFrame,
    park: BaseGeometry,
    settings: Markers,
    *,
    previous_markers: pd.DataFrame | None = None,
    approved_zones: gpd.GeoDataFrame | None = None,
    approved_markers: pd.DataFrame | None = None,
    status: dict[str, str] | None = None,
    advance: Advance = no_advance,
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
    advance
        Told of the units generalised, as they are.

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
    units = np.array(sorted(set(zones["unit_code"])), dtype=object)
    position = pd.Index(units)
    by_class = {}
    for zone_class in ("I", "II"):
        rows = zones[zones["zone_class"] == zone_class]
        column = np.full(len(units), None, dtype=object)
        column[position.get_indexer(rows["unit_code"])] = rows.geometry.values
        by_class[zone_class] = column
    core, ring = by_class["I"], by_class["II"]
    has_core = ~(shapely.is_missing(core) | shapely.is_empty(core))
    has_ring = ~shapely.is_missing(ring)
    footprint = np.where(has_core & has_ring, threaded(shapely.union, core, ring), None)
    footprint = np.where(has_core & ~has_ring, core, footprint)
    footprint = np.where(~has_core & has_ring, ring, footprint)
    # What each unit occupies for its neighbours: its legal footprint once generalised (or
    # approved), its detailed one until then. Growing outward never enters it, so the
    # generalisation cannot make two units overlap.
    # Until generalised, a unit is its footprint and the 2 cm its own markers may take
    # (the 1 cm wider zone and the rounding): a neighbour keeps off all of it.
    taken = threaded(shapely.buffer, footprint, 2 * 10**-_DECIMALS, join_style="mitre")
    if approved_zones is not None:
        for unit, part in approved_zones.groupby("unit_code"):
            if unit in position:
                taken[position.get_loc(unit)] = shapely.union_all(part.geometry.values)
    grown = threaded(shapely.buffer, taken, settings.max_offset_m)
    reach = threaded(shapely.buffer, footprint, settings.max_offset_m + 1)
    near_a, near_b = shapely.STRtree(grown).query(reach, predicate="intersects")
    apart = near_a != near_b
    near_a, near_b = near_a[apart], near_b[apart]
    crowded = np.zeros(len(units), dtype=bool)
    crowded[near_a] = True
    # Rounding to the centimetre moves a marker up to 0.71 cm; the QA allows 1 cm outside.
    allowed = shapely.buffer(park, 0.0025)
    m = settings.max_offset_m

    # Units with no other unit within reach are generalised all at once; the few with
    # neighbours one after the other, each keeping off what its neighbours took.
    core_legal = np.full(len(units), None, dtype=object)
    outer_legal = np.full(len(units), None, dtype=object)
    zone_ii = np.full(len(units), None, dtype=object)
    approved = np.isin(units, list(approved_units))
    previous = (
        {}
        if previous_markers is None or previous_markers.empty
        else {k: g for k, g in previous_markers.groupby(keys, sort=False)}
    )
    tables: dict[tuple[str, str], pd.DataFrame] = {}

    def finish(idx: np.ndarray, job: str) -> None:
        """Zone I and II of units ``idx`` on the centimetre grid, and their markers."""
        # Overlays on the centimetre grid the markers are stated on: exact, so Zone II
        # neither overlaps Zone I nor leaves a sliver where both follow the park boundary.
        grid = 10**-_DECIMALS
        both = idx[~shapely.is_missing(core_legal[idx]) & ~shapely.is_missing(outer_legal[idx])]
        # Both zones come out of the same noding, so they share their common edge exactly.
        outer_legal[both] = threaded(
            shapely.union, outer_legal[both], core_legal[both], grid_size=grid
        )
        zone_ii[idx] = outer_legal[idx]
        zone_ii[both] = threaded(
            shapely.difference, outer_legal[both], core_legal[both], grid_size=grid
        )
        core_legal[both] = _polygonal(
            threaded(shapely.intersection, outer_legal[both], core_legal[both], grid_size=grid)
        )
        # Zone II's markers are those of the footprint's rings: its inner edge is Zone I's.
        for zone_class, polygons in (("I", core_legal), ("II", outer_legal)):
            marked = idx[~approved[idx] & ~shapely.is_missing(polygons[idx])]
            if len(marked):
                tables[(zone_class, job)] = markers_table(
                    units[marked],
                    np.full(len(marked), zone_class, dtype=object),
                    polygons[marked],
                    previous,
                    settings.keep_number_within_m,
                )

    def generalise_free(allowed: BaseGeometry) -> None:
        free = np.flatnonzero(~crowded)
        core_legal[free] = generalise_outward_many(
            np.where(has_core[free], core[free], None), m, allowed=allowed
        )
        around = _around(footprint[free], core_legal[free])
        outer_legal[free] = np.where(
            has_ring[free], generalise_outward_many(around, m, allowed=allowed), None
        )
        finish(free, "free")
        advance(len(free))

    def generalise_crowded(allowed: BaseGeometry) -> None:
        # In unit order, each sees the legal footprints of the neighbours before it and the
        # detailed ones of those after it; units of one wave have no neighbour in it, so a
        # wave at a time gives the same boundaries, with the threads of the batch.
        held = 0  # the last wave is counted once its markers are numbered too
        for wave in _waves(crowded, near_a, near_b):
            advance(held)
            forbidden = np.array(
                [shapely.union_all(taken[near_b[near_a == i]]) for i in wave], dtype=object
            )
            core_legal[wave] = generalise_outward_many(
                np.where(has_core[wave], core[wave], None),
                m,
                allowed=allowed,
                forbidden=forbidden,
            )
            around = _around(footprint[wave], core_legal[wave])
            outer_legal[wave] = np.where(
                has_ring[wave],
                generalise_outward_many(around, m, allowed=allowed, forbidden=forbidden),
                None,
            )
            for i in wave:
                if not approved[i]:
                    taken[i] = next(
                        g for g in (outer_legal[i], core_legal[i], footprint[i]) if g is not None
                    )
            held = len(wave)
        finish(np.flatnonzero(crowded), "crowded")
        advance(held)

    # The two read nothing the other writes (a free unit has no neighbour to keep off,
    # and its own footprint is all a crowded one sees of it), so they run side by side:
    # each is mostly a few massifs of tens of thousands of vertices, one GEOS call each.
    # Each has its own copy of the park, as a prepared geometry is not shared by threads.
    jobs = [generalise_crowded, generalise_free]
    map_threads(lambda job: job(own_geometries(allowed)), jobs)

    pending: dict[tuple[str, str], BaseGeometry] = {}
    for i in np.flatnonzero(approved):  # frozen: what this run would propose is only compared
        if core_legal[i] is not None:
            pending[(units[i], "I")] = core_legal[i]
        if outer_legal[i] is not None:
            pending[(units[i], "II")] = zone_ii[i]
    geoms: dict[tuple[str, str], BaseGeometry] = {}
    for zone_class, legal_of, marked_of in (
        ("I", core_legal, core_legal),
        ("II", zone_ii, outer_legal),
    ):
        for i in np.flatnonzero(~approved & ~shapely.is_missing(marked_of)):
            geoms[(units[i], zone_class)] = legal_of[i]
    marker_frames = [tables[key] for key in sorted(tables)]

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
