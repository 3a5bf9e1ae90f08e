from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bot.slack.oauth_tables import slack_metadata
from bot.teams.references import teams_metadata
from nudges.store.database import Database
from nudges.store.migrate import current_revision, downgrade, head_revision, is_at_head, upgrade
from nudges.store.models import metadata

# Everything the migrations create: the core's tables plus the Slack OAuth and Teams tables.
ALL_METADATA = [metadata, slack_metadata, teams_metadata]
ALL_TABLES = set(metadata.tables) | set(slack_metadata.tables) | set(teams_metadata.tables)


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names()) - {"alembic_version"}


def _diff(conn: Connection) -> list[Any]:
    # compare_metadata accepts a sequence of MetaData like env.py's target_metadata.
    return list(compare_metadata(MigrationContext.configure(conn), ALL_METADATA))


async def test_upgrade_to_head_and_downgrade_to_base_on_an_empty_database(
    empty_database_url: str,
) -> None:
    db = Database(empty_database_url)
    try:
        assert await current_revision(db.engine) is None
        await upgrade(db.engine)
        assert await is_at_head(db.engine)
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_tables) == ALL_TABLES
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
    tables = [
        *metadata.tables.values(),
        *slack_metadata.tables.values(),
        *teams_metadata.tables.values(),
    ]
    names = {c.name for table in tables for c in table.constraints}
    assert None not in names
    assert "uq_deliveries_idempotency_key" in names
    assert "uq_processed_events_platform_event_id" in names
