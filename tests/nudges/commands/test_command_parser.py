from __future__ import annotations

from datetime import date, time

import pytest

from nudges.commands import ast
from nudges.commands.ast import (
    LAST,
    PersonRef,
    Programme,
    RelativePause,
    SelfRef,
    TeamRef,
    WorkspaceRef,
)
from nudges.commands.parser import CommandError, parse, render_error
from nudges.domain import LOCALES, Dimension, Frequency, Kind
from nudges.i18n import catalogue

ANNA = PersonRef("U0ANNA")
BRAM = PersonRef("U0BRAM")
TEAMS_ID = PersonRef("29:1AbC-xyz")
WEEKLY = Frequency.WEEKLY
BIWEEKLY = Frequency.BIWEEKLY
MONTHLY = Frequency.MONTHLY
WEEKDAYS = Frequency.WEEKDAYS

VALID: list[tuple[str, ast.Command]] = [
    # help
    ("", ast.Help()),
    ("   ", ast.Help()),
    ("help", ast.Help()),
    ("HELP", ast.Help()),
    ("?", ast.Help()),
    ("/nudges", ast.Help()),
    ("help cadence", ast.Help("cadence")),
    ("help Cadence", ast.Help("cadence")),
    ("help pulse", ast.Help("pulse")),
    ("help pulse schedule", ast.Help("pulse_schedule")),
    ("help me", ast.Help("me")),
    ("help me pause", ast.Help("me_pause")),
    ("help send-now", ast.Help("send_now")),
    ("hulp budget", ast.Help("budget")),
    ("cadence help", ast.Help("cadence")),
    ("pulse ask ?", ast.Help("pulse_ask")),
    ("pulse", ast.Help("pulse")),
    ("me", ast.Help("me")),
    ("me help", ast.Help("me")),
    # status
    ("status", ast.Status(WorkspaceRef())),
    ("status workspace", ast.Status(WorkspaceRef())),
    ("status <@U0ANNA|anna>", ast.Status(ANNA)),
    ("STATUS <@U0ANNA>", ast.Status(ANNA)),
    ("status <@29:1AbC-xyz>", ast.Status(TEAMS_ID)),
    ("/nudges status <@U0ANNA>", ast.Status(ANNA)),
    # cadence
    (
        "cadence <@U0ANNA|anna> weekly tue 10:00",
        ast.Cadence(ANNA, WEEKLY, 1, None, time(10, 0)),
    ),
    ("cadence weekly tue 10:00", ast.Cadence(WorkspaceRef(), WEEKLY, 1, None, time(10, 0))),
    (
        "cadence workspace weekly Tuesday 10:00",
        ast.Cadence(WorkspaceRef(), WEEKLY, 1, None, time(10, 0)),
    ),
    ("Cadence  WEEKLY  dinsdag  9:05", ast.Cadence(WorkspaceRef(), WEEKLY, 1, None, time(9, 5))),
    ("cadence weekly di 10:00", ast.Cadence(WorkspaceRef(), WEEKLY, 1, None, time(10, 0))),
    (
        'cadence #"Team Blue" biweekly mon 08:30',
        ast.Cadence(TeamRef("Team Blue"), BIWEEKLY, 0, None, time(8, 30)),
    ),
    (
        "cadence #“Team Blue” biweekly maandag 08:30",
        ast.Cadence(TeamRef("Team Blue"), BIWEEKLY, 0, None, time(8, 30)),
    ),
    (
        "cadence #Platform wekelijks woensdag 14:00",
        ast.Cadence(TeamRef("Platform"), WEEKLY, 2, None, time(14, 0)),
    ),
    (
        "cadence <#C0123|platform> weekly thu 11:00",
        ast.Cadence(TeamRef("platform"), WEEKLY, 3, None, time(11, 0)),
    ),
    (
        "cadence <@U0ANNA> monthly first tue 10:00",
        ast.Cadence(ANNA, MONTHLY, 1, 1, time(10, 0)),
    ),
    (
        "cadence <@U0ANNA> monthly last fri 16:45",
        ast.Cadence(ANNA, MONTHLY, 4, LAST, time(16, 45)),
    ),
    (
        "cadence monthly laatste vrijdag 16:45",
        ast.Cadence(WorkspaceRef(), MONTHLY, 4, LAST, time(16, 45)),
    ),
    ("cadence monthly 2nd wed 9:00", ast.Cadence(WorkspaceRef(), MONTHLY, 2, 2, time(9, 0))),
    ("cadence weekdays 09:00", ast.Cadence(WorkspaceRef(), WEEKDAYS, None, None, time(9, 0))),
    ("cadence <@U0ANNA> weekdays 0:00", ast.Cadence(ANNA, WEEKDAYS, None, None, time(0, 0))),
    ("cadence weekly fri 23:59", ast.Cadence(WorkspaceRef(), WEEKLY, 4, None, time(23, 59))),
    # kinds
    ("kinds <@U0ANNA> all", ast.Kinds(ANNA, tuple(Kind))),
    ("kinds <@U0ANNA> ALL", ast.Kinds(ANNA, tuple(Kind))),
    (
        "kinds <@U0ANNA> listening,coffee-checkin",
        ast.Kinds(ANNA, (Kind.COFFEE_CHECKIN, Kind.LISTENING)),
    ),
    (
        "kinds <@U0ANNA> coffee_checkin, listening , listening",
        ast.Kinds(ANNA, (Kind.COFFEE_CHECKIN, Kind.LISTENING)),
    ),
    ("kinds <@U0ANNA> Expectations", ast.Kinds(ANNA, (Kind.EXPECTATIONS,))),
    ("kinds <@U0ANNA> listening,all", ast.Kinds(ANNA, tuple(Kind))),
    # team
    ("team <@U0ANNA>", ast.TeamList(ANNA)),
    ("team <@U0ANNA> list", ast.TeamList(ANNA)),
    ("team <@U0ANNA> add <@U0BRAM|bram>", ast.TeamAdd(ANNA, (BRAM,))),
    (
        "team <@U0ANNA> ADD <@U0BRAM>, <@29:1AbC-xyz> <@U0BRAM>",
        ast.TeamAdd(ANNA, (BRAM, TEAMS_ID)),
    ),
    ("team <@U0ANNA> add <@U0BRAM|bram>,<@29:1AbC-xyz>", ast.TeamAdd(ANNA, (BRAM, TEAMS_ID))),
    ("team <@U0ANNA> remove <@U0BRAM>", ast.TeamRemove(ANNA, (BRAM,))),
    ("team <@U0ANNA> rm <@U0BRAM>", ast.TeamRemove(ANNA, (BRAM,))),
    # pause / resume
    ("pause <@U0ANNA> 2w", ast.Pause(ANNA, RelativePause(14))),
    ("pause <@U0ANNA> 10d", ast.Pause(ANNA, RelativePause(10))),
    ("pause <@U0ANNA> 10 days", ast.Pause(ANNA, RelativePause(10))),
    ("pause <@U0ANNA> 3 weken", ast.Pause(ANNA, RelativePause(21))),
    ("pause <@U0ANNA> until 2027-01-04", ast.Pause(ANNA, date(2027, 1, 4))),
    ("pause <@U0ANNA> 2027-01-04", ast.Pause(ANNA, date(2027, 1, 4))),
    ("pause UNTIL 2027-01-04", ast.Pause(SelfRef(), date(2027, 1, 4))),
    ("pause tot 2w", ast.Pause(SelfRef(), RelativePause(14))),
    ("resume", ast.Resume(SelfRef())),
    ("resume <@U0ANNA>", ast.Resume(ANNA)),
    # timezone / language / country
    ("timezone <@U0ANNA> Europe/Lisbon", ast.Timezone(ANNA, "Europe/Lisbon")),
    ("timezone europe/amsterdam", ast.Timezone(SelfRef(), "Europe/Amsterdam")),
    ("timezone America/New_York", ast.Timezone(SelfRef(), "America/New_York")),
    ("timezone UTC", ast.Timezone(SelfRef(), "UTC")),
    ("language <@U0ANNA> nl", ast.Language(ANNA, "nl")),
    ("language EN", ast.Language(SelfRef(), "en")),
    ("language nl-NL", ast.Language(SelfRef(), "nl")),
    ("language Dutch", ast.Language(SelfRef(), "nl")),
    ("country NL", ast.Country("NL")),
    ("country be", ast.Country("BE")),
    ("country DE-BY", ast.Country("DE-BY")),
    ("country <@U0ANNA> be", ast.Country("BE", ANNA)),
    ("country <@U0ANNA> clear", ast.Country(None, ANNA)),
    # working weeks and time off
    (
        "workweek <@U0ANNA> mon-thu 08:30-16:30",
        ast.Workweek(ANNA, ast.Week(frozenset({0, 1, 2, 3}), time(8, 30), time(16, 30))),
    ),
    ("workweek <@U0ANNA> mon, tue, thu,fri", ast.Workweek(ANNA, ast.Week(frozenset({0, 1, 3, 4})))),
    (
        "workweek #Team Blue sun-thu 07:00-15:00",
        ast.Workweek(
            ast.TeamRef("Team Blue"), ast.Week(frozenset({6, 0, 1, 2, 3}), time(7), time(15))
        ),
    ),
    ("workweek workspace ma-vr", ast.Workweek(ast.WorkspaceRef(), ast.Week(frozenset(range(5))))),
    ("workweek <@U0ANNA> clear", ast.Workweek(ANNA, None)),
    (
        "me workweek wed-sat 10:00-18:00",
        ast.MeWorkweek(ast.Week(frozenset({2, 3, 4, 5}), time(10), time(18))),
    ),
    ("me workweek clear", ast.MeWorkweek(None)),
    ("me away 2026-12-21 to 2027-01-03", ast.MeAway(date(2026, 12, 21), date(2027, 1, 3))),
    ("me away 2026-12-21", ast.MeAway(date(2026, 12, 21), date(2026, 12, 21))),
    ("me away", ast.MeAway()),
    ("me away clear", ast.MeAway(clear=True)),
    (
        "away <@U0ANNA> 2027-07-19 tot 2027-08-01",
        ast.Away(ANNA, date(2027, 7, 19), date(2027, 8, 1)),
    ),
    ("away <@U0ANNA>", ast.Away(ANNA)),
    ("away <@U0ANNA> clear", ast.Away(ANNA, clear=True)),
    # blackout
    ("blackout", ast.BlackoutList()),
    ("blackout list", ast.BlackoutList()),
    ("blackout add 2027-12-27", ast.BlackoutAdd(date(2027, 12, 27))),
    ("blackout remove 2027-12-27", ast.BlackoutRemove(date(2027, 12, 27))),
    ("blackout delete 2028-02-29", ast.BlackoutRemove(date(2028, 2, 29))),
    # budget / admins / test / send-now
    ("budget 3", ast.Budget(3)),
    ("budget 1", ast.Budget(1)),
    ("budget 20", ast.Budget(20)),
    ("admins", ast.AdminsList()),
    ("admins add <@U0ANNA|anna>", ast.AdminsAdd(ANNA)),
    ("admins remove <@U0ANNA>", ast.AdminsRemove(ANNA)),
    ("dashboard", ast.Dashboard()),
    ("/nudges DASHBOARD", ast.Dashboard()),
    ("admin add <@U0ANNA>", ast.AdminsAdd(ANNA)),
    ("test", ast.SampleNudge()),
    ("test confirm", ast.SampleNudge(confirmed=True)),
    ("test bevestig", ast.SampleNudge(confirmed=True)),
    ("send-now <@U0ANNA> confirm", ast.SendNow(ANNA, confirmed=True)),
    ("TEST", ast.SampleNudge()),
    ("send-now <@U0ANNA>", ast.SendNow(ANNA)),
    ("sendnow <@U0ANNA>", ast.SendNow(ANNA)),
    # pulse
    (
        "pulse schedule weekly thu 14:00",
        ast.PulseSchedule(WorkspaceRef(), WEEKLY, 3, None, time(14, 0)),
    ),
    (
        'pulse schedule #"Customer Success" biweekly thu 14:00',
        ast.PulseSchedule(TeamRef("Customer Success"), BIWEEKLY, 3, None, time(14, 0)),
    ),
    (
        "pulse schedule #Platform monthly first mon 9:00",
        ast.PulseSchedule(TeamRef("Platform"), MONTHLY, 0, 1, time(9, 0)),
    ),
    (
        "pulse schedule weekdays 12:00",
        ast.PulseSchedule(WorkspaceRef(), WEEKDAYS, None, None, time(12, 0)),
    ),
    ("pulse now", ast.PulseNow(WorkspaceRef())),
    ("pulse now #Platform", ast.PulseNow(TeamRef("Platform"))),
    # personal-data rights
    ("export <@U0ANNA|anna>", ast.Export(ANNA)),
    ("forget <@U0ANNA>", ast.Forget(ANNA)),
    ("retention", ast.Retention()),
    ("retention answers 24m", ast.Retention("answers", 24)),
    ("retention deliveries 12", ast.Retention("deliveries", 12)),
    ("retention Deliveries off", ast.Retention("deliveries", None)),
    ("audit", ast.Audit()),
    ("audit <@U0ANNA>", ast.Audit(ANNA)),
    ("audit --since 2026-11-01", ast.Audit(None, date(2026, 11, 1))),
    ("audit <@U0ANNA> --since 2026-11-01", ast.Audit(ANNA, date(2026, 11, 1))),
    ("audit --since=2026-11-01 <@U0ANNA>", ast.Audit(ANNA, date(2026, 11, 1))),
    ("me export", ast.MeExport()),
    ("me forget", ast.MeForget()),
    ("me forget confirm", ast.MeForget(confirmed=True)),
    # a team name of several words needs no quotes where nothing else can follow it
    ("pulse now #Team Blue", ast.PulseNow(TeamRef("Team Blue"))),
    ("pulse now #Team   Blue  Green", ast.PulseNow(TeamRef("Team Blue Green"))),
    ("pulse results #Team Blue", ast.PulseResults(TeamRef("Team Blue"))),
    (
        "pulse schedule #Customer Success biweekly thu 14:00",
        ast.PulseSchedule(TeamRef("Customer Success"), BIWEEKLY, 3, None, time(14, 0)),
    ),
    (
        "cadence #Team Blue weekly tue 10:00",
        ast.Cadence(TeamRef("Team Blue"), WEEKLY, 1, None, time(10, 0)),
    ),
    (
        "cadence #Team Blue wekelijks di 10:00",
        ast.Cadence(TeamRef("Team Blue"), WEEKLY, 1, None, time(10, 0)),
    ),
    ("Pulse Now workspace", ast.PulseNow(WorkspaceRef())),
    ("pulse off", ast.PulseOff()),
    ("pulse on", ast.PulseOn()),
    ("pulse threshold 3", ast.PulseThreshold(3)),
    ("pulse threshold 10", ast.PulseThreshold(10)),
    ("pulse results", ast.PulseResults(WorkspaceRef())),
    ("pulse results #'Team Blue'", ast.PulseResults(TeamRef("Team Blue"))),
    ('pulse ask "Do you feel heard?"', ast.PulseAsk("Do you feel heard?", None)),
    (
        'pulse ask "Do you feel heard?" heard',
        ast.PulseAsk("Do you feel heard?", Dimension.HEARD),
    ),
    (
        "pulse ask “Weet je wat er verwacht wordt?” Clarity",
        ast.PulseAsk("Weet je wat er verwacht wordt?", Dimension.CLARITY),
    ),
    (
        "pulse ask „Voel je je gehoord?” heard",
        ast.PulseAsk("Voel je je gehoord?", Dimension.HEARD),
    ),
    (
        "pulse ask ‘What’s one thing that slows you down?’ workload",
        ast.PulseAsk("What’s one thing that slows you down?", Dimension.WORKLOAD),
    ),
    (
        'pulse ask "Is Q&amp;A  time\nuseful?"',
        ast.PulseAsk("Is Q&A time useful?", None),
    ),
    ("pulse questions", ast.PulseQuestions()),
    ("pulse question", ast.PulseQuestions()),
    ("pulse retire clarity-2", ast.PulseRetire("clarity-2")),
    # me
    ("me status", ast.MeStatus()),
    ("me pause 2w", ast.MePause(RelativePause(14))),
    ("ME PAUSE until 2027-01-04", ast.MePause(date(2027, 1, 4))),
    ("me resume", ast.MeResume()),
    ("me language nl", ast.MeLanguage("nl")),
    ("me language english", ast.MeLanguage("en")),
    ("me timezone Europe/Brussels", ast.MeTimezone("Europe/Brussels")),
    ("me kinds all", ast.MeKinds(tuple(Kind))),
    ("me kinds coffee-checkin,listening", ast.MeKinds((Kind.COFFEE_CHECKIN, Kind.LISTENING))),
    (
        "me programme join empathic-listening",
        ast.MeProgramme(Programme.EMPATHIC_LISTENING, True),
    ),
    (
        "me program leave Empathic_Listening",
        ast.MeProgramme(Programme.EMPATHIC_LISTENING, False),
    ),
    ("me optout", ast.MeOptOut()),
    ("me opt-out", ast.MeOptOut()),
    ("me opt out", ast.MeOptOut()),
    ("me optin", ast.MeOptIn()),
    ("me opt in", ast.MeOptIn()),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[text or "<empty>" for text, _ in VALID])
