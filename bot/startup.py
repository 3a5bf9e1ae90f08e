"""Open the store as the service does, and say in one line why the service cannot start."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from bot.settings import Settings
from nudges.store.database import Database
from nudges.store.migrate import (
    current_revision,
    migrate_once,
    migration_lock,
    migration_running,
    schema_state,
)

logger = logging.getLogger(__name__)


class StartupError(Exception):
    """Raised with one readable line when the service cannot start."""


def safe_url(db: Database) -> str:
    """Render the database URL without its password, for messages."""
    return db.url.render_as_string(hide_password=True)


async def prepare_database(settings: Settings, *, migrate: bool = False) -> Database:
    """Connect, and bring an embedded SQLite schema to head; refuse an old PostgreSQL schema.

    With ``migrate`` a PostgreSQL schema is brought to head too, under the migration lock, so
    replicas started at once migrate it once. Without it, a replica that finds a migration
    under way waits for it instead of refusing.
    """
    db = Database(settings.database_url)
    try:
        state = await schema_state(db.engine)
    except (OSError, SQLAlchemyError) as exc:
        await db.dispose()
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        raise StartupError(f"cannot reach the database at {safe_url(db)}: {reason}") from None
    revision, head = state.revision, state.head
    if state.current:
        return db
    if state.newer:
        if state.runnable:
            # The previous release during a rolling upgrade: the schema only grew.
            logger.warning("%s", state.describe())
            return db
        await db.dispose()
        raise StartupError(
            f"the database schema is at {revision}, which this version ({head}) cannot run on: "
            "run the newer nudgebot that migrated it, or restore a backup"
        )
    if settings.is_sqlite or migrate:
        await migrate_once(db.engine)
        return db
    if await migration_running(db.engine):
        async with migration_lock(db.engine, "bring the schema to head"):
            pass
    # Looked at again either way: a migration may have ended between the two looks.
    if await current_revision(db.engine) == head:
        return db
    await db.dispose()
    raise StartupError(
        f"the database schema is at {revision or 'nothing (empty database)'} but this version "
        f"needs {head}: run `nudgebot migrate` first (or start with `serve --migrate`)"
    )
