"""Decide when things may be sent and run the clock that sends them."""
