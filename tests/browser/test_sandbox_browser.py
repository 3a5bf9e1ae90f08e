"""Try the whole product in a real browser: the sandbox served by the real `nudgebot serve`."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from selenium.common.exceptions import NoSuchElementException
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import func, select

from nudges.domain import CommitmentState, DeliveryKind
from nudges.i18n import t
from nudges.store.commitments import Commitment
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.pulse import PulseAnswer, PulseParticipation, PulsePending, PulsePoll
from tests.browser.conftest import Served, serve, wait_until_left
from tests.browser.glyphs import missing_glyphs

# Each jump must bring what it is waiting for within this many days, holidays included.
MAX_DAYS = 8


@pytest.fixture
def served(tmp_path: Path, db: Database, database_url: str) -> Iterator[Served]:
    yield from serve(tmp_path, database_url)


class Sandbox:
    """Drive the sandbox page as a person would, with a screenshot after every step."""

    def __init__(self, driver: WebDriver, base: str, folder: Path) -> None:
        self.driver = driver
        self.base = base
        self.folder = folder
        self.shots = 0

    def shot(self, name: str) -> None:
        self.shots += 1
        self.driver.save_screenshot(str(self.folder / f"{self.shots:02d}-{name}.png"))
        # What the screenshot shows has a glyph for every character: no box anywhere.
        assert missing_glyphs(self.driver) == [], name

    def saved(self) -> int:
        return len(list(self.folder.glob("*.png")))

    def open(self, person: str = "sb-admin", view: str = "chat") -> None:
        self.driver.get(f"{self.base}/?as={person}&view={view}")
        self._ready()

    def _ready(self) -> None:
        WebDriverWait(self.driver, 60).until(
            lambda d: d.execute_script("return document.readyState") == "complete"
        )

    def submit(self, element: WebElement) -> None:
        """Click a button that posts a form, and wait for the page it leads to."""
        page = self.driver.find_element(By.TAG_NAME, "html")
        element.click()
        wait_until_left(self.driver, page, 120)
        self._ready()

    def pick(self, person: str) -> None:
        link = self.driver.find_element(By.CSS_SELECTOR, f'a[data-person="{person}"]')
        page = self.driver.find_element(By.TAG_NAME, "html")
        link.click()
        wait_until_left(self.driver, page)
        self._ready()

    def buttons(self, action: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, f'.chat button[data-action="{action}"]')

    def clock(self, step: str) -> None:
        self.submit(self.driver.find_element(By.ID, f"clock-{step}"))

    def until(self, person: str, action: str) -> list[WebElement]:
        """Move the clock a day at a time until ``person`` has a button ``action``."""
        for _ in range(MAX_DAYS):
            self.pick(person)
            found = self.buttons(action)
            if found:
                return found
            self.clock("plus_day")
        raise AssertionError(f"{person} never got a {action} button")

    def text(self, css: str) -> str:
        return self.driver.find_element(By.CSS_SELECTOR, css).text


def _status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=300) as response:
        return int(response.status)


async def _counts(db: Database) -> dict[str, int]:
    """Count what the steps below change, to compare with the seeded past."""
    async with db.session() as session:
        counts = {
            "done_nudges": await session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.kind == DeliveryKind.NUDGE.value, Delivery.outcome == "done")
            ),
            "followups": await session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.kind == DeliveryKind.FOLLOWUP.value, Delivery.status == "sent")
            ),
            "sealed": await session.scalar(select(func.count()).select_from(PulsePending)),
            # Answers in the clear that belong to a poll still open: there must never be any.
            "clear_open": await session.scalar(
                select(func.count())
                .select_from(PulseAnswer)
                .join(PulsePoll, PulsePoll.id == PulseAnswer.poll_id)
                .where(PulsePoll.closed.is_(False))
            ),
            "open_polls": await session.scalar(
                select(func.count()).select_from(PulsePoll).where(PulsePoll.closed.is_(False))
            ),
        }
    return {key: int(value or 0) for key, value in counts.items()}


def _requests(driver: WebDriver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


async def test_the_whole_product_in_the_sandbox(
    served: Served, chromium: WebDriver, artifacts: Path, db: Database
) -> None:
    sb = Sandbox(chromium, served.base, artifacts)
    # The first request waits while the sandbox plays its past weeks.
    assert await asyncio.to_thread(_status, f"{served.base}/?as=sb-admin") == 200
    before = await _counts(db)
    sb.open()
    # The seeded past is in the managers' chats from the start.
    sb.open("sb-sam")
    assert chromium.find_elements(By.CSS_SELECTOR, '.entry[data-kind="bot"]')
    sb.shot("seeded-chat")
    sb.open()
    assert "Nudgebot sandbox" in chromium.title
    assert "drives the whole service" in sb.text(".clock")
    sb.shot("open")

    # The admin types a command and gets the real reply.
    field = chromium.find_element(By.ID, "command-text")
    field.clear()
    field.send_keys("/nudges status")
    sb.submit(chromium.find_element(By.CSS_SELECTOR, "#command button"))
    replies = chromium.find_elements(By.CSS_SELECTOR, '.entry[data-kind="reply"]')
    assert replies and "/nudges status" in sb.text('.entry[data-kind="you"]')
    sb.shot("command")

    # Tuesday 10:00: the managers' nudges arrive; Sam clicks Done.
    sb.clock("next_tuesday")
    assert "It is now" in sb.text(".flash")
    done = sb.until("sb-sam", "nudge.done")
    sb.shot("nudge")
    sb.submit(done[-1])
    assert chromium.find_elements(By.CSS_SELECTOR, '.chat svg.icon[aria-label="✅"]')
    sb.shot("done")

    # Ilse notes a commitment for tomorrow in the form the button opens.
    note = sb.until("sb-ilse", "nudge.note_commitment")
    sb.submit(note[-1])
    form = chromium.find_element(By.ID, "open-form")
    due_field = form.find_element(By.ID, "f-commitment_due")
    proposed = date.fromisoformat(str(due_field.get_attribute("value")))
    due = proposed - timedelta(days=6)  # the form proposes a week from today
    form.find_element(By.ID, "f-commitment_text").send_keys("Ask <b>Mei</b> about her plans")
    chromium.execute_script("arguments[0].value = arguments[1]", due_field, due.isoformat())
    sb.shot("commitment-form")
    sb.submit(form.find_element(By.CSS_SELECTOR, 'button[name="submit"]'))
    with pytest.raises(NoSuchElementException):
        chromium.find_element(By.ID, "open-form")
    sb.shot("commitment-saved")

    # On the due day the follow-up asks whether it happened.
    # (The seeded past may have a follow-up of its own in Ilse's chat: wait for hers.)
    for _ in range(MAX_DAYS):
        sb.pick("sb-ilse")
        if "Ask <b>Mei</b> about her plans" in sb.text(".chat") and sb.buttons("followup.done"):
            break
        sb.clock("plus_day")
    assert "Ask <b>Mei</b> about her plans" in sb.text(".chat")
    sb.shot("follow-up")

    # A team member answers the pulse, then changes the answer. The sandbox clock runs on in
    # real time after a move, so a poll may close between the page and the click (the store
    # says so, and nothing is recorded): then the next poll is answered.
    closed = t("en", "pulse.notice.closed")
    for _ in range(3):
        answers = sb.until("sb-lars", "pulse.answer")
        sb.submit(answers[0])
        if closed not in chromium.find_elements(By.CSS_SELECTOR, ".chat .entry")[-1].text:
            break
        sb.clock("plus_day")
    sb.shot("pulse-answered")
    sb.submit(sb.buttons("pulse.answer")[4])
    sb.shot("pulse-changed")

    after = await _counts(db)
    async with db.session() as session:
        commitment = await session.scalar(
            select(Commitment).where(Commitment.text == "Ask <b>Mei</b> about her plans")
        )
    assert after["done_nudges"] - before["done_nudges"] == 1
    assert commitment is not None
    assert commitment.due_on == due and commitment.state == CommitmentState.OPEN.value
    # Ilse's, and the seeded past's open commitment may fall due on the way too.
    assert after["followups"] - before["followups"] >= 1
    # Open polls keep answers sealed: nothing in the clear while a poll is open.
    assert after["sealed"] >= 1
    assert before["clear_open"] == after["clear_open"] == 0

    # Close the poll now, then the manager opens Home with the digest.
    sb.clock("close_poll")
    async with db.session() as session:
        open_polls = await session.scalar(
            select(func.count()).select_from(PulsePoll).where(PulsePoll.closed.is_(False))
        )
        values = (await session.scalars(select(PulseAnswer.value))).all()
        answered = await session.scalar(
            select(func.count())
            .select_from(PulseParticipation)
            .where(PulseParticipation.answered.is_(True))
        )
    # The poll Lars answered closed (an earlier open one too, if any): fewer open polls.
    assert open_polls < after["open_polls"]
    assert values and answered
    sb.open("sb-sam", "home")
    assert chromium.find_element(By.ID, "home").text
    sb.shot("home")

    # Nothing the page did left this machine.
    urls = _requests(chromium)
    assert urls
    outside = [
        u
        for u in urls
        if urlsplit(u).scheme not in ("data", "about") and not u.startswith(served.base)
    ]
    assert outside == []
    assert sb.saved() == sb.shots
