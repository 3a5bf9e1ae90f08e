"""Check one entry of the content files at a time, collecting every problem instead of stopping."""

from __future__ import annotations

import re
import string
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from nudges.content.model import Nudge, NudgeText, Programme, Question, Seed
from nudges.domain import LOCALES, Dimension, Kind

MIN_MINUTES = 2
MAX_MINUTES = 30
MIN_EXAMPLES = 2
MAX_EXAMPLES = 3
PROGRAMME_WEEKS = 7
MEMBER_PLACEHOLDER = "member"

# Slack caps a header block at 150 characters and a section's text at 3000; Teams is
# more forgiving, so the Slack limits are the ones content must fit.
TITLE_MAX_CHARS = 150
BODY_MAX_CHARS = 3000
# Room for the labels, bullets and the mention that replaces {member} when rendering.
BODY_OVERHEAD_CHARS = 200
QUESTION_MAX_CHARS = 300

KEY_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

_NUDGE_FIELDS = frozenset(
    {
        "key",
        "kind",
        "dimension",
        "minutes",
        "seed",
        "needs_report",
        "programme",
        "programme_only",
        *LOCALES,
    }
)
_TEXT_FIELDS = frozenset({"title", "why", "action", "examples"})
_QUESTION_FIELDS = frozenset({"key", "dimension", *LOCALES})
_SEED_FIELDS = frozenset({"file", *(f"title_{lang}" for lang in LOCALES)})
_PROGRAMME_FIELDS = frozenset({"key", "weeks", *(f"title_{lang}" for lang in LOCALES)})


def read_toml(path: Path, problems: list[str]) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        problems.append(f"{path.name}: file not found at {path}")
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{path.name}: invalid TOML: {exc}")
    return {}


def tables(data: Mapping[str, Any], name: str, source: str, problems: list[str]) -> list[Any]:
    value = data.get(name, [])
    if not isinstance(value, list):
        problems.append(f"{source}: [[{name}]] must be an array of tables")
        return []
    return value


def _label(what: str, raw: Any, index: int) -> str:
    key = raw.get("key") if isinstance(raw, dict) else None
    return f"{what} {key}" if isinstance(key, str) and key else f"{what} #{index + 1}"


def _unknown_fields(label: str, raw: Mapping[str, Any], allowed: Iterable[str]) -> list[str]:
    return [f"{label}: unknown field '{name}'" for name in sorted(set(raw) - set(allowed))]


def _text(label: str, raw: Mapping[str, Any], name: str, problems: list[str]) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{label}: {name} is missing or empty")
        return ""
    return value.strip()


def _placeholders(label: str, name: str, text: str, problems: list[str]) -> list[str]:
    try:
        fields = [part[1] for part in string.Formatter().parse(text) if part[1] is not None]
    except ValueError as exc:
        problems.append(f"{label}: {name} has a broken placeholder ({exc})")
        return []
    return fields


def _check_key(label: str, raw: Mapping[str, Any], problems: list[str]) -> str:
    key = raw.get("key")
    if not isinstance(key, str) or not key:
        problems.append(f"{label}: key is missing")
        return ""
    if not KEY_PATTERN.fullmatch(key):
        problems.append(f"{label}: key '{key}' is not kebab-case")
    return key


def _check_enum(
    label: str,
    raw: Mapping[str, Any],
    name: str,
    enum: type[Kind] | type[Dimension],
    problems: list[str],
) -> Any:
    value = raw.get(name)
    if value is None:
        problems.append(f"{label}: {name} is missing")
        return None
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        problems.append(f"{label}: unknown {name} '{value}' (expected one of {allowed})")
        return None


def _titles(label: str, raw: Mapping[str, Any], problems: list[str]) -> dict[str, str]:
    titles: dict[str, str] = {}
    for lang in LOCALES:
        value = raw.get(f"title_{lang}")
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{label}: missing language '{lang}' (title_{lang})")
        else:
            titles[lang] = value.strip()
    return titles


