"""Geosite dossiers (hồ sơ điểm di sản) and the heritage summary.

``geopark dossiers`` reads the GeoPackage written by ``geopark zones`` (and,
when a database is configured, the field inspections in
``records.inspections``) and writes, in HTML and PDF:

* one dossier per geosite: identification, description and survey
  observations, location (VN-2000 and WGS 84), zoning with the cluster's zoning
  map sheet, the Brilha (2016) assessment with its criteria, field inspections;
* the heritage summary for the scientific report, with matplotlib charts.

Modules: :mod:`.data` (reading), :mod:`.content` (plain data for the
templates), :mod:`.charts` (figures), :mod:`.render` (HTML/PDF, atomic writing).
"""

from pipeline.dossiers.render import DossierRun, write_dossiers

__all__ = ["DossierRun", "write_dossiers"]
