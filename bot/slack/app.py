"""Listen to Slack with Bolt: the /nudges command, nudge buttons, modals, App Home and DMs.

This module only translates: Slack payloads in, calls on ``bot.edge.EdgeCore``, Block Kit out.
Every listener acknowledges first. Work that may be slow runs after the acknowledgement; where
Slack wants the answer in the acknowledgement itself (a command's reply, a modal's field errors)
the work gets the edge's ``ack_budget`` seconds and otherwise answers later, so Slack's
three-second limit is never at risk.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.listener.async_builtins import AsyncTokenRevocationListeners
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.edge import AckFirst, Click, EdgeCore, observe_ack
from bot.slack.blocks import (
    MESSAGE_TEXT_MAX,
    base_id,
    parse_modal_values,
    render_home,
    render_modal,
    to_mrkdwn,
)
from bot.slack.events_seen import EventLedger, dedupe_middleware
from bot.slack.grid import workspace_of
from nudges.coaching.interactions import ActionResult
from nudges.domain import Platform
from nudges.i18n import t
from nudges.messages import Page, Text

logger = logging.getLogger(__name__)

COMMAND = "/nudges"
# Requests whose acknowledgement is timed as a click's.
CLICK_TYPES = frozenset({"block_actions", "view_submission"})


class SlackListeners:
    """Turn Slack requests into calls on the edge core, and its answers into Slack calls."""

    def __init__(self, core: EdgeCore) -> None:
        self.core = core
        self.inflight = core.inflight
        self._revocation: AsyncTokenRevocationListeners | None = None

    def register(self, app: AsyncApp, ledger: EventLedger) -> None:
        """Attach the middleware and every listener to ``app``."""
        app.use(dedupe_middleware(ledger))
        app.use(RateLimitNotice())
        # Bolt tries listeners in turn, each check costing about as much as the listener's own
        # call: clicks, the requests that come in bursts, are matched first.
        app.action(re.compile(".+"))(self.on_action)
        app.command(self.core.options.command)(self.on_command)
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
        self,
        ack: AsyncAck,
        command: dict[str, Any],
        respond: AsyncRespond,
        context: AsyncBoltContext,
    ) -> None:
        """Run the command; answer in the acknowledgement when quick, else via response_url."""

        async def now(reply: str | None) -> None:
            if reply is None:
                await ack()
            else:
                await ack(text=_message_text(reply), response_type="ephemeral")

        async def later(reply: str) -> None:
            try:
                await respond(text=_message_text(reply), response_type="ephemeral")
            except (SlackClientError, OSError) as exc:
                logger.warning(
                    "slack command reply via response_url failed: %s", type(exc).__name__
                )

        await self.core.commands.answer(
            workspace_of(command, context),
            str(command.get("user_id", "")),
            str(command.get("text", "")),
            now=now,
            later=later,
        )

    # -- buttons -----------------------------------------------------------------------------

    async def on_action(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        """Acknowledge a click, then apply it in the background.

        Only what applying needs is kept (``_Pressed``), so Bolt can let go of the request while
        the click waits for the rest of a burst to be acknowledged.
        """
        await ack()
        pressed = _pressed(body, workspace_of(body, context))
        self.inflight.spawn(self._apply_actions(pressed, client))

    async def _apply_actions(self, pressed: _Pressed, client: AsyncWebClient) -> None:
        try:
            for click in pressed.clicks:
                result = await self.core.apply_click(click)
                if result is not None:
                    await self._show(client, pressed, result)
        except Exception:
            # Bolt no longer waits on this work, so its error handler would not see this.
            logger.exception("applying a slack click failed team=%s", pressed.team_id)

    async def _show(self, client: AsyncWebClient, pressed: _Pressed, result: ActionResult) -> None:
        team_id, user_id = pressed.team_id, pressed.user_id
        if result.form is not None:
            await _slack_call(
                "views.open",
                client.views_open(trigger_id=pressed.trigger_id, view=render_modal(result.form)),
            )
        elif result.notice:
            channel = pressed.channel
            # Outside a channel (a button in a modal or on Home) the notice comes as a DM.
            call = (
                client.chat_postEphemeral(
                    channel=channel, user=user_id, text=to_mrkdwn(result.notice)
                )
                if channel
                else client.chat_postMessage(channel=user_id, text=to_mrkdwn(result.notice))
            )
            await _slack_call("chat.postEphemeral" if channel else "chat.postMessage", call)
        if result.changed:
            self._home_changed(client, team_id, user_id)

    def _home_changed(self, client: AsyncWebClient, team_id: str, user_id: str) -> None:
        async def publish(ws: str, user: str) -> None:
            await self.publish_home(client, ws, user)

        self.core.home_changed(team_id, user_id, publish)

    # -- modals ------------------------------------------------------------------------------

    async def on_view_submission(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        """Save a submitted form; field errors go back in the acknowledgement."""
        team_id = workspace_of(body, context)
        user_id = str((body.get("user") or {}).get("id", ""))
        values = parse_modal_values((view.get("state") or {}).get("values") or {})

        async def now(result: ActionResult | None) -> None:
            if result is None:
                # Too slow to answer in the modal: close it and say the outcome in a DM.
                await ack()
            elif result.errors:
                await ack(response_action="errors", errors=_errors_by_block(view, result.errors))
            elif result.notice:
                locale = await self.core.stored_locale(team_id, user_id)
                await ack(response_action="update", view=_notice_view(view, result.notice, locale))
            else:
                await ack()
            if result is not None and result.changed:
                self._home_changed(client, team_id, user_id)

        async def later(result: ActionResult) -> None:
            lines = [*result.errors.values(), *([result.notice] if result.notice else [])]
            if lines:
                await _slack_call(
                    "chat.postMessage",
                    client.chat_postMessage(channel=user_id, text=to_mrkdwn("\n".join(lines))),
                )
            if result.changed:
                self._home_changed(client, team_id, user_id)

        await self.core.answer_form(
            team_id,
            user_id,
            str(view.get("callback_id", "")),
            str(view.get("private_metadata", "")),
            values,
            now=now,
            later=later,
        )

    # -- App Home ----------------------------------------------------------------------------

    async def on_home_opened(
        self,
        event: dict[str, Any],
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        """Publish the person's Home tab when they open it."""
        if event.get("tab", "home") != "home":
            return
        team_id = workspace_of(body, context)
        user_id = str(event.get("user", ""))
        if team_id and user_id:
            self.core.home_opened(team_id, user_id)
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
        return await self.core.home(team_id, user_id)

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
        team_id = workspace_of(body, context)
        if not await self.core.should_answer_dm(team_id, user_id):
            return
        await self.inflight.run(self._dm_reply(client, team_id, user_id, str(event["channel"])))

    async def _dm_reply(
        self, client: AsyncWebClient, team_id: str, user_id: str, channel: str
    ) -> None:
        text = await self.core.dm_reply(team_id, user_id)
        await _slack_call(
            "chat.postMessage", client.chat_postMessage(channel=channel, text=to_mrkdwn(text))
        )

    async def on_app_uninstalled(self, context: AsyncBoltContext) -> None:
        """Forget a workspace's installation when it removes the app."""
        assert self._revocation is not None
        logger.info(
            "slack app uninstalled team=%s enterprise=%s", context.team_id, context.enterprise_id
        )
        await self.inflight.run(self._revocation.handle_app_uninstalled_events(context))

    async def on_tokens_revoked(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        """Forget tokens Slack says were revoked."""
        assert self._revocation is not None
        await self.inflight.run(self._revocation.handle_tokens_revoked_events(event, context))

    async def on_other_event(self) -> None:
        """Acknowledge an event the bot does not act on."""


class AckFirstApp(AsyncApp):
    """Bolt's app, marking each request until it is acknowledged and timing clicks' acks.

    Bolt runs its middleware before the listener, not around it, so only the dispatch as a
    whole spans a request from its arrival to its acknowledgement (HTTP and Socket Mode).
    """

    def __init__(self, *, ack_first: AckFirst, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ack_first = ack_first

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        """Dispatch ``req``; work after acknowledgements waits while this one is not."""
        self.ack_first.begin()
        started = time.perf_counter()
        try:
            return await super().async_dispatch(req)
        finally:
            self.ack_first.end()
            if isinstance(req.body, dict) and req.body.get("type") in CLICK_TYPES:
                observe_ack("click", Platform.SLACK, time.perf_counter() - started)


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
    app = AckFirstApp(
        ack_first=listeners.core.ack_first,
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


class RateLimitNotice(AsyncMiddleware):
    """Answer Slack's ``app_rate_limited`` notice, which no listener can match, with a 200."""

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        """Log the notice and answer it; pass every other request on."""
        body = req.body
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


@dataclass(frozen=True)
class _Pressed:
    """What applying a block_actions request needs from it: who, which buttons, where."""

    team_id: str
    user_id: str
    clicks: tuple[Click, ...]
    trigger_id: str | None
    # The channel of the clicked message, for the clicker's notice ("" outside a channel).
    channel: str


def _pressed(body: Mapping[str, Any], team_id: str) -> _Pressed:
    user_id = str((body.get("user") or {}).get("id", ""))
    message_key = _message_key(body)
    clicks = tuple(
        Click(
            workspace_id=team_id,
            user_id=user_id,
            action_id=base_id(str(action.get("action_id", ""))),
            value=str(action.get("value") or ""),
            message_key=message_key,
            clicked_at=_seconds(action.get("action_ts")),
        )
        for action in body.get("actions") or []
    )
    channel = str((body.get("container") or {}).get("channel_id") or "")
    channel = channel or str((body.get("channel") or {}).get("id") or "")
    trigger = body.get("trigger_id")
    return _Pressed(team_id, user_id, clicks, str(trigger) if trigger else None, channel)


def _message_key(body: Mapping[str, Any]) -> str:
    """Name the message (or view) a click was on: its channel and timestamp."""
    container = body.get("container")
    if isinstance(container, Mapping):
        if container.get("message_ts"):
            return f"{container.get('channel_id', '')}:{container['message_ts']}"
        if container.get("view_id"):
            return str(container["view_id"])
    return ""


def _seconds(raw: Any) -> float | None:
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


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


__all__ = ["COMMAND", "SlackListeners", "build_bolt_app"]