def test_parses_to_the_expected_command(text: str, expected: ast.Command) -> None:
    assert parse(text) == expected


def test_every_command_class_is_covered_by_the_table() -> None:
    produced = {type(expected) for _, expected in VALID}
    declared = set(ast.Command.__args__)
    assert declared - produced == set()


def test_help_and_me_commands_are_open_to_everyone_and_the_rest_to_admins() -> None:
    for cls in ast.Command.__args__:
        open_to_all = cls is ast.Help or cls.__name__.startswith("Me")
        assert cls.admin_only is not open_to_all, cls.__name__


# (text, error key without the "commands.errors." prefix, expected suggestion or None)
ERRORS: list[tuple[str, str, str | None]] = [
    ("cadense weekly tue 10:00", "unknown_command", "cadence"),
    ("<@U0ANNA> status", "unknown_command", None),
    ('"status"', "unknown_command", "status"),
    ("pulse shedule weekly tue 10:00", "unknown_subcommand", "pulse schedule"),
    ("pulse <@U0ANNA>", "unknown_subcommand", None),
    ("me pasue 2w", "unknown_subcommand", "me pause"),
    ("me opt", "unknown_subcommand", "me optout"),
    ("help cadense", "unknown_topic", "cadence"),
    ("help <@U0ANNA>", "unknown_topic", None),
    ('pulse ask "Do you feel heard?', "unbalanced_quote", None),
    ("pulse ask “Do you feel heard?", "unbalanced_quote", None),
    ("cadence #'Team Blue weekly tue 10:00", "unbalanced_quote", None),
    ("cadence @anna weekly tue 10:00", "bare_mention", None),
    ("status @anna", "bare_mention", None),
    ("kinds @anna all", "bare_mention", None),
    ("team <@U0ANNA> add @bram", "bare_mention", None),
    ("admins add <!here>", "unsupported_mention", None),
    ("team <@U0ANNA> add <!subteam^S123|@devs>", "unsupported_mention", None),
    ("cadence # weekly tue 10:00", "team_name_missing", None),
    ("cadence <#C0123|> weekly tue 10:00", "team_name_missing", None),
    ("cadence platform weekly tue 10:00", "team_needs_hash", None),
    ('cadence "Team Blue" weekly tue 10:00', "team_needs_hash", None),
    ("pulse now platform", "team_needs_hash", None),
    ("pulse schedule platform weekly tue 10:00", "team_needs_hash", None),
    ("pause #Platform 2w", "expected_person", None),
    ("kinds coffee-checkin", "expected_person", None),
    ("send-now #Platform", "expected_person", None),
    ("pulse results <@U0ANNA>", "expected_team", None),
    ("kinds", "missing_person", None),
    ("team", "missing_person", None),
    ("send-now", "missing_person", None),
    ("admins add", "missing_person", None),
    ("team <@U0ANNA> add", "missing_members", None),
    ("team <@U0ANNA> ,", "add_or_remove", None),
    ("team <@U0ANNA> <@U0BRAM>", "add_or_remove", None),
    ("team <@U0ANNA> ad <@U0BRAM>", "add_or_remove", "team add"),
    ("admins remvoe <@U0ANNA>", "add_or_remove", "admins remove"),
    ("blackout 2027-12-24", "add_or_remove", "blackout add 2027-12-24"),
    ("cadence", "missing_frequency", None),
    ("cadence <@U0ANNA> 10:00", "missing_frequency", None),
    ("cadence tue 10:00", "missing_frequency", "weekly"),
    ("cadence weakly tue 10:00", "unknown_frequency", "weekly"),
    ("cadence <@U0ANNA> daily 10:00", "unknown_frequency", None),
    ("cadence weekly 10:00", "missing_day", None),
    ("cadence biweekly", "missing_day", None),
    ("cadence weekly tusday 10:00", "unknown_day", "tuesday"),
    ("cadence weekly sat 10:00", "weekend_day", None),
    ("pulse schedule biweekly zondag 10:00", "weekend_day", None),
    ("cadence weekdays tue 10:00", "weekdays_no_day", None),
    ("cadence monthly tue 10:00", "missing_ordinal", None),
    ("cadence monthly 10:00", "missing_ordinal", None),
    ("cadence monthly fifth tue 10:00", "unknown_ordinal", "last"),
    ("cadence monthly elke tue 10:00", "unknown_ordinal", None),
    ("cadence monthly frist tue 10:00", "unknown_ordinal", "first"),
    ("cadence weekly tue", "missing_time", None),
    ("cadence weekly tue 10.00", "bad_time", "10:00"),
    ("cadence weekly tue 9u30", "bad_time", "09:30"),
    ("cadence weekly tue 10", "bad_time", "10:00"),
    ("cadence weekly tue 3pm", "bad_time", "15:00"),
    ("cadence weekly tue 12am", "bad_time", "00:00"),
    ("cadence weekly tue 7 pm", "bad_time", "19:00"),
    ("cadence weekly tue 7 PM", "bad_time", "19:00"),
    ("cadence weekly tue 10 days", "bad_time", "10:00"),
    ("cadence weekly tue noon", "bad_time", None),
    ("cadence weekly tue 10:00:00", "bad_time", None),
    ('cadence weekly tue "10:00"', "bad_time", None),
    ("cadence weekly tue 24:00", "time_out_of_range", None),
    ("cadence weekly tue 10:60", "time_out_of_range", None),
    ("kinds <@U0ANNA>", "missing_kinds", None),
    ("kinds <@U0ANNA> , ,", "missing_kinds", None),
    ("kinds <@U0ANNA> coffee,listening", "unknown_kind", "coffee-checkin"),
    ("me kinds lisening", "unknown_kind", "listening"),
    ("me kinds all,bogus", "unknown_kind", None),
    ("kinds <@U0ANNA> listening <@U0BRAM>", "unexpected", None),
    ("pause <@U0ANNA>", "missing_pause_until", None),
    ("me pause until", "missing_pause_until", None),
    ("me pause forever", "bad_pause_until", None),
    ("me pause 2y", "bad_pause_until", None),
    ("me pause <@U0ANNA>", "bad_pause_until", None),
    ("me pause 0d", "pause_out_of_range", None),
    ("me pause 53w", "pause_out_of_range", None),
    ("me pause 2027-02-30", "no_such_date", None),
    ("me pause 04-01-2027", "bad_date", "2027-01-04"),
    ("blackout add", "missing_date", None),
    ("blackout add 27/12/2027", "bad_date", "2027-12-27"),
    ("blackout add tomorrow", "bad_date", None),
    ("blackout remove 2027-13-01", "no_such_date", None),
    ("timezone", "missing_timezone", None),
    ("me timezone", "missing_timezone", None),
    ("timezone amsterdam", "unknown_timezone", "Europe/Amsterdam"),
    ("me timezone Europe/Amsterdm", "unknown_timezone", "Europe/Amsterdam"),
    ("timezone <@U0ANNA> <@U0BRAM>", "unknown_timezone", None),
    ("me timezone new york", "unknown_timezone", "America/New_York"),
    ("timezone <@U0ANNA> Buenos Aires", "unknown_timezone", "America/Argentina/Buenos_Aires"),
    ("language", "missing_language", None),
    ("me language de", "unknown_language", None),
    ("country", "missing_country", None),
    ("country XX", "unknown_country", None),
    ("country netherlands", "unknown_country", None),
    ("country DE-XX", "unknown_subdivision", None),
    ("workweek <@U0ANNA>", "missing_workdays", None),
    ("workweek <@U0ANNA> 08:00-16:00", "missing_workdays", None),
    ("me workweek mon-funday", "bad_workdays", None),
    ("me workweek mon-thu 16:30-08:30", "bad_work_hours", None),
    ("me workweek mon-thu 8:00-16", "bad_work_hours", None),
    ("me away 2027-01-03 to 2026-12-21", "bad_time_off", None),
    ("away <@U0ANNA> next week", "bad_time_off", None),
    ("budget", "missing_number", None),
    ("pulse threshold", "missing_number", None),
    ("budget three", "not_a_number", None),
    ("budget -1", "not_a_number", None),
    ("budget 0", "out_of_range", None),
    ("budget 21", "out_of_range", None),
    ("budget 99999999999999999999", "out_of_range", None),
    ("pulse threshold 2", "out_of_range", None),
    ("pulse threshold 11", "out_of_range", None),
    ("pulse ask", "missing_question", None),
    ('pulse ask ""', "missing_question", None),
    ("pulse ask Do you feel heard?", "question_needs_quotes", None),
    ('pulse ask "' + "x" * 201 + '"', "question_too_long", None),
    ('pulse ask "Do you feel heard?" hread', "unknown_dimension", "heard"),
    ('pulse ask "Do you feel heard?" heard clarity', "unexpected", None),
    ("pulse retire", "missing_question_key", None),
    ("pulse retire <@U0ANNA>", "bad_question_key", None),
    ("pulse retire clarity/2", "bad_question_key", None),
    ("me programme", "missing_programme_action", None),
    ("me programme jion empathic-listening", "unknown_programme_action", "join"),
    ("me programme join", "missing_programme", None),
    ("me programme join empathic-listenin", "unknown_programme", "empathic-listening"),
    ("status <@U0ANNA> <@U0BRAM>", "expected_person", None),
    ("status anna", "expected_person", None),
    ("resume anna", "expected_person", None),
    ("resume <@U0ANNA> now", "expected_person", None),
    ("test now", "unexpected", None),
    ("pulse off please", "unexpected", None),
    ("cadence weekly tue 10:00 extra", "unexpected", None),
    ("admins add <@!channel>", "bad_mention", None),
    ("retention anwsers 24m", "unknown_retention_kind", "answers"),
    ("retention answers", "missing_retention", None),
    ("retention answers two years", "bad_retention", None),
    ("retention answers 500m", "retention_out_of_range", None),
    ("audit --since yesterday", "bad_date", None),
    ("export", "missing_person", None),
    ("admins add <@U0ANNA&lt;b>", "bad_mention", None),
    ("team <@U0ANNA> add " + " ".join(f"<@U{i:04d}>" for i in range(51)), "too_many_people", None),
    ("team <@U0ANNA> add " + "<@U0BRAM> " * 500, "too_long", None),
    ('pulse ask "Nul\x00 byte"', "control_character", None),
]


