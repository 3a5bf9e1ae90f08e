"""people: the display name the platform shows

Revision ID: 0014_names
Revises: 0011_ops
Create Date: 2026-12-06 20:33:33

The dashboard names managers and members by the name their platform shows rather than by a
platform id. The edge refreshes it whenever it reads the person's profile; nullable, since
people filed before (or never seen by the bot) have none yet.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_names"
down_revision: str | None = "0011_ops"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Only adds a nullable column: the release before keeps working on this schema.
expand_only = True


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("display_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("display_name")
