"""Nudgebot edge: settings, HTTP server, platform adapters and CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nudgebot")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"
