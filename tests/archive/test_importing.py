"""The importer's promises: idempotent, additive, respectful of the user's edits, atomic per
file, and specific about bad input."""

from __future__ import annotations

import codecs
import io
import threading
import time
import zipfile
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from unittest import mock

from django.db import connection, transaction
from django.test import TestCase, TransactionTestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from archive import importing
from archive.formats.document import Document, ParseError, ParseResult
from archive.formats.document import Highlight as Parsed
from archive.models import Source
from highlights.models import Highlight, Tag
from tests.factories import make_user

FIXTURES = Path(__file__).parent.parent / "fixtures"
SEED = (FIXTURES / "import" / "seed-layout.md").read_bytes()
KINDLE = (FIXTURES / "kindle" / "en-modern.txt").read_bytes()

DEFAULT_ARTICLE = """# The Slow Web

## Metadata
- Author: [[Jo Reader]]
- Full Title: The Slow Web
- Category: #articles
- URL: https://slow.example/web

## Highlights
- Fast is not the same as good. ([View Highlight](https://read.readwise.io/read/01slow1))
    - Tags: [[craft]]
- The web rewards patience more than it admits. ([View Highlight](https://read.readwise.io/read/01slow2))
"""

RESYNC = (
    DEFAULT_ARTICLE
    + """
## New highlights added March 3, 2024 at 9:15 AM
- Links are promises kept by strangers. ([View Highlight](https://read.readwise.io/read/01slow3))
    - Note: the best line
"""
)


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def one(user, name: str, data: bytes) -> importing.FileOutcome:  # type: ignore[no-untyped-def]
    [outcome] = importing.import_paths(user, [(name, data)])
    return outcome


class IdempotenceTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()

    def test_it_changes_nothing_the_second_time(self) -> None:
        first = one(self.user, "a.md", DEFAULT_ARTICLE.encode())
        second = one(self.user, "a.md", DEFAULT_ARTICLE.encode())
        assert (first.status, first.sources_created, first.highlights_created) == ("created", 1, 2)
        assert (second.status, second.sources_created, second.highlights_created) == ("unchanged", 0, 0)
        assert second.highlights_unchanged == 2
        assert Highlight.objects.count() == 2
        assert Tag.objects.count() == 1

    def test_it_does_not_claim_an_undated_source_was_highlighted_today(self) -> None:
        one(self.user, "a.md", DEFAULT_ARTICLE.encode())
        assert Source.objects.get().last_highlighted_at is None
        one(self.user, "k.txt", KINDLE)
        kindle = Source.objects.exclude(title="The Slow Web").first()
        assert kindle is not None
        dated = Highlight.objects.filter(source=kindle).exclude(highlighted_at=None)
        assert kindle.last_highlighted_at == max(h.highlighted_at for h in dated)

    def test_it_adds_only_the_new_highlights_of_a_resync(self) -> None:
        one(self.user, "a.md", DEFAULT_ARTICLE.encode())
        before = {h.pk: h.position for h in Highlight.objects.all()}
        outcome = one(self.user, "a.md", RESYNC.encode())
        assert outcome.status == "updated"
        assert (outcome.highlights_created, outcome.highlights_unchanged) == (1, 2)
        assert {h.pk: h.position for h in Highlight.objects.filter(pk__in=before)} == before
        newest = Highlight.objects.get(text="Links are promises kept by strangers.")
        assert newest.note == "the best line"
        assert newest.position == max(before.values()) + 1

    def test_it_keeps_what_the_user_changed(self) -> None:
        one(self.user, "a.md", DEFAULT_ARTICLE.encode())
        source = Source.objects.get()
        highlight = Highlight.objects.get(text="Fast is not the same as good.")
        highlight.note = "my own thought"
        highlight.favorite = True
        highlight.tags.clear()
        highlight.tags.add(Tag.objects.create(user=self.user, name="mine"))
        highlight.edited_at = timezone.now()
        highlight.save()
        source.display_title = "Slow Web (my title)"
        source.edited_at = timezone.now()
        source.save()
        edited = Highlight.objects.get(text="The web rewards patience more than it admits.")
        edited.text = "The web rewards patience."
        edited.edited_at = timezone.now()
        edited.save()

        outcome = one(self.user, "a.md", RESYNC.encode())

        assert outcome.highlights_created == 1
        highlight.refresh_from_db()
        assert highlight.note == "my own thought"
        assert highlight.favorite is True
        assert [t.name for t in highlight.tags.all()] == ["mine"]
        source.refresh_from_db()
        assert source.display_title == "Slow Web (my title)"
        # The edited text still matches its import by fingerprint: no duplicate appears.
        assert Highlight.objects.filter(source=source).count() == 3
        assert not Highlight.objects.filter(text="The web rewards patience more than it admits.").exists()

    def test_it_does_not_bring_back_what_is_in_the_trash(self) -> None:
        one(self.user, "a.md", DEFAULT_ARTICLE.encode())
        Highlight.objects.filter(text="Fast is not the same as good.").update(deleted_at=timezone.now())
        outcome = one(self.user, "a.md", DEFAULT_ARTICLE.encode())
        assert outcome.highlights_created == 0
        assert (outcome.skipped, outcome.in_trash) == (0, 1)  # counted apart from what the parser skipped
        assert "1 highlight in Trash not restored" in outcome.message
        assert Highlight.objects.count() == 2

    def test_it_keeps_users_apart(self) -> None:
        other = make_user()
        one(self.user, "a.md", DEFAULT_ARTICLE.encode())
        outcome = one(other, "a.md", DEFAULT_ARTICLE.encode())
        assert outcome.status == "created"
        assert Source.objects.filter(user=other).count() == 1
        assert Tag.objects.filter(user=other).count() == 1
        assert Highlight.objects.count() == 4


class BadInputTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()

    def assert_error(self, data: bytes, *fragments: str, name: str = "bad.md") -> None:
        outcome = one(self.user, name, data)
        assert outcome.status == "error", outcome
        for fragment in fragments:
            assert fragment in outcome.message, outcome.message
        assert not Source.objects.exists()

    def test_it_names_the_line_of_broken_yaml(self) -> None:
        self.assert_error((FIXTURES / "readwise-markdown" / "broken-frontmatter.md").read_bytes(), "line")

    def test_it_refuses_binary_data(self) -> None:
        self.assert_error(bytes(range(256)) * 20, "binary")

    def test_it_refuses_an_empty_file(self) -> None:
        self.assert_error(b"", "empty")
        self.assert_error(b"  \n\n ", "empty")

    def test_it_refuses_text_in_no_known_format(self) -> None:
        self.assert_error(b"Dear diary, today I read nothing.\n", "not a format Commonplace reads")

    @override_settings(COMMONPLACE_MAX_FILE_MB=0)
    def test_it_refuses_a_file_over_the_limit(self) -> None:
        self.assert_error(SEED, "larger than 0 MB")

    def test_it_reads_every_encoding_a_tool_writes(self) -> None:
        text = DEFAULT_ARTICLE.replace("The Slow Web", "Café Society")
        for data in [
            text.encode("utf-8"),
            codecs.BOM_UTF8 + text.encode("utf-8"),
            codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
            codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
            text.encode("utf-16-le"),
            text.encode("cp1252"),
            text.replace("\n", "\r\n").encode("utf-8"),
        ]:
            outcome = one(self.user, "enc.md", data)
            assert outcome.status in {"created", "unchanged"}, (data[:20], outcome)
        assert list(Source.objects.values_list("title", flat=True)) == ["Café Society"]
        assert Highlight.objects.count() == 2

    def test_it_reads_a_file_mixing_utf8_and_windows_1252(self) -> None:
        data = DEFAULT_ARTICLE.replace("The Slow Web", "Café Society").encode("utf-8")
        data = data.replace(b"patience", "patience — naïve".encode("cp1252"))
        outcome = one(self.user, "mixed.md", data)
        assert outcome.status == "created"
        assert "not UTF-8" in outcome.message
        assert Highlight.objects.filter(text__contains="patience — naïve").exists()
        assert Source.objects.get().title == "Café Society"

    def test_it_leaves_no_trace_of_a_file_that_fails_midway(self) -> None:
        two_books = KINDLE
        real_insert = importing._Writer._insert_highlights
        calls = []

        def fail_once_written(writer, created, most):  # type: ignore[no-untyped-def]
            calls.append(list(created))
            real_insert(writer, calls[-1], most)
            assert Highlight.objects.filter(source__user=self.user).exists()  # the books were written
            raise RuntimeError("disk on fire")

        with mock.patch.object(importing._Writer, "_insert_highlights", fail_once_written):
            outcome = one(self.user, "clippings.txt", two_books)
        assert len({row.values["source_id"] for row in calls[0]}) == 2
        assert outcome.status == "error"
        assert "nothing from it was saved" in outcome.message
        assert not Source.objects.exists()
        assert not Highlight.objects.exists()
        assert one(self.user, "clippings.txt", two_books).status == "created"


class ZipTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()

    def test_it_imports_the_members_of_a_vault(self) -> None:
        data = zipped(
            {
                "vault/Readwise/Articles/slow.md": DEFAULT_ARTICLE.encode(),
                "vault/Readwise/Books/clippings.txt": KINDLE,
                "vault/.obsidian/workspace.json": b"{}",
                "__MACOSX/vault/._slow.md": b"\x00\x05\x16\x07",
                "vault/Readwise/": b"",
            }
        )
        outcomes = importing.import_paths(self.user, [("vault.zip", data)])
        assert [o.path for o in outcomes] == [
            "vault.zip/vault/Readwise/Articles/slow.md",
            "vault.zip/vault/Readwise/Books/clippings.txt",
        ]
        assert [o.format for o in outcomes] == ["readwise-markdown", "kindle"]
        assert all(o.status == "created" for o in outcomes)

    def test_it_reports_paths_that_leave_the_zip_and_nested_zips(self) -> None:
        data = zipped(
            {
                "../../etc/evil.md": DEFAULT_ARTICLE.encode(),
                "/abs/evil.md": DEFAULT_ARTICLE.encode(),
                "inner.zip": zipped({"a.md": SEED}),
                "good.md": SEED,
            }
        )
        outcomes = {o.path: o for o in importing.import_paths(self.user, [("up.zip", data)])}
        assert outcomes["up.zip/../../etc/evil.md"].status == "error"
        assert "outside the zip" in outcomes["up.zip/../../etc/evil.md"].message
        assert "outside the zip" in outcomes["up.zip/abs/evil.md"].message
        assert "zip inside the zip" in outcomes["up.zip/inner.zip"].message
        assert outcomes["up.zip/good.md"].status == "created"
        assert Source.objects.count() == 1

    @override_settings(COMMONPLACE_MAX_UNZIPPED_MB=1)
    def test_it_stops_a_zip_bomb_before_importing_any_of_it(self) -> None:
        data = zipped({"a.md": SEED, "bomb.txt": b"0" * (3 * 1024 * 1024)})
        assert len(data) < 50_000
        [outcome] = importing.import_paths(self.user, [("bomb.zip", data)])
        assert outcome.status == "error"
        assert "expands to more than 1 MB" in outcome.message
        assert not Source.objects.exists()

    def test_it_reports_a_damaged_zip(self) -> None:
        data = zipped({"a.md": SEED})
        [outcome] = importing.import_paths(self.user, [("broken.zip", data[:40] + b"garbage" * 10)])
        assert outcome.status == "error"
        assert "damaged" in outcome.message

    def test_it_says_when_a_zip_is_empty(self) -> None:
        [outcome] = importing.import_paths(self.user, [("empty.zip", zipped({}))])
        assert outcome.status == "skipped"
        assert "no files" in outcome.message

    def test_it_writes_many_small_files_together_and_one_bad_file_fails_alone(self) -> None:
        def note(i: int, extra: str = "") -> bytes:
            body = f'---\ntitle: "Note {i}"\nauthor: Ada {i % 3}\ntags:\n  - shared\n{extra}---\n## Highlights\n'
            return (body + f"> Highlight number {i} of a long vault.\n\n> Another line {i}\n").encode()

        files = {f"vault/n{i}.md": note(i) for i in range(6)}
        files["vault/n3.md"] = note(3, "id: " + "9" * 300 + "\n")  # longer than the column: the database refuses it
        files["vault/again.md"] = note(1)  # the same source as n1, later in the same batch
        outcomes = importing.import_paths(self.user, [("vault.zip", zipped(files))])
        assert [o.path for o in outcomes] == [f"vault.zip/{name}" for name in files]
        by_path = {o.path.removeprefix("vault.zip/vault/"): o for o in outcomes}
        assert by_path["n3.md"].status == "error"
        assert "nothing from it was saved" in by_path["n3.md"].message
        assert [by_path[f"n{i}.md"].status for i in (0, 1, 2, 4, 5)] == ["created"] * 5
        assert by_path["again.md"].status == "unchanged"
        assert by_path["again.md"].source_ids == by_path["n1.md"].source_ids
        assert Source.objects.filter(user=self.user).count() == 5
        assert Highlight.objects.filter(user=self.user).count() == 10
        assert set(Source.objects.filter(user=self.user, highlight_count=2).values_list("title", flat=True)) == {
            f"Note {i}" for i in (0, 1, 2, 4, 5)
        }
        assert Tag.objects.get(user=self.user, name="shared").sources.count() == 5
        again = importing.import_paths(self.user, [("vault.zip", zipped(files))])
        assert [o.status for o in again if o.path.endswith("n3.md")] == ["error"]
        assert {o.status for o in again if not o.path.endswith("n3.md")} == {"unchanged"}

    def test_it_writes_documents_of_one_file_in_order_whatever_is_new(self) -> None:
        def doc(title: str, *texts: str) -> Document:
            return Document(title=title, highlights=[Parsed(text=t) for t in texts])

        one(self.user, "b.md", DEFAULT_ARTICLE.encode())  # an existing source
        existing = importing.source_identity(Document(title="The Slow Web", url="https://slow.example/web"))
        assert Source.objects.filter(identity=existing).exists()
        docs = [
            doc("A", "first of A long enough"),
            Document(
                title="The Slow Web",
                url="https://slow.example/web",
                highlights=[Parsed(text="A new line for the slow web")],
            ),
            doc("A", "second of A long enough"),
            doc("C", "only of C long enough"),
            doc("A", "third of A long enough"),
        ]
        outcome = importing.FileOutcome(path="mixed")
        importing._Writer(self.user).write_many([(d, outcome) for d in docs])
        a, slow, c = (Source.objects.get(user=self.user, title=t) for t in ("A", "The Slow Web", "C"))
        assert outcome.source_ids == [a.pk, slow.pk, c.pk]
        assert list(a.highlights.order_by("position").values_list("text", flat=True)) == [
            "first of A long enough",
            "second of A long enough",
            "third of A long enough",
        ]
        assert (outcome.sources_created, outcome.highlights_created) == (2, 5)
        assert slow.highlights.count() == 3

    def test_it_keeps_hostile_names_as_labels_only(self) -> None:
        name = '<script>alert(1)</script>"; rm -rf /.md'
        outcome = one(self.user, name, SEED)
        assert outcome.status == "created"
        assert outcome.path == name


