"""Load and validate ``geopark.toml``.

The configuration is the only place where zoning rules, tolerances and paths
live. It is parsed with :mod:`tomllib` and validated with pydantic models that
forbid unknown keys, so a typo is an error that names the key instead of a
setting silently ignored.
"""

from __future__ import annotations

import errno
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import pyproj
import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from pipeline.errors import ConfigError
from pipeline.failures import os_reason

DEFAULT_CONFIG = Path("geopark.toml")

NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_crs(value: str | None) -> str | None:
    if value is None:
        return value
    try:
        pyproj.CRS.from_user_input(value)
    except pyproj.exceptions.CRSError as exc:
        raise ValueError(f"unknown CRS {value!r} (use an EPSG code such as 'EPSG:9215')") from exc
    return value


class InputFile(_Strict):
    """One input file and how to read it."""

    path: Path
    schema_: Path | None = Field(default=None, alias="schema")
    crs: str | None = None
    layer: str | None = None
    sheet: str | None = None
    # spreadsheet row number of the column names, when it is not row 1 (text and Excel)
    header_row: int | None = Field(default=None, ge=1)
    encoding: str | None = None
    lon_column: str | None = None
    lat_column: str | None = None
    easting_column: str | None = None
    northing_column: str | None = None
    # field name in the contract -> column name in this file (GPX `name`, KML `Name`, ...)
    columns: dict[str, Annotated[str, Field(min_length=1)]] = Field(default_factory=dict)

    _check = field_validator("crs")(classmethod(lambda cls, v: _check_crs(v)))

    @field_validator("columns")
    @classmethod
    def _distinct_targets(cls, value: dict[str, str]) -> dict[str, str]:
        for target in value:
            if not target.strip() or target.startswith("_"):
                raise ValueError(f"columns: {target!r} is not a field name")
        return value

    @model_validator(mode="after")
    def _coordinate_columns(self) -> InputFile:
        geo = self.lon_column is not None or self.lat_column is not None
        proj = self.easting_column is not None or self.northing_column is not None
        if geo and proj:
            raise ValueError(
                "give either lon_column/lat_column (degrees) or "
                "easting_column/northing_column (metres), not both"
            )
        if geo and (self.lon_column is None or self.lat_column is None):
            raise ValueError("lon_column and lat_column go together")
        if proj and (self.easting_column is None or self.northing_column is None):
            raise ValueError("easting_column and northing_column go together")
        if (geo or proj) and self.crs is None:
            raise ValueError(
                "a file with coordinate columns needs its crs (for example 'EPSG:4326')"
            )
        if self.crs is not None and (geo or proj):
            is_geographic = pyproj.CRS.from_user_input(self.crs).is_geographic
            if geo and not is_geographic:
                raise ValueError(
                    f"lon_column/lat_column need a geographic CRS, but {self.crs} is projected: "
                    "use easting_column/northing_column (VN-2000: northing = X, easting = Y)"
                )
            if proj and is_geographic:
                raise ValueError(
                    f"easting_column/northing_column need a projected CRS, but {self.crs} is "
                    "geographic: use lon_column/lat_column"
                )
        return self

    @property
    def coordinate_columns(self) -> tuple[str, str] | None:
        """(x, y) column names in the CRS's easting/northing order, if any."""
        if self.lon_column:
            return self.lon_column, self.lat_column  # type: ignore[return-value]
        if self.easting_column:
            return self.easting_column, self.northing_column  # type: ignore[return-value]
        return None


class DistrictsInput(InputFile):
    name_field: str = "NAME_3"
    alt_name_field: str | None = None


class ThreatInput(InputFile):
    """One threat layer: what it is, and which of its columns say more."""

    kind: str  # a key of pipeline.vocabulary.THREAT_KIND_VI; a `kind` column may override it
    illustrative: bool = False  # sample data, not real licences or plans: say so wherever shown
    complete: bool = False  # holds every feature of its kind in and around the park

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        from pipeline.vocabulary import THREAT_KIND_VI

        if value not in THREAT_KIND_VI:
            raise ValueError(
                f"unknown threat kind {value!r}; use one of {', '.join(THREAT_KIND_VI)}"
            )
        return value


