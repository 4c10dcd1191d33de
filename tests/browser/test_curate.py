"""Curating in headless Chromium: tagging in place with suggestions, notes, favourites, the
keyboard shortcuts, and managing tags on /tags/. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.factories import make_user
from tests.highlights.helpers import source_with, tag

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long passphrase 42"


@pytest.fixture
def archive(transactional_db: Any) -> dict[str, Any]:
    """A reader with a book of three highlights, some tags, and another book."""
    user = make_user("reader", password=PASSWORD)
    book = source_with(
        user,
        "Letters from a Stoic",
        [
            "We suffer more often in imagination than in reality.",
            "Luck is what happens when preparation meets opportunity.",
            "While we wait for life, life passes.",
        ],
        author="Seneca",
    )
    first, second, third = book.highlights.order_by("position")
    other = source_with(user, "Meditations", ["The impediment to action advances action."], author="Marcus Aurelius")
    tag(user, "stoicism", first, other.highlights.get())
    tag(user, "stoa", third)
    tag(user, "reading list", book)
    return {"book": book, "ids": [first.pk, second.pk, third.pk]}


def sign_in(page: Any, live_server: Any) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("reader")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("log in|sign in", re.I)).click()
    page.wait_for_url(live_server.url + "/")


def chips(page: Any, pk: int) -> Any:
    return page.locator(f"#curate-h-{pk} .tag-chip .tag")


def test_it_tags_in_place_with_suggestions(archive: Any, page: Any, live_server: Any) -> None:
    sign_in(page, live_server)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    url = live_server.url + archive["book"].get_absolute_url()
    page.goto(url)
    page.evaluate("window.stillHere = true")  # gone if the page reloads
    pk = archive["ids"][1]
    field = page.get_by_label("Add a tag to this highlight").nth(1)
    field.click()
    field.press_sequentially("sto", delay=30)
    # The datalist fills with the reader's own tags matching what is typed.
    options = page.locator(f"#tag-options-h-{pk} option")
    expect(options).to_have_count(2)
    assert options.evaluate_all("os => os.map(o => o.value)") == ["stoicism", "stoa"]  # the most used first
    field.fill("stoicism")
    field.press("Enter")
    expect(chips(page, pk)).to_have_text(["stoicism"])
    # The field keeps the focus, empty, for the next tag.
    expect(page.locator(f"#tag-input-h-{pk}")).to_be_focused()
    expect(page.locator(f"#tag-input-h-{pk}")).to_have_value("")
    page.keyboard.type("to try / 🌱")
    page.keyboard.press("Enter")
    expect(chips(page, pk)).to_have_text(["stoicism", "to try / 🌱"])
    screenshot(page, "curate-tagged-in-place")
    page.get_by_role("button", name="Remove tag stoicism").nth(1).click()
    expect(chips(page, pk)).to_have_text(["to try / 🌱"])
    assert page.evaluate("window.stillHere") is True
    assert page.url == url
    # The source's own tags, too.
    source_field = page.get_by_label("Add a tag to this source")
    source_field.fill("Letters")
    source_field.press("Enter")
    expect(page.locator(".source-tags .tag-chip .tag")).to_have_text(["Letters", "reading list"])
    page.get_by_role("button", name="Remove tag reading list").click()
    expect(page.locator(".source-tags .tag-chip .tag")).to_have_text(["Letters"])
    assert page.evaluate("window.stillHere") is True
    page.reload()
    expect(chips(page, pk)).to_have_text(["to try / 🌱"])
    expect(page.locator(".source-tags .tag-chip .tag")).to_have_text(["Letters"])
    page.locator(f"#curate-h-{pk}").get_by_role("link", name="to try / 🌱").click()
    expect(page.locator(".count[data-tag-count]")).to_have_text("1 highlight")
    assert not errors, errors


def test_a_slow_suggestion_is_waited_for_not_cut_off(archive: Any, page: Any, live_server: Any) -> None:
    # Suggestions asked for while one is still on its way wait for it; replacing it would abort
    # it, and htmx reports an aborted request as an error (this flaked on a loaded machine).
    sign_in(page, live_server)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    held: list[Any] = []
    page.route("**/tagging/suggest/**", lambda route: held.append(route) if not held else route.continue_())
    page.goto(live_server.url + archive["book"].get_absolute_url())
    pk = archive["ids"][1]
    field = page.locator(f"#tag-input-h-{pk}")
    field.click()  # asks for suggestions on focus: that answer is held back
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(20)
    assert len(held) == 1
    field.press_sequentially("sto", delay=30)  # asks again while the first is on its way
    page.wait_for_timeout(400)
    held[0].continue_()
    expect(page.locator(f"#tag-options-h-{pk} option")).to_have_count(2)
    assert page.evaluate("document.activeElement.id") == f"tag-input-h-{pk}"
    assert not errors, errors


def test_the_keyboard_drives_the_page(archive: Any, page: Any, live_server: Any) -> None:
    sign_in(page, live_server)
    page.goto(live_server.url + archive["book"].get_absolute_url())
    first, second, third = (page.locator(f"#highlight-{pk}") for pk in archive["ids"])
    page.keyboard.press("j")
    expect(first).to_be_focused()
    page.keyboard.press("j")
    expect(second).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")  # stays on the last
    expect(third).to_be_focused()
    page.keyboard.press("k")
    expect(second).to_be_focused()
    outline = second.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none", "the focused highlight shows where it is"

    page.keyboard.press("f")
    expect(second.get_by_role("button", name="Favourite")).to_have_attribute("aria-pressed", "true")
    expect(second).to_be_focused()

    page.keyboard.press("t")
    expect(second.locator("[data-tag-input]")).to_be_focused()
    page.keyboard.type("jk fine")  # keys typed in a field are text, not shortcuts
    page.keyboard.press("Enter")
    expect(second.locator(".tag-chip .tag")).to_have_text(["jk fine"])
    expect(second.locator("[data-tag-input]")).to_be_focused()  # the new field, ready for another
    page.keyboard.press("Escape")
    expect(second).to_be_focused()

    page.keyboard.press("n")
    note = second.get_by_role("textbox", name="Note")
    expect(note).to_be_focused()
    page.keyboard.type("Luck *is* work. j k f")
    page.keyboard.press("Control+Enter")
    expect(second.locator(".highlight-note em")).to_have_text("is")
    expect(second).to_be_focused()
    expect(second.get_by_role("link", name="Edit note")).to_be_visible()

    page.keyboard.press("n")
    expect(second.get_by_role("textbox", name="Note")).to_have_value("Luck *is* work. j k f")
    expect(second.get_by_role("textbox", name="Note")).to_be_focused()
    page.keyboard.press("Escape")  # cancels
    expect(second.get_by_role("textbox", name="Note")).to_have_count(0)
    expect(second.locator(".highlight-note")).to_contain_text("Luck is work.")
    page.evaluate("() => document.activeElement.blur()")  # as when what held the focus is swapped away
    expect(second).not_to_be_focused()
    page.keyboard.press("Escape")
    expect(second).to_be_focused()

    page.keyboard.press("Shift+?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Next highlight")
    screenshot(page, "curate-keyboard-help")
    page.keyboard.press("j")  # ignored while the dialog is open
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.keyboard.press("f")
    expect(second.get_by_role("button", name="Favourite")).to_have_attribute("aria-pressed", "false")
    screenshot(page, "curate-keyboard-source")

    page.reload()
    expect(second.locator(".highlight-note")).to_contain_text("Luck is work.")
    expect(second.locator(".tag-chip .tag")).to_have_text(["jk fine"])


def test_the_tag_page_keeps_its_count(archive: Any, page: Any, live_server: Any) -> None:
    sign_in(page, live_server)
    page.goto(live_server.url + "/tags/stoicism/")
    count = page.locator(".count[data-tag-count]")
    expect(count).to_have_text("2 highlights")
    page.keyboard.press("j")
    page.keyboard.press("t")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Remove tag stoicism").first.click()
    expect(count).to_have_text("1 highlight")
    page.get_by_label("Add a tag to this highlight").first.fill("Stoicism")
    page.get_by_label("Add a tag to this highlight").first.press("Enter")
    expect(count).to_have_text("2 highlights")
    screenshot(page, "curate-tag-page")


def test_it_manages_tags_in_place(archive: Any, page: Any, live_server: Any) -> None:
    sign_in(page, live_server)
    page.goto(live_server.url + "/tags/")
    total = page.locator("#tag-total")
    expect(total).to_have_text("3 tags")
    page.get_by_role("link", name="Edit tag stoa").click()
    field = page.get_by_role("textbox", name="New name for stoa")
    expect(field).to_be_focused()
    field.fill("Stoicism")  # another tag's name, in another case: a merge
    field.press("Enter")
    expect(page.locator(".tag-list .tag")).to_have_text(["reading list", "Stoicism"])
    expect(page.locator(".tag-list")).to_contain_text("3 highlights")
    expect(total).to_have_text("2 tags")
    page.get_by_role("link", name="Edit tag reading list").click()
    expect(page.get_by_role("textbox", name="New name for reading list")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("link", name="Edit tag reading list")).to_be_visible()
    page.get_by_role("link", name="Edit tag reading list").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status").filter(has_text="Deleted the tag “reading list”")).to_be_visible()
    expect(total).to_have_text("1 tag")
    screenshot(page, "curate-tags-managed")
    page.reload()
    expect(page.locator(".tag-list .tag")).to_have_text(["Stoicism"])


def test_it_curates_without_javascript(archive: Any, browser: Any, live_server: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server)
    url = live_server.url + archive["book"].get_absolute_url()
    page.goto(url)
    pk = archive["ids"][0]
    field = page.locator(f"#tag-input-h-{pk}")
    field.fill("plain")
    field.press("Enter")  # a click on "Add" works too, once the browser's suggestion list is closed
    page.wait_for_url(f"{url}#highlight-{pk}")
    expect(chips(page, pk)).to_have_text(["plain", "stoicism"])
    page.locator(f"#curate-h-{pk}").get_by_role("button", name="Favourite").click()
    expect(page.locator(f"#favorite-h-{pk}")).to_have_attribute("aria-pressed", "true")
    page.locator(f"#curate-h-{pk}").get_by_role("link", name="Add note").click()
    page.get_by_role("textbox", name="Note").fill("Written without a script.")
    page.get_by_role("button", name="Save note").click()
    page.wait_for_url(f"{url}#highlight-{pk}")
    expect(page.locator(f"#note-h-{pk}")).to_contain_text("Written without a script.")
    page.goto(live_server.url + "/tags/")
    page.get_by_role("link", name="Edit tag plain").click()
    page.get_by_label("New name").fill("plainly")
    page.get_by_role("button", name="Rename").click()
    page.wait_for_url(live_server.url + "/tags/")
    expect(page.locator(".messages")).to_contain_text("Renamed “plain” to “plainly”.")
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_it_curates_on_a_phone(archive: Any, browser: Any, live_server: Any, scheme: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme=scheme, is_mobile=True)
    page = context.new_page()
    sign_in(page, live_server)
    page.goto(live_server.url + archive["book"].get_absolute_url())
    pk = archive["ids"][0]
    page.locator(f"#curate-h-{pk}").get_by_role("link", name="Add note").click()
    expect(page.get_by_role("textbox", name="Note")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the source page scrolls sideways ({width}px)"
    screenshot(page, f"curate-phone-source-{scheme}")
    page.goto(live_server.url + "/tags/")
    page.get_by_role("link", name="Edit tag stoicism").click()
    expect(page.get_by_role("textbox", name="New name for stoicism")).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, f"curate-phone-tags-{scheme}")
    context.close()
