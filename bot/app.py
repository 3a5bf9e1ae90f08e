"""Compose the service: settings, store, web server, platforms and scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import logging
import signal
import socket
from collections.abc import Mapping
from datetime import timedelta

from aiohttp import web

from bot.dashboard.access import Passes
from bot.dashboard.site import Dashboard
from bot.edge import EdgeBuilder, EdgeConfigError, PlatformEdge
from bot.sandbox.build import SANDBOX_SEND_RATE, sandbox_clock
from bot.sandbox.build import build as build_sandbox
from bot.server import create_web_app
from bot.settings import Settings, is_loopback, platform_status
from bot.slack.edge import build as build_slack
from bot.startup import StartupError, prepare_database
from nudges.coaching.interactions import Interactions
from nudges.content.catalogue import default_catalogue
from nudges.ports import Clock, SystemClock
from nudges.pulse import sealing
from nudges.services import Services
from nudges.services.dispatch import Dispatcher, EngineConfig
from nudges.services.ticker import Ticker
from nudges.store.database import Database

logger = logging.getLogger(__name__)


def build_teams(settings: Settings, services: Services) -> PlatformEdge | None:
    """Build the Teams edge when Teams is on, importing botbuilder only then."""
    if not settings.teams_on:
        return None
    # botbuilder takes a third of a second to import: a service without Teams skips it.
    from bot.teams.edge import build

    return build(settings, services)


# Every platform the service speaks, by name, with the builder of its edge (None when off).
PLATFORMS: dict[str, EdgeBuilder] = {
    "slack": build_slack,
    "teams": build_teams,
    "sandbox": build_sandbox,
}


def listen_error(settings: Settings, exc: OSError) -> str:
    """Say why the server cannot listen, naming the variable that would fix it."""
    where = f"{settings.host}:{settings.port}"
    if exc.errno in (errno.EADDRINUSE, errno.EACCES):
        return f"cannot listen on {where} ({exc.strerror}); set PORT to a free port, e.g. PORT=3001"
    reason = exc.strerror or str(exc)
    return (
        f"cannot listen on {where} ({reason}); set HOST to an address of this machine, "
        "e.g. HOST=127.0.0.1 (this machine only) or HOST=0.0.0.0 (every interface)"
    )


def log_platforms(settings: Settings) -> None:
    """Say, one line each, which platforms are on and why the others are off."""
    for status in platform_status(settings):
        if status.enabled:
            logger.info("%s: on, %s", status.name, status.reason)
        else:
            logger.info("%s: off, %s", status.name, status.reason)


def _stop_on_signals() -> asyncio.Event:
    """Return an event SIGINT and SIGTERM set; installed first, so a stop during start-up counts."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


def build_platforms(
    settings: Settings,
    services: Services,
    builders: Mapping[str, EdgeBuilder] = PLATFORMS,
) -> list[PlatformEdge]:
    """Build every platform the settings switch on; each registers its messenger with the core."""
    edges: list[PlatformEdge] = []
    for name, build in builders.items():
        try:
            edge = build(settings, services)
        except EdgeConfigError as exc:
            raise StartupError(f"{name}: {exc}") from None
        if edge is not None:
            logger.info("%s edge ready (%s)", edge.name, edge.status())
            edges.append(edge)
    return edges


def build_dashboard(settings: Settings, services: Services) -> Dashboard:
    """Build the admins' dashboard, open without sign-in only to a service bound to this machine."""
    return Dashboard(
        services.db,
        services.clock,
        Passes(settings.nudgebot_secret_key),
        public_url=settings.public_url,
        local_ok=is_loopback(settings.host),
    )


def build_services(settings: Settings, db: Database) -> Services:
    """Assemble the core services; platforms register their messengers afterwards."""
    sandbox = sandbox_clock(settings)
    clock: Clock = sandbox or SystemClock()
    rate = settings.send_rate_per_workspace
    if sandbox is not None and sandbox.movable:
        # Only the sandbox's own inbox is served: no platform rate limit to keep to.
        rate = max(rate, SANDBOX_SEND_RATE)
    catalogue = default_catalogue()
    config = EngineConfig(
        max_attempts=settings.max_send_attempts,
        backoff_base=timedelta(seconds=settings.retry_backoff_seconds),
        lease=timedelta(seconds=settings.delivery_lease_seconds),
        send_rate_per_workspace=rate,
        plan_ahead=timedelta(minutes=settings.plan_ahead_minutes),
    )
    dispatcher = Dispatcher(db, clock, catalogue, {}, config)
    configure_sealing(settings)
    return Services(
        db=db,
        clock=clock,
        catalogue=catalogue,
        dispatcher=dispatcher,
        interactions=Interactions(dispatcher, dispatcher.catalogue),
    )


def configure_sealing(settings: Settings) -> None:
    """Seal open polls' answers under a key derived from a service secret the database lacks."""
    secret = (
        settings.nudgebot_secret_key
        or settings.slack_signing_secret
        or settings.microsoft_app_password
    )
    if not sealing.configure(secret).durable:
        logger.warning(
            "no NUDGEBOT_SECRET_KEY or platform secret: answers to open pulse polls are sealed "
            "under a key held only by this process, and a restart asks those people again"
        )


async def run_service(
    settings: Settings, *, web_server: bool = True, scheduler: bool = True, migrate: bool = False
) -> None:
    """Serve HTTP and/or run the scheduler until SIGINT or SIGTERM, then shut down cleanly."""
    stop = _stop_on_signals()
    log_platforms(settings)
    db = await prepare_database(settings, migrate=migrate)
    services = build_services(settings, db)
    dashboard = build_dashboard(settings, services)
    # Edges built next hand it to the `dashboard` command, so admins can ask for a link.
    services.dashboard_links = dashboard
    runner: web.AppRunner | None = None
    ticker: Ticker | None = None
    edges: list[PlatformEdge] = []
    try:
        edges = build_platforms(settings, services)
        if web_server:
            app = create_web_app(db)
            dashboard.add_routes(app)
            for edge in edges:
                edge.add_routes(app)
            runner = web.AppRunner(app, handle_signals=False)
            await runner.setup()
            site = web.TCPSite(runner, settings.host, settings.port)
            try:
                await site.start()
            except OSError as exc:
                raise StartupError(listen_error(settings, exc)) from None
            logger.info(
                "listening on http://%s:%s (health: /healthz)", settings.host, settings.port
            )
            # Connections (Slack's Socket Mode) belong to the process that answers the
            # platforms, not to a scheduler.
            for edge in edges:
                try:
                    await edge.start()
                except EdgeConfigError as exc:
                    raise StartupError(f"{edge.name}: {exc}") from None
        if scheduler:
            replica = settings.nudgebot_replica or socket.gethostname()
            ticker = Ticker(services.dispatcher, settings.tick_seconds, replica=replica)
            ticker.start()
        else:
            logger.info("scheduler: off in this process (run `nudgebot scheduler` elsewhere)")
        # What start-up built (modules, mappings, clients) lives as long as the process: out of
        # the collector's sight, a full collection while messages go out stays short instead of
        # stalling every workspace's sending at once.
        gc.collect()
        gc.freeze()
        await stop.wait()
        logger.info("shutting down")
    finally:
        if ticker is not None:
            await ticker.stop()
        if web_server:
            for edge in reversed(edges):
                await edge.stop()
        if runner is not None:
            await runner.cleanup()
        await db.dispose()
        logger.info("stopped")
