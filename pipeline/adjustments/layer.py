"""The adjustments layer of the edits GeoPackage: its contract, the proposals
an adjustment starts from, and reading and validating it like any input."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from pipeline.config import Config
from pipeline.contracts import Rejection, load_schema, validate_table
from pipeline.errors import InputError
from pipeline.geometry import areas_ha, as_multipolygons
from pipeline.parallel import map_threads
from pipeline.zoning import ZoningResult

#: The adjustments layer and the layer of the proposals they started from.
LAYER = "zone_adjustments"
PROPOSALS_LAYER = "zone_proposals"

#: The contract of :data:`LAYER`.
SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "zone_adjustments.schema.json"

KEYS = ["unit_code", "zone_class"]

#: Coordinates are compared at this precision (metres) when hashing a proposal.
HASH_GRID_M = 0.001


@dataclass
class Adjustments:
    """The valid adjustments, the proposals they started from, and rejected features."""

    file: str
    features: gpd.GeoDataFrame  # one row per unit_code and zone_class, with ``fid``
    proposals: gpd.GeoDataFrame  # unit_code, zone_class, geometry (possibly empty)
    rejections: list[Rejection] = field(default_factory=list)


def geometry_sha256(geom: shapely.Geometry) -> str:
    """SHA-256 of a boundary, independent of vertex order and sub-millimetre noise."""
    if geom is None or shapely.is_empty(geom):
        return hashlib.sha256(b"").hexdigest()
    snapped = shapely.normalize(shapely.set_precision(geom, HASH_GRID_M))
    return hashlib.sha256(shapely.to_wkb(snapped, byte_order=1)).hexdigest()


def proposals(zones: ZoningResult) -> gpd.GeoDataFrame:
    """The proposed boundary of each unit and zone class, as an adjustment holds it.

    Zone I: the unit's core. Zone II: the unit's footprint (Zone I ∪ Zone II).
    """
    pz = zones.protection_zones
    units = sorted(pz["unit_code"].unique())
    core = pz.loc[pz["zone_class"] == "I"].set_index("unit_code").geometry
    # what GeoDataFrame.dissolve does (one union_all of each unit's rows, in order),
    # in threads: GEOS releases the GIL, and a national inventory has thousands of units
    rows_of = pz.groupby("unit_code", sort=True).indices
    geoms = np.asarray(pz.geometry.values, dtype=object)
    by_unit = dict(
        zip(units, map_threads(lambda u: shapely.union_all(geoms[rows_of[u]]), units), strict=True)
    )
    empty = shapely.from_wkt("MULTIPOLYGON EMPTY")
    rows = []
    for unit in units:
        rows.append((unit, "I", core.get(unit, empty)))
        rows.append((unit, "II", by_unit.get(unit, empty)))
    frame = pd.DataFrame(rows, columns=[*KEYS, "geometry"])
    geoms = as_multipolygons(frame["geometry"].to_numpy())
    return gpd.GeoDataFrame(frame[KEYS], geometry=geoms, crs=pz.crs)


def proposal_layer(zones: ZoningResult) -> gpd.GeoDataFrame:
    """The output layer ``zone_proposals``: every unit's proposal, with its hash and area."""
    layer = proposals(zones)
    layer["area_ha"] = areas_ha(layer.geometry.values)
    layer["proposal_sha256"] = [geometry_sha256(g) for g in layer.geometry.values]
    return layer[[*KEYS, "area_ha", "proposal_sha256", "geometry"]]


# --------------------------------------------------------------------------- reading