@pytest.mark.parametrize(("text", "key", "suggestion"), ERRORS, ids=[text for text, *_ in ERRORS])
def test_mistake_gives_the_expected_error(text: str, key: str, suggestion: str | None) -> None:
    error = parse(text)
    assert isinstance(error, CommandError), error
    assert error.key == "commands.errors." + key
    assert error.suggestion == suggestion


def test_every_error_key_in_the_catalogue_is_exercised() -> None:
    exercised = {"commands.errors." + key for _, key, _ in ERRORS}
    exercised.add("commands.errors.internal")  # the safety net has its own test
    declared = {key for key in catalogue("en") if key.startswith("commands.errors.")}
    assert declared == exercised


@pytest.mark.parametrize("text", [text for text, *_ in ERRORS])
@pytest.mark.parametrize("locale", LOCALES)
def test_the_example_of_every_error_parses(text: str, locale: str) -> None:
    error = parse(text)
    assert isinstance(error, CommandError)
    example = parse(error.example_in(locale))
    assert not isinstance(example, CommandError), (error.example_in(locale), example)


@pytest.mark.parametrize("text", [text for text, *_ in ERRORS])
def test_the_default_example_is_the_english_one(text: str) -> None:
    error = parse(text)
    assert isinstance(error, CommandError)
    assert error.example == error.example_in("en")


