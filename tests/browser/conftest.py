"""Real Chromium through Playwright, using the system's browser (Debian's `chromium`).

Browser tests run whenever a Chromium is found. Where none is, they are skipped with a message
saying how to install one, except under CI=true, where a missing browser is a failure.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.samples import REPO

ARTIFACTS = REPO / "test-artifacts"
INSTALL_HINT = "Install one with `sudo apt-get install chromium` (Debian/Ubuntu) or set CHROMIUM=/path/to/chrome."


def find_chromium() -> str | None:
    candidates = [os.environ.get("CHROMIUM", ""), "/usr/bin/chromium", "/usr/bin/chromium-browser"]
    candidates += [shutil.which(name) or "" for name in ("chromium", "chromium-browser", "google-chrome")]
    return next((path for path in candidates if path and Path(path).is_file()), None)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        message = f"No Chromium found for the browser tests. {INSTALL_HINT}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture
def browser(chromium_path: str) -> Iterator[Any]:
    # One Playwright per test: its event loop must not outlive the test, or Django would refuse
    # the ORM calls of the (synchronous) tests that run after it.
    from playwright.sync_api import expect, sync_playwright

    # A loaded CI machine (every xdist worker busy, a live server and a Chromium each) can take
    # more than Playwright's 5 s for a POST, its redirect and the page it lands on; one 15 s budget
    # for actions and expectations alike. A page that never comes still fails, only later.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    """A failed browser test's report says what was on screen: a screenshot, and where the focus was."""
    report = yield
    page = getattr(item, "funcargs", {}).get("page")
    if report.when == "call" and report.failed and page is not None:
        report.sections.append(("What the page showed", _describe(page, item.name)))
    return report


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    # Browser tests check what the page shows, not the database: Playwright's sync API runs an
    # event loop in the test's thread, where Django (rightly) refuses ORM calls.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def _describe(page: Any, name: str) -> str:
    try:
        path = screenshot(page, f"failed-{name}")
        active = page.evaluate("() => document.activeElement ? document.activeElement.outerHTML.slice(0, 400) : ''")
        return f"at {page.url}\nscreenshot: {path}\nthe focus was on: {active or 'nothing'}"
    except Exception as error:  # the page may be gone; the test's own failure is what matters
        return f"could not look at the page: {error}"


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
