"""Replicas started at once on an empty schema: one migrates, the others wait, all get ready."""

from __future__ import annotations

import asyncio
from pathlib import Path

from nudges.store.database import Database
from nudges.store.migrate import current_revision, head_revision, migration_lock, upgrade
from tests.deploy.processes import ready_now, start, wait_ready
from tests.fault.harness import Service

MIGRATED = "migrating the schema from"
WAITING = "another process is migrating the schema; waiting"


async def _stop_all(services: list[Service]) -> None:
    await asyncio.gather(*(s.stop() for s in services))


async def test_three_processes_started_at_once_migrate_an_empty_database_once(
    empty_database_url: str, tmp_path: Path
) -> None:
    commands = [["migrate"], ["serve", "--migrate"], ["serve", "--migrate"]]
    services = await asyncio.gather(
        *(
            start(command, empty_database_url, tmp_path, name=f"p{i}")
            for i, command in enumerate(commands)
        )
    )
    try:
        migrate, *servers = services
        assert await migrate.wait(90) == 0, migrate.log()
        for server in servers:
            body = await wait_ready(server)
            assert body["schema"] == head_revision()
        logs = [s.log() for s in services]
        migrations = [line for log in logs for line in log.splitlines() if MIGRATED in line]
        assert len(migrations) == 1, "\n---\n".join(logs)
        # Whoever came second either waited for the lock or found the schema at head.
        for log in logs:
            assert "Traceback" not in log, log
    finally:
        await _stop_all(services)
    db = Database(empty_database_url)
    try:
        assert await current_revision(db.engine) == head_revision()
    finally:
        await db.dispose()


async def test_replicas_wait_for_a_migration_under_way_and_say_so(
    empty_database_url: str, tmp_path: Path
) -> None:
    holder = Database(empty_database_url)
    services: list[Service] = []
    try:
        async with migration_lock(holder.engine):
            # Without --migrate a replica on an empty schema would refuse: with a migration
            # under way it waits for it, as a replica with --migrate does.
            services.append(await start(["serve"], empty_database_url, tmp_path, name="plain"))
            services.append(
                await start(["serve", "--migrate"], empty_database_url, tmp_path, name="opt-in")
            )
            for service in services:
                await _logged(service, WAITING)
            await upgrade(holder.engine)
            for service in services:
                assert service.running, service.log()
                assert not await ready_now(service)
        for service in services:
            await wait_ready(service)
            # The schema was at head when each one got the lock: nothing left to migrate.
            assert MIGRATED not in service.log()
    finally:
        await holder.dispose()
        await _stop_all(services)


async def _logged(service: Service, line: str, limit: float = 60.0) -> None:
    for _ in range(int(limit * 10)):
        if line in service.log():
            return
        assert service.running, service.log()
        await asyncio.sleep(0.1)
    raise AssertionError(f"{service.name} never logged {line!r}:\n{service.log()}")
