"""Zoning: Zone I (core) and Zone II (buffer) per geosite, clusters, and the
non-overlapping combined protection zones.

Rules (distances come from the configuration):

* Zone I of a geosite is grown by the distance set for its category from its
  base: for a geosite with an extent (polygons, lines, points), the extent, its
  register location and its survey points, each as it is; for a point-only
  geosite, the convex hull of its register location and survey points.
* Zone II surrounds Zone I by the distance set for its significance, and
  excludes Zone I.
* Geosites sharing a ``cluster_code``, and geosites whose zones touch (come
  within ``touch_distance_m``), form a cluster whose zones are dissolved.
* In ``protection_zones`` nothing overlaps: Zone I of any site wins over
  Zone II of any other.
* Every zone is clipped to the park extent; what was cut off is reported.

The geometry work is vectorised over arrays of geometries (shapely 2/GEOS);
grouping is done with pandas/geopandas, never a Python loop over features.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from pipeline.config import Zoning
from pipeline.geometry import areas_ha as _areas_ha
from pipeline.geometry import as_multipolygons as _as_multipolygons
from pipeline.geometry import attach_districts as _attach_districts
from pipeline.geometry import difference_local as _difference_local
from pipeline.geometry import district_pieces as _district_pieces
from pipeline.geometry import intersect_local as _intersect_local
from pipeline.parallel import map_threads, threaded
from pipeline.progress import Advance, Progress, counted, no_progress


@dataclass
class ZoningResult:
    """The zone layers, all in the working CRS."""

    zone_i: gpd.GeoDataFrame
    zone_ii: gpd.GeoDataFrame
    protection_zones: gpd.GeoDataFrame
    clusters: gpd.GeoDataFrame
    zone_district_areas: gpd.GeoDataFrame
    clipped: pd.DataFrame  # geosite_code, zone_class, clipped_area_m2, location
    geosite_clusters: pd.DataFrame  # geosite_code -> cluster_code / unit_code


#: Support directions of the octagon that rules out interior points (counter-clockwise).
_OCTAGON = ((1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1))


def _hull_candidates(
    x: np.ndarray, y: np.ndarray, starts: np.ndarray, counts: np.ndarray, margin: float = 1e-6
) -> np.ndarray:
    """Which points may be vertices of their group's convex hull (Akl–Toussaint).

    Points come sorted by group; ``starts``/``counts`` delimit the groups. The
    extreme points of each group in eight directions form an octagon inside
    its hull, and a point more than ``margin`` metres inside every edge of that
    octagon is strictly inside the hull: neither a vertex nor on an edge, so
    dropping it leaves GEOS the same hull. With tens of survey points per site
    most are dropped before any geometry is built.
    """
    corners = []
    for ux, uy in _OCTAGON:
        support = x * ux + y * uy
        best = np.repeat(np.maximum.reduceat(support, starts), counts)
        hit = np.flatnonzero(support == best)
        group_of_hit = np.searchsorted(starts, hit, side="right") - 1
        corners.append(hit[np.flatnonzero(np.diff(group_of_hit, prepend=-1))])
    inside = np.ones(len(x), dtype=bool)
    has_area = np.zeros(len(starts), dtype=bool)
    for a, b in zip(corners, corners[1:] + corners[:1], strict=True):
        ex, ey = x[b] - x[a], y[b] - y[a]
        length = np.hypot(ex, ey)
        edge = length > 0  # two directions can share a corner: no edge between them
        has_area |= edge
        # left of the edge by more than margin: ex·(y − ya) − ey·(x − xa) > margin·length
        offset = np.where(edge, ex * y[a] - ey * x[a] + margin * length, -np.inf)
        cross = np.repeat(np.where(edge, ex, 0.0), counts) * y
        cross -= np.repeat(np.where(edge, ey, 0.0), counts) * x
        inside &= cross > np.repeat(offset, counts)
    return ~(inside & np.repeat(has_area, counts))


def site_hulls(geosites: gpd.GeoDataFrame, survey_points: gpd.GeoDataFrame) -> np.ndarray:
    """Convex hull of each geosite's register point and survey points.

    Returns an array aligned with ``geosites`` rows.
    """
    codes = pd.concat([geosites["geosite_code"], survey_points["geosite_code"]], ignore_index=True)
    geoms = np.concatenate([geosites.geometry.values, survey_points.geometry.values])
    index = pd.Categorical(codes, categories=geosites["geosite_code"]).codes
    order = np.argsort(index, kind="stable")
    index = index[order]
    if (shapely.get_num_coordinates(geoms) == 1).all():
        # one coordinate per geometry: points only, none empty
        xy = shapely.get_coordinates(geoms)[order]
        starts = np.flatnonzero(np.diff(index, prepend=-1))
        counts = np.diff(np.append(starts, len(index)))
        keep = _hull_candidates(xy[:, 0].copy(), xy[:, 1].copy(), starts, counts)
        order, index = order[keep], index[keep]
    multipoints = shapely.multipoints(geoms[order], indices=index)
    return threaded(shapely.convex_hull, multipoints)


def site_bases(
    geosites: gpd.GeoDataFrame,
    survey_points: gpd.GeoDataFrame,
    extents: gpd.GeoDataFrame | None = None,
) -> np.ndarray:
    """What each geosite's zones are grown from, aligned with ``geosites`` rows.

    A geosite with an extent: a collection of its extent features, register
    location and survey points, each as it is, so that a winding cave line or
    a long section is buffered as what it is (the hull of points strung along
    it would cover the whole meander). A point-only geosite: the convex hull
    of its register location and survey points (:func:`site_hulls`).
    """
    bases = site_hulls(geosites, survey_points)
    if extents is None or not len(extents):
        return bases
    codes = geosites["geosite_code"].reset_index(drop=True)
    with_extent = codes[codes.isin(extents["geosite_code"])]
    points = survey_points.loc[survey_points["geosite_code"].isin(with_extent)]
    member_codes = pd.concat(
        [extents["geosite_code"], with_extent, points["geosite_code"]], ignore_index=True
    )
    geoms = np.concatenate(
        [
            extents.geometry.values,
            np.asarray(geosites.geometry.values)[with_extent.index],
            points.geometry.values,
        ]
    )
    index = pd.Categorical(member_codes, categories=with_extent).codes
    order = np.argsort(index, kind="stable")
    collections = shapely.geometrycollections(geoms[order], indices=index[order])
    bases[with_extent.index] = collections
    return bases


def build_site_zones(
    geosites: gpd.GeoDataFrame,
    survey_points: gpd.GeoDataFrame,
    zoning: Zoning,
    extents: gpd.GeoDataFrame | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Unclipped Zone I and the Zone II outer footprint for every geosite.

    ``extents`` (optional): the geosite extents (:mod:`pipeline.ingest.extents`),
    keyed by ``geosite_code``; see :func:`site_bases`.

    Returns
    -------
    (zone_i, outer)
        Arrays aligned with ``geosites``; Zone II is ``outer - zone_i``.
    """
    hulls = site_bases(geosites, survey_points, extents)
    d_core = geosites["category"].map(zoning.zone_i_distance_m).to_numpy(float)
    d_buffer = geosites["significance"].map(zoning.zone_ii_distance_m).to_numpy(float)
    zone_i = threaded(shapely.buffer, hulls, d_core, quad_segs=zoning.quad_segs)
    # Buffering the base once by the summed distance keeps the ring's outer edge
    # exactly parallel to the core instead of accumulating two approximations.
    outer = threaded(shapely.buffer, hulls, d_core + d_buffer, quad_segs=zoning.quad_segs)
    return zone_i, outer


