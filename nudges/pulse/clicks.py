"""Apply clicks on polls' emoji buttons and say, to each clicker alone, what they chose.

Clicks that come close together (a burst after a poll goes out) are recorded together: one
transaction, a handful of statements whatever the number of clicks, and one commit. Each click
still gets its own outcome and note, as if it had been applied alone, in the order it came.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import LargeBinary, case, delete, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.content.catalogue import Catalogue
from nudges.i18n import t
from nudges.messages import Message
from nudges.people import directory
from nudges.pulse import sealing
from nudges.pulse.answers import AnswerOutcome, ButtonValue, is_open
from nudges.pulse.bank import Bank, load_bank
from nudges.pulse.composing import render_poll
from nudges.pulse.messages import emoji, local_moment
from nudges.store.database import Database
from nudges.store.org import Person, Workspace
from nudges.store.outages import is_transient
from nudges.store.pulse import PulseParticipation, PulsePending, PulsePoll

logger = logging.getLogger(__name__)

NOTICES = {
    AnswerOutcome.CLOSED: "pulse.notice.closed",
    AnswerOutcome.NOT_ASKED: "pulse.notice.not_asked",
    AnswerOutcome.LOCKED: "pulse.notice.locked",
    AnswerOutcome.UNKNOWN: "pulse.notice.unknown",
}
# How long the first click of a batch waits for others to join it. Short next to what a person
# notices, long enough that a burst is written in a few transactions instead of one per click.
LINGER_SECONDS = 0.05
# Clicks per transaction at most; keeps every IN list well within the backends' limits.
MAX_BATCH = 250


@dataclass(frozen=True)
class AnswerClick:
    """One click on an answer button, as the platform reported it."""

    platform: str
    workspace_external_id: str
    user_external_id: str
    value: str
    now: datetime
    # The platform's time of the click (epoch seconds), when it says: the newest click wins.
    clicked_at: float | None = None


@dataclass(frozen=True)
class Click:
    """What a click did, the note only the clicker sees, and the poll message to re-render.

    The note is the only place the chosen value is ever shown: platforms show it ephemerally,
    where the bot's token cannot read it back. The poll message itself never shows it.
    ``message`` is the poll as it reads once answered, when this click was the first answer.
    """

    outcome: AnswerOutcome
    notice: str | None = None
    delivery_id: int | None = None
    message: Message | None = None

    @property
    def superseded(self) -> bool:
        """Tell whether a newer click of the person won, so this one shows nothing."""
        return self.outcome is AnswerOutcome.SUPERSEDED

    @property
    def stored(self) -> bool:
        """Tell whether the click recorded or changed an answer."""
        return self.outcome in (AnswerOutcome.RECORDED, AnswerOutcome.CHANGED)


@dataclass(frozen=True)
class _Asked:
    """A click that names an open poll its clicker was asked: it will be stored."""

    workspace: Workspace
    person: Person
    poll: PulsePoll
    participation_id: int
    delivery_id: int | None
    value: int
    clicked_at: float | None


async def apply_click(
    session: AsyncSession,
    catalogue: Catalogue,
    *,
    platform: str,
    workspace_external_id: str,
    user_external_id: str,
    value: str,
    now: datetime,
) -> Click:
    """Record an answer (or a change) from one click and commit it."""
    click = AnswerClick(platform, workspace_external_id, user_external_id, value, now)
    (result,) = await apply_clicks(session, catalogue, [click])
    return result


async def apply_clicks(
    session: AsyncSession, catalogue: Catalogue, clicks: Sequence[AnswerClick]
) -> list[Click]:
    """Record the answers of ``clicks`` in order, in one transaction, and commit it.

    A person's later click in the list replaces their earlier one, as it would one at a time;
    a click older (by the platform's click time) than one stored or in the list is dropped.
    """
    buttons = [ButtonValue.decode(c.value) for c in clicks]
    workspaces = await _workspaces(session, clicks)
    polls = await _polls(session, {b.poll_id for b in buttons if b is not None})
    people = await _people(session, clicks, workspaces)
    participations = await _participations(session, polls, people)

    results: list[Click | None] = [None] * len(clicks)
    asked: dict[int, _Asked] = {}
    for i, (click, button) in enumerate(zip(clicks, buttons, strict=True)):
        workspace = workspaces.get((click.platform, click.workspace_external_id))
        locale = directory.locale_of(workspace) if workspace else "en"
        poll = polls.get(button.poll_id) if button else None
        if button is None or workspace is None or poll is None or poll.workspace_id != workspace.id:
            results[i] = _refused(AnswerOutcome.UNKNOWN, locale)
            continue
        person = people.get((workspace.id, click.user_external_id))
        if person is None:
            results[i] = _refused(AnswerOutcome.NOT_ASKED, locale)
            continue
        locale = directory.locale_of(workspace, person)
        if not is_open(poll, click.now):
            results[i] = _refused(AnswerOutcome.CLOSED, locale)
            continue
        participation = participations.get((poll.id, person.id))
        if participation is None:
            results[i] = _refused(AnswerOutcome.NOT_ASKED, locale)
            continue
        participation_id, _, delivery_id = participation
        asked[i] = _Asked(
            workspace,
            person,
            poll,
            participation_id,
            delivery_id,
            button.value,
            click.clicked_at,
        )

    final, superseded = _newest(clicks, asked)
    first, changed, older = await _store(session, final)
    await session.commit()

    banks: dict[int, Bank] = {}
    recorded: set[int] = set()
    for i, a in asked.items():
        if i in superseded or a.participation_id in older:
            # A newer click of the person was (or is being) applied: this one shows nothing.
            results[i] = Click(AnswerOutcome.SUPERSEDED)
            continue
        if a.participation_id in first and a.participation_id not in recorded:
            recorded.add(a.participation_id)
            outcome = AnswerOutcome.RECORDED
        elif a.participation_id in first or a.participation_id in changed:
            outcome = AnswerOutcome.CHANGED
        else:
            outcome = AnswerOutcome.LOCKED
        locale = directory.locale_of(a.workspace, a.person)
        if outcome is AnswerOutcome.LOCKED:
            results[i] = _refused(outcome, locale)
            continue
        message = None
        if outcome is AnswerOutcome.RECORDED and a.delivery_id is not None:
            message = await _answered_poll(session, catalogue, banks, a, clicks[i].now)
        moment = local_moment(locale, a.poll.closes_at, directory.zone_of(a.workspace, a.person))
        note = t(locale, "pulse.notice.your_answer", emoji=emoji(locale, a.value), moment=moment)
        results[i] = Click(outcome, note, a.delivery_id, message)
    return [r for r in results if r is not None]


def _newest(
    clicks: Sequence[AnswerClick], asked: dict[int, _Asked]
) -> tuple[dict[int, _Asked], set[int]]:
    """Pick each participation's click to store, and the timed clicks a newer one beat.

    The newest by the platform's click time wins; clicks without a time count in the order
    they came, after any timed one.
    """
    winner: dict[int, int] = {}
    for i, a in asked.items():
        best = winner.get(a.participation_id)
        if best is None or _order(clicks[i], i) >= _order(clicks[best], best):
            winner[a.participation_id] = i
    superseded = {
        i
        for i, a in asked.items()
        if clicks[i].clicked_at is not None and winner[a.participation_id] != i
    }
    return {p: asked[i] for p, i in winner.items()}, superseded


def _order(click: AnswerClick, index: int) -> tuple[float, int]:
    return (math.inf if click.clicked_at is None else click.clicked_at, index)


def _refused(outcome: AnswerOutcome, locale: str) -> Click:
    return Click(outcome, t(locale, NOTICES[outcome]))


async def _workspaces(
    session: AsyncSession, clicks: Sequence[AnswerClick]
) -> dict[tuple[str, str], Workspace]:
    wanted: dict[str, set[str]] = defaultdict(set)
    for click in clicks:
        wanted[click.platform].add(click.workspace_external_id)
    found: dict[tuple[str, str], Workspace] = {}
    for platform, ids in wanted.items():
        rows = await session.scalars(
            select(Workspace).where(
                Workspace.platform == platform, Workspace.external_id.in_(sorted(ids))
            )
        )
        found.update({(w.platform, w.external_id): w for w in rows})
    return found


async def _polls(session: AsyncSession, ids: set[int]) -> dict[int, PulsePoll]:
    if not ids:
        return {}
    rows = await session.scalars(select(PulsePoll).where(PulsePoll.id.in_(sorted(ids))))
    return {p.id: p for p in rows}


async def _people(
    session: AsyncSession,
    clicks: Sequence[AnswerClick],
    workspaces: dict[tuple[str, str], Workspace],
) -> dict[tuple[int, str], Person]:
    wanted: dict[int, set[str]] = defaultdict(set)
    for click in clicks:
        workspace = workspaces.get((click.platform, click.workspace_external_id))
        if workspace is not None:
            wanted[workspace.id].add(click.user_external_id)
    found: dict[tuple[int, str], Person] = {}
    for workspace_id, users in wanted.items():
        rows = await session.scalars(
            select(Person).where(
                Person.workspace_id == workspace_id, Person.external_id.in_(sorted(users))
            )
        )
        found.update({(p.workspace_id, p.external_id): p for p in rows})
    return found


async def _participations(
    session: AsyncSession, polls: dict[int, PulsePoll], people: dict[tuple[int, str], Person]
) -> dict[tuple[int, int], tuple[int, bool, int | None]]:
    """Return (id, answered, poll delivery) by (poll, person) for the polls and people clicked."""
    if not polls or not people:
        return {}
    rows = await session.execute(
        select(
            PulseParticipation.poll_id,
            PulseParticipation.person_id,
            PulseParticipation.id,
            PulseParticipation.answered,
            PulseParticipation.delivery_id,
        ).where(
            PulseParticipation.poll_id.in_(sorted(polls)),
            PulseParticipation.person_id.in_(sorted({p.id for p in people.values()})),
        )
    )
    return {(r[0], r[1]): (r[2], bool(r[3]), r[4]) for r in rows}


async def _store(
    session: AsyncSession, final: dict[int, _Asked]
) -> tuple[set[int], set[int], set[int]]:
    """Seal each participation's answer unless a newer click's is stored; the caller commits.

    Return the participations answered for the first time, those changed, and those whose
    stored answer came from a newer click (this one is dropped). The participation rows are
    locked first, in id order, so replicas applying clicks of one person take turns and the
    comparison with the stored click time holds until the commit. One answered before answers
    were sealed (no sealed row) is neither first, changed nor newer.
    """
    if not final:
        return set(), set(), set()
    sealer = sealing.current()
    rows = await session.execute(
        select(PulseParticipation.id, PulseParticipation.answered)
        .where(PulseParticipation.id.in_(sorted(final)))
        .order_by(PulseParticipation.id)
        .with_for_update()
    )
    answered = {pid: bool(flag) for pid, flag in rows.all()}
    first = {p for p in final if not answered.get(p, True)}
    if first:
        await session.execute(
            update(PulseParticipation)
            .where(PulseParticipation.id.in_(sorted(first)))
            .values(answered=True)
            .execution_options(synchronize_session=False)
        )
        # A sealed row left by a lost key would block the insert; the new answer replaces it.
        await session.execute(
            delete(PulsePending).where(PulsePending.participation_id.in_(sorted(first)))
        )
        await session.execute(
            insert(PulsePending),
            [
                {
                    "id": str(uuid.uuid4()),
                    "poll_id": final[p].poll.id,
                    "participation_id": p,
                    "key_id": sealer.key_id,
                    "sealed": _seal(sealer, p, final[p]),
                }
                for p in sorted(first)
            ],
        )
    again = sorted(p for p in final if p not in first and p in answered)
    older: set[int] = set()
    if again:
        stored = await session.execute(
            select(PulsePending.participation_id, PulsePending.sealed).where(
                PulsePending.participation_id.in_(again)
            )
        )
        for p, sealed in stored.all():
            opened = sealer.open_timed(final[p].poll.id, p, sealed)
            kept_at = opened[1] if opened is not None else None
            clicked_at = final[p].clicked_at
            if kept_at is not None and clicked_at is not None and clicked_at < kept_at:
                older.add(p)
        again = [p for p in again if p not in older]
    changed: set[int] = set()
    if again:
        sealed_case = case(
            {p: literal(_seal(sealer, p, final[p]), LargeBinary) for p in again},
            value=PulsePending.participation_id,
        )
        replaced = await session.scalars(
            update(PulsePending)
            .where(PulsePending.participation_id.in_(again))
            .values(key_id=sealer.key_id, sealed=sealed_case)
            .returning(PulsePending.participation_id)
            .execution_options(synchronize_session=False)
        )
        changed = set(replaced.all())
    return first, changed, older


def _seal(sealer: sealing.Sealer, participation_id: int, a: _Asked) -> bytes:
    return sealer.seal(a.poll.id, participation_id, a.value, a.clicked_at)


async def _answered_poll(
    session: AsyncSession, catalogue: Catalogue, banks: dict[int, Bank], a: _Asked, now: datetime
) -> Message | None:
    """Render the poll message as it reads once answered (None: let delivery compose it)."""
    assert a.delivery_id is not None
    bank = banks.get(a.workspace.id)
    if bank is None:
        bank = banks[a.workspace.id] = await load_bank(session, a.workspace.id, catalogue)
    question = bank.find(a.poll.question_key)
    if question is None:
        return None
    text = question.text(directory.locale_of(a.workspace, a.person))
    return render_poll(a.delivery_id, a.poll, text, a.workspace, a.person, now, answered=True)


class ClickBatcher:
    """Record the answers of clicks that come close together in one transaction.

    ``apply`` waits for its own click's outcome. A batch that fails on an outage fails every
    click in it (each is asked to try again); any other failure is retried click by click, so
    one bad click cannot take the others down with it.
    """

    def __init__(
        self,
        db: Database,
        catalogue: Catalogue,
        *,
        linger: float = LINGER_SECONDS,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.db = db
        self.catalogue = catalogue
        self.linger = linger
        self.max_batch = max_batch
        self._waiting: list[tuple[AnswerClick, asyncio.Future[Click]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def apply(self, click: AnswerClick) -> Click:
        """Record ``click`` with whatever others arrive within the linger; return its outcome."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Click] = loop.create_future()
        self._waiting.append((click, future))
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._work())
        return await future

    async def _work(self) -> None:
        try:
            while self._waiting:
                await asyncio.sleep(self.linger)
                batch = self._waiting[: self.max_batch]
                del self._waiting[: self.max_batch]
                # A click whose waiter is gone (shutdown) is not applied at all.
                batch = [(c, f) for c, f in batch if not f.done()]
                if batch:
                    await self._flush(batch)
        except BaseException as exc:
            # Nobody must wait for ever on a click this worker will not apply.
            waiting, self._waiting = self._waiting, []
            _fail([f for _, f in waiting], exc)
            raise

    async def _flush(self, batch: list[tuple[AnswerClick, asyncio.Future[Click]]]) -> None:
        try:
            async with self.db.session() as session:
                results = await apply_clicks(session, self.catalogue, [c for c, _ in batch])
        except Exception as exc:
            if len(batch) > 1 and not is_transient(exc):
                logger.warning(
                    "recording %d pulse answers together failed (%s); one at a time instead",
                    len(batch),
                    type(exc).__name__,
                )
                for item in batch:
                    await self._flush([item])
                return
            _fail([f for _, f in batch], exc)
            return
        except BaseException as exc:
            _fail([f for _, f in batch], exc)
            raise
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


def _fail(futures: list[asyncio.Future[Click]], exc: BaseException) -> None:
    for future in futures:
        if future.done():
            continue
        if isinstance(exc, asyncio.CancelledError):
            future.cancel()
        else:
            future.set_exception(exc)
