"""Broken content files: every validation rule reports a problem naming the entry and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nudges.content import CatalogueError, load_catalogue
from nudges.content.catalogue import (
    BODY_MAX_CHARS,
    BODY_OVERHEAD_CHARS,
    QUESTION_MAX_CHARS,
    TITLE_MAX_CHARS,
)

SEED = "000_test.txt"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    # JSON strings and lists of strings are valid TOML values.
    return json.dumps(value)


def _table(header: str, fields: dict[str, Any]) -> str:
    lines = [header]
    lines += [f"{name} = {_value(value)}" for name, value in fields.items() if value is not None]
    return "\n".join(lines) + "\n\n"


def seed(file: str = SEED, **overrides: Any) -> str:
    fields: dict[str, Any] = {"file": file, "title_en": "A seed", "title_nl": "Een bron"}
    fields.update(overrides)
    return _table("[[seed]]", fields)


def text(needs_report: bool = True, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "title": "A title",
        "why": "Because it matters now.",
        "action": "Have a coffee with {member}." if needs_report else "Have a coffee.",
        "examples": ["How are you?", "What's on your mind?"],
    }
    fields.update(overrides)
    return fields


def nudge(
    key: str = "a-nudge",
    *,
    en: dict[str, Any] | None = None,
    nl: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    **overrides: Any,
) -> str:
    fields: dict[str, Any] = {
        "key": key,
        "kind": "coffee_checkin",
        "dimension": "connection",
        "minutes": 2,
        "seed": SEED,
        "needs_report": True,
    }
    fields.update(overrides)
    out = _table("[[nudge]]", {k: v for k, v in fields.items() if k not in drop})
    needs_report = fields["needs_report"] is not False
    for lang, given in (("en", en), ("nl", nl)):
        if lang not in drop:
            out += _table(f"[nudge.{lang}]", given if given is not None else text(needs_report))
    return out


def programme(weeks: list[str], key: str = "a-programme", **overrides: Any) -> str:
    fields: dict[str, Any] = {
        "key": key,
        "title_en": "A programme",
        "title_nl": "Een programma",
        "weeks": weeks,
    }
    fields.update(overrides)
    return _table("[[programme]]", fields)


def programme_nudges(count: int = 7, key: str = "a-programme") -> tuple[list[str], str]:
    keys = [f"week-{n}" for n in range(1, count + 1)]
    body = "".join(
        nudge(k, needs_report=False, programme=key, programme_only=True, kind="listening")
        for k in keys
    )
    return keys, body


def question(key: str = "q-one", **overrides: Any) -> str:
    fields: dict[str, Any] = {
        "key": key,
        "dimension": "heard",
        "en": "I felt heard.",
        "nl": "Ik voelde me gehoord.",
    }
    fields.update(overrides)
    return _table("[[question]]", fields)


def write(tmp_path: Path, nudges: str, questions: str | None = None) -> tuple[Path, Path]:
    nudges_path = tmp_path / "nudges.toml"
    questions_path = tmp_path / "pulse_questions.toml"
    nudges_path.write_text(nudges, encoding="utf-8")
    questions_path.write_text(questions if questions is not None else question(), "utf-8")
    return nudges_path, questions_path


def problems(tmp_path: Path, nudges: str, questions: str | None = None) -> list[str]:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(*write(tmp_path, nudges, questions))
    return caught.value.problems


def assert_reported(found: list[str], *expected: str) -> None:
    for wanted in expected:
        assert any(wanted in problem for problem in found), (wanted, found)


def test_minimal_valid_files_load(tmp_path: Path) -> None:
    weeks, body = programme_nudges()
    catalogue = load_catalogue(
        *write(tmp_path, seed() + programme(weeks) + nudge() + body, question())
    )
    assert catalogue.nudges[0].key == "a-nudge"
    assert catalogue.programme("a-programme").weeks == tuple(weeks)
    assert catalogue.question("q-one").text("nl") == "Ik voelde me gehoord."


def test_error_message_lists_every_problem() -> None:
    error = CatalogueError(["first problem", "second problem"])
    assert "2 problem(s)" in str(error)
    assert "first problem" in str(error) and "second problem" in str(error)


def test_missing_nudge_language(tmp_path: Path) -> None:
    found = problems(tmp_path, seed() + nudge(drop=("nl",)))
    assert_reported(found, "nudge a-nudge: missing language 'nl'")


def test_missing_nudge_text_field(tmp_path: Path) -> None:
    en = text()
    del en["why"]
    found = problems(tmp_path, seed() + nudge(en=en))
    assert_reported(found, "nudge a-nudge [en]: why is missing or empty")


def test_missing_question_language(tmp_path: Path) -> None:
    found = problems(tmp_path, seed() + nudge(), question(nl=""))
    assert_reported(found, "question q-one: missing language 'nl'")


def test_missing_seed_title_language(tmp_path: Path) -> None:
    found = problems(tmp_path, seed(title_nl=None) + nudge())
    assert_reported(found, f"seed {SEED}: missing language 'nl' (title_nl)")


def test_missing_programme_title_language(tmp_path: Path) -> None:
    weeks, body = programme_nudges()
    found = problems(tmp_path, seed() + programme(weeks, title_en=None) + body)
    assert_reported(found, "programme a-programme: missing language 'en' (title_en)")


def test_unknown_seed_file(tmp_path: Path) -> None:
    found = problems(tmp_path, seed() + nudge(seed="999_nope.txt"))
    assert_reported(found, "nudge a-nudge: unknown seed file '999_nope.txt'")


def test_unknown_kind(tmp_path: Path) -> None:
    found = problems(tmp_path, seed() + nudge(kind="group_hug"))
    assert_reported(found, "nudge a-nudge: unknown kind 'group_hug'")


def test_unknown_dimension_in_nudge_and_question(tmp_path: Path) -> None:
    found = problems(tmp_path, seed() + nudge(dimension="vibes"), question(dimension="mood"))
    assert_reported(
        found,
        "nudge a-nudge: unknown dimension 'vibes'",
        "question q-one: unknown dimension 'mood'",
    )


def test_missing_kind(tmp_path: Path) -> None:
    found = problems(tmp_path, seed() + nudge(drop=("kind",)))
    assert_reported(found, "nudge a-nudge: kind is missing")


def test_duplicate_keys(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        seed() + nudge("same") + nudge("same"),
        question("q-same") + question("q-same"),
    )
    assert_reported(
        found,
        "nudge same: duplicate key (2 entries)",
        "question q-same: duplicate key (2 entries)",
    )


def test_duplicate_seed_file(tmp_path: Path) -> None:
    found = problems(tmp_path, seed() + seed() + nudge())
    assert_reported(found, f"seed {SEED}: duplicate seed file")


def test_key_must_be_kebab_case(tmp_path: Path) -> None:
    found = problems(tmp_path, seed() + nudge("Not_Kebab"))
    assert_reported(found, "nudge Not_Kebab: key 'Not_Kebab' is not kebab-case")


def test_needs_report_without_member_placeholder(tmp_path: Path) -> None:
    found = problems(tmp_path, seed() + nudge(nl=text(action="Drink koffie met iemand.")))
    assert_reported(found, "nudge a-nudge [nl]: needs_report is true but action lacks {member}")


def test_member_placeholder_without_needs_report(tmp_path: Path) -> None:
    found = problems(tmp_path, seed() + nudge(needs_report=False, en=text(needs_report=True)))
    assert_reported(found, "nudge a-nudge [en]: needs_report is false but action contains {member}")


def test_unknown_placeholder_in_action(tmp_path: Path) -> None:
    found = problems(tmp_path, seed() + nudge(en=text(action="Ask {member} about {topic}.")))
    assert_reported(found, "nudge a-nudge [en]: unknown placeholder(s) in action: topic")


def test_placeholder_outside_action(tmp_path: Path) -> None:
    en = text(title="Coffee with {member}", examples=["Hi {member}!", "How are you?"])
    found = problems(tmp_path, seed() + nudge(en=en))
    assert_reported(
        found,
        "nudge a-nudge [en]: placeholder in title",
        "nudge a-nudge [en]: placeholder in examples",
    )


def test_broken_brace_in_text(tmp_path: Path) -> None:
    found = problems(tmp_path, seed() + nudge(en=text(action="Ask {member about it.")))
    assert_reported(found, "nudge a-nudge [en]: action has a broken placeholder")


@pytest.mark.parametrize("minutes", [0, 1, 31, 120])
def test_minutes_out_of_range(tmp_path: Path, minutes: int) -> None:
    found = problems(tmp_path, seed() + nudge(minutes=minutes))
    assert_reported(found, f"nudge a-nudge: minutes {minutes} is out of range 2-30")


def test_minutes_must_be_a_number(tmp_path: Path) -> None:
    found = problems(tmp_path, seed() + nudge(minutes="five"))
    assert_reported(found, "nudge a-nudge: minutes must be a whole number")


@pytest.mark.parametrize("count", [0, 1, 4])
def test_examples_count(tmp_path: Path, count: int) -> None:
    examples = [f"Question {n}?" for n in range(count)]
    found = problems(tmp_path, seed() + nudge(en=text(examples=examples)))
    assert_reported(found, f"nudge a-nudge [en]: examples has {count} entries, expected 2-3")


def test_needs_report_must_be_boolean(tmp_path: Path) -> None:
    found = problems(tmp_path, seed() + nudge(needs_report="yes"))
    assert_reported(found, "nudge a-nudge: needs_report must be true or false")


def test_unknown_field_is_reported(tmp_path: Path) -> None:
    found = problems(tmp_path, seed() + nudge(programe="typo"))
    assert_reported(found, "nudge a-nudge: unknown field 'programe'")


def test_programme_naming_unknown_nudge(tmp_path: Path) -> None:
    weeks, body = programme_nudges()
    weeks[6] = "week-99"
    found = problems(tmp_path, seed() + programme(weeks) + body)
    assert_reported(
        found,
        "programme a-programme: week 7 names unknown nudge 'week-99'",
        "nudge week-7: programme 'a-programme' does not list it in weeks",
    )


@pytest.mark.parametrize("count", [6, 8])
def test_programme_must_have_seven_weeks(tmp_path: Path, count: int) -> None:
    weeks, body = programme_nudges(count)
    found = problems(tmp_path, seed() + programme(weeks) + body)
    assert_reported(found, f"programme a-programme: weeks has {count} entries, expected 7")


def test_programme_repeating_a_week(tmp_path: Path) -> None:
    weeks, body = programme_nudges()
    weeks[1] = weeks[0]
    found = problems(tmp_path, seed() + programme(weeks) + body)
    assert_reported(found, "programme a-programme: weeks names nudge 'week-1' 2 times")


def test_programme_week_must_belong_to_programme(tmp_path: Path) -> None:
    weeks, body = programme_nudges()
    weeks[0] = "a-nudge"
    found = problems(tmp_path, seed() + programme(weeks) + nudge() + body)
    assert_reported(
        found,
        "programme a-programme: week 1 nudge 'a-nudge' does not set programme = 'a-programme'",
    )


def test_nudge_naming_unknown_programme(tmp_path: Path) -> None:
    found = problems(tmp_path, seed() + nudge(programme="no-such-programme", programme_only=True))
    assert_reported(found, "nudge a-nudge: unknown programme 'no-such-programme'")


def test_programme_only_needs_a_programme(tmp_path: Path) -> None:
    found = problems(tmp_path, seed() + nudge(programme_only=True))
    assert_reported(found, "nudge a-nudge: programme_only is true but no programme is named")


def test_title_over_slack_header_limit(tmp_path: Path) -> None:
    long_title = "t" * (TITLE_MAX_CHARS + 1)
    found = problems(tmp_path, seed() + nudge(nl=text(title=long_title)))
    assert_reported(found, f"nudge a-nudge [nl]: title is {TITLE_MAX_CHARS + 1} chars, over the")


def test_body_over_slack_section_limit(tmp_path: Path) -> None:
    long_why = "w" * BODY_MAX_CHARS
    found = problems(tmp_path, seed() + nudge(en=text(why=long_why)))
    assert_reported(found, "nudge a-nudge [en]: body is", f"over the {BODY_MAX_CHARS} limit")


def test_body_just_under_the_limit_loads(tmp_path: Path) -> None:
    en = text()
    used = len(en["action"]) + sum(len(e) for e in en["examples"]) + BODY_OVERHEAD_CHARS
    en["why"] = "w" * (BODY_MAX_CHARS - used)
    load_catalogue(*write(tmp_path, seed() + nudge(en=en)))


def test_question_over_limit(tmp_path: Path) -> None:
    long_question = "q" * (QUESTION_MAX_CHARS + 1)
    found = problems(tmp_path, seed() + nudge(), question(en=long_question))
    assert_reported(
        found, f"question q-one [en]: question is {QUESTION_MAX_CHARS + 1} chars, over the"
    )


def test_invalid_toml_is_reported(tmp_path: Path) -> None:
    found = problems(tmp_path, seed() + "[[nudge]\nkey = ")
    assert_reported(found, "nudges.toml: invalid TOML")


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(tmp_path / "absent.toml", tmp_path / "also-absent.toml")
    assert_reported(
        caught.value.problems,
        "absent.toml: file not found",
        "also-absent.toml: file not found",
    )


def test_unknown_top_level_table(tmp_path: Path) -> None:
    found = problems(tmp_path, seed() + nudge() + "[[nudges]]\nkey = 'x'\n")
    assert_reported(found, "nudges.toml: unknown top-level entry 'nudges'")


def test_all_problems_are_reported_together(tmp_path: Path) -> None:
    weeks, body = programme_nudges(5)
    broken = (
        seed()
        + programme(weeks)
        + body
        + nudge("one", kind="nope", minutes=99)
        + nudge("two", seed="missing.txt", drop=("nl",))
        + nudge("two", en=text(examples=["Only one?"]))
    )
    found = problems(tmp_path, broken, question("q-x", dimension="nope", nl=""))
    assert_reported(
        found,
        "nudge one: unknown kind 'nope'",
        "nudge one: minutes 99 is out of range 2-30",
        "nudge two: unknown seed file 'missing.txt'",
        "nudge two: missing language 'nl'",
        "nudge two: duplicate key (2 entries)",
        "nudge two [en]: examples has 1 entries, expected 2-3",
        "programme a-programme: weeks has 5 entries, expected 7",
        "question q-x: unknown dimension 'nope'",
        "question q-x: missing language 'nl'",
    )
    assert len(found) >= 9
