"""A trustworthy audit trail for the field inspections, the last known location of
every published geosite, and the publish lock.

* ``records.inspections`` gets ``updated_at``/``updated_by``; a trigger sets
  ``created_*`` on insert and ``updated_*`` on every change to the *login*
  (``session_user``, not the group role after ``SET ROLE``) and the time,
  whatever the client sends;
* ``records.inspections_history`` keeps every previous version of a row (whole,
  as JSON) with who replaced or deleted it and when; nobody may change or
  delete it (triggers refuse, editors have no privilege on it);
* ``records.geosite_locations``: where each geosite was last published, so that
  an inspection of a geosite that left the register stays on the map;
* ``<schema>.publish_lock``: the table every publish locks (only the owner can).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from pipeline.db import ddl, models, roles

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _comment(table: sa.Table, column: str) -> str:
    return table.c[column].comment


def upgrade() -> None:
    db = context.config.attributes["database"]
    bind = op.get_bind()
    s, r = db.schema_, db.records_schema
    ins = models.inspections
    for column in ("updated_at", "updated_by"):
        kind = sa.DateTime(timezone=True) if column.endswith("_at") else sa.Text
        # existing rows: last changed when and by whom they were created, the best we know
        op.add_column(
            "inspections",
            sa.Column(column, kind, nullable=True, comment=_comment(ins, column)),
            schema=r,
        )
        op.execute(
            f"UPDATE {ddl.quote(bind, r)}.inspections SET {column} = "
            f"{column.replace('updated', 'created')}"
        )
        default = "now()" if column.endswith("_at") else "session_user"
        op.alter_column(
            "inspections",
            column,
            nullable=False,
            server_default=sa.text(default),
            schema=r,
        )
    op.alter_column(
        "inspections",
        "created_by",
        server_default=sa.text("session_user"),
        comment=_comment(ins, "created_by"),
        schema=r,
    )

    ddl.create_history(bind, db, ins, doubled_names=True)

    locations = models.geosite_locations
    op.create_table(
        locations.name,
        sa.Column("geosite_code", sa.Text, comment=_comment(locations, "geosite_code")),
        sa.Column("name_vi", sa.Text, comment=_comment(locations, "name_vi")),
        sa.Column("name_en", sa.Text, comment=_comment(locations, "name_en")),
        sa.Column(
            "geom",
            models.Geometry("POINT", srid=models.SRID, spatial_index=False),
            nullable=False,
            comment=_comment(locations, "geom"),
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
            comment=_comment(locations, "updated_at"),
        ),
        sa.PrimaryKeyConstraint("geosite_code", name=f"{locations.name}_pkey"),
        schema=r,
        comment=locations.comment,
    )
    # every geosite published so far has its location already
    if bind.execute(
        sa.text("SELECT pg_catalog.to_regclass(:t)"), {"t": f"{ddl.quote(bind, s)}.geosites"}
    ).scalar():
        op.execute(
            f"INSERT INTO {ddl.quote(bind, r)}.geosite_locations "
            "(geosite_code, name_vi, name_en, geom) "
            f"SELECT geosite_code, name_vi, name_en, geom FROM {ddl.quote(bind, s)}.geosites"
        )

    ddl.create_publish_lock(bind, s)
    ddl.apply_grants(bind, db, editable={"inspections": roles.EDITABLE_INSPECTION_COLUMNS})


def downgrade() -> None:
    raise NotImplementedError("the field records are never dropped / không xóa hồ sơ thực địa")
