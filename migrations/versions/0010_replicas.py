"""replicas: what several replicas of the web tier share through the store

Revision ID: 0010_replicas
Revises: 0008_teams
Create Date: 2026-12-06 20:50:00

``deliveries.last_click_at``: the platform's time of the newest click applied to a message, so
an older click that reaches another replica later is dropped (a pulse answer keeps its click
time inside the sealed answer instead). Expand only: the previous release ignores the column.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_replicas"
down_revision: str | None = "0008_teams"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_click_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("last_click_at")
