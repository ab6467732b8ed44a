"""Inspections get an optional location and their authorship (created_at,
created_by); QGIS convenience views, among them records.inspections_status
which shows records whose geosite is no longer published as orphaned.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from pipeline.db import ddl, models, roles

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    db = context.config.attributes["database"]
    bind = op.get_bind()
    r = db.records_schema
    ins = models.inspections
    op.add_column(
        "inspections",
        sa.Column(
            "geom",
            models.Geometry("POINT", srid=models.SRID, spatial_index=False),
            nullable=True,
            comment=ins.c.geom.comment,
        ),
        schema=r,
    )
    # existing rows get the time and user of the upgrade: the best we know
    op.add_column(
        "inspections",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
            comment=ins.c.created_at.comment,
        ),
        schema=r,
    )
    op.add_column(
        "inspections",
        sa.Column(
            "created_by",
            sa.Text,
            nullable=False,
            server_default=sa.text("current_user"),
            comment=ins.c.created_by.comment,
        ),
        schema=r,
    )
    op.create_check_constraint(
        "inspections_geom_valid_check",
        "inspections",
        f"geom IS NULL OR {models.st('ST_IsValid')}(geom)",
        schema=r,
    )
    op.create_index(
        "inspections_geom_gist", "inspections", ["geom"], schema=r, postgresql_using="gist"
    )
    # The views are kept in step by every publish (ddl.ensure_views), since 0003.
    ddl.apply_grants(bind, db, editable={"inspections": roles.EDITABLE_INSPECTION_COLUMNS})


def downgrade() -> None:
    raise NotImplementedError("the field records are never dropped / không xóa hồ sơ thực địa")
