"""Large exports written by worker processes: the very bytes one process writes, read from the
archive as it was when the export began, and finished here should a worker stop."""

from __future__ import annotations

import io
import threading
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import Any
from unittest import mock

from django.db import connections
from django.test import SimpleTestCase, TransactionTestCase

from archive import exporting, workers
from archive.formats.document import Document, Highlight
from archive.models import ExportSettings
from highlights.models import Highlight as HighlightRow
from tests.archive.test_export import add_source, rich_archive
from tests.factories import make_user


def in_thread[T](job: Callable[[], T]) -> T:
    """`job` on another thread, so on another connection to the database (closed after)."""
    result: list[T] = []

    def run() -> None:
        try:
            result.append(job())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result[0]


class SpreadExportTests(TransactionTestCase):
    """Workers read what is committed, so these tests commit (TransactionTestCase)."""

    def setUp(self) -> None:
        self.user = make_user("spread")
        rich_archive(self.user)
        for i in range(24):
            highlights = [Highlight(text=f"Passage {i}.{j}", tags=[f"t{j % 3}"]) for j in range(i % 5 + 1)]
            add_source(self.user, Document(title=f"Volume {i}", author=f"Writer {i % 4}", highlights=highlights))

    def spread(self, **sizes: int) -> Any:
        """Workers on every export, however small, in batches of a few sources."""
        return mock.patch.multiple(workers, WORKERS=2, SPREAD_AFTER=0, BATCH_SOURCES=3, **sizes)

    def here(self) -> Any:
        return mock.patch.object(workers, "WORKERS", 1)

    def test_workers_write_the_zip_one_process_writes(self) -> None:
        ExportSettings.objects.update_or_create(user=self.user, defaults={"layout": ExportSettings.Layout.READWISE})
        style = exporting.renderer_for(self.user)
        with self.here():
            alone = b"".join(exporting.stream_zip(exporting.select_sources(self.user, {}), style))
        with self.spread(), self.assertNoLogs("archive.workers", "WARNING"):  # no batch fell back here
            spread = b"".join(exporting.stream_zip(exporting.select_sources(self.user, {}), style))
        assert spread == alone
        with zipfile.ZipFile(io.BytesIO(spread)) as archive:
            assert archive.testzip() is None
            assert len(archive.namelist()) == 26  # the two live sources of rich_archive, and the 24
            assert archive.read("Uncategorised/Volume 3.md").decode().count("Passage 3.") == 4

    def test_workers_write_the_json_backup_one_process_writes(self) -> None:
        def backup() -> str:
            sources = exporting.select_sources(self.user, {}, trash=True)
            return "".join(exporting.stream_json(sources, indent=2, tags=exporting.unused_tags(self.user)))

        with self.here():
            alone = backup()
        with self.spread(), self.assertNoLogs("archive.workers", "WARNING"):
            spread = backup()
        assert spread == alone
        assert '"Gone but kept"' in spread  # a source in the trash: a backup keeps it

    def test_a_small_export_is_written_here(self) -> None:
        with mock.patch.object(workers, "_pool", side_effect=AssertionError("no workers for 41 highlights")):
            zipped = b"".join(exporting.stream_zip(exporting.select_sources(self.user, {})))
        assert zipfile.ZipFile(io.BytesIO(zipped)).testzip() is None

    def test_workers_read_the_archive_as_it_was_when_the_export_began(self) -> None:
        row = HighlightRow.objects.get(user=self.user, text="Passage 7.0")
        with workers._snapshot() as snapshot:
            # Committed by another connection after the export began...
            in_thread(lambda: HighlightRow.objects.filter(pk=row.pk).update(text="Rewritten later"))
            # ...is not what a worker of this export reads.
            books = in_thread(
                lambda: workers._run(snapshot, "UTC", exporting._json_batch, [row.source_id], (True, None))
            )
        assert "Passage 7.0" in books[0] and "Rewritten later" not in books[0]
        assert "Rewritten later" in exporting._json_batch([row.source_id], True, None)[0]  # a later export does

    def test_a_stopped_worker_leaves_its_batch_to_this_process(self) -> None:
        ids = list(exporting.select_sources(self.user, {}).values_list("pk", flat=True)[:3])
        broken: Future[list[exporting.ZipEntry]] = Future()
        broken.set_exception(BrokenProcessPool("a worker was killed"))
        style = exporting.Style()
        with self.assertLogs("archive.workers", "WARNING") as logs:
            entries = workers._result(ids, broken, exporting._zip_batch, (style,))
        assert "working on this batch of the export here" in logs.output[0]
        assert entries == exporting._zip_batch(ids, style)
        assert [entry.filename for entry in entries] == [
            "Why Nations Fail.md",
            "On Keeping Notes Why — 🙂.md",
            "Volume 0.md",
        ]


