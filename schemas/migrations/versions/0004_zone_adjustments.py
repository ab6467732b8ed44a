"""Hand adjustments of protection zones: records.zone_adjustments, one row per
unit and zone class, read by the viewer, added and edited by the editor (no
delete), never touched by a publish; audited like the inspections (who created
and last changed each row, the login; every previous version kept in
records.zone_adjustments_history).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from pipeline.db import ddl, models
from pipeline.db.connection import postgis_schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _comment(table: sa.Table, column: str) -> str:
    return table.c[column].comment


def upgrade() -> None:
    db = context.config.attributes["database"]
    bind = op.get_bind()
    r = db.records_schema
    adj = models.zone_adjustments
    postgis = postgis_schema(bind)
    stamps = [
        sa.Column(
            name,
            sa.DateTime(timezone=True) if name.endswith("_at") else sa.Text,
            nullable=False,
            server_default=sa.text("now()" if name.endswith("_at") else "session_user"),
            comment=_comment(adj, name),
        )
        for name in ("created_at", "created_by", "updated_at", "updated_by")
    ]
    op.create_table(
        adj.name,
        sa.Column(
            "adjustment_id",
            sa.BigInteger,
            sa.Identity(always=True),
            comment=_comment(adj, "adjustment_id"),
        ),
        *[
            sa.Column(c, adj.c[c].type, nullable=adj.c[c].nullable, comment=_comment(adj, c))
            for c in ("unit_code", "zone_class", "author", "adjusted_on", "reason")
        ],
        sa.Column("proposal_sha256", sa.Text, comment=_comment(adj, "proposal_sha256")),
        sa.Column("proposal_area_ha", sa.Float, comment=_comment(adj, "proposal_area_ha")),
        sa.Column(
            "geom",
            models.Geometry("MULTIPOLYGON", srid=models.SRID, spatial_index=False),
            nullable=False,
            comment=_comment(adj, "geom"),
        ),
        *stamps,
        sa.PrimaryKeyConstraint("adjustment_id", name=f"{adj.name}_pkey"),
        sa.UniqueConstraint("unit_code", "zone_class", name="zone_adjustments_unit_zone_key"),
        sa.CheckConstraint("zone_class IN ('I', 'II')", name=f"{adj.name}_zone_class_check"),
        sa.CheckConstraint(
            f"{postgis}.ST_IsValid(geom) AND NOT {postgis}.ST_IsEmpty(geom)",
            name=f"{adj.name}_geom_valid_check",
        ),
        schema=r,
        comment=adj.comment,
    )
    op.create_index(
        "zone_adjustments_geom_gist", adj.name, ["geom"], schema=r, postgresql_using="gist"
    )

    ddl.create_history(bind, db, adj, doubled_names=True)
    ddl.apply_grants(
        bind,
        db,
        editable={
            "inspections": models.inspections.info["editable"],
            adj.name: adj.info["editable"],
        },
    )


def downgrade() -> None:
    raise NotImplementedError("the adjustments are never dropped / không xóa các điều chỉnh")
