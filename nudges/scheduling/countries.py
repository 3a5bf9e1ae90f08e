"""Know the countries and subdivisions the holiday library supports, and their public holidays."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType

import holidays

from nudges.scheduling.checks import require_date


def _split_country(code: str) -> tuple[str, str | None]:
    country, _, subdivision = code.strip().upper().partition("-")
    return country, subdivision or None


def is_supported_country(code: str) -> bool:
    """Tell whether the holiday library knows this country (or ``CC-SUB`` subdivision) code."""
    if not isinstance(code, str):
        return False
    country, subdivision = _split_country(code)
    supported = _supported_countries()
    if country not in supported:
        return False
    return subdivision is None or subdivision in _subdivisions_of(country)


@functools.cache
def _supported_countries() -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType(
        {code: tuple(subs) for code, subs in holidays.list_supported_countries().items()}
    )


def _subdivisions_of(country: str) -> frozenset[str]:
    return frozenset(sub.upper() for sub in _supported_countries().get(country, ()))


def subdivisions_of(code: str) -> list[str]:
    """Return the subdivision codes the holiday library knows for a country, sorted."""
    return sorted(_subdivisions_of(_split_country(code)[0]))


def normalise_country(code: str) -> str:
    """Return the canonical ``CC`` or ``CC-SUB`` code; raise ValueError for one not known."""
    if not is_supported_country(code):
        raise ValueError(
            f"unsupported holiday country {code!r}; use an ISO code such as 'NL' or 'DE-BY'"
        )
    country, subdivision = _split_country(code)
    return f"{country}-{subdivision}" if subdivision else country


@functools.lru_cache(maxsize=512)
def holidays_for(country: str, year: int, language: str | None) -> Mapping[date, str]:
    """Return a normalised country's public holidays in year, by day."""
    # The library computes a whole year at once; caching it keeps day checks cheap.
    code, subdivision = _split_country(country)
    found = holidays.country_holidays(code, subdiv=subdivision, years=year, language=language)
    return MappingProxyType(dict(found))


def holiday_name(day: date, country: str | None, *, language: str | None = None) -> str | None:
    """Return the public holiday's name on day in country, or None."""
    require_date(day)
    if country is None:
        return None
    return holidays_for(normalise_country(country), day.year, language).get(day)
