"""Receive Teams at ``POST /api/messages``: botbuilder's CloudAdapter behind a strict front door.

The adapter is configured with ``ConfigurationBotFrameworkAuthentication``. Authentication runs
here, before the adapter sees the activity, because the bare adapter lets a malformed token
escape as a 500: any failure to authenticate (missing, malformed, expired, wrong audience,
unknown key) is a 401 and nothing runs. A body that is not JSON is a 415; JSON that is not an
activity is a 400.

With no ``MICROSOFT_APP_ID`` (only reachable with ``TEAMS_ENABLED=true``) botbuilder accepts
requests without a token as anonymous, for the local Bot Framework Emulator.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from botbuilder.core import Bot, TurnContext
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult

from bot.settings import Settings

logger = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"


@dataclass(frozen=True)
class AuthConfig:
    """The configuration object botbuilder reads (attribute names are botbuilder's)."""

    APP_ID: str | None
    APP_PASSWORD: str | None
    APP_TYPE: str
    APP_TENANTID: str | None
    # Where the channel's signing keys and token issuer live; None means the public cloud's.
    # Only tests point these elsewhere (a local OpenID document and key set).
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str | None = None
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str | None = None
    TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL: str | None = None
    TO_CHANNEL_FROM_BOT_LOGIN_URL: str | None = None
    TO_CHANNEL_FROM_BOT_OAUTH_SCOPE: str | None = None
    VALIDATE_AUTHORITY: bool = True


def auth_config(settings: Settings, **overrides: Any) -> AuthConfig:
    """Describe the bot's identity from the settings, for botbuilder."""
    return AuthConfig(
        APP_ID=settings.microsoft_app_id,
        APP_PASSWORD=settings.microsoft_app_password,
        APP_TYPE=settings.microsoft_app_type,
        APP_TENANTID=settings.microsoft_app_tenant_id,
        **overrides,
    )


class TeamsFrontDoor:
    """Check and decode each request, then let the CloudAdapter run the bot on it."""

    def __init__(self, config: AuthConfig, bot: Bot) -> None:
        self.config = config
        self.auth = ConfigurationBotFrameworkAuthentication(config)
        self.adapter = CloudAdapter(self.auth)
        self.adapter.on_turn_error = self._on_turn_error
        self.bot = bot

    @property
    def auth_required(self) -> bool:
        """Tell whether every request must carry a valid Bot Framework token."""
        return bool(self.config.APP_ID)

    def add_routes(self, app: web.Application) -> None:
        """Mount ``POST /api/messages``."""
        app.router.add_post(MESSAGES_PATH, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one activity: 401 unauthenticated, 415 not JSON, 400 not an activity."""
        if request.content_type != "application/json":
            return _error(415, "the body must be JSON (Content-Type: application/json)")
        header = request.headers.get("Authorization", "")
        if self.auth_required and not _looks_like_bearer(header):
            # Refuse before reading the body: nothing of an unauthenticated request is parsed.
            return _error(401, "a valid Bot Framework token is required")
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return _error(400, "the body is not valid JSON")
        if not isinstance(body, dict):
            return _error(400, "the body must be one activity (a JSON object)")
        try:
            activity = Activity().deserialize(body)
        except Exception:
            return _error(400, "the body is not a Bot Framework activity")
        if not activity.type:
            return _error(400, "the activity has no type")
        authenticated = await self._authenticate(activity, header)
        if authenticated is None:
            return _error(401, "a valid Bot Framework token is required")
        invoke = await self.adapter.process_activity(authenticated, activity, self.bot.on_turn)
        if invoke is not None:
            return web.json_response(data=_plain(invoke.body), status=int(invoke.status))
        return web.Response(status=201)

    async def _authenticate(
        self, activity: Activity, header: str
    ) -> AuthenticateRequestResult | None:
        try:
            result: AuthenticateRequestResult = await self.auth.authenticate_request(
                activity, header
            )
        except Exception as exc:
            # PermissionError for a bad token; jwt and key errors for a malformed one. All 401.
            logger.warning("teams: refused a request: %s", type(exc).__name__)
            return None
        return result

    @staticmethod
    async def _on_turn_error(context: TurnContext, error: Exception) -> None:
        # The details go to the log; the person's text never does.
        logger.error(
            "teams: handling a %s activity failed",
            context.activity.type,
            exc_info=(type(error), error, error.__traceback__),
        )


def _plain(body: Any) -> Any:
    # ActivityHandler hands back bodies already turned into plain JSON; models still need it.
    if body is None or isinstance(body, dict | list | str | int | float | bool):
        return body
    return serializer_helper(body)


def _looks_like_bearer(header: str) -> bool:
    scheme, _, token = header.partition(" ")
    return scheme == "Bearer" and token.count(".") == 2 and " " not in token


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


__all__ = ["MESSAGES_PATH", "AuthConfig", "TeamsFrontDoor", "auth_config"]
