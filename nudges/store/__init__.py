"""Persist the core's state in SQL through SQLAlchemy 2 (async)."""
