"""Tell a manager how their team is doing, always behind the anonymity threshold.

Per dimension: the score, its trend, who answered, and the nudge the pulse suggests. The same
lines serve the section under the weekly nudge, the digest as its own message, the App Home and
``pulse results``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.content.catalogue import Catalogue, Nudge, default_catalogue
from nudges.domain import DeliveryKind, DeliveryStatus, Dimension
from nudges.i18n import t
from nudges.messages import Block, Context, Divider, Header, Message, Text
from nudges.people import directory
from nudges.pulse.groups import Group, group_keys_led_by, groups_led_by, keys_led_by
from nudges.pulse.messages import dimension_label, local_moment, rate_text, score_text
from nudges.pulse.planning import eligible
from nudges.pulse.results import PollResult, load_polls, results_of, series, trend
from nudges.pulse.signals import Assessment, assessments
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace

# The workspace setting that sends the digest as a message of its own instead of under the nudge.
SEPARATE_SETTING = "pulse_digest"
SEPARATE = "separate"
DIMENSIONS: tuple[Dimension | None, ...] = (*Dimension, None)


def digest_is_separate(workspace: Workspace) -> bool:
    """Tell whether the workspace wants the digest as its own message."""
    return (workspace.settings or {}).get(SEPARATE_SETTING) == SEPARATE


def result_lines(
    results: Sequence[PollResult], locale: str, now: datetime, zone: ZoneInfo
) -> list[str]:
    """Describe results per dimension: visible ones in full, hidden ones by their count only."""
    lines: list[str] = []
    for poll in results:
        if not poll.closed and now < poll.closes_at:
            moment = local_moment(locale, poll.closes_at, zone)
            lines.append(t(locale, "pulse.digest.open", moment=moment, answered=poll.answered))
    for dimension in DIMENSIONS:
        closed = [r for r in results if r.closed and r.dimension == dimension]
        if not closed:
            continue
        label = dimension_label(locale, dimension)
        points = series(closed, dimension)
        if not points:
            latest = max(closed, key=lambda r: (r.closes_at, r.poll_id))
            lines.append(
                t(
                    locale,
                    "pulse.digest.hidden",
                    dimension=label,
                    answered=latest.answered,
                    threshold=latest.threshold,
                )
            )
            continue
        last = points[-1]
        lines.append(
            t(
                locale,
                "pulse.digest.visible",
                dimension=label,
                score=score_text(locale, last.score),
                trend=trend(points),
                answered=last.answered,
                invited=last.invited,
                rate=rate_text(locale, last.participation),
            )
        )
        # Polls of this dimension that closed below the threshold: their count, nothing more.
        for later in closed:
            if not later.visible and later.closes_at >= last.closes_at:
                lines.append(
                    t(
                        locale,
                        "pulse.digest.latest_hidden",
                        answered=later.answered,
                        threshold=later.threshold,
                    )
                )
    return lines


async def _suggestion(
    session: AsyncSession, catalogue: Catalogue, manager: Person, dimension: Dimension
) -> Nudge | None:
    """Return the dimension's nudge the manager had least recently."""
    candidates = [n for n in catalogue.for_dimension(dimension) if not n.needs_report] or list(
        catalogue.for_dimension(dimension)
    )
    if not candidates:
        return None
    sent = {
        key: value
        for key, value in await session.execute(
            select(Delivery.content_key, func.max(Delivery.sent_at))
            .where(
                Delivery.recipient_id == manager.id,
                Delivery.kind == DeliveryKind.NUDGE.value,
                Delivery.status == DeliveryStatus.SENT.value,
                Delivery.content_key.in_([n.key for n in candidates]),
            )
            .group_by(Delivery.content_key)
        )
    }
    never = datetime.min.replace(tzinfo=UTC)
    order = {n.key: i for i, n in enumerate(candidates)}
    return min(candidates, key=lambda n: (n.key in sent, sent.get(n.key) or never, order[n.key]))


async def suggestion_lines(
    session: AsyncSession,
    catalogue: Catalogue,
    manager: Person,
    found: Sequence[Assessment],
    locale: str,
) -> list[str]:
    """Say, per dimension that needs attention, which nudge would help and why."""
    lines = []
    for assessment in found:
        nudge = await _suggestion(session, catalogue, manager, assessment.dimension)
        if nudge is None:
            continue
        lines.append(
            t(
                locale,
                "pulse.digest.suggestion",
                reason=t(locale, assessment.reason_key),
                title=nudge.text(locale).title,
            )
        )
    return lines


