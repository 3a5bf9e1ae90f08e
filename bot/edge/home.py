"""Build a person's home page, and keep an open Home fresh without rebuilding it per click."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.edge.people import People
from bot.edge.tasks import Inflight
from nudges.coaching.home import HomeContext, home_page
from nudges.messages import Page
from nudges.ports import Clock
from nudges.services import Services

logger = logging.getLogger(__name__)

# Past this many remembered Home openings, the oldest are forgotten.
HOME_MEMORY = 10_000
# A burst of changes delays a Home publish by at most this many debounce periods.
MAX_WAIT_FACTOR = 10

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
    ) -> None:
        self._inflight = inflight
        self._clock = clock
        self._open_window = open_window
        self._debounce = debounce
        self._memory = memory
        self._opened: OrderedDict[tuple[str, str], datetime] = OrderedDict()
        # When the pending publish of each Home is due: a quiet moment after the last change.
        self._due: dict[tuple[str, str], float] = {}

    def opened(self, ws: str, user: str) -> None:
        """Note that the person just opened their Home (it is being published now)."""
        key = (ws, user)
        self._opened[key] = self._clock.now()
        self._opened.move_to_end(key)
        while len(self._opened) > self._memory:
            self._opened.popitem(last=False)

    def is_open(self, ws: str, user: str) -> bool:
        """Say whether the person opened their Home recently enough to keep it fresh."""
        at = self._opened.get((ws, user))
        return at is not None and self._clock.now() - at < self._open_window

    def changed(self, ws: str, user: str, publish: Publish) -> bool:
        """Publish an open Home once changes stop coming for a moment; say whether one is due."""
        key = (ws, user)
        if not self.is_open(ws, user):
            return False
        loop = asyncio.get_running_loop()
        if key in self._due:
            self._due[key] = loop.time() + self._debounce
        else:
            self._due[key] = loop.time() + self._debounce
            self._inflight.spawn(self._publish_later(key, publish))
        return True

    async def _publish_later(self, key: tuple[str, str], publish: Publish) -> None:
        loop = asyncio.get_running_loop()
        # However long a burst goes on, the Home is not left stale for more than this.
        latest = loop.time() + self._debounce * MAX_WAIT_FACTOR
        try:
            while True:
                wait = min(self._due[key], latest) - loop.time()
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
        finally:
            # Changes from here on schedule a new publish: this one may read the state too early.
            del self._due[key]
        try:
            await publish(*key)
        except Exception:
            logger.exception("republishing a home failed workspace=%s", key[0])