class BatchTests(SimpleTestCase):
    def test_batches_keep_the_order_and_hold_about_a_batch_of_highlights(self) -> None:
        counts = [(pk, 700) for pk in range(1, 8)] + [(8, 5000), (9, 0), (10, 1)]
        with mock.patch.multiple(workers, BATCH_HIGHLIGHTS=2000, BATCH_SOURCES=200):
            assert workers.batches(counts) == [[1, 2, 3], [4, 5, 6], [7, 8], [9, 10]]

    def test_batches_hold_at_most_a_batch_of_sources(self) -> None:
        counts = [(pk, 0) for pk in range(1, 8)]
        with mock.patch.multiple(workers, BATCH_HIGHLIGHTS=2000, BATCH_SOURCES=3):
            assert workers.batches(counts) == [[1, 2, 3], [4, 5, 6], [7]]
        assert workers.batches([]) == []


class DeflatedEntryTests(SimpleTestCase):
    def entry(self, name: str, text: str) -> exporting.ZipEntry:
        data = text.encode()
        deflate = zlib.compressobj(1, zlib.DEFLATED, -15)
        deflated = deflate.compress(data) + deflate.flush()
        return exporting.ZipEntry("Books", name, (2024, 5, 1, 12, 30, 0), zlib.crc32(data), len(data), deflated)

    def test_an_entry_deflated_elsewhere_reads_back_as_written(self) -> None:
        buffer = exporting.StreamBuffer()
        with zipfile.ZipFile(buffer, "w") as archive:  # unseekable, as when streamed
            for name, text in (("Ünïcode 📚.md", "# Title\n\n" + "Words, words. " * 500), ("empty.md", "")):
                entry = self.entry(name, text)
                exporting.add_deflated(archive, zipfile.ZipInfo(f"Books/{name}", date_time=entry.when), entry)
        with zipfile.ZipFile(io.BytesIO(buffer.take())) as archive:
            assert archive.testzip() is None
            assert archive.namelist() == ["Books/Ünïcode 📚.md", "Books/empty.md"]
            assert archive.read("Books/Ünïcode 📚.md").decode().startswith("# Title\n\nWords, words.")
            assert archive.read("Books/empty.md") == b""
            info = archive.getinfo("Books/empty.md")
            assert info.date_time == (2024, 5, 1, 12, 30, 0) and info.compress_type == zipfile.ZIP_DEFLATED

    def test_a_zip_of_more_than_65535_files_needs_and_gets_zip64(self) -> None:
        buffer = exporting.StreamBuffer()
        entry = self.entry("x.md", "a highlight")
        with zipfile.ZipFile(buffer, "w") as archive:
            for i in range(70_000):
                exporting.add_deflated(archive, zipfile.ZipInfo(f"Books/{i}.md", date_time=entry.when), entry)
        with zipfile.ZipFile(io.BytesIO(buffer.take())) as archive:
            assert len(archive.infolist()) == 70_000
            assert archive.read("Books/69999.md") == b"a highlight"
