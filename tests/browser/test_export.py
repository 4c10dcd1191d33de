"""Issue 6 in headless Chromium: your own template with a live preview, then taking everything out."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_seed_journey import SEED_NAME, TITLE, create_owner
from tests.samples import samples_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEMPLATE = "# {{ name|upper }}\n{% for h in highlights %}{{ h.number }}. {{ h.text|truncatewords:3 }}\n{% endfor %}"


def import_seed(page: Any, live_server: Any) -> None:
    create_owner(page, live_server)
    page.set_input_files("#id_files", str(samples_dir() / "readwise-markdown" / SEED_NAME))
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/sources/*/")


def test_it_previews_and_saves_your_own_template(page: Any, live_server: Any, tmp_path: Path) -> None:
    import_seed(page, live_server)
    source_url = page.url
    page.locator("summary", has_text="owner").click()
    page.get_by_role("link", name="Settings").click()
    page.wait_for_url("**/settings/")
    preview = page.locator("#export-preview")
    assert "## Highlights" in preview.inner_text()  # Commonplace's layout, on the imported source

    page.get_by_label("My own template").check()
    page.locator("#id_template").fill(TEMPLATE)
    preview.get_by_text("1. Model alignment, especially …").wait_for()
    assert preview.inner_text().split("\n")[2] == f"# {TITLE.upper()}"  # after the source's name
    screenshot(page, "export-settings-preview")

    page.locator("#id_template").fill("# {{ name }}\n{% for h in highlights %}\n{{ h.text }}")
    preview.get_by_role("alert").wait_for()
    assert "Line 2:" in preview.inner_text() and "endfor" in preview.inner_text()
    page.locator("#id_template").fill("{% load static %}{{ settings.SECRET_KEY }}")
    preview.get_by_text("{% load %} is not allowed").wait_for()
    screenshot(page, "export-settings-error")

    page.locator("#id_template").fill(TEMPLATE)
    preview.get_by_text("1. Model alignment, especially …").wait_for()
    page.get_by_role("button", name="Save").click()
    page.locator(".messages").get_by_text("Saved").wait_for()
    assert page.get_by_label("My own template").is_checked()

    page.goto(source_url)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download Markdown").click()
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    assert saved.name == f"{TITLE}.md"
    assert saved.read_text().startswith(f"# {TITLE.upper()}\n1. Model alignment, especially …\n2. ")


def test_it_takes_everything_out(page: Any, live_server: Any, tmp_path: Path) -> None:
    import_seed(page, live_server)
    page.get_by_role("link", name="Export", exact=True).click()
    page.wait_for_url("**/export/")
    assert "1 source" in page.locator("#summary").inner_text()
    page.get_by_label("Category").select_option("books")
    page.locator("#summary").get_by_text("0 sources").wait_for()
    page.get_by_label("Category").select_option("")
    page.locator("#summary").get_by_text("1 source").wait_for()
    screenshot(page, "export-page")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="All as Markdown (zip)").click()
    assert download_info.value.suggested_filename.startswith("commonplace-highlights-")
    archive = tmp_path / "all.zip"
    download_info.value.save_as(archive)
    with zipfile.ZipFile(archive) as zipped:
        assert zipped.namelist() == [f"Uncategorised/{TITLE}.md"]
        assert zipped.read(zipped.namelist()[0]) == (samples_dir() / "readwise-markdown" / SEED_NAME).read_bytes()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="JSON backup").click()
    backup = tmp_path / "backup.json"
    download_info.value.save_as(backup)
    assert json.loads(backup.read_text())["results"][0]["readable_title"] == TITLE
