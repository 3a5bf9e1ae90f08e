"""Play someone who reads the service's logs at ``LOG_LEVEL=DEBUG``.

The attack of issue 10 rebuilt person → answer pairs from the SQL driver loggers, which print
each statement with its parameters (``UPDATE pulse_participation …``, ``INSERT INTO
pulse_answers … value``), and read typed commitment and question text there too.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.logs import VALUE_BEARING, configure_logging
from nudges.store.database import Database
from tests.privacy.linking import (
    FINAL,
    Candidates,
    answered_world,
    assert_no_better_than_chance,
    close,
    poll_answers,
)

TYPED = "Bring the quarterly numbers to Anna"
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b|pulse_(answers|pending|participation)")
RECORD = re.compile(r"^\d\d:\d\d:\d\d (?P<level>[A-Z]+)\s+(?P<name>\S+): ")


def _quiet_driver_records(lines: list[str]) -> list[str]:
    """Return the log lines below WARNING from a value-bearing logger."""
    out = []
    for line in lines:
        record = RECORD.match(line)
        quiet = record is not None and record["level"] in ("DEBUG", "INFO")
        if quiet and record and record["name"].split(".")[0] in VALUE_BEARING:
            out.append(line)
    return out


@pytest.fixture
def debug_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """Configure logging as ``nudgebot serve`` does with LOG_LEVEL=DEBUG; restore it after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    levels = {name: logging.getLogger(name).level for name in (*VALUE_BEARING, "alembic")}
    configure_logging("DEBUG", "text")
    try:
        yield capsys
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def log_attack(lines: list[str]) -> Candidates:
    """Pair each person named in a line with any answer value in the lines that follow it."""
    candidates: Candidates = {person: Counter() for person in FINAL}
    value = re.compile(r"value\D{0,12}([1-5])\b|\(([1-5]),\s*'[0-9a-f-]{36}'")
    for index, line in enumerate(lines):
        for person in FINAL:
            if re.search(rf"\b{person}\b", line):
                for later in lines[index : index + 20]:
                    for match in value.finditer(later):
                        candidates[person][int(match.group(1) or match.group(2))] += 1
    return candidates


async def test_debug_logs_link_nobody_and_print_no_statement(
    db: Database, debug_logs: pytest.CaptureFixture[str]
) -> None:
    logging.getLogger("nudges.privacy.probe").debug("debug is on")
    world, poll = await answered_world(db)
    await close(world, poll)
    # A database error whose statement held typed text, logged with its traceback.
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT * FROM no_such_table WHERE x = :t"), {"t": TYPED})
    except DBAPIError:
        logging.getLogger("nudges.privacy.probe").exception("a statement failed")
    logging.getLogger("sqlalchemy.engine.Engine").warning("a driver warning still shows")
    err = debug_logs.readouterr().err
    lines = err.splitlines()
    assert "debug is on" in err and "a driver warning still shows" in err
    assert "a statement failed" in err and "parameters hidden" in err
    assert _quiet_driver_records(lines) == []
    # Beyond the failed statement's own traceback, no SQL is printed at all.
    assert not [line for line in lines if SQL.search(line) and "no_such_table" not in line]
    assert TYPED not in err
    candidates = log_attack(lines)
    assert_no_better_than_chance(candidates, poll_answers())
    assert all(not found for found in candidates.values())


async def test_a_library_lowering_its_level_again_still_prints_nothing(
    db: Database, debug_logs: pytest.CaptureFixture[str]
) -> None:
    for name in ("sqlalchemy.engine.Engine", "sqlalchemy.pool", "aiosqlite", "asyncpg"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    await answered_world(db)
    err = debug_logs.readouterr().err
    assert not any(name in err for name in ("sqlalchemy", "aiosqlite", "asyncpg"))
    assert not SQL.search(err)