@pytest.mark.parametrize("text", [text for text, *_ in ERRORS])
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("prefix", ["/nudges ", ""])
def test_every_error_renders_as_one_line_with_an_example(
    text: str, locale: str, prefix: str
) -> None:
    error = parse(text)
    assert isinstance(error, CommandError)
    line = render_error(error, locale, prefix)
    assert "\n" not in line
    assert "{" not in line
    assert f"`{prefix}" in line
    if error.suggestion:
        assert error.suggestion in line or "…" in line


def test_render_error_reads_well_in_english() -> None:
    error = parse("cadence <@U0ANNA|anna> weekly tusday 10:00")
    assert isinstance(error, CommandError)
    assert render_error(error, "en", "/nudges ") == (
        "Unknown day `tusday`. Did you mean `tuesday`? "
        "Example: `/nudges cadence @anna weekly tue 10:00`"
    )


def test_render_error_reads_well_in_dutch_for_teams() -> None:
    error = parse("cadence weekly tue 10.00")
    assert isinstance(error, CommandError)
    assert render_error(error, "nl", "") == (
        "`10.00` is geen tijd: schrijf UU:MM, 24-uursnotatie. Bedoel je `10:00`? "
        "Voorbeeld: `cadence @anna weekly di 10:00`"
    )


def test_render_error_never_repeats_a_channel_wide_mention_or_breaks_code() -> None:
    error = parse("status <!channel> `x`")
    assert isinstance(error, CommandError)
    line = render_error(error, "en", "/nudges ")
    assert "<!channel>" not in line
    assert "‹!channel›" in line


