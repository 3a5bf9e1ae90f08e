"""record when a delivery's send really started

Revision ID: 0005_delivery
Revises: 0004_pulse
Create Date: 2026-12-02 11:45:00

A claim is a short lease; ``send_started_at`` is committed before the platform call, so a lease
that lapsed tells apart a row that never reached the platform (back to pending at once) from one
that may have (retried with a look for the earlier message first).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_delivery"
down_revision: str | None = "0004_pulse"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("send_started_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("send_started_at")
