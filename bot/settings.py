"""Read and validate the service's settings from the environment (and an optional ``.env``)."""

from __future__ import annotations

import ipaddress
import zoneinfo
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.fernet import Fernet
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nudges.domain import DEFAULT_COUNTRY, DEFAULT_LOCALE, DEFAULT_TIMEZONE, LOCALES
from nudges.scheduling.countries import is_supported_country
from nudges.store.database import DatabaseUrlError, normalize_url

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/nudgebot.sqlite3"

# One correct example per variable, shown whenever a value is missing or malformed.
EXAMPLES: dict[str, str] = {
    "DATABASE_URL": "postgresql+asyncpg://nudgebot:secret@db:5432/nudgebot",
    "HOST": "0.0.0.0",
    "PORT": "3000",
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "text",
    "SLACK_BOT_TOKEN": "xoxb-1234-5678-abcdef",
    "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
    "SLACK_APP_TOKEN": "xapp-1-A0123-456-abcdef",
    "SLACK_CLIENT_ID": "1234567890.1234567890",
    "SLACK_CLIENT_SECRET": "0123456789abcdef0123456789abcdef",
    "SLACK_API_URL": "https://slack.com/api/",
    "MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000000",
    "MICROSOFT_APP_PASSWORD": "your-client-secret",
    "MICROSOFT_APP_TENANT_ID": "00000000-0000-0000-0000-000000000000",
    "MICROSOFT_APP_TYPE": "MultiTenant",
    "TEAMS_ENABLED": "true",
    "MICROSOFT_GRAPH_URL": "https://graph.microsoft.com/v1.0/",
    "MICROSOFT_LOGIN_URL": "https://login.microsoftonline.com/",
    "NUDGEBOT_ADMINS": "7faf8ab2-3d56-4244-b585-20c8a42ed2b8,0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9",
    "NUDGEBOT_SECRET_KEY": "(output of: nudgebot generate-key)",
    "NUDGEBOT_PUBLIC_URL": "https://nudgebot.example.com",
    "NUDGEBOT_REPLICA": "bot-1",
    "NUDGEBOT_SANDBOX": "1",
    "DEFAULT_LOCALE": "nl",
    "DEFAULT_TIMEZONE": "Europe/Amsterdam",
    "DEFAULT_COUNTRY": "NL",
    "TICK_SECONDS": "30",
    "SEND_RATE_PER_WORKSPACE": "1.0",
    "MAX_SEND_ATTEMPTS": "6",
    "RETRY_BACKOFF_SECONDS": "30",
    "DELIVERY_LEASE_SECONDS": "20",
    "PLAN_AHEAD_MINUTES": "120",
}


