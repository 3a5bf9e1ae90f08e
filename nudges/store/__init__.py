"""Persist the core's state in SQL through SQLAlchemy 2 (async): tables and per-table helpers.

May import the vocabulary (``nudges.domain``) only; every room may import the store.
"""
