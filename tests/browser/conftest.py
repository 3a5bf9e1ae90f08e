"""Start the real `nudgebot serve` with the sandbox on, and drive it with headless Chromium."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import BACKEND
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser" / BACKEND


def _gone(element: WebElement) -> bool:
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        # While the old page is torn down ChromeDriver may answer with an inspector error
        # about the node instead of "stale element": the page is gone all the same.
        if "belong to the document" in str(exc) or "No node with given id" in str(exc):
            return True
        raise
    return False


def wait_until_left(driver: WebDriver, page: WebElement, timeout: float = 60) -> None:
    """Wait until the browser has left the page ``page`` (its ``html`` element) belonged to."""
    WebDriverWait(driver, timeout).until(lambda _d: _gone(page))


@dataclass
class Served:
    """A running `nudgebot serve` process and where it answers."""

    base: str
    process: subprocess.Popen[str]
    log: Path


def _wait_healthy(served: Served) -> None:
    for _ in range(300):
        if served.process.poll() is not None:
            raise AssertionError("nudgebot serve exited early:\n" + served.log.read_text())
        try:
            with urllib.request.urlopen(f"{served.base}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("nudgebot serve never became healthy:\n" + served.log.read_text())


def serve(tmp_path: Path, database_url: str) -> Iterator[Served]:
    """Run `nudgebot serve` with no platform configured, so the sandbox is on by itself."""
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "MICROSOFT_", "TEAMS_", "NUDGEBOT_"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        HOST="127.0.0.1",
        PORT=str(port),
        DATABASE_URL=database_url,
        TICK_SECONDS="3600",
    )
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    served = Served(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_healthy(served)
        yield served
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def chromium() -> Iterator[webdriver.Chrome]:
    """Start headless Chromium (Debian's chromium and chromium-driver) with a network log."""
    binary, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if binary is None or driver_path is None:
        pytest.fail("chromium and chromedriver are missing: run scripts/ensure-browser")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--lang=en-GB",
    ):
        options.add_argument(flag)
    # Every request the page makes lands in the performance log, to check none leaves the host.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """Return (and empty) the folder for this test's screenshots."""
    folder = ARTIFACTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
