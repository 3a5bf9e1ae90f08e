"""Translate Teams activities for the core: who, where, which command, which button.

Nothing here talks to Teams or the store; the handler feeds it activities and acts on the answers.

Button data follows the contract in ``bot.teams.cards`` (read there by ``read_action``); it
arrives as an ``adaptiveCard/action`` invoke (Action.Execute) or as the ``value`` of a text-less
message (Action.Submit, older clients).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botbuilder.schema import Activity, Entity

from bot.teams.references import Conversation

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Sender:
    """The person behind an activity, as Teams names them."""

    tenant_id: str
    # The Entra (AAD) object id: stable across bots, what org charts use; the core's person id.
    aad_object_id: str
    # The per-bot 29: id: what Teams wants when the bot writes to them.
    user_id: str
    locale: str | None
    timezone: str | None
    # The name Teams shows for them (from.name), when the activity carries it.
    name: str | None = None


def _client_info(activity: Activity) -> dict[str, Any]:
    for entity in activity.entities or []:
        props = _entity_dict(entity)
        if props.get("type") == "clientInfo":
            return props
    return {}


def _entity_dict(entity: Entity | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(entity, Mapping):
        return dict(entity)
    data: dict[str, Any] = dict(entity.additional_properties or {})
    data["type"] = entity.type
    return data


def _channel_data(activity: Activity) -> dict[str, Any]:
    data = activity.channel_data
    return data if isinstance(data, dict) else {}


def tenant_of(activity: Activity) -> str:
    """Return the tenant id: ``conversation.tenantId``, else ``channelData.tenant.id``."""
    conversation = activity.conversation
    if conversation is not None and conversation.tenant_id:
        return str(conversation.tenant_id)
    tenant = _channel_data(activity).get("tenant")
    if isinstance(tenant, dict) and tenant.get("id"):
        return str(tenant["id"])
    return ""


def sender_of(activity: Activity) -> Sender | None:
    """Return who sent the activity; None without a tenant or an Entra object id."""
    sender = activity.from_property
    tenant = tenant_of(activity)
    if sender is None or not tenant or not sender.aad_object_id or not sender.id:
        return None
    info = _client_info(activity)
    locale = activity.locale or info.get("locale")
    timezone = activity.local_timezone or info.get("timezone")
    return Sender(
        tenant_id=tenant,
        aad_object_id=str(sender.aad_object_id),
        user_id=str(sender.id),
        locale=str(locale) if locale else None,
        timezone=str(timezone) if timezone else None,
        name=str(sender.name) if sender.name else None,
    )


def is_personal(activity: Activity) -> bool:
    """Tell whether the activity comes from a one-to-one chat with the bot."""
    conversation = activity.conversation
    return conversation is not None and conversation.conversation_type == "personal"


def conversation_of(activity: Activity) -> Conversation | None:
    """Return the conversation to store from an activity; None when a piece is missing."""
    conversation = activity.conversation
    bot = activity.recipient
    tenant = tenant_of(activity)
    if conversation is None or not conversation.id or bot is None or not bot.id:
        return None
    if not activity.service_url or not tenant:
        return None
    personal = is_personal(activity)
    sender = activity.from_property
    team = _channel_data(activity).get("team")
    return Conversation(
        tenant_id=tenant,
        conversation_id=str(conversation.id),
        conversation_type=str(conversation.conversation_type or "personal"),
        service_url=str(activity.service_url),
        bot_id=str(bot.id),
        user_id=str(sender.id) if personal and sender and sender.id else None,
        aad_object_id=(
            str(sender.aad_object_id) if personal and sender and sender.aad_object_id else None
        ),
        team_id=str(team["id"]) if isinstance(team, dict) and team.get("id") else None,
        locale=activity.locale or _client_info(activity).get("locale"),
    )


def bot_in(members: list[Any] | None, activity: Activity) -> bool:
    """Tell whether the bot itself is among ``members`` (added to or removed from a chat)."""
    bot_id = activity.recipient.id if activity.recipient else None
    return bool(bot_id) and any(getattr(m, "id", None) == bot_id for m in members or [])


def command_text(activity: Activity, person_id: Callable[[str, str | None], str]) -> str:
    """Return the typed text as command words: mentions from the entities, the bot's removed.

    ``person_id(user_id, aad_object_id)`` names a mentioned person as the core knows them. The
    ``<at>`` text is only located by the entity that carries it; its inner name is never used.
    """
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        props = _entity_dict(entity)
        if props.get("type") != "mention":
            continue
        mentioned = props.get("mentioned") or {}
        marker = str(props.get("text") or "")
        if not marker or not isinstance(mentioned, Mapping) or not mentioned.get("id"):
            continue
        if mentioned.get("id") == bot_id:
            text = text.replace(marker, " ", 1)
            continue
        aad = mentioned.get("aadObjectId")
        ident = person_id(str(mentioned["id"]), str(aad) if aad else None)
        text = text.replace(marker, f"<@{ident}>", 1)
    # Teams puts &nbsp; around mentions and may send HTML entities in plain text.
    text = text.replace("&nbsp;", " ").replace("\xa0", " ")
    return _SPACES.sub(" ", text).strip()


def submitted_value(activity: Activity) -> Any:
    """Return the card data of an Action.Submit message: a value and no typed text."""
    if activity.value is None or (activity.text or "").strip():
        return None
    return activity.value


__all__ = [
    "Sender",
    "bot_in",
    "command_text",
    "conversation_of",
    "is_personal",
    "sender_of",
    "submitted_value",
    "tenant_of",
]
