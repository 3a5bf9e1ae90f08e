"""Check that an HTTP request really comes from Slack, before anything reads its body.

The v0 signature is an HMAC-SHA256 over ``v0:<timestamp>:<raw body>`` with the app's signing
secret; a timestamp more than five minutes off is refused so a captured request cannot be
replayed (see ``platform-samples/slack/signing/README.md``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from slack_sdk.signature import Clock as SignatureClock
from slack_sdk.signature import SignatureVerifier

logger = logging.getLogger(__name__)

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"


class WallClock(SignatureClock):
    """Tell the time in Unix seconds; tests pass a frozen one."""

    def __init__(self, frozen_at: float | None = None) -> None:
        self.frozen_at = frozen_at

    def now(self) -> float:
        """Return the current Unix time."""
        return self.frozen_at if self.frozen_at is not None else time.time()


class RequestVerifier:
    """Verify Slack's request signature over the exact bytes received."""

    def __init__(self, signing_secret: str, clock: SignatureClock | None = None) -> None:
        self._verifier = SignatureVerifier(signing_secret, clock or WallClock())

    def is_valid(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """Tell whether ``body`` with these headers carries a fresh, correct signature."""
        timestamp = headers.get(TIMESTAMP_HEADER)
        signature = headers.get(SIGNATURE_HEADER)
        if not timestamp or not signature:
            logger.warning("slack request without signature headers refused")
            return False
        if not timestamp.isdigit():
            logger.warning("slack request with a malformed timestamp refused")
            return False
        try:
            valid = self._verifier.is_valid(body, timestamp, signature)
        except UnicodeDecodeError:
            valid = False
        if not valid:
            # The body may hold message text: log what failed, never what was sent.
            logger.warning("slack request with a bad or stale signature refused ts=%s", timestamp)
        return valid
