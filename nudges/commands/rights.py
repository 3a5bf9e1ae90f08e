"""Run the personal-data commands: export, forget, retention and the audit listing."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time

from sqlalchemy import or_, select

from nudges.commands import ast
from nudges.commands.context import Context, Outcome, mention, person_target
from nudges.commands.topics import echo
from nudges.i18n import format_day, t
from nudges.people.erasure import forget_person
from nudges.people.export import export_bytes, export_person
from nudges.people.retention import RETENTION_KEYS, retention_of
from nudges.ports import DeliveryError, FileMessenger, Recipient
from nudges.store.audit import AuditEntry, audit_entry
from nudges.store.org import Person

logger = logging.getLogger(__name__)

# An audit listing is a chat reply: the newest entries, not the whole history.
AUDIT_LINES = 30


async def _send_export(ctx: Context, person: Person) -> Outcome:
    """Build a person's export and upload it into the actor's DM."""
    messenger = ctx.dispatcher.messengers.get(ctx.workspace.platform)
    if not isinstance(messenger, FileMessenger):
        raise ctx.fail("rights.export.unsupported")
    data = await export_person(ctx.session, ctx.workspace, person, ctx.locale, ctx.now)
    filename = f"nudgebot-export-{person.external_id}-{ctx.now.date().isoformat()}.json"
    recipient = Recipient(ctx.workspace.platform, ctx.workspace.external_id, ctx.actor.external_id)
    note = ctx.about(person, "rights.export.file_note")
    try:
        await messenger.send_file(recipient, filename, export_bytes(data), note)
    except DeliveryError as failure:
        logger.warning("export file upload failed: %s", failure.reason)
        raise ctx.fail("rights.export.failed") from failure
    ctx.audit("rights.export", person_target(person), by_self=person.id == ctx.actor.id)
    return Outcome(ctx.about(person, "rights.export.sent"))


async def export(ctx: Context, command: ast.Export) -> Outcome:
    """Send an admin a file of everything stored about a person."""
    return await _send_export(ctx, await ctx.known(command.person))


async def me_export(ctx: Context, command: ast.MeExport) -> Outcome:
    """Send the caller a file of everything stored about them."""
    return await _send_export(ctx, ctx.actor)


async def forget(ctx: Context, command: ast.Forget) -> Outcome:
    """Erase a person's personal data at an admin's request."""
    person = await ctx.known(command.person)
    if person.id == ctx.actor.id:
        raise ctx.fail("rights.forget.use_me")
    external_id = person.external_id
    erased = await forget_person(ctx.session, ctx.workspace, person, ctx.now)
    ctx.audit("rights.forget", f"person:{erased.pseudonym}")
    return Outcome(ctx.say("rights.forget.done", person=external_id, alias=erased.pseudonym))


async def me_forget(ctx: Context, command: ast.MeForget) -> Outcome:
    """Explain what forgetting means, or, once confirmed, erase the caller's own data."""
    if not command.confirmed:
        return Outcome(ctx.say("rights.forget.confirm"))
    # Worded before the erasure: the actor's language goes with their profile.
    reply = ctx.say("rights.forget.self_done")
    erased = await forget_person(ctx.session, ctx.workspace, ctx.actor, ctx.now)
    ctx.session.add(
        audit_entry(
            workspace_id=ctx.workspace.id,
            actor_id=None,
            action="rights.forget",
            target=f"person:{erased.pseudonym}",
            details={"by_self": True},
            when=ctx.now,
        )
    )
    return Outcome(reply)


def _months(ctx: Context, months: int | None) -> str:
    if not months:
        return ctx.say("rights.retention.kept")
    return ctx.say(
        "rights.retention.month" if months == 1 else "rights.retention.months", count=months
    )


async def retention(ctx: Context, command: ast.Retention) -> Outcome:
    """Show the retention, or set or clear it for answers or deliveries."""
    if command.kind is None:
        current = retention_of(ctx.workspace)
        return Outcome(
            ctx.say(
                "rights.retention.show",
                answers=_months(ctx, current["answers"]),
                deliveries=_months(ctx, current["deliveries"]),
            )
        )
    key = RETENTION_KEYS[command.kind]
    settings = dict(ctx.workspace.settings or {})
    if command.months is None:
        settings.pop(key, None)
    else:
        settings[key] = command.months
    ctx.workspace.settings = settings
    ctx.audit("retention.set", "workspace", kind=command.kind, months=command.months)
    what = ctx.say(f"rights.retention.kind.{command.kind}")
    if command.months is None:
        return Outcome(ctx.say("rights.retention.cleared", what=what))
    return Outcome(ctx.say("rights.retention.set", what=what, count=command.months))


def _target_text(target: str) -> str:
    """Show an audit target: people as mentions, anything else as code."""
    kind, _, value = target.partition(":")
    if kind == "person" and value and not value.startswith("erased-"):
        return mention(value)
    return f"`{echo(target)}`"


async def audit(ctx: Context, command: ast.Audit) -> Outcome:
    """List the newest audit entries, about one person and from a day on if asked."""
    query = select(AuditEntry).where(AuditEntry.workspace_id == ctx.workspace.id)
    if command.person is not None:
        external_id = ctx.check_id(command.person.user_id)
        person = await ctx.find(command.person)
        about = [AuditEntry.target == f"person:{external_id}"]
        if person is not None:
            about.append(AuditEntry.actor_id == person.id)
        query = query.where(or_(*about))
    if command.since is not None:
        query = query.where(AuditEntry.created_at >= datetime.combine(command.since, time(), UTC))
    entries = list(
        (await ctx.session.scalars(query.order_by(AuditEntry.id.desc()).limit(AUDIT_LINES))).all()
    )
    if not entries:
        return Outcome(ctx.say("rights.audit.empty"))
    actors = dict(
        (
            await ctx.session.execute(
                select(Person.id, Person.external_id).where(
                    Person.id.in_([e.actor_id for e in entries if e.actor_id is not None])
                )
            )
        ).all()
    )
    lines = [ctx.say("rights.audit.title", count=len(entries))]
    for entry in entries:
        actor_id = actors.get(entry.actor_id) if entry.actor_id is not None else None
        lines.append(
            ctx.say(
                "rights.audit.line",
                day=format_day(ctx.locale, entry.created_at.date()),
                at=entry.created_at.strftime("%H:%M"),
                actor=mention(actor_id)
                if actor_id
                else t(ctx.locale, "replies.rights.audit.system"),
                action=f"`{echo(entry.action)}`",
                target=_target_text(entry.target),
            )
        )
    return Outcome("\n".join(lines))
