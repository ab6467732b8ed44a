"""Drive real PyQGIS from the tests, and read what our QML files say.

PyQGIS belongs to Debian's ``/usr/bin/python3``, not to the project's virtual
environment, so it runs as a subprocess (``tests/qgis_scripts/inspect_qgis.py``)
with ``QT_QPA_PLATFORM=offscreen``; it answers in JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

ROOT = Path(__file__).resolve().parents[1]
QGIS_PYTHON = os.environ.get("GEOPARK_QGIS_PYTHON", "/usr/bin/python3")
SCRIPT = ROOT / "tests" / "qgis_scripts" / "inspect_qgis.py"
STYLE_DIR = ROOT / "pipeline" / "styles"


def pyqgis_available() -> bool:
    try:
        done = subprocess.run(
            [QGIS_PYTHON, "-c", "import qgis.core"],
            capture_output=True,
            timeout=120,
            check=False,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def run_qgis(
    request: dict[str, Any],
    workdir: Path,
    env: dict[str, str] | None = None,
    script: Path = SCRIPT,
) -> dict[str, Any]:
    """Run ``script`` (default: the inspector) on ``request``; return its JSON answer
    (fails on a crash)."""
    workdir.mkdir(parents=True, exist_ok=True)
    request_path, result_path = workdir / "qgis_request.json", workdir / "qgis_result.json"
    request_path.write_text(json.dumps(request, ensure_ascii=False), "utf-8")
    environment = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_RUNTIME_DIR": str(workdir),
        "HOME": str(workdir),  # QGIS writes its profile under HOME: keep it out of the real one
        **(env or {}),
    }
    done = subprocess.run(
        [QGIS_PYTHON, str(script), str(request_path), str(result_path)],
        capture_output=True,
        text=True,
        timeout=600,
        env=environment,
        check=False,
    )
    assert done.returncode == 0 and result_path.exists(), done.stderr[-4000:]
    result = json.loads(result_path.read_text("utf-8"))
    assert "exception" not in result, result["exception"]
    return result


def published_style(layer: str) -> dict[str, Any]:
    """What our QML for ``layer`` says: renderer type, attribute, categories, label field."""
    root = ET.parse(STYLE_DIR / f"{layer}.qml").getroot()
    renderer = root.find("renderer-v2")
    assert renderer is not None
    info: dict[str, Any] = {"type": renderer.get("type")}
    if renderer.get("type") == "categorizedSymbol":
        info["attribute"] = renderer.get("attr")
        info["categories"] = [(c.get("value"), c.get("label")) for c in renderer.iter("category")]
    text_style = root.find("labeling/settings/text-style")
    info["labels_enabled"] = root.get("labelsEnabled") == "1"
    info["label_field"] = text_style.get("fieldName") if text_style is not None else None
    return info


def assert_style_is_published(layer: str, seen: dict[str, Any]) -> None:
    """QGIS's renderer (as reported by the inspector) is the one in our QML."""
    expected = published_style(layer)
    assert seen["type"] == expected["type"], (layer, seen, expected)
    if expected["type"] == "categorizedSymbol":
        assert seen["attribute"] == expected["attribute"], layer
        assert [(c["value"], c["label"]) for c in seen["categories"]] == expected["categories"], (
            layer
        )
    assert seen["labels_enabled"] == expected["labels_enabled"], layer
    if expected["labels_enabled"]:
        assert seen.get("label_field") == expected["label_field"], layer
