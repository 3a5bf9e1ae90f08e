"""Serve the sandbox: a web page where the demo organisation chats with the real bot.

The page is a third platform on the shared edge: commands, clicks, forms and the Home page go
through ``bot.edge.EdgeCore`` exactly as Slack's and Teams' do, and the bot's messages arrive
through the ``Messenger`` port into an in-memory inbox the page renders.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from html import escape
from urllib.parse import urlencode, urlsplit

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from bot.edge import Click, EdgeCore, EdgeOptions, Profile
from bot.sandbox import PLATFORM, demo, render
from bot.sandbox.clock import SandboxClock
from bot.sandbox.history import HISTORY_WEEKS, History
from bot.sandbox.inbox import Entry, Inbox, SandboxMessenger
from bot.sandbox.page import PageParts, PersonLink, render_error, render_page
from bot.sandbox.travel import NUDGE_HOUR, TUESDAY, TimeTravel, next_weekday_at
from nudges.domain import LOCALES
from nudges.i18n import format_moment, t
from nudges.messages import Block, Form, Page
from nudges.people import directory
from nudges.pulse.digest import digest_section
from nudges.services import Services
from nudges.store.org import Workspace

logger = logging.getLogger(__name__)

COMMAND = "/nudges"
MAX_TEXT = 2000
STEPS = ("next_tuesday", "plus_day", "close_poll")
VIEWS = ("chat", "home")


class BadRequest(Exception):
    """A request the page would never send; answered with one line, never a traceback."""

    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class DemoProfiles:
    """Say who the demo people are: their names; nobody is a platform admin."""

    async def get(self, workspace_id: str, user_id: str) -> Profile | None:
        """Return the demo person's profile, or None for anyone else."""
        person = demo.BY_ID.get(user_id)
        if person is None:
            return None
        return Profile(user_id=user_id, display_name=person.name)


