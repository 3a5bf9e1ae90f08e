"""Assemble the dispatcher of this product: the delivery engine with every kind registered.

Delivery itself (``nudges.delivery``) knows no kind of message; nudges, follow-ups, polls and
digests register how they are planned, held back and composed. This is the one place that
knows them all, so the rooms below never import each other in a circle.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from nudges import delivery
from nudges.coaching import deliveries as coaching
from nudges.coaching.deliveries import outcome_is_final
from nudges.coaching.plans import choice_payload
from nudges.content.catalogue import Catalogue
from nudges.delivery import EngineConfig, TickResult, idempotency_key
from nudges.ports import Clock, Messenger
from nudges.pulse import deliveries as pulse
from nudges.store.database import Database

__all__ = [
    "Dispatcher",
    "EngineConfig",
    "TickResult",
    "choice_payload",
    "idempotency_key",
    "outcome_is_final",
]


class Dispatcher(delivery.Dispatcher):
    """The delivery engine, taught every kind of message the product sends."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        catalogue: Catalogue,
        messengers: Mapping[str, Messenger],
        config: EngineConfig | None = None,
        *,
        worker_id: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(db, clock, messengers, config, worker_id=worker_id, rng=rng)
        self.catalogue = catalogue
        coaching.register(self, catalogue)
        pulse.register(self, self, catalogue)
