"""graph: who set a person's time zone, so Outlook working hours never override a choice

Revision ID: 0015_graph
Revises: 0014_names
Create Date: 2026-12-06 21:00:00

``people.timezone_source`` is "platform" when the chat client filled the zone in, "outlook" when
Outlook working hours (Microsoft Graph) set it, and NULL for a zone a person or an admin chose
(or one stored before this revision, which is taken as chosen).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_graph"
down_revision: str | None = "0014_names"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Adds a nullable column only: the release before keeps working on this schema.
expand_only = True


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone_source", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("timezone_source")
