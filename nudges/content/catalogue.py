"""Load and validate the nudge catalogue and the pulse question bank.

The content lives in two TOML files beside this module. Loading checks every entry and
reports all problems at once, so a content author fixes a file in one pass instead of one
error per run. The entries are ``nudges.content.model``; the checks, ``nudges.content.parsing``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

# The entries and the size limits are offered here too, where callers have always found them.
from nudges.content.model import Catalogue as Catalogue
from nudges.content.model import CatalogueError as CatalogueError
from nudges.content.model import Nudge as Nudge
from nudges.content.model import NudgeText as NudgeText
from nudges.content.model import Programme as Programme
from nudges.content.model import Question as Question
from nudges.content.model import Seed as Seed
from nudges.content.parsing import BODY_MAX_CHARS as BODY_MAX_CHARS
from nudges.content.parsing import BODY_OVERHEAD_CHARS as BODY_OVERHEAD_CHARS
from nudges.content.parsing import QUESTION_MAX_CHARS as QUESTION_MAX_CHARS
from nudges.content.parsing import TITLE_MAX_CHARS as TITLE_MAX_CHARS
from nudges.content.parsing import (
    duplicates,
    parse_nudge,
    parse_programmes,
    parse_questions,
    parse_seeds,
    read_toml,
    tables,
)

CONTENT_DIR = Path(__file__).parent
NUDGES_PATH = CONTENT_DIR / "nudges.toml"
QUESTIONS_PATH = CONTENT_DIR / "pulse_questions.toml"


def load_catalogue(
    nudges_path: Path | None = None, questions_path: Path | None = None
) -> Catalogue:
    """Read, validate and return the catalogue; raise CatalogueError listing every problem."""
    nudges_path = nudges_path or NUDGES_PATH
    questions_path = questions_path or QUESTIONS_PATH
    problems: list[str] = []

    nudge_data = read_toml(nudges_path, problems)
    for name in sorted(set(nudge_data) - {"seed", "nudge", "programme"}):
        problems.append(f"{nudges_path.name}: unknown top-level entry '{name}'")
    seeds = parse_seeds(nudge_data, nudges_path.name, problems)
    seed_files = {s.file for s in seeds}

    raw_nudges = tables(nudge_data, "nudge", nudges_path.name, problems)
    duplicates("nudge", (r.get("key", "") for r in raw_nudges if isinstance(r, dict)), problems)
    nudges = [
        n
        for index, raw in enumerate(raw_nudges)
        if (n := parse_nudge(index, raw, seed_files, problems)) is not None
    ]
    by_key = {n.key: n for n in nudges}
    programmes = parse_programmes(nudge_data, nudges_path.name, by_key, problems)
    duplicates("programme", (p.key for p in programmes), problems)
    programme_keys = {p.key for p in programmes}
    for nudge in nudges:
        if nudge.programme is not None and nudge.programme not in programme_keys:
            problems.append(f"nudge {nudge.key}: unknown programme '{nudge.programme}'")
        elif nudge.programme is not None and not any(
            nudge.key in p.weeks for p in programmes if p.key == nudge.programme
        ):
            problems.append(
                f"nudge {nudge.key}: programme '{nudge.programme}' does not list it in weeks"
            )

    question_data = read_toml(questions_path, problems)
    for name in sorted(set(question_data) - {"question"}):
        problems.append(f"{questions_path.name}: unknown top-level entry '{name}'")
    raw_questions = tables(question_data, "question", questions_path.name, problems)
    duplicates(
        "question", (r.get("key", "") for r in raw_questions if isinstance(r, dict)), problems
    )
    questions = parse_questions(question_data, questions_path.name, problems)

    if problems:
        raise CatalogueError(problems)
    return Catalogue(
        nudges=tuple(nudges),
        questions=tuple(questions),
        seeds=tuple(seeds),
        programmes=tuple(programmes),
    )


@cache
def default_catalogue() -> Catalogue:
    """Return the shipped catalogue, loaded and validated once per process."""
    return load_catalogue()
