"""Run the command text Slack and Teams pass on, and answer in the actor's language."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from nudges.coaching.interactions import Actor
from nudges.commands.context import Context, Send
from nudges.commands.executor import execute
from nudges.commands.parser import parse
from nudges.domain import DEFAULT_LOCALE
from nudges.i18n import t
from nudges.people import directory, tombstones
from nudges.ports import DashboardLinks
from nudges.services.dispatch import Dispatcher
from nudges.store.deliveries import Delivery

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommandReply:
    """The reply to one command: neutral markup, and whether the command succeeded."""

    text: str
    ok: bool


class CommandService:
    """Parse, authorise and execute commands, one transaction each."""

    def __init__(
        self, dispatcher: Dispatcher, dashboard_links: DashboardLinks | None = None
    ) -> None:
        self.dispatcher = dispatcher
        self.dashboard_links = dashboard_links
        self.db = dispatcher.db
        self.clock = dispatcher.clock

    async def run(
        self, actor: Actor, text: str, *, prefix: str, is_platform_admin: bool = False
    ) -> CommandReply:
        """Run one command for ``actor``; a command that fails changes nothing."""
        parsed = parse(text)
        locale = DEFAULT_LOCALE
        try:
            async with self.db.session() as session:
                workspace = await directory.ensure_workspace(
                    session, actor.platform, actor.workspace_external_id
                )
                person = await directory.ensure_person(session, workspace, actor.user_external_id)
                # Using the bot again is how someone erased comes back.
                await tombstones.came_back(session, workspace, actor.user_external_id)
                ctx = Context(
                    session=session,
                    dispatcher=self.dispatcher,
                    workspace=workspace,
                    actor=person,
                    platform_admin=is_platform_admin,
                    prefix=prefix,
                    now=self.clock.now(),
                    dashboard_links=self.dashboard_links,
                    private=actor.private,
                )
                locale = ctx.locale
                outcome = await execute(ctx, parsed)
                # Replies are worded before the commit, in the language the command left.
                if outcome.ok:
                    await session.commit()
                else:
                    await session.rollback()
            if outcome.send is not None:
                return CommandReply(await self._send(outcome.send), True)
            return CommandReply(outcome.text, outcome.ok)
        except Exception:
            # The user gets one line; the log gets the details (never the typed text: it
            # names people).
            logger.exception("command %s failed", type(parsed).__name__)
            return CommandReply(t(locale, "replies.common.internal"), False)

    async def _send(self, send: Send) -> str:
        """Send a committed delivery now and say how it went."""
        try:
            status = await self.dispatcher.send_now(send.delivery_id)
            async with self.db.session() as session:
                delivery = await session.get(Delivery, send.delivery_id)
                reason = delivery.last_error if delivery is not None else None
        except Exception:
            # The delivery is committed and due, so the next tick still sends it.
            logger.exception("sending delivery %s at once failed", send.delivery_id)
            return send.describe("queued", None)
        return send.describe(status, reason)


__all__ = ["CommandReply", "CommandService"]
