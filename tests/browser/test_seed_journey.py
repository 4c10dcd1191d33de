"""Step 6 of the foundation issue, in headless Chromium: first run, upload, read, download, re-upload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import screenshot
from tests.samples import sample, samples_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEED_NAME = "000_69463c4c4be0e69e.txt"
TITLE = "Model Alignment Protects Against Accidental Harms, Not Intentional Ones"


def create_owner(page: Any, live_server: Any) -> None:
    page.goto(live_server.url + "/")
    assert page.url.endswith("/setup/")
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Password:", exact=True).fill("a long passphrase 42")
    page.get_by_label("Password confirmation").fill("a long passphrase 42")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url("**/import/")


def test_it_carries_the_seed_through_the_browser(page: Any, live_server: Any, tmp_path: Path) -> None:
    seed_path = samples_dir() / "readwise-markdown" / SEED_NAME
    create_owner(page, live_server)

    page.set_input_files("#id_files", str(seed_path))
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/sources/*/")

    assert page.get_by_role("heading", level=1).inner_text() == TITLE
    assert page.get_by_role("link", name="Arvind Narayanan").is_visible()
    assert page.locator('a[href="https://www.aisnakeoil.com/p/model-alignment-protects-against"]').is_visible()
    assert "2023-12-10, 11:22 AM" in page.locator(".meta").inner_text()
    assert "reader" in page.locator(".meta").inner_text()
    quotes = page.locator(".highlight-text")
    assert quotes.count() == 3
    assert quotes.nth(0).inner_text().startswith("Model alignment, especially RLHF")
    assert quotes.nth(2).inner_text().startswith("RLHF and other model alignment techniques")
    assert (
        quotes.nth(0)
        .get_by_role("link", name="nonetheless")
        .get_attribute("href")
        .startswith("https://www.nytimes.com/")
    )
    assert page.get_by_role("link", name="View Highlight").count() == 3
    screenshot(page, "seed-source-page")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download Markdown").click()
    downloaded = tmp_path / "download.md"
    download_info.value.save_as(downloaded)
    assert downloaded.read_bytes() == sample(f"readwise-markdown/{SEED_NAME}")

    page.goto(live_server.url + "/import/")
    page.set_input_files("#id_files", str(seed_path))
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/sources/*/")
    assert "Already in your archive" in page.locator(".messages").inner_text()
    assert page.locator(".highlight-text").count() == 3
    page.goto(live_server.url + "/")
    assert page.locator(".source-list > li").count() == 1
    screenshot(page, "seed-imported-again")


def test_it_imports_a_file_dropped_on_the_page(page: Any, live_server: Any) -> None:
    create_owner(page, live_server)
    data = (Path(__file__).parent.parent / "fixtures" / "import" / "seed-layout.md").read_text()
    # Drag and drop: a DataTransfer carrying the file, dispatched on the drop zone.
    transfer = page.evaluate_handle(
        """(text) => { const dt = new DataTransfer();
            dt.items.add(new File([text], "dropped.md", {type: "text/markdown"})); return dt; }""",
        data,
    )
    zone = page.locator("[data-dropzone-target]")
    zone.dispatch_event("dragenter", {"dataTransfer": transfer})
    zone.dispatch_event("drop", {"dataTransfer": transfer})
    assert page.locator("[data-chosen]").inner_text() == "Chosen: dropped.md"
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/sources/*/")
    assert page.get_by_role("heading", level=1).inner_text() == "On Keeping Notes, and Why They Matter"
    screenshot(page, "dropped-file-source-page")


def test_it_reports_every_file_of_a_many_file_upload(page: Any, live_server: Any, tmp_path: Path) -> None:
    create_owner(page, live_server)
    fixtures = Path(__file__).parent.parent / "fixtures"
    files = [
        fixtures / "import" / "seed-layout.md",
        fixtures / "kindle" / "en-modern.txt",
        fixtures / "readwise-csv" / "eleven-columns.csv",
        fixtures / "readwise-markdown" / "broken-frontmatter.md",
    ]
    junk = tmp_path / "photo.jpg"
    junk.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4)
    page.set_input_files("#id_files", [str(p) for p in [*files, junk]])
    assert page.locator("[data-chosen]").inner_text() == "5 files chosen."
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/import/*/")
    rows = page.locator("tbody tr")
    assert rows.count() == 5
    table = page.locator("table").inner_text()
    assert "readwise-markdown" in table and "kindle" in table and "readwise-csv" in table
    errors = page.locator(".outcome-error")
    assert errors.count() == 2
    assert "broken-frontmatter.md" in errors.nth(0).inner_text()
    assert "photo.jpg" in errors.nth(1).inner_text()
    assert "binary file" in errors.nth(1).inner_text()
    screenshot(page, "import-results-table")
    page.get_by_role("link", name="All imports").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Import history"
