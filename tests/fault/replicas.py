"""Run several `nudgebot serve` replicas behind a round-robin proxy and click through it.

The proxy is a small TCP forwarder written here rather than haproxy: it spreads connections
over the replicas strictly in turn (as haproxy's ``balance roundrobin`` does), sends a
connection to the next replica when one refuses (as haproxy's ``option redispatch`` does),
and remembers which replica took each connection, so a test knows who acknowledged a click.
Clicks are raw HTTP/1.1 requests on connections of their own, signed as Slack signs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from nudges.messages import Action
from nudges.pulse.answers import ButtonValue
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace
from nudges.store.pulse import PulseParticipation, PulsePoll
from tests.fault.harness import SECRET, TEAM, sample_nudge_key, user_ids


class RoundRobinProxy:
    """Forward each new connection to the next replica in turn; skip replicas that refuse."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = list(ports)
        self.port = 0
        self._next = 0
        self._server: asyncio.Server | None = None
        # The replica (its index in ``ports``) that took the connection from each client port.
        self.backend_of: dict[int, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0, backlog=4096)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening and cut what is still open."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._forward(reader, writer)
        finally:
            self._tasks.discard(task)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client_port = int(writer.get_extra_info("peername")[1])
        first = self._next
        self._next = (self._next + 1) % len(self.ports)
        for step in range(len(self.ports)):
            index = (first + step) % len(self.ports)
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.ports[index])
            except OSError:
                continue
            self.backend_of[client_port] = index
            await asyncio.gather(
                _pipe(reader, up_writer), _pipe(up_reader, writer), return_exceptions=True
            )
            return
        writer.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (OSError, asyncio.IncompleteReadError):
        writer.transport.abort()


@dataclass
class Sent:
    """One click sent through the proxy: which replica took it and whether it was acknowledged."""

    backend: int | None = None
    status: int | None = None

    @property
    def acknowledged(self) -> bool:
        """Tell whether a replica answered the click with 200."""
        return self.status == 200


@dataclass
class Pair:
    """One person's two quick clicks on one message: the older one, then the newer one."""

    user: str
    action_ids: tuple[str, str]
    values: tuple[str, str]
    clicked_at: tuple[float, float]
    # The newer click's request leaves first when True (the network keeps no order).
    newer_first: bool
    lag: float
    # Names the message clicked (Slack's message_ts in the person's DM).
    message_ts: str = "1700000000.000100"
    sent: tuple[Sent, Sent] = field(default_factory=lambda: (Sent(), Sent()))


def click_body(user: str, action_id: str, value: str, clicked_at: float, message_ts: str) -> bytes:
    """Encode a block_actions request for a click in the person's DM with the bot."""
    channel = dm_channel(user)
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "api_app_id": "A0FAULT",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": "1.2.3",
        "team": {"id": TEAM, "domain": "fault"},
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "directmessage"},
        "state": {"values": {}},
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b",
                "value": value,
                "type": "button",
                "action_ts": f"{clicked_at:.6f}",
            }
        ],
    }
    return ("payload=" + urllib.parse.quote(json.dumps(payload, separators=(",", ":")))).encode()


def dm_channel(user: str) -> str:
    """Return the DM channel the fake Slack gives ``user`` (see ``FakeSlackApi.dm_channel``)."""
    return "D" + hashlib.sha1(user.encode()).hexdigest()[:10].upper()


def _request(body: bytes) -> bytes:
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    head = (
        "POST /slack/events HTTP/1.1\r\n"
        "Host: nudgebot\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Slack-Request-Timestamp: {ts}\r\n"
        f"X-Slack-Signature: v0={digest}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


async def _send(
    proxy: RoundRobinProxy,
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    body: bytes,
    sent: Sent,
    delay: float,
) -> None:
    reader, writer = conn
    port = int(writer.get_extra_info("sockname")[1])
    try:
        await asyncio.sleep(delay)
        writer.write(_request(body))
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 30)
        sent.backend = proxy.backend_of.get(port)
        status_line = answer.split(b"\r\n", 1)[0].split()
        sent.status = int(status_line[1]) if len(status_line) > 1 else None
    except (OSError, TimeoutError, ValueError):
        sent.status = None
    finally:
        writer.transport.abort()


