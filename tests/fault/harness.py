"""Drive the real `nudgebot serve` process from outside: seed a backlog, start, kill, count.

Shared by the fault tests and the benchmarks under bench/. Everything here looks at the
service only from outside: the store it writes and what the fake Slack received.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from nudges.content.catalogue import default_catalogue
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.migrate import upgrade
from nudges.store.org import Person, Workspace
from tests.serve import Service, start_serve

SECRET = "fault-signing-secret"
TOKEN = "xoxb-fault-token"
TEAM = "T0FAULT01"
# Fernet key used only by these runs to encrypt the fake workspaces' bot tokens.
FERNET_KEY = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
CLIENT_ID = "1111.2222"
T = TypeVar("T")

FINAL = {"sent", "failed", "cancelled"}


def user_ids(count: int, workspace: int = 0) -> list[str]:
    """Return ``count`` Slack-shaped user ids, distinct per workspace."""
    return [f"U{workspace:03d}{i:07d}" for i in range(count)]


def team_id(workspace: int) -> str:
    """Return the Slack team id of fake workspace number ``workspace``."""
    return TEAM if workspace == 0 else f"T{workspace:08d}"


def workspace_token(workspace: int) -> str:
    """Return the bot token of fake workspace number ``workspace`` (one token, one workspace)."""
    return TOKEN if workspace == 0 else f"xoxb-fault-{workspace:04d}"


async def migrate(url: str) -> None:
    """Bring the database at ``url`` to the schema head."""
    db = Database(url)
    try:
        await upgrade(db.engine)
    finally:
        await db.dispose()


async def fresh_postgres(url: str) -> None:
    """Create (or empty) the PostgreSQL database named in ``url`` and migrate it."""
    target = make_url(url)
    admin = create_async_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        await admin.dispose()
    await migrate(url)


def sample_nudge_key() -> str:
    """Return a nudge that needs no report, as `/nudges test` picks for a non-manager."""
    catalogue = default_catalogue()
    return next(n.key for n in catalogue.nudges if not n.needs_report and not n.programme_only)


async def seed_backlog(
    url: str,
    recipients: int,
    *,
    workspaces: int = 1,
    status: str = "pending",
    claimed_ago: timedelta | None = None,
    due_at: datetime | None = None,
    chunk: int = 2000,
) -> dict[str, list[str]]:
    """Store ``workspaces`` Slack workspaces and a due explicit message for each person.

    The rows are what `/nudges test` stores (an explicit sample, due now), so working hours
    and the weekly budget do not hold any back. Returns the user ids per team id.
    """
    key = sample_nudge_key()
    now = datetime.now(UTC)
    due = due_at or now - timedelta(seconds=1)
    db = Database(url)
    out: dict[str, list[str]] = {}
    try:
        async with db.session() as session:
            for w in range(workspaces):
                team = team_id(w)
                ws = Workspace(platform="slack", external_id=team, name=f"Fault {w}")
                session.add(ws)
                await session.flush()
                users = user_ids(recipients // workspaces + (w < recipients % workspaces), w)
                out[team] = users
                for i in range(0, len(users), chunk):
                    part = users[i : i + chunk]
                    ids = (
                        await session.scalars(
                            insert(Person).returning(Person.id, sort_by_parameter_order=True),
                            [{"workspace_id": ws.id, "external_id": u} for u in part],
                        )
                    ).all()
                    rows: list[dict[str, Any]] = []
                    for person_id in ids:
                        row: dict[str, Any] = {
                            "idempotency_key": f"sample:{person_id}:fault",
                            "workspace_id": ws.id,
                            "recipient_id": person_id,
                            "kind": "sample",
                            "content_key": key,
                            "payload": {"explicit": True, "reason_params": {}},
                            "scheduled_at": due,
                            "next_attempt_at": due,
                            "status": status,
                            "attempts": 0,
                            "created_at": now,
                        }
                        if claimed_ago is not None:
                            row.update(
                                claimed_by="a-worker-long-gone",
                                claimed_at=now - claimed_ago,
                                attempts=1,
                            )
                            if hasattr(Delivery, "send_started_at"):
                                # Say every send had begun: only Slack can tell which landed.
                                row["send_started_at"] = now - claimed_ago
                        rows.append(row)
                    await session.execute(insert(Delivery), rows)
            await session.commit()
    finally:
        await db.dispose()
    return out


async def pending_due_now(url: str) -> int:
    """Make every pending delivery but a scheduled nudge due now, whatever the hour or day.

    Polls a `/nudges pulse now` opened wait for each member's next working moment, which on
    a weekend is Monday; marked as `/nudges test` marks its sample, they go out at once.
    Returns how many were moved.
    """
    moment = datetime.now(UTC) - timedelta(seconds=1)
    db = Database(url)
    try:
        async with db.session() as session:
            rows = (
                await session.scalars(
                    select(Delivery).where(Delivery.status == "pending", Delivery.kind != "nudge")
                )
            ).all()
            for delivery in rows:
                delivery.payload = {**(delivery.payload or {}), "explicit": True}
                delivery.scheduled_at = delivery.next_attempt_at = moment
            await session.commit()
            return len(rows)
    finally:
        await db.dispose()


async def install_workspaces(url: str, workspaces: int) -> None:
    """Store an OAuth installation (encrypted bot token) for each fake workspace."""
    from slack_sdk.oauth.installation_store import Installation

    from bot.slack.oauth import EncryptedInstallationStore

    db = Database(url)
    try:
        store = EncryptedInstallationStore(CLIENT_ID, db.engine, FERNET_KEY)
        for w in range(workspaces):
            await store.async_save(
                Installation(
                    app_id="A0FAULT",
                    team_id=team_id(w),
                    team_name=f"Fault {w}",
                    bot_token=workspace_token(w),
                    bot_id=f"B{w:08d}",
                    bot_user_id=f"U0BOT{w:05d}",
                    bot_scopes=["chat:write", "im:history"],
                    user_id=f"U0INSTALL{w:03d}",
                    installed_at=time.time(),
                )
            )
    finally:
        await db.dispose()


async def delivery_statuses(url: str) -> Counter[str]:
    """Count deliveries by status."""
    db = Database(url)
    try:
        async with db.session() as session:
            rows = await session.execute(
                select(Delivery.status, func.count()).group_by(Delivery.status)
            )
            return Counter({status: int(n) for status, n in rows.all()})
    finally:
        await db.dispose()


async def delivery_ids(url: str) -> dict[str, int]:
    """Map each recipient's user id to the id of their delivery."""
    db = Database(url)
    try:
        async with db.session() as session:
            rows = await session.execute(
                select(Person.external_id, Delivery.id).join(
                    Person, Person.id == Delivery.recipient_id
                )
            )
            return {user: int(delivery_id) for user, delivery_id in rows.all()}
    finally:
        await db.dispose()


