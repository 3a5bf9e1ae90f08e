"""Compute what may be shown of pulse polls, and nothing more.

A poll's result is visible only once it closed and at least its effective threshold answered:
the larger of the threshold fixed when it opened and the workspace's current one. Live results
of an open poll are never shown, because two snapshots a click apart would reveal one answer.
Aggregates only ever combine polls that are each visible, so no difference of visible numbers
can isolate a group below the threshold.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import ScalarSelect

from nudges.domain import Dimension
from nudges.people.poll_totals import answer_sums, answered_counts, invited_counts
from nudges.policy import WorkspacePolicy
from nudges.store.pulse import PulsePoll
from nudges.store.rights import PollTotals

# Eight levels from the lowest to the highest score of the 1-5 scale.
SPARK = "▁▂▃▄▅▆▇█"
SCALE_MIN, SCALE_MAX = 1.0, 5.0
TREND_POLLS = 8


@dataclass(frozen=True)
class PollResult:
    """What one poll may show: always its counts, its score only when visible."""

    poll_id: int
    group_key: str
    team: str
    period_key: str
    dimension: Dimension | None
    question_key: str
    opened_at: datetime
    closes_at: datetime
    closed: bool
    threshold: int
    answered: int
    invited: int
    score: float | None

    @property
    def visible(self) -> bool:
        """Tell whether the score may be shown."""
        return self.score is not None


@dataclass(frozen=True)
class Point:
    """One step of a trend: visible polls of one period combined."""

    period_key: str
    closes_at: datetime
    answered: int
    invited: int
    score: float

    @property
    def participation(self) -> float:
        """Return the share of those asked who answered."""
        return min(1.0, self.answered / self.invited) if self.invited else 0.0


def effective_threshold(poll: PulsePoll, policy: WorkspacePolicy) -> int:
    """Return the threshold that applies to a poll now: a later rise applies, a later drop not."""
    return max(poll.threshold, policy.anonymity_threshold)


async def load_polls(
    session: AsyncSession,
    workspace_id: int,
    *,
    group_keys: Collection[str] | ScalarSelect[str] | None = None,
    closed: bool | None = None,
) -> list[PulsePoll]:
    """Return the workspace's polls, oldest first, optionally of some groups or states only."""
    query = select(PulsePoll).where(PulsePoll.workspace_id == workspace_id)
    if isinstance(group_keys, ScalarSelect):
        query = query.where(PulsePoll.group_key.in_(group_keys))
    elif group_keys is not None:
        if not group_keys:
            return []
        query = query.where(PulsePoll.group_key.in_(list(group_keys)))
    if closed is not None:
        query = query.where(PulsePoll.closed.is_(closed))
    rows = await session.scalars(query.order_by(PulsePoll.closes_at, PulsePoll.id))
    return list(rows.all())


async def results_of(
    session: AsyncSession, polls: Sequence[PulsePoll], policy: WorkspacePolicy
) -> list[PollResult]:
    """Return each poll's counts, and its score where the threshold allows."""
    ids = [p.id for p in polls]
    if not ids:
        return []
    answered = await answered_counts(session, ids)
    invited = await invited_counts(session, ids)
    # Sums are read only for polls whose counts already clear the bar.
    eligible = [
        p.id for p in polls if p.closed and answered.get(p.id, 0) >= effective_threshold(p, policy)
    ]
    sums: dict[int, tuple[int, int]] = {}
    if eligible:
        sums = await answer_sums(session, eligible)
    # Polls whose rows retention or an erasure removed keep the totals frozen before that.
    for totals in await session.scalars(select(PollTotals).where(PollTotals.poll_id.in_(ids))):
        answered[totals.poll_id] = totals.answered
        invited[totals.poll_id] = totals.invited
        poll = next(p for p in polls if p.id == totals.poll_id)
        if totals.answers and totals.answered >= effective_threshold(poll, policy):
            sums[totals.poll_id] = (totals.answers, totals.answer_sum)
    out: list[PollResult] = []
    for poll in polls:
        threshold = effective_threshold(poll, policy)
        count, total = sums.get(poll.id, (0, 0))
        score = total / count if poll.id in sums and count >= threshold else None
        out.append(
            PollResult(
                poll_id=poll.id,
                group_key=poll.group_key,
                team=poll.team,
                period_key=poll.period_key,
                dimension=Dimension(poll.dimension) if poll.dimension else None,
                question_key=poll.question_key,
                opened_at=poll.opened_at,
                closes_at=poll.closes_at,
                closed=poll.closed,
                threshold=threshold,
                answered=answered.get(poll.id, 0),
                invited=max(invited.get(poll.id, 0), answered.get(poll.id, 0)),
                score=score,
            )
        )
    return out


def combine(results: Iterable[PollResult]) -> Point | None:
    """Combine visible polls into one point weighted by answers; hidden ones never take part."""
    visible = [r for r in results if r.score is not None]
    if not visible:
        return None
    answered = sum(r.answered for r in visible)
    total = sum((r.score or 0.0) * r.answered for r in visible)
    last = max(visible, key=lambda r: (r.closes_at, r.poll_id))
    return Point(
        period_key=last.period_key,
        closes_at=last.closes_at,
        answered=answered,
        invited=sum(r.invited for r in visible),
        score=total / answered,
    )


def series(results: Iterable[PollResult], dimension: Dimension | None) -> list[Point]:
    """Return one dimension's visible polls combined per period, oldest first."""
    by_period: dict[str, list[PollResult]] = defaultdict(list)
    for result in results:
        if result.dimension == dimension and result.visible:
            by_period[result.period_key].append(result)
    points = [p for group in by_period.values() if (p := combine(group)) is not None]
    return sorted(points, key=lambda p: p.closes_at)


def sparkline(scores: Sequence[float]) -> str:
    """Draw scores of the 1-5 scale as a text sparkline, one character per score."""
    steps = len(SPARK) - 1
    out = []
    for score in scores:
        clamped = min(SCALE_MAX, max(SCALE_MIN, score))
        out.append(SPARK[round((clamped - SCALE_MIN) / (SCALE_MAX - SCALE_MIN) * steps)])
    return "".join(out)


def trend(points: Sequence[Point]) -> str:
    """Draw the last polls of a trend."""
    return sparkline([p.score for p in points[-TREND_POLLS:]])