def _too_small(
    groups: Sequence[Group], people: dict[int, Person], threshold: int, locale: str
) -> list[str]:
    lines = []
    for group in groups:
        count = sum(1 for i in group.member_ids if i in people and eligible(people[i]))
        if count < threshold:
            team = t(locale, "pulse.team.named", team=group.team) if group.team else None
            lines.append(
                t(
                    locale,
                    "pulse.digest.too_small",
                    team=team or t(locale, "pulse.team.yours"),
                    threshold=threshold,
                )
            )
    return lines


async def digest_lines(
    session: AsyncSession,
    workspace: Workspace,
    manager: Person,
    locale: str,
    now: datetime,
    catalogue: Catalogue,
    *,
    include_small: bool,
) -> list[str] | None:
    """Return the digest's lines for ``manager``, or None when there is nothing to report."""
    policy = directory.policy_of(workspace)
    polls = await load_polls(session, workspace.id, group_keys=keys_led_by(manager.id))
    # Without polls, only the App Home needs to know whether this person leads a team at all.
    if not polls and not (include_small and await group_keys_led_by(session, manager)):
        return None
    lines: list[str] = []
    if include_small:
        groups = await groups_led_by(session, manager)
        people = {
            p.id: p
            for p in (
                await session.scalars(select(Person).where(Person.workspace_id == workspace.id))
            ).all()
        }
        lines += _too_small(groups, people, policy.anonymity_threshold, locale)
    if not polls:
        return lines
    results = await results_of(session, polls, policy)
    zone = directory.zone_of(workspace, manager)
    lines += result_lines(results, locale, now, zone)
    lines += await suggestion_lines(session, catalogue, manager, assessments(results, now), locale)
    return lines


def _explain(locale: str, workspace: Workspace) -> Context:
    threshold = directory.policy_of(workspace).anonymity_threshold
    return Context(t(locale, "pulse.digest.explain", threshold=threshold))


async def digest_section(
    session: AsyncSession,
    workspace: Workspace,
    manager: Person,
    locale: str,
    now: datetime,
    catalogue: Catalogue,
) -> list[Block]:
    """Return the "How your team is doing" section for under the weekly nudge, or nothing."""
    if not directory.policy_of(workspace).pulse_enabled:
        return []
    lines = await digest_lines(
        session, workspace, manager, locale, now, catalogue, include_small=False
    )
    if not lines:
        return []
    return [
        Divider(),
        Text(f"**{t(locale, 'pulse.digest.title')}**"),
        *(Text(line) for line in lines),
        _explain(locale, workspace),
    ]


async def digest_message(
    session: AsyncSession,
    workspace: Workspace,
    manager: Person,
    locale: str,
    now: datetime,
    catalogue: Catalogue,
    delivery_id: int,
) -> Message | None:
    """Render the digest as a message of its own, or None when there is nothing to report."""
    lines = await digest_lines(
        session, workspace, manager, locale, now, catalogue, include_small=False
    )
    if not lines:
        return None
    blocks: list[Block] = [
        Header(t(locale, "pulse.digest.title")),
        *(Text(line) for line in lines),
        _explain(locale, workspace),
    ]
    return Message(
        fallback=t(locale, "pulse.digest.fallback"),
        blocks=tuple(blocks),
        metadata={"delivery_id": str(delivery_id)},
    )


async def has_digest(session: AsyncSession, workspace: Workspace, manager: Person) -> bool:
    """Tell whether ``manager`` leads a group that was ever polled."""
    return bool(await load_polls(session, workspace.id, group_keys=keys_led_by(manager.id)))


async def team_results_blocks(
    session: AsyncSession,
    workspace: Workspace,
    manager: Person,
    locale: str,
    *,
    now: datetime | None = None,
    catalogue: Catalogue | None = None,
) -> list[Block]:
    """Return the team's pulse for the App Home: empty when ``manager`` leads no team."""
    when = now or datetime.now(UTC)
    lines = await digest_lines(
        session,
        workspace,
        manager,
        locale,
        when,
        catalogue or default_catalogue(),
        include_small=True,
    )
    if lines is None:
        return []
    return [
        Header(t(locale, "pulse.digest.title")),
        *(Text(line) for line in (lines or [t(locale, "pulse.digest.nothing")])),
        _explain(locale, workspace),
    ]
