"""Hand adjustments of protection zones: records.zone_adjustments, one row per
unit and zone class, read by the viewer, added and edited by the editor (no
delete), never touched by a publish.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from geoalchemy2 import Geometry

from pipeline.db import models, roles

revision = "0004"
down_revision = "0002"  # TEMP: "0003" once the db branch lands
branch_labels = None
depends_on = None


def upgrade() -> None:
    db = context.config.attributes["database"]
    r = db.records_schema
    adj = models.zone_adjustments

    def comment(column: str) -> str:
        return adj.c[column].comment

    op.create_table(
        "zone_adjustments",
        sa.Column(
            "adjustment_id",
            sa.BigInteger,
            sa.Identity(always=False),
            comment=comment("adjustment_id"),
        ),
        sa.Column("unit_code", sa.Text, nullable=False, comment=comment("unit_code")),
        sa.Column("zone_class", sa.Text, nullable=False, comment=comment("zone_class")),
        sa.Column("author", sa.Text, nullable=False, comment=comment("author")),
        sa.Column("adjusted_on", sa.Date, nullable=False, comment=comment("adjusted_on")),
        sa.Column("reason", sa.Text, nullable=False, comment=comment("reason")),
        sa.Column("proposal_sha256", sa.Text, comment=comment("proposal_sha256")),
        sa.Column("proposal_area_ha", sa.Float, comment=comment("proposal_area_ha")),
        sa.Column(
            "geom",
            Geometry("MULTIPOLYGON", srid=models.SRID, spatial_index=False),
            nullable=False,
            comment=comment("geom"),
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
            comment=comment("created_at"),
        ),
        sa.Column(
            "created_by",
            sa.Text,
            nullable=False,
            server_default=sa.text("current_user"),
            comment=comment("created_by"),
        ),
        sa.PrimaryKeyConstraint("adjustment_id", name="zone_adjustments_pkey"),
        sa.UniqueConstraint("unit_code", "zone_class", name="zone_adjustments_unit_zone_key"),
        sa.CheckConstraint("zone_class IN ('I', 'II')", name="zone_adjustments_zone_class_check"),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="zone_adjustments_geom_valid_check"
        ),
        schema=r,
        comment=adj.comment,
    )
    op.create_index(
        "zone_adjustments_geom_gist",
        "zone_adjustments",
        ["geom"],
        schema=r,
        postgresql_using="gist",
    )
    for statement in roles.adjustment_grant_sql(db):
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("the adjustments are never dropped / không xóa các điều chỉnh")
