"""The configuration is validated on load and errors name the key."""

from __future__ import annotations

import pytest

from pipeline.config import load_config
from pipeline.errors import ConfigError

from .conftest import ROOT


def test_project_configuration_loads() -> None:
    cfg = load_config(ROOT / "geopark.toml")
    assert cfg.working_crs == "EPSG:9215"
    assert cfg.park.declared_area_km2 == 4842.58
    assert cfg.inputs.survey_points[1].coordinate_columns == ("Y", "X")
    assert cfg.inputs.geosites.path.is_absolute()


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda raw: raw["zoning"].update(colour="red"), "zoning.colour"),
        (
            lambda raw: raw["zoning"]["zone_i_distance_m"].update(cave=-5),
            "zoning.zone_i_distance_m.cave",
        ),
        (
            lambda raw: raw["zoning"]["zone_ii_distance_m"].update(local=0),
            "zoning.zone_ii_distance_m.local",
        ),
        (lambda raw: raw["park"].update(declared_area_km2=-1), "park.declared_area_km2"),
        (
            lambda raw: raw["inputs"]["geosites"].update(path="/nowhere/geosites.csv"),
            "inputs.geosites.path",
        ),
        (
            lambda raw: raw["inputs"]["survey_points"][0].update(crs="EPSG:999999"),
            "inputs.survey_points[0].crs",
        ),
        (lambda raw: raw["zoning"]["zone_i_distance_m"].pop("cave"), "zoning.zone_i_distance_m"),
        (lambda raw: raw.update(working_crs="EPSG:4326"), "working_crs"),
    ],
)
def test_bad_configuration_names_the_key(write_config, edit, key) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write_config(edit))
    assert err.value.field == key
    assert key in err.value.render()


def test_metres_columns_with_a_geographic_crs_are_refused(write_config) -> None:
    def edit(raw):
        raw["inputs"]["survey_points"][1]["crs"] = "EPSG:4326"

    with pytest.raises(ConfigError) as err:
        load_config(write_config(edit))
    assert "inputs.survey_points[1]" in err.value.field


def test_not_toml_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[park\nname = 1", "utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "TOML" in err.value.message_en
