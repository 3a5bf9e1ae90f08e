"""Alembic environment and reviewed revisions for the Nudgebot schema."""
