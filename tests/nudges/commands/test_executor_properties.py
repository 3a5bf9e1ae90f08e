from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nudges.i18n import t
from nudges.store.database import Database
from tests.nudges.commands.conftest import ADMIN, Harness, build_harness, clear, snapshot
from tests.nudges.commands.test_executor_permissions import ADMIN_COMMANDS

# Words of the grammar, good and bad values, and the odd things chat platforms send.
_WORDS = """
help status cadence kinds team pause resume timezone tz language country blackout
budget admins admin test send-now sendnow pulse me schedule now off on threshold
results ask questions retire programme join leave empathic-listening optout optin
opt out in add remove rm list show until tot workspace weekly biweekly monthly
weekdays mon tue fri sat zondag first last fifth 10:00 25:00 9 7pm 16:30 08:00
2026-12-28 2026-11-23 2020-01-01 2027-02-30 31-12-2026 2w 10d 400d 0 1 3 5 99
nl en english de NL BE XX Europe/Amsterdam America/New_York new york all , ?
coffee-checkin listening empathy clarity heard /nudges hulp
"""
TOKENS = [
    *_WORDS.split(),
    "<@UMGR>",
    "<@UA|anna>",
    "<@UB>",
    "<@UNEW>",
    "<@UADMIN>",
    "<@U\x00X>",
    "<@" + "U" * 140 + ">",
    "@anna",
    "#Platform",
    '#"Team Blue"',
    "#" + "t" * 120,
    "<#C1|general>",
    "<!channel>",
    '"quoted text"',
    "'single'",
    "“curly”",
    '"',
]

VALID = [
    *ADMIN_COMMANDS,
    "status <@UA>",
    "cadence #Platform monthly last fri 16:30",
    "cadence <@UNEW> weekdays 09:00",
    "kinds <@UMGR> coffee-checkin,listening",
    "pause <@UA> until 2026-12-24",
    "admins remove <@UA>",
    "me status",
    "me pause 2w",
    "me resume",
    "me language nl",
    "me language en",
    "me timezone Asia/Tokyo",
    "me kinds listening",
    "me programme join empathic-listening",
    "me programme leave empathic-listening",
    "me optout",
    "me optin",
    "help me",
]

soups = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=7).map(" ".join)
texts = st.one_of(
    soups,
    st.text(max_size=60),
    st.tuples(soups, st.text(max_size=12)).map(" ".join),
    st.sampled_from(VALID),
    st.tuples(st.sampled_from(VALID), st.sampled_from(TOKENS)).map(" ".join),
)
INTERNAL = t("en", "replies.common.internal")


def test_no_text_raises_and_a_failed_command_changes_nothing(database_url: str) -> None:
    with asyncio.Runner() as runner:
        db = Database(database_url)
        try:
            runner.run(clear(db))
            harness = runner.run(build_harness(db))
            seen = {"ok": 0, "failed": 0}

            async def one(h: Harness, text: str) -> None:
                before = await snapshot(h.db)
                reply = await h.service.run(ADMIN, text, prefix="/nudges ", is_platform_admin=True)
                assert isinstance(reply.text, str) and reply.text.strip()
                assert reply.text != INTERNAL, text
                if reply.ok:
                    seen["ok"] += 1
                else:
                    seen["failed"] += 1
                    assert await snapshot(h.db) == before, text

            @settings(
                max_examples=400,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
                database=None,
            )
            @given(text=texts)
            def check(text: str) -> None:
                runner.run(one(harness, text))

            check()
            # Both branches were exercised, not just the parse errors.
            assert seen["ok"] > 10 and seen["failed"] > 10, seen
        finally:
            runner.run(db.dispose())
