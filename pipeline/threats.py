"""What threatens each geosite: conflicts between threat layers and the zones,
and the distance criteria of Brilha's degradation risk computed from data.

Threat layers are inputs like any other (``[[inputs.threats]]``): quarry and
mining licences, roads, hydropower and reservoirs, construction and land-use
plans, tourism works, landslide or collapse zones. Each layer declares its
``kind``; each feature may carry a ``status`` (existing, licensed, planned), a
name, an owner and a date.

Two stages, both plain functions of layers and settings:

* :func:`find_conflicts` — for every protection unit, the threat features
  inside its Zone I (an activity inside strict protection: a QA error), inside
  its Zone II (a warning), or within ``near_distance_m`` outside it (for the
  record), with the overlapping area (polygons) or length (lines), the
  shortest distance to the unit's geosites, and the feature's kind, status
  and name.
* :func:`computed_degradation_criteria` — the two criteria of Brilha's (2016)
  degradation risk that are about distances: *proximity to areas/activities
  with potential to cause degradation* and *accessibility*, scored 0–4 with
  Brilha's class limits (set in ``[threats.brilha]``), beside the hand-entered
  score and flagged where they disagree.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipeline.config import BrilhaDistances, ThreatSeverity

RELATION_VI: dict[str, str] = {
    "inside_zone_i": "trong vùng I",
    "inside_zone_ii": "trong vùng II",
    "near": "gần vùng bảo vệ",
}

#: What a conflict row says of its threat feature (the ingested layer's columns).
FEATURE_COLUMNS = [
    "threat_id",
    "threat_layer",
    "kind",
    "status",
    "name",
    "owner",
    "threat_date",
    "illustrative",
]
CONFLICT_COLUMNS = [
    "unit_code",
    "zone_class",
    "relation",
    "severity",
    *FEATURE_COLUMNS,
    "geosite_codes",
    "overlap_area_ha",
    "overlap_length_m",
    "distance_m",
]


def _lengths(geoms: np.ndarray) -> np.ndarray:
    return np.where(shapely.get_dimensions(geoms) == 1, shapely.length(geoms), 0.0)


def _areas(geoms: np.ndarray) -> np.ndarray:
    return np.where(shapely.get_dimensions(geoms) == 2, shapely.area(geoms), 0.0)


def find_conflicts(
    threats: gpd.GeoDataFrame,
    protection_zones: gpd.GeoDataFrame,
    geosites: gpd.GeoDataFrame,
    near_distance_m: float,
    severity: ThreatSeverity,
) -> gpd.GeoDataFrame:
    """Threat features inside or near each protection unit.

    Parameters
    ----------
    threats
        Ingested threat features (working CRS) with ``threat_id``,
        ``threat_layer``, ``kind``, ``status``, ``name``, ``owner``,
        ``threat_date``.
    protection_zones
        One row per ``unit_code`` and ``zone_class`` (the non-overlapping zones).
    geosites
        The geosites with ``geosite_code`` and ``unit_code`` (register location).
    near_distance_m
        Features within this distance outside a unit's footprint are listed.
    severity
        The QA severity by relation and status (``[threats.severity]``).

    Returns
    -------
    GeoDataFrame
        One row per unit, relation and threat feature (a feature crossing
        Zone I and Zone II gives one row for each), located at a point of the
        overlap (inside) or at the feature's point nearest the unit (near).
    """
    crs = protection_zones.crs
    empty = gpd.GeoDataFrame(columns=CONFLICT_COLUMNS, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    if threats.empty or protection_zones.empty:
        return empty
    threat_geoms = threats.geometry.values
    zones = protection_zones.reset_index(drop=True)
    zone_geoms = zones.geometry.values

    # Inside: threat features intersecting each zone piece.
    z, t = shapely.STRtree(threat_geoms).query(zone_geoms, predicate="intersects")
    overlap = shapely.intersection(threat_geoms[t], zone_geoms[z])
    inside = pd.DataFrame(
        {
            "unit_code": zones["unit_code"].to_numpy()[z],
            "zone_class": zones["zone_class"].to_numpy()[z],
            "relation": np.where(
                zones["zone_class"].to_numpy()[z] == "I", "inside_zone_i", "inside_zone_ii"
            ),
            "threat": t,
            "overlap_area_ha": np.round(_areas(overlap) / 1e4, 4),
            "overlap_length_m": np.round(_lengths(overlap), 1),
            "location": shapely.point_on_surface(overlap),
        }
    )

    # Near: features within the distance of a unit's footprint but not touching it.
    footprints = zones.dissolve("unit_code", sort=True)
    unit_codes = footprints.index.to_numpy()
    foot_geoms = footprints.geometry.values
    u, t2 = shapely.STRtree(threat_geoms).query(
        foot_geoms, predicate="dwithin", distance=near_distance_m
    )
    touching = shapely.intersects(foot_geoms[u], threat_geoms[t2])
    u, t2 = u[~touching], t2[~touching]
    nearest = shapely.shortest_line(threat_geoms[t2], foot_geoms[u])
    near = pd.DataFrame(
        {
            "unit_code": unit_codes[u],
            "zone_class": None,
            "relation": "near",
            "threat": t2,
            "overlap_area_ha": 0.0,
            "overlap_length_m": 0.0,
            "location": shapely.get_point(nearest, 0),
        }
    )
    frame = pd.concat([inside, near], ignore_index=True)
    if frame.empty:
        return empty

    # Shortest distance from each conflict's feature to the unit's geosites.
    sites = geosites[["geosite_code", "unit_code", "geometry"]]
    pairs = frame[["unit_code", "threat"]].reset_index().merge(sites, on="unit_code")
    pairs["distance_m"] = shapely.distance(
        threat_geoms[pairs["threat"].to_numpy()], pairs["geometry"].values
    )
    per_conflict = pairs.groupby("index").agg(
        distance_m=("distance_m", "min"),
        geosite_codes=("geosite_code", lambda s: ";".join(sorted(s))),
    )
    frame = frame.join(per_conflict)
    frame["distance_m"] = frame["distance_m"].round(1)
    feature = threats.reset_index(drop=True)
    for column in FEATURE_COLUMNS:
        frame[column] = feature[column].to_numpy()[frame["threat"].to_numpy()]
    planned = frame["status"].fillna("").eq("planned")
    frame["severity"] = np.select(
        [
            frame["relation"].eq("inside_zone_i") & ~planned,
            frame["relation"].eq("inside_zone_i"),
            frame["relation"].eq("inside_zone_ii"),
        ],
        [severity.zone_i_existing, severity.zone_i_planned, severity.zone_ii],
        default=severity.near,
    )
    order = {"inside_zone_i": 0, "inside_zone_ii": 1, "near": 2}
    frame = frame.assign(_order=frame["relation"].map(order)).sort_values(
        ["unit_code", "_order", "threat_id"], kind="stable"
    )
    out = gpd.GeoDataFrame(
        frame[CONFLICT_COLUMNS].reset_index(drop=True),
        geometry=gpd.GeoSeries(frame["location"].to_numpy(), crs=crs),
        crs=crs,
    )
    return out


def _nearest_distance(targets: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Distance from each target to the nearest of ``features`` (inf when none)."""
    if len(features) == 0 or len(targets) == 0:
        return np.full(len(targets), np.inf)
    t, f = shapely.STRtree(features).query_nearest(targets, all_matches=False)
    out = np.full(len(targets), np.inf)
    out[t] = shapely.distance(targets[t], features[f])
    return out


