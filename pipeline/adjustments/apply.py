"""Applying the adjustments: they replace the proposals in the zoning result,
and everything derived from them (areas, district pieces, clusters) is
recomputed."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipeline.adjustments.layer import (
    KEYS,
    Adjustments,
    geometry_sha256,
    proposals,
    usable_geometry,
)
from pipeline.geometry import areas_ha, as_multipolygons, attach_districts, district_pieces
from pipeline.zoning import ZoningResult


@dataclass
class Applied:
    """What applying the adjustments did: one row per adjustment (see :func:`apply_adjustments`)."""

    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    footprints: dict[str, shapely.Geometry] = field(default_factory=dict)  # unit -> final footprint


# --------------------------------------------------------------------------- applying


def _stale(row: pd.Series, proposal: shapely.Geometry, stored: dict) -> dict:
    """Whether the proposal changed since the adjustment was copied, by how much, and where."""
    recorded = row.get("proposal_sha256")
    now_hash = geometry_sha256(proposal)
    now_ha = float(shapely.area(proposal)) / 1e4
    before = stored.get((row["unit_code"], row["zone_class"]))
    if recorded is None or pd.isna(recorded):
        return {"review": "no_proposal", "proposal_area_ha": now_ha}
    if recorded == now_hash:
        return {"review": None, "proposal_area_ha": now_ha}
    was_ha = row.get("proposal_area_ha")
    was_ha = float(shapely.area(before)) / 1e4 if pd.isna(was_ha) and before is not None else was_ha
    out = {
        "review": "proposal_changed",
        "proposal_area_ha": now_ha,
        "previous_area_ha": None if pd.isna(was_ha) else float(was_ha),
        "location": shapely.point_on_surface(row.geometry),
        "changed_area_ha": None,
    }
    if before is not None and not shapely.is_empty(before):
        changed = shapely.symmetric_difference(usable_geometry(before), proposal)
        out["changed_area_ha"] = float(shapely.area(changed)) / 1e4
        if not shapely.is_empty(changed):
            out["location"] = shapely.point_on_surface(changed)
    return out


def _unit_rows(
    protection: gpd.GeoDataFrame, unit: str, core: shapely.Geometry, footprint: shapely.Geometry
) -> gpd.GeoDataFrame:
    """The unit's two rows of ``protection_zones`` with their final geometries."""
    rows = protection.loc[protection["unit_code"] == unit]
    template = rows.iloc[[0]].drop(columns=["district_codes", "district_names"], errors="ignore")
    ring = shapely.difference(footprint, core)
    geoms = as_multipolygons(np.array([core, ring], dtype=object))
    frame = pd.concat([template, template], ignore_index=True)
    frame["zone_class"] = ["I", "II"]
    frame["area_ha"] = areas_ha(geoms)
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=protection.crs)


def apply_adjustments(
    zones: ZoningResult,
    adjustments: Adjustments | None,
    districts: gpd.GeoDataFrame,
    *,
    min_area_m2: float = 1.0,
) -> tuple[ZoningResult, Applied]:
    """Replace the proposals by the adjusted boundaries, and everything derived.

    For each unit with an adjustment: Zone I is the adjusted core (else the
    proposed one), the footprint is the adjusted Zone II footprint (else the
    proposed one), Zone II is the footprint minus Zone I. Their areas, district
    pieces (``zone_district_areas``, ``district_codes``/``district_names``) and
    the ``clusters`` layer follow; ``protection_zones.status`` says
    ``adjusted``. An adjustment whose unit the zoning no longer produces is kept
    aside (``unit_missing``) and reported by the checks.

    Returns
    -------
    (zones, applied)
        The zoning with the adjustments in, and one row per adjustment:
        ``fid``, ``unit_code``, ``zone_class``, ``author``, ``adjusted_on``,
        ``reason``, ``applied`` (bool), ``review`` (None, ``proposal_changed``
        or ``no_proposal``), ``proposal_area_ha`` (now), ``previous_area_ha``,
        ``changed_area_ha`` and ``location`` (where the proposal changed),
        ``adjusted_area_ha`` and ``geometry`` (as drawn).
    """
    protection = zones.protection_zones.copy()
    protection["status"] = "proposed"
    proposed = replace(
        zones, protection_zones=protection, clusters=zones.clusters.assign(status="proposed")
    )
    if adjustments is None or not len(adjustments.features):
        return proposed, Applied()
    current = proposals(zones).set_index(KEYS).geometry
    stored = {
        (r.unit_code, r.zone_class): r.geometry
        for r in adjustments.proposals.itertuples()
        if r.geometry is not None
    }
    records = []
    by_unit: dict[str, dict[str, shapely.Geometry]] = {}
    for _, row in adjustments.features.iterrows():
        key = (row["unit_code"], row["zone_class"])
        record = {
            "fid": row["fid"],
            **{k: row[k] for k in (*KEYS, "author", "adjusted_on", "reason")},
            "adjusted_area_ha": float(shapely.area(row.geometry)) / 1e4,
            "geometry": row.geometry,
            "applied": key in current.index,
        }
        if record["applied"]:
            record.update(_stale(row, current.loc[key], stored))
            by_unit.setdefault(row["unit_code"], {})[row["zone_class"]] = usable_geometry(
                row.geometry
            )
        records.append(record)
    table = pd.DataFrame(records)
    if not by_unit:
        return proposed, Applied(table)

    footprints = {}
    replaced = []
    for unit, drawn in by_unit.items():
        core = drawn.get("I", current.loc[(unit, "I")])
        footprint = drawn.get("II", current.loc[(unit, "II")])
        footprints[unit] = footprint
        replaced.append(_unit_rows(protection, unit, core, footprint))
    new_rows = pd.concat(replaced, ignore_index=True)
    new_rows["status"] = "adjusted"
    keys = ["unit_code", "zone_class"]
    pieces = district_pieces(new_rows, districts, keys, min_area_m2)
    new_rows = attach_districts(new_rows, pieces, keys)
    keep = ~protection["unit_code"].isin(by_unit)
    protection = pd.concat([protection.loc[keep], new_rows[protection.columns]], ignore_index=True)
    protection = protection.loc[
        shapely.area(protection.geometry.values) >= min_area_m2
    ].sort_values(keys)
    protection = gpd.GeoDataFrame(protection.reset_index(drop=True), geometry="geometry")

    zda = zones.zone_district_areas
    lookup = new_rows[["unit_code", "zone_class", "cluster_code", "geosite_code"]]
    new_pieces = pieces.merge(lookup, on=keys)[zda.columns]
    zda = pd.concat([zda.loc[~zda["unit_code"].isin(by_unit)], new_pieces], ignore_index=True)
    zda = gpd.GeoDataFrame(
        zda.sort_values([*keys, "district_code"]).reset_index(drop=True),
        geometry="geometry",
        crs=zones.zone_district_areas.crs,
    )
    clusters = protection.loc[protection["cluster_code"].notna()].drop(columns="geosite_code")
    clusters = gpd.GeoDataFrame(clusters.reset_index(drop=True), geometry="geometry")
    result = replace(zones, protection_zones=protection, zone_district_areas=zda, clusters=clusters)
    return result, Applied(table, footprints)