class Inputs(_Strict):
    geosites: InputFile
    survey_points: list[InputFile] = Field(min_length=1)
    districts: DistrictsInput
    admin_units: InputFile
    park_extent: InputFile
    assessment: InputFile | None = None  # Brilha (2016) criteria scores per geosite (optional)
    # polygons, lines and points tracing each geosite's real extent (optional)
    geosite_extents: InputFile | None = None
    threats: list[ThreatInput] = Field(default_factory=list)  # quarries, licences, roads, ...


class Park(_Strict):
    name_vi: str
    name_en: str
    legal_basis: str = ""
    declared_area_km2: Positive
    area_tolerance_pct: NonNegative = 0.5
    sample_data: bool = False


class Clusters(_Strict):
    by_code: bool = True
    touch_distance_m: NonNegative = 0.0
    generated_prefix: str = "CL-"


class Markers(_Strict):
    """Boundary markers (mốc giới): the legal boundary of every zone (README, "Boundary markers")."""

    # the marker polygon contains the zone and strays at most this far outside it (metres)
    max_offset_m: Positive = 10.0
    # a marker within this distance of the previous run's keeps its number (metres)
    keep_number_within_m: NonNegative = 0.5
    # change report: markers that moved farther than this are listed (metres)
    report_moved_m: NonNegative = 1.0
    # change report: zones whose area changed by more than this are listed (hectares)
    report_area_change_ha: NonNegative = 0.0001
    # approved units: a geosite moved, or a new proposal differing, by more than this (metres)
    approved_tolerance_m: NonNegative = 0.5


class Zoning(_Strict):
    quad_segs: Annotated[int, Field(ge=1, le=64)] = 16
    zone_i_distance_m: dict[str, NonNegative]
    zone_ii_distance_m: dict[str, Positive]
    clusters: Clusters = Clusters()
    markers: Markers = Markers()


class Checks(_Strict):
    sliver_area_m2: NonNegative = 10_000.0
    min_zone_area_m2: NonNegative = 1.0
    overlap_tolerance_m2: NonNegative = 0.01


class IngestRules(_Strict):
    """How ingest judges real-world field data (see README, "Field data")."""

    # where coordinates are plausible (Lạng Sơn, degrees): detects swapped columns
    plausible_lon: tuple[float, float] = (106.0, 107.5)
    plausible_lat: tuple[float, float] = (21.3, 22.6)
    province_tolerance_m: NonNegative = 1000.0  # points farther outside the province are rejected
    # duplicate point_id / geosite_code: reject every copy, or keep the first
    duplicates: Literal["reject_all", "keep_first"] = "reject_all"
    same_place_distance_m: NonNegative = 5.0  # two geosites closer than this are reported
    same_place: Literal["warn", "reject"] = "warn"
    max_point_distance_m: Positive = 3000.0  # survey point farther from its geosite is reported
    far_point: Literal["warn", "reject"] = "warn"
    repair_max_area_change_pct: NonNegative = 0.1  # invalid boundary polygons: safe repair only

    @field_validator("plausible_lon", "plausible_lat")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not value[0] < value[1]:
            raise ValueError("give [min, max] with min < max")
        return value


class Outputs(_Strict):
    directory: Path = Path("data/processed")
    geopackage: str = "geopark.gpkg"
    qa_json: str = "qa_report.json"
    qa_markdown: str = "qa_report.md"
    manifest: str = "run_manifest.json"
    web_zones: str = "geopark_zones_wgs84.geojson"
    web_geosites: str = "geopark_geosites_wgs84.geojson"
    project: str = "geopark.qgz"  # QGIS project for the GeoPackage (relative paths)
    markers: str = "markers"  # folder of the marker tables, <unit_code>.csv/.xlsx
    changes_json: str = "change_report.json"  # what changed since the previous outputs
    changes_markdown: str = "change_report.md"
    failed_directory: Path = Path("data/processed/failed_run")


