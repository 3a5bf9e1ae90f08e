"""A release older than the schema serves on it only when every newer revision was expand-only."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from aiohttp.test_utils import make_mocked_request
from alembic.config import Config
from alembic.script import ScriptDirectory

from bot.cli.service import _migrate as cli_migrate
from bot.doctor import database_findings
from bot.server import create_web_app, readyz
from bot.settings import Settings
from bot.startup import StartupError, prepare_database
from nudges.store.database import Database
from nudges.store.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    known_revisions,
    migrate_once,
    schema_state,
    upgrade,
)
from nudges.store.schema_floor import oldest_code

VERSIONS = Path(__file__).resolve().parents[3] / "migrations" / "versions"
# The revision before which no revision said whether it keeps the previous release working.
FIRST_DECLARED_AFTER = "0008_teams"


def _revision(folder: Path, rev: str, down: str | None, *, expand_only: bool | None) -> None:
    flag = "" if expand_only is None else f"expand_only = {expand_only}\n"
    table = f"future_{rev}"
    folder.joinpath(f"{rev}.py").write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = None\n"
        f"depends_on = None\n{flag}\n\n"
        f"def upgrade():\n    op.create_table({table!r}, sa.Column('id', sa.Integer(), "
        "primary_key=True))\n\n\n"
        f"def downgrade():\n    op.drop_table({table!r})\n"
    )


def _config(*folders: Path) -> Config:
    cfg = alembic_config()
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(str(f) for f in folders))
    return cfg


def test_the_floor_goes_back_over_expand_only_revisions_and_stops_at_a_contract(
    tmp_path: Path,
) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(VERSIONS.parent))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(tmp_path))
    _revision(tmp_path, "a1", None, expand_only=None)
    _revision(tmp_path, "b2", "a1", expand_only=True)
    _revision(tmp_path, "c3", "b2", expand_only=True)
    script = ScriptDirectory.from_config(cfg)
    assert oldest_code(script, "c3") == "a1"
    _revision(tmp_path, "d4", "c3", expand_only=False)
    _revision(tmp_path, "e5", "d4", expand_only=True)
    script = ScriptDirectory.from_config(cfg)
    assert oldest_code(script, "d4") == "d4"
    assert oldest_code(script, "e5") == "d4"
    assert oldest_code(script, "a1") == "a1"


def test_every_new_revision_says_whether_the_previous_release_keeps_working() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    undeclared = [
        r.revision
        for r in script.iterate_revisions(head_revision(), FIRST_DECLARED_AFTER)
        if r.revision != FIRST_DECLARED_AFTER and not hasattr(r.module, "expand_only")
    ]
    assert undeclared == [], "add expand_only = True/False to these revisions"


async def _ready(db: Database) -> tuple[int, dict[str, object]]:
    response = await readyz(make_mocked_request("GET", "/readyz", app=create_web_app(db)))
    assert response.text is not None
    return response.status, json.loads(response.text)


async def test_a_schema_newer_than_the_code_is_served_while_it_only_grew(
    empty_database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database(empty_database_url)
    settings = Settings(database_url=empty_database_url)
    try:
        await upgrade(db.engine)
        assert await _ready(db) == (
            200,
            {
                "status": "ready",
                "schema": head_revision(),
                "code": head_revision(),
                "schema_newer": False,
            },
        )
        # The next release ships a revision that only adds a table, and migrates.
        _revision(tmp_path, "9901_next", head_revision(), expand_only=True)
        await upgrade(db.engine, cfg=_config(VERSIONS, tmp_path))
        assert await current_revision(db.engine) == "9901_next"
        state = await schema_state(db.engine)
        assert (state.newer, state.runnable) == (True, True)
        # The new revision and every expand-only one before it vouch for older code too.
        assert state.floor in known_revisions()
        status, body = await _ready(db)
        assert status == 200
        assert body["schema_newer"] is True and body["safe"] is True
        assert "newer than this release" in str(body["note"])
        with caplog.at_level(logging.WARNING):
            served = await prepare_database(settings, migrate=True)
        await served.dispose()
        assert "safe to run during a rolling upgrade" in caplog.text
        # `migrate` of this release leaves a newer schema alone, and says why.
        assert await migrate_once(db.engine) == ("9901_next", "9901_next")
        assert "newer than this release" in await cli_migrate(settings)
        (schema,) = [f for f in await database_findings(settings) if f.check == "schema"]
        assert schema.ok and "safe to run" in schema.detail

        # The release after that contracts: this code may no longer run.
        _revision(tmp_path, "9902_contract", "9901_next", expand_only=False)
        await upgrade(db.engine, cfg=_config(VERSIONS, tmp_path))
        status, body = await _ready(db)
        assert status == 503
        assert body["schema_newer"] is True and body["safe"] is False
        assert body["runs_from"] == "9902_contract"
        assert "upgrade this release" in str(body["reason"])
        with pytest.raises(StartupError, match="cannot run on"):
            await prepare_database(settings)
        (schema,) = [f for f in await database_findings(settings) if f.check == "schema"]
        assert not schema.ok and "upgrade this release" in schema.detail
    finally:
        await db.dispose()
