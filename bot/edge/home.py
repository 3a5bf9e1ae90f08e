"""Build a person's home page, and keep an open Home fresh without rebuilding it per click.

Behind a load balancer the Home may be opened on one replica and changed through others: an
opening, the newest change and the newest publish are marks in the store, so the replica whose
burst ends last publishes once, and only if no publish came after the newest change.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from bot.edge.people import People
from bot.edge.tasks import Inflight
from nudges.coaching.home import HomeContext, home_page
from nudges.messages import Page
from nudges.ports import Clock
from nudges.services import Services
from nudges.store import marks
from nudges.store.database import Database

logger = logging.getLogger(__name__)

# Past this many remembered Home openings, the oldest are forgotten.
HOME_MEMORY = 10_000
# A burst of changes delays a Home publish by at most this many debounce periods.
MAX_WAIT_FACTOR = 10

# Store reads and writes for Homes at once: a burst of clicks queues here, not for connections.
STORE_TURNS = 2

Publish = Callable[[str, str], Awaitable[None]]


async def build_home(services: Services, people: People, command: str, ws: str, user: str) -> Page:
    """Build the home page of ``user`` in workspace ``ws`` as it stands now."""
    known = await people.know(ws, user)
    async with services.db.session() as session:
        workspace, person = await people.ensure(session, ws, user)
        ctx = HomeContext(
            workspace=workspace,
            person=person,
            is_admin=known.platform_admin or person.is_admin,
            command=command,
        )
        return await home_page(session, services.catalogue, ctx, services.clock.now())


class HomeRefresh:
    """Republish a Home after changes: only one opened recently, and once a burst is over."""

    def __init__(
        self,
        inflight: Inflight,
        clock: Clock,
        *,
        open_window: timedelta,
        debounce: float,
        memory: int = HOME_MEMORY,
        db: Database | None = None,
        platform: str = "",
    ) -> None:
        self._inflight = inflight
        self._clock = clock
        # None keeps everything in this process (tests of the debounce alone).
        self._db = db
        self._platform = platform
        self._store_turns = asyncio.Semaphore(STORE_TURNS)
        self._open_window = open_window
        self._debounce = debounce
        self._memory = memory
        self._opened: OrderedDict[tuple[str, str], datetime] = OrderedDict()
        # When the pending publish of each Home is due: a quiet moment after the last change.
        self._due: dict[tuple[str, str], float] = {}
        # When this replica last saw each pending Home change (real time, as in the store).
        self._changed_at: dict[tuple[str, str], datetime] = {}

    def opened(self, ws: str, user: str) -> None:
        """Note that the person just opened their Home (it is being published now)."""
        key = (ws, user)
        now = self._clock.now()
        self._opened[key] = now
        self._opened.move_to_end(key)
        while len(self._opened) > self._memory:
            self._opened.popitem(last=False)
        if self._db is not None:
            self._inflight.spawn(self._shared(marks.advance, "open", key, now + self._open_window))

    def is_open(self, ws: str, user: str) -> bool:
        """Say whether the person opened their Home recently enough to keep it fresh."""
        at = self._opened.get((ws, user))
        return at is not None and self._clock.now() - at < self._open_window

    def changed(self, ws: str, user: str, publish: Publish) -> bool:
        """Publish an open Home once changes stop coming for a moment; say whether one is due.

        With the store shared, a Home opened through another replica is found there (the
        answer then is False, as this replica did not know it yet).
        """
        key = (ws, user)
        # The change is stored by now: a publish that begins after this moment shows it, even
        # one that begins before this replica has found out that the Home is open.
        at = _wall()
        if self.is_open(ws, user):
            self._due_later(key, publish, at)
            return True
        if self._db is not None:
            self._inflight.spawn(self._changed_elsewhere(key, publish, at))
        return False

    def _due_later(self, key: tuple[str, str], publish: Publish, at: datetime) -> None:
        loop = asyncio.get_running_loop()
        if key not in self._due:
            self._inflight.spawn(self._publish_later(key, publish))
        self._due[key] = loop.time() + self._debounce
        self._changed_at[key] = max(at, self._changed_at.get(key, at))
        if self._db is not None:
            until = at + timedelta(seconds=self._debounce)
            self._inflight.spawn(self._shared(marks.advance, "quiet", key, until))

    async def _changed_elsewhere(
        self, key: tuple[str, str], publish: Publish, at: datetime
    ) -> None:
        opened = await self._read("open", key)
        if opened is not None and opened > self._clock.now():
            self._due_later(key, publish, at)

    async def _shared(
        self, write: Callable[..., Awaitable[None]], kind: str, key: tuple[str, str], at: datetime
    ) -> None:
        assert self._db is not None
        try:
            async with self._store_turns, self._db.session() as session:
                await write(session, self._mark(kind, key), at)
                await session.commit()
        except Exception as exc:  # this replica's own memory still keeps its Home fresh
            logger.warning("home refresh: the store did not answer (%s)", type(exc).__name__)

    async def _read(self, kind: str, key: tuple[str, str]) -> datetime | None:
        assert self._db is not None
        try:
            async with self._store_turns, self._db.session() as session:
                return await marks.read(session, self._mark(kind, key))
        except Exception as exc:
            logger.warning("home refresh: the store did not answer (%s)", type(exc).__name__)
            return None

    def _mark(self, kind: str, key: tuple[str, str]) -> str:
        return marks.about(f"home-{kind}", self._platform, *key)

    async def _claim_publish(self, key: tuple[str, str]) -> bool:
        """Take the publish unless one began after the newest change anywhere; True alone."""
        if self._db is None:
            return True
        now = _wall()
        try:
            async with self._store_turns, self._db.session() as session:
                quiet = await marks.read(session, self._mark("quiet", key))
                # The newest change was a debounce before its quiet moment.
                changed = (quiet or now) - timedelta(seconds=self._debounce)
                changed = max(changed, self._changed_at.pop(key, changed))
                taken = await marks.claim(session, self._mark("published", key), now, changed)
                await session.commit()
        except Exception as exc:
            logger.warning("home refresh: the store did not answer (%s)", type(exc).__name__)
            return True
        return taken

    async def _publish_later(self, key: tuple[str, str], publish: Publish) -> None:
        loop = asyncio.get_running_loop()
        # However long a burst goes on, the Home is not left stale for more than this.
        latest = loop.time() + self._debounce * MAX_WAIT_FACTOR
        try:
            while True:
                wait = min(self._due[key], latest) - loop.time()
                if wait <= 0 and self._db is not None:
                    # Changes through other replicas may still be coming: wait for them too.
                    quiet = await self._read("quiet", key)
                    if quiet is not None:
                        wait = (quiet - _wall()).total_seconds()
                        wait = min(wait, latest - loop.time())
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
        finally:
            # Changes from here on schedule a new publish: this one may read the state too early.
            del self._due[key]
        try:
            if not await self._claim_publish(key):
                return
            await publish(*key)
        except Exception:
            logger.exception("republishing a home failed workspace=%s", key[0])


def _wall() -> datetime:
    # Replicas compare these moments with each other, so the real clock, never a test's.
    return datetime.now(UTC)