def service_env(
    database_url: str,
    api_url: str,
    *,
    oauth: bool = False,
    extra: Mapping[str, str | None] | None = None,
) -> dict[str, str | None]:
    """Return the settings of a service process: this fake Slack, this database."""
    settings: dict[str, str | None] = {
        "DATABASE_URL": database_url,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api_url,
        "TICK_SECONDS": "5",
        "SEND_RATE_PER_WORKSPACE": "50",
        "LOG_LEVEL": "INFO",
    }
    if oauth:
        settings.update(
            SLACK_CLIENT_ID=CLIENT_ID,
            SLACK_CLIENT_SECRET="fault-client-secret",
            NUDGEBOT_SECRET_KEY=FERNET_KEY,
        )
    else:
        settings["SLACK_BOT_TOKEN"] = TOKEN
    settings.update(extra or {})
    return settings


async def start_service(
    database_url: str,
    api_url: str,
    workdir: Path,
    *,
    name: str = "service",
    oauth: bool = False,
    extra_env: Mapping[str, str | None] | None = None,
    healthy: bool = True,
) -> Service:
    """Start `nudgebot serve` against ``api_url`` and ``database_url``."""
    settings = service_env(database_url, api_url, oauth=oauth, extra=extra_env)
    return await start_serve(workdir, settings, name=name, healthy=healthy)


async def wait_for(
    check: Callable[[], Awaitable[T]] | Callable[[], T], limit: float, every: float = 0.2
) -> T | None:
    """Poll ``check`` until it returns something truthy or ``limit`` seconds pass."""
    deadline = time.monotonic() + limit
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(every)


@dataclass
class Tally:
    """Who received how many messages, against who was due one."""

    due: list[str]
    received: Mapping[str, int]
    statuses: Counter[str]

    @property
    def once(self) -> int:
        """Count recipients who received exactly one message."""
        return sum(1 for u in self.due if self.received.get(u, 0) == 1)

    @property
    def nothing(self) -> int:
        """Count recipients who received nothing."""
        return sum(1 for u in self.due if self.received.get(u, 0) == 0)

    @property
    def duplicates(self) -> int:
        """Count the extra messages beyond one per recipient."""
        return sum(max(0, self.received.get(u, 0) - 1) for u in self.due)

    @property
    def unsettled(self) -> int:
        """Count deliveries still pending or sending."""
        return sum(n for s, n in self.statuses.items() if s not in FINAL)

    def __str__(self) -> str:
        return (
            f"{len(self.due)} due: {self.once} received once, {self.nothing} nothing, "
            f"{self.duplicates} duplicates; store: {dict(sorted(self.statuses.items()))}"
        )


async def settle(
    url: str,
    due: Iterable[str],
    received: Callable[[], Mapping[str, int]] | Callable[[], Awaitable[Mapping[str, int]]],
    limit: float,
    grace: float = 1.0,
) -> Tally:
    """Wait until every due recipient got a message and the store holds nothing unsettled."""
    due = list(due)

    async def snapshot() -> Tally:
        got = received()
        if asyncio.iscoroutine(got):
            got = await got
        return Tally(due, dict(got), await delivery_statuses(url))  # type: ignore[arg-type]

    async def done() -> bool:
        tally = await snapshot()
        return tally.nothing == 0 and tally.unsettled == 0

    await wait_for(done, limit, every=0.5)
    # A late duplicate would show up just after everything looked settled.
    await asyncio.sleep(grace)
    return await snapshot()


class TcpProxy:
    """Forward 127.0.0.1:port to a target; stop() cuts every connection and refuses new ones."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Listen (again, on the same port once one was picked)."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening and drop every open connection, as a network cut would."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            transport = writer.transport
            transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()

    def url_for(self, url: str) -> str:
        """Return ``url`` pointed at this proxy instead of its own host and port."""
        return make_url(url).set(host="127.0.0.1", port=self.port).render_as_string(False)