class Settings(BaseSettings):
    """Every setting the service reads; names are the environment variables, upper-cased."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = Field(default=3000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_api_url: str | None = None

    microsoft_app_id: str | None = None
    microsoft_app_password: str | None = None
    microsoft_app_tenant_id: str | None = None
    microsoft_app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = "MultiTenant"
    # None: on when MICROSOFT_APP_ID is set; true with no app id serves Teams without auth.
    teams_enabled: bool | None = None
    # Microsoft Graph: where a Teams send whose answer was lost is looked up before it is sent
    # again, and where Outlook working hours are read.
    microsoft_graph_url: str = "https://graph.microsoft.com/v1.0/"
    microsoft_login_url: str = "https://login.microsoftonline.com/"
    # Teams user ids (Entra object ids) who are admins in every tenant.
    nudgebot_admins: str | None = None
    # None: the sandbox web page is on when no platform is; 1 forces it on (also on a public
    # HOST), 0 keeps it off.
    nudgebot_sandbox: bool | None = None

    nudgebot_secret_key: str | None = None
    # This replica's name in metrics (nudgebot_scheduler_active); the host name when unset,
    # which on Kubernetes is the pod's name.
    nudgebot_replica: str | None = None
    # Where people reach this service from outside, for links the bot hands out (the dashboard).
    nudgebot_public_url: str | None = None

    default_locale: str = DEFAULT_LOCALE
    default_timezone: str = DEFAULT_TIMEZONE
    default_country: str = DEFAULT_COUNTRY

    tick_seconds: int = Field(default=30, ge=5, le=3600)
    # A ceiling, not the pace: sends go at the rate the platform answers, below this.
    send_rate_per_workspace: float = Field(default=20.0, gt=0, le=1000)
    max_send_attempts: int = Field(default=6, ge=1, le=20)
    # The first retry waits about this long (with jitter); each further one twice as long.
    retry_backoff_seconds: float = Field(default=30.0, ge=1, le=3600)
    # A claim not renewed for this long is taken to belong to a worker that died.
    delivery_lease_seconds: float = Field(default=20.0, ge=2, le=600)
    # A slot's nudges are chosen and stored this long before it; at the slot only sending
    # remains. Under a day, so a daily nudge is planned after the one before it went out.
    plan_ahead_minutes: int = Field(default=120, ge=1, le=1380)

    @field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "slack_client_id",
        "slack_client_secret",
        "slack_api_url",
        "microsoft_app_id",
        "microsoft_app_password",
        "microsoft_app_tenant_id",
        "nudgebot_secret_key",
        "nudgebot_public_url",
        "nudgebot_admins",
        "teams_enabled",
        "nudgebot_sandbox",
        "nudgebot_replica",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # An empty line in .env (SLACK_BOT_TOKEN=) means "not configured", not "empty token".
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        try:
            normalize_url(value)
        except DatabaseUrlError as exc:
            raise ValueError(str(exc)) from exc
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _check_bot_token(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("xoxb-"):
            raise ValueError("a bot token starts with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _check_app_token(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("xapp-"):
            raise ValueError("an app-level token starts with xapp-")
        return value

    @field_validator("microsoft_graph_url", "microsoft_login_url")
    @classmethod
    def _check_microsoft_url(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("slack_api_url")
    @classmethod
    def _check_api_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("nudgebot_public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/") if value else value

    @property
    def public_url(self) -> str:
        """Return the base URL for links: the configured one, else this machine and port."""
        return self.nudgebot_public_url or f"http://localhost:{self.port}"

    @field_validator("nudgebot_secret_key")
    @classmethod
    def _check_secret_key(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                Fernet(value.encode())
            except ValueError as exc:
                raise ValueError("must be a 32-byte url-safe base64 key") from exc
        return value

    @field_validator("default_locale")
    @classmethod
    def _check_locale(cls, value: str) -> str:
        if value not in LOCALES:
            raise ValueError(f"must be one of {', '.join(LOCALES)}")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("must be an IANA time zone name") from exc
        return value

    @field_validator("default_country")
    @classmethod
    def _check_country(cls, value: str) -> str:
        code = value.strip().upper()
        if not is_supported_country(code):
            raise ValueError("must be a two-letter country code the holiday calendar knows")
        return code

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @property
    def workspace_defaults(self) -> dict[str, str]:
        """Return what a workspace the service creates starts with: language, zone, country."""
        return {
            "default_locale": self.default_locale,
            "default_timezone": self.default_timezone,
            "country": self.default_country,
        }

    @property
    def slack_oauth(self) -> bool:
        """Tell whether multi-workspace OAuth installs are configured."""
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def slack_socket_mode(self) -> bool:
        """Tell whether Slack should connect over Socket Mode."""
        return bool(self.slack_app_token)

    @property
    def teams_on(self) -> bool:
        """Tell whether the service answers Teams at /api/messages."""
        if self.teams_enabled is not None:
            return self.teams_enabled
        return self.microsoft_app_id is not None

    @property
    def teams_auth(self) -> bool:
        """Tell whether /api/messages checks Bot Framework tokens (always, with an app id)."""
        return self.microsoft_app_id is not None

    @property
    def admin_ids(self) -> frozenset[str]:
        """Return the platform user ids NUDGEBOT_ADMINS names."""
        raw = self.nudgebot_admins or ""
        return frozenset(part.strip() for part in raw.split(",") if part.strip())

    @property
    def is_sqlite(self) -> bool:
        """Tell whether the store is the embedded SQLite file."""
        return normalize_url(self.database_url).get_backend_name() == "sqlite"


@dataclass(frozen=True)
class PlatformStatus:
    """Whether a platform is on, and the one-line reason.

    ``missing`` is set when someone asked for the platform (set one of its variables) but what
    they set is not enough to run it: it names the variable to add, with an example.
    """

    name: str
    enabled: bool
    reason: str
    missing: str | None = None


SLACK_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
)


def _needs(variable: str, why: str) -> str:
    return f"{variable}: {why} (for example {variable}={EXAMPLES[variable]})"


def platform_status(settings: Settings) -> list[PlatformStatus]:
    """Explain which platforms are on and why the others are off."""
    out: list[PlatformStatus] = []
    s = settings
    if s.slack_socket_mode and s.slack_bot_token:
        out.append(PlatformStatus("slack", True, "Socket Mode (SLACK_APP_TOKEN + SLACK_BOT_TOKEN)"))
    elif s.slack_oauth and s.slack_signing_secret and s.nudgebot_secret_key:
        out.append(PlatformStatus("slack", True, "HTTP with OAuth installs at /slack/install"))
    elif s.slack_bot_token and s.slack_signing_secret:
        out.append(PlatformStatus("slack", True, "HTTP, single workspace, at /slack/events"))
    else:
        missing = _slack_missing(s)
        reason = missing or "no SLACK_BOT_TOKEN, SLACK_APP_TOKEN or SLACK_CLIENT_ID set"
        out.append(PlatformStatus("slack", False, reason, missing))
    out.append(_teams_status(s))
    out.append(_sandbox_status(s, others=any(status.enabled for status in out)))
    return out


def is_loopback(address: str | None) -> bool:
    """Tell whether an address or host name stays on this machine."""
    if not address:
        return False
    if address.strip().lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def _sandbox_status(s: Settings, *, others: bool) -> PlatformStatus:
    if s.nudgebot_sandbox is False:
        return PlatformStatus("sandbox", False, "NUDGEBOT_SANDBOX=0")
    if s.nudgebot_sandbox is None and others:
        return PlatformStatus(
            "sandbox", False, "a platform is configured (NUDGEBOT_SANDBOX=1 adds it)"
        )
    if s.nudgebot_sandbox is None and not is_loopback(s.host):
        return PlatformStatus(
            "sandbox",
            False,
            f"HOST={s.host} is not a loopback address and the sandbox has no login: "
            "set NUDGEBOT_SANDBOX=1 to serve it there anyway, or HOST=127.0.0.1",
        )
    clock = "with real time (a platform shares the clock)" if others else "with its own clock"
    return PlatformStatus("sandbox", True, f"try it at http://localhost:{s.port}/ {clock}")


def _teams_status(s: Settings) -> PlatformStatus:
    if not s.teams_on:
        if s.teams_enabled is False and s.microsoft_app_id:
            return PlatformStatus("teams", False, "TEAMS_ENABLED=false")
        return PlatformStatus(
            "teams", False, "no MICROSOFT_APP_ID set and TEAMS_ENABLED is not true"
        )
    if not s.teams_auth:
        return PlatformStatus(
            "teams",
            True,
            "at /api/messages WITHOUT authentication (TEAMS_ENABLED=true, no MICROSOFT_APP_ID): "
            "for the local Bot Framework Emulator only",
        )
    return PlatformStatus(
        "teams", True, f"at /api/messages, {s.microsoft_app_type} app {s.microsoft_app_id}"
    )


def teams_problems(s: Settings) -> list[str]:
    """Name each piece missing from a half-made Teams configuration, with an example."""
    problems: list[str] = []

    def missing(name: str, why: str) -> None:
        problems.append(f"{name}: {why} (for example {name}={EXAMPLES[name]})")

    if s.teams_enabled is False:
        return problems
    app_type = s.microsoft_app_type
    if s.microsoft_app_id is None:
        if s.microsoft_app_password is not None:
            missing("MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD is set but the app id is not")
        elif app_type != "MultiTenant" and s.teams_enabled:
            missing("MICROSOFT_APP_ID", f"a {app_type} app needs its app id")
        return problems
    if app_type != "UserAssignedMSI" and s.microsoft_app_password is None:
        missing("MICROSOFT_APP_PASSWORD", "MICROSOFT_APP_ID is set but its client secret is not")
    if app_type in ("SingleTenant", "UserAssignedMSI") and s.microsoft_app_tenant_id is None:
        missing("MICROSOFT_APP_TENANT_ID", f"a {app_type} app needs the tenant id it lives in")
    return problems


def _slack_missing(s: Settings) -> str | None:
    """Name what a half-configured Slack lacks, or None when nobody asked for Slack."""
    if s.slack_app_token:
        return _needs("SLACK_BOT_TOKEN", "Socket Mode needs the bot token with SLACK_APP_TOKEN")
    if s.slack_client_id or s.slack_client_secret:
        if not s.slack_client_id:
            return _needs("SLACK_CLIENT_ID", "OAuth installs need it with SLACK_CLIENT_SECRET")
        if not s.slack_client_secret:
            return _needs("SLACK_CLIENT_SECRET", "OAuth installs need it with SLACK_CLIENT_ID")
        if not s.slack_signing_secret:
            return _needs("SLACK_SIGNING_SECRET", "OAuth installs need it too")
        return _needs("NUDGEBOT_SECRET_KEY", "OAuth installs need it to encrypt bot tokens at rest")
    if s.slack_bot_token:
        return _needs(
            "SLACK_SIGNING_SECRET",
            "Slack over HTTP needs it with SLACK_BOT_TOKEN; or set SLACK_APP_TOKEN for Socket Mode",
        )
    if s.slack_signing_secret:
        return _needs(
            "SLACK_BOT_TOKEN",
            "Slack needs a bot token with SLACK_SIGNING_SECRET; "
            "or set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth installs",
        )
    return None


def check_platforms(settings: Settings) -> None:
    """Refuse a platform that was asked for but cannot run, naming what is missing."""
    problems = [status.missing for status in platform_status(settings) if status.missing]
    problems += teams_problems(settings)
    if problems:
        raise SettingsError(problems)


class SettingsError(Exception):
    """Raised with one readable line per bad setting."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _describe(error: Any) -> str:
    loc = error.get("loc") or ("?",)
    name = str(loc[0]).upper()
    message = str(error.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ").replace("Input should be", "must be")
    example = EXAMPLES.get(name)
    hint = f" (for example {name}={example})" if example else ""
    return f"{name}: {message}{hint}"


def load_settings(**overrides: Any) -> Settings:
    """Load settings, turning validation errors into a ``SettingsError`` naming each variable."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError([_describe(err) for err in exc.errors()]) from None
    except UnicodeDecodeError:
        raise SettingsError([".env: not UTF-8 text; save the file as UTF-8"]) from None
    except OSError as exc:
        raise SettingsError([f"{exc.filename or '.env'}: {exc.strerror}"]) from None
    check_platforms(settings)
    return settings
