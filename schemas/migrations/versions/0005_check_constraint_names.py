"""The CHECK constraints get the names the models give them.

Migrations 0001–0004 passed full names (``inspections_condition_check``) where
the naming convention expects short ones, so the convention added the table and
the suffix a second time (``inspections_inspections_condition_check_check``,
and the history tables' names were cut to 63 characters with a hash). A
database built by the migrations then differed from one built by the models,
and a QGIS user or ``psql`` saw doubled names in every CHECK violation. This
renames the seven constraints; what they check does not change.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import context, op

from pipeline.db import ddl, models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: (table, name given by migrations 0001–0004, name the models give)
RENAMES = [
    (models.publish_log, "publish_log_publish_log_status_check_check", "publish_log_status_check"),
    (
        models.inspections,
        "inspections_inspections_condition_check_check",
        "inspections_condition_check",
    ),
    (
        models.inspections,
        "inspections_inspections_geom_valid_check_check",
        "inspections_geom_valid_check",
    ),
    (
        models.inspections_history,
        "inspections_history_inspections_history_operation_check_check",
        "inspections_history_operation_check",
    ),
    (
        models.zone_adjustments,
        "zone_adjustments_zone_adjustments_geom_valid_check_check",
        "zone_adjustments_geom_valid_check",
    ),
    (
        models.zone_adjustments,
        "zone_adjustments_zone_adjustments_zone_class_check_check",
        "zone_adjustments_zone_class_check",
    ),
    (
        models.zone_adjustments_history,
        "zone_adjustments_history_zone_adjustments_history_opera_02bc",
        "zone_adjustments_history_operation_check",
    ),
]


def _rename(old_index: int, new_index: int) -> None:
    db = context.config.attributes["database"]
    bind = op.get_bind()
    schemas = models.schema_map(db.schema_, db.records_schema)
    for row in RENAMES:
        table = f"{ddl.quote(bind, schemas[row[0].schema])}.{ddl.quote(bind, row[0].name)}"
        old, new = ddl.quote(bind, row[old_index]), ddl.quote(bind, row[new_index])
        op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {old} TO {new}")


def upgrade() -> None:
    _rename(1, 2)


def downgrade() -> None:
    _rename(2, 1)
