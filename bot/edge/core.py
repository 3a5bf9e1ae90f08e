"""Bundle what one platform adapter shares with every other: people, commands, clicks, Home."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.edge.clicks import Click, Clicks
from bot.edge.commands import CommandRunner, Commands
from bot.edge.cooldown import SharedDmCooldown
from bot.edge.home import HomeRefresh, Publish, build_home
from bot.edge.options import EdgeOptions
from bot.edge.people import Known, People
from bot.edge.profile import NoProfiles, ProfileSource
from bot.edge.tasks import AckFirst, Inflight, answer_within
from nudges.coaching.interactions import ActionResult
from nudges.commands.service import CommandService
from nudges.i18n import t
from nudges.messages import Page
from nudges.services import Services

logger = logging.getLogger(__name__)


class EdgeCore:
    """The platform-neutral half of one adapter: the adapter translates, this does the work."""

    def __init__(
        self,
        services: Services,
        platform: str,
        *,
        profiles: ProfileSource | None = None,
        commands: CommandRunner | None = None,
        options: EdgeOptions | None = None,
    ) -> None:
        self.services = services
        self.platform = platform
        self.options = options or EdgeOptions()
        self.inflight = Inflight()
        # Adapters mark requests until acknowledged; click work waits for them (see AckFirst).
        self.ack_first = AckFirst()
        self.people = People(
            services,
            platform,
            NoProfiles() if profiles is None else profiles,
            workspace_defaults=self.options.workspace_defaults,
            admins=self.options.admins,
        )
        self.commands = Commands(
            platform,
            self.people,
            CommandService(services.dispatcher, services.dashboard_links)
            if commands is None
            else commands,
            self.inflight,
            prefix=self.options.command_prefix,
            ack_budget=self.options.ack_budget,
        )
        self.clicks = Clicks(services, platform, self.people, self.ack_first)
        self.dm_cooldown = SharedDmCooldown(services.db, platform, self.options.dm_cooldown)
        self.home_refresh = HomeRefresh(
            self.inflight,
            services.clock,
            open_window=self.options.home_open_window,
            debounce=self.options.home_debounce,
            db=services.db,
            platform=platform,
        )

    # -- who is asking ---------------------------------------------------------------------

    async def know(self, ws: str, user: str) -> Known:
        """Learn and file the person behind a request; return their language and admin flag."""
        return await self.people.know(ws, user)

    async def stored_locale(self, ws: str, user: str) -> str:
        """Return the person's language from memory or the store, never failing."""
        return await self.people.stored_locale(ws, user)

    # -- commands --------------------------------------------------------------------------

    async def run_command(self, ws: str, user: str, text: str, *, private: bool = True) -> str:
        """Run a command and return its reply in neutral markup (a failure is a reply too).

        ``private`` is False where others read the reply too, such as a Teams channel.
        """
        return await self.commands.run(ws, user, text, private=private)

    # -- clicks and forms ------------------------------------------------------------------

    async def apply_click(self, click: Click) -> ActionResult | None:
        """Apply a click in order; None when it is not ours or a newer click won."""
        return await self.clicks.apply(click)

    async def submit_form(
        self, ws: str, user: str, form_id: str, private_metadata: str, values: dict[str, str]
    ) -> ActionResult:
        """Save a submitted form and say what to show."""
        return await self.clicks.submit(ws, user, form_id, private_metadata, values)

    async def answer_form(
        self,
        ws: str,
        user: str,
        form_id: str,
        private_metadata: str,
        values: dict[str, str],
        *,
        now: Callable[[ActionResult | None], Awaitable[None]],
        later: Callable[[ActionResult], Awaitable[None]],
    ) -> None:
        """Save a form; ``now(result)`` acknowledges (None when too slow), ``later`` follows."""
        await answer_within(
            self.inflight,
            self.submit_form(ws, user, form_id, private_metadata, values),
            self.options.ack_budget,
            now=now,
            later=later,
        )

    # -- Home ------------------------------------------------------------------------------

    async def home(self, ws: str, user: str) -> Page:
        """Build the person's home page."""
        return await build_home(self.services, self.people, self.options.command, ws, user)

    def home_opened(self, ws: str, user: str) -> None:
        """Note that the person opened their Home, so later changes keep it fresh."""
        self.home_refresh.opened(ws, user)

    def home_changed(self, ws: str, user: str, publish: Publish) -> bool:
        """After a change, republish an open Home once the burst is over; say if one is due."""
        return self.home_refresh.changed(ws, user, publish)

    # -- direct messages -------------------------------------------------------------------

    async def should_answer_dm(self, ws: str, user: str) -> bool:
        """Say whether a direct message gets the pointer to help now (once per cooldown)."""
        return await self.dm_cooldown.should_reply(ws, user, self.services.clock.now())

    async def dm_reply(self, ws: str, user: str) -> str:
        """Word the short pointer to help, in the person's language (also with the store down)."""
        try:
            locale = (await self.know(ws, user)).locale
        except Exception as exc:
            logger.warning("filing a %s user who wrote failed: %s", self.platform, exc)
            locale = await self.stored_locale(ws, user)
        return t(locale, "home.dm.reply", command=self.options.command)

    # -- shutdown --------------------------------------------------------------------------

    async def drain(self, limit: float | None = None) -> None:
        """Wait for acknowledged work to finish (``limit`` seconds at most)."""
        await self.inflight.drain(limit)
