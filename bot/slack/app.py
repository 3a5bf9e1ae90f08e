"""Listen to Slack with Bolt: the /nudges command, nudge buttons, modals, App Home and DMs.

Every listener acknowledges first. Work that may be slow runs after the acknowledgement; where
Slack wants the answer in the acknowledgement itself (a command's reply, a modal's field errors)
the work gets ``ack_budget`` seconds and otherwise answers later, so Slack's three-second limit
is never at risk.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.listener.async_builtins import AsyncTokenRevocationListeners
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.slack.blocks import (
    MESSAGE_TEXT_MAX,
    base_id,
    parse_modal_values,
    render_home,
    render_modal,
    to_mrkdwn,
)
from bot.slack.events_seen import EventLedger, dedupe_middleware
from bot.slack.profiles import ProfileCache, SlackProfile
from nudges import directory
from nudges.actions import Action
from nudges.domain import Platform
from nudges.home import HomeContext, home_page
from nudges.i18n import t
from nudges.interactions import ActionResult, Actor
from nudges.messages import Page, Text
from nudges.services import Services
from nudges.store.org import Person, Workspace

logger = logging.getLogger(__name__)

COMMAND = "/nudges"
DEFAULT_ACK_BUDGET = 2.0
DEFAULT_DM_COOLDOWN = timedelta(minutes=10)
# Past this many remembered DM replies, the ones outside the cooldown are forgotten.
DM_MEMORY = 10_000
_ACTIONS = frozenset(a.value for a in Action)
T = TypeVar("T")


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


@dataclass(frozen=True)
class SlackOptions:
    """Tunables of the Slack listeners."""

    command: str = COMMAND
    ack_budget: float = DEFAULT_ACK_BUDGET
    dm_cooldown: timedelta = DEFAULT_DM_COOLDOWN
    # New workspaces start from the service's defaults (DEFAULT_LOCALE and friends).
    workspace_defaults: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Known:
    """What the bot knows about the person behind a request."""

    locale: str
    platform_admin: bool


class Inflight:
    """Track work started after an acknowledgement, so tests and shutdown can wait for it."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Start ``work`` and keep hold of it until it ends."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` as tracked work and return its result."""
        return await self.spawn(work)

    async def drain(self, limit: float | None = None) -> None:
        """Wait until no tracked work is left, or ``limit`` seconds have passed."""
        loop = asyncio.get_running_loop()
        deadline = None if limit is None else loop.time() + limit
        while self._tasks:
            remaining = None if deadline is None else max(0.0, deadline - loop.time())
            if remaining == 0.0:
                logger.warning("%d slack tasks still running at shutdown", len(self._tasks))
                return
            await asyncio.wait(set(self._tasks), timeout=remaining)

    def __len__(self) -> int:
        return len(self._tasks)


class KeyedLocks:
    """Serialise work per key (one message's buttons) without keeping idle locks around."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> Any:
        """Hold the lock for ``key``."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class SlackListeners:
    """Turn Slack requests into calls on the core, and the core's answers into Slack calls."""

    def __init__(
        self,
        services: Services,
        commands: CommandRunner,
        profiles: ProfileCache,
        options: SlackOptions | None = None,
    ) -> None:
        self.services = services
        self.commands = commands
        self.profiles = profiles
        self.options = options or SlackOptions()
        self.inflight = Inflight()
        self._locks = KeyedLocks()
        self._recorded: dict[tuple[str, str], SlackProfile] = {}
        self._dm_replied: dict[tuple[str, str], datetime] = {}
        self._revocation: AsyncTokenRevocationListeners | None = None

    def register(self, app: AsyncApp, ledger: EventLedger) -> None:
        """Attach the middleware and every listener to ``app``."""
        app.use(dedupe_middleware(ledger))
        app.use(_acknowledge_rate_limit_notice)
        app.command(self.options.command)(self.on_command)
        app.action(re.compile(".+"))(self.on_action)
        app.view(re.compile(".+"))(self.on_view_submission)
        app.event("app_home_opened")(self.on_home_opened)
        app.event("message")(self.on_message)
        if app.installation_store is not None:
            self._revocation = AsyncTokenRevocationListeners(app.installation_store)
            app.event("app_uninstalled")(self.on_app_uninstalled)
            app.event("tokens_revoked")(self.on_tokens_revoked)
        # Slack disables subscriptions that often get no 2xx, so every other event is acked too.
        app.event(re.compile(".*"))(self.on_other_event)

    # -- the /nudges command -----------------------------------------------------------------

    async def on_command(
        self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """Run the command; answer in the acknowledgement when quick, else via response_url."""
        team_id = str(command.get("team_id", ""))
        user_id = str(command.get("user_id", ""))
        text = str(command.get("text", ""))
        work = self.inflight.spawn(self._run_command(team_id, user_id, text))
        reply = await self._within_budget(work)
        if reply is not None:
            await ack(text=_message_text(reply), response_type="ephemeral")
            return
        await ack()
        await self.inflight.run(self._late_command_reply(respond, work))

    async def _late_command_reply(self, respond: AsyncRespond, work: asyncio.Task[str]) -> None:
        reply = await work
        try:
            await respond(text=_message_text(reply), response_type="ephemeral")
        except (SlackClientError, OSError) as exc:
            logger.warning("slack command reply via response_url failed: %s", type(exc).__name__)

    async def _run_command(self, team_id: str, user_id: str, text: str) -> str:
        locale = await self._stored_locale(team_id, user_id)
        try:
            known = await self.know(team_id, user_id)
            locale = known.locale
            reply = await self.commands.run(
                Actor(Platform.SLACK, team_id, user_id),
                text,
                # The core writes commands as prefix + words: "/nudges " + "help".
                prefix=f"{self.options.command} ",
                is_platform_admin=known.platform_admin,
            )
        except Exception:
            # The person gets one line; the log gets the details (never the typed text).
            logger.exception("slack command failed team=%s user=%s", team_id, user_id)
            return t(locale, "home.errors.failed")
        return reply.text

    # -- buttons -----------------------------------------------------------------------------

    async def on_action(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Acknowledge a click, then apply it."""
        await ack()
        await self.inflight.run(self._apply_actions(body, client))

    async def _apply_actions(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        team_id = _team_of(body)
        user_id = str((body.get("user") or {}).get("id", ""))
        for action in body.get("actions") or []:
            action_id = base_id(str(action.get("action_id", "")))
            if action_id not in _ACTIONS:
                logger.debug("ignoring slack action %s", action_id)
                continue
            value = str(action.get("value") or "")
            try:
                result = await self._apply_action(team_id, user_id, action_id, value)
                await self._show(client, body, team_id, user_id, result)
            except Exception:
                logger.exception("slack action %s failed team=%s", action_id, team_id)

    async def _apply_action(
        self, team_id: str, user_id: str, action_id: str, value: str
    ) -> ActionResult:
        await self.know(team_id, user_id)
        actor = Actor(Platform.SLACK, team_id, user_id)
        # Two quick clicks on one message run one after the other, so the second sees the first.
        async with self._locks.hold(f"{team_id}:{value}"):
            return await self.services.interactions.on_action(actor, action_id, value)

    async def _show(
        self,
        client: AsyncWebClient,
        body: dict[str, Any],
        team_id: str,
        user_id: str,
        result: ActionResult,
    ) -> None:
        if result.form is not None:
            await _slack_call(
                "views.open",
                client.views_open(
                    trigger_id=body.get("trigger_id"), view=render_modal(result.form)
                ),
            )
        elif result.notice:
            channel = str((body.get("container") or {}).get("channel_id") or "")
            channel = channel or str((body.get("channel") or {}).get("id") or "")
            if channel:
                await _slack_call(
                    "chat.postEphemeral",
                    client.chat_postEphemeral(
                        channel=channel, user=user_id, text=to_mrkdwn(result.notice)
                    ),
                )
        if result.changed:
            await self.publish_home(client, team_id, user_id)

    # -- modals ------------------------------------------------------------------------------

    async def on_view_submission(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Save a submitted form; field errors go back in the acknowledgement."""
        team_id = _team_of(body)
        user_id = str((body.get("user") or {}).get("id", ""))
        values = parse_modal_values((view.get("state") or {}).get("values") or {})
        work = self.inflight.spawn(
            self._submit(
                team_id,
                user_id,
                str(view.get("callback_id", "")),
                str(view.get("private_metadata", "")),
                values,
            )
        )
        result = await self._within_budget(work)
        if result is None:
            # Too slow to answer in the modal: close it and say the outcome in a DM.
            await ack()
            await self.inflight.run(self._late_form_answer(client, team_id, user_id, work))
            return
        if result.errors:
            await ack(response_action="errors", errors=_errors_by_block(view, result.errors))
        elif result.notice:
            locale = await self._stored_locale(team_id, user_id)
            await ack(response_action="update", view=_notice_view(view, result.notice, locale))
        else:
            await ack()
        if result.changed:
            await self.inflight.run(self.publish_home(client, team_id, user_id))

    async def _submit(
        self,
        team_id: str,
        user_id: str,
        form_id: str,
        private_metadata: str,
        values: dict[str, str],
    ) -> ActionResult:
        actor = Actor(Platform.SLACK, team_id, user_id)
        try:
            async with self._locks.hold(f"{team_id}:{private_metadata}"):
                return await self.services.interactions.on_form(
                    actor, form_id, private_metadata, values
                )
        except Exception:
            logger.exception("slack form %s failed team=%s", form_id, team_id)
            locale = await self._stored_locale(team_id, user_id)
            return ActionResult(notice=t(locale, "home.errors.failed"))

    async def _late_form_answer(
        self,
        client: AsyncWebClient,
        team_id: str,
        user_id: str,
        work: asyncio.Task[ActionResult],
    ) -> None:
        try:
            result = await work
        except Exception:
            logger.exception("slack form submission failed team=%s", team_id)
            return
        lines = [*result.errors.values(), *([result.notice] if result.notice else [])]
        if lines:
            await _slack_call(
                "chat.postMessage",
                client.chat_postMessage(channel=user_id, text=to_mrkdwn("\n".join(lines))),
            )
        if result.changed:
            await self.publish_home(client, team_id, user_id)

    # -- App Home ----------------------------------------------------------------------------

    async def on_home_opened(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Publish the person's Home tab when they open it."""
        if event.get("tab", "home") != "home":
            return
        team_id = _team_of(body)
        user_id = str(event.get("user", ""))
        if team_id and user_id:
            await self.inflight.run(self.publish_home(client, team_id, user_id))

    async def publish_home(self, client: AsyncWebClient, team_id: str, user_id: str) -> None:
        """Render and publish ``user_id``'s Home tab; the same state gives the same view."""
        try:
            view = render_home(await self.home(team_id, user_id))
        except Exception:
            logger.exception("building the slack home failed team=%s", team_id)
            return
        await _slack_call("views.publish", client.views_publish(user_id=user_id, view=view))

    async def home(self, team_id: str, user_id: str) -> Page:
        """Build the Home page of ``user_id`` in workspace ``team_id``."""
        known = await self.know(team_id, user_id)
        async with self.services.db.session() as session:
            workspace, person = await self._ensure(session, team_id, user_id)
            ctx = HomeContext(
                workspace=workspace,
                person=person,
                is_admin=known.platform_admin or person.is_admin,
                command=self.options.command,
            )
            return await home_page(session, self.services.catalogue, ctx, self.services.clock.now())

    # -- direct messages ---------------------------------------------------------------------

    async def on_message(
        self,
        event: dict[str, Any],
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        """Answer a person's direct message with a short pointer to help, at most now and then."""
        if event.get("channel_type") != "im":
            return
        # Edits, joins, bot posts (ours included): never answer, so two bots cannot loop.
        if event.get("subtype") or event.get("bot_id") or event.get("app_id"):
            return
        user_id = str(event.get("user") or "")
        if not user_id or user_id == context.bot_user_id:
            return
        team_id = _team_of(body)
        now = self.services.clock.now()
        last = self._dm_replied.get((team_id, user_id))
        if last is not None and now - last < self.options.dm_cooldown:
            return
        if len(self._dm_replied) >= DM_MEMORY:
            cutoff = now - self.options.dm_cooldown
            self._dm_replied = {k: v for k, v in self._dm_replied.items() if v >= cutoff}
        self._dm_replied[(team_id, user_id)] = now
        await self.inflight.run(self._dm_reply(client, team_id, user_id, str(event["channel"])))

    async def _dm_reply(
        self, client: AsyncWebClient, team_id: str, user_id: str, channel: str
    ) -> None:
        locale = (await self.know(team_id, user_id)).locale
        text = t(locale, "home.dm.reply", command=self.options.command)
        await _slack_call(
            "chat.postMessage", client.chat_postMessage(channel=channel, text=to_mrkdwn(text))
        )

    async def on_app_uninstalled(self, context: AsyncBoltContext) -> None:
        """Forget a workspace's installation when it removes the app."""
        assert self._revocation is not None
        logger.info("slack app uninstalled team=%s", context.team_id)
        await self.inflight.run(self._revocation.handle_app_uninstalled_events(context))

    async def on_tokens_revoked(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        """Forget tokens Slack says were revoked."""
        assert self._revocation is not None
        await self.inflight.run(self._revocation.handle_tokens_revoked_events(event, context))

    async def on_other_event(self) -> None:
        """Acknowledge an event the bot does not act on."""

    # -- who is asking -----------------------------------------------------------------------

    async def know(self, team_id: str, user_id: str) -> Known:
        """Learn the person's profile (zone, language, admin rights) and store what changed."""
        profile = await self._profile(team_id, user_id)
        async with self.services.db.session() as session:
            workspace, person = await self._ensure(session, team_id, user_id, profile)
            locale = directory.locale_of(workspace, person)
            await session.commit()
        return Known(locale=locale, platform_admin=bool(profile and profile.is_admin))

    async def _stored_locale(self, team_id: str, user_id: str) -> str:
        """Return the person's language from the store alone (no Slack call)."""
        fallback = str(self.options.workspace_defaults.get("default_locale", "en"))
        try:
            async with self.services.db.session() as session:
                workspace = await directory.find_workspace(session, Platform.SLACK, team_id)
                if workspace is None:
                    return fallback
                person = await directory.find_person(session, workspace.id, user_id)
                return directory.locale_of(workspace, person)
        except Exception:
            logger.exception("reading the language of a slack user failed")
            return fallback

    async def _profile(self, team_id: str, user_id: str) -> SlackProfile | None:
        try:
            return await self.profiles.get(team_id, user_id)
        except Exception as exc:
            # Without a profile the person is treated as a non-admin in the workspace's language.
            logger.warning("slack profile of user=%s unavailable: %s", user_id, exc)
            return None

    async def _ensure(
        self,
        session: AsyncSession,
        team_id: str,
        user_id: str,
        profile: SlackProfile | None = None,
    ) -> tuple[Workspace, Person]:
        if not team_id or not user_id:
            # An org-wide (Enterprise Grid) request names no workspace; there is nobody to file.
            raise ValueError("a Slack request without a team or user id")
        for attempt in (1, 2):
            try:
                workspace = await directory.ensure_workspace(
                    session,
                    Platform.SLACK,
                    team_id,
                    defaults=dict(self.options.workspace_defaults),
                )
                key = (team_id, user_id)
                if profile is not None and self._recorded.get(key) != profile:
                    person = await directory.record_profile(
                        session,
                        workspace,
                        user_id,
                        timezone=profile.tz,
                        locale=profile.locale,
                        deleted=profile.deleted,
                    )
                    await session.flush()
                    self._recorded[key] = profile
                else:
                    person = await directory.ensure_person(session, workspace, user_id)
                return workspace, person
            except IntegrityError:
                # Two first requests from one workspace raced to create it; the other won.
                await session.rollback()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _within_budget(self, work: asyncio.Task[T]) -> T | None:
        try:
            return await asyncio.wait_for(asyncio.shield(work), self.options.ack_budget)
        except TimeoutError:
            return None


def build_bolt_app(
    listeners: SlackListeners,
    ledger: EventLedger,
    *,
    client: AsyncWebClient,
    oauth_settings: AsyncOAuthSettings | None = None,
    authorize: AsyncAuthorize | None = None,
) -> AsyncApp:
    """Build the Bolt app with our listeners; signatures are checked before it sees a request."""
    multi_workspace: dict[str, Any] = {}
    if oauth_settings is not None:
        multi_workspace = {
            "oauth_settings": oauth_settings,
            "authorize": authorize,
            "installation_store_bot_only": True,
        }
    app = AsyncApp(
        name="nudgebot",
        logger=logging.getLogger("bot.slack.bolt"),
        client=client,
        **multi_workspace,
        # HTTP requests are verified once, over the raw bytes, by bot.slack.verify before they
        # reach Bolt; Socket Mode needs no signature. Bolt's own check would repeat it.
        request_verification_enabled=False,
    )
    listeners.register(app, ledger)
    return app


async def _acknowledge_rate_limit_notice(
    body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse]]
) -> BoltResponse:
    """Answer Slack's ``app_rate_limited`` notice, which no listener can match, with a 200."""
    if body.get("type") != "app_rate_limited":
        return await next()
    logger.warning(
        "slack is dropping this app's events team=%s minute=%s",
        body.get("team_id"),
        body.get("minute_rate_limited"),
    )
    return BoltResponse(status=200, body="")


async def _slack_call(method: str, call: Awaitable[Any]) -> Any:
    try:
        return await call
    except SlackApiError as exc:
        data = getattr(exc.response, "data", None)
        code = data.get("error", "") if isinstance(data, Mapping) else ""
        logger.warning("slack %s failed: %s", method, code or "error")
    except (SlackClientError, OSError) as exc:
        logger.warning("slack %s failed: %s", method, type(exc).__name__)
    return None


def _team_of(body: Mapping[str, Any]) -> str:
    team = body.get("team")
    if isinstance(team, Mapping) and team.get("id"):
        return str(team["id"])
    if body.get("team_id"):
        return str(body["team_id"])
    user = body.get("user")
    if isinstance(user, Mapping) and user.get("team_id"):
        return str(user["team_id"])
    return ""


def _message_text(markup: str) -> str:
    text = to_mrkdwn(markup)
    return text if len(text) <= MESSAGE_TEXT_MAX else text[: MESSAGE_TEXT_MAX - 1] + "…"


def _errors_by_block(view: Mapping[str, Any], errors: Mapping[str, str]) -> dict[str, str]:
    """Key field errors by the block that holds each input, as Slack wants them."""
    block_of: dict[str, str] = {}
    for block in view.get("blocks") or []:
        element = block.get("element") if isinstance(block, Mapping) else None
        if isinstance(element, Mapping) and element.get("action_id") and block.get("block_id"):
            block_of[str(element["action_id"])] = str(block["block_id"])
    return {block_of.get(input_id, input_id): message for input_id, message in errors.items()}


def _notice_view(view: Mapping[str, Any], notice: str, locale: str) -> dict[str, Any]:
    """Turn the submitted modal into a confirmation holding ``notice``."""
    blocks = render_home(Page(blocks=(Text(notice),)))["blocks"]
    return {
        "type": "modal",
        "callback_id": str(view.get("callback_id", "")),
        "title": view.get("title") or {"type": "plain_text", "text": "Nudgebot"},
        "close": {"type": "plain_text", "text": t(locale, "home.modal.close"), "emoji": True},
        "blocks": blocks,
    }


__all__ = [
    "COMMAND",
    "CommandRunner",
    "Inflight",
    "Known",
    "Reply",
    "SlackListeners",
    "SlackOptions",
    "build_bolt_app",
]
