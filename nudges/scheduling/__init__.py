"""Decide when things may be sent: the calendar (allowed days, quiet hours) and the cadence rules.

May import the vocabulary and the store only; the clock that runs the ticks is
``nudges.services.ticker``.
"""
