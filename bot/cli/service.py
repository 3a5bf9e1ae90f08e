"""Run the service from the command line: ``serve``, ``scheduler`` and ``migrate``."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from bot.cli.base import CommandFailed, reason_of, settings

if TYPE_CHECKING:
    from bot.settings import Settings


def _run(*, web_server: bool, scheduler: bool, migrate: bool = False) -> int:
    loaded = settings()
    # Imported once the settings are known good: a configuration mistake is reported at once.
    from bot.app import run_service
    from bot.startup import StartupError

    try:
        asyncio.run(
            run_service(loaded, web_server=web_server, scheduler=scheduler, migrate=migrate)
        )
    except StartupError as exc:
        raise CommandFailed(str(exc)) from None
    except KeyboardInterrupt:
        pass
    return 0


def serve(args: argparse.Namespace) -> int:
    """Run the web service (and the scheduler unless told not to)."""
    return _run(web_server=True, scheduler=not args.no_scheduler, migrate=args.migrate)


def scheduler(_args: argparse.Namespace) -> int:
    """Run only the scheduler."""
    return _run(web_server=False, scheduler=True)


async def _migrate(loaded: Settings) -> str:
    from nudges.store.database import Database
    from nudges.store.migrate import head_revision, known_revisions, migrate_once

    db = Database(loaded.database_url)
    try:
        # Under the migration lock: a second `migrate` (or `serve --migrate`) waits, then
        # finds nothing left to do.
        before, after = await migrate_once(db.engine)
    finally:
        await db.dispose()
    if after is not None and after not in known_revisions():
        return (
            f"schema at {after} is newer than this release ({head_revision()}); nothing to "
            "migrate (a newer release migrated it)"
        )
    if before == after:
        return f"schema already at {after}"
    return f"schema upgraded from {before or 'empty'} to {after}"


def migrate(_args: argparse.Namespace) -> int:
    """Upgrade the database schema to head."""
    loaded = settings()
    try:
        print(asyncio.run(_migrate(loaded)))
    except Exception as exc:
        raise CommandFailed(f"migration failed: {reason_of(exc)}") from None
    return 0