class ThreatSeverity(_Strict):
    """QA severity of a threat feature by where it lies and its status."""

    zone_i_existing: Literal["error", "warning", "info"] = "error"  # existing or licensed
    zone_i_planned: Literal["error", "warning", "info"] = "warning"
    zone_ii: Literal["error", "warning", "info"] = "warning"
    near: Literal["error", "warning", "info"] = "info"


class BrilhaDistances(_Strict):
    """Class limits (metres) of Brilha's (2016) distance criteria of degradation risk."""

    proximity_m: tuple[Positive, Positive, Positive, Positive] = (50, 200, 500, 1000)
    paved_bus_m: Positive = 100
    paved_m: Positive = 500
    gravel_m: Positive = 100
    any_road_m: Positive = 1000

    @field_validator("proximity_m")
    @classmethod
    def _increasing(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if list(value) != sorted(set(value)):
            raise ValueError("give four increasing distances, e.g. [50, 200, 500, 1000]")
        return value


class Threats(_Strict):
    """How threat layers are judged against the zones (``[threats]``)."""

    near_distance_m: NonNegative = 500
    degrading_kinds: list[str] = Field(
        default_factory=lambda: [
            "mining_licence",
            "quarry",
            "hydropower",
            "reservoir",
            "construction",
            "land_use_plan",
            "tourism_works",
        ]
    )
    road_kinds: list[str] = Field(default_factory=lambda: ["road"])
    disagreement_points: Annotated[int, Field(ge=1, le=4)] = 1
    severity: ThreatSeverity = ThreatSeverity()
    brilha: BrilhaDistances = BrilhaDistances()

    @field_validator("degrading_kinds", "road_kinds")
    @classmethod
    def _known_kinds(cls, value: list[str]) -> list[str]:
        from pipeline.vocabulary import THREAT_KIND_VI

        unknown = [k for k in value if k not in THREAT_KIND_VI]
        if unknown:
            raise ValueError(f"unknown threat kind(s) {', '.join(unknown)}")
        return value


class Edits(_Strict):
    """The geologists' own edits, kept outside the generated outputs.

    No run ever writes or deletes this GeoPackage: it holds the hand
    adjustments of proposed zones and the approval of units by decision.
    Commands such as ``geopark adjust`` and ``geopark approve`` add to it.
    """

    geopackage: Path = Path("data/edits/zone_adjustments.gpkg")


class Webmap(_Strict):
    """The interactive web map written by ``geopark webmap``."""

    output: Path = Path("maps/geopark.html")
    tiles: str = "OpenStreetMap.Mapnik"  # an xyzservices provider name; --no-tiles for none
    boundary_simplify_m: NonNegative = 10.0  # park extent and districts
    zone_simplify_m: NonNegative = 1.0  # protection zones (Zone I may be only 30 m wide)
    coordinate_decimals: Annotated[int, Field(ge=5, le=9)] = 6  # 1e-6 degree is about 0.1 m


class SheetPaper(_Strict):
    """Paper of one kind of map sheet."""

    paper: Literal["A4", "A3"] = "A3"
    orientation: Literal["portrait", "landscape"] = "landscape"


#: What a base layer shows; each kind has its national-topographic style (pipeline/maps/base.py).
BaseKind = Literal[
    "water",  # lakes and reservoirs as polygons, streams as lines
    "rivers",
    "roads",
    "places",  # settlements: dots with their names
    "contours",  # vector contour lines with an elevation field
    "dem",  # a GeoTIFF DEM: contours computed from it
    "peaks",
    "caves",  # cave entrances
    "boundaries",  # administrative boundary lines
    "border",  # the national border
]


class BaseLayer(_Strict):
    """One layer of the topographic base under the sheets (``[[maps.base]]``).

    Any source GDAL reads (GeoPackage, Shapefile, FileGDB, GeoJSON, GeoTIFF for
    ``kind = "dem"``) in any CRS with an EPSG code; it is transformed to the
    working CRS and clipped to each sheet.
    """

    path: Path
    layer: str | None = None  # the layer inside a multi-layer source; None: the first one
    kind: BaseKind
    label_field: str | None = None  # names printed beside the features (places, peaks, rivers...)
    class_field: str | None = None  # roads: their class (e.g. national, provincial, local)
    elevation_field: str | None = None  # contours and peaks: the elevation in metres
    contour_interval_m: Positive | None = None  # dem: None picks one from the sheet's scale
    index_every: Annotated[int, Field(ge=2)] = 5  # every n-th contour is an index contour
    # drawn only on sheets whose scale denominator N has min_denominator <= N <= max_denominator
    min_denominator: Annotated[int, Field(gt=0)] | None = None
    max_denominator: Annotated[int, Field(gt=0)] | None = None
    source_denominator: Annotated[int, Field(gt=0)] | None = None  # the source's own scale
    attribution: str = Field(min_length=1)  # printed on every sheet that draws the layer
    name_vi: str = ""  # e.g. "Sông suối (WDB II)"; default from the kind
    name_en: str = ""


class Maps(_Strict):
    """The printable map set written by ``geopark maps``."""

    directory: Path = Path("maps")
    overview: SheetPaper = SheetPaper(paper="A3", orientation="landscape")
    district: SheetPaper = SheetPaper(paper="A3", orientation="landscape")
    zoning: SheetPaper = SheetPaper(paper="A3", orientation="landscape")
    # standard scale denominators; each sheet takes the largest scale that fits its content
    scales: list[Annotated[int, Field(gt=0)]] = Field(
        default=[10_000, 25_000, 50_000, 100_000, 200_000, 250_000, 500_000, 1_000_000],
        min_length=1,
    )
    # zoning sheets: scales of the enlargement pages drawn for markers too crowded at the sheet's
    enlargement_scales: list[Annotated[int, Field(gt=0)]] = Field(
        default=[500, 1_000, 2_000, 2_500, 5_000], min_length=1
    )
    dem: Path | None = None  # GeoTIFF; a hillshade is drawn under the layers when set
    base: list[BaseLayer] = Field(default_factory=list)  # the topographic base, bottom first
    hillshade_azimuth: Annotated[float, Field(ge=0, le=360)] = 315.0
    hillshade_altitude: Annotated[float, Field(gt=0, le=90)] = 45.0
    png_dpi: Annotated[int, Field(ge=36, le=600)] = 150
    sources_vi: str = "Dữ liệu điều tra thực địa; ranh giới hành chính GSO; ranh giới công viên theo QĐ 2424/QĐ-UBND"
    sources_en: str = (
        "Field survey data; GSO administrative boundaries; park extent per Decision 2424/QĐ-UBND"
    )


class Dossiers(_Strict):
    """Geosite dossiers and the heritage summary written by ``geopark dossiers``."""

    directory: Path = Path("data/processed/dossiers")
    zoning_sheets: Path | None = (
        None  # <unit_code>.png/.pdf from ``geopark maps``; default <maps.directory>/zoning
    )
    pdf: bool = True
    chart_dpi: Annotated[int, Field(ge=72, le=600)] = 150
    database_url_env: str = "DATABASE_URL"  # inspections are read when this (or PGSERVICE) is set


_SQL_NAME = r"^[a-z_][a-z0-9_]{0,62}$"


class Database(_Strict):
    """The PostGIS publication written by ``geopark publish``.

    No credentials here: the connection comes from ``DATABASE_URL``, a
    ``pg_service.conf`` service name, or the standard ``PG*`` variables.
    """

    service: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")  # pg_service.conf name
    schema_: str = Field(default="geopark", alias="schema", pattern=_SQL_NAME)  # published layers
    records_schema: str = Field(
        default="records", pattern=_SQL_NAME
    )  # field records, never dropped
    owner_role: str = Field(default="geopark_owner", pattern=_SQL_NAME)  # owns the published schema
    viewer_role: str = Field(
        default="geopark_viewer", pattern=_SQL_NAME
    )  # read-only (QGIS viewers)
    editor_role: str = Field(default="geopark_editor", pattern=_SQL_NAME)  # adds field records
    project_name: str = Field(
        default="geopark", pattern=r"^[A-Za-z0-9_.-]+$"
    )  # stored QGIS project
    lock_wait_s: NonNegative = 30.0  # wait this long for another publish, then refuse
    swap_lock_timeout_s: Positive = 60.0  # a changed table definition waits this long for readers


class Config(_Strict):
    """The validated configuration. Paths are absolute once loaded."""

    working_crs: str = "EPSG:9215"
    park: Park
    inputs: Inputs
    zoning: Zoning
    checks: Checks = Checks()
    outputs: Outputs = Outputs()
    edits: Edits = Edits()
    threats: Threats = Threats()
    ingest: IngestRules = IngestRules()
    webmap: Webmap = Webmap()
    maps: Maps = Maps()
    dossiers: Dossiers = Dossiers()
    database: Database = Database()
    source: Path | None = None
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)

    _crs = field_validator("working_crs")(classmethod(lambda cls, v: _check_crs(v)))

    @field_validator("working_crs")
    @classmethod
    def _projected(cls, value: str) -> str:
        if pyproj.CRS.from_user_input(value).is_geographic:
            raise ValueError("the working CRS must be projected (metres), e.g. EPSG:9215")
        return value

    def output_path(self, name: str) -> Path:
        return self.outputs.directory / getattr(self.outputs, name)

    def relative(self, path: Path) -> str:
        """``path`` as shown to people: relative to the configuration file when inside its folder."""
        base = self.source.parent if self.source else Path.cwd()
        # absolute, but symbolic links kept: an output's user path is a link into
        # its versioned set (pipeline.outputs.OutputSet) and must be shown as such
        try:
            return str(Path(os.path.abspath(path)).relative_to(base))
        except ValueError:
            return str(path)


