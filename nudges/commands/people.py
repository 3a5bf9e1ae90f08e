"""Change who reports to whom and who is an admin."""

from __future__ import annotations

from sqlalchemy import select

from nudges.commands import ast
from nudges.commands.context import Context, Outcome, person_target
from nudges.commands.topics import echo
from nudges.commands.wording import mentions
from nudges.people import directory
from nudges.store.org import Person, ReportingLine


async def _line(ctx: Context, manager: Person, member: Person) -> ReportingLine | None:
    found: ReportingLine | None = await ctx.session.scalar(
        select(ReportingLine).where(
            ReportingLine.manager_id == manager.id, ReportingLine.member_id == member.id
        )
    )
    return found


async def _team_names(ctx: Context, manager: Person) -> list[str]:
    rows = await ctx.session.scalars(
        select(ReportingLine.team).where(ReportingLine.manager_id == manager.id).distinct()
    )
    return sorted(name for name in set(rows.all()) if name)


async def list_team(ctx: Context, command: ast.TeamList) -> Outcome:
    """List who reports to a manager."""
    manager = await ctx.find(command.manager)
    members = await directory.reports_of(ctx.session, manager) if manager else []
    if manager is None or not members:
        return Outcome(ctx.say("team.empty", manager=command.manager.user_id))
    names = await _team_names(ctx, manager)
    listed = mentions(ctx.locale, [m.external_id for m in members])
    params = {"manager": manager.external_id, "count": len(members), "members": listed}
    if names:
        teams = ", ".join(f"#{echo(name)}" for name in names)
        return Outcome(ctx.say("team.list_named", teams=teams, **params))
    return Outcome(ctx.say("team.list", **params))


async def add_to_team(ctx: Context, command: ast.TeamAdd) -> Outcome:
    """Add people to a manager's team, creating anyone the store does not know yet."""
    manager = await ctx.person(command.manager)
    names = await _team_names(ctx, manager)
    # New members join the manager's named team when the manager leads exactly one.
    team = names[0] if len(names) == 1 else ""
    added: list[str] = []
    already: list[str] = []
    for ref in command.members:
        member = await ctx.person(ref)
        if member.id == manager.id:
            raise ctx.fail("team.self", manager=manager.external_id)
        if await _line(ctx, manager, member) is not None:
            already.append(member.external_id)
            continue
        ctx.session.add(
            ReportingLine(
                workspace_id=ctx.workspace.id,
                manager_id=manager.id,
                member_id=member.id,
                team=team,
                created_at=ctx.now,
            )
        )
        added.append(member.external_id)
    lines = []
    if added:
        await ctx.session.flush()
        ctx.audit("team.add", person_target(manager), members=added, team=team)
        names_added = mentions(ctx.locale, added)
        lines.append(ctx.say("team.added", manager=manager.external_id, members=names_added))
    if already:
        names_already = mentions(ctx.locale, already)
        lines.append(ctx.say("team.already", manager=manager.external_id, members=names_already))
    return Outcome("\n".join(lines))


async def remove_from_team(ctx: Context, command: ast.TeamRemove) -> Outcome:
    """Remove people from a manager's team."""
    manager = await ctx.known(command.manager)
    removed: list[str] = []
    missing: list[str] = []
    for ref in command.members:
        member = await ctx.find(ref)
        line = await _line(ctx, manager, member) if member else None
        if line is None:
            missing.append(ref.user_id)
            continue
        await ctx.session.delete(line)
        removed.append(ref.user_id)
    not_in = mentions(ctx.locale, missing)
    if not removed:
        raise ctx.fail("team.not_members", manager=manager.external_id, members=not_in)
    ctx.audit("team.remove", person_target(manager), members=removed)
    lines = [
        ctx.say("team.removed", manager=manager.external_id, members=mentions(ctx.locale, removed))
    ]
    if missing:
        lines.append(ctx.say("team.not_members", manager=manager.external_id, members=not_in))
    return Outcome("\n".join(lines))


async def list_admins(ctx: Context, command: ast.AdminsList) -> Outcome:
    """List the stored admins; platform owners and admins can always act too."""
    admins = await ctx.stored_admins()
    if admins:
        head = ctx.say("admins.list", admins=mentions(ctx.locale, [a.external_id for a in admins]))
    else:
        head = ctx.say("admins.none")
    return Outcome(head + "\n" + ctx.say("admins.platform"))


async def add_admin(ctx: Context, command: ast.AdminsAdd) -> Outcome:
    """Make a person an admin."""
    person = await ctx.person(command.person)
    if person.is_admin:
        return Outcome(ctx.about(person, "admins.already"))
    person.is_admin = True
    ctx.audit("admins.add", person_target(person))
    return Outcome(ctx.about(person, "admins.added"))


async def remove_admin(ctx: Context, command: ast.AdminsRemove) -> Outcome:
    """Take admin rights away, unless that would leave nobody to change the settings."""
    person = await ctx.find(command.person)
    if person is None or not person.is_admin:
        raise ctx.fail("admins.not_admin", person=command.person.user_id)
    others = [admin for admin in await ctx.stored_admins() if admin.id != person.id]
    # Platform owners keep their rights whatever is stored, so only they may remove the last
    # stored admin; anyone else would lock the workspace out (Teams names no owners at all).
    if not others and not ctx.platform_admin:
        raise ctx.fail("admins.last", person=person.external_id)
    person.is_admin = False
    ctx.audit("admins.remove", person_target(person))
    return Outcome(ctx.about(person, "admins.removed"))
