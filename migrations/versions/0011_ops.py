"""ops: the schema floor, the oldest release that still runs on the schema

Revision ID: 0011_ops
Revises: 0010_replicas
Create Date: 2026-12-06 20:45:00

One row, written by every upgrade to head: the head and the oldest code revision that runs on
it, worked out from the revisions' ``expand_only`` flags. A release older than the schema reads
it to tell whether it may serve (see ``nudges/store/schema_floor.py``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_ops"
down_revision: str | None = "0010_replicas"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Only adds a table: the release before keeps working on this schema.
expand_only = True


def upgrade() -> None:
    op.create_table(
        "schema_floor",
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.Column("oldest_code", sa.String(length=64), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("head", name=op.f("pk_schema_floor")),
    )


def downgrade() -> None:
    op.drop_table("schema_floor")
