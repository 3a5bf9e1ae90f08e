"""Read the admins' dashboard in a real browser, served by the real `nudgebot serve`.

The sandbox seeds its demo organisation with weeks of past played by the real scheduler, so
headless Chromium finds charts the moment the dashboard first opens.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from bot.sandbox import demo
from nudges.store.database import Database
from nudges.store.pulse import PulseAnswer
from tests.browser.conftest import Served, serve, wait_until_left
from tests.browser.glyphs import missing_glyphs
from tests.browser.test_sandbox_browser import _requests

SIGNIN = re.compile(r"https?://[^\s/]+/dashboard/signin\?token=[A-Za-z0-9_\-=]+")
# The service's own address as the page and its links name it.
LOCAL_HOSTS = ("127.0.0.1", "localhost")


@pytest.fixture
def served(tmp_path: Path, db: Database, database_url: str) -> Iterator[Served]:
    yield from serve(tmp_path, database_url)


def _get(url: str, timeout: float = 60) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body: bytes = response.read()
    return body.decode()


def _saved(folder: Path) -> int:
    return len(list(folder.glob("*.png")))


def _wait_loaded(driver: WebDriver) -> None:
    WebDriverWait(driver, 60).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def _dots(driver: WebDriver) -> dict[tuple[str, str], list[str]]:
    """Read every chart's dots: (team, dimension) -> the data-score of each dot, in order."""
    found: dict[tuple[str, str], list[str]] = {}
    for section in driver.find_elements(By.CSS_SELECTOR, "section.team[data-team]"):
        team = str(section.get_attribute("data-team"))
        for figure in section.find_elements(By.CSS_SELECTOR, "figure[data-dimension]"):
            scores = [
                str(dot.get_attribute("data-score"))
                for dot in figure.find_elements(By.CSS_SELECTOR, "circle.dot[data-score]")
            ]
            if scores:
                found[(team, str(figure.get_attribute("data-dimension")))] = scores
    return found


def _data_points(data: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    return {
        (team["key"], trend["dimension"]): [f"{p['score']:.2f}" for p in trend["points"]]
        for team in data["teams"]
        for trend in team["trends"]
        if trend["points"]
    }


async def test_the_dashboard_shows_the_seeded_past_with_names_on_first_open(
    served: Served, chromium: WebDriver, artifacts: Path, db: Database
) -> None:
    port = urlsplit(served.base).port
    shots = 0

    def shot(name: str) -> None:
        nonlocal shots
        shots += 1
        chromium.save_screenshot(str(artifacts / f"{shots:02d}-{name}.png"))
        # What the screenshot shows has a glyph for every character: no box anywhere.
        assert missing_glyphs(chromium) == [], name

    # The first request waits while the sandbox plays its past weeks.
    _get(f"{served.base}/?as={demo.ADMIN}", timeout=300)
    # Served on 127.0.0.1, the dashboard opens for this machine without a sign-in link.
    chromium.get(f"{served.base}/dashboard?lang=en")
    _wait_loaded(chromium)
    assert chromium.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert "Team results" in chromium.title
    shot("dashboard-en")

    shown = _dots(chromium)
    data = json.loads(_get(f"{served.base}/dashboard/data.json"))
    # Every dot the browser drew is a figure of the data endpoint, and nothing more.
    assert shown == _data_points(data)
    # On first open both demo teams already show a trend of several closed polls.
    teams = {team for team, _ in shown}
    assert teams == {"team:Harbour", "team:Lighthouse"}, shown
    assert all(len(scores) >= 2 for scores in shown.values()), shown
    body = chromium.find_element(By.TAG_NAME, "main").text
    assert "No poll of this team has closed yet." not in body
    assert "Managers: Sam Okafor" in body and "Managers: Ilse Brandsma" in body
    assert "Showing workspace Nudgebot sandbox (sandbox)." in body
    async with db.session() as session:
        stored = list((await session.scalars(select(PulseAnswer.value))).all())
    # Scores come from answers the real click path stored while the past was played.
    assert stored and all(1 <= value <= 5 for value in stored)

    # Switch to Dutch with the page's own link: the same figures, in Dutch.
    page = chromium.find_element(By.TAG_NAME, "html")
    chromium.find_element(By.CSS_SELECTOR, 'nav a[lang="nl"]').click()
    wait_until_left(chromium, page)
    _wait_loaded(chromium)
    assert chromium.find_element(By.TAG_NAME, "html").get_attribute("lang") == "nl"
    assert "Teamresultaten" in chromium.title
    assert _dots(chromium) == shown
    shot("dashboard-nl")

    # A phone-sized window still shows the chart.
    chromium.set_window_size(390, 844)
    chromium.refresh()
    _wait_loaded(chromium)
    assert chromium.find_element(By.CSS_SELECTOR, "circle.dot").is_displayed()
    shot("dashboard-phone")

    # The admin types `dashboard` in the sandbox and follows the sign-in link it answers with.
    chromium.set_window_size(1280, 1000)
    chromium.get(f"{served.base}/?as={demo.ADMIN}&view=chat")
    _wait_loaded(chromium)
    field = chromium.find_element(By.ID, "command-text")
    field.clear()
    field.send_keys("/nudges dashboard")
    page = chromium.find_element(By.TAG_NAME, "html")
    chromium.find_element(By.CSS_SELECTOR, "#command button").click()
    wait_until_left(chromium, page)
    _wait_loaded(chromium)
    replies = chromium.find_elements(By.CSS_SELECTOR, '.entry[data-kind="reply"]')
    found = SIGNIN.search(replies[-1].text)
    assert found is not None, replies[-1].text
    shot("sandbox-command")
    link = urlsplit(found.group(0))
    assert (link.hostname, link.port) in {(host, port) for host in LOCAL_HOSTS}
    chromium.get(found.group(0))
    _wait_loaded(chromium)
    assert urlsplit(chromium.current_url).path == "/dashboard"
    assert _dots(chromium) == shown
    shot("signed-in")

    # Nothing the pages asked for left this machine.
    urls = _requests(chromium)
    assert any(urlsplit(u).path == "/dashboard" for u in urls)
    outside = [
        u
        for u in urls
        if urlsplit(u).scheme not in ("data", "about")
        and (urlsplit(u).hostname, urlsplit(u).port) not in {(h, port) for h in LOCAL_HOSTS}
    ]
    assert outside == []
    assert _saved(artifacts) == shots == 5
