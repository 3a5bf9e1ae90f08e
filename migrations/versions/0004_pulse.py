"""pulse polls, answers, participation

Revision ID: 0004_pulse
Revises: 0003_slack
Create Date: 2026-11-21 13:21:33.381401

Answers and participation are kept apart on purpose: ``pulse_answers`` has no person, no
timestamp and a random UUID primary key (and no rowid on SQLite), so storage order says nothing
about who answered when; ``pulse_participation`` says who was asked and who answered.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_pulse"
down_revision: str | None = "0003_slack"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pulse_custom_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_pulse_custom_questions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_custom_questions")),
        sa.UniqueConstraint(
            "workspace_id", "key", name=op.f("uq_pulse_custom_questions_workspace_id_key")
        ),
    )
    op.create_table(
        "pulse_polls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("group_key", sa.String(length=140), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.Column("period_key", sa.String(length=32), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=True),
        sa.Column("question_key", sa.String(length=100), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("requested", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_pulse_polls_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_polls")),
        sa.UniqueConstraint(
            "workspace_id",
            "group_key",
            "period_key",
            name=op.f("uq_pulse_polls_workspace_id_group_key_period_key"),
        ),
    )
    with op.batch_alter_table("pulse_polls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pulse_polls_closes_at"), ["closes_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_pulse_polls_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "pulse_retired_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("question_key", sa.String(length=100), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_pulse_retired_questions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_retired_questions")),
        sa.UniqueConstraint(
            "workspace_id",
            "question_key",
            name=op.f("uq_pulse_retired_questions_workspace_id_question_key"),
        ),
    )
    op.create_table(
        "pulse_answers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=True),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("value BETWEEN 1 AND 5", name=op.f("ck_pulse_answers_value_range")),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["pulse_polls.id"],
            name=op.f("fk_pulse_answers_poll_id_pulse_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_answers")),
        sa.UniqueConstraint("poll_id", "key_hash", name=op.f("uq_pulse_answers_poll_id_key_hash")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("pulse_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pulse_answers_poll_id"), ["poll_id"], unique=False)

    op.create_table(
        "pulse_participation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_pulse_participation_delivery_id_deliveries"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_pulse_participation_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["pulse_polls.id"],
            name=op.f("fk_pulse_participation_poll_id_pulse_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_participation")),
        sa.UniqueConstraint(
            "poll_id", "person_id", name=op.f("uq_pulse_participation_poll_id_person_id")
        ),
    )
    with op.batch_alter_table("pulse_participation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pulse_participation_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("pulse_participation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pulse_participation_person_id"))

    op.drop_table("pulse_participation")
    with op.batch_alter_table("pulse_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pulse_answers_poll_id"))

    op.drop_table("pulse_answers")
    op.drop_table("pulse_retired_questions")
    with op.batch_alter_table("pulse_polls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pulse_polls_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_pulse_polls_closes_at"))

    op.drop_table("pulse_polls")
    op.drop_table("pulse_custom_questions")
