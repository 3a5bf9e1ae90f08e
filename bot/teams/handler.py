"""Handle Teams activities: installs and removals, typed commands, and button presses.

Everything platform-neutral (filing people, running commands, applying clicks in order) is the
shared edge's (``bot.edge``); this module only reads the activity and answers in Teams' terms.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.activity_handler import _InvokeResponseException
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, AdaptiveCardInvokeValue
from sqlalchemy import select

from bot.edge import Click, EdgeCore, Profile, observe_ack
from bot.teams.cards import (
    CARD_CONTENT_TYPE,
    FORM_CANCEL,
    CardAction,
    card_of,
    form_card,
    read_action,
    render_form,
    render_message,
    render_text,
)
from bot.teams.inbound import (
    Sender,
    bot_in,
    command_text,
    conversation_of,
    is_personal,
    sender_of,
    submitted_value,
    tenant_of,
)
from bot.teams.references import ConversationStore
from bot.teams.workhours import OutlookWeeks
from nudges.coaching.interactions import ActionResult
from nudges.messages import Action, FormId
from nudges.people import directory
from nudges.store.audit import audit_entry
from nudges.store.org import Person

logger = logging.getLogger(__name__)

# Why a person gets no messages after removing the app (shown to admins by `status`).
REMOVED_APP = "removed the Teams app"
MESSAGE_TYPE = "application/vnd.microsoft.activity.message"
ERROR_TYPE = "application/vnd.microsoft.error"
FORM_IDS = frozenset(f.value for f in FormId)
# Past this many remembered senders, the least recently seen are forgotten.
PROFILE_MEMORY = 10_000


class ActivityProfiles:
    """Profiles as Teams activities describe their senders (there is nothing to look up)."""

    def __init__(self, memory: int = PROFILE_MEMORY) -> None:
        self._memory = memory
        self._seen: OrderedDict[tuple[str, str], Profile] = OrderedDict()

    def saw(self, sender: Sender) -> None:
        """Remember what an activity said about its sender."""
        key = (sender.tenant_id, sender.aad_object_id)
        self._seen[key] = Profile(
            user_id=sender.aad_object_id,
            display_name=sender.name,
            timezone=sender.timezone,
            locale=sender.locale,
        )
        self._seen.move_to_end(key)
        while len(self._seen) > self._memory:
            self._seen.popitem(last=False)

    async def get(self, workspace_id: str, user_id: str) -> Profile | None:
        """Return what the last activity from the person said."""
        return self._seen.get((workspace_id, user_id))


class TeamsHandler(TeamsActivityHandler):  # type: ignore[misc]
    """Turn Teams activities into calls on the shared edge, and answers into Teams replies."""

    def __init__(
        self,
        core: EdgeCore,
        store: ConversationStore,
        profiles: ActivityProfiles,
        *,
        outlook: OutlookWeeks | None = None,
    ) -> None:
        self.core = core
        self.store = store
        self.profiles = profiles
        self.outlook = outlook

    async def on_turn(self, turn_context: TurnContext) -> None:
        """Note who is asking, then route the activity by type."""
        activity = turn_context.activity
        sender = sender_of(activity)
        if sender is not None:
            self.profiles.saw(sender)
        started = time.perf_counter()
        await super().on_turn(turn_context)
        kind = _ack_kind(activity)
        if kind:
            # Teams waits for the HTTP answer while the turn runs: that is the acknowledgement.
            observe_ack(kind, self.core.platform, time.perf_counter() - started)

    # -- installs and removals -------------------------------------------------------------

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        """Store the conversation the app was installed in; bootstrap the tenant's admin."""
        await self._installed(turn_context.activity)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        """Stop writing to a conversation the app was removed from."""
        await self._removed(turn_context.activity)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        """React only to the bot itself being added or removed; other changes are acked."""
        activity = turn_context.activity
        if bot_in(activity.members_added, activity):
            await self._installed(activity)
        elif bot_in(activity.members_removed, activity):
            await self._removed(activity)

    async def _installed(self, activity: Activity) -> None:
        conversation = conversation_of(activity)
        if conversation is None:
            logger.warning("teams: an install without a conversation, tenant or serviceUrl")
            return
        new = await self.store.remember(conversation)
        sender = sender_of(activity)
        if sender is not None:
            await self.core.know(sender.tenant_id, sender.aad_object_id)
            await self._bootstrap(
                sender.tenant_id, sender.aad_object_id, personal=conversation.personal
            )
            if self.outlook is not None and conversation.personal:
                # A new person's Outlook week applies from their first message, not tomorrow's.
                self.core.inflight.spawn(
                    self.outlook.refresh_quietly(sender.tenant_id, sender.aad_object_id)
                )
        if new:
            logger.info(
                "teams: installed in a %s conversation tenant=%s",
                conversation.conversation_type,
                conversation.tenant_id,
            )

    async def _removed(self, activity: Activity) -> None:
        conversation = activity.conversation
        if conversation is None or not conversation.id:
            return
        stored = await self.store.deactivate(str(conversation.id))
        logger.info("teams: removed from a conversation tenant=%s", tenant_of(activity))
        if stored is None or not stored.personal or not stored.aad_object_id:
            return
        async with self.core.services.db.session() as session:
            workspace = await directory.find_workspace(
                session, self.core.platform, stored.tenant_id
            )
            if workspace is None:
                return
            person = await directory.find_person(session, workspace.id, stored.aad_object_id)
            if person is not None and person.reachable:
                person.reachable = False
                person.unreachable_reason = REMOVED_APP
                await session.commit()

    async def _bootstrap(self, tenant_id: str, aad_object_id: str, *, personal: bool) -> None:
        """Make a personal installer reachable again, and the tenant's first installer its admin.

        The admin rule applies only when NUDGEBOT_ADMINS names nobody.
        """
        async with self.core.services.db.session() as session:
            workspace = await self.core.people.ensure_workspace(session, tenant_id)
            person = await directory.ensure_person(session, workspace, aad_object_id)
            changed = False
            if personal and not person.reachable and person.unreachable_reason == REMOVED_APP:
                person.reachable = True
                person.unreachable_reason = None
                changed = True
            if not self.core.options.admins:
                admin = await session.scalar(
                    select(Person.id)
                    .where(Person.workspace_id == workspace.id, Person.is_admin.is_(True))
                    .limit(1)
                )
                if admin is None:
                    person.is_admin = True
                    changed = True
                    session.add(
                        audit_entry(
                            workspace_id=workspace.id,
                            actor_id=None,
                            action="admins.add",
                            target=f"person:{aad_object_id}",
                            details={"reason": "first installer"},
                            when=self.core.services.clock.now(),
                        )
                    )
                    logger.info("teams: the first installer is the admin of tenant=%s", tenant_id)
            if changed:
                await session.commit()

    # -- typed text and Action.Submit ------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """Run typed text as a command; a text-less message with card data is a button press."""
        activity = turn_context.activity
        sender = sender_of(activity)
        if sender is None:
            logger.info("teams: a message without a tenant or Entra id; ignored")
            return
        if is_personal(activity):
            conversation = conversation_of(activity)
            if conversation is not None:
                await self.store.remember(conversation)
        value = submitted_value(activity)
        if value is not None:
            await self._submitted(turn_context, sender, value)
            return
        if not is_personal(activity) and not _mentions_bot(activity):
            return
        known = await self._mentioned(sender.tenant_id, activity)
        text = command_text(activity, lambda user_id, aad: aad or known.get(user_id, user_id))
        reply = await self.core.inflight.run(
            self.core.run_command(
                sender.tenant_id, sender.aad_object_id, text, private=is_personal(activity)
            )
        )
        await turn_context.send_activity(_activity(render_text(reply)))

    async def _mentioned(self, tenant_id: str, activity: Activity) -> dict[str, str]:
        """Map mentioned 29: ids to the Entra ids their personal chats told us."""
        found: dict[str, str] = {}
        for entity in activity.entities or []:
            if getattr(entity, "type", None) != "mention":
                continue
            mentioned = (getattr(entity, "additional_properties", None) or {}).get("mentioned")
            user_id = mentioned.get("id") if isinstance(mentioned, dict) else None
            if isinstance(user_id, str) and user_id.startswith("29:"):
                aad = await self.store.aad_of(tenant_id, user_id)
                if aad:
                    found[user_id] = aad
        return found

    async def _submitted(self, turn_context: TurnContext, sender: Sender, value: Any) -> None:
        action = read_action(value)
        if action is None:
            return
        result = await self._apply(sender, action, turn_context.activity)
        if result is None:
            return
        # A reply to Action.Submit cannot replace the card: the core updates it in place, and
        # what else there is to show comes as a new message.
        if result.form is not None:
            await turn_context.send_activity(_activity(render_form(result.form)))
        elif result.notice and action.action_id != Action.PULSE_ANSWER:
            # A pulse notice names the chosen value, and a Teams chat keeps every message where
            # the bot could read it back; there is no message only the clicker sees, so none.
            await turn_context.send_activity(_activity(render_text(result.notice)))
        elif result.errors:
            await turn_context.send_activity(
                _activity(render_text("\n".join(result.errors.values())))
            )

    # -- Action.Execute ----------------------------------------------------------------------

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> dict[str, Any]:
        """Apply the press and answer with the refreshed card (or what else there is to say)."""
        activity = turn_context.activity
        sender = sender_of(activity)
        action = read_action(activity.value)
        if sender is None or action is None:
            raise _invoke_error("BadRequest", "the action names no person or no button")
        result = await self._apply(sender, action, activity)
        if result is None:
            return _invoke_body(HTTPStatus.OK, MESSAGE_TYPE, "")
        if result.form is not None:
            return _invoke_body(HTTPStatus.OK, CARD_CONTENT_TYPE, form_card(result.form))
        if result.message is not None and not result.errors:
            card = card_of(render_message(result.message))
            return _invoke_body(HTTPStatus.OK, CARD_CONTENT_TYPE, card)
        notice = result.notice if action.action_id != Action.PULSE_ANSWER else None
        lines = [*result.errors.values(), *([notice] if notice else [])]
        text = render_text("\n".join(lines))["text"] if lines else ""
        return _invoke_body(HTTPStatus.OK, MESSAGE_TYPE, text)

    @staticmethod
    def _create_invoke_response(body: object = None) -> InvokeResponse:
        # botbuilder serialises the body with msrest, which fails on a plain dict or on the
        # string value of a message answer; ours are plain JSON already.
        return InvokeResponse(status=int(HTTPStatus.OK), body=body)

    def _create_adaptive_card_invoke_error_response(
        self, status_code: HTTPStatus, code: str, message: str
    ) -> dict[str, Any]:
        # botbuilder puts an Exception in the body, which cannot be serialised (a 500); the
        # samples' error body is {"code", "message"}.
        return _invoke_body(status_code, ERROR_TYPE, {"code": code, "message": message})

    async def _apply(
        self, sender: Sender, action: CardAction, activity: Activity
    ) -> ActionResult | None:
        ws, user = sender.tenant_id, sender.aad_object_id
        if action.action_id == FORM_CANCEL:
            return None
        if action.action_id in FORM_IDS:
            return await self.core.inflight.run(
                self.core.submit_form(ws, user, action.action_id, action.value, action.inputs)
            )
        click = Click(
            workspace_id=ws,
            user_id=user,
            action_id=action.action_id,
            value=action.value,
            message_key=str(activity.reply_to_id or ""),
            clicked_at=_sent_at(activity),
        )
        return await self.core.inflight.run(self.core.apply_click(click))


