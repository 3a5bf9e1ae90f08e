"""Hold the nudge catalogue and the pulse question bank, with their loader.

May import the vocabulary only; every room above may import it.
"""

from nudges.content.catalogue import (
    Catalogue,
    CatalogueError,
    Nudge,
    NudgeText,
    Programme,
    Question,
    Seed,
    default_catalogue,
    load_catalogue,
)

__all__ = [
    "Catalogue",
    "CatalogueError",
    "Nudge",
    "NudgeText",
    "Programme",
    "Question",
    "Seed",
    "default_catalogue",
    "load_catalogue",
]
