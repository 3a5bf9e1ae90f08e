"""teams: the conversations the bot may write to

Revision ID: 0008_teams
Revises: 0006_anonymity
Create Date: 2026-12-02 11:50:00

One row per Teams conversation (personal chat, channel or group chat) with what a proactive
message needs: the region's serviceUrl, the conversation id, the tenant, the bot's 28: id and,
for a personal chat, the person's 29: id and Entra object id. See ``bot/teams/references.py``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_teams"
down_revision: str | None = "0006_anonymity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "teams_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=512), nullable=False),
        sa.Column("conversation_type", sa.String(length=16), nullable=False),
        sa.Column("service_url", sa.String(length=512), nullable=False),
        sa.Column("bot_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=True),
        sa.Column("aad_object_id", sa.String(length=64), nullable=True),
        sa.Column("team_id", sa.String(length=255), nullable=True),
        sa.Column("locale", sa.String(length=16), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams_conversations")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_teams_conversations_conversation_id")),
    )
    with op.batch_alter_table("teams_conversations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_teams_conversations_aad_object_id"), ["aad_object_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_teams_conversations_tenant_id"), ["tenant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("teams_conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teams_conversations_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_teams_conversations_aad_object_id"))
    op.drop_table("teams_conversations")
