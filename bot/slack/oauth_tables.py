"""Declare the OAuth tables slack_sdk's SQLAlchemy stores use, as our own migrations create them.

The column names and order follow ``slack_sdk.oauth.installation_store.sqlalchemy`` and
``slack_sdk.oauth.state_store.sqlalchemy`` so their async stores work on them unchanged. Two
deliberate differences: token columns are ``Text``, because they hold Fernet ciphertext (about
twice the token's length), and timestamps stay naive UTC ``DateTime`` because the stores write
naive UTC values (``slack_sdk.oauth.sqlalchemy_utils.normalize_datetime_for_db``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeEngine

from nudges.store.base import NAMING_CONVENTION

INSTALLATIONS_TABLE = "slack_installations"
BOTS_TABLE = "slack_bots"
STATES_TABLE = "slack_oauth_states"
# Columns that hold a secret and are stored encrypted.
TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")

slack_metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _token(name: str, token_type: TypeEngine[str] | None) -> Column[str]:
    return Column(name, token_type if token_type is not None else Text())


def _app_columns() -> list[Column[Any]]:
    # Both tables start alike: who installed which app in which enterprise.
    return [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("client_id", String(32), nullable=False),
        Column("app_id", String(32), nullable=False),
        Column("enterprise_id", String(32)),
        Column("enterprise_name", String(200)),
    ]


def _bot_columns(token_type: TypeEngine[str] | None) -> list[Column[Any]]:
    # The workspace and its bot user, with the bot's (encrypted) tokens.
    return [
        Column("team_id", String(32)),
        Column("team_name", String(200)),
        _token("bot_token", token_type),
        Column("bot_id", String(32)),
        Column("bot_user_id", String(32)),
        Column("bot_scopes", String(1000)),
        _token("bot_refresh_token", token_type),
        Column("bot_token_expires_at", DateTime),
    ]


def installations_table(metadata: MetaData, token_type: TypeEngine[str] | None = None) -> Table:
    """Build the installations table on ``metadata``; ``token_type`` wraps the token columns."""
    return Table(
        INSTALLATIONS_TABLE,
        metadata,
        *_app_columns(),
        Column("enterprise_url", String(200)),
        *_bot_columns(token_type),
        Column("user_id", String(32), nullable=False),
        _token("user_token", token_type),
        Column("user_scopes", String(1000)),
        _token("user_refresh_token", token_type),
        Column("user_token_expires_at", DateTime),
        Column("incoming_webhook_url", String(200)),
        Column("incoming_webhook_channel", String(200)),
        Column("incoming_webhook_channel_id", String(200)),
        Column("incoming_webhook_configuration_url", String(200)),
        Column("is_enterprise_install", Boolean, default=False, nullable=False),
        Column("token_type", String(32)),
        Column("installed_at", DateTime, nullable=False),
        Index(
            f"{INSTALLATIONS_TABLE}_idx",
            "client_id",
            "enterprise_id",
            "team_id",
            "user_id",
            "installed_at",
        ),
    )


def bots_table(metadata: MetaData, token_type: TypeEngine[str] | None = None) -> Table:
    """Build the bots table on ``metadata``; ``token_type`` wraps the token columns."""
    return Table(
        BOTS_TABLE,
        metadata,
        *_app_columns(),
        *_bot_columns(token_type),
        Column("is_enterprise_install", Boolean, default=False, nullable=False),
        Column("installed_at", DateTime, nullable=False),
        Index(f"{BOTS_TABLE}_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
    )


def states_table(metadata: MetaData) -> Table:
    """Build the OAuth state table on ``metadata``."""
    return Table(
        STATES_TABLE,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("state", String(200), nullable=False),
        Column("expire_at", DateTime, nullable=False),
    )


installations = installations_table(slack_metadata)
bots = bots_table(slack_metadata)
oauth_states = states_table(slack_metadata)