def _key_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]" if parts else f"[{item}]"
        else:
            parts.append(str(item).rstrip("_"))
    return ".".join(parts)


def _resolve_paths(cfg: Config, base: Path) -> Config:
    def fix(obj: BaseModel) -> BaseModel:
        updates: dict[str, Any] = {}
        for name, value in obj:
            if isinstance(value, Path):
                updates[name] = value if value.is_absolute() else (base / value)
            elif isinstance(value, BaseModel):
                updates[name] = fix(value)
            elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
                updates[name] = [fix(v) for v in value]
        return obj.model_copy(update=updates)

    return fix(cfg)  # type: ignore[return-value]


def _input_files(cfg: Config) -> list[tuple[str, InputFile]]:
    i = cfg.inputs
    files = [("inputs.geosites", i.geosites)]
    files += [(f"inputs.survey_points[{n}]", f) for n, f in enumerate(i.survey_points)]
    files += [
        ("inputs.districts", i.districts),
        ("inputs.admin_units", i.admin_units),
        ("inputs.park_extent", i.park_extent),
    ]
    if i.assessment is not None:
        files.append(("inputs.assessment", i.assessment))
    if i.geosite_extents is not None:
        files.append(("inputs.geosite_extents", i.geosite_extents))
    return files


def _check_files(cfg: Config, source: Path) -> None:
    for key, spec in _input_files(cfg):
        for attr, path in (("path", spec.path), ("schema", spec.schema_)):
            if path is not None and not path.exists():
                raise ConfigError(
                    f"không tìm thấy tệp {path}",
                    f"file not found: {path}",
                    file=str(source),
                    field=f"{key}.{attr}",
                    fix="correct the path (relative to the configuration file) or copy the file there",
                    fix_vi="sửa đường dẫn (tương đối so với tệp cấu hình) hoặc chép tệp vào đó",
                )


