from __future__ import annotations

import builtins
from typing import Any

import pytest
from cryptography.fernet import Fernet

from bot.settings import Settings, SettingsError, check_platforms, load_settings, platform_status


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    # Tests must not pick up a developer's .env or exported variables.
    monkeypatch.chdir(tmp_path)
    for name in list(__import__("os").environ):
        if name.startswith(("SLACK_", "MICROSOFT_", "NUDGEBOT_", "DEFAULT_", "TEAMS_")) or name in {
            "PORT",
            "HOST",
            "DATABASE_URL",
        }:
            monkeypatch.delenv(name, raising=False)


def test_defaults_need_nothing() -> None:
    s = load_settings()
    assert s.port == 3000
    assert s.is_sqlite
    # With no platform configured, the sandbox page is the one thing on.
    assert [(p.name, p.enabled) for p in platform_status(s)] == [
        ("slack", False),
        ("teams", False),
        ("sandbox", True),
    ]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PORT": "abc"}, "PORT: must be a valid integer"),
        ({"PORT": "70000"}, "PORT: must be less than or equal to 65535"),
        ({"SLACK_BOT_TOKEN": "xoxp-123"}, "SLACK_BOT_TOKEN: a bot token starts with xoxb-"),
        ({"SLACK_APP_TOKEN": "abc"}, "SLACK_APP_TOKEN: an app-level token starts with xapp-"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL: unsupported database 'mysql'"),
        ({"DEFAULT_TIMEZONE": "Mars/Olympus"}, "DEFAULT_TIMEZONE: must be an IANA time zone"),
        ({"DEFAULT_LOCALE": "fr"}, "DEFAULT_LOCALE: must be one of en, nl"),
        ({"NUDGEBOT_SECRET_KEY": "short"}, "NUDGEBOT_SECRET_KEY: must be a 32-byte"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL: must be"),
        ({"DEFAULT_COUNTRY": "XX"}, "DEFAULT_COUNTRY: must be a two-letter country code"),
        ({"PLAN_AHEAD_MINUTES": "2000"}, "PLAN_AHEAD_MINUTES: must be less than or equal to"),
    ],
)
def test_bad_values_name_the_variable_and_give_an_example(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError) as info:
        load_settings()
    (line,) = info.value.problems
    assert line.startswith(expected)
    assert "(for example " in line


def test_several_problems_are_all_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "0")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "nope")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert [p.split(":")[0] for p in info.value.problems] == ["PORT", "SLACK_BOT_TOKEN"]


def test_the_planning_horizon_reaches_the_dispatcher(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from bot.app import build_services
    from nudges.store.database import Database

    monkeypatch.setenv("PLAN_AHEAD_MINUTES", "45")
    settings = load_settings()
    services = build_services(settings, Database("sqlite+aiosqlite://"))
    assert services.dispatcher.config.plan_ahead == timedelta(minutes=45)


def test_blank_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "  ")
    assert load_settings().slack_bot_token is None


