"""Keep the Slack SDKs' logs to what an operator can act on: one line each, no tracebacks.

slack_sdk's Socket Mode client logs every failed reconnect with a full traceback, its web client
logs each retry at INFO, and Bolt warns on every start that a token it read from the environment
is unused (we hand it a client on purpose). These filters rewrite or drop those records where
they are logged, so whatever LOG_LEVEL says, a reconnect loop is one line per attempt.
"""

from __future__ import annotations

import logging
import re

SOCKET_MODE_LOGGER = "bot.slack.socket_mode"
BOLT_LOGGER = "bot.slack.bolt"
WEB_CLIENT_LOGGER = "slack_sdk.web.async_base_client"

_FAILED_TO_CONNECT = re.compile(r"^Failed to connect \(error: (?P<reason>.*)\); Retrying\.\.\.$")


class _NoDebug(logging.Filter):
    """Drop DEBUG records, whatever level the logger inherits."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep INFO and above."""
        return record.levelno > logging.DEBUG


class _NoRetryChatter(logging.Filter):
    """Drop the web client's "a retry handler found" lines; the outcome is logged elsewhere."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep everything but the retry notices."""
        return not record.getMessage().startswith("A retry handler found")


class _NoUnusedTokenWarning(logging.Filter):
    """Drop Bolt's warning that SLACK_BOT_TOKEN is unused: the client carries the token."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep everything but that warning."""
        return "`token` will be unused" not in record.getMessage()


class OneLineReconnects(logging.Filter):
    """Turn Socket Mode's reconnect records into one line per attempt, with its back-off."""

    def __init__(self, retry_seconds: float) -> None:
        super().__init__()
        self.retry_seconds = retry_seconds
        self.attempts = 0

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite a failed attempt, count attempts, and never pass a traceback on."""
        message = record.getMessage()
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        failed = _FAILED_TO_CONNECT.match(message)
        if failed:
            self.attempts += 1
            record.msg = "slack: Socket Mode cannot connect (%s); retrying in %g s (attempt %d)"
            record.args = (failed["reason"], self.retry_seconds, self.attempts)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            return True
        if message.startswith("A new session"):
            self.attempts = 0
            return True
        # The WSS URL failure and the old session's close are followed by the line above.
        return not message.startswith(("Failed to retrieve WSS URL", "Failed to close the old"))


def _add_once(name: str, wanted: logging.Filter) -> None:
    logger = logging.getLogger(name)
    if not any(type(f) is type(wanted) for f in logger.filters):
        logger.addFilter(wanted)


def quiet_slack_sdk_logs(retry_seconds: float) -> None:
    """Install the filters; safe to call more than once."""
    # The web client logs whole Web API answers at DEBUG, and oauth.v2.access answers carry bot
    # tokens; so even with LOG_LEVEL=DEBUG it only logs from INFO up.
    _add_once(WEB_CLIENT_LOGGER, _NoDebug())
    _add_once(WEB_CLIENT_LOGGER, _NoRetryChatter())
    _add_once(BOLT_LOGGER, _NoUnusedTokenWarning())
    _add_once(SOCKET_MODE_LOGGER, OneLineReconnects(retry_seconds))