def parse_seeds(data: Mapping[str, Any], source: str, problems: list[str]) -> list[Seed]:
    seeds: list[Seed] = []
    seen: set[str] = set()
    for index, raw in enumerate(tables(data, "seed", source, problems)):
        if not isinstance(raw, dict):
            problems.append(f"seed #{index + 1}: must be a table")
            continue
        file = raw.get("file")
        label = f"seed {file}" if isinstance(file, str) and file else f"seed #{index + 1}"
        problems.extend(_unknown_fields(label, raw, _SEED_FIELDS))
        if not isinstance(file, str) or not file:
            problems.append(f"{label}: file is missing")
            continue
        if file in seen:
            problems.append(f"{label}: duplicate seed file '{file}'")
        seen.add(file)
        seeds.append(Seed(file=file, titles=MappingProxyType(_titles(label, raw, problems))))
    return seeds


def _parse_nudge_text(
    label: str, raw: Any, needs_report: bool | None, problems: list[str]
) -> NudgeText | None:
    if not isinstance(raw, dict):
        problems.append(f"{label}: must be a table with title, why, action and examples")
        return None
    problems.extend(_unknown_fields(label, raw, _TEXT_FIELDS))
    title = _text(label, raw, "title", problems)
    why = _text(label, raw, "why", problems)
    action = _text(label, raw, "action", problems)
    examples_raw = raw.get("examples")
    examples: tuple[str, ...] = ()
    if not isinstance(examples_raw, list) or not all(
        isinstance(e, str) and e.strip() for e in examples_raw
    ):
        problems.append(f"{label}: examples must be a list of non-empty texts")
    else:
        examples = tuple(e.strip() for e in examples_raw)
        if not MIN_EXAMPLES <= len(examples) <= MAX_EXAMPLES:
            problems.append(
                f"{label}: examples has {len(examples)} entries, expected "
                f"{MIN_EXAMPLES}-{MAX_EXAMPLES}"
            )

    if len(title) > TITLE_MAX_CHARS:
        problems.append(f"{label}: title is {len(title)} chars, over the {TITLE_MAX_CHARS} limit")
    body = len(why) + len(action) + sum(len(e) for e in examples) + BODY_OVERHEAD_CHARS
    if body > BODY_MAX_CHARS:
        problems.append(
            f"{label}: body is {body} chars with overhead, over the {BODY_MAX_CHARS} limit"
        )

    # Only the action may name the team member; the other parts are read by the manager
    # or said to the member directly, so a placeholder there is a mistake.
    for name, text in (("title", title), ("why", why), *(("examples", e) for e in examples)):
        if _placeholders(label, name, text, problems):
            problems.append(f"{label}: placeholder in {name}; only action may use {{member}}")
    fields = _placeholders(label, "action", action, problems)
    wrong = sorted({f for f in fields if f != MEMBER_PLACEHOLDER})
    if wrong:
        problems.append(f"{label}: unknown placeholder(s) in action: {', '.join(wrong)}")
    if needs_report is True and MEMBER_PLACEHOLDER not in fields:
        problems.append(f"{label}: needs_report is true but action lacks {{member}}")
    if needs_report is False and MEMBER_PLACEHOLDER in fields:
        problems.append(f"{label}: needs_report is false but action contains {{member}}")
    return NudgeText(title=title, why=why, action=action, examples=examples)


