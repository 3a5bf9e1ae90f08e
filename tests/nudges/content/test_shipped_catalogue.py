"""The catalogue that ships with the app: counts, coverage, languages, and the own-words rule."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from nudges.content import Catalogue, default_catalogue, load_catalogue
from nudges.domain import LOCALES, Dimension, Kind
from tests import seed_runs

COPY_RUN_WORDS = seed_runs.RUN_WORDS
# At a screen-skimming pace of ~300 words a minute, 100 words is about 20 seconds.
READ_IN_20_SECONDS_WORDS = 100
OUR_TITLE_MAX = 80
OUR_QUESTION_MAX = 150


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def test_shipped_catalogue_loads_and_is_cached() -> None:
    assert default_catalogue() is default_catalogue()
    assert len(default_catalogue().nudges) == len(load_catalogue().nudges)


def test_has_at_least_forty_nudges(catalogue: Catalogue) -> None:
    assert len(catalogue.nudges) >= 40


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_has_two_regular_nudges(catalogue: Catalogue, kind: Kind) -> None:
    assert len(catalogue.by_kind(kind)) >= 2, kind


def test_coffee_checkins_are_the_signature(catalogue: Catalogue) -> None:
    coffee = catalogue.by_kind(Kind.COFFEE_CHECKIN)
    assert len(coffee) >= 5
    with_member = [n for n in coffee if n.needs_report]
    assert len(with_member) >= 5
    assert all(n.minutes <= 10 for n in coffee)
    assert any(n.minutes == 2 for n in coffee)


def test_expectations_cover_both_directions(catalogue: Catalogue) -> None:
    i_expect = catalogue.nudge("expectations-what-i-expect")
    they_expect = catalogue.nudge("expectations-what-they-expect")
    assert i_expect.kind is they_expect.kind is Kind.EXPECTATIONS
    assert "expect from them" in i_expect.text("en").action
    assert "expect from you" in they_expect.text("en").action


def test_commitment_followups_are_generic(catalogue: Catalogue) -> None:
    nudge = catalogue.nudge("commitment-look-back")
    assert nudge.kind is Kind.COMMITMENT_FOLLOWUP
    assert not nudge.needs_report


@pytest.mark.parametrize("dimension", list(Dimension))
def test_every_dimension_has_regular_nudges_to_steer_with(
    catalogue: Catalogue, dimension: Dimension
) -> None:
    assert len(catalogue.for_dimension(dimension)) >= 3, dimension


@pytest.mark.parametrize("dimension", list(Dimension))
def test_every_dimension_has_five_questions(catalogue: Catalogue, dimension: Dimension) -> None:
    assert len(catalogue.questions_for(dimension)) >= 5, dimension


def test_both_languages_everywhere(catalogue: Catalogue) -> None:
    for nudge in catalogue.nudges:
        assert set(nudge.texts) == set(LOCALES), nudge.key
    for question in catalogue.questions:
        assert set(question.texts) == set(LOCALES), question.key
    for seed in catalogue.seeds:
        assert set(seed.titles) == set(LOCALES), seed.file
    for programme in catalogue.programmes:
        assert set(programme.titles) == set(LOCALES), programme.key


def test_languages_really_differ(catalogue: Catalogue) -> None:
    # Guards against an untranslated copy-paste of the English into the Dutch slot.
    for nudge in catalogue.nudges:
        en, nl = nudge.text("en"), nudge.text("nl")
        assert en.why != nl.why and en.action != nl.action, nudge.key
    for question in catalogue.questions:
        assert question.text("en") != question.text("nl"), question.key


def test_nudges_read_in_twenty_seconds(catalogue: Catalogue) -> None:
    for nudge in catalogue.nudges:
        for lang, text in nudge.texts.items():
            words = " ".join((text.title, text.why, text.action, *text.examples)).split()
            assert len(words) <= READ_IN_20_SECONDS_WORDS, (nudge.key, lang, len(words))
            assert len(text.title) <= OUR_TITLE_MAX, (nudge.key, lang)


def test_why_is_one_sentence(catalogue: Catalogue) -> None:
    for nudge in catalogue.nudges:
        for lang, text in nudge.texts.items():
            assert text.why.endswith("."), (nudge.key, lang)
            assert not re.search(r"[.!?]\s", text.why), (nudge.key, lang)


def test_member_placeholder_renders(catalogue: Catalogue) -> None:
    for nudge in catalogue.nudges:
        for text in nudge.texts.values():
            if nudge.needs_report:
                rendered = text.action.format(member="<@U123>")
                assert "<@U123>" in rendered and "{" not in rendered, nudge.key
            else:
                assert "{" not in text.action, nudge.key


def test_questions_are_short_and_neutral(catalogue: Catalogue) -> None:
    for question in catalogue.questions:
        for lang, text in question.texts.items():
            assert len(text) <= OUR_QUESTION_MAX, (question.key, lang)
            assert "{" not in text, (question.key, lang)


def test_keys_are_unique_across_nudges_and_questions(catalogue: Catalogue) -> None:
    keys = Counter([n.key for n in catalogue.nudges] + [q.key for q in catalogue.questions])
    assert [k for k, count in keys.items() if count > 1] == []


def test_programme_has_seven_weeks_in_order(catalogue: Catalogue) -> None:
    programme = catalogue.programme("empathic-listening")
    assert len(programme.weeks) == 7
    weeks = catalogue.programme_nudges("empathic-listening")
    assert [n.key for n in weeks] == list(programme.weeks)
    # notice -> phone-free conversation -> reflect back -> habit
    assert [n.kind for n in weeks] == [
        Kind.LISTENING,
        Kind.PHONE_FREE,
        Kind.PHONE_FREE,
        Kind.REFLECT_BACK,
        Kind.REFLECT_BACK,
        Kind.REFLECT_BACK,
        Kind.LISTENING,
    ]
    for number, nudge in enumerate(weeks, start=1):
        assert nudge.programme == "empathic-listening"
        assert nudge.programme_only
        assert nudge.text("en").title.startswith(f"Week {number}:")
        assert nudge.text("nl").title.startswith(f"Week {number}:")
    assert programme.title("nl") != programme.title("en")


def test_programme_only_nudges_stay_out_of_regular_lookups(catalogue: Catalogue) -> None:
    programme_keys = set(catalogue.programme("empathic-listening").weeks)
    assert {n.key for n in catalogue.nudges if n.programme_only} == programme_keys
    for kind in Kind:
        assert not programme_keys & {n.key for n in catalogue.by_kind(kind)}
    listening = catalogue.by_kind(Kind.LISTENING, include_programme_only=True)
    assert programme_keys & {n.key for n in listening}


def test_locale_lookups_fall_back_to_english(catalogue: Catalogue) -> None:
    nudge = catalogue.nudges[0]
    assert nudge.text("fr") == nudge.text("en")
    assert nudge.text("nl-NL") == nudge.text("nl")
    question = catalogue.questions[0]
    assert question.text("de") == question.text("en")
    seed = catalogue.seeds[0].file
    assert catalogue.seed_title(seed, "nl_BE") == catalogue.seeds[0].titles["nl"]
    assert catalogue.seed_title(seed, "fr") == catalogue.seeds[0].titles["en"]


def test_unknown_keys_raise_key_error(catalogue: Catalogue) -> None:
    with pytest.raises(KeyError):
        catalogue.nudge("no-such-nudge")
    with pytest.raises(KeyError):
        catalogue.programme("no-such-programme")
    with pytest.raises(KeyError):
        catalogue.seed_title("no-such-seed.txt", "en")


def test_every_seed_is_cited(catalogue: Catalogue) -> None:
    cited = {n.seed for n in catalogue.nudges}
    assert cited == {s.file for s in catalogue.seeds}


def _stored_seed_runs() -> set[str]:
    runs = seed_runs.load()["runs"]
    assert isinstance(runs, list)
    return set(runs)


def test_seed_table_names_exactly_the_seed_files(catalogue: Catalogue) -> None:
    files = seed_runs.load()["files"]
    assert isinstance(files, dict)
    assert {s.file for s in catalogue.seeds} == set(files)


def test_the_stored_fingerprint_matches_the_seed_articles_when_they_are_here() -> None:
    # The articles sit beside the repository on a developer's machine; a clone has only the
    # fingerprint, and this check keeps the two from drifting apart where both exist.
    if not seed_runs.SEEDS_DIR.is_dir():
        pytest.skip(f"seed articles not beside the repository ({seed_runs.SEEDS_DIR})")
    assert seed_runs.fingerprint(seed_runs.SEEDS_DIR) == seed_runs.load()


def _copied(texts: list[tuple[str, str]], runs: set[str]) -> list[tuple[str, str]]:
    copied = []
    for key, text in texts:
        words = seed_runs.words(text)
        for i in range(len(words) - COPY_RUN_WORDS + 1):
            run = words[i : i + COPY_RUN_WORDS]
            if seed_runs.run_hash(run) in runs:
                copied.append((key, " ".join(run)))
    return copied


def test_no_twelve_word_run_copied_from_the_seeds(catalogue: Catalogue) -> None:
    texts: list[tuple[str, str]] = []
    for nudge in catalogue.nudges:
        for text in nudge.texts.values():
            texts += [(nudge.key, t) for t in (text.title, text.why, text.action, *text.examples)]
    texts += [(q.key, t) for q in catalogue.questions for t in q.texts.values()]
    assert _copied(texts, _stored_seed_runs()) == []


def test_copy_guard_catches_a_lifted_sentence() -> None:
    article = (
        "Een korte alinea die we zelf schreven om de bewaker te testen, met genoeg woorden "
        "achter elkaar zodat er meer dan twaalf op een rij staan en het werkt."
    )
    lifted = " ".join(article.split()[2 : 2 + COPY_RUN_WORDS + 3]).upper()
    runs = seed_runs.runs_of(article)
    assert _copied([("lifted", f"Intro.  {lifted}  outro")], runs)
    assert not _copied([("own", "Een geheel eigen zin die nergens anders voorkomt.")], runs)
