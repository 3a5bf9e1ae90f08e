"""Bring the schema to head with Alembic, once per deployment, and tell whether it is there."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger(__name__)

# Any constant works as long as every replica uses it; it differs from the scheduler's lock
# ("nudgemig" in ASCII), so a migrating process never blocks the election of a scheduler.
MIGRATION_LOCK_KEY = 0x6E756467656D6967


def _script_location() -> Path:
    # Imported lazily: the migrations package imports the models, which import this package.
    import migrations

    return Path(migrations.__file__).parent


def alembic_config(url: str | None = None) -> Config:
    """Build an Alembic config that finds ``migrations/`` wherever the package is installed."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_script_location()))
    if url:
        # ConfigParser interpolation would choke on a password containing '%'.
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """Return the newest revision id shipped with this version."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _run_with_connection(connection: Connection, action: str, target: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(cfg, target)
    else:
        command.downgrade(cfg, target)


async def upgrade(engine: AsyncEngine, target: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``target``."""
    async with engine.begin() as conn:
        await conn.run_sync(_run_with_connection, "upgrade", target)


async def downgrade(engine: AsyncEngine, target: str = "base") -> None:
    """Downgrade the database behind ``engine`` to ``target``."""
    async with engine.begin() as conn:
        await conn.run_sync(_run_with_connection, "downgrade", target)


def _current(connection: Connection) -> Any:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    """Return the revision the database is at, or None when it has no schema yet."""
    async with engine.connect() as conn:
        revision = await conn.run_sync(_current)
    return str(revision) if revision else None


async def is_at_head(engine: AsyncEngine) -> bool:
    """Tell whether the database schema matches this version's migrations."""
    return await current_revision(engine) == head_revision()


@contextlib.asynccontextmanager
async def _postgres_lock(engine: AsyncEngine, purpose: str) -> AsyncIterator[None]:
    # A session lock on a connection of its own: it outlives the migration's transactions and
    # goes away with the session if this process dies, so no stale lock blocks the next start.
    async with engine.connect() as conn:
        got = await conn.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
        )
        await conn.commit()
        if not got:
            logger.info("another process is migrating the schema; waiting for it to %s", purpose)
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            await conn.commit()
            logger.info("the other process's migration is over")
        try:
            yield
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            await conn.commit()


def _sqlite_lock_path(engine: AsyncEngine) -> Path | None:
    database = engine.url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser().with_name(Path(database).name + ".migrate-lock")


@contextlib.asynccontextmanager
async def _sqlite_lock(engine: AsyncEngine, purpose: str) -> AsyncIterator[None]:
    # SQLite has no advisory locks: processes sharing the file take a lock on a file beside it.
    path = _sqlite_lock_path(engine)
    if path is None:
        yield
        return
    with open(path, "a+b") as handle:  # noqa: ASYNC230 -- a lock file, opened once at start
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("another process is migrating the schema; waiting for it to %s", purpose)
            await asyncio.to_thread(fcntl.flock, handle, fcntl.LOCK_EX)
            logger.info("the other process's migration is over")
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migration_lock(
    engine: AsyncEngine, purpose: str = "finish"
) -> contextlib.AbstractAsyncContextManager[None]:
    """Hold the deployment-wide migration lock; say in the log when another process has it."""
    if engine.dialect.name == "postgresql":
        return _postgres_lock(engine, purpose)
    return _sqlite_lock(engine, purpose)


async def migrate_once(engine: AsyncEngine) -> tuple[str | None, str | None]:
    """Upgrade to head under the migration lock; return the revisions before and after.

    Replicas that start at once all call this: the first one migrates, the others wait for
    it, then find the schema at head and change nothing.
    """
    async with migration_lock(engine):
        before = await current_revision(engine)
        if before != head_revision():
            logger.info("migrating the schema from %s to %s", before or "empty", head_revision())
            await upgrade(engine)
        after = await current_revision(engine)
    return before, after


async def migration_running(engine: AsyncEngine) -> bool:
    """Tell whether another process holds the migration lock right now (PostgreSQL only)."""
    if engine.dialect.name != "postgresql":
        return False
    async with engine.connect() as conn:
        got = await conn.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
        )
        if got:
            await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        await conn.commit()
    return not got
