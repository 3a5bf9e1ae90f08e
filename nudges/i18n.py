"""Look up user-facing text in the Dutch and English catalogues under ``nudges/locales``.

Each ``locales/<lang>/<area>.toml`` file contributes keys prefixed with its area, so
``locales/en/commands.toml`` holding ``[help] cadence = "..."`` yields ``commands.help.cadence``.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime

from nudges.domain import DEFAULT_LOCALE, LOCALES

LOCALES_DIR = Path(__file__).parent / "locales"


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        full = f"{prefix}.{key}"
        if isinstance(value, dict):
            _flatten(full, value, out)
        elif isinstance(value, str):
            out[full] = value
        else:
            raise TypeError(f"catalogue entry {full} must be text, not {type(value).__name__}")


@cache
def catalogue(locale: str) -> dict[str, str]:
    """Return every key of one language's catalogue."""
    if locale not in LOCALES:
        raise ValueError(f"unsupported locale {locale!r}")
    out: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / locale).glob("*.toml")):
        with path.open("rb") as fh:
            _flatten(path.stem, tomllib.load(fh), out)
    return out


def normalize_locale(value: str | None) -> str | None:
    """Map a platform locale such as ``nl-NL`` or ``en_US`` to a supported language, else None."""
    if not value:
        return None
    lang = value.replace("_", "-").split("-", 1)[0].strip().lower()
    return lang if lang in LOCALES else None


def resolve_locale(*candidates: str | None) -> str:
    """Return the first supported language among ``candidates``, else the default."""
    for candidate in candidates:
        lang = normalize_locale(candidate)
        if lang:
            return lang
    return DEFAULT_LOCALE


def t(locale: str, key: str, /, **params: object) -> str:
    """Translate ``key`` into ``locale`` and fill in ``params``."""
    lang = normalize_locale(locale) or DEFAULT_LOCALE
    template = catalogue(lang).get(key)
    if template is None:
        template = catalogue(DEFAULT_LOCALE)[key]
    return template.format(**params) if params else template


def has(key: str) -> bool:
    """Tell whether ``key`` exists in the default catalogue."""
    return key in catalogue(DEFAULT_LOCALE)


def format_day(locale: str, day: date) -> str:
    """Format a date the way people of ``locale`` write it, e.g. 'Tuesday 3 March'."""
    return babel_format_date(day, format="EEEE d MMMM", locale=normalize_locale(locale) or "en")


def format_moment(locale: str, moment: datetime) -> str:
    """Format an aware local datetime as e.g. 'Tuesday 3 March, 10:00'."""
    lang = normalize_locale(locale) or "en"
    return babel_format_datetime(moment, format="EEEE d MMMM, HH:mm", locale=lang)
