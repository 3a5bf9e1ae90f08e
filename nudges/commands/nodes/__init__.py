"""Hold the typed commands, one module per family; ``nudges.commands.ast`` names them all.

Like the rest of the grammar, these modules read no state and run nothing.
"""
