"""Turn a manager's visible pulse results into planner signals: which dimension needs attention.

Only results at or above the threshold count, so a signal can never hint at a small group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from nudges.domain import Dimension, DimensionSignal
from nudges.policy import WorkspacePolicy
from nudges.pulse.groups import keys_led_by
from nudges.pulse.results import Point, PollResult, load_polls, results_of, series
from nudges.store.org import Person, Workspace

# Below this average on the 1-5 scale a dimension needs attention.
LOW_SCORE = 3.0
# Strong enough to win over the planner's rotation in most weeks, not in every one.
FALLING_BOOST = 4.0
LOW_BOOST = 2.0
# Results older than this no longer steer: the dimension is due to be asked again by then.
FRESH_FOR = timedelta(weeks=8)


@dataclass(frozen=True)
class Assessment:
    """What the trend of one dimension says."""

    dimension: Dimension
    points: Sequence[Point]
    falling: bool
    low: bool

    @property
    def boost(self) -> float:
        """Return how much more likely this dimension's nudges become."""
        return (FALLING_BOOST if self.falling else 0.0) + (LOW_BOOST if self.low else 0.0)

    @property
    def reason_key(self) -> str:
        """Return the catalogue key of the reason the nudge will give."""
        why = "falling" if self.falling else "low"
        return f"pulse.reason.{why}.{self.dimension.value}"

    def signal(self) -> DimensionSignal:
        """Return the planner's view of this assessment."""
        return DimensionSignal(self.dimension, self.boost, self.reason_key)


def assess(points: Sequence[Point], dimension: Dimension, now: datetime) -> Assessment | None:
    """Say whether a dimension fell two polls in a row or sits low; None when it is fine."""
    if not points or now - points[-1].closes_at > FRESH_FOR:
        return None
    scores = [p.score for p in points]
    falling = len(scores) >= 3 and scores[-3] > scores[-2] > scores[-1]
    low = scores[-1] < LOW_SCORE
    if not (falling or low):
        return None
    return Assessment(dimension, tuple(points), falling, low)


def assessments(results: Sequence[PollResult], now: datetime) -> list[Assessment]:
    """Assess every dimension of these results, in dimension order."""
    found = []
    for dimension in Dimension:
        # A poll still open has no visible score and so no say yet.
        assessment = assess(series(results, dimension), dimension, now)
        if assessment is not None:
            found.append(assessment)
    return found


async def manager_results(
    session: AsyncSession, workspace: Workspace, manager: Person
) -> list[PollResult]:
    """Return the results of every poll of the groups ``manager`` leads."""
    polls = await load_polls(session, workspace.id, group_keys=keys_led_by(manager.id))
    return await results_of(session, polls, WorkspacePolicy.from_settings(workspace.settings))


async def signals_for(
    session: AsyncSession, workspace: Workspace, manager: Person, now: datetime
) -> list[DimensionSignal]:
    """Return the planner signals from the pulse of ``manager``'s teams."""
    results = await manager_results(session, workspace, manager)
    return [a.signal() for a in assessments(results, now)]