def proximity_score(distance_m: np.ndarray, limits: BrilhaDistances) -> np.ndarray:
    """Brilha's proximity to degrading activities: 4 … 1 below each limit, else 0."""
    bins = np.asarray(limits.proximity_m)
    # number of limits the distance is below, i.e. 4 when < 50 m, 0 when ≥ 1 km
    return (distance_m[:, None] < bins[None, :]).sum(axis=1)


def accessibility_score(
    paved_bus: np.ndarray,
    paved: np.ndarray,
    gravel: np.ndarray,
    any_road: np.ndarray,
    limits: BrilhaDistances,
) -> np.ndarray:
    """Brilha's accessibility (degradation risk): the highest indicator that applies."""
    return np.select(
        [
            paved_bus < limits.paved_bus_m,
            paved < limits.paved_m,
            gravel < limits.gravel_m,
            any_road < limits.any_road_m,
        ],
        [4, 3, 2, 1],
        default=0,
    )


def computed_degradation_criteria(
    site_geoms: gpd.GeoDataFrame,
    threats: gpd.GeoDataFrame,
    degrading_kinds: Sequence[str],
    road_kinds: Sequence[str],
    limits: BrilhaDistances,
    hand_scores: pd.DataFrame | None = None,
    disagreement_points: int = 1,
    complete_kinds: Sequence[str] = (),
) -> pd.DataFrame:
    """The distance criteria of Brilha's degradation risk, computed per geosite.

    Parameters
    ----------
    site_geoms
        One row per ``geosite_code``: what the geosite is on the ground (its
        register location, or its extent when it has one).
    threats
        Threat features with ``kind``, ``status``, ``threat_layer`` and, for
        roads, ``surface`` (``paved``/``gravel``/``track``) and ``bus_parking``.
        Every status counts for proximity (a planned quarry is a latent
        threat); only existing roads give access.
    degrading_kinds, road_kinds
        Which threat kinds count as activities that may cause degradation, and
        which are roads.
    hand_scores
        ``geosite_assessment_criteria`` (``geosite_code``, ``criterion``,
        ``score``) when an assessment was given.
    disagreement_points
        A computed score differing from the hand-entered one by at least this
        is flagged.
    complete_kinds
        Kinds whose layers hold every feature in and around the park. Both
        criteria grow with the features present, so a score computed from an
        incomplete layer is a lower bound: it is flagged only when it exceeds
        the hand-entered score; from complete layers, any difference is.

    Returns
    -------
    DataFrame
        ``geosite_code``, ``criterion``, ``computed_score``, ``hand_score``,
        ``distance_m``, ``source_layers``, ``complete`` (computed from complete
        layers, else a lower bound), ``disagrees``. A criterion whose
        layers are missing (no degrading or no road layer) is not computed.
    """
    targets = site_geoms.geometry.values
    codes = site_geoms["geosite_code"].to_numpy()
    rows = []
    kind = threats["kind"].to_numpy() if len(threats) else np.array([], dtype=object)
    geoms = threats.geometry.values if len(threats) else np.array([], dtype=object)

    degrading = np.isin(kind, list(degrading_kinds))
    if degrading.any():
        distance = _nearest_distance(targets, geoms[degrading])
        layers = ";".join(sorted(set(threats.loc[degrading, "threat_layer"])))
        rows.append(
            pd.DataFrame(
                {
                    "geosite_code": codes,
                    "criterion": "dr_proximity_to_degrading_activities",
                    "computed_score": proximity_score(distance, limits),
                    "distance_m": distance,
                    "source_layers": layers,
                    "complete": set(degrading_kinds) <= set(complete_kinds),
                }
            )
        )

    status = threats["status"].fillna("existing").to_numpy() if len(threats) else kind
    roads = np.isin(kind, list(road_kinds)) & (status == "existing")
    if roads.any():
        road = threats.loc[roads]
        surface = road.get("surface", pd.Series(index=road.index, dtype=object)).fillna("")
        bus = road.get("bus_parking", pd.Series(index=road.index, dtype=object)).fillna(False)
        road_geoms = road.geometry.values
        paved = (surface == "paved").to_numpy()
        gravel = (surface == "gravel").to_numpy()
        bus = bus.astype(bool).to_numpy()
        distance_any = _nearest_distance(targets, road_geoms)
        score = accessibility_score(
            _nearest_distance(targets, road_geoms[paved & bus]),
            _nearest_distance(targets, road_geoms[paved]),
            _nearest_distance(targets, road_geoms[gravel]),
            distance_any,
            limits,
        )
        rows.append(
            pd.DataFrame(
                {
                    "geosite_code": codes,
                    "criterion": "dr_accessibility",
                    "computed_score": score,
                    "distance_m": distance_any,
                    "source_layers": ";".join(sorted(set(road["threat_layer"]))),
                    "complete": set(road_kinds) <= set(complete_kinds),
                }
            )
        )
    columns = [
        "geosite_code",
        "criterion",
        "computed_score",
        "hand_score",
        "distance_m",
        "source_layers",
        "complete",
        "disagrees",
    ]
    if not rows:
        return pd.DataFrame(columns=columns)
    out = pd.concat(rows, ignore_index=True)
    out["distance_m"] = out["distance_m"].where(np.isfinite(out["distance_m"])).round(1)
    if hand_scores is not None and len(hand_scores):
        hand = hand_scores[["geosite_code", "criterion", "score"]].rename(
            columns={"score": "hand_score"}
        )
        out = out.merge(hand, on=["geosite_code", "criterion"], how="left")
    else:
        out["hand_score"] = np.nan
    out["hand_score"] = pd.array(out["hand_score"], dtype="Int64")
    out["computed_score"] = out["computed_score"].astype("int64")
    diff = out["computed_score"] - out["hand_score"]
    diff = diff.abs().where(out["complete"], diff)
    out["disagrees"] = (diff >= disagreement_points).fillna(False).astype(bool)
    return out[columns].sort_values(["geosite_code", "criterion"]).reset_index(drop=True)


