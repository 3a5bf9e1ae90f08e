"""Read the people and team commands: team, admins, send-now."""

from __future__ import annotations

from nudges.commands import ast
from nudges.commands.parser.cursor import Cursor
from nudges.commands.parser.targets import read_members, read_person
from nudges.commands.parser.values import read_change, read_confirmed


def team_command(c: Cursor) -> ast.Command:
    """Read ``team @manager``, or ``team @manager add|remove @person ...``."""
    manager = read_person(c)
    change = read_change(c, "team")
    if change is None:
        return ast.TeamList(manager)
    members = read_members(c)
    return ast.TeamAdd(manager, members) if change == "add" else ast.TeamRemove(manager, members)


def admins(c: Cursor) -> ast.Command:
    """Read ``admins``, or ``admins add|remove @person``."""
    change = read_change(c, "admins")
    if change is None:
        return ast.AdminsList()
    person = read_person(c)
    return ast.AdminsAdd(person) if change == "add" else ast.AdminsRemove(person)


def send_now(c: Cursor) -> ast.Command:
    """Read ``send-now @manager``, optionally ``confirm``."""
    manager = read_person(c)
    return ast.SendNow(manager, read_confirmed(c))
