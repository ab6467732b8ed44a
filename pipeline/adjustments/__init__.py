"""Adjustments that survive every run: hand-drawn boundaries replacing proposals.

A geologist adjusts a proposed zone to features that can be found on the
ground. The adjustments live in the edits GeoPackage (``[edits] geopackage``
in geopark.toml, by default ``data/edits/zone_adjustments.gpkg``), outside the
generated outputs, which no run ever writes or deletes:

* layer :data:`LAYER` (contract ``schemas/zone_adjustments.schema.json``): one
  MultiPolygon (EPSG:9215) per ``unit_code`` and ``zone_class``, with
  ``author``, ``adjusted_on``, ``reason`` and the proposal it started from
  (``proposal_sha256``, ``proposal_area_ha``). For Zone I the geometry is the
  core; for Zone II it is the unit's whole footprint (Zone I and Zone II, no
  hole): the published Zone II is the footprint minus Zone I, so the two can be
  adjusted independently and never overlap;
* layer :data:`PROPOSALS_LAYER`: the proposed boundary at the time of copying,
  to show where a later proposal differs.

:func:`adjust_unit` (``geopark adjust``) copies the current proposal into the
layer; :func:`read_adjustments` validates it like any input;
:func:`apply_adjustments` replaces the proposals in the zoning result and
recomputes everything derived from them (areas, district pieces, clusters);
:func:`pipeline.checks.check_adjustments` checks them.

Other columns of the layer are carried through untouched, so the approval of
a unit (status, decision number and date) can live beside its adjustment.
"""

from pipeline.adjustments.apply import Applied, apply_adjustments
from pipeline.adjustments.layer import (
    HASH_GRID_M,
    KEYS,
    LAYER,
    PROPOSALS_LAYER,
    SCHEMA,
    Adjustments,
    geometry_sha256,
    proposal_layer,
    proposals,
    read_adjustments,
    usable_geometry,
)
from pipeline.adjustments.writer import Copied, Pulled, adjust_unit, pull_adjustments

__all__ = [
    "HASH_GRID_M",
    "KEYS",
    "LAYER",
    "PROPOSALS_LAYER",
    "SCHEMA",
    "Adjustments",
    "Applied",
    "Copied",
    "Pulled",
    "adjust_unit",
    "apply_adjustments",
    "geometry_sha256",
    "proposal_layer",
    "proposals",
    "pull_adjustments",
    "read_adjustments",
    "usable_geometry",
]
