"""Install the app into many workspaces with OAuth, keeping bot tokens encrypted at rest.

slack_sdk's async SQLAlchemy stores do the work on our engine and on the tables our migrations
create (``bot/slack/oauth_tables.py``); the installation store only swaps its table objects for
ones whose token columns encrypt on write and decrypt on read with ``NUDGEBOT_SECRET_KEY``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, Text, and_, desc, or_, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator

from bot.slack.grid import workspace_key
from bot.slack.oauth_tables import (
    STATES_TABLE,
    bots_table,
    installations_table,
)

logger = logging.getLogger(__name__)

# Bot scopes, exactly as bot/slack/manifest.yml declares them (a test keeps the two in step).
BOT_SCOPES = ("chat:write", "commands", "files:write", "im:history", "im:write", "users:read")
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_EXPIRATION_SECONDS = 600

InstalledHook = Callable[[Installation], Awaitable[None]]


class EncryptedText(TypeDecorator[str]):
    """Store text as Fernet ciphertext and hand back the plain text."""

    impl = Text
    cache_ok = True

    def __init__(self, fernet: Fernet) -> None:
        super().__init__()
        self.fernet = fernet

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        """Encrypt before writing."""
        if value is None:
            return None
        return self.fernet.encrypt(value.encode()).decode("ascii")

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        """Decrypt after reading; a value the key cannot open reads as missing."""
        if value is None:
            return None
        try:
            return self.fernet.decrypt(str(value).encode("ascii")).decode()
        except (InvalidToken, ValueError):
            # Never log the value itself; say what to fix.
            logger.error(
                "a stored Slack token cannot be decrypted: NUDGEBOT_SECRET_KEY changed? "
                "reinstall the app in that workspace"
            )
            return None


class EncryptedInstallationStore(AsyncSQLAlchemyInstallationStore):
    """slack_sdk's async SQLAlchemy installation store with tokens encrypted at rest."""

    def __init__(self, client_id: str, engine: AsyncEngine, secret_key: str) -> None:
        super().__init__(client_id=client_id, engine=engine, logger=logger)
        token_type = EncryptedText(Fernet(secret_key.encode()))
        # A private MetaData: these Table objects only build statements; migrations own the DDL.
        self.metadata = MetaData()
        self.installations = installations_table(self.metadata, token_type)
        self.bots = bots_table(self.metadata, token_type)

    async def create_tables(self) -> None:
        """Refuse: the schema belongs to our Alembic migrations."""
        raise RuntimeError("run `nudgebot migrate`; the Slack OAuth tables are migrated")

    async def bot_token(self, workspace_id: str) -> str | None:
        """Return the newest bot token of a Nudgebot workspace, if any.

        ``workspace_id`` is a workspace (``T…``) or, for an org-wide install, the org (``E…``);
        see ``bot.slack.grid``.
        """
        c = self.bots.c
        # A workspace's rows carry its org's enterprise id too when it is in a Grid org, so
        # the team alone names them; an org-wide install's row has no team at all.
        org_wide = and_(
            c.enterprise_id == workspace_id,
            c.is_enterprise_install.is_(True),
            c.team_id.is_(None),
        )
        query = (
            select(c.bot_token)
            .where(
                c.client_id == self.client_id,
                or_(c.team_id == workspace_id, org_wide),
                c.bot_token.is_not(None),
            )
            .order_by(desc(c.installed_at), desc(c.id))
            .limit(1)
        )
        async with self.engine.connect() as conn:
            token = (await conn.execute(query)).scalar_one_or_none()
        return str(token) if token else None

    async def installed_workspaces(self) -> list[tuple[str, bool]]:
        """Return each installed Nudgebot workspace id, and whether it is an org-wide install."""
        c = self.bots.c
        query = select(c.enterprise_id, c.team_id, c.is_enterprise_install).where(
            c.client_id == self.client_id
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        found = {
            (workspace_key(enterprise, team, org_wide), bool(org_wide and enterprise))
            for enterprise, team, org_wide in rows
        }
        return sorted(item for item in found if item[0])


def state_store(engine: AsyncEngine) -> AsyncSQLAlchemyOAuthStateStore:
    """Build slack_sdk's async SQLAlchemy state store on our migrated table."""
    return AsyncSQLAlchemyOAuthStateStore(
        expiration_seconds=STATE_EXPIRATION_SECONDS,
        engine=engine,
        logger=logger,
        table_name=STATES_TABLE,
    )


class _Callbacks(AsyncCallbackOptions):
    """Record and log the outcome of an install, then show Bolt's default pages."""

    def __init__(self, on_installed: InstalledHook | None) -> None:
        self.success = self._success
        self.failure = self._failure
        self._on_installed = on_installed

    async def _success(self, args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        logger.info(
            "slack app installed team=%s enterprise=%s org_wide=%s",
            installation.team_id,
            installation.enterprise_id,
            installation.is_enterprise_install,
        )
        if self._on_installed is not None:
            await self._on_installed(installation)
        return await args.default.success(args)

    async def _failure(self, args: AsyncFailureArgs) -> BoltResponse:
        logger.warning("slack install failed reason=%s", args.reason)
        return await args.default.failure(args)


def oauth_settings(
    *,
    client_id: str,
    client_secret: str,
    installation_store: EncryptedInstallationStore,
    engine: AsyncEngine,
    on_installed: InstalledHook | None = None,
) -> AsyncOAuthSettings:
    """Configure Bolt's OAuth flow: redirect straight to Slack, state kept in our database."""
    return AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        # An admin who opens /slack/install wants Slack's consent screen, not our own page.
        install_page_rendering_enabled=False,
        installation_store=installation_store,
        installation_store_bot_only=True,
        state_store=state_store(engine),
        state_expiration_seconds=STATE_EXPIRATION_SECONDS,
        callback_options=_Callbacks(on_installed),
        logger=logger,
    )


__all__ = [
    "BOT_SCOPES",
    "INSTALL_PATH",
    "REDIRECT_PATH",
    "EncryptedInstallationStore",
    "EncryptedText",
    "oauth_settings",
    "state_store",
]
