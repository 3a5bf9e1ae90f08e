"""engine: commitments, blackout dates, nudge preferences per person

Revision ID: 0002_engine
Revises: 0001_foundation
Create Date: 2026-11-21 13:12:16.225203
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_engine"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "blackout_dates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_blackout_dates_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blackout_dates")),
        sa.UniqueConstraint("workspace_id", "day", name=op.f("uq_blackout_dates_workspace_id_day")),
    )
    op.create_table(
        "commitments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source_delivery_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["people.id"],
            name=op.f("fk_commitments_manager_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["people.id"],
            name=op.f("fk_commitments_member_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_commitments_source_delivery_id_deliveries"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_commitments_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitments")),
        sa.UniqueConstraint("source_delivery_id", name=op.f("uq_commitments_source_delivery_id")),
    )
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commitments_manager_id"), ["manager_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_commitments_workspace_id"), ["workspace_id"], unique=False
        )

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enabled_kinds", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("programme", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("programme_started_on", sa.Date(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("programme_started_on")
        batch_op.drop_column("programme")
        batch_op.drop_column("enabled_kinds")

    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commitments_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_commitments_manager_id"))

    op.drop_table("commitments")
    op.drop_table("blackout_dates")
