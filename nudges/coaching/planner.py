"""Choose each manager's nudge for an occurrence, and say why in one line.

The planner is a pure function of what it is handed, so ``nudgebot preview`` and the real
dispatcher make the same choices, and tests need no database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from nudges.content.catalogue import Catalogue, Nudge
from nudges.domain import DimensionSignal, Kind, NudgeState
from nudges.i18n import t

# A kind never sent counts as this many weeks ago, so fresh kinds come up early.
NEVER_WEEKS = 26
# Each "Not relevant" halves how likely that kind is for that manager.
NOT_RELEVANT_FACTOR = 0.5
# The coffee check-in is the product's signature; it comes up a little more often.
COFFEE_FACTOR = 1.5


@dataclass(frozen=True)
class ReportInfo:
    """A team member the manager can be nudged about."""

    person_id: int
    external_id: str
    last_checkin: datetime | None
    # Whether they work on the day the nudge lands: only then can the manager act on it.
    working: bool = True


@dataclass(frozen=True)
class PastNudge:
    """A nudge the manager already received."""

    content_key: str
    kind: Kind
    sent_at: datetime
    outcome: str | None = None


@dataclass(frozen=True)
class PlannerInput:
    """Everything the planner needs to know about one manager."""

    manager_id: int
    today: date
    reports: Sequence[ReportInfo] = ()
    history: Sequence[PastNudge] = ()
    enabled_kinds: frozenset[Kind] | None = None
    programme: str | None = None
    programme_started_on: date | None = None
    repeat_window_weeks: int = 8
    signals: Sequence[DimensionSignal] = ()


@dataclass(frozen=True)
class Choice:
    """The chosen nudge, who it is about, and the reason as a catalogue key with parameters."""

    nudge_key: str
    kind: Kind
    subject_id: int | None
    subject_external_id: str | None
    reason_key: str
    reason_params: Mapping[str, str | int]

    def explain(self, locale: str) -> str:
        """Render the reason as one line."""
        return t(locale, self.reason_key, **self.reason_params)


def _weeks_between(earlier: datetime, later: datetime) -> int:
    return max(0, (later - earlier).days // 7)


def _tiebreak(seed: str, key: str) -> str:
    # Stable across runs and processes (unlike hash()), so previews match real sends.
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def _programme_choice(inp: PlannerInput, catalogue: Catalogue) -> Choice | None:
    if not inp.programme or inp.programme_started_on is None:
        return None
    try:
        programme = catalogue.programme(inp.programme)
    except KeyError:
        return None
    current_week = (inp.today - inp.programme_started_on).days // 7 + 1
    sent = {p.content_key for p in inp.history}
    for week, key in enumerate(programme.weeks, start=1):
        if week > current_week:
            break
        if key not in sent:
            nudge = catalogue.nudge(key)
            return Choice(
                nudge.key,
                nudge.kind,
                None,
                None,
                "planner.reason.programme",
                {"week": week, "weeks": len(programme.weeks)},
            )
    return None


def _next_report(inp: PlannerInput) -> ReportInfo | None:
    working = [r for r in inp.reports if r.working]
    if not working:
        return None
    # Never-contacted people first, then the longest ago; ids keep the order stable.
    return min(
        working,
        key=lambda r: (r.last_checkin is not None, r.last_checkin or datetime.min, r.person_id),
    )


def choose(inp: PlannerInput, catalogue: Catalogue, now: datetime) -> Choice | None:
    """Pick the nudge for this occurrence, or None when nothing fits."""
    programme = _programme_choice(inp, catalogue)
    if programme is not None:
        return programme

    window_start = now - timedelta(weeks=inp.repeat_window_weeks)
    recent_keys = {p.content_key for p in inp.history if p.sent_at >= window_start}
    last_by_kind: dict[Kind, datetime] = {}
    last_by_key: dict[str, datetime] = {}
    not_relevant: dict[Kind, int] = {}
    for past in inp.history:
        if past.kind not in last_by_kind or past.sent_at > last_by_kind[past.kind]:
            last_by_kind[past.kind] = past.sent_at
        if past.content_key not in last_by_key or past.sent_at > last_by_key[past.content_key]:
            last_by_key[past.content_key] = past.sent_at
        if past.outcome == NudgeState.NOT_RELEVANT:
            not_relevant[past.kind] = not_relevant.get(past.kind, 0) + 1

    eligible = [
        n
        for n in catalogue.nudges
        if not n.programme_only
        and (inp.enabled_kinds is None or n.kind in inp.enabled_kinds)
        and (not n.needs_report or any(r.working for r in inp.reports))
    ]
    if not eligible:
        return None
    fresh = [n for n in eligible if n.key not in recent_keys]
    # Everything was used within the window: fall back to what was sent longest ago.
    pool = fresh or sorted(eligible, key=lambda n: last_by_key.get(n.key, datetime.min))[:3]

    signal_by_dim = {s.dimension: s for s in inp.signals}
    seed = f"{inp.manager_id}:{inp.today.isoformat()}"

    def score(n: Nudge) -> tuple[float, str]:
        last = last_by_kind.get(n.kind)
        weeks = NEVER_WEEKS if last is None else min(NEVER_WEEKS, _weeks_between(last, now))
        value = float(weeks + 1)
        value *= NOT_RELEVANT_FACTOR ** not_relevant.get(n.kind, 0)
        if n.kind is Kind.COFFEE_CHECKIN:
            value *= COFFEE_FACTOR
        signal = signal_by_dim.get(n.dimension)
        if signal is not None:
            value *= 1.0 + signal.boost
        return (value, _tiebreak(seed, n.key))

    best = max(pool, key=score)
    subject = _next_report(inp) if best.needs_report else None
    signal = signal_by_dim.get(best.dimension)
    if signal is not None and signal.boost > 0:
        return Choice(
            best.key,
            best.kind,
            subject.person_id if subject else None,
            subject.external_id if subject else None,
            signal.reason_key,
            dict(signal.reason_params),
        )
    if subject is not None:
        # When some reports are off that day, the reason says the one named is working.
        working = "_working" if not all(r.working for r in inp.reports) else ""
        if subject.last_checkin is None:
            return Choice(
                best.key,
                best.kind,
                subject.person_id,
                subject.external_id,
                f"planner.reason.member_first{working}",
                {"member": subject.external_id},
            )
        return Choice(
            best.key,
            best.kind,
            subject.person_id,
            subject.external_id,
            f"planner.reason.member_next{working}",
            {"member": subject.external_id, "weeks": _weeks_between(subject.last_checkin, now)},
        )
    last = last_by_kind.get(best.kind)
    if last is None:
        return Choice(
            best.key, best.kind, None, None, "planner.reason.kind_new", {"kind": best.kind.value}
        )
    return Choice(
        best.key,
        best.kind,
        None,
        None,
        "planner.reason.kind_rotation",
        {"kind": best.kind.value, "weeks": _weeks_between(last, now)},
    )
