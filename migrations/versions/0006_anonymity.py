"""pulse answers wait sealed until their poll closes

Revision ID: 0006_anonymity
Revises: 0005_delivery
Create Date: 2026-12-02 11:45:00.000000

Answers of open polls move out of ``pulse_answers`` into ``pulse_pending``, sealed under a key
the database never holds; ``pulse_answers`` is written only when a poll closes and loses its
``key_hash`` column, which a bot token could match against the keys in the poll messages.
Answers already stored for open polls stay where they are and count as before, but can no
longer be changed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_anonymity"
down_revision: str | None = "0005_delivery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pulse_pending",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("participation_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participation_id"],
            ["pulse_participation.id"],
            name=op.f("fk_pulse_pending_participation_id_pulse_participation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["pulse_polls.id"],
            name=op.f("fk_pulse_pending_poll_id_pulse_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_pending")),
        sa.UniqueConstraint("participation_id", name=op.f("uq_pulse_pending_participation_id")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("pulse_pending", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pulse_pending_poll_id"), ["poll_id"], unique=False)
    with op.batch_alter_table(
        "pulse_answers", schema=None, table_kwargs={"sqlite_with_rowid": False}
    ) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_pulse_answers_poll_id_key_hash"), type_="unique")
        batch_op.drop_column("key_hash")


def downgrade() -> None:
    with op.batch_alter_table(
        "pulse_answers", schema=None, table_kwargs={"sqlite_with_rowid": False}
    ) as batch_op:
        batch_op.add_column(sa.Column("key_hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_pulse_answers_poll_id_key_hash"), ["poll_id", "key_hash"]
        )
    with op.batch_alter_table("pulse_pending", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pulse_pending_poll_id"))
    # Sealed answers cannot be opened by a migration; they are dropped with their table.
    op.drop_table("pulse_pending")