def _sent_at(activity: Activity) -> float | None:
    """Return when Teams says the click was sent (epoch seconds), so the last click wins."""
    stamp = activity.timestamp
    if not isinstance(stamp, datetime):
        return None
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


def _ack_kind(activity: Activity) -> str:
    if activity.type == "invoke" and activity.name == "adaptiveCard/action":
        return "click"
    if activity.type == "message":
        return "click" if submitted_value(activity) is not None else "command"
    return ""


def _mentions_bot(activity: Activity) -> bool:
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        props: dict[str, Any] = dict(getattr(entity, "additional_properties", None) or {})
        if getattr(entity, "type", None) == "mention":
            mentioned = props.get("mentioned") or {}
            if isinstance(mentioned, dict) and mentioned.get("id") == bot_id:
                return True
    return False


def _activity(rendered: dict[str, Any]) -> Activity:
    return Activity().deserialize(rendered)


def _invoke_body(status: HTTPStatus, kind: str, value: Any) -> dict[str, Any]:
    """Word an adaptiveCard/action answer: statusCode, type and value, as Teams reads them."""
    return {"statusCode": int(status), "type": kind, "value": value}


def _invoke_error(code: str, message: str) -> _InvokeResponseException:
    # The same 400 botbuilder answers to a malformed adaptiveCard/action value.
    return _InvokeResponseException(
        HTTPStatus.BAD_REQUEST,
        _invoke_body(HTTPStatus.BAD_REQUEST, ERROR_TYPE, {"code": code, "message": message}),
    )


__all__ = ["REMOVED_APP", "ActivityProfiles", "TeamsHandler"]