@dataclass
class OpenForm:
    """A form a click opened, with what was typed and what was wrong."""

    form: Form
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class SandboxEdge:
    """The sandbox platform: its routes, its inbox and its clock."""

    def __init__(
        self,
        services: Services,
        clock: SandboxClock,
        *,
        locale: str = "en",
        history_weeks: int = HISTORY_WEEKS,
    ) -> None:
        self.services = services
        self.clock = clock
        self.default_locale = locale
        self.inbox = Inbox(clock)
        self.messenger = SandboxMessenger(self.inbox)
        self.core = EdgeCore(
            services,
            PLATFORM,
            profiles=DemoProfiles(),
            # The page waits for every answer, so the reply budget only bounds a stuck command.
            options=EdgeOptions(command=COMMAND, ack_budget=30.0),
        )
        self.travel = TimeTravel(clock, services.dispatcher)
        self.history = History(self.core, clock, self.travel, self.inbox, history_weeks)
        self.forms: dict[str, OpenForm] = {}
        self.flash = ""
        # Clicks, commands and clock jumps run one at a time, so a jump never interleaves a click.
        self._turn = asyncio.Lock()
        # The page may be asked for while start() still seeds; one seeding at a time.
        self._seeding = asyncio.Lock()
        services.register_messenger(PLATFORM, self.messenger)

    # -- PlatformEdge ----------------------------------------------------------------------

    @property
    def name(self) -> str:
        """Name the platform."""
        return PLATFORM

    def status(self) -> str:
        """Say how the sandbox runs, for the start-up log."""
        time_note = "its own clock" if self.clock.movable else "real time"
        return f"web page at / with {time_note}"

    def add_routes(self, app: web.Application) -> None:
        """Mount the page and its form endpoints."""
        app.router.add_get("/", self.handle_page)
        app.router.add_post("/sandbox/command", self.handle_command)
        app.router.add_post("/sandbox/action", self.handle_action)
        app.router.add_post("/sandbox/form", self.handle_form)
        app.router.add_post("/sandbox/clock", self.handle_clock)
        app.router.add_post("/sandbox/reset", self.handle_reset)
        app.router.add_post("/sandbox/language", self.handle_language)
        app.middlewares.append(self._one_line_errors)

    async def start(self) -> None:
        """Seed the demo organisation in the background unless the store already holds it.

        Start-up does not wait for it: the service is soon ready for signals, and a request
        that comes first waits for the seeding itself.
        """
        self.core.inflight.spawn(self._seed_at_start())

    async def _seed_at_start(self) -> None:
        try:
            await self.workspace()
        except Exception:
            logger.exception("sandbox: seeding the demo organisation failed; the page will retry")

    async def stop(self) -> None:
        """Let clicks and commands in progress finish."""
        await self.core.drain(10.0)

    async def drain(self) -> None:
        """Wait until every started request has been handled."""
        await self.core.drain()

    # -- helpers ---------------------------------------------------------------------------

    async def workspace(self) -> Workspace:
        """Return the sandbox workspace, seeding the demo first if the store lacks it."""
        async with self._seeding:
            if await demo.sandbox_workspace(self.services) is None:
                await self._seed(self.default_locale)
            workspace = await demo.sandbox_workspace(self.services)
        if workspace is None:
            raise RuntimeError("the sandbox workspace vanished right after seeding")
        return workspace

    async def _seed(self, locale: str) -> None:
        """Seed the demo afresh and, when the clock may move, play its past up to now."""
        if not self.clock.movable or self.history.weeks <= 0:
            await demo.seed(self.services, locale=locale, replace=True)
            return
        was_real_time = not self.clock.shifted
        until = self.clock.now()
        since = self.history.start(until)
        self.clock.set(since)
        try:
            await demo.seed(self.services, locale=locale, replace=True)
            moves = await self.history.play(since, until, locale)
        finally:
            if was_real_time:
                self.clock.reset()
        logger.info("sandbox: played %d week(s) of history (%d answers)", self.history.weeks, moves)

    async def locale(self) -> str:
        """Return the demo's language: the sandbox workspace's default."""
        workspace = await demo.sandbox_workspace(self.services)
        return workspace.default_locale if workspace else self.default_locale

    @web.middleware
    async def _one_line_errors(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        if not (request.path == "/" or request.path.startswith("/sandbox/")):
            return await handler(request)
        try:
            if request.method == "POST" and not _same_origin(request):
                # Another site's page could otherwise post clicks into the sandbox.
                raise BadRequest("other_site")
            return await handler(request)
        except BadRequest as exc:
            locale = await self._safe_locale()
            return web.Response(
                text=render_error(locale, t(locale, f"sandbox.errors.{exc.key}", **exc.params)),
                status=403 if exc.key == "other_site" else 400,
                content_type="text/html",
            )
        except web.HTTPException as exc:
            if exc.status == 404 and request.path.startswith("/sandbox/"):
                locale = await self._safe_locale()
                return web.Response(
                    text=render_error(locale, t(locale, "sandbox.errors.not_found")),
                    status=404,
                    content_type="text/html",
                )
            raise
        except Exception:
            # A fault of ours, not of the request: one line on the page, the details in the log.
            logger.exception("sandbox request %s %s failed", request.method, request.path)
            locale = await self._safe_locale()
            return web.Response(
                text=render_error(locale, t(locale, "home.errors.failed")),
                status=500,
                content_type="text/html",
            )

    async def _safe_locale(self) -> str:
        try:
            return await self.locale()
        except Exception:
            return self.default_locale

    @staticmethod
    async def _fields(request: web.Request) -> Mapping[str, str]:
        try:
            form = await request.post()
        except (ValueError, HttpProcessingError):
            # Not form data the page would send (bad encoding, a broken multipart body).
            raise BadRequest("missing", field="form") from None
        out: dict[str, str] = {}
        for key, value in form.items():
            if not isinstance(value, str):
                raise BadRequest("missing", field=key)
            out[key] = value
        return out

    @staticmethod
    def _person(raw: str | None) -> str:
        if not raw:
            raise BadRequest("missing", field="as")
        if raw not in demo.BY_ID:
            raise BadRequest("unknown_person", person=raw[:40])
        return raw

    @staticmethod
    def _required(fields: Mapping[str, str], name: str) -> str:
        value = fields.get(name)
        if value is None or not value.strip():
            raise BadRequest("missing", field=name)
        if len(value) > MAX_TEXT:
            raise BadRequest("too_long", length=len(value), max=MAX_TEXT)
        return value

    @staticmethod
    def _back(person: str, view: str = "chat") -> web.HTTPSeeOther:
        return web.HTTPSeeOther("/?" + urlencode({"as": person, "view": view}))

    # -- the page --------------------------------------------------------------------------

    async def handle_page(self, request: web.Request) -> web.Response:
        """Show the chosen person's chat (or Home), the people, and the clock."""
        person = self._person(request.query.get("as", demo.ADMIN))
        view = request.query.get("view", "chat")
        if view not in VIEWS:
            view = "chat"
        workspace = await self.workspace()
        locale = workspace.default_locale
        if view == "home":
            page = await self.core.home(demo.WORKSPACE, person)
            home = render.message(page, demo.name_of, {"as": person})
            # Below Home, the digest a manager's weekly nudge carries, as it stands now.
            digest = await self._digest(person)
            home += render.message(Page(blocks=tuple(digest)), demo.name_of, {"as": person})
            body = f'<div class="home" id="home">{home}</div>'
        else:
            body = self._chat(locale, person)
        flash, self.flash = self.flash, ""
        local_now = self.clock.now().astimezone(directory.zone_of(workspace))
        parts = PageParts(
            locale=locale,
            people=[
                PersonLink(p.id, p.name, _role(locale, p), p.id == person) for p in demo.PEOPLE
            ],
            person_id=person,
            person_name=demo.name_of(person),
            view=view,
            body=body,
            clock_text=t(locale, "sandbox.clock.now", moment=format_moment(locale, local_now)),
            clock_movable=self.clock.movable,
            flash=flash,
        )
        return web.Response(text=render_page(parts), content_type="text/html")

    async def _digest(self, person: str) -> list[Block]:
        async with self.services.db.session() as session:
            workspace, found = await self.core.people.ensure(session, demo.WORKSPACE, person)
            return await digest_section(
                session,
                workspace,
                found,
                directory.locale_of(workspace, found),
                self.clock.now(),
                self.services.catalogue,
            )

    def _chat(self, locale: str, person: str) -> str:
        hidden = {"as": person}
        entries = [self._entry(locale, e, hidden) for e in self.inbox.chat(demo.WORKSPACE, person)]
        if not entries:
            entries = [
                '<p class="hint" id="empty-chat">'
                f"{render.inline(t(locale, 'sandbox.empty_chat'), str)}</p>"
            ]
        open_form = self.forms.get(person)
        modal = ""
        if open_form is not None:
            modal = render.form(
                open_form.form,
                demo.name_of,
                hidden,
                values=open_form.values,
                errors=open_form.errors,
                cancel_label=t(locale, "sandbox.cancel"),
            )
        label = t(locale, "sandbox.command_label", name=demo.name_of(person))
        return (
            f'<div class="chat" id="chat">{"".join(entries)}</div>{modal}'
            '<form method="post" action="/sandbox/command" class="command" id="command">'
            f'<input type="hidden" name="as" value="{escape(person)}">'
            f'<input type="text" name="text" id="command-text" value="/nudges " '
            f'aria-label="{escape(label)}" maxlength="{MAX_TEXT}" autocomplete="off">'
            f'<button class="btn primary" type="submit">{escape(t(locale, "sandbox.send"))}'
            "</button></form>"
            f'<p class="hint">{render.inline(t(locale, "sandbox.command_hint"), str)}</p>'
        )

    def _entry(self, locale: str, entry: Entry, hidden: Mapping[str, str]) -> str:
        if entry.kind == "you":
            who = t(locale, "sandbox.you")
            body = f"<p>{escape(entry.text)}</p>"
        elif entry.kind == "reply":
            who = f"{t(locale, 'sandbox.bot')} · {t(locale, 'sandbox.only_you')}"
            body = f"<p>{render.markup(entry.text, demo.name_of)}</p>"
        elif entry.kind == "file" and entry.file is not None:
            who = t(locale, "sandbox.bot")
            name, data = entry.file
            # The page works offline: the file travels inside the link itself.
            href = "data:application/json;base64," + base64.b64encode(data).decode()
            body = (
                f"<p>{render.markup(entry.text, demo.name_of)}</p>"
                f'<p><a class="file" download="{escape(name)}" href="{href}">{escape(name)}</a></p>'
            )
        else:
            who = t(locale, "sandbox.bot")
            assert entry.message is not None
            body = render.message(entry.message, demo.name_of, {**hidden, "entry": str(entry.id)})
        return (
            f'<div class="entry {entry.kind}" id="entry-{entry.id}" data-kind="{entry.kind}">'
            f'<div class="who">{escape(who)}</div>{body}</div>'
        )

    # -- what people do --------------------------------------------------------------------

    async def handle_command(self, request: web.Request) -> web.Response:
        """Run a typed command as the chosen person and show the reply only to them."""
        fields = await self._fields(request)
        person = self._person(fields.get("as"))
        text = self._required(fields, "text").strip()
        words = text.removeprefix(COMMAND).strip() if text.startswith(COMMAND) else text
        async with self._turn:
            self.inbox.add(demo.WORKSPACE, person, "you", text=text)
            reply = await self.core.run_command(demo.WORKSPACE, person, words)
            self.inbox.add(demo.WORKSPACE, person, "reply", text=reply)
        raise self._back(person)

    async def handle_action(self, request: web.Request) -> web.Response:
        """Apply a button click (or a menu choice) as the chosen person."""
        fields = await self._fields(request)
        person = self._person(fields.get("as"))
        action_id = self._required(fields, "action_id")
        value = self._required(fields, "value")
        click = Click(demo.WORKSPACE, person, action_id, value, message_key=fields.get("entry", ""))
        async with self._turn:
            result = await self.core.apply_click(click)
        if result is not None:
            if result.form is not None:
                self.forms[person] = OpenForm(result.form)
            elif result.notice:
                self.inbox.add(demo.WORKSPACE, person, "reply", text=result.notice)
        raise self._back(person)

    async def handle_form(self, request: web.Request) -> web.Response:
        """Submit (or cancel) the open form as the chosen person."""
        fields = await self._fields(request)
        person = self._person(fields.get("as"))
        if fields.get("cancel"):
            self.forms.pop(person, None)
            raise self._back(person)
        callback_id = self._required(fields, "callback_id")
        metadata = self._required(fields, "private_metadata")
        open_form = self.forms.get(person)
        if open_form is None or open_form.form.callback_id != callback_id:
            raise BadRequest("no_form")
        values = {i.input_id: fields.get(i.input_id, "") for i in open_form.form.inputs}
        for value in values.values():
            if len(value) > MAX_TEXT:
                raise BadRequest("too_long", length=len(value), max=MAX_TEXT)
        async with self._turn:
            result = await self.core.submit_form(
                demo.WORKSPACE, person, callback_id, metadata, values
            )
        if result.errors:
            self.forms[person] = OpenForm(open_form.form, values, dict(result.errors))
            raise self._back(person)
        self.forms.pop(person, None)
        if result.notice:
            self.inbox.add(demo.WORKSPACE, person, "reply", text=result.notice)
        raise self._back(person)

    # -- the clock and the demo ------------------------------------------------------------

    async def handle_clock(self, request: web.Request) -> web.Response:
        """Move the clock forward and let the scheduler send what fell due on the way."""
        fields = await self._fields(request)
        person = self._person(fields.get("as"))
        step = self._required(fields, "step")
        if step not in STEPS:
            raise BadRequest("bad_step", step=step[:40])
        if not self.clock.movable:
            raise BadRequest("clock_locked")
        workspace = await self.workspace()
        locale = workspace.default_locale
        zone = directory.zone_of(workspace)
        async with self._turn:
            now = self.clock.now()
            if step == "next_tuesday":
                target = next_weekday_at(now.astimezone(zone), TUESDAY, NUDGE_HOUR)
            elif step == "plus_day":
                target = now + timedelta(days=1)
            else:
                closing = await self.travel.first_closing(workspace)
                if closing is None:
                    self.flash = t(locale, "sandbox.clock.no_poll")
                    raise self._back(person)
                target = max(closing, now)
            result = await self.travel.to(target)
        moment = format_moment(locale, self.clock.now().astimezone(zone))
        self.flash = t(locale, "sandbox.clock.moved", moment=moment, sent=result.sent)
        raise self._back(person)

    async def handle_reset(self, request: web.Request) -> web.Response:
        """Put the demo organisation back as it started, with real time on the clock."""
        fields = await self._fields(request)
        person = self._person(fields.get("as", demo.ADMIN))
        async with self._turn:
            locale = await self.locale()
            if self.clock.movable:
                self.clock.reset()
            self.inbox.clear()
            self.forms.clear()
            async with self._seeding:
                await self._seed(locale)
        self.flash = t(locale, "sandbox.reset_done")
        raise self._back(person)

    async def handle_language(self, request: web.Request) -> web.Response:
        """Switch the demo between English and Dutch."""
        fields = await self._fields(request)
        person = self._person(fields.get("as", demo.ADMIN))
        language = self._required(fields, "language")
        if language not in LOCALES:
            raise BadRequest("bad_language", language=language[:20])
        await demo.set_language(self.services, language)
        self.flash = t(language, "sandbox.language_done")
        raise self._back(person)


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        # Browsers send Origin with every cross-site POST; without one it came from no page.
        return origin is None
    return urlsplit(origin).netloc == request.host


def _role(locale: str, person: demo.DemoPerson) -> str:
    if person.role == "admin":
        return t(locale, "sandbox.role.admin")
    return t(locale, f"sandbox.role.{person.role}", team=person.team)
