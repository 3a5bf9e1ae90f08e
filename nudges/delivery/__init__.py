"""Claims, pacing, exactly-once sending and outcomes, for every kind of message, knowing none."""

from nudges.delivery.engine import Dispatcher, EngineConfig, TickResult
from nudges.delivery.keys import idempotency_key
from nudges.delivery.kinds import KindHandler, KindRules, NoHoldBack, Planned, Planner

__all__ = [
    "Dispatcher",
    "EngineConfig",
    "KindHandler",
    "KindRules",
    "NoHoldBack",
    "Planned",
    "Planner",
    "TickResult",
    "idempotency_key",
]
