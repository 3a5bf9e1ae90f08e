"""Configure stdlib logging as one line per event, as text or JSON."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from nudges.delivery.context import current_delivery

# Loggers that print SQL parameters, rows or protocol traffic below WARNING: at DEBUG they would
# write who answered next to what was answered, and the text people typed. They stay at WARNING
# whatever LOG_LEVEL says, and a filter drops their quieter records even if a library lowers
# their level again later. (The engine also hides statement parameters; see nudges.store.database.)
VALUE_BEARING = ("sqlalchemy", "aiosqlite", "asyncpg")

# Attributes every LogRecord has; anything else was passed through ``extra=`` and is worth printing.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Format records as one JSON object per line for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as JSON."""
        data: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        data.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


class DeliveryContext(logging.Filter):
    """Stamp every record logged while a delivery is handled with that delivery's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add ``delivery_id`` when one is being handled; never drop a record."""
        delivery_id = current_delivery.get()
        if delivery_id is not None and not hasattr(record, "delivery_id"):
            record.delivery_id = delivery_id
        return True


class QuietDrivers(logging.Filter):
    """Drop records below WARNING from the database libraries, which carry stored values."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep a record unless it is a quiet one from a value-bearing logger."""
        if record.levelno >= logging.WARNING:
            return True
        return not any(
            record.name == name or record.name.startswith(name + ".") for name in VALUE_BEARING
        )


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Send logs to stderr in the chosen format, replacing earlier handlers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(DeliveryContext())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
    handler.addFilter(QuietDrivers())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Library chatter at INFO drowns the service's own lines.
    for noisy in ("aiohttp.access", "apscheduler", "alembic", *VALUE_BEARING):
        logging.getLogger(noisy).setLevel(logging.WARNING)
