"""Know whether the database is reachable, and say so once per outage."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger(__name__)

# What a lost database connection looks like, whichever driver raised it.
DB_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError, ConnectionError)


class Outage:
    """The database-outage state of one worker: logged when it starts and when it ends."""

    def __init__(self) -> None:
        self.down = False

    def trouble(self, exc: BaseException) -> None:
        """Note that the database failed us; log it only when an outage begins."""
        if not self.down:
            logger.error("database unreachable (%s); holding results until it is back", exc)
        self.down = True

    def fine(self) -> None:
        """Note that the database answered; log it when an outage ends."""
        if self.down:
            logger.warning("database reachable again")
        self.down = False
