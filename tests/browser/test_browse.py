"""Browsing in headless Chromium: filtering the library, paging it, and searching as you type."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from archive.models import Category
from tests.browser.conftest import screenshot
from tests.factories import make_highlight, make_source, make_user
from tests.highlights.helpers import tag, when

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long passphrase 42"


@pytest.fixture
def archive(transactional_db: Any) -> dict[str, Any]:
    """A reader with 60 sources (5 of them books, 1 with a favourite) and some multilingual text.

    Made before the browser starts: Django refuses the ORM inside Playwright's event loop.
    """
    user = make_user("reader", password=PASSWORD)
    for n in range(55):
        source = make_source(
            user,
            f"Article {n:02}",
            author=f"Writer {n % 7}",
            category=Category.ARTICLES,
            origin="reader",
            last_highlighted_at=when(2020, 1, 1 + n % 28),
        )
        make_highlight(source, f"An ordinary sentence number {n}.")
    books = []
    for n, (title, text) in enumerate(
        [
            ("Meditations", "The impediment to action advances action. What stands in the way becomes the way."),
            ("Letters from a Stoic", "We suffer more often in imagination than in reality."),
            ("易中天中华史", "封建，就是天子“封邦建国”，诸侯“封土立家”。"),
            ("Die Stille der Berge", "Oben ist die Luft dünn."),
            ("静かな湖", "湖は静かだった。"),
        ]
    ):
        source = make_source(
            user,
            title,
            author="Seneca" if n < 2 else "Various",
            category=Category.BOOKS,
            origin="kindle",
            last_highlighted_at=when(2024, 1, 1 + n),
        )
        books.append(make_highlight(source, text, note="A stoic note." if n == 1 else ""))
    books[0].favorite = True
    books[0].save()
    tag(user, "stoicism", books[0], books[1])
    return {"user": user}


def sign_in(page: Any, live_server: Any) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("reader")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("log in|sign in", re.I)).click()
    page.wait_for_url(live_server.url + "/")


def source_rows(page: Any) -> Any:
    return page.locator("#source-list > li")


def test_it_filters_the_library_and_keeps_the_filters_in_the_address(archive: Any, page: Any, live_server: Any) -> None:
    sign_in(page, live_server)
    assert page.locator("#results-count").inner_text() == "60 sources"
    assert page.get_by_role("button", name="Apply").is_hidden()  # JavaScript applies filters at once

    page.get_by_label("Category").select_option("books")
    page.wait_for_url("**/?category=books")
    assert page.locator("#results-count").inner_text() == "5 sources"
    assert source_rows(page).count() == 5

    page.get_by_label("Favourites").check()
    page.wait_for_url("**/?category=books&favorites=1")
    assert page.locator("#results-count").inner_text() == "1 source"
    assert source_rows(page).first.inner_text().startswith("Meditations")
    page.get_by_label("Sort").select_option("title")
    page.wait_for_url("**/?sort=title&category=books&favorites=1")
    screenshot(page, "browse-library-filtered")

    page.go_back()
    page.wait_for_url("**/?category=books&favorites=1")
    page.go_back()
    page.wait_for_url("**/?category=books")
    assert page.locator("#results-count").inner_text() == "5 sources"
    page.reload()
    assert page.locator("#results-count").inner_text() == "5 sources"
    assert page.get_by_label("Category").input_value() == "books"

    page.get_by_role("link", name="Clear filters").click()
    page.wait_for_url(live_server.url + "/")
    assert page.locator("#results-count").inner_text() == "60 sources"


def test_it_loads_more_sources_in_place(archive: Any, page: Any, live_server: Any) -> None:
    sign_in(page, live_server)
    assert source_rows(page).count() == 50
    load_more = page.get_by_role("link", name="Load 50 more")
    load_more.click()
    expect(source_rows(page)).to_have_count(60)
    assert page.url == live_server.url + "/"  # paging does not change the address
    assert page.get_by_role("link", name="Load 50 more").count() == 0
    assert page.locator("#load-more").inner_text().strip() == "Showing 1–60"
    focused = page.evaluate("document.activeElement.closest('#source-list > li')?.innerText || ''")
    assert focused.startswith(source_rows(page).nth(50).inner_text()[:20])
    screenshot(page, "browse-library-loaded-more")


def test_it_searches_as_you_type(archive: Any, page: Any, live_server: Any) -> None:
    sign_in(page, live_server)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "nav-search"
    page.keyboard.type("stoic")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=stoic")
    assert page.locator("#results-count").inner_text() == "1 highlight for “stoic”"

    field = page.get_by_label("Search highlights, notes, titles and authors")
    field.fill("")
    field.press_sequentially("imagin", delay=40)  # half a word: matched as a prefix
    page.wait_for_url("**/search/?q=imagin")
    result = page.locator("#result-list > li").first
    assert "We suffer more often in imagination than in reality." in result.inner_text()
    assert result.locator("mark").first.inner_text() == "imagination"
    screenshot(page, "browse-search-live")

    field.fill("封建")
    page.wait_for_url("**/search/?q=%E5%B0%81%E5%BB%BA")
    assert page.locator("#result-list > li").count() == 1
    assert page.locator("#result-list mark").first.inner_text() == "封建"

    field.fill("静か")
    page.wait_for_url(re.compile(r".*/search/\?q=%E9%9D%99%E3%81%8B$"))
    assert page.locator("#result-list > li").first.inner_text().startswith("湖は静かだった。")

    field.fill("dünn")
    page.get_by_label("Category").select_option("articles")
    page.wait_for_url("**/search/?q=d%C3%BCnn&category=articles")
    assert "No highlight or note matches “dünn” under these filters" in page.locator("#results").inner_text()
    page.get_by_label("Category").select_option("books")
    page.wait_for_url("**/search/?q=d%C3%BCnn&category=books")
    assert page.locator("#result-list mark").first.inner_text() == "dünn"
    screenshot(page, "browse-search-filtered")


def test_it_filters_without_javascript(archive: Any, browser: Any, live_server: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server)
    page.get_by_label("Category").select_option("books")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/?sort=recent&category=books&origin=&tag=")
    assert page.locator("#results-count").inner_text() == "5 sources"
    page.goto(live_server.url + "/?page=2")
    assert source_rows(page).count() == 10
    page.goto(live_server.url + "/search/?q=stoic")
    assert page.locator("#results-count").inner_text() == "1 highlight for “stoic”"
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_it_reads_well_on_a_phone(archive: Any, browser: Any, live_server: Any, scheme: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme=scheme, is_mobile=True)
    page = context.new_page()
    sign_in(page, live_server)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the library scrolls sideways ({width}px)"
    screenshot(page, f"browse-phone-library-{scheme}")
    page.goto(live_server.url + "/search/?q=way")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, f"browse-phone-search-{scheme}")
    page.goto(live_server.url + "/tags/stoicism/")
    assert page.locator("#highlight-list > li").count() == 2
    screenshot(page, f"browse-phone-tag-{scheme}")
    context.close()
