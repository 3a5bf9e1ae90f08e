"""Hold what the catalogue is made of: nudges, their texts, pulse questions, seeds, programmes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nudges.domain import DEFAULT_LOCALE, Dimension, Kind


class CatalogueError(ValueError):
    """Report every problem found in the content files."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            f"{len(self.problems)} problem(s) in the nudge catalogue:\n- "
            + "\n- ".join(self.problems)
        )


def _language(locale: str) -> str:
    return locale.replace("_", "-").split("-", 1)[0].strip().lower()


def _pick(texts: Mapping[str, Any], locale: str) -> Any:
    lang = _language(locale)
    return texts[lang] if lang in texts else texts[DEFAULT_LOCALE]


@dataclass(frozen=True, slots=True)
class NudgeText:
    """Hold one language's wording of a nudge."""

    title: str
    why: str
    action: str
    examples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Nudge:
    """Describe one nudge a manager can receive."""

    key: str
    kind: Kind
    dimension: Dimension
    minutes: int
    seed: str
    needs_report: bool
    programme: str | None
    programme_only: bool
    texts: Mapping[str, NudgeText] = field(hash=False)

    def text(self, locale: str) -> NudgeText:
        """Return the wording for ``locale``, falling back to English."""
        result: NudgeText = _pick(self.texts, locale)
        return result


@dataclass(frozen=True, slots=True)
class Question:
    """Describe one pulse question answered on a five-point emoji scale."""

    key: str
    dimension: Dimension
    texts: Mapping[str, str] = field(hash=False)

    def text(self, locale: str) -> str:
        """Return the question for ``locale``, falling back to English."""
        result: str = _pick(self.texts, locale)
        return result


@dataclass(frozen=True, slots=True)
class Seed:
    """Name a source article that nudges cite."""

    file: str
    titles: Mapping[str, str] = field(hash=False)


@dataclass(frozen=True, slots=True)
class Programme:
    """Describe a multi-week series of nudges sent only to managers who joined it."""

    key: str
    titles: Mapping[str, str] = field(hash=False)
    weeks: tuple[str, ...]

    def title(self, locale: str) -> str:
        """Return the programme's title for ``locale``, falling back to English."""
        result: str = _pick(self.titles, locale)
        return result


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Hold every nudge, pulse question, seed and programme, in file order."""

    nudges: tuple[Nudge, ...]
    questions: tuple[Question, ...]
    seeds: tuple[Seed, ...]
    programmes: tuple[Programme, ...]

    def nudge(self, key: str) -> Nudge:
        """Return the nudge called ``key`` or raise KeyError."""
        for item in self.nudges:
            if item.key == key:
                return item
        raise KeyError(key)

    def by_kind(self, kind: Kind, *, include_programme_only: bool = False) -> tuple[Nudge, ...]:
        """Return the nudges of ``kind``; programme-only nudges only when asked for."""
        return tuple(
            n
            for n in self.nudges
            if n.kind is kind and (include_programme_only or not n.programme_only)
        )

    def for_dimension(
        self, dimension: Dimension, *, include_programme_only: bool = False
    ) -> tuple[Nudge, ...]:
        """Return the nudges serving ``dimension``; programme-only ones only when asked for."""
        return tuple(
            n
            for n in self.nudges
            if n.dimension is dimension and (include_programme_only or not n.programme_only)
        )

    def questions_for(self, dimension: Dimension) -> tuple[Question, ...]:
        """Return the pulse questions measuring ``dimension``."""
        return tuple(q for q in self.questions if q.dimension is dimension)

    def question(self, key: str) -> Question:
        """Return the pulse question called ``key`` or raise KeyError."""
        for item in self.questions:
            if item.key == key:
                return item
        raise KeyError(key)

    def programme(self, key: str) -> Programme:
        """Return the programme called ``key`` or raise KeyError."""
        for item in self.programmes:
            if item.key == key:
                return item
        raise KeyError(key)

    def programme_nudges(self, key: str) -> tuple[Nudge, ...]:
        """Return a programme's nudges in week order."""
        return tuple(self.nudge(week) for week in self.programme(key).weeks)

    def seed_title(self, file: str, locale: str) -> str:
        """Return the title of seed ``file`` in ``locale``, falling back to English."""
        for item in self.seeds:
            if item.file == file:
                result: str = _pick(item.titles, locale)
                return result
        raise KeyError(file)
