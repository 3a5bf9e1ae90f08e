"""replicas: what several replicas of the web tier share through the store

Revision ID: 0010_replicas
Revises: 0009_workweek
Create Date: 2026-12-06 20:50:00

``deliveries.last_click_at``: the platform's time of the newest click applied to a message, so
an older click that reaches another replica later is dropped (a pulse answer keeps its click
time inside the sealed answer instead). New tables: ``sealed_downloads`` (Teams export files,
sealed under their link, so any replica serves them), ``edge_marks`` (a DM's reply cooldown, an
open Home and its pending republish, shared by the replicas) and ``send_pace`` (one send pace
per workspace for every process). Expand only: the previous release ignores all of it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_replicas"
down_revision: str | None = "0009_workweek"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Adds tables and a nullable column only: the release before keeps working on this schema.
expand_only = True


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_click_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "sealed_downloads",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sealed_downloads")),
    )
    with op.batch_alter_table("sealed_downloads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sealed_downloads_expires_at"), ["expires_at"], unique=False
        )
    op.create_table(
        "edge_marks",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_edge_marks")),
    )
    with op.batch_alter_table("edge_marks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_edge_marks_until"), ["until"], unique=False)
    op.create_table(
        "send_pace",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_send_pace_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_send_pace")),
    )


def downgrade() -> None:
    op.drop_table("send_pace")
    with op.batch_alter_table("edge_marks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_edge_marks_until"))
    op.drop_table("edge_marks")
    with op.batch_alter_table("sealed_downloads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sealed_downloads_expires_at"))
    op.drop_table("sealed_downloads")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("last_click_at")
