"""What every ``nudgebot`` command shares: failing with one line, the settings, the store."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.settings import Settings

# Each command imports what it needs when it runs, so `--help` and the light commands start in a
# fraction of the time the whole service (both platform SDKs) takes to import.

EXIT_USAGE = 2
EXIT_FAILURE = 1
T = TypeVar("T")


class CommandFailed(Exception):
    """End a command with one line on standard error and an exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.code = code


def settings() -> Settings:
    """Load the settings and configure logging as they say."""
    from bot.logs import configure_logging
    from bot.settings import load_settings

    loaded = load_settings()
    configure_logging(loaded.log_level, loaded.log_format)
    return loaded


def reason_of(exc: BaseException) -> str:
    """Return the first line of what went wrong, from the driver's own error where there is one."""
    return str(getattr(exc, "orig", exc)).splitlines()[0]


def database_down(settings: Settings, exc: BaseException) -> CommandFailed:
    """Say which database could not be reached, as `serve` does, without the password."""
    from nudges.store.database import normalize_url

    url = normalize_url(settings.database_url).render_as_string(hide_password=True)
    return CommandFailed(f"cannot reach the database at {url}: {reason_of(exc)}")


def on_store(
    settings: Settings,
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    expected: tuple[type[Exception], ...] = (),
) -> T:
    """Open the store the way ``serve`` does, run ``work`` in one session, close the store.

    SQLite is brought to head, PostgreSQL must be. An ``expected`` error, or a store that cannot
    start, ends the command with its message; a database that cannot be reached, with its URL.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from bot.startup import StartupError, prepare_database

    async def run() -> T:
        db = await prepare_database(settings)
        try:
            async with db.session() as session:
                return await work(session)
        finally:
            await db.dispose()

    failures: tuple[type[Exception], ...] = (*expected, StartupError)
    try:
        return asyncio.run(run())
    except failures as exc:
        raise CommandFailed(str(exc)) from None
    except (OSError, SQLAlchemyError) as exc:
        raise database_down(settings, exc) from None
