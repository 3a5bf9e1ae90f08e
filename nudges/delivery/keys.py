"""Build the idempotency key that makes a delivery unique."""

from __future__ import annotations

from enum import Enum


def idempotency_key(kind: str | Enum, recipient_id: int, item: str) -> str:
    """Build the unique key of a delivery: kind, recipient and occurrence."""
    name = kind.value if isinstance(kind, Enum) else kind
    return f"{name}:{recipient_id}:{item}"
