"""Parse, explain and report errors in the admin and member command grammar."""

from nudges.commands.ast import Command
from nudges.commands.help import help_text
from nudges.commands.parser import CommandError, parse, render_error

__all__ = ["Command", "CommandError", "help_text", "parse", "render_error"]