def _quantity(row: pd.Series) -> tuple[str, str]:
    """How much of the feature is concerned, in words (Vietnamese, English), each
    in its own number convention."""
    from pipeline.numbers import en_number, vi_number

    if row["relation"] == "near":
        d = row["distance_m"]
        return (
            f"cách điểm di sản gần nhất {vi_number(d, 0)} m",
            f"{en_number(d, 0)} m from the nearest geosite",
        )
    if row["overlap_area_ha"] > 0:
        a = row["overlap_area_ha"]
        return f"chồng lấn {vi_number(a, 2)} ha", f"overlapping {en_number(a, 2)} ha"
    if row["overlap_length_m"] > 0:
        m = row["overlap_length_m"]
        return f"dài {vi_number(m, 0)} m trong vùng", f"{en_number(m, 0)} m long inside"
    return "một điểm trong vùng", "a point inside"


def conflict_messages(row: pd.Series) -> tuple[str, str]:
    """One conflict in a sentence: Vietnamese, English."""
    from pipeline.vocabulary import THREAT_KIND_VI, THREAT_STATUS_VI

    kind, status = row["kind"], row["status"] or "existing"
    name = f" «{row['name']}»" if isinstance(row["name"], str) and row["name"] else ""
    qty_vi, qty_en = _quantity(row)
    where_vi = RELATION_VI[row["relation"]]
    where_en = {
        "inside_zone_i": "inside Zone I",
        "inside_zone_ii": "inside Zone II",
        "near": "near the protection zones",
    }[row["relation"]]
    sample_vi, sample_en = (
        (" [dữ liệu minh họa]", " [illustrative data]") if row.get("illustrative") else ("", "")
    )
    vi = (
        f"{THREAT_KIND_VI.get(kind, kind)} ({THREAT_STATUS_VI.get(status, status)}) "
        f"{row['threat_id']}{name} {where_vi} của {row['unit_code']}: {qty_vi}{sample_vi}"
    )
    en = (
        f"{kind.replace('_', ' ')} ({status}) {row['threat_id']}{name} {where_en} "
        f"of {row['unit_code']}: {qty_en}{sample_en}"
    )
    return vi, en


#: The threat features as GeoPackage layers, one per geometry dimension (a GIS
#: layer has one geometry type): name -> (dimension, geometry type).
THREAT_LAYERS: dict[str, tuple[int, str]] = {
    "threat_areas": (2, "MultiPolygon"),
    "threat_lines": (1, "MultiLineString"),
    "threat_points": (0, "MultiPoint"),
}


def threat_layers(threats: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """The ingested threat features split into area, line and point layers."""
    dims = shapely.get_dimensions(threats.geometry.values) if len(threats) else np.array([])
    return {
        name: threats.loc[dims == dim].reset_index(drop=True)
        for name, (dim, _) in THREAT_LAYERS.items()
    }
