"""The web pages in a real headless Debian chromium (selenium + /usr/bin/chromedriver) against a real uvicorn
server on 127.0.0.1 over a real SQLite store: pages load and are styled, filters work, a correction
round-trips.

Skips (with the reason) when chromium or chromedriver is not installed: ``apt-get install chromium
chromium-driver``. Override the paths with MEDIAWATCH_CHROMIUM / MEDIAWATCH_CHROMEDRIVER.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest
from liveserver import LiveServer
from webdata import NOW, QStore, item_id, open_filled

from mediawatch.settings import Settings
from mediawatch.web import create_app

CHROMIUM = os.environ.get("MEDIAWATCH_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("MEDIAWATCH_CHROMEDRIVER", "/usr/bin/chromedriver")
TOKEN = "s3cret-editor-token"

pytestmark = pytest.mark.slow

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        pytest.skip(
            f"browser test needs Debian chromium and chromedriver; missing: {', '.join(missing)} "
            "(apt-get install chromium chromium-driver)"
        )
    options = Options()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--disable-extensions",
        "--window-size=1200,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    except WebDriverException as exc:
        pytest.skip(f"chromium did not start through {CHROMEDRIVER}: {exc.msg}")
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[QStore]:
    s = open_filled(tmp_path / "browser.db")
    yield s
    s.close()


@pytest.fixture
def live(store: QStore, tmp_path: Path) -> Iterator[LiveServer]:
    app = create_app(store, Settings(editor_token=TOKEN), digests_dir=tmp_path / "digests", clock=lambda: NOW)
    with LiveServer(lambda _port: app) as server:
        yield server


def navigate(driver: Any, element: Any) -> None:
    """Click something that loads a new page, and wait until the new page has loaded."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    wait = WebDriverWait(driver, 20)
    wait.until(lambda _d: _is_gone(old))
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def _is_gone(element: Any) -> bool:
    """Whether the old page's element is detached. Besides StaleElementReferenceException, ChromeDriver
    sometimes answers "unhandled inspector error: No node with given id" for a node of a page being
    replaced (seen once in a full run); both mean the old page is gone."""
    try:
        element.is_enabled()
    except WebDriverException:
        return True
    return False


def listed(driver: Any) -> list[str]:
    return [li.get_attribute("data-id") for li in driver.find_elements(By.CSS_SELECTOR, "ul#items li.item")]


def console_problems(driver: Any) -> list[str]:
    """Console errors, CSP refusals included (a wrong style hash would show up here)."""
    return [
        e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE" or "Refused" in e["message"]
    ]


def test_pages_load_and_filters_work(browser: Any, live: LiveServer) -> None:
    browser.get(live.url + "/")
    assert browser.title == "Latest relevant items · mediawatch"
    assert listed(browser) == [item_id(n) for n in (1, 2, 3, 5, 4, 9, 8)]
    header = browser.find_element(By.CSS_SELECTOR, "header.site")
    assert header.value_of_css_property("display") == "flex"  # the inline stylesheet applied under the CSP
    Select(browser.find_element(By.ID, "f-topic")).select_by_value("festivals")
    navigate(browser, browser.find_element(By.ID, "f-apply"))
    assert "topic=festivals" in browser.current_url
    assert listed(browser) == [item_id(n) for n in (1, 2, 3, 9, 8)]
    for li in browser.find_elements(By.CSS_SELECTOR, "ul#items li.item"):
        assert "Festivals" in [a.text for a in li.find_elements(By.CSS_SELECTOR, "a.tag.topic")]
    Select(browser.find_element(By.ID, "f-country")).select_by_value("MN")
    navigate(browser, browser.find_element(By.ID, "f-apply"))
    assert listed(browser) == [item_id(n) for n in (1, 2, 8)]
    subscribe = browser.find_element(By.LINK_TEXT, "Atom").get_attribute("href")
    assert subscribe == live.url + "/feeds/topics/festivals/countries/MN.atom"
    browser.find_element(By.ID, "f-q").send_keys("ölgii")
    navigate(browser, browser.find_element(By.ID, "f-apply"))
    assert listed(browser) == [item_id(1)]
    for path, heading in (
        ("/sources", "Sources"),
        ("/digests", "Weekly digests"),
        ("/feeds", "Subscriber feeds"),
        ("/stories/st-item002", "Story: Баян-Өлгийде Наурыз тойланды"),
    ):
        browser.get(live.url + path)
        assert browser.find_element(By.TAG_NAME, "h1").text == heading, path
    assert console_problems(browser) == []


def test_a_correction_round_trips(browser: Any, live: LiveServer) -> None:
    browser.get(live.url + "/?topic=festivals")
    navigate(browser, browser.find_element(By.CSS_SELECTOR, f'li[data-id="{item_id(1)}"] a.title'))
    assert browser.find_element(By.ID, "verdict").text.startswith("Relevant")
    # a wrong token is refused and changes nothing
    browser.find_element(By.ID, "rel-no").click()
    browser.find_element(By.ID, "token").send_keys("guess")
    navigate(browser, browser.find_element(By.ID, "save"))
    assert "Wrong editor token" in browser.find_element(By.ID, "error").text
    assert [m for m in console_problems(browser) if "status of 403" not in m] == []  # reading drains the log
    browser.get(live.url + "/items/" + item_id(1))
    assert browser.find_element(By.ID, "verdict").text.startswith("Relevant")
    # the right token: marked not relevant
    browser.find_element(By.ID, "rel-no").click()
    browser.find_element(By.ID, "note").send_keys("domestic story")
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    navigate(browser, browser.find_element(By.ID, "save"))
    assert browser.find_element(By.ID, "saved").is_displayed()
    assert browser.find_element(By.ID, "verdict").text.startswith("Not relevant")
    assert "domestic story" in browser.find_element(By.ID, "verdict").text
    browser.get(live.url + "/?topic=festivals")
    assert item_id(1) not in listed(browser) and listed(browser) == [item_id(n) for n in (2, 3, 9, 8)]
    with urllib.request.urlopen(live.url + "/feeds/topics/festivals.atom", timeout=10) as response:
        feed = feedparser.parse(response.read())
    assert not feed.bozo
    assert [e.id.rsplit("/", 1)[1] for e in feed.entries] == [item_id(n) for n in (2, 3, 9)]
    assert console_problems(browser) == []


def test_readable_on_a_phone(browser: Any, live: LiveServer) -> None:
    browser.set_window_size(390, 844)
    try:
        for path in ("/", "/items/" + item_id(2), "/sources", "/feeds"):
            browser.get(live.url + path)
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path}: {overflow}px wider than the phone screen"
            size = browser.execute_script("return parseFloat(getComputedStyle(document.body).fontSize)")
            assert size >= 16, path
    finally:
        browser.set_window_size(1200, 900)