async def click_pairs(proxy: RoundRobinProxy, pairs: list[Pair], spread: float) -> None:
    """Send every pair within ``spread`` seconds, each pair's clicks on consecutive connections.

    Connections are opened one after another from here, so a strict round robin hands a
    pair's two clicks to two different replicas.
    """
    started = time.monotonic()
    tasks: list[asyncio.Task[None]] = []
    for n, pair in enumerate(pairs):
        wait = started + spread * n / len(pairs) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        conns = [await asyncio.open_connection("127.0.0.1", proxy.port) for _ in range(2)]
        bodies = [
            click_body(
                pair.user, pair.action_ids[i], pair.values[i], pair.clicked_at[i], pair.message_ts
            )
            for i in range(2)
        ]
        # The pair's first request leaves now; the other up to the gap between the clicks later.
        delays = (pair.lag, 0.0) if pair.newer_first else (0.0, pair.lag)
        for i in range(2):
            sending = _send(proxy, conns[i], bodies[i], pair.sent[i], delays[i])
            tasks.append(asyncio.create_task(sending))
    await asyncio.gather(*tasks)


@dataclass(frozen=True)
class Seeded:
    """The people, the open poll and each person's sent nudge, as seeded."""

    users: list[str]
    poll_id: int
    delivery_of: dict[str, int]
    participation_of: dict[str, int]


async def seed_people_poll_and_nudges(url: str, people: int) -> Seeded:
    """Store a workspace, ``people`` people, an open poll they were asked and a sent nudge each."""
    now = datetime.now(UTC)
    users = user_ids(people)
    db = Database(url)
    try:
        async with db.session() as session:
            ws = Workspace(platform="slack", external_id=TEAM, name="Replicas")
            session.add(ws)
            await session.flush()
            ids = (
                await session.scalars(
                    insert(Person).returning(Person.id, sort_by_parameter_order=True),
                    [{"workspace_id": ws.id, "external_id": u} for u in users],
                )
            ).all()
            poll = PulsePoll(
                workspace_id=ws.id,
                group_key="team:all",
                team="all",
                period_key="2026-W49",
                dimension=None,
                # The poll messages are not in this test, so no question is ever rendered.
                question_key="replicas.question",
                threshold=3,
                opened_at=now - timedelta(minutes=5),
                closes_at=now + timedelta(hours=1),
            )
            session.add(poll)
            await session.flush()
            parts = (
                await session.scalars(
                    insert(PulseParticipation).returning(
                        PulseParticipation.id, sort_by_parameter_order=True
                    ),
                    [{"poll_id": poll.id, "person_id": p} for p in ids],
                )
            ).all()
            key = sample_nudge_key()
            rows: list[dict[str, Any]] = [
                {
                    "idempotency_key": f"sample:{p}:replicas",
                    "workspace_id": ws.id,
                    "recipient_id": p,
                    "kind": "sample",
                    "content_key": key,
                    "payload": {"explicit": True, "reason_params": {}},
                    "scheduled_at": now - timedelta(minutes=5),
                    "next_attempt_at": now - timedelta(minutes=5),
                    "status": "sent",
                    "sent_at": now - timedelta(minutes=5),
                    "attempts": 1,
                    "created_at": now - timedelta(minutes=5),
                }
                for p in ids
            ]
            deliveries = (
                await session.scalars(
                    insert(Delivery).returning(Delivery.id, sort_by_parameter_order=True), rows
                )
            ).all()
            await session.commit()
            poll_id = poll.id
    finally:
        await db.dispose()
    return Seeded(
        users,
        poll_id,
        dict(zip(users, deliveries, strict=True)),
        dict(zip(users, parts, strict=True)),
    )


def pulse_button(poll_id: int, value: int) -> str:
    """Return what a poll's answer button carries."""
    return ButtonValue(poll_id, value).encode()


PULSE = Action.PULSE_ANSWER.value
DONE = Action.NUDGE_DONE.value
SNOOZE = Action.NUDGE_SNOOZE_TOMORROW.value


async def scrape(port: int) -> dict[str, float]:
    """Read the click counters of one replica's /metrics, by outcome."""
    import aiohttp

    out: dict[str, float] = {}
    with contextlib.suppress(aiohttp.ClientError, OSError):
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/metrics") as r,
        ):
            for line in (await r.text()).splitlines():
                if line.startswith("nudgebot_clicks_total{"):
                    labels, value = line.rsplit(" ", 1)
                    outcome = labels.split('outcome="', 1)[1].split('"', 1)[0]
                    out[outcome] = out.get(outcome, 0.0) + float(value)
    return out