def test_render_error_cuts_long_echoes_short() -> None:
    error = parse("frobnicate" + "x" * 500)
    assert isinstance(error, CommandError)
    assert len(render_error(error, "en", "")) < 200


def test_the_unbalanced_quote_names_the_quote_used() -> None:
    error = parse("pulse ask “Do you feel heard?")
    assert isinstance(error, CommandError)
    assert error.params == {"quote": "“"}


def test_an_apostrophe_inside_a_single_quoted_question_does_not_end_it() -> None:
    assert parse("pulse ask 'What's on your mind?' heard") == ast.PulseAsk(
        "What's on your mind?", Dimension.HEARD
    )


def test_a_parser_bug_becomes_an_error_not_an_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    from nudges.commands import parser

    def broken(_: object) -> ast.Command:
        raise RuntimeError("boom")

    monkeypatch.setitem(parser._COMMANDS, "status", broken)
    error = parse("status")
    assert isinstance(error, CommandError)
    assert error.key == "commands.errors.internal"
    assert not isinstance(parse(error.example), CommandError)
    assert render_error(error, "nl", "")


def test_long_hostile_input_is_answered_quickly() -> None:
    import time as clock

    for text in ("<" * 4000 + ">", "<@" * 2000, '"' + "x " * 2000, "kinds <@U1> " + "a," * 2000):
        started = clock.perf_counter()
        assert isinstance(parse(text), CommandError)
        assert clock.perf_counter() - started < 1.0


def test_lists_of_choices_are_shown_whole() -> None:
    error = parse('pulse ask "Do you feel heard?" <@U0ANNA>')
    assert isinstance(error, CommandError)
    line = render_error(error, "en", "")
    assert "heard, clarity, workload, trust, recognition, connection." in line
