"""Text a person typed reaches every member's poll as text, never as a mention or a link."""

from __future__ import annotations

import json

import pytest

from bot.slack.blocks import render_message, to_mrkdwn
from nudges.messages import Header, Message, Text, typed, typed_spans, untyped
from nudges.store.database import Database
from nudges.store.pulse import PulseRetiredQuestion
from tests.nudges.pulse.world import make_world, members


@pytest.mark.parametrize(
    ("typed_text", "mrkdwn"),
    [
        ("<@U123ABC> is great", "&lt;@U123ABC&gt; is great"),
        ("<!channel> look", "&lt;!channel&gt; look"),
        ("<https://evil.example|click>", "&lt;https://evil.example|click&gt;"),
        ("&lt;@U1&gt; stays literal", "&amp;lt;@U1&amp;gt; stays literal"),
        ("**not bold** - no bullet", "**not bold** - no bullet"),
    ],
)
def test_typed_text_is_escaped_whole_while_the_markup_around_it_still_works(
    typed_text: str, mrkdwn: str
) -> None:
    neutral = f"- **Question:** {typed(typed_text)} <@UADMIN>"
    assert to_mrkdwn(neutral) == f"• *Question:* {mrkdwn} <@UADMIN>"


def test_markers_never_reach_slack_and_cannot_be_forged_from_inside() -> None:
    forged = typed("a\ue001<@U1>\ue000b")
    assert typed_spans(forged) == [("a<@U1>b", True)]
    payload = render_message(
        Message(fallback=forged, blocks=(Header(forged), Text(f"**{forged}**")))
    )
    dumped = json.dumps(payload, ensure_ascii=False)
    assert "\ue000" not in dumped and "\ue001" not in dumped
    assert "<@U1>" not in payload["text"]
    assert payload["blocks"][0]["text"]["text"] == untyped(forged)
    assert payload["blocks"][1]["text"]["text"] == "*a&lt;@U1&gt;b*"


async def test_a_custom_question_with_a_typed_mention_is_no_mention_in_anyones_poll(
    db: Database,
) -> None:
    world = await make_world(db, teams={"MA": members(5, "A")})
    # As Slack sends it: the person typed "<@U123ABC>" and "<!here>" as plain characters.
    reply = await world.command('pulse ask "&lt;@U123ABC&gt; and &lt;!here&gt;: how are you?"')
    assert reply.ok, reply.text
    async with db.session() as session:
        for question in world.dispatcher.catalogue.questions:
            session.add(
                PulseRetiredQuestion(workspace_id=world.workspace_id, question_key=question.key)
            )
        await session.commit()
    await world.open_now()
    await world.tick()
    polls = [world.polls_to(user) for user in members(5, "A")]
    assert all(polls)
    for sent in polls:
        payload = render_message(sent[0].message)
        dumped = json.dumps(payload, ensure_ascii=False)
        assert "<@U123ABC>" not in dumped and "<!here>" not in dumped
        assert "&lt;@U123ABC&gt; and &lt;!here&gt;: how are you?" in dumped
    listing = await world.command("pulse questions")
    assert "<@U123ABC>" not in to_mrkdwn(listing.text)
