"""Count how fast every platform acknowledges clicks and commands, and what became of clicks."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Platforms want an answer within 3 s (Slack) or 15 s (Teams); most should come in far below.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)

CLICK_ACK_SECONDS = Histogram(
    "nudgebot_click_ack_seconds",
    "Time from receiving a button click or form submission to acknowledging it",
    ["platform"],
    buckets=ACK_BUCKETS,
)
COMMAND_ACK_SECONDS = Histogram(
    "nudgebot_command_ack_seconds",
    "Time from receiving a command to acknowledging it",
    ["platform"],
    buckets=ACK_BUCKETS,
)
CLICKS = Counter(
    "nudgebot_clicks",
    "Button clicks by outcome: applied, superseded (a newer click won) or failed",
    ["platform", "outcome"],
)
COMMANDS = Counter(
    "nudgebot_commands",
    "Commands by outcome: answered, late (answered after the acknowledgement) or failed",
    ["platform", "outcome"],
)


_ACK_HISTOGRAMS = {"click": CLICK_ACK_SECONDS, "command": COMMAND_ACK_SECONDS}
# The labelled histograms, looked up once: labels() costs more than the observation itself.
_ack_children: dict[tuple[str, str], Histogram] = {}


def observe_ack(kind: str, platform: str, seconds: float) -> None:
    """Record one acknowledgement of a ``click`` or a ``command`` (other kinds are ignored)."""
    child = _ack_children.get((kind, platform))
    if child is None:
        histogram = _ACK_HISTOGRAMS.get(kind)
        if histogram is None:
            return
        child = _ack_children[(kind, platform)] = histogram.labels(platform)
    child.observe(seconds)
