#!/usr/bin/env bash
# Installs the Debian packages the project needs beyond Python wheels:
# PostgreSQL 15 + PostGIS 3 (test server), QGIS with PyQGIS (layer checks),
# GDAL tools, Chromium (web-map tests), poppler-utils (PDF -> PNG), fonts.
# Idempotent: packages already present are skipped, so a second run is quick.
set -euo pipefail

PACKAGES=(
    postgresql-15 postgresql-15-postgis-3 postgis
    qgis python3-qgis qgis-providers
    gdal-bin
    chromium chromium-driver
    poppler-utils
    fonts-noto-core fonts-dejavu-core
    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
    xvfb
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "system packages: all present"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
