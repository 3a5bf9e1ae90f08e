"""Hold a workspace's question bank (shipped, its own, minus retired) and pick the next question.

Dimensions take turns per group, least recently asked first; within a dimension the question is
one that the most members have not yet seen in their current round, so each person sees every
question of a dimension before one repeats.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.content.catalogue import Catalogue
from nudges.domain import DEFAULT_LOCALE, Dimension
from nudges.i18n import normalize_locale
from nudges.messages import typed
from nudges.store.pulse import (
    PulseCustomQuestion,
    PulseParticipation,
    PulsePoll,
    PulseRetiredQuestion,
)

CUSTOM_PREFIX = "own-"
# An admin's own question is asked in the words they typed, whatever the reader's language.
ANY_LOCALE = "*"

Slot = Dimension | None
NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class BankQuestion:
    """One question a poll can ask."""

    key: str
    dimension: Dimension | None
    texts: Mapping[str, str] = field(hash=False)
    custom: bool = False
    retired: bool = False

    def text(self, locale: str) -> str:
        """Return the question in ``locale``, else English, else the admin's own words."""
        lang = normalize_locale(locale) or DEFAULT_LOCALE
        for candidate in (lang, DEFAULT_LOCALE, ANY_LOCALE):
            if candidate in self.texts:
                return self.texts[candidate]
        return next(iter(self.texts.values()))


@dataclass(frozen=True)
class Bank:
    """Every question of one workspace, retired ones included so old polls can still be read."""

    questions: tuple[BankQuestion, ...]

    def find(self, key: str) -> BankQuestion | None:
        """Return the question called ``key`` (retired or not), or None."""
        for question in self.questions:
            if question.key == key:
                return question
        return None

    def active(self) -> list[BankQuestion]:
        """Return the questions still asked."""
        return [q for q in self.questions if not q.retired]

    def active_in(self, slot: Slot) -> list[BankQuestion]:
        """Return the questions still asked about ``slot`` (None: own questions without one)."""
        return [q for q in self.active() if q.dimension == slot]

    def slots(self) -> list[Slot]:
        """Return the dimensions with questions left, then None for own questions without one."""
        dims: list[Slot] = [d for d in Dimension if self.active_in(d)]
        if self.active_in(None):
            dims.append(None)
        return dims


async def load_bank(session: AsyncSession, workspace_id: int, catalogue: Catalogue) -> Bank:
    """Read the workspace's own questions and retirements on top of the shipped bank."""
    retired = set(
        (
            await session.scalars(
                select(PulseRetiredQuestion.question_key).where(
                    PulseRetiredQuestion.workspace_id == workspace_id
                )
            )
        ).all()
    )
    customs = (
        await session.scalars(
            select(PulseCustomQuestion)
            .where(PulseCustomQuestion.workspace_id == workspace_id)
            .order_by(PulseCustomQuestion.id)
        )
    ).all()
    shipped = [
        BankQuestion(q.key, q.dimension, q.texts, retired=q.key in retired)
        for q in catalogue.questions
    ]
    own = [
        BankQuestion(
            c.key,
            Dimension(c.dimension) if c.dimension else None,
            # Asked in the words typed, and shown as typed: never a live mention or link.
            MappingProxyType({ANY_LOCALE: typed(c.text)}),
            custom=True,
            retired=c.key in retired,
        )
        for c in customs
    ]
    return Bank(tuple(shipped + own))


async def next_custom_key(session: AsyncSession, workspace_id: int) -> str:
    """Return the key for the workspace's next own question: own-1, own-2, ..."""
    count = await session.scalar(
        select(func.count())
        .select_from(PulseCustomQuestion)
        .where(PulseCustomQuestion.workspace_id == workspace_id)
    )
    return f"{CUSTOM_PREFIX}{int(count or 0) + 1}"


def _slots_in_turn(bank: Bank, last_asked: Mapping[Slot, datetime]) -> list[Slot]:
    slots = bank.slots()
    order = {slot: index for index, slot in enumerate(slots)}
    # Never asked comes first; then the one asked longest ago; the bank's order breaks ties.
    return sorted(slots, key=lambda s: (s in last_asked, last_asked.get(s, NEVER), order[s]))


def _pick(
    candidates: Sequence[BankQuestion], seen: Mapping[int, Counter[str]], members: Sequence[int]
) -> BankQuestion:
    keys = [q.key for q in candidates]
    fresh: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for member in members:
        counts = seen.get(member, Counter())
        # A member's current round holds the questions they have seen least often.
        least = min(counts[k] for k in keys)
        for key in keys:
            total[key] += counts[key]
            if counts[key] == least:
                fresh[key] += 1
    order = {key: index for index, key in enumerate(keys)}
    best = min(keys, key=lambda k: (-fresh[k], total[k], order[k]))
    return candidates[order[best]]


async def choose_question(
    session: AsyncSession,
    bank: Bank,
    workspace_id: int,
    group_key: str,
    member_ids: Sequence[int],
) -> BankQuestion | None:
    """Pick the question for a group's next poll, or None when the bank is empty."""
    history = await session.execute(
        select(PulsePoll.dimension, func.max(PulsePoll.opened_at))
        .where(PulsePoll.workspace_id == workspace_id, PulsePoll.group_key == group_key)
        .group_by(PulsePoll.dimension)
    )
    last_asked: dict[Slot, datetime] = {}
    for dimension, opened in history:
        if dimension is None or dimension in Dimension.__members__.values():
            last_asked[Dimension(dimension) if dimension else None] = opened
    turn = _slots_in_turn(bank, last_asked)
    if not turn:
        return None
    candidates = bank.active_in(turn[0])
    seen: dict[int, Counter[str]] = defaultdict(Counter)
    if member_ids:
        rows = await session.execute(
            select(PulseParticipation.person_id, PulsePoll.question_key)
            .join(PulsePoll, PulsePoll.id == PulseParticipation.poll_id)
            .where(PulseParticipation.person_id.in_(list(member_ids)))
        )
        for person_id, question_key in rows:
            seen[person_id][question_key] += 1
    return _pick(candidates, seen, member_ids)
