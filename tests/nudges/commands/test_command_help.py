from __future__ import annotations

import pytest

from nudges.commands import ast
from nudges.commands.help import help_text
from nudges.commands.parser import CommandError, parse
from nudges.commands.topics import TOPICS, TOPICS_BY_KEY, children, display_example
from nudges.domain import LOCALES

# The command each help topic's example must parse into; parent topics list others instead.
EXAMPLE_PARSES_TO: dict[str, type[ast.Command]] = {
    "help": ast.Help,
    "status": ast.Status,
    "cadence": ast.Cadence,
    "kinds": ast.Kinds,
    "team": ast.TeamAdd,
    "pause": ast.Pause,
    "resume": ast.Resume,
    "timezone": ast.Timezone,
    "language": ast.Language,
    "country": ast.Country,
    "workweek": ast.Workweek,
    "away": ast.Away,
    "me_workweek": ast.MeWorkweek,
    "me_away": ast.MeAway,
    "blackout": ast.BlackoutAdd,
    "budget": ast.Budget,
    "admins": ast.AdminsAdd,
    "dashboard": ast.Dashboard,
    "test": ast.SampleNudge,
    "send_now": ast.SendNow,
    "pulse": ast.PulseResults,
    "pulse_schedule": ast.PulseSchedule,
    "pulse_now": ast.PulseNow,
    "pulse_off": ast.PulseOff,
    "pulse_on": ast.PulseOn,
    "pulse_threshold": ast.PulseThreshold,
    "pulse_results": ast.PulseResults,
    "pulse_ask": ast.PulseAsk,
    "pulse_questions": ast.PulseQuestions,
    "pulse_retire": ast.PulseRetire,
    "me": ast.MeStatus,
    "me_status": ast.MeStatus,
    "me_pause": ast.MePause,
    "me_resume": ast.MeResume,
    "me_language": ast.MeLanguage,
    "me_timezone": ast.MeTimezone,
    "me_kinds": ast.MeKinds,
    "me_programme": ast.MeProgramme,
    "me_optout": ast.MeOptOut,
    "me_optin": ast.MeOptIn,
    "export": ast.Export,
    "forget": ast.Forget,
    "retention": ast.Retention,
    "audit": ast.Audit,
    "me_export": ast.MeExport,
    "me_forget": ast.MeForget,
}

ADMIN_TOPICS = [topic for topic in TOPICS if topic.admin_only and not topic.parent]
OPEN_TOPICS = [topic for topic in TOPICS if not topic.admin_only and not topic.parent]


def test_every_topic_has_an_expected_example_command() -> None:
    assert set(EXAMPLE_PARSES_TO) == set(TOPICS_BY_KEY)


@pytest.mark.parametrize("key", sorted(TOPICS_BY_KEY))
@pytest.mark.parametrize("locale", LOCALES)
def test_every_help_example_parses_into_its_command(key: str, locale: str) -> None:
    example = TOPICS_BY_KEY[key].text(locale, "example")
    command = parse(example)
    assert not isinstance(command, CommandError), (example, command)
    assert type(command) is EXAMPLE_PARSES_TO[key]


@pytest.mark.parametrize("key", sorted(TOPICS_BY_KEY))
def test_help_topic_is_reachable_by_typing_help_and_its_words(key: str) -> None:
    assert parse("help " + TOPICS_BY_KEY[key].words) == ast.Help(key)


def test_admin_flags_of_topics_match_the_commands_they_describe() -> None:
    for key, cls in EXAMPLE_PARSES_TO.items():
        topic = TOPICS_BY_KEY[key]
        if not topic.parent:
            assert topic.admin_only is cls.admin_only, key


@pytest.mark.parametrize("key", sorted(TOPICS_BY_KEY))
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("prefix", ["/nudges ", ""])
def test_topic_help_shows_usage_description_and_example(key: str, locale: str, prefix: str) -> None:
    topic = TOPICS_BY_KEY[key]
    text = help_text(locale, topic.words, prefix, is_admin=True)
    assert f"`{prefix}{topic.text(locale, 'usage')}`" in text
    assert f"`{prefix}{display_example(topic.text(locale, 'example'))}`" in text
    assert "{" not in text
    assert "<@" not in text
    assert help_text(locale, key, prefix, is_admin=True) == text


def test_topic_help_fills_in_the_facts_it_mentions() -> None:
    text = help_text("en", "pulse threshold", "/nudges ", is_admin=True)
    assert "3 to 10" in text
    assert "coffee-checkin" in help_text("nl", "me kinds", "", is_admin=False)
    assert "clarity" in help_text("en", "pulse ask", "", is_admin=True)


def test_parent_topic_lists_its_subcommands() -> None:
    pulse = TOPICS_BY_KEY["pulse"]
    text = help_text("en", "pulse", "/nudges ", is_admin=True)
    for child in children(pulse):
        assert f"`/nudges {child.words}`" in text
    assert len(children(TOPICS_BY_KEY["me"])) == 13


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("prefix", ["/nudges ", ""])
def test_admin_overview_lists_every_command_once(locale: str, prefix: str) -> None:
    text = help_text(locale, None, prefix, is_admin=True)
    for topic in ADMIN_TOPICS + OPEN_TOPICS:
        assert text.count(f"`{prefix}{topic.words}` —") == 1, topic.words
    assert "{" not in text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("prefix", ["/nudges ", ""])
def test_member_overview_hides_admin_commands(locale: str, prefix: str) -> None:
    text = help_text(locale, None, prefix, is_admin=False)
    for topic in OPEN_TOPICS:
        assert f"`{prefix}{topic.words}` —" in text
    lines = text.splitlines()
    for topic in ADMIN_TOPICS:
        assert not any(line.startswith(f"`{prefix}{topic.words}`") for line in lines), topic.words
    admin_heading = help_text(locale, None, prefix, is_admin=True).splitlines()[2]
    assert admin_heading not in lines


def test_member_overview_says_admins_configure_the_rest() -> None:
    assert "Admins set up everything else" in help_text("en", None, "", is_admin=False)
    assert "Beheerders stellen de rest in" in help_text("nl", None, "", is_admin=False)
    assert "Admins set up everything else" not in help_text("en", None, "", is_admin=True)


@pytest.mark.parametrize("topic", [topic.words for topic in ADMIN_TOPICS] + ["pulse"])
def test_member_asking_about_an_admin_command_is_told_it_is_for_admins(topic: str) -> None:
    text = help_text("en", topic, "/nudges ", is_admin=False)
    assert text.startswith(f"`/nudges {topic}` is for admins only")
    first_line = text.splitlines()[0]
    assert "Usage" not in text and len(first_line) < 120


def test_unknown_topic_falls_back_to_the_overview_with_a_note() -> None:
    text = help_text("nl", "<!channel> `frob`", "", is_admin=True)
    assert text.startswith("Er is geen hulp over `‹!channel› 'frob'`.")
    assert "<!channel>" not in text
    assert help_text("en", "   ", "", is_admin=True) == help_text("en", None, "", is_admin=True)


def test_overview_reads_like_a_menu() -> None:
    text = help_text("en", None, "/nudges ", is_admin=False)
    assert text.splitlines()[0] == "Nudgebot commands"
    assert "`/nudges me pause` — Pause your bot messages" in text
    assert text.splitlines()[-1] == "Type `/nudges help me pause` for the details and an example."
