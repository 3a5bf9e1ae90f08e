"""Compose the service: settings, store, web server, platforms and scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web
from alembic.util import CommandError
from sqlalchemy.exc import SQLAlchemyError

from bot.server import create_web_app
from bot.settings import Settings, platform_status
from bot.slack.edge import SlackConfigError, SlackEdge, build_slack_edge
from nudges.content.catalogue import default_catalogue
from nudges.dispatch import Dispatcher, EngineConfig
from nudges.interactions import Interactions
from nudges.ports import SystemClock
from nudges.pulse import sealing
from nudges.scheduling.ticker import Ticker
from nudges.services import Services
from nudges.store.database import Database
from nudges.store.migrate import current_revision, head_revision, upgrade

logger = logging.getLogger(__name__)


class StartupError(Exception):
    """Raised with one readable line when the service cannot start."""


def safe_url(db: Database) -> str:
    """Render the database URL without its password, for messages."""
    return db.url.render_as_string(hide_password=True)


async def prepare_database(settings: Settings) -> Database:
    """Connect, and bring an embedded SQLite schema to head; refuse an old PostgreSQL schema."""
    db = Database(settings.database_url)
    try:
        revision = await current_revision(db.engine)
    except (OSError, SQLAlchemyError) as exc:
        await db.dispose()
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        raise StartupError(f"cannot reach the database at {safe_url(db)}: {reason}") from None
    head = head_revision()
    if revision == head:
        return db
    if settings.is_sqlite:
        logger.info("bringing the SQLite schema from %s to %s", revision or "empty", head)
        try:
            await upgrade(db.engine)
        except CommandError:
            # A revision this version does not ship: a newer nudgebot migrated this file.
            await db.dispose()
            raise StartupError(
                f"the database schema is at {revision}, which this version ({head}) does not "
                "know: run the newer nudgebot that migrated it, or restore a backup"
            ) from None
        return db
    await db.dispose()
    raise StartupError(
        f"the database schema is at {revision or 'nothing (empty database)'} but this version "
        f"needs {head}: run `nudgebot migrate` first"
    )


def log_platforms(settings: Settings) -> None:
    """Say, one line each, which platforms are on and why the others are off."""
    for status in platform_status(settings):
        if status.enabled:
            logger.info("%s: on, %s", status.name, status.reason)
        else:
            logger.info("%s: off, %s", status.name, status.reason)


async def _wait_for_stop() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def build_slack(settings: Settings, services: Services) -> SlackEdge | None:
    """Build the Slack edge when Slack is configured; it registers its messenger with the core."""
    slack_on = any(s.enabled for s in platform_status(settings) if s.name == "slack")
    if not slack_on:
        return None
    try:
        return build_slack_edge(settings, services)
    except SlackConfigError as exc:
        raise StartupError(f"slack: {exc}") from None


def build_services(settings: Settings, db: Database) -> Services:
    """Assemble the core services; platforms register their messengers afterwards."""
    clock = SystemClock()
    catalogue = default_catalogue()
    config = EngineConfig(
        max_attempts=settings.max_send_attempts,
        send_rate_per_workspace=settings.send_rate_per_workspace,
    )
    dispatcher = Dispatcher(db, clock, catalogue, {}, config)
    configure_sealing(settings)
    return Services(
        db=db,
        clock=clock,
        catalogue=catalogue,
        dispatcher=dispatcher,
        interactions=Interactions(dispatcher),
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
    settings: Settings, *, web_server: bool = True, scheduler: bool = True
) -> None:
    """Serve HTTP and/or run the scheduler until SIGINT or SIGTERM, then shut down cleanly."""
    log_platforms(settings)
    db = await prepare_database(settings)
    services = build_services(settings, db)
    runner: web.AppRunner | None = None
    ticker: Ticker | None = None
    slack: SlackEdge | None = None
    try:
        slack = build_slack(settings, services)
        if web_server:
            app = create_web_app(db)
            if slack is not None:
                slack.add_routes(app)
            runner = web.AppRunner(app, handle_signals=False)
            await runner.setup()
            site = web.TCPSite(runner, settings.host, settings.port)
            try:
                await site.start()
            except OSError as exc:
                raise StartupError(
                    f"cannot listen on {settings.host}:{settings.port} ({exc.strerror}); "
                    "set PORT to a free port, e.g. PORT=3001"
                ) from None
            logger.info(
                "listening on http://%s:%s (health: /healthz)", settings.host, settings.port
            )
            if slack is not None:
                # Socket Mode belongs to the process that answers Slack, not to a scheduler.
                try:
                    await slack.start()
                except SlackConfigError as exc:
                    raise StartupError(f"slack: {exc}") from None
        if scheduler:
            ticker = Ticker(services.dispatcher, settings.tick_seconds)
            ticker.start()
        else:
            logger.info("scheduler: off in this process (run `nudgebot scheduler` elsewhere)")
        await _wait_for_stop()
        logger.info("shutting down")
    finally:
        if ticker is not None:
            await ticker.stop()
        if slack is not None and web_server:
            await slack.stop()
        if runner is not None:
            await runner.cleanup()
        await db.dispose()
        logger.info("stopped")
