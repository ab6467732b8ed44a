"""``make bench``: the project's zoning side by side with PostGIS SQL and geopandas.

For each size, a synthetic register (:mod:`pipeline.bench.registers`) is
zoned by three engines, each in its own process so that one's peak memory
does not hide in another's, in an order that rotates from size to size:

* ``project``: :func:`pipeline.zoning.zone`;
* ``postgis``: the same zoning in SQL (:mod:`pipeline.bench.peers`) on a
  throw-away PostgreSQL server the bench starts (loading with ogr2ogr is timed
  apart from the SQL);
* ``geopandas``: the same zoning written naively with geopandas.

Their Zone I and Zone II areas must agree within 0.01 %. Then ``geopark
zones`` runs end to end on the register written as CSV files. The table is
printed and written to ``build/bench.json``.
"""
