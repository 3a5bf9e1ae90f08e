"""Hold the nudge catalogue and the pulse question bank, with their loader."""

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