class ConcurrentImportTests(TransactionTestCase):
    def test_it_cannot_duplicate_when_the_same_file_arrives_twice_at_once(self) -> None:
        user = make_user()
        barrier = threading.Barrier(3)
        outcomes: list[importing.FileOutcome] = []

        def run() -> None:
            try:
                barrier.wait()
                outcomes.extend(importing.import_paths(user, [("a.md", RESYNC.encode())]))
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(o.status for o in outcomes) == ["created", "unchanged", "unchanged"]
        assert Source.objects.count() == 1
        assert Highlight.objects.count() == 3
        assert Tag.objects.count() == 1


class PrefixTests(TestCase):
    """A truncated copy adds nothing; a highlight extended later replaces its shorter self."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()

    def clippings(self, *texts: str) -> bytes:
        entry = "Book (Author)\n- Your Highlight on Location {0}-{1} | Added on Monday, 1 January 2024 10:00:00\n\n{2}\n==========\n"
        return "".join(entry.format(10 * i, 10 * i + 5, text) for i, text in enumerate(texts, 1)).encode()

    def test_it_treats_a_shorter_copy_as_already_there(self) -> None:
        one(self.user, "a.txt", self.clippings("The whole of the long sentence, every word.", "Another one entirely."))
        outcome = one(self.user, "a.txt", self.clippings("The whole of the long sent"))
        assert outcome.status == "unchanged"
        assert Highlight.objects.count() == 2

    def test_it_extends_a_highlight_made_longer_later(self) -> None:
        one(self.user, "a.txt", self.clippings("The whole of the long sent"))
        outcome = one(self.user, "a.txt", self.clippings("The whole of the long sentence, every word."))
        assert (outcome.highlights_created, outcome.highlights_updated) == (0, 1)
        [highlight] = Highlight.objects.all()
        assert highlight.text == "The whole of the long sentence, every word."
        again = one(self.user, "a.txt", self.clippings("The whole of the long sentence, every word."))
        assert again.status == "unchanged"

    def test_it_leaves_an_edited_highlight_alone(self) -> None:
        one(self.user, "a.txt", self.clippings("The whole of the long sent"))
        Highlight.objects.update(text="My version of the long sent", edited_at=timezone.now())
        one(self.user, "a.txt", self.clippings("My version of the long sentence continues"))
        assert list(Highlight.objects.values_list("text", flat=True)) == ["My version of the long sent"]

    def test_it_keeps_short_highlights_apart(self) -> None:
        one(self.user, "a.txt", self.clippings("Yes indeed, and more besides."))
        outcome = one(self.user, "a.txt", self.clippings("Yes indeed"))
        assert outcome.highlights_created == 1


class FrontMatterValueTests(TestCase):
    def test_it_imports_front_matter_with_infinite_numbers(self) -> None:
        data = b'---\ntitle: "Odd numbers"\nurl: https://example.org/odd\nscore: .inf\nlow: -.inf\nodd: .nan\n---\n## Highlights\n> A quote. ([View Highlight](https://example.org/h/1))'
        outcome = one(make_user(), "odd.md", data)
        assert outcome.status == "created", outcome.message
        assert Source.objects.get().extra == {"score": ".inf", "low": "-.inf", "odd": ".nan"}


class StatisticsTests(TestCase):
    """A large import brings the planner's statistics up to date at once (`refresh_statistics`)."""

    @staticmethod
    def estimated_links() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'highlights_highlight_tags'")
            return float(cursor.fetchone()[0])

    def tagged(self, count: int) -> bytes:
        tags = " ".join(f"[[t{i}]]" for i in range(count))
        return f"# Tags\n\n## Highlights\n- tagged\n    - Tags: {tags}\n".encode()

    def test_a_large_import_analyzes_the_tables_it_grew(self) -> None:
        user = make_user()
        outcome = one(user, "tags.md", self.tagged(1_500))
        self.assertEqual(outcome.status, "created")
        self.assertEqual(Highlight.objects.get(source__user=user).tags.count(), 1_500)
        self.assertGreaterEqual(self.estimated_links(), 1_500)

    @staticmethod
    def largest() -> int:
        """The estimated rows of the largest table an import grows."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT max(reltuples) FROM pg_class WHERE relname = ANY(%s)", [list(importing.GROWN_TABLES)]
            )
            return int(cursor.fetchone()[0])

    def test_it_analyzes_only_when_the_import_is_a_tenth_of_what_was_there(self) -> None:
        one(make_user(), "tags.md", self.tagged(1_500))  # analyzed: the tables hold 1,500 links or more
        largest = self.largest()  # (or what earlier tests in this database left)
        assert largest >= 1_500
        with CaptureQueriesContext(connection) as seen:
            importing.refresh_statistics(largest // 10 - 1)
        assert not [q for q in seen.captured_queries if q["sql"].startswith("ANALYZE")]
        with CaptureQueriesContext(connection) as seen:
            importing.refresh_statistics(largest // 10 + 1)
        assert [q for q in seen.captured_queries if q["sql"].startswith("ANALYZE")]
        # Tables past ANALYZE_BELOW_ROWS are left to autovacuum, however much was added.
        largest = self.largest()  # as that ANALYZE counted
        with (
            mock.patch.object(importing, "ANALYZE_BELOW_ROWS", largest),
            CaptureQueriesContext(connection) as seen,
        ):
            importing.refresh_statistics(largest * 2)
        assert not [q for q in seen.captured_queries if q["sql"].startswith("ANALYZE")]

    def test_a_small_or_unchanged_import_leaves_it_to_autovacuum(self) -> None:
        user = make_user()
        large = self.tagged(importing.ANALYZE_AFTER_ROWS)
        one(user, "tags.md", large)
        with mock.patch.object(importing, "refresh_statistics") as refresh:
            one(user, "small.md", b"# Small\n\n## Highlights\n- one\n    - Tags: [[a]] [[b]]\n")
            self.assertEqual(one(user, "tags.md", large).status, "unchanged")  # nothing grew
        refresh.assert_not_called()


class ParseAheadTests(TestCase):
    """Many files are parsed in a second process while they are written, with the same results."""

    def setUp(self) -> None:
        # These files are small: let them count as enough bytes for a parsing process.
        patched = mock.patch.object(importing, "PARSE_AHEAD_AFTER_BYTES", 0)
        patched.start()
        self.addCleanup(patched.stop)

    def files(self) -> list[tuple[str, bytes]]:
        notes = [
            (f"vault/note {n}.md", f"# Note {n}\n\n## Highlights\n- Line {n} of the vault.\n".encode())
            for n in range(importing.PARSE_AHEAD_AFTER + 15)
        ]
        notes.insert(25, ("vault/junk.md", b"\x00\x01binary junk" * 50))
        notes.insert(30, ("vault/empty.md", b"# Empty\n\nNo highlights here.\n"))
        return notes

    def test_it_imports_many_files_as_it_would_one_at_a_time(self) -> None:
        files = self.files()
        user, other = make_user(), make_user("other")
        with mock.patch.object(importing, "PARSE_AHEAD_AFTER", 10**9):  # never a second process
            alone = importing.import_paths(other, files)
        ahead = importing.import_paths(user, files)
        assert [(o.path, o.status, o.message) for o in ahead] == [(o.path, o.status, o.message) for o in alone]
        assert [o.path for o in ahead] == [name for name, _ in files]
        assert Highlight.objects.filter(source__user=user).count() == importing.PARSE_AHEAD_AFTER + 15
        junk = next(o for o in ahead if o.path == "vault/junk.md")
        assert junk.status == "error" and "binary" in junk.message

    def test_it_parses_ahead_in_another_process(self) -> None:
        uploads = [importing.Upload(path=name, data=data) for name, data in self.files()]
        with mock.patch.object(importing.detect, "parse", side_effect=AssertionError("parsed here")):
            parsed = list(importing.parse_ahead(uploads))
        # The first files are left to be parsed here (None); the rest come parsed by the parsing
        # process, which never calls this process's (broken) `parse`.
        assert [upload for upload, _ in parsed] == uploads
        assert all(result is None for _, result in parsed[: importing.PARSE_AHEAD_AFTER])
        later = [result for _, result in parsed[importing.PARSE_AHEAD_AFTER :]]
        errors = [str(result) for result in later if isinstance(result, ParseError)]
        assert sum(isinstance(result, ParseResult) for result in later) == len(later) - len(errors)
        assert errors[0] == "this is a binary file, not a text export"
        assert errors[1:] == [str(importing.detect.parse_or_error(self.files()[30][1]))]  # the empty note

    def test_a_parsing_process_that_stops_leaves_the_parsing_here(self) -> None:
        class Stopped:
            """A pool whose process died: what it had is lost, and it takes nothing more."""

            def __init__(self, **options: object) -> None:
                self.submitted = 0

            def submit(self, *args: object) -> Future[object]:
                self.submitted += 1
                if self.submitted > 3:
                    raise BrokenProcessPool("gone")
                future: Future[object] = Future()
                future.set_exception(BrokenProcessPool("gone"))
                return future

            def shutdown(self, **options: object) -> None:
                pass

        user = make_user()
        with (
            mock.patch.object(importing, "ProcessPoolExecutor", Stopped),
            self.assertLogs("archive.importing", "WARNING"),
        ):
            outcomes = importing.import_paths(user, self.files())
        assert len(outcomes) == len(self.files())
        assert Highlight.objects.filter(source__user=user).count() == importing.PARSE_AHEAD_AFTER + 15

    def test_a_few_small_files_are_parsed_here(self) -> None:
        files = self.files()
        with (
            mock.patch.object(importing, "PARSE_AHEAD_AFTER_BYTES", sum(len(data) for _, data in files) + 1),
            mock.patch.object(importing, "ProcessPoolExecutor", side_effect=AssertionError("a process was started")),
        ):
            outcomes = importing.import_paths(make_user(), files)
        assert len(outcomes) == len(files)
        assert sum(o.status == "created" for o in outcomes) == importing.PARSE_AHEAD_AFTER + 15


class CopyRowsTests(TestCase):
    """`copy_rows` sends rows as they are made; a promised count bounds them."""

    def setUp(self) -> None:
        self.user = make_user()
        self.now = timezone.now()

    def rows(self, *names: str):  # type: ignore[no-untyped-def]
        for name in names:
            yield {"user_id": self.user.pk, "name": name, "created_at": self.now}

    def test_fewer_rows_than_promised_take_only_the_ids_they_need(self) -> None:
        ids = importing.copy_rows(Tag, self.rows("a", "b"), 5)
        self.assertEqual(len(ids), 2)
        self.assertEqual(
            dict(Tag.objects.filter(pk__in=ids).values_list("pk", "name")), dict(zip(ids, "ab", strict=True))
        )

    def test_more_rows_than_promised_are_refused(self) -> None:
        with self.assertRaisesMessage(ValueError, "more than the 1 rows promised"), transaction.atomic():
            importing.copy_rows(Tag, self.rows("a", "b"), 1)
        self.assertFalse(Tag.objects.filter(user=self.user).exists())

    def test_a_repeat_inside_a_file_leaves_no_gap_in_positions(self) -> None:
        data = b"# Book\n\n## Highlights\n- one\n- two\n- one\n- three\n"
        outcome = one(self.user, "book.md", data)
        self.assertEqual(outcome.highlights_created, 3)
        positions = list(Highlight.objects.filter(source__user=self.user).order_by("position"))
        self.assertEqual([(h.position, h.text) for h in positions], [(0, "one"), (1, "two"), (2, "three")])


class ParallelBatchTests(TransactionTestCase):
    """Outside a transaction, batches of files are written two at a time on two connections,
    with the same result as one after the other."""

    def vault(self) -> list[tuple[str, bytes]]:
        files = []
        for i in range(24):
            # Notes 6-8 are notes 3-5 again, re-synced: in the batch after theirs (of three
            # files), written at the same time (the first batch is written before the others).
            key = i - 3 if 6 <= i < 9 else i
            # Shared tags, which the first batch makes, and one of each note's own (the batches
            # written at once make no tag in common, which would make one wait for the other).
            tags = f"[[shared]] [[t{i % 3}]] [[new{i}]]"
            files.append(
                (
                    f"note {i}.md",
                    f"# Note {key}\n\n## Metadata\n- Author: [[Ada {i % 3}]]\n- URL: https://example.net/{key}\n\n"
                    f"## Highlights\n- First of {key}.\n    - Tags: {tags}\n- Line {i} alone.\n".encode(),
                )
            )
        return files

    def archive(self, user) -> dict[str, object]:  # type: ignore[no-untyped-def]
        sources = {
            s.identity: (s.title, s.highlight_count, sorted(a.name for a in s.authors.all()))
            for s in Source.objects.filter(user=user).prefetch_related("authors")
        }
        highlights = sorted(
            (h.source.identity, h.position, h.text, tuple(sorted(t.name for t in h.tags.all())))
            for h in Highlight.objects.filter(user=user).select_related("source").prefetch_related("tags")
        )
        tags = sorted(Tag.objects.filter(user=user).values_list("name", "highlight_count"))
        return {"sources": sources, "highlights": highlights, "tags": tags}

    def test_two_writers_leave_what_one_leaves(self) -> None:
        together, alone = make_user(), make_user()
        spans: list[tuple[float, float, str, set[str]]] = []  # each batch: when, where, which notes
        real = importing._write_batch

        def write_batch(user, files):  # type: ignore[no-untyped-def]
            started = time.monotonic()
            written = real(user, files)
            titles = {doc.title for _, result in files for doc in result.documents}
            spans.append((started, time.monotonic(), threading.current_thread().name, titles))
            return written

        with (
            mock.patch.object(importing, "BATCH_FILES", 3),
            mock.patch.object(importing, "PARALLEL_AFTER_BYTES", 0),
            mock.patch.object(importing, "_write_batch", write_batch),
        ):
            outcomes = importing.import_paths(together, self.vault())
            with mock.patch.object(importing, "WRITERS", 1):
                expected = importing.import_paths(alone, self.vault())
        threads = {name for _, _, name, _ in spans}
        assert {"import-writer-0", "import-writer-1"} <= threads, threads
        # Notes 3-5 and their re-synced copies were not written at the same time.
        for start, end, _, titles in spans:
            for other_start, other_end, _, other_titles in spans:
                if titles & other_titles and (start, end) != (other_start, other_end):
                    assert end <= other_start or other_end <= start, (titles, other_titles)
        self.assertEqual([(o.path, o.status) for o in outcomes], [(o.path, o.status) for o in expected])
        self.assertEqual([o.status for o in outcomes[6:9]], ["updated"] * 3)  # each adds its own line
        self.assertEqual(self.archive(together), self.archive(alone))
        self.assertEqual(Source.objects.filter(user=together).count(), 21)
        self.assertEqual(Highlight.objects.filter(user=together).count(), 21 + 24)

    def test_a_writer_that_fails_stops_the_import_instead_of_hanging_it(self) -> None:
        user = make_user()
        real = importing._write_batch

        def write_batch(user, files):  # type: ignore[no-untyped-def]
            if threading.current_thread().name.startswith("import-writer"):
                raise RuntimeError("disk on fire")
            return real(user, files)

        with (
            mock.patch.object(importing, "BATCH_FILES", 3),
            mock.patch.object(importing, "PARALLEL_AFTER_BYTES", 0),
            mock.patch.object(importing, "_write_batch", write_batch),
            self.assertRaisesMessage(RuntimeError, "disk on fire"),
        ):
            importing.import_paths(user, self.vault())
        assert not [t for t in threading.enumerate() if t.name.startswith("import-writer")]

    def test_an_import_under_a_megabyte_is_written_in_its_own_thread(self) -> None:
        written_in = []
        real = importing._write_batch

        def write_batch(user, files):  # type: ignore[no-untyped-def]
            written_in.append(threading.current_thread().name)
            return real(user, files)

        with mock.patch.object(importing, "BATCH_FILES", 3), mock.patch.object(importing, "_write_batch", write_batch):
            outcomes = importing.import_paths(make_user(), self.vault())
        self.assertEqual(set(written_in), {threading.current_thread().name})
        self.assertEqual(len(written_in), 8)
        assert all(o.status in ("created", "updated") for o in outcomes)
