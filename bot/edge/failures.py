"""Tell a passing outage (database down, pool exhausted, network) from a real failure."""

from __future__ import annotations

from nudges.i18n import t
from nudges.store.outages import TRANSIENT, is_transient

__all__ = ["TRANSIENT", "failure_text", "is_transient"]


def failure_text(locale: str, exc: BaseException) -> str:
    """Word what the person sees when their click or command could not be handled."""
    key = "home.errors.try_again" if is_transient(exc) else "home.errors.failed"
    return t(locale, key)
