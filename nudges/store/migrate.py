"""Bring the schema to head with Alembic, once per deployment, and tell whether it is there."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from nudges.store import schema_floor

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


@functools.cache
def head_revision() -> str:
    """Return the newest revision id shipped with this version."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


@functools.cache
def known_revisions() -> frozenset[str]:
    """Return every revision id this version ships (its head and all before it)."""
    script = ScriptDirectory.from_config(alembic_config())
    return frozenset(r.revision for r in script.walk_revisions())


def _run_with_connection(connection: Connection, action: str, target: str, cfg: Config) -> None:
    cfg.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(cfg, target)
        if target == "head":
            schema_floor.record(connection, ScriptDirectory.from_config(cfg))
    else:
        command.downgrade(cfg, target)


async def upgrade(engine: AsyncEngine, target: str = "head", cfg: Config | None = None) -> None:
    """Upgrade the database behind ``engine`` to ``target`` (a head also gets its floor)."""
    async with engine.begin() as conn:
        await conn.run_sync(_run_with_connection, "upgrade", target, cfg or alembic_config())


async def downgrade(engine: AsyncEngine, target: str = "base") -> None:
    """Downgrade the database behind ``engine`` to ``target``."""
    async with engine.begin() as conn:
        await conn.run_sync(_run_with_connection, "downgrade", target, alembic_config())


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


@dataclass(frozen=True)
class SchemaState:
    """Where the schema stands against this version's code, and whether the code may run."""

    revision: str | None
    head: str
    # The oldest code revision that runs on a schema newer than this code (None if unknown).
    floor: str | None = None

    @property
    def current(self) -> bool:
        """Tell whether the schema is at this version's head."""
        return self.revision == self.head

    @property
    def newer(self) -> bool:
        """Tell whether the schema is at a revision this version does not ship."""
        return self.revision is not None and self.revision not in known_revisions()

    @property
    def runnable(self) -> bool:
        """Tell whether this code may serve on the schema: at head, or newer but expand-only."""
        return self.current or (self.newer and self.floor in known_revisions())

    def describe(self) -> str:
        """Say in one line where the schema stands, for /readyz and the start-up log."""
        if self.current:
            return f"schema at {self.head}"
        if self.newer and self.runnable:
            return (
                f"schema at {self.revision} is newer than this release ({self.head}) and keeps "
                f"releases from {self.floor} on working: safe to run during a rolling upgrade"
            )
        if self.newer:
            floor = f"releases from {self.floor} on" if self.floor else "no known release"
            return (
                f"schema at {self.revision} is newer than this release ({self.head}) and only "
                f"{floor} can run on it: upgrade this release"
            )
        return f"schema at {self.revision or 'nothing (empty database)'}, needs {self.head}"


async def schema_state(engine: AsyncEngine) -> SchemaState:
    """Read the schema's revision and, when it is newer than this code, its floor."""
    revision = await current_revision(engine)
    head = head_revision()
    if revision is None or revision in known_revisions():
        return SchemaState(revision, head)
    async with engine.connect() as conn:
        floor = await conn.run_sync(schema_floor.read, revision)
    return SchemaState(revision, head, floor)


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
        state = await schema_state(engine)
        if state.newer:
            # Nothing to do, and nothing Alembic could do: it knows no newer revision.
            logger.info("%s", state.describe())
        elif not state.current:
            logger.info("migrating the schema from %s to %s", state.revision or "empty", state.head)
            await upgrade(engine)
        after = await current_revision(engine)
    return state.revision, after


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
