"""Carry the delivery being handled, so every log line written meanwhile can name it."""

from __future__ import annotations

from contextvars import ContextVar

current_delivery: ContextVar[int | None] = ContextVar("current_delivery", default=None)
