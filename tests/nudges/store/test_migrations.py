from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from nudges.store.database import Database
from nudges.store.migrate import current_revision, downgrade, head_revision, is_at_head, upgrade
from nudges.store.models import metadata


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names()) - {"alembic_version"}


def _diff(conn: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(conn), metadata))


async def test_upgrade_to_head_and_downgrade_to_base_on_an_empty_database(
    empty_database_url: str,
) -> None:
    db = Database(empty_database_url)
    try:
        assert await current_revision(db.engine) is None
        await upgrade(db.engine)
        assert await is_at_head(db.engine)
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_tables) == set(metadata.tables)
        await downgrade(db.engine, "base")
        assert await current_revision(db.engine) is None
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_tables) == set()
        # A second round trip proves downgrade left nothing behind that blocks an upgrade.
        await upgrade(db.engine)
        assert await current_revision(db.engine) == head_revision()
    finally:
        await db.dispose()


async def test_models_and_migrations_agree(db: Database) -> None:
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


def test_constraint_names_follow_the_naming_convention() -> None:
    names = {c.name for table in metadata.tables.values() for c in table.constraints}
    assert None not in names
    assert "uq_deliveries_idempotency_key" in names
