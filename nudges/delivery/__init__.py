"""Claims, pacing, exactly-once sending and outcomes, for every kind of message, knowing none.

Rooms, one job each: ``ground`` (tunables, statuses, what every room shares), ``outage`` (the
database-outage state), ``queue`` (idempotent inserts, what is due), ``claims`` (leases,
heartbeat, recovery of lapsed claims), ``planning`` (planning passes over the workspaces),
``holdbacks`` (the shared checks and the weekly budget), ``composing`` (claimed batches into
messages), ``sending`` (one send at the pacer's pace), ``lanes`` (a lane per workspace with
claim-ahead), ``outcomes`` (retry policy and the background writer), ``pacing`` (the adaptive
pace), and ``engine`` (the Dispatcher that runs a tick over them). Delivery may import the
vocabulary, the store, scheduling and the directory; never a kind of message.
"""

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
