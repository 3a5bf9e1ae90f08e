from __future__ import annotations

import json
import logging

import pytest

from bot.logs import DeliveryContext, JsonFormatter
from nudges.delivery.context import current_delivery


def _line(message: str) -> dict[str, object]:
    record = logging.makeLogRecord({"name": "x", "levelname": "INFO", "msg": message})
    DeliveryContext().filter(record)
    parsed: dict[str, object] = json.loads(JsonFormatter().format(record))
    return parsed


def test_json_lines_written_while_a_delivery_is_handled_carry_its_id() -> None:
    token = current_delivery.set(42)
    try:
        assert _line("sending")["delivery_id"] == 42
    finally:
        current_delivery.reset(token)
    assert "delivery_id" not in _line("idle")


def test_configured_json_logging_stamps_the_delivery_id(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.logs import configure_logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("INFO", "json")
    token = current_delivery.set(7)
    try:
        logging.getLogger("nudges.delivery.engine").info("delivered")
    finally:
        current_delivery.reset(token)
        root.handlers[:], level = saved
        root.setLevel(level)
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert json.loads(line)["delivery_id"] == 7
