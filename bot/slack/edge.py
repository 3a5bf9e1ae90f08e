"""Assemble the Slack edge from the settings: Bolt app, routes, Socket Mode and the messenger.

Three ways to run, picked from the environment (see ``bot.settings.platform_status``):

* Socket Mode: ``SLACK_APP_TOKEN`` + ``SLACK_BOT_TOKEN``; Slack is reached over a WebSocket the
  service opens, so no public URL is needed and no route is mounted;
* HTTP, one workspace: ``SLACK_BOT_TOKEN`` + ``SLACK_SIGNING_SECRET``, at ``POST /slack/events``;
* HTTP, many workspaces: ``SLACK_CLIENT_ID`` + ``SLACK_CLIENT_SECRET`` + ``SLACK_SIGNING_SECRET``
  + ``NUDGEBOT_SECRET_KEY``, adding ``GET /slack/install`` and ``GET /slack/oauth_redirect``;
  an Enterprise Grid org may install once for all its workspaces (``bot.slack.grid``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.signature import Clock as SignatureClock
from slack_sdk.web.async_client import AsyncWebClient

from bot.edge import EdgeConfigError, EdgeCore, EdgeOptions
from bot.settings import Settings, platform_status
from bot.slack import ClientFor
from bot.slack.app import COMMAND, SlackListeners, build_bolt_app
from bot.slack.events_seen import EventLedger
from bot.slack.grid import workspace_key
from bot.slack.messenger import SlackMessenger
from bot.slack.oauth import (
    INSTALL_PATH,
    REDIRECT_PATH,
    EncryptedInstallationStore,
    oauth_settings,
)
from bot.slack.profiles import ProfileCache
from bot.slack.quiet_logs import SOCKET_MODE_LOGGER, quiet_slack_sdk_logs
from bot.slack.retries import with_retry_handlers
from bot.slack.verify import RequestVerifier
from nudges.domain import Platform
from nudges.ports import DeliveryError
from nudges.services import Services

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
DEFAULT_API_URL = "https://slack.com/api/"
# How long shutdown waits for clicks and commands that were acknowledged but not yet done.
SHUTDOWN_GRACE_SECONDS = 10.0
# slack_sdk waits one ping interval between reconnect attempts; the log line names it.
SOCKET_MODE_RETRY_SECONDS = 5.0
# How long start-up waits for the first Socket Mode connection before going on without it.
CONNECT_WAIT_SECONDS = 10.0
# Answers to apps.connections.open that no retry will fix.
REFUSED_APP_TOKEN = frozenset(
    {"invalid_auth", "not_authed", "not_allowed_token_type", "account_inactive", "token_revoked"}
)


class SlackConfigError(EdgeConfigError):
    """Raised when the settings do not describe a way to run Slack."""


class SlackEdge:
    """The Slack platform, ready to be mounted in the shared aiohttp app and started."""

    name = "slack"

    def __init__(
        self,
        *,
        bolt_app: AsyncApp,
        listeners: SlackListeners,
        messenger: SlackMessenger,
        verifier: RequestVerifier | None,
        socket_mode: AsyncSocketModeHandler | None,
    ) -> None:
        self.bolt_app = bolt_app
        self.listeners = listeners
        self.core = listeners.core
        self.messenger = messenger
        self._verifier = verifier
        self._socket_mode = socket_mode
        self._connecting: asyncio.Future[None] | None = None

    @property
    def mode(self) -> str:
        """Say how Slack reaches the service: socket, oauth or http."""
        if self._socket_mode is not None:
            return "socket"
        return "oauth" if self.bolt_app.oauth_flow is not None else "http"

    def status(self) -> str:
        """Say how Slack reaches the service, for the start-up log."""
        return f"{self.mode} mode"

    def add_routes(self, app: web.Application) -> None:
        """Mount ``/slack/events`` (and the OAuth pages) unless Slack talks over Socket Mode."""
        if self._socket_mode is not None:
            return
        app.router.add_post(EVENTS_PATH, self.handle_events)
        if self.bolt_app.oauth_flow is not None:
            app.router.add_get(INSTALL_PATH, self.handle_install)
            app.router.add_get(REDIRECT_PATH, self.handle_oauth_redirect)

    async def start(self) -> None:
        """Connect to Slack over Socket Mode when configured; HTTP needs nothing started.

        A refused app-level token stops start-up with a clear error. Otherwise the connection
        is given ``CONNECT_WAIT_SECONDS``; if Slack is unreachable, slack_sdk keeps trying in
        the background and start-up goes on.
        """
        if self._socket_mode is None:
            return
        await _check_app_token(self._socket_mode)
        task = asyncio.ensure_future(self._connect(self._socket_mode))
        self._connecting = task
        done, _ = await asyncio.wait({task}, timeout=CONNECT_WAIT_SECONDS)
        if not done:
            logger.warning("slack: Socket Mode is not connected yet; still trying")

    @staticmethod
    async def _connect(handler: AsyncSocketModeHandler) -> None:
        await handler.connect_async()  # type: ignore[no-untyped-call]
        logger.info("slack: connected over Socket Mode")

    async def stop(self) -> None:
        """Disconnect, then let acknowledged work finish (for a few seconds at most)."""
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
        if self._socket_mode is not None:
            await self._socket_mode.close_async()  # type: ignore[no-untyped-call]
        await self.core.drain(SHUTDOWN_GRACE_SECONDS)
        # The scheduler has stopped sending by now (the composition root stops it first).
        await self.messenger.close()

    async def drain(self) -> None:
        """Wait until every acknowledged click, command and event has been handled."""
        await self.core.drain()

    async def handle_events(self, request: web.Request) -> web.Response:
        """Verify Slack's signature over the raw body, then hand the request to Bolt."""
        body = await request.read()
        if self._verifier is None or not self._verifier.is_valid(body, request.headers):
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return web.json_response({"error": "body is not UTF-8"}, status=400)
        try:
            bolt_request = AsyncBoltRequest(
                body=text, query=request.query_string, headers=_headers(request)
            )
        except (ValueError, TypeError, AttributeError):
            # Signed but unreadable (garbage JSON, JSON that is no object, a payload= that is
            # not JSON): Slack never sends that, so say so plainly instead of failing in Bolt.
            logger.warning("slack: a signed request whose body is not a JSON object or form data")
            return web.json_response(
                {"error": "body is not a JSON object or form data"}, status=400
            )
        if not isinstance(bolt_request.body, dict):
            logger.warning("slack: a signed request whose body is not a JSON object")
            return web.json_response({"error": "body is not a JSON object"}, status=400)
        return await to_aiohttp_response(await self.bolt_app.async_dispatch(bolt_request))

    async def handle_install(self, request: web.Request) -> web.Response:
        """Send an admin to Slack's consent screen, with a fresh state."""
        flow = self.bolt_app.oauth_flow
        assert flow is not None
        response = await flow.handle_installation(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def handle_oauth_redirect(self, request: web.Request) -> web.Response:
        """Finish an install: check the state, exchange the code, store the installation."""
        flow = self.bolt_app.oauth_flow
        assert flow is not None
        response = await flow.handle_callback(await to_bolt_request(request))
        return await to_aiohttp_response(response)


def build(settings: Settings, services: Services) -> SlackEdge | None:
    """Build the Slack edge when the settings switch Slack on (the composition root's builder)."""
    if not any(s.enabled for s in platform_status(settings) if s.name == "slack"):
        return None
    return build_slack_edge(settings, services)


def build_slack_edge(
    settings: Settings,
    services: Services,
    *,
    options: EdgeOptions | None = None,
    signature_clock: SignatureClock | None = None,
) -> SlackEdge:
    """Build the Slack edge for ``settings`` and register its messenger with the core."""
    quiet_slack_sdk_logs(SOCKET_MODE_RETRY_SECONDS)
    api_url = settings.slack_api_url or DEFAULT_API_URL
    listener_options = options or EdgeOptions.from_settings(settings, command=COMMAND)
    ledger = EventLedger(services.db, services.clock)
    # The same precedence as bot.settings.platform_status, which logs the mode at start-up.
    socket_mode = bool(settings.slack_app_token and settings.slack_bot_token)
    oauth = bool(
        not socket_mode
        and settings.slack_oauth
        and settings.slack_signing_secret
        and settings.nudgebot_secret_key
    )

    if socket_mode or (settings.slack_bot_token and settings.slack_signing_secret and not oauth):
        client = with_retry_handlers(
            AsyncWebClient(token=settings.slack_bot_token, base_url=api_url)
        )

        async def shared_client(_workspace_id: str) -> AsyncWebClient:
            return client

        client_for: ClientFor = shared_client
        listeners = _listeners(services, client_for, listener_options)
        bolt_app = build_bolt_app(listeners, ledger, client=client)
    elif oauth:
        assert settings.slack_client_id and settings.slack_client_secret
        assert settings.nudgebot_secret_key
        store = EncryptedInstallationStore(
            settings.slack_client_id, services.db.engine, settings.nudgebot_secret_key
        )
        client = with_retry_handlers(AsyncWebClient(base_url=api_url))
        client_for = _installed_client(store, api_url)
        listeners = _listeners(services, client_for, listener_options)

        async def installed(installation: Installation) -> None:
            await _remember_workspace(services, listeners.core, installation)

        bolt_app = build_bolt_app(
            listeners,
            ledger,
            client=client,
            oauth_settings=oauth_settings(
                client_id=settings.slack_client_id,
                client_secret=settings.slack_client_secret,
                installation_store=store,
                engine=services.db.engine,
                on_installed=installed,
            ),
            # Bolt's default checks every token with auth.test on every request; once per token
            # keeps the acknowledgement fast.
            authorize=AsyncInstallationStoreAuthorize(
                logger=logger,
                installation_store=store,
                client_id=settings.slack_client_id,
                client_secret=settings.slack_client_secret,
                bot_only=True,
                cache_enabled=True,
                client=client,
            ),
        )
    else:
        raise SlackConfigError(
            "Slack is not configured: set SLACK_APP_TOKEN + SLACK_BOT_TOKEN (Socket Mode), "
            "SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET (one workspace), or SLACK_CLIENT_ID + "
            "SLACK_CLIENT_SECRET + SLACK_SIGNING_SECRET + NUDGEBOT_SECRET_KEY (OAuth)"
        )

    verifier: RequestVerifier | None = None
    handler: AsyncSocketModeHandler | None = None
    if socket_mode:
        handler = AsyncSocketModeHandler(
            bolt_app,
            app_token=settings.slack_app_token,
            logger=logging.getLogger(SOCKET_MODE_LOGGER),
            web_client=AsyncWebClient(base_url=api_url),
            ping_interval=SOCKET_MODE_RETRY_SECONDS,
        )
    else:
        assert settings.slack_signing_secret
        verifier = RequestVerifier(settings.slack_signing_secret, signature_clock)

    messenger = SlackMessenger(client_for)
    services.register_messenger(Platform.SLACK, messenger)
    # The composition root logs the edge's name and status once it is built.
    return SlackEdge(
        bolt_app=bolt_app,
        listeners=listeners,
        messenger=messenger,
        verifier=verifier,
        socket_mode=handler,
    )


def _listeners(services: Services, client_for: ClientFor, options: EdgeOptions) -> SlackListeners:
    core = EdgeCore(
        services,
        Platform.SLACK,
        profiles=ProfileCache(client_for, clock=services.clock),
        options=options,
    )
    return SlackListeners(core)


def _installed_client(store: EncryptedInstallationStore, api_url: str) -> ClientFor:
    async def client_for(workspace_id: str) -> AsyncWebClient:
        token = await store.bot_token(workspace_id)
        if token is None:
            # Uninstalled (or never installed): nothing will reach this workspace until it is.
            raise DeliveryError("not_installed", permanent=True, scope="workspace")
        return with_retry_handlers(AsyncWebClient(token=token, base_url=api_url))

    return client_for


async def _remember_workspace(
    services: Services, core: EdgeCore, installation: Installation
) -> None:
    workspace_id = workspace_key(
        installation.enterprise_id, installation.team_id, installation.is_enterprise_install
    )
    if not workspace_id:
        return
    async with services.db.session() as session:
        await core.people.ensure_workspace(session, workspace_id)
        await session.commit()


async def _check_app_token(handler: AsyncSocketModeHandler) -> None:
    """Fail fast on an app-level token Slack refuses; slack_sdk would retry it forever."""
    try:
        await handler.client.web_client.apps_connections_open(app_token=handler.app_token)
    except SlackApiError as exc:
        data = getattr(exc.response, "data", None)
        code = str(data.get("error", "")) if isinstance(data, Mapping) else ""
        if code in REFUSED_APP_TOKEN:
            raise SlackConfigError(
                f"Slack refused SLACK_APP_TOKEN ({code}): use the app-level token (xapp-…) "
                "with the connections:write scope from Basic Information > App-Level Tokens"
            ) from None
        logger.warning("slack: apps.connections.open failed (%s); will keep trying", code)
    except (SlackClientError, OSError) as exc:
        logger.warning("slack: cannot reach Slack yet (%s); will keep trying", type(exc).__name__)


def _headers(request: web.Request) -> dict[str, str | Sequence[str]]:
    headers: Mapping[str, str] = request.headers
    return {name.lower(): request.headers.getall(name) for name in headers}
