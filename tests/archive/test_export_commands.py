"""`manage.py export_highlights`: every format, layout and selection, and a restore through the CLI."""

from __future__ import annotations

import csv
import io
import json
import tempfile
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import TestCase

from archive.formats import readwise_csv
from archive.models import ExportSettings
from tests.archive.test_export import rich_archive, snapshot
from tests.factories import make_user


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export_highlights", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


class ExportCommandTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user("cli")
        cls.sources = rich_archive(cls.user)

    def setUp(self) -> None:
        self.folder = Path(self.enterContext(tempfile.TemporaryDirectory()))

    def test_it_writes_a_zip_by_category(self) -> None:
        out = self.folder / "all.zip"
        _, err = run("--user", "cli", "--out", str(out))
        assert err.startswith(f"Wrote 2 sources to {out} in ")
        with zipfile.ZipFile(out) as archive:
            assert archive.namelist() == ["Books/Why Nations Fail.md", "Articles/On Keeping Notes Why — 🙂.md"]

    def test_it_selects_by_tag_author_category_and_search(self) -> None:
        for args, expected in (
            (["--tag", "thesis"], ["Books/Why Nations Fail.md"]),
            (["--author", "Marginalia Smith"], ["Articles/On Keeping Notes Why — 🙂.md"]),
            (["--category", "books"], ["Books/Why Nations Fail.md"]),
            (["--search", "formula"], ["Articles/On Keeping Notes Why — 🙂.md"]),
            (["--origin", "kindle", "--favorites"], ["Books/Why Nations Fail.md"]),
        ):
            out = self.folder / "some.zip"
            run("--user", "cli", "--out", str(out), *args)
            with zipfile.ZipFile(out) as archive:
                assert archive.namelist() == expected, args

    def test_it_writes_one_source_in_a_chosen_layout(self) -> None:
        book = str(self.sources["book"].pk)
        text, _ = run("--user", "cli", "--out", "-", "--source", book, "--layout", "readwise")
        assert text.startswith(
            "# Why Nations Fail\n\n![rw-book-cover](https://images.example/cover.jpg)\n\n## Metadata\n"
        )
        ExportSettings.objects.create(user=self.user, layout="custom", template="{{ name }}: {{ highlight_count }}")
        assert run("--user", "cli", "--out", "-", "--source", book) == ("Why Nations Fail: 2", "")
        assert run("--user", "cli", "--out", "-", "--source", book, "--layout", "commonplace")[0].startswith("---\n")

    def test_it_writes_csv_and_json_to_standard_output(self) -> None:
        text, _ = run("--user", "cli", "--out", "-", "--format", "csv")
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == readwise_csv.HEADER_11 and len(rows) == 5
        text, _ = run("--user", "cli", "--out", "-", "--format", "json")
        data = json.loads(text)
        assert data["count"] == 3 and data["format"] == "commonplace-json"
        assert text.startswith(
            '{"format": "commonplace-json", "version": 1, "count": 3, "nextPageCursor": null, "results": [\n  {\n    "user_book_id"'
        )

    def test_it_restores_its_backup_through_the_import_command(self) -> None:
        out = self.folder / "backup.json"
        run("--user", "cli", "--out", str(out), "--format", "json")
        make_user("restored")
        report = io.StringIO()
        call_command("import_highlights", str(out), "--user", "restored", "--json", stdout=report)
        [entry] = json.loads(report.getvalue())["files"]
        assert (entry["format"], entry["status"], entry["sources_created"]) == ("commonplace-json", "created", 3)
        assert snapshot(User.objects.get(username="restored")) == snapshot(self.user)

    def test_it_refuses_what_it_cannot_do(self) -> None:
        with pytest.raises(CommandError, match="no tag named 'nope'"):
            run("--user", "cli", "--out", "-", "--tag", "nope", "--format", "json")
        with pytest.raises(CommandError, match="no author 'Nobody Here'"):
            run("--user", "cli", "--out", "-", "--author", "Nobody Here", "--format", "csv")
        with pytest.raises(CommandError, match="needs --out FILE.zip"):
            run("--user", "cli", "--out", "-")
        with pytest.raises(CommandError, match="no source with id"):
            run("--user", "cli", "--out", "-", "--source", "999999")