def _check_zoning_against_schema(cfg: Config, source: Path) -> None:
    """Every category and significance the register allows needs a distance."""
    schema_path = cfg.inputs.geosites.schema_
    if schema_path is None:
        return
    from pipeline.contracts import load_schema  # pandas only when a schema is read

    fields = {f["name"]: f for f in load_schema(schema_path)["fields"]}
    for column, key in (("category", "zone_i_distance_m"), ("significance", "zone_ii_distance_m")):
        allowed = fields.get(column, {}).get("constraints", {}).get("enum", [])
        table: dict[str, float] = getattr(cfg.zoning, key)
        missing = [v for v in allowed if v not in table]
        unknown = [v for v in table if allowed and v not in allowed]
        if missing or unknown:
            raise ConfigError(
                f"bảng khoảng cách zoning.{key} không khớp với danh mục {column} của lược đồ",
                f"zoning.{key} does not match the {column} values of {schema_path.name}",
                file=str(source),
                field=f"zoning.{key}",
                details=[f"missing/thiếu: {missing}"] * bool(missing)
                + [f"unknown/không có trong lược đồ: {unknown}"] * bool(unknown),
                fix=f"give one distance per allowed {column}: {', '.join(allowed)}",
                fix_vi=f"cho mỗi giá trị {column} một khoảng cách: {', '.join(allowed)}",
            )


