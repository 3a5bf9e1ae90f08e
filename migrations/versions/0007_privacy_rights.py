"""tombstones of erased people and frozen per-poll totals

Revision ID: 0007_privacy_rights
Revises: 0006_anonymity
Create Date: 2026-12-02 12:30:00.000000

``forgotten_people`` keeps only a keyed hash of an erased person's platform id, so the next
event does not bring them back unless they use the bot themselves. ``pulse_poll_totals`` keeps
a closed poll's counts once retention or an erasure removes the rows they were counted from.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_privacy_rights"
down_revision: str | None = "0006_anonymity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "forgotten_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("forgotten_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_forgotten_people_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forgotten_people")),
        sa.UniqueConstraint(
            "workspace_id", "id_hash", name=op.f("uq_forgotten_people_workspace_id_id_hash")
        ),
    )
    with op.batch_alter_table("forgotten_people", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_forgotten_people_workspace_id"), ["workspace_id"], unique=False
        )
    op.create_table(
        "pulse_poll_totals",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("invited", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("answer_sum", sa.Integer(), nullable=False),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["pulse_polls.id"],
            name=op.f("fk_pulse_poll_totals_poll_id_pulse_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("poll_id", name=op.f("pk_pulse_poll_totals")),
    )


def downgrade() -> None:
    op.drop_table("pulse_poll_totals")
    with op.batch_alter_table("forgotten_people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forgotten_people_workspace_id"))
    op.drop_table("forgotten_people")
