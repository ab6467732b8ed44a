"""Lạng Sơn Geopark pipeline: geosite protection zones, heritage database and maps."""

import pandas as _pd

__version__ = "0.1.0"

# pyarrow is installed for GDAL's fast Arrow writes, and pandas would then keep
# text columns as Arrow strings, which must be valid UTF-8: a cell with a lone
# surrogate (from a broken export) would fail to load instead of being reported,
# and per-cell loops over Arrow strings are slower. Text stays Python strings.
_pd.set_option("mode.string_storage", "python")
