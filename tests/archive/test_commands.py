from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import TestCase

from archive.models import Source
from highlights.models import Highlight
from tests.factories import make_user

FIXTURES = Path(__file__).parent.parent / "fixtures" / "import"
OWN_SEED = FIXTURES / "seed-layout.md"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


class ImportCommandTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user("reader")

    def test_it_prints_json_outcomes_per_file(self) -> None:
        payload = json.loads(run("import_highlights", str(OWN_SEED), "--user", "reader", "--json"))
        [entry] = payload["files"]
        assert entry["path"] == str(OWN_SEED)
        assert entry["format"] == "readwise-markdown"
        assert entry["status"] == "created"
        assert entry["sources_created"] == 1
        assert entry["highlights_created"] == 2
        assert "message" in entry
        assert payload["totals"]["highlights_created"] == 2
        again = json.loads(run("import_highlights", str(OWN_SEED), "--user", "reader", "--json"))
        assert again["files"][0]["status"] == "unchanged"
        assert again["files"][0]["highlights_created"] == 0
        assert Highlight.objects.count() == 2

    def test_it_imports_folders_and_zips(self) -> None:
        folder = Path(self.enterContext(_tempdir()))
        (folder / "Articles").mkdir()
        (folder / "Articles" / "note.md").write_bytes(OWN_SEED.read_bytes())
        (folder / ".obsidian").mkdir()
        (folder / ".obsidian" / "app.json").write_text("{}")
        vault = folder / "vault.zip"
        with zipfile.ZipFile(vault, "w") as archive:
            archive.writestr("Readwise/Articles/note.md", OWN_SEED.read_bytes())
        payload = json.loads(run("import_highlights", str(folder), "--user", "reader", "--json"))
        statuses = [(f["path"].removeprefix(str(folder) + "/"), f["status"]) for f in payload["files"]]
        # The .obsidian folder is not an export; the zip's member is the same document again.
        assert statuses == [("Articles/note.md", "created"), ("vault.zip/Readwise/Articles/note.md", "unchanged")]
        assert Source.objects.count() == 1

    def test_it_refuses_an_unknown_user(self) -> None:
        with pytest.raises(CommandError, match="no user named"):
            run("import_highlights", str(OWN_SEED), "--user", "nobody")

    def test_it_refuses_a_missing_path(self) -> None:
        with pytest.raises(CommandError, match="no such file"):
            run("import_highlights", "/nonexistent/file.md", "--user", "reader")


class ExportCommandTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user("reader")
        run("import_highlights", str(OWN_SEED), "--user", "reader")
        cls.source = Source.objects.get()

    def test_it_writes_one_source_as_markdown(self) -> None:
        out = Path(self.enterContext(_tempdir())) / "one.md"
        run("export_highlights", "--user", "reader", "--out", str(out), "--source", str(self.source.pk))
        assert out.read_bytes() == OWN_SEED.read_bytes()

    def test_it_writes_a_zip_for_several_sources(self) -> None:
        out = Path(self.enterContext(_tempdir())) / "all.zip"
        run("export_highlights", "--user", "reader", "--out", str(out))
        with zipfile.ZipFile(out) as archive:
            assert archive.namelist() == ["Uncategorised/On Keeping Notes, and Why They Matter.md"]
            assert archive.read(archive.namelist()[0]) == OWN_SEED.read_bytes()

    def test_it_writes_readwise_shaped_json(self) -> None:
        out = Path(self.enterContext(_tempdir())) / "all.json"
        run("export_highlights", "--user", "reader", "--out", str(out), "--format", "json")
        payload = json.loads(out.read_text())
        [book] = payload["results"]
        assert book["user_book_id"] == self.source.pk
        assert book["title"] == "On Keeping Notes, and Why They Matter"
        assert book["author"] == "Marginalia Smith"
        assert book["source_url"] == "https://example.org/essays/on-keeping-notes"
        assert book["source"] == "reader"
        assert book["book_tags"] == []
        first = book["highlights"][0]
        assert first["text"].startswith("A commonplace book is a [conversation]")
        assert first["url"] == "https://read.readwise.io/read/01testaaaaaaaaaaaaaaaaaaaa"
        assert set(first) >= {
            "text",
            "note",
            "location",
            "location_type",
            "highlighted_at",
            "url",
            "tags",
            "is_favorite",
        }

    def test_it_refuses_a_foreign_source(self) -> None:
        other = make_user("other")
        with pytest.raises(CommandError, match="no source with id"):
            run("export_highlights", "--user", other.username, "--out", "-", "--source", str(self.source.pk))


def _tempdir():  # type: ignore[no-untyped-def]
    import tempfile

    return tempfile.TemporaryDirectory()


def test_it_draws_a_progress_bar_on_a_terminal() -> None:
    from django.core.management.base import OutputWrapper

    from archive.management.commands.import_highlights import Progress

    out = io.StringIO()
    bar = Progress(OutputWrapper(out), total=4, width=8)
    for name in ["a.md", "b.md", "c.md", "d.md"]:
        bar.show(name)
    bar.finish()
    text = out.getvalue()
    assert "[--------] 0/4  a.md" in text
    assert "[####----] 2/4  c.md" in text
    assert text.endswith("[########] 4/4  done\n")