def _read_config_text(path: Path) -> str:
    """The text of the configuration file; a UTF-8 byte-order mark (as Windows
    Notepad writes) is skipped. Raises a bilingual ConfigError for a path that
    is missing, a folder, unreadable or not UTF-8."""
    where = {"file": str(path), "field": "--config"}
    if not path.exists():
        raise ConfigError(
            f"không tìm thấy tệp cấu hình {path}",
            f"configuration file not found: {path}",
            fix="run from the project folder or pass --config PATH",
            fix_vi="chạy trong thư mục dự án hoặc dùng --config ĐƯỜNG_DẪN",
            **where,
        )
    if path.is_dir():
        raise ConfigError(
            f"{path} là một thư mục, không phải tệp cấu hình",
            f"{path} is a folder, not a configuration file",
            fix=f"pass the file itself, e.g. --config {path / DEFAULT_CONFIG.name}",
            fix_vi=f"chỉ đến chính tệp, ví dụ --config {path / DEFAULT_CONFIG.name}",
            **where,
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason_vi, reason_en = os_reason(exc.errno or errno.EIO)
        raise ConfigError(
            f"không đọc được tệp cấu hình {path}: {reason_vi}",
            f"cannot read the configuration file {path}: {reason_en}",
            fix="give this user read access (chmod/chown) or copy the file somewhere readable",
            fix_vi="cấp quyền đọc cho người dùng này (chmod/chown) hoặc chép tệp ra chỗ đọc được",
            **where,
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"tệp cấu hình không phải UTF-8 (dòng {line}, byte {exc.start})",
            f"the configuration file is not UTF-8 (line {line}, byte {exc.start})",
            row=line,
            fix="save the file as UTF-8 (in Notepad: Save As, Encoding UTF-8)",
            fix_vi="lưu tệp dạng UTF-8 (trong Notepad: Save As, Encoding UTF-8)",
            **where,
        ) from None


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def _toml_key_at(text: str, line: int) -> str | None:
    """The dotted key defined on ``line`` (1-based), with its table, if any."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return None
    own = lines[line - 1]
    header = _TOML_TABLE.match(own)
    if header:
        return header.group(1).replace(" ", "")
    if "=" not in own:
        return None
    key = own.split("=", 1)[0].strip().strip("\"'")
    for previous in reversed(lines[: line - 1]):
        table = _TOML_TABLE.match(previous)
        if table:
            return f"{table.group(1).replace(' ', '')}.{key}"
    return key


def _toml_error(exc: tomllib.TOMLDecodeError, text: str, path: Path) -> ConfigError:
    """A TOML syntax error with its line and column, naming the key for a duplicate."""
    message = str(exc)
    position = _TOML_POSITION.search(message)
    line = int(position.group(1)) if position else None
    column = int(position.group(2)) if position else None
    reason = _TOML_POSITION.sub("", message)
    key = _toml_key_at(text, line) if line else None
    at_vi = f" (dòng {line}, cột {column})" if line else ""
    at_en = f" (line {line}, column {column})" if line else ""
    duplicate = reason.startswith(("Cannot overwrite a value", "Cannot declare", "Cannot mutate"))
    if duplicate and key:
        return ConfigError(
            f"khóa '{key}' được khai báo hai lần{at_vi}",
            f"the key '{key}' is defined twice{at_en}",
            file=str(path),
            row=line,
            field=key,
            fix=f"keep one definition of '{key}' and delete the other",
            fix_vi=f"giữ một khai báo '{key}' và xóa khai báo còn lại",
        )
    return ConfigError(
        f"tệp cấu hình không phải TOML hợp lệ{at_vi}",
        f"the configuration is not valid TOML: {reason}{at_en}",
        file=str(path),
        row=line,
        field=key,
        fix="correct the syntax at that line (see the README, 'Configuration')",
        fix_vi="sửa cú pháp ở dòng đó (xem README, mục 'Configuration')",
    )


def dump_config(raw: dict[str, Any]) -> str:
    """A configuration dict (as read from a ``geopark.toml``) written back as TOML,
    for a configuration made by a program (the benchmark, tests). Comments and
    layout are not kept; :func:`load_config` reads it back to the same dict."""
    return tomli_w.dumps(raw)


def load_config(path: str | Path = DEFAULT_CONFIG) -> Config:
    """Read, validate and resolve a configuration file.

    Parameters
    ----------
    path
        The TOML file. Relative paths inside it are resolved against its folder.

    Returns
    -------
    Config
        The validated configuration, with absolute paths.

    Raises
    ------
    ConfigError
        Naming the key at fault and how to fix it.
    """
    path = Path(path)
    text = _read_config_text(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(exc, text, path) from None
    try:
        cfg = Config.model_validate({**raw, "source": path.resolve(), "raw": raw})
    except ValidationError as exc:
        first = exc.errors()[0]
        key = _key_path(first["loc"])
        if first["type"] == "extra_forbidden":
            msg_en, msg_vi = f"unknown key '{key}'", f"khóa không hợp lệ '{key}'"
            fix = "remove it or correct its spelling (see README, 'Configuration')"
            fix_vi = "xóa hoặc sửa chính tả (xem README, mục 'Configuration')"
        else:
            msg_en = f"invalid value for '{key}': {first['msg']}"
            msg_vi = f"giá trị không hợp lệ cho '{key}': {first['msg']}"
            fix = "correct the value in the configuration file"
            fix_vi = "sửa giá trị trong tệp cấu hình"
        raise ConfigError(
            msg_vi,
            msg_en,
            file=str(path),
            field=key,
            fix=fix,
            fix_vi=fix_vi,
            details=[f"{_key_path(e['loc'])}: {e['msg']}" for e in exc.errors()[1:]],
        ) from None
    cfg = _resolve_paths(cfg, path.resolve().parent)
    _check_files(cfg, path)
    _check_zoning_against_schema(cfg, path)
    return cfg


def input_files(cfg: Config) -> list[tuple[str, InputFile]]:
    """All configured input files with their configuration key."""
    return _input_files(cfg)
