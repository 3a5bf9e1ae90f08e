"""What every platform adapter shares, so each adapter only translates.

An adapter (``bot/slack``, ``bot/teams``, ``bot/sandbox``) does four things:

1. Build one ``EdgeCore(services, Platform.X, profiles=..., options=EdgeOptions(...))``. Its
   ``ProfileSource`` returns a neutral ``Profile`` (name, zone, locale, bot/deleted, platform
   admin) read from the platform; ``NoProfiles`` when requests carry nothing to look up.
2. Translate each request and call the core, acknowledging as the platform wants:
   - a command: ``await core.commands.answer(ws, user, text, now=..., later=...)`` (answer in
     the ack when ready within ``ack_budget``, else later), or ``await core.run_command(...)``;
   - a click: ack, then ``result = await core.inflight.run(core.apply_click(Click(...)))``;
     give ``message_key`` and ``clicked_at`` so the last click on a message wins; ``None``
     means nothing to show; a failure comes back as a visible "try again" notice;
   - a form: ``await core.answer_form(..., now=..., later=...)`` or ``core.submit_form(...)``;
   - Home: ``core.home_opened(...)`` then render ``await core.home(ws, user)``; after a
     change call ``core.home_changed(ws, user, publish)`` (republishes an open Home once per
     burst, across replicas); a DM: ``if await core.should_answer_dm(...)`` send
     ``await core.dm_reply(...)``.
   Time acknowledgements with ``metrics.observe_ack("click" | "command", platform, seconds)``,
   and mark every request until it is acknowledged with ``core.ack_first.acking()`` (or
   ``begin()``/``end()``), so the work after the acknowledgements of a burst waits for them.
   Never mark a request whose answer awaits ``apply_click``: the click would wait for itself
   (up to ``AckFirst.max_wait``). An adapter that marks nothing applies clicks at once.
3. Render the neutral ``ActionResult``/``Message``/``Page``/notice text to the platform; a
   renderer implements ``rendering.BlockRenderer`` and uses the shared cuts and limits there.
4. Offer a ``PlatformEdge`` (name, status, add_routes, start, stop, drain) and an
   ``EdgeBuilder`` ``build(settings, services) -> PlatformEdge | None``; ``bot/app.py`` lists
   the builders, one line per platform. Work started after an ack goes through
   ``core.inflight`` so ``stop``/``drain`` can wait for it.

May import the core and ``bot.settings``; never an adapter, a platform SDK, the dashboard or
the composition root (``bot.app``, ``bot.cli``).
"""

from __future__ import annotations

from bot.edge.clicks import Click, is_action
from bot.edge.commands import CommandRunner, Reply
from bot.edge.core import EdgeCore
from bot.edge.failures import failure_text, is_transient
from bot.edge.metrics import observe_ack
from bot.edge.options import EdgeOptions, workspace_defaults
from bot.edge.people import Known
from bot.edge.platform import EdgeBuilder, EdgeConfigError, PlatformEdge
from bot.edge.profile import NoProfiles, Profile, ProfileSource
from bot.edge.tasks import AckFirst, Inflight, answer_within, within_budget

__all__ = [
    "AckFirst",
    "Click",
    "CommandRunner",
    "EdgeBuilder",
    "EdgeConfigError",
    "EdgeCore",
    "EdgeOptions",
    "Inflight",
    "Known",
    "NoProfiles",
    "PlatformEdge",
    "Profile",
    "ProfileSource",
    "Reply",
    "answer_within",
    "failure_text",
    "is_action",
    "is_transient",
    "observe_ack",
    "within_budget",
    "workspace_defaults",
]
