"""The database-outage state says once when an outage begins and once when it ends."""

from __future__ import annotations

import logging

import pytest

from nudges.delivery.outage import Outage


def test_an_outage_is_logged_once_when_it_begins_and_once_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outage = Outage()
    with caplog.at_level(logging.WARNING):
        outage.fine()
        for _ in range(3):
            outage.trouble(ConnectionError("refused"))
        assert outage.down
        outage.fine()
        outage.fine()
    messages = [r.message for r in caplog.records]
    assert sum("database unreachable" in m for m in messages) == 1
    assert messages.count("database reachable again") == 1
    assert not outage.down
