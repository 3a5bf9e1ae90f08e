"""Prometheus metrics of delivery, exposed by the service's /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DELIVERIES = Counter(
    "nudgebot_deliveries_total",
    "Deliveries that reached an outcome, by platform, kind and outcome.",
    ["platform", "kind", "outcome"],
)
SEND_SECONDS = Histogram(
    "nudgebot_send_seconds",
    "Time the platform took to accept one message.",
    ["platform"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
QUEUE_DEPTH = Gauge(
    "nudgebot_queue_depth",
    "Deliveries due and not yet sent (pending or being sent).",
)
RETRIES = Counter(
    "nudgebot_delivery_retries_total",
    "Sends that failed for now and will be tried again, by platform.",
    ["platform"],
)
RATE_LIMITED = Counter(
    "nudgebot_rate_limited_total",
    "Times a platform answered 'too many requests', by platform.",
    ["platform"],
)
RECOVERED = Counter(
    "nudgebot_claims_recovered_total",
    "Claimed deliveries handed back: released (never sent) or in doubt (send had started).",
    ["state"],
)
