"""workweek: each person's working week, their country and their time off

Revision ID: 0009_workweek
Revises: 0008_teams
Create Date: 2026-12-06 20:45:00

``work_patterns`` holds the weekdays and hours worked per workspace, team or person (scope keys
as for cadence rules); ``time_off`` one row per stretch of leave; ``people.country`` the country
(or subdivision, like DE-BY) whose public holidays apply to a person, NULL meaning the workspace's;
``pulse_polls.working_days`` the weekdays a poll's closing was counted in.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_workweek"
down_revision: str | None = "0008_teams"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Adds tables and nullable columns only: the release before keeps working on this schema.
expand_only = True


def upgrade() -> None:
    op.create_table(
        "work_patterns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("scope_key", sa.String(length=140), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("days", sa.String(length=16), nullable=False),
        sa.Column("start_time", sa.String(length=5), nullable=False),
        sa.Column("end_time", sa.String(length=5), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_work_patterns_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_work_patterns_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_patterns")),
        sa.UniqueConstraint(
            "workspace_id", "scope_key", name=op.f("uq_work_patterns_workspace_id_scope_key")
        ),
    )
    with op.batch_alter_table("work_patterns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_work_patterns_workspace_id"), ["workspace_id"], unique=False
        )
    op.create_table(
        "time_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_time_off_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_time_off_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_off")),
    )
    with op.batch_alter_table("time_off", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_time_off_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_time_off_workspace_id"), ["workspace_id"], unique=False
        )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("country", sa.String(length=16), nullable=True))
    with op.batch_alter_table("pulse_polls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("working_days", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pulse_polls", schema=None) as batch_op:
        batch_op.drop_column("working_days")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("country")
    with op.batch_alter_table("time_off", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_time_off_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_time_off_person_id"))
    op.drop_table("time_off")
    with op.batch_alter_table("work_patterns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_patterns_workspace_id"))
    op.drop_table("work_patterns")