def _touching_pairs(
    geoms: np.ndarray, anchors: np.ndarray, distance: float, linked: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of ``geoms`` within ``distance`` of each other, enough to connect them.

    Dense massifs give millions of candidate pairs whose exact distance test
    would dominate the zoning. Most are settled by arithmetic: a disc around
    each geometry's anchor point that lies inside the geometry (its radius is
    the anchor's distance to the boundary) proves that two geometries whose
    discs come within ``distance`` touch. Only the pairs left undecided that
    would join two groups not already joined (by proven pairs or ``linked``
    labels) get the exact GEOS test. The components of the result are those of
    the full ``dwithin`` graph.
    """
    n = len(geoms)
    x, y = shapely.get_x(anchors), shapely.get_y(anchors)
    inside = shapely.contains_xy(geoms, x, y)
    radius = np.where(inside, shapely.distance(anchors, shapely.boundary(geoms)), 0.0)
    radius = np.nan_to_num(radius)
    minx, miny, maxx, maxy = shapely.bounds(geoms).T
    half = distance / 2
    boxes = shapely.box(minx - half, miny - half, maxx + half, maxy + half)
    left, right = shapely.STRtree(boxes).query(boxes)
    keep = left < right
    left, right = left[keep], right[keep]
    gap = np.hypot(x[left] - x[right], y[left] - y[right]) - radius[left] - radius[right]
    proven = gap + 1e-6 < distance  # margin for rounding in the anchor distances
    proven &= inside[left] & inside[right]
    labels = _components(
        n, np.concatenate([left[proven], linked[0]]), np.concatenate([right[proven], linked[1]])
    )
    open_ = ~proven & (labels[left] != labels[right])
    a, b = left[open_], right[open_]
    touch = shapely.dwithin(geoms[a], geoms[b], distance)
    return (
        np.concatenate([left[proven], a[touch]]),
        np.concatenate([right[proven], b[touch]]),
    )


def _components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected-component label of each of ``n`` nodes joined by the given edges."""
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def assign_clusters(
    geosites: gpd.GeoDataFrame, outer: np.ndarray, zoning: Zoning, anchors: np.ndarray | None = None
) -> pd.DataFrame:
    """Group geosites into clusters: shared code, or zones that touch.

    ``anchors`` are points inside the zones that speed up the touch test
    (default: the geosites' register locations); they never change the result.

    Returns
    -------
    DataFrame
        ``geosite_code``, ``cluster_code`` (None for a lone geosite) and
        ``unit_code`` (the cluster code, or the geosite code of a lone site).
    """
    n = len(geosites)
    declared = geosites["cluster_code"].astype("string").fillna("").to_numpy()
    linked = (np.empty(0, dtype=int), np.empty(0, dtype=int))
    if zoning.clusters.by_code:
        group = pd.Series(np.arange(n)).groupby(declared).transform("first").to_numpy()
        has_code = declared != ""
        linked = (np.arange(n)[has_code], group[has_code])
    if anchors is None:
        anchors = np.asarray(geosites.geometry.values)
    # Within 0 m is "intersects": touching zones always join.
    left, right = _touching_pairs(outer, anchors, zoning.clusters.touch_distance_m, linked)
    labels = _components(n, np.concatenate([left, linked[0]]), np.concatenate([right, linked[1]]))
    frame = pd.DataFrame(
        {
            "geosite_code": geosites["geosite_code"].to_numpy(),
            "label": labels,
            "declared": declared,
        }
    )
    codes = frame.groupby("label")["declared"].agg(lambda s: "+".join(sorted({c for c in s if c})))
    sizes = frame.groupby("label").size()
    first = frame.groupby("label")["geosite_code"].min()
    generated = zoning.clusters.generated_prefix + first
    cluster = codes.where(codes != "", generated.where(sizes > 1))
    mapped = frame["label"].map(cluster)
    frame["unit_code"] = mapped.fillna(frame["geosite_code"])
    frame["cluster_code"] = mapped.astype(object).where(mapped.notna(), None)
    return frame[["geosite_code", "cluster_code", "unit_code"]]


def dissolve(geoms: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Union of ``geoms`` per group (``group`` numbers 0..n_groups-1).

    Only geometries whose bounding box meets another of their group go through
    an overlay: they are unioned per connected set, in parallel threads (GEOS
    releases the GIL); the rest are collected as they are. Polygonal parts
    only, as MultiPolygons. Same result as one ``union_all`` per group, at a
    fraction of the cost when many pieces stand apart.
    """
    geoms = np.asarray(geoms, dtype=object)
    left, right = shapely.STRtree(geoms).query(geoms)
    same = (group[left] == group[right]) & (left != right)
    labels = _components(len(geoms), left[same], right[same])
    sizes = np.bincount(labels)
    merged = sizes[labels] > 1
    order = np.argsort(labels[merged], kind="stable")
    members = np.flatnonzero(merged)[order]
    starts = np.flatnonzero(np.diff(labels[members], prepend=-1))
    batches = np.split(members, starts[1:]) if len(members) else []
    unions = map_threads(lambda idx: shapely.union_all(geoms[idx]), batches)
    pieces = np.concatenate([geoms[~merged], np.array(unions, dtype=object)])
    piece_group = np.concatenate(
        [group[~merged], np.array([group[idx[0]] for idx in batches], dtype=int)]
    )
    parts, index = shapely.get_parts(pieces, return_index=True)
    polygonal = shapely.get_type_id(parts) == 3
    parts, parts_group = parts[polygonal], piece_group[index[polygonal]]
    order = np.argsort(parts_group, kind="stable")
    out = np.array([shapely.MultiPolygon()] * n_groups, dtype=object)
    present = np.unique(parts_group)
    if len(parts):
        collected = shapely.multipolygons(
            parts[order], indices=np.searchsorted(present, parts_group[order])
        )
        out[present] = collected
    # A group of one geometry is written as one union_all of it would write it
    # (GEOS's vertex order), so a lone site's zone keeps the shape it always had.
    single = np.flatnonzero(np.bincount(group, minlength=n_groups) == 1)
    if len(single):
        first = np.full(n_groups, -1)
        first[group[::-1]] = np.arange(len(group))[::-1]
        out[single] = shapely.union_all(geoms[first[single]][:, np.newaxis], axis=1)
    return out


def _clip(geoms: np.ndarray, mask: shapely.Geometry) -> np.ndarray:
    """Intersect with ``mask``, running the overlay only where a geometry crosses it.

    ``mask`` must be prepared. Most zones lie well inside the park or a
    district; a prepared ``contains`` settles those without an overlay
    against a boundary of thousands of vertices.
    """
    inside = shapely.contains(mask, geoms)  # prepared geometries are not shared by threads
    out = np.array(geoms, dtype=object, copy=True)
    crossing = ~inside
    if crossing.any():
        out[crossing] = _intersect_local(geoms[crossing], np.full(crossing.sum(), mask))
    return out


def _rings(core: np.ndarray, outer: np.ndarray) -> np.ndarray:
    """``outer - core`` per site.

    Where the core lies strictly inside a hole-free outer polygon (an
    unclipped site), the difference is the outer shell with the core's shell
    as a hole: built directly, without an overlay.
    """
    simple = (
        (shapely.get_type_id(core) == 3)
        & (shapely.get_type_id(outer) == 3)
        & (shapely.get_num_interior_rings(core) == 0)
        & (shapely.get_num_interior_rings(outer) == 0)
        & ~shapely.is_empty(core)
    )
    simple[simple] = threaded(shapely.contains_properly, outer[simple], core[simple])
    rings = np.empty(len(core), dtype=object)
    rings[simple] = shapely.polygons(
        shapely.get_exterior_ring(outer[simple]),
        holes=shapely.get_exterior_ring(core[simple])[:, np.newaxis],
    )
    rings[~simple] = threaded(shapely.difference, outer[~simple], core[~simple])
    return rings


def _clipped_report(
    sites: gpd.GeoDataFrame,
    core_raw: np.ndarray,
    core: np.ndarray,
    outer_raw: np.ndarray,
    outer: np.ndarray,
    park: shapely.Geometry,
    min_area_m2: float,
) -> pd.DataFrame:
    """What clipping to the park removed, per geosite and zone class.

    Only sites whose zones were cut are measured (clipping returns the very
    same geometry object for the others).
    """
    is_not = np.frompyfunc(operator.is_not, 2, 1)
    cut = (is_not(core_raw, core) | is_not(outer_raw, outer)).astype(bool)
    sites, core_raw, core = sites.loc[cut], core_raw[cut], core[cut]
    outer_raw, outer = outer_raw[cut], outer[cut]
    ring_raw = threaded(shapely.difference, outer_raw, core_raw)
    removed = np.column_stack(
        [
            shapely.area(core_raw) - shapely.area(core),
            shapely.area(outer_raw)
            - shapely.area(outer)
            - (shapely.area(core_raw) - shapely.area(core)),
        ]
    )
    frame = pd.DataFrame(
        {
            "geosite_code": np.repeat(sites["geosite_code"].to_numpy(), 2),
            "zone_class": np.tile(["I", "II"], len(sites)),
            "clipped_area_m2": removed.ravel(),
            "source": np.column_stack([core_raw, ring_raw]).ravel(),
        }
    )
    frame = frame.loc[frame["clipped_area_m2"] > min_area_m2].reset_index(drop=True)
    frame["location"] = (
        shapely.point_on_surface(_difference_local(frame["source"].to_numpy(), park))
        if len(frame)
        else []
    )
    return frame.drop(columns="source")


def unit_layers(
    protection: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, min_area_m2: float
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The layers that follow from the final protection zones.

    Called by :func:`zone` on the proposal, and again once the zones are
    final (adjusted, generalised to boundary markers), so districts and areas
    always describe the published geometry.

    Returns
    -------
    (protection_zones, zone_district_areas, clusters)
        ``protection`` with ``district_codes``/``district_names`` (replaced),
        each zone cut by district with its area, and the cluster zones.
    """
    crs = protection.crs
    keys = ["unit_code", "zone_class"]
    protection = protection.drop(columns=["district_codes", "district_names"], errors="ignore")
    pieces = _district_pieces(protection, districts, keys, min_area_m2)
    protection = _attach_districts(protection, pieces, keys)
    zone_district_areas = pieces.merge(
        protection[["unit_code", "zone_class", "cluster_code", "geosite_code"]], on=keys
    )
    zone_district_areas = gpd.GeoDataFrame(
        zone_district_areas[
            [
                "unit_code",
                "cluster_code",
                "geosite_code",
                "zone_class",
                "district_code",
                "district_name",
                "area_ha",
                "geometry",
            ]
        ]
        .sort_values(["unit_code", "zone_class", "district_code"])
        .reset_index(drop=True),
        geometry="geometry",
        crs=crs,
    )
    clusters = protection.loc[protection["cluster_code"].notna()].drop(columns="geosite_code")
    clusters = gpd.GeoDataFrame(clusters.reset_index(drop=True), geometry="geometry", crs=crs)
    return protection, zone_district_areas, clusters


#: sites, clusters, units, district split of the units, district split of the sites
ZONING_STEPS = 5


def zone(
    geosites: gpd.GeoDataFrame,
    survey_points: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    park_extent: gpd.GeoDataFrame,
    zoning: Zoning,
    *,
    min_area_m2: float = 1.0,
    extents: gpd.GeoDataFrame | None = None,
    progress: Progress = no_progress,
) -> ZoningResult:
    """Run the zoning stage.

    Parameters
    ----------
    geosites, survey_points, districts, park_extent
        Ingested layers in the working (metric) CRS.
    zoning
        Distances and the cluster rule.
    min_area_m2
        Zone pieces smaller than this (clipping or overlay noise) are dropped.
    extents
        Optional geosite extents in the working CRS (``geosite_code`` and a
        polygon, line or point geometry per feature): Zone I covers them.
    progress
        Reporter; the zoning counts its steps (sites, clusters, units, districts).

    Returns
    -------
    ZoningResult
    """
    with counted(
        progress, "Khoanh vùng bảo vệ (vùng I, vùng II, cụm)", "Zoning", ZONING_STEPS, "bước/steps"
    ) as advance:
        return _zone(
            geosites, survey_points, districts, park_extent, zoning, min_area_m2, extents, advance
        )


def _zone(
    geosites: gpd.GeoDataFrame,
    survey_points: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    park_extent: gpd.GeoDataFrame,
    zoning: Zoning,
    min_area_m2: float,
    extents: gpd.GeoDataFrame | None,
    advance: Advance,
) -> ZoningResult:
    """:func:`zone`'s work, telling ``advance`` as each of its steps ends."""
    crs = geosites.crs
    sites = geosites.sort_values("geosite_code").reset_index(drop=True)
    park = shapely.union_all(park_extent.geometry.values)
    shapely.prepare(park)

    core_raw, outer_raw = build_site_zones(sites, survey_points, zoning, extents)
    core = _clip(core_raw, park)
    outer = _clip(outer_raw, park)
    ring = _rings(core, outer)
    clipped = _clipped_report(sites, core_raw, core, outer_raw, outer, park, min_area_m2)
    advance(1)

    membership = assign_clusters(sites, outer, zoning)
    advance(1)
    base = sites[["geosite_code", "name_vi", "name_en", "category", "significance"]].merge(
        membership, on="geosite_code"
    )

    def site_layer(geoms: np.ndarray, zone_class: str) -> gpd.GeoDataFrame:
        g = _as_multipolygons(geoms)
        frame = base.assign(zone_class=zone_class, area_ha=_areas_ha(g))
        return gpd.GeoDataFrame(frame, geometry=g, crs=crs)

    # Combined layer: dissolve per zoning unit (a cluster, or a lone geosite);
    # Zone II is what remains of the unit's footprint once its Zone I is removed.
    # Other units' cores cannot reach it: units whose footprints meet are one
    # cluster by construction.
    units = (
        base.groupby("unit_code", sort=True)
        .agg(
            cluster_code=("cluster_code", "first"),
            geosite_codes=("geosite_code", lambda s: ";".join(sorted(s))),
            n_geosites=("geosite_code", "size"),
        )
        .reset_index()
    )
    unit_of_site = pd.Categorical(base["unit_code"], categories=units["unit_code"]).codes.astype(
        np.intp
    )
    unit_core = dissolve(core, unit_of_site, len(units))
    unit_ring = threaded(shapely.difference, dissolve(outer, unit_of_site, len(units)), unit_core)
    # a million survey points make tens of thousands of large polygons: each array is
    # let go once its layer holds its MultiPolygon copies (peak memory, not speed)
    del outer, core_raw, outer_raw
    zone_i = site_layer(core, "I")
    del core
    zone_ii = site_layer(ring, "II")
    del ring
    advance(1)
    lone = units["n_geosites"].eq(1) & units["cluster_code"].isna()
    units["geosite_code"] = units["geosite_codes"].where(lone, None)

    def unit_layer(geoms: np.ndarray, zone_class: str) -> gpd.GeoDataFrame:
        g = _as_multipolygons(geoms)
        frame = units.assign(zone_class=zone_class, area_ha=_areas_ha(g))
        return gpd.GeoDataFrame(frame, geometry=g, crs=crs)

    protection = pd.concat(
        [unit_layer(unit_core, "I"), unit_layer(unit_ring, "II")], ignore_index=True
    )
    protection = protection.loc[shapely.area(protection.geometry.values) >= min_area_m2]
    protection = protection.sort_values(["unit_code", "zone_class"]).reset_index(drop=True)
    protection = gpd.GeoDataFrame(protection, geometry="geometry", crs=crs)
    cols = [
        "unit_code",
        "cluster_code",
        "geosite_code",
        "geosite_codes",
        "n_geosites",
        "zone_class",
        "area_ha",
    ]
    protection = protection[[*cols, "geometry"]]

    advance(1)
    protection, zone_district_areas, clusters = unit_layers(protection, districts, min_area_m2)

    site_keys = ["geosite_code", "zone_class"]
    zone_i = _attach_districts(
        zone_i, _district_pieces(zone_i, districts, site_keys, min_area_m2), site_keys
    )
    zone_ii = _attach_districts(
        zone_ii, _district_pieces(zone_ii, districts, site_keys, min_area_m2), site_keys
    )
    advance(1)
    return ZoningResult(
        zone_i=zone_i,
        zone_ii=zone_ii,
        protection_zones=protection,
        clusters=clusters,
        zone_district_areas=zone_district_areas,
        clipped=clipped,
        geosite_clusters=membership,
    )
