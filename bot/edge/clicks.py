"""Apply button clicks and form submissions: one at a time per message, the last click winning.

The store decides which click is the last (the platform's click time, compared in the
transaction that applies a click), so that holds across replicas; the in-process order below
only drops an older click early when a newer one reached this same replica.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass

from bot.edge import metrics
from bot.edge.failures import failure_text, is_transient
from bot.edge.locks import KeyedLocks, LastClickWins
from bot.edge.people import People
from bot.edge.tasks import AckFirst
from nudges.coaching.interactions import ActionResult, Actor
from nudges.messages import Action
from nudges.services import Services

logger = logging.getLogger(__name__)

ACTION_IDS = frozenset(a.value for a in Action)
# A click that meets a passing outage (SQLite waits up to 5 s for a lock) is tried this many
# times in all, while no more than
# RETRY_WITHIN_SECONDS have gone by, before the person is asked to try again.
RETRY_ATTEMPTS = 3
RETRY_WITHIN_SECONDS = 8.0
RETRY_PAUSE_SECONDS = 0.1
# Clickers filed at once (a burst of people new to the bot each needs the store): the rest
# wait their turn here, not for a database connection, where a burst would time out.
CONCURRENT_FILING = 4


@dataclass(frozen=True)
class Click:
    """One press of a button, as the platform reports it."""

    workspace_id: str
    user_id: str
    action_id: str
    value: str
    # Names the message clicked (Slack: channel and ts; Teams: the activity id). Clicks on one
    # message by one person run in order; without it the button's value stands in.
    message_key: str = ""
    # When the person clicked (epoch seconds, from the platform when it says). A click older
    # than one already applied to the same message is dropped, so the last click wins.
    clicked_at: float | None = None

    @property
    def lock_key(self) -> str:
        """Return the key clicks on the same message by the same person share."""
        return f"{self.workspace_id}:{self.user_id}:{self.message_key or self.value}"


def is_action(action_id: str) -> bool:
    """Say whether ``action_id`` names one of the bot's buttons (others are not ours)."""
    return action_id in ACTION_IDS


class Clicks:
    """Apply what people press on one platform, and word a failure instead of dropping it."""

    def __init__(
        self,
        services: Services,
        platform: str,
        people: People,
        ack_first: AckFirst | None = None,
    ) -> None:
        self.services = services
        self.platform = platform
        self.people = people
        self.ack_first = ack_first or AckFirst()
        self._locks = KeyedLocks()
        self._order = LastClickWins()
        self._filing = asyncio.Semaphore(CONCURRENT_FILING)

    async def apply(self, click: Click) -> ActionResult | None:
        """Apply ``click``; None when it is not ours or a newer click on the message came.

        It waits until the requests that came with it are acknowledged. A failure (the
        database down, say) comes back as a notice asking to try again.
        """
        if not is_action(click.action_id):
            logger.debug("ignoring %s action %s", self.platform, click.action_id)
            return None
        actor = Actor(self.platform, click.workspace_id, click.user_id)
        key = click.lock_key
        self._order.arrived(key, click.clicked_at)
        await self.ack_first.turn()
        async with self._locks.hold(key):
            if self._order.is_stale(key, click.clicked_at):
                metrics.CLICKS.labels(self.platform, "superseded").inc()
                return None
            try:
                result = await self._apply_retrying(actor, click)
            except Exception as exc:
                logger.exception(
                    "%s action %s failed workspace=%s",
                    self.platform,
                    click.action_id,
                    click.workspace_id,
                )
                metrics.CLICKS.labels(self.platform, "failed").inc()
                return ActionResult(
                    notice=await self._failure(click.workspace_id, click.user_id, exc)
                )
            self._order.applied(key, click.clicked_at)
        if result.superseded:
            # The store holds a newer click of the person, applied by this or another replica.
            metrics.CLICKS.labels(self.platform, "superseded").inc()
            return None
        metrics.CLICKS.labels(self.platform, "applied").inc()
        return result

    async def _apply_retrying(self, actor: Actor, click: Click) -> ActionResult:
        """Apply a click, trying again shortly after a passing outage (SQLite's "locked").

        Clicks are idempotent, so a second try cannot record twice.
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            try:
                async with self._filing:
                    await self.people.file(click.workspace_id, click.user_id)
                return await self.services.interactions.on_action(
                    actor, click.action_id, click.value, click.clicked_at
                )
            except Exception as exc:
                late = loop.time() - started > RETRY_WITHIN_SECONDS
                if attempt == RETRY_ATTEMPTS or late or not is_transient(exc):
                    raise
                logger.info(
                    "%s action %s hit %s; trying again",
                    self.platform,
                    click.action_id,
                    type(exc).__name__,
                )
                await asyncio.sleep(RETRY_PAUSE_SECONDS * attempt * random.uniform(0.5, 1.5))
        raise AssertionError("unreachable")

    async def submit(
        self,
        ws: str,
        user: str,
        form_id: str,
        private_metadata: str,
        values: Mapping[str, str],
    ) -> ActionResult:
        """Save a submitted form; a failure comes back as a notice."""
        actor = Actor(self.platform, ws, user)
        try:
            async with self._locks.hold(f"{ws}:{user}:form:{private_metadata}"):
                return await self.services.interactions.on_form(
                    actor, form_id, private_metadata, dict(values)
                )
        except Exception as exc:
            logger.exception("%s form %s failed workspace=%s", self.platform, form_id, ws)
            return ActionResult(notice=await self._failure(ws, user, exc))

    async def _failure(self, ws: str, user: str, exc: BaseException) -> str:
        return failure_text(await self.people.stored_locale(ws, user), exc)
