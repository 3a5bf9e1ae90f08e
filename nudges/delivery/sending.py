"""Send one composed delivery to its platform, at its workspace's pace; never raise."""

from __future__ import annotations

import logging
import time

from nudges.delivery import metrics
from nudges.delivery.composing import Job
from nudges.delivery.context import current_delivery
from nudges.delivery.ground import SENT, Ground
from nudges.delivery.outcomes import Outcome, RetryPolicy
from nudges.delivery.pacing import Pacer
from nudges.ports import DeliveryError

logger = logging.getLogger(__name__)


class Sender:
    """Hand jobs to their platform's messenger and turn every answer into an outcome."""

    def __init__(self, ground: Ground, policy: RetryPolicy) -> None:
        self.ground = ground
        self.policy = policy

    async def send(self, job: Job, pacer: Pacer) -> Outcome:
        """Send one job, waiting out "too many requests" in place; never raise."""
        token = current_delivery.set(job.delivery_id)
        platform = job.recipient.platform
        config = self.ground.config
        try:
            messenger = self.ground.messengers.get(platform)
            if messenger is None:
                return self.policy.retry(
                    job.delivery_id, job.attempts, f"platform {platform} is not enabled", None
                )
            limited = 0
            while True:
                started = time.perf_counter()
                try:
                    ref = await messenger.send(job.recipient, job.message, retry=job.in_doubt)
                except DeliveryError as exc:
                    if exc.permanent:
                        return self.policy.permanent(
                            job.delivery_id,
                            job.person_id,
                            job.recipient.workspace_external_id,
                            exc,
                        )
                    metrics.RETRIES.labels(platform).inc()
                    if exc.retry_after is not None:
                        metrics.RATE_LIMITED.labels(platform).inc()
                        pacer.on_rate_limited(min(exc.retry_after, config.max_pause))
                        limited += 1
                        short = exc.retry_after <= config.rate_limit_wait
                        if (
                            short
                            and limited <= config.rate_limit_retries
                            and await pacer.acquire(self.ground.is_stopping)
                        ):
                            continue
                    if exc.retry_after is not None:
                        return self.policy.rate_limited(
                            job.delivery_id, job.attempts, exc.retry_after
                        )
                    return self.policy.retry(job.delivery_id, job.attempts, exc.reason, None)
                except Exception as exc:
                    logger.exception("delivery %s: unexpected error while sending", job.delivery_id)
                    return self.policy.retry(
                        job.delivery_id, job.attempts, f"unexpected: {exc}", None
                    )
                metrics.SEND_SECONDS.labels(platform).observe(time.perf_counter() - started)
                pacer.on_success()
                logger.info(
                    "delivered %s %s to person %s", job.kind, job.delivery_id, job.person_id
                )
                return Outcome(
                    job.delivery_id,
                    SENT,
                    {
                        "status": SENT,
                        "sent_at": self.ground.clock.now(),
                        "message_ref": ref.encode(),
                        "last_error": None,
                    },
                )
        finally:
            current_delivery.reset(token)
