"""Run a typed command for a person and answer it within the platform's reply budget."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.edge import metrics
from bot.edge.failures import failure_text
from bot.edge.people import People
from bot.edge.tasks import Inflight, answer_within
from nudges.coaching.interactions import Actor

logger = logging.getLogger(__name__)


class Reply(Protocol):
    """What a command answers: neutral markup and whether it worked."""

    @property
    def text(self) -> str:
        """The reply in neutral markup."""
        ...

    @property
    def ok(self) -> bool:
        """Whether the command did what was asked."""
        ...


class CommandRunner(Protocol):
    """Run the command grammar for one person (``nudges.commands.service.CommandService``)."""

    async def run(
        self, actor: Actor, text: str, *, prefix: str, is_platform_admin: bool = False
    ) -> Reply:
        """Run ``text`` for ``actor`` and say what happened."""
        ...


class Commands:
    """Run commands for the people of one platform; every failure becomes a one-line answer."""

    def __init__(
        self,
        platform: str,
        people: People,
        runner: CommandRunner,
        inflight: Inflight,
        *,
        prefix: str,
        ack_budget: float,
    ) -> None:
        self.platform = platform
        self.people = people
        self.runner = runner
        self.inflight = inflight
        self.prefix = prefix
        self.ack_budget = ack_budget

    async def run(self, ws: str, user: str, text: str, *, private: bool = True) -> str:
        """Run ``text`` as ``user``'s command and return the reply in neutral markup."""
        try:
            known = await self.people.know(ws, user)
            reply = await self.runner.run(
                Actor(self.platform, ws, user, private=private),
                text,
                prefix=self.prefix,
                is_platform_admin=known.platform_admin,
            )
        except Exception as exc:
            # The person gets one line; the log gets the details (never the typed text).
            logger.exception("%s command failed workspace=%s user=%s", self.platform, ws, user)
            metrics.COMMANDS.labels(self.platform, "failed").inc()
            return failure_text(await self.people.stored_locale(ws, user), exc)
        return reply.text

    async def answer(
        self,
        ws: str,
        user: str,
        text: str,
        *,
        now: Callable[[str | None], Awaitable[None]],
        later: Callable[[str], Awaitable[None]],
    ) -> None:
        """Run a command; ``now(reply)`` acknowledges (reply None when too slow), ``later`` follows.

        ``now`` is called exactly once, within the reply budget; ``later`` only when the reply
        was not ready by then.
        """
        started = time.perf_counter()

        async def acknowledge(reply: str | None) -> None:
            await now(reply)
            metrics.observe_ack("command", self.platform, time.perf_counter() - started)

        reply = await answer_within(
            self.inflight,
            self.run(ws, user, text),
            self.ack_budget,
            now=acknowledge,
            later=later,
        )
        metrics.COMMANDS.labels(self.platform, "late" if reply is None else "answered").inc()
