"""Initial heritage database: the published layers, publish_log, qgis_projects
and the field records (records.inspections: who, when, what condition).

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects.postgresql import JSONB

from pipeline.db import ddl, models

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _comment(table: sa.Table, column: str) -> str:
    return table.c[column].comment


def upgrade() -> None:
    db = context.config.attributes["database"]
    bind = op.get_bind()
    s, r = db.schema_, db.records_schema
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {ddl.quote(bind, r)}")
    op.execute(
        f"COMMENT ON SCHEMA {ddl.quote(bind, r)} IS 'Hồ sơ do người dùng nhập, không bao giờ bị xóa khi "
        "xuất bản / Records entered by users, never removed by a publish'"
    )
    # The layers are rebuilt from the models by every publish, so they are
    # created from the models here too (no data of their own to migrate).
    ddl.create_layer_tables(bind, s, r)

    log = models.publish_log
    op.create_table(
        "publish_log",
        sa.Column(
            "publish_id",
            sa.BigInteger,
            sa.Identity(always=True),
            primary_key=True,
            comment=_comment(log, "publish_id"),
        ),
        sa.Column(
            "published_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
            comment=_comment(log, "published_at"),
        ),
        sa.Column(
            "published_by",
            sa.Text,
            nullable=False,
            server_default=sa.text("session_user"),
            comment=_comment(log, "published_by"),
        ),
        sa.Column("status", sa.Text, nullable=False, comment=_comment(log, "status")),
        sa.Column("fingerprint", sa.Text, nullable=False, comment=_comment(log, "fingerprint")),
        sa.Column("geopackage_sha256", sa.Text, comment=_comment(log, "geopackage_sha256")),
        sa.Column("inputs", JSONB, comment=_comment(log, "inputs")),
        sa.Column("counts", JSONB, comment=_comment(log, "counts")),
        sa.Column("pipeline_version", sa.Text, comment=_comment(log, "pipeline_version")),
        sa.Column("schema_revision", sa.Text, comment=_comment(log, "schema_revision")),
        sa.Column("sample_data", sa.Boolean, comment=_comment(log, "sample_data")),
        sa.CheckConstraint("status IN ('published', 'unchanged')", name="publish_log_status_check"),
        sa.PrimaryKeyConstraint("publish_id", name="publish_log_pkey"),
        schema=s,
        comment=log.comment,
    )
    projects = models.qgis_projects
    op.create_table(
        "qgis_projects",
        sa.Column("name", sa.Text, comment=_comment(projects, "name")),
        sa.Column("metadata", JSONB, comment=_comment(projects, "metadata")),
        sa.Column("content", sa.LargeBinary, comment=_comment(projects, "content")),
        sa.PrimaryKeyConstraint("name", name="qgis_projects_pkey"),
        schema=s,
        comment=projects.comment,
    )
    ins = models.inspections
    op.create_table(
        "inspections",
        sa.Column(
            "inspection_id",
            sa.BigInteger,
            sa.Identity(always=False),
            comment=_comment(ins, "inspection_id"),
        ),
        sa.Column("geosite_code", sa.Text, nullable=False, comment=_comment(ins, "geosite_code")),
        sa.Column("inspected_on", sa.Date, nullable=False, comment=_comment(ins, "inspected_on")),
        sa.Column("inspector", sa.Text, nullable=False, comment=_comment(ins, "inspector")),
        sa.Column("condition", sa.Text, nullable=False, comment=_comment(ins, "condition")),
        sa.Column("threats", sa.Text, comment=_comment(ins, "threats")),
        sa.Column("notes", sa.Text, comment=_comment(ins, "notes")),
        sa.PrimaryKeyConstraint("inspection_id", name="inspections_pkey"),
        sa.CheckConstraint(
            "condition IN ('good', 'fair', 'poor', 'critical')", name="inspections_condition_check"
        ),
        schema=r,
        comment=ins.comment,
    )
    op.create_index("inspections_geosite_code_idx", "inspections", ["geosite_code"], schema=r)
    ddl.apply_grants(
        bind,
        db,
        editable={
            "inspections": (
                "geosite_code",
                "inspected_on",
                "inspector",
                "condition",
                "threats",
                "notes",
            )
        },
    )


def downgrade() -> None:
    raise NotImplementedError("the field records are never dropped / không xóa hồ sơ thực địa")
