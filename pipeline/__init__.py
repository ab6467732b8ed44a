"""Lạng Sơn Geopark pipeline: geosite protection zones, heritage database and maps."""

__version__ = "0.1.0"
