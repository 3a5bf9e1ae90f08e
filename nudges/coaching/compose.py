"""Build the neutral messages and forms the bot sends, in the recipient's language."""

from __future__ import annotations

from datetime import date

from nudges.content.catalogue import Catalogue, Nudge
from nudges.domain import CommitmentState, NudgeState
from nudges.i18n import format_day, t
from nudges.messages import (
    COMMITMENT_DUE,
    COMMITMENT_TEXT,
    Action,
    Actions,
    Block,
    Button,
    Context,
    DateInput,
    Form,
    FormId,
    Header,
    Message,
    Text,
    TextInput,
)

MAX_COMMITMENT_CHARS = 300


def fill_member(text: str, member_external_id: str | None) -> str:
    """Put a mention of the member in place of ``{member}``."""
    # A nudge that names a member but has none (e.g. a sample) still reads naturally.
    return text.replace("{member}", f"<@{member_external_id}>" if member_external_id else "…")


def nudge_body(
    nudge: Nudge, locale: str, catalogue: Catalogue, member: str | None, reason: str
) -> list[Block]:
    """Lay out a nudge: why now, this week's action, example phrasings, where it comes from."""
    text = nudge.text(locale)
    examples = "\n".join(f"- {fill_member(e, member)}" for e in text.examples)
    source = catalogue.seed_title(nudge.seed, locale)
    blocks: list[Block] = [
        Header(text.title),
        Text(f"{t(locale, 'messages.nudge.why_label')} {text.why}"),
        Text(f"**{t(locale, 'messages.nudge.action_label')}** {fill_member(text.action, member)}"),
        Text(f"{t(locale, 'messages.nudge.examples_label')}\n{examples}"),
        Context(
            t(locale, "messages.nudge.context", minutes=nudge.minutes, source=source)
            + (f" · {reason}" if reason else "")
        ),
    ]
    return blocks


def nudge_message(
    *,
    delivery_id: int,
    nudge: Nudge,
    locale: str,
    catalogue: Catalogue,
    member: str | None,
    reason: str,
    outcome: str | None,
    snoozed_until: date | None = None,
) -> Message:
    """Render a nudge with buttons for its current state."""
    value = str(delivery_id)
    blocks = nudge_body(nudge, locale, catalogue, member, reason)
    state = NudgeState(outcome) if outcome else NudgeState.OPEN
    if state in (NudgeState.OPEN, NudgeState.SNOOZED):
        if state is NudgeState.SNOOZED and snoozed_until is not None:
            blocks.append(
                Context(t(locale, "messages.nudge.snoozed", day=format_day(locale, snoozed_until)))
            )
        blocks.append(
            Actions(
                f"nudge-{delivery_id}",
                (
                    Button(t(locale, "messages.button.done"), Action.NUDGE_DONE, value, "primary"),
                    Button(
                        t(locale, "messages.button.snooze_tomorrow"),
                        Action.NUDGE_SNOOZE_TOMORROW,
                        value,
                    ),
                    Button(
                        t(locale, "messages.button.snooze_week"), Action.NUDGE_SNOOZE_WEEK, value
                    ),
                    Button(t(locale, "messages.button.skip"), Action.NUDGE_SKIP, value),
                    Button(
                        t(locale, "messages.button.not_relevant"), Action.NUDGE_NOT_RELEVANT, value
                    ),
                    Button(
                        t(locale, "messages.button.note_commitment"),
                        Action.NUDGE_NOTE_COMMITMENT,
                        value,
                    ),
                ),
            )
        )
    else:
        blocks.append(Context(t(locale, f"messages.nudge.state.{state.value}")))
        if state is NudgeState.DONE:
            blocks.append(
                Actions(
                    f"nudge-{delivery_id}",
                    (
                        Button(
                            t(locale, "messages.button.note_commitment"),
                            Action.NUDGE_NOTE_COMMITMENT,
                            value,
                        ),
                    ),
                )
            )
    title = nudge.text(locale).title
    return Message(
        fallback=t(locale, "messages.nudge.fallback", title=title),
        blocks=tuple(blocks),
        metadata={"delivery_id": value},
    )


def followup_message(
    *,
    delivery_id: int,
    locale: str,
    text: str,
    due_on: date,
    member: str | None,
    state: str,
) -> Message:
    """Render the "Did it happen?" question about a noted commitment."""
    value = str(delivery_id)
    who = t(locale, "messages.followup.with_member", member=member) if member else ""
    blocks: list[Block] = [
        Header(t(locale, "messages.followup.title")),
        Text(
            t(
                locale,
                "messages.followup.body",
                text=text,
                day=format_day(locale, due_on),
                who=who,
            )
        ),
    ]
    current = CommitmentState(state)
    if current in (CommitmentState.OPEN, CommitmentState.MOVED):
        blocks.append(
            Actions(
                f"followup-{delivery_id}",
                (
                    Button(
                        t(locale, "messages.button.followup_done"),
                        Action.FOLLOWUP_DONE,
                        value,
                        "primary",
                    ),
                    Button(t(locale, "messages.button.followup_move"), Action.FOLLOWUP_MOVE, value),
                    Button(t(locale, "messages.button.followup_drop"), Action.FOLLOWUP_DROP, value),
                ),
            )
        )
    else:
        blocks.append(Context(t(locale, f"messages.followup.state.{current.value}")))
    return Message(
        fallback=t(locale, "messages.followup.fallback", text=text),
        blocks=tuple(blocks),
        metadata={"delivery_id": value},
    )


def moved_notice(locale: str, due_on: date) -> str:
    """Confirm that a commitment's follow-up moved to a new day."""
    return t(locale, "messages.followup.moved_to", day=format_day(locale, due_on))


def note_commitment_form(delivery_id: int, locale: str, default_due: date) -> Form:
    """Ask what was promised and by when."""
    return Form(
        callback_id=FormId.NOTE_COMMITMENT,
        title=t(locale, "messages.form.note_title"),
        submit_label=t(locale, "messages.form.save"),
        cancel_label=t(locale, "messages.form.cancel"),
        intro=t(locale, "messages.form.note_intro"),
        inputs=(
            TextInput(
                COMMITMENT_TEXT,
                t(locale, "messages.form.note_text_label"),
                placeholder=t(locale, "messages.form.note_text_placeholder"),
                multiline=True,
                max_length=MAX_COMMITMENT_CHARS,
            ),
            DateInput(COMMITMENT_DUE, t(locale, "messages.form.note_due_label"), default_due),
        ),
        private_metadata=str(delivery_id),
    )


def move_commitment_form(delivery_id: int, locale: str, default_due: date) -> Form:
    """Ask for the new day of a commitment's follow-up."""
    return Form(
        callback_id=FormId.MOVE_COMMITMENT,
        title=t(locale, "messages.form.move_title"),
        submit_label=t(locale, "messages.form.save"),
        cancel_label=t(locale, "messages.form.cancel"),
        inputs=(DateInput(COMMITMENT_DUE, t(locale, "messages.form.move_due_label"), default_due),),
        private_metadata=str(delivery_id),
    )
