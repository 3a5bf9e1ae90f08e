"""The admin and member commands: the grammar, and the executor that carries them out.

The grammar (``ast``, ``parser``, ``tokens``, ``topics``, ``help``) reads no state; the executor
(``service``, ``executor``, ``context`` and a module per command family) runs a command in one
transaction. The top room of the core: may import every room below it, the assembled
``services.dispatch`` included (``send now`` sends through it); nothing in the core imports it.
"""

from nudges.commands.ast import Command
from nudges.commands.help import help_text
from nudges.commands.parser import CommandError, parse, render_error

__all__ = ["Command", "CommandError", "help_text", "parse", "render_error"]
