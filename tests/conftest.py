"""Shared fixtures: a copy of the project configuration pointing at the sample
data, with outputs in a temporary folder, and one sample run per session."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import dump_config

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"


def _absolute(raw: dict[str, Any]) -> dict[str, Any]:
    """Make every input path in a config dict absolute (relative to the repo)."""
    raw = copy.deepcopy(raw)
    inputs = raw["inputs"]
    specs = [inputs[k] for k in inputs if isinstance(inputs[k], dict)]
    specs += [s for k in inputs if isinstance(inputs[k], list) for s in inputs[k]]
    specs += raw.get("maps", {}).get("base", [])  # the topographic base layers
    for spec in specs:
        for key in ("path", "schema"):
            if key in spec and not Path(spec[key]).is_absolute():
                spec[key] = str(ROOT / spec[key])
    return raw


def project_config_dict() -> dict[str, Any]:
    return tomllib.loads((ROOT / "geopark.toml").read_text("utf-8"))


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a config to ``tmp_path`` based on the project's, with outputs there.

    ``edit`` is called with the config dict (input paths already absolute)
    and may change it in place.
    """

    def make(
        edit: Callable[[dict[str, Any]], None] | None = None, name: str = "geopark.toml"
    ) -> Path:
        raw = _absolute(project_config_dict())
        raw["outputs"]["directory"] = str(tmp_path / "processed")
        raw["outputs"]["failed_directory"] = str(tmp_path / "processed" / "failed_run")
        if edit:
            edit(raw)
        path = tmp_path / name
        path.write_text(dump_config(raw), "utf-8")
        return path

    return make


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory):
    """The whole job run once on the sample data; returns (config, RunResult)."""
    from pipeline.config import load_config
    from pipeline.run import run_zones

    tmp = tmp_path_factory.mktemp("sample_run")
    raw = _absolute(project_config_dict())
    raw["outputs"]["directory"] = str(tmp / "processed")
    raw["outputs"]["failed_directory"] = str(tmp / "processed" / "failed_run")
    path = tmp / "geopark.toml"
    path.write_text(dump_config(raw), "utf-8")
    cfg = load_config(path)
    return cfg, run_zones(cfg)


@pytest.fixture(scope="session")
def sample_gpkg(sample_run) -> Path:
    """Path of the GeoPackage written by the sample run."""
    cfg, _ = sample_run
    return cfg.outputs.directory / cfg.outputs.geopackage