def _empty(crs: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({k: pd.Series(dtype=object) for k in KEYS}, geometry=[], crs=crs)


def layer_names(path: Path) -> set[str]:
    try:
        return {name for name, _ in pyogrio.list_layers(path)}
    except Exception as exc:
        raise InputError(
            "không mở được GeoPackage chỉnh sửa",
            f"the edits GeoPackage cannot be opened: {exc}",
            file=str(path),
            fix="restore the file from a backup, or move it away to start again with "
            "`geopark adjust`",
            fix_vi="khôi phục tệp từ bản sao lưu, hoặc chuyển tệp đi để làm lại bằng "
            "`geopark adjust`",
        ) from None


def _as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        series = frame[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[col] = series.dt.strftime("%Y-%m-%d").astype("string")
        else:
            out[col] = series.map(
                lambda v: (
                    None
                    if v is None or (isinstance(v, float) and np.isnan(v))
                    else (v.isoformat() if isinstance(v, date) else str(v))
                ),
                na_action="ignore",
            ).astype("string")
    return out


def _geometry_problems(geoms: np.ndarray) -> list[tuple[str, str] | None]:
    """Why each geometry cannot be an adjustment at all (None when it can)."""
    out: list[tuple[str, str] | None] = []
    for geom in geoms:
        if geom is None or shapely.is_empty(geom):
            out.append(("đối tượng không có hình học", "the feature has no geometry"))
        elif shapely.get_type_id(geom) not in (3, 6):
            out.append(
                (
                    f"hình học {geom.geom_type}, cần vùng (polygon)",
                    f"geometry is a {geom.geom_type}, a polygon is needed",
                )
            )
        else:
            out.append(None)
    return out


def read_adjustments(cfg: Config) -> Adjustments | None:
    """Read and validate the adjustments layer of the edits GeoPackage.

    Returns
    -------
    Adjustments or None
        None when the GeoPackage or its :data:`LAYER` does not exist (nothing
        adjusted yet). Features that break the contract are rejected (with
        the file, the feature's ``fid``, the field and what was expected), as
        are two features for the same unit and zone class.

    Raises
    ------
    InputError
        When the file cannot be opened, or the layer misses a required field.
    """
    path = cfg.edits.geopackage
    file = cfg.relative(path)
    if not path.exists():
        return None
    present = layer_names(path)
    if LAYER not in present:
        return None
    table = pyogrio.read_dataframe(path, layer=LAYER, fid_as_index=True)
    if table.crs is not None and not table.crs.equals(cfg.working_crs):
        raise InputError(
            f"lớp {LAYER} không ở hệ tọa độ {cfg.working_crs}",
            f"layer {LAYER} is not in {cfg.working_crs} (it is {table.crs.to_string()})",
            file=file,
            field="geometry",
            fix=f"save the layer in {cfg.working_crs} (QGIS: Export > Save Features As, CRS "
            f"{cfg.working_crs}), or recreate it with `geopark adjust`",
            fix_vi=f"lưu lớp ở hệ {cfg.working_crs}, hoặc tạo lại bằng `geopark adjust`",
        )
    attrs = _as_strings(pd.DataFrame(table.drop(columns=table.geometry.name)))
    attrs["_row"] = table.index.astype(int)
    rejections: list[Rejection] = []
    problems = _geometry_problems(table.geometry.values)
    for (fid, row), problem in zip(attrs.iterrows(), problems, strict=True):
        if problem is not None:
            rejections.append(
                Rejection(
                    file=f"{file} ({LAYER})",
                    row=int(fid),
                    field="geometry",
                    value="",
                    expected="a polygon or multipolygon in EPSG:9215",
                    message_vi=problem[0],
                    message_en=problem[1],
                    record_id=f"{row.get('unit_code')} {row.get('zone_class')}",
                )
            )
    usable = attrs.loc[[p is None for p in problems]]
    valid, more = validate_table(usable, load_schema(SCHEMA), file=f"{file} ({LAYER})")
    rejections += more
    twice = valid.duplicated(KEYS, keep=False)
    for fid, row in valid.loc[twice].iterrows():
        rejections.append(
            Rejection(
                file=f"{file} ({LAYER})",
                row=int(fid),
                field="unit_code, zone_class",
                value=f"{row['unit_code']} {row['zone_class']}",
                expected="one adjustment per unit and zone class",
                message_vi="đơn vị và cấp vùng này có nhiều hơn một điều chỉnh; xóa bớt, giữ một",
                message_en="this unit and zone class has more than one adjustment; "
                "delete all but one",
                record_id=f"{row['unit_code']} {row['zone_class']}",
            )
        )
    valid = valid.loc[~twice]
    features = gpd.GeoDataFrame(
        valid.drop(columns="_row").assign(fid=valid.index.astype(int)),
        geometry=as_multipolygons(table.geometry.values[table.index.get_indexer(valid.index)]),
        crs=cfg.working_crs,
    )
    features["adjusted_on"] = pd.to_datetime(features["adjusted_on"]).dt.date
    if "proposal_area_ha" in features:
        features["proposal_area_ha"] = pd.to_numeric(features["proposal_area_ha"])
    features = features.sort_values(KEYS).reset_index(drop=True)
    stored = _empty(cfg.working_crs)
    if PROPOSALS_LAYER in present:
        stored = pyogrio.read_dataframe(path, layer=PROPOSALS_LAYER)
        stored = stored.drop_duplicates(KEYS, keep="last")[[*KEYS, stored.geometry.name]]
    return Adjustments(file=file, features=features, proposals=stored, rejections=rejections)


def usable_geometry(geom: shapely.Geometry) -> shapely.Geometry:
    """A geometry overlays can work with (an invalid one is reported by the checks)."""
    if shapely.is_valid(geom):
        return geom
    return as_multipolygons(np.array([shapely.make_valid(geom)], dtype=object))[0]
