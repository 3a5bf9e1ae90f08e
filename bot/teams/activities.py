"""Address Bot Connector activities and conversation references to a stored conversation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
)

from bot.teams.references import Conversation

CHANNEL_ID = "msteams"


def reference_to(conversation: Conversation) -> ConversationReference:
    """Return the reference that continues ``conversation`` proactively."""
    # No activity id: a proactive card starts a new message instead of replying to one.
    return ConversationReference(
        channel_id=CHANNEL_ID,
        service_url=conversation.service_url,
        bot=ChannelAccount(id=conversation.bot_id),
        user=ChannelAccount(id=conversation.user_id, aad_object_id=conversation.aad_object_id)
        if conversation.user_id
        else None,
        conversation=ConversationAccount(
            id=conversation.conversation_id,
            conversation_type=conversation.conversation_type,
            tenant_id=conversation.tenant_id,
        ),
        locale=conversation.locale,
    )


def to_activity(payload: Mapping[str, Any], conversation: Conversation) -> Activity:
    """Turn a rendered payload into an activity addressed to ``conversation``."""
    activity: Activity = Activity.deserialize(dict(payload))
    activity.channel_id = CHANNEL_ID
    activity.service_url = conversation.service_url
    activity.conversation = ConversationAccount(
        id=conversation.conversation_id, tenant_id=conversation.tenant_id
    )
    activity.from_property = ChannelAccount(id=conversation.bot_id)
    if conversation.user_id:
        activity.recipient = ChannelAccount(id=conversation.user_id)
    return activity