def parse_nudge(index: int, raw: Any, seed_files: set[str], problems: list[str]) -> Nudge | None:
    if not isinstance(raw, dict):
        problems.append(f"nudge #{index + 1}: must be a table")
        return None
    label = _label("nudge", raw, index)
    problems.extend(_unknown_fields(label, raw, _NUDGE_FIELDS))
    key = _check_key(label, raw, problems)
    kind = _check_enum(label, raw, "kind", Kind, problems)
    dimension = _check_enum(label, raw, "dimension", Dimension, problems)

    minutes = raw.get("minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        problems.append(f"{label}: minutes must be a whole number")
        minutes = 0
    elif not MIN_MINUTES <= minutes <= MAX_MINUTES:
        problems.append(f"{label}: minutes {minutes} is out of range {MIN_MINUTES}-{MAX_MINUTES}")

    seed = raw.get("seed")
    if not isinstance(seed, str) or not seed:
        problems.append(f"{label}: seed is missing")
        seed = ""
    elif seed not in seed_files:
        problems.append(f"{label}: unknown seed file '{seed}' (not in [[seed]])")

    needs_report = raw.get("needs_report")
    if not isinstance(needs_report, bool):
        problems.append(f"{label}: needs_report must be true or false")
        needs_report = None

    programme = raw.get("programme")
    if programme is not None and (not isinstance(programme, str) or not programme):
        problems.append(f"{label}: programme must be a programme key")
        programme = None
    programme_only = raw.get("programme_only", False)
    if not isinstance(programme_only, bool):
        problems.append(f"{label}: programme_only must be true or false")
        programme_only = False
    if programme_only and programme is None:
        problems.append(f"{label}: programme_only is true but no programme is named")

    texts: dict[str, NudgeText] = {}
    for lang in LOCALES:
        if lang not in raw:
            problems.append(f"{label}: missing language '{lang}'")
            continue
        parsed = _parse_nudge_text(f"{label} [{lang}]", raw[lang], needs_report, problems)
        if parsed is not None:
            texts[lang] = parsed

    if not key or kind is None or dimension is None or len(texts) != len(LOCALES):
        return None
    return Nudge(
        key=key,
        kind=kind,
        dimension=dimension,
        minutes=minutes,
        seed=seed,
        needs_report=bool(needs_report),
        programme=programme,
        programme_only=programme_only,
        texts=MappingProxyType(texts),
    )


def parse_programmes(
    data: Mapping[str, Any], source: str, nudges: Mapping[str, Nudge], problems: list[str]
) -> list[Programme]:
    programmes: list[Programme] = []
    for index, raw in enumerate(tables(data, "programme", source, problems)):
        if not isinstance(raw, dict):
            problems.append(f"programme #{index + 1}: must be a table")
            continue
        label = _label("programme", raw, index)
        problems.extend(_unknown_fields(label, raw, _PROGRAMME_FIELDS))
        key = _check_key(label, raw, problems)
        titles = _titles(label, raw, problems)
        weeks_raw = raw.get("weeks")
        if not isinstance(weeks_raw, list) or not all(isinstance(w, str) for w in weeks_raw):
            problems.append(f"{label}: weeks must be a list of nudge keys")
            continue
        weeks = tuple(weeks_raw)
        if len(weeks) != PROGRAMME_WEEKS:
            problems.append(f"{label}: weeks has {len(weeks)} entries, expected {PROGRAMME_WEEKS}")
        for week, repeated in Counter(weeks).items():
            if repeated > 1:
                problems.append(f"{label}: weeks names nudge '{week}' {repeated} times")
        for number, week in enumerate(weeks, start=1):
            nudge = nudges.get(week)
            if nudge is None:
                problems.append(f"{label}: week {number} names unknown nudge '{week}'")
            elif nudge.programme != key:
                problems.append(
                    f"{label}: week {number} nudge '{week}' does not set programme = '{key}'"
                )
        programmes.append(Programme(key=key, titles=MappingProxyType(titles), weeks=weeks))
    return programmes


def parse_questions(data: Mapping[str, Any], source: str, problems: list[str]) -> list[Question]:
    questions: list[Question] = []
    for index, raw in enumerate(tables(data, "question", source, problems)):
        if not isinstance(raw, dict):
            problems.append(f"question #{index + 1}: must be a table")
            continue
        label = _label("question", raw, index)
        problems.extend(_unknown_fields(label, raw, _QUESTION_FIELDS))
        key = _check_key(label, raw, problems)
        dimension = _check_enum(label, raw, "dimension", Dimension, problems)
        texts: dict[str, str] = {}
        for lang in LOCALES:
            value = raw.get(lang)
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{label}: missing language '{lang}'")
                continue
            text = value.strip()
            if len(text) > QUESTION_MAX_CHARS:
                problems.append(
                    f"{label} [{lang}]: question is {len(text)} chars, "
                    f"over the {QUESTION_MAX_CHARS} limit"
                )
            texts[lang] = text
        if key and dimension is not None and len(texts) == len(LOCALES):
            questions.append(Question(key=key, dimension=dimension, texts=MappingProxyType(texts)))
    return questions


def duplicates(what: str, keys: Iterable[str], problems: list[str]) -> None:
    for key, count in Counter(keys).items():
        if key and count > 1:
            problems.append(f"{what} {key}: duplicate key ({count} entries)")
