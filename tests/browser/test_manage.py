"""Curating in headless Chromium: bulk tagging a shift-clicked range, editing and deleting in place."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.factories import make_highlight, make_source, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long passphrase 42"


@pytest.fixture
def book(transactional_db: Any) -> dict[str, Any]:
    user = make_user("reader", password=PASSWORD)
    source = make_source(user, "The Lighthouse Keeper's Almanac", author="Ada Brightwater")
    highlights = [
        make_highlight(source, f"Keeper's rule number {n}: trim the lamp, log the weather.") for n in range(8)
    ]
    second = make_source(user, "Almanac, second edition", author="Ada Brightwater")
    make_highlight(second, "Keeper's rule number 0: trim the lamp, log the weather.")  # the same: collapses
    make_highlight(second, "Salt gets into everything, even the logbook.")
    make_highlight(second, "Keeper's rule number 9: a new one in this edition.")
    return {"source": source, "ids": [h.pk for h in highlights]}


def sign_in(page: Any, live_server: Any) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("reader")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("log in|sign in", re.I)).click()
    page.wait_for_url(live_server.url + "/")


def test_it_tags_a_shift_clicked_range_in_place(book: dict[str, Any], page: Any, live_server: Any) -> None:
    sign_in(page, live_server)
    page.goto(live_server.url + book["source"].get_absolute_url())
    boxes = page.locator("input[data-bulk-item]")
    expect(boxes).to_have_count(8)
    boxes.nth(1).click()
    boxes.nth(4).click(modifiers=["Shift"])
    checked = [boxes.nth(i).is_checked() for i in range(8)]
    assert checked == [False, True, True, True, True, False, False, False]
    expect(page.locator("[data-bulk-count]")).to_have_text("4 selected")
    page.get_by_label("Tag", exact=True).fill("lamps")
    screenshot(page, "manage-bulk-selected")
    page.locator(".bulk-bar").get_by_role("button", name="Add tag").click()
    expect(page.locator("#bulk-status")).to_contain_text("Tagged 4 highlights with “lamps”.")
    rows = page.locator("#highlight-list > li")
    for i in range(8):
        tagged = rows.nth(i).locator("a.tag", has_text="lamps")
        expect(tagged).to_have_count(1 if 1 <= i <= 4 else 0)
    assert not any(boxes.nth(i).is_checked() for i in range(8))  # a fresh selection after
    screenshot(page, "manage-bulk-tagged")

    # Shift-click unticks a range too; "select all" ticks every row and acts on all of them.
    page.get_by_label(re.compile("Select all 8 matching")).check()
    expect(page.locator("[data-bulk-count]")).to_have_text("All matching selected")
    boxes.nth(2).click()
    expect(page.get_by_label(re.compile("Select all 8 matching"))).not_to_be_checked()
    page.get_by_label(re.compile("Select all 8 matching")).check()
    page.locator(".bulk-bar").get_by_role("button", name="Favourite", exact=True).click()
    expect(page.locator("#bulk-status")).to_contain_text("Marked 8 highlights as favourite.")
    expect(page.locator('#highlight-list [data-favorite-toggle][aria-pressed="true"]')).to_have_count(8)

    page.reload()
    expect(page.locator("#highlight-list a.tag", has_text="lamps")).to_have_count(4)


def test_it_edits_and_deletes_a_highlight_in_place(book: dict[str, Any], page: Any, live_server: Any) -> None:
    sign_in(page, live_server)
    page.goto(live_server.url + book["source"].get_absolute_url())
    first = page.locator(f"#highlight-{book['ids'][0]}")
    first.get_by_role("link", name="Edit this highlight").click()
    field = page.get_by_label("Highlight text")
    expect(field).to_be_focused()
    field.fill("Trim the lamp before dusk.")
    screenshot(page, "manage-edit-in-place")
    page.get_by_role("button", name="Save").click()
    expect(first.locator("blockquote")).to_have_text("Trim the lamp before dusk.")
    expect(first.locator("input[data-bulk-item]")).to_have_count(1)

    second = page.locator(f"#highlight-{book['ids'][1]}")
    second.get_by_role("button", name="Delete this highlight").click()
    expect(second).to_contain_text("Moved to the Trash.")
    expect(second.get_by_role("button", name="Undo")).to_be_focused()
    second.get_by_role("button", name="Undo").click()
    expect(second.locator("blockquote")).to_contain_text("Keeper's rule number 1")

    page.emulate_media(color_scheme="dark")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "manage-source-phone-dark")


def test_it_edits_a_source_in_place_and_merges_another_into_it(
    book: dict[str, Any], page: Any, live_server: Any
) -> None:
    sign_in(page, live_server)
    source_url = live_server.url + book["source"].get_absolute_url()
    page.goto(source_url)
    page.get_by_role("link", name="Edit details").click()
    title = page.get_by_label("Title")
    expect(title).to_be_focused()
    title.fill("The Almanac")
    page.get_by_label("URL").fill("javascript:alert(1)")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#source-edit .errorlist")).to_be_visible()
    page.get_by_label("URL").fill("https://books.example/almanac")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_have_text("The Almanac")
    expect(page.get_by_role("link", name="https://books.example/almanac")).to_be_visible()

    page.get_by_role("link", name="Merge…").click()
    page.get_by_label("Find the other source by title or author").fill("second")
    expect(page.locator("#merge-candidates legend")).to_have_text("Sources matching “second”")
    expect(page.locator("#merge-candidates")).to_contain_text("Almanac, second edition")
    screenshot(page, "manage-merge-search")
    page.get_by_label(re.compile("Almanac, second edition")).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".merge-confirm")).to_contain_text("2 highlights move over")
    page.get_by_role("button", name="Merge").click()
    page.wait_for_url(source_url)
    expect(page.locator(".messages")).to_contain_text("Merged “Almanac, second edition” into this source")
    expect(page.locator("#highlights-heading")).to_have_text("10 highlights")