def test_dotenv_file_is_read(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("PORT=3123\n")
    assert load_settings().port == 3123


def test_a_dotenv_file_that_is_not_utf8_is_one_clear_problem(tmp_path) -> None:
    (tmp_path / ".env").write_bytes("SLACK_SIGNING_SECRET=caf\u00e9\n".encode("latin-1"))
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert info.value.problems == [".env: not UTF-8 text; save the file as UTF-8"]


def test_an_unreadable_dotenv_file_is_one_clear_problem(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("PORT=3123\n")
    real_open = builtins.open

    def refuse(file: Any, *args: Any, **kwargs: Any) -> Any:
        # What a root-owned 0600 .env mounted into the container does to the service's user.
        if str(file).endswith(".env"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", refuse)
    with pytest.raises(SettingsError) as info:
        load_settings()
    (problem,) = info.value.problems
    assert problem.endswith(".env: Permission denied")


@pytest.mark.parametrize(
    ("env", "slack", "reason"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, True, "single workspace"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, True, "Socket Mode"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, False, "SLACK_SIGNING_SECRET: Slack over HTTP needs"),
        ({"SLACK_APP_TOKEN": "xapp-1"}, False, "SLACK_BOT_TOKEN: Socket Mode needs"),
        (
            {"SLACK_CLIENT_ID": "1", "SLACK_CLIENT_SECRET": "2", "SLACK_SIGNING_SECRET": "3"},
            False,
            "NUDGEBOT_SECRET_KEY",
        ),
    ],
)
def test_platform_status_explains_itself(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], slack: bool, reason: str
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    # Settings() rather than load_settings(): the latter refuses a half configuration outright.
    status = platform_status(Settings())[0]
    assert status.enabled is slack
    assert reason in status.reason


def test_oauth_with_key_is_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_CLIENT_ID", "1")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "2")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "3")
    monkeypatch.setenv("NUDGEBOT_SECRET_KEY", Fernet.generate_key().decode())
    assert platform_status(load_settings())[0].enabled


@pytest.mark.parametrize(
    ("env", "enabled", "reason"),
    [
        ({}, False, "no MICROSOFT_APP_ID set"),
        (
            {
                "MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000000",
                "MICROSOFT_APP_PASSWORD": "s",
            },
            True,
            "MultiTenant app 00000000-0000-0000-0000-000000000000",
        ),
        ({"TEAMS_ENABLED": "true"}, True, "WITHOUT authentication"),
        (
            {"MICROSOFT_APP_ID": "a", "MICROSOFT_APP_PASSWORD": "s", "TEAMS_ENABLED": "false"},
            False,
            "TEAMS_ENABLED=false",
        ),
    ],
)
def test_teams_status_says_on_or_off_and_why(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], enabled: bool, reason: str
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    teams = platform_status(load_settings())[1]
    assert teams.name == "teams"
    assert teams.enabled is enabled
    assert reason in teams.reason


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"MICROSOFT_APP_ID": "a"},
            "MICROSOFT_APP_PASSWORD: MICROSOFT_APP_ID is set but its client secret is not "
            "(for example MICROSOFT_APP_PASSWORD=your-client-secret)",
        ),
        (
            {
                "MICROSOFT_APP_ID": "a",
                "MICROSOFT_APP_PASSWORD": "s",
                "MICROSOFT_APP_TYPE": "SingleTenant",
            },
            "MICROSOFT_APP_TENANT_ID: a SingleTenant app needs the tenant id it lives in "
            "(for example MICROSOFT_APP_TENANT_ID=00000000-0000-0000-0000-000000000000)",
        ),
        (
            {"MICROSOFT_APP_PASSWORD": "s"},
            "MICROSOFT_APP_ID: MICROSOFT_APP_PASSWORD is set but the app id is not",
        ),
        (
            {"MICROSOFT_APP_ID": "a", "MICROSOFT_APP_TYPE": "UserAssignedMSI"},
            "MICROSOFT_APP_TENANT_ID: a UserAssignedMSI app needs",
        ),
    ],
)
def test_half_a_teams_configuration_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert len(err.value.problems) == 1
    assert err.value.problems[0].startswith(expected)


def test_nudgebot_admins_is_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUDGEBOT_ADMINS", " U1, 7faf8ab2 ,,")
    assert load_settings().admin_ids == frozenset({"U1", "7faf8ab2"})


def test_log_level_and_country_are_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("DEFAULT_COUNTRY", "be")
    settings = load_settings()
    assert settings.log_level == "DEBUG"
    assert settings.default_country == "BE"


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"SLACK_BOT_TOKEN": "xoxb-1"},
            "SLACK_SIGNING_SECRET: Slack over HTTP needs it with SLACK_BOT_TOKEN; or set "
            "SLACK_APP_TOKEN for Socket Mode (for example "
            "SLACK_SIGNING_SECRET=8f742231b10e8888abcd99yyyzzz85a5)",
        ),
        (
            {"SLACK_CLIENT_ID": "1234.5678"},
            "SLACK_CLIENT_SECRET: OAuth installs need it with SLACK_CLIENT_ID (for example "
            "SLACK_CLIENT_SECRET=0123456789abcdef0123456789abcdef)",
        ),
        (
            {"SLACK_CLIENT_SECRET": "abc"},
            "SLACK_CLIENT_ID: OAuth installs need it with SLACK_CLIENT_SECRET (for example "
            "SLACK_CLIENT_ID=1234567890.1234567890)",
        ),
        (
            {"SLACK_CLIENT_ID": "1", "SLACK_CLIENT_SECRET": "2"},
            "SLACK_SIGNING_SECRET: OAuth installs need it too (for example "
            "SLACK_SIGNING_SECRET=8f742231b10e8888abcd99yyyzzz85a5)",
        ),
        (
            {"SLACK_SIGNING_SECRET": "s"},
            "SLACK_BOT_TOKEN: Slack needs a bot token with SLACK_SIGNING_SECRET; or set "
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth installs (for example "
            "SLACK_BOT_TOKEN=xoxb-1234-5678-abcdef)",
        ),
    ],
)
def test_a_platform_asked_for_but_incomplete_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], line: str
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError) as info:
        check_platforms(load_settings())
    assert info.value.problems == [line]


def test_a_platform_nobody_asked_for_is_simply_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")
    settings = load_settings()
    check_platforms(settings)
    assert platform_status(settings)[0].missing is None
