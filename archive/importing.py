"""Writing parsed documents to the database, idempotently.

The rules (DESIGN.md): importing the same file twice changes nothing; a re-sync adds only what is
new; what the user did in Commonplace is never overwritten; nothing is deleted; a file imports
completely or not at all, and one bad file never stops the others.
"""

from __future__ import annotations

import bisect
import collections
import datetime as dt
import io
import logging
import multiprocessing
import queue
import stat
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, OperationalError, connection, connections, models, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from archive.formats import detect
from archive.formats.document import Document, ParseError, ParseResult
from archive.formats.document import Highlight as ParsedHighlight
from archive.models import (
    Author,
    ImportFile,
    ImportJob,
    Source,
    SourceAlias,
    SourceAuthor,
    normalise_key,
)
from highlights import pagecache
from highlights.models import Highlight, Tag, fingerprint

logger = logging.getLogger(__name__)

# The shortest text that may be recognised as the start of a longer highlight (see match_by_prefix).
PREFIX_MIN = 12

# Files inside a zip that are never exports: folders' metadata, Obsidian's settings, macOS forks.
IGNORED_PARTS = {"__MACOSX", ".obsidian", ".trash", ".git"}


@dataclass
class FileOutcome:
    path: str
    format: str = ""
    status: str = ImportFile.Status.UNCHANGED
    sources_created: int = 0
    sources_updated: int = 0
    sources_unchanged: int = 0
    highlights_created: int = 0
    highlights_updated: int = 0
    highlights_unchanged: int = 0
    skipped: int = 0
    in_trash: int = 0
    message: str = ""
    source_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class NewHighlight:
    """A highlight about to be inserted: its column values (by attribute name) and its tags."""

    values: dict[str, Any]
    tags: list[str]


class ArchiveError(ValueError):
    """A zip that cannot be imported at all (damaged, or a zip bomb); the message says why."""


@dataclass
class Upload:
    """One file to import: its label (a path, for people), its bytes, or why it can't be read."""

    path: str
    data: bytes = b""
    error: str = ""


ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def _limit_mb(name: str) -> int:
    return int(getattr(settings, name)) * 1024 * 1024


def expand(name: str, data: bytes) -> list[Upload]:
    """One upload as the files it holds: a zip becomes its members, anything else itself.

    Guards against zip bombs (the expanded size is counted while reading, never trusted from
    the header, and capped by MAX_UNZIPPED_MB), oversized members (MAX_FILE_MB), member names
    that leave the archive (absolute or `..`: reported, not imported; nothing is ever written
    to disk anyway), nested zips (reported, not opened) and encrypted members.
    """
    if not data.startswith(ZIP_MAGIC):
        if len(data) > _limit_mb("COMMONPLACE_MAX_FILE_MB"):
            return [Upload(name, error=f"the file is larger than {settings.COMMONPLACE_MAX_FILE_MB} MB (MAX_FILE_MB)")]
        return [Upload(name, data)]
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ArchiveError(f"the zip archive is damaged ({error})") from None
    budget = _limit_mb("COMMONPLACE_MAX_UNZIPPED_MB")
    per_file = _limit_mb("COMMONPLACE_MAX_FILE_MB")
    members: list[Upload] = []
    with archive:
        infos = archive.infolist()
        # Checked from the directory before anything is unpacked; the sizes it claims are
        # checked again while reading, as a hostile zip may lie about them.
        if len(infos) > settings.COMMONPLACE_MAX_ZIP_FILES:
            raise ArchiveError(
                f"the zip holds {len(infos):,} entries, more than the {settings.COMMONPLACE_MAX_ZIP_FILES:,} "
                "allowed (MAX_ZIP_FILES); split it"
            )
        claimed = sum(info.file_size for info in infos)
        if claimed > budget:
            raise ArchiveError(_too_big())
        ratio = claimed / max(len(data), 1)
        if claimed > 1024 * 1024 and ratio > settings.COMMONPLACE_MAX_ZIP_RATIO:
            raise ArchiveError(
                f"the zip expands {ratio:,.0f} times (more than MAX_ZIP_RATIO={settings.COMMONPLACE_MAX_ZIP_RATIO}); "
                "a zip bomb, not an export; nothing from it was imported"
            )
        for info in infos:
            raw = info.filename.replace("\\", "/")
            parts = [part for part in raw.split("/") if part not in {"", "."}]
            if info.is_dir() or not parts or stat.S_ISLNK(info.external_attr >> 16):
                continue
            label = f"{name}/{'/'.join(parts)}"
            if raw.startswith("/") or ".." in parts or (len(parts[0]) == 2 and parts[0][1] == ":"):
                members.append(Upload(label, error="its path points outside the zip; not imported"))
                continue
            if any(part in IGNORED_PARTS or part.startswith(".") for part in parts):
                continue  # Obsidian settings, macOS resource forks, hidden files: not exports
            if info.file_size > per_file:
                members.append(Upload(label, error=f"larger than {settings.COMMONPLACE_MAX_FILE_MB} MB (MAX_FILE_MB)"))
                continue
            try:
                with archive.open(info) as member:
                    content = member.read(min(per_file, budget) + 1)
            except RuntimeError as error:  # encrypted
                members.append(Upload(label, error=f"cannot be unpacked: {error}"))
                continue
            except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, zlib.error) as error:
                members.append(Upload(label, error=f"is damaged inside the zip ({error})"))
                continue
            budget -= len(content)
            if budget < 0:
                raise ArchiveError(_too_big())
            if len(content) > per_file:
                members.append(Upload(label, error=f"larger than {settings.COMMONPLACE_MAX_FILE_MB} MB (MAX_FILE_MB)"))
            elif content.startswith(ZIP_MAGIC):
                members.append(Upload(label, error="a zip inside the zip is not opened; unzip it and upload its files"))
            else:
                members.append(Upload(label, content))
    return members


def _too_big() -> str:
    return (
        f"the zip expands to more than {settings.COMMONPLACE_MAX_UNZIPPED_MB} MB (MAX_UNZIPPED_MB): a zip bomb, "
        "or an archive to split; nothing from it was imported"
    )


def import_file(user: User, upload: Upload) -> FileOutcome:
    """Parse one file and write it in a single transaction; never raises for bad input."""
    prepared = _prepare(upload)
    if isinstance(prepared, FileOutcome):
        return prepared
    return _write_file(user, upload.path, prepared)


def _prepare(upload: Upload, parsed: ParseResult | ParseError | None = None) -> FileOutcome | ParseResult:
    """A file parsed (here, or already: `parsed`) and ready to write, or the outcome of a file
    with nothing to write."""
    outcome = FileOutcome(path=upload.path)
    if upload.error:
        outcome.status, outcome.message = ImportFile.Status.ERROR, upload.error
        return outcome
    try:
        if isinstance(parsed, ParseError):
            raise parsed
        result = parsed or detect.parse(upload.data)
    except ParseError as error:
        outcome.status, outcome.message = ImportFile.Status.ERROR, str(error)
        return outcome
    outcome.format = result.format
    count = sum(len(doc.highlights) for doc in result.documents)
    if count > settings.COMMONPLACE_MAX_HIGHLIGHTS_PER_FILE:
        outcome.status = ImportFile.Status.ERROR
        outcome.message = (
            f"{count:,} highlights in one file, more than the {settings.COMMONPLACE_MAX_HIGHLIGHTS_PER_FILE:,} "
            "allowed (MAX_HIGHLIGHTS_PER_FILE); split the file"
        )
        return outcome
    if not any(_worth_writing(doc) for doc in result.documents):
        outcome.status = ImportFile.Status.SKIPPED
        outcome.skipped = result.skipped
        said = any("no highlights" in warning.lower() for warning in result.warnings)
        outcome.message = "; ".join(result.warnings if said else ["no highlights found", *result.warnings])
        return outcome
    return result


DEADLOCK = "40P01"  # Postgres's error code for transactions that waited on each other


def _collided(error: Exception) -> bool:
    """Whether another import writing at the same moment stopped this one: the database's unique
    constraints refused a duplicate (read again, and merge), or the two waited on each other and
    the database stopped this one (try again)."""
    if isinstance(error, IntegrityError):
        return True
    return isinstance(error, OperationalError) and getattr(error.__cause__, "sqlstate", None) == DEADLOCK


def _write_file(user: User, path: str, result: ParseResult) -> FileOutcome:
    """Write one parsed file in a single transaction, retrying when a concurrent import collides."""
    for attempt in range(3):
        outcome = FileOutcome(path=path, format=result.format, skipped=result.skipped)
        try:
            with transaction.atomic():
                writer = _Writer(user)
                writer.write_many([(doc, outcome) for doc in result.documents if _worth_writing(doc)])
                writer.drop_unused_tags()
                writer.preload_tags(result.tags)  # a backup's tags that nothing carries
            break
        except Exception as error:
            if not _collided(error):
                logger.exception("import of %s failed", path)
                return _failed(path, result.format, "an unexpected error stopped this file; nothing from it was saved")
            if attempt < 2:
                continue
            logger.exception("import of %s kept colliding with another import", path)
            return _failed(
                path, result.format, "another import of the same file kept colliding with this one; try again"
            )
    return _finished(user, [outcome], [result])[0]


def _finished(user: User, outcomes: list[FileOutcome], results: list[ParseResult]) -> list[FileOutcome]:
    """Each written file's status and summary; the reader's kept pages are stale if any changed."""
    for outcome, result in zip(outcomes, results, strict=True):
        _conclude(outcome, result)
    if any(outcome.status != ImportFile.Status.UNCHANGED for outcome in outcomes):
        pagecache.changed(user.pk)
    return outcomes


def _conclude(outcome: FileOutcome, result: ParseResult) -> None:
    if outcome.sources_created:
        outcome.status = ImportFile.Status.CREATED
    elif outcome.highlights_created or outcome.highlights_updated or outcome.sources_updated:
        outcome.status = ImportFile.Status.UPDATED
    else:
        outcome.status = ImportFile.Status.UNCHANGED
    outcome.message = _summary(outcome, result.warnings)


# Small files (a vault's notes) are written many to a transaction: far fewer statements, and the
# database's per-statement work (count triggers, index upkeep) is shared. Each file still imports
# completely or not at all: if anything in a batch fails, the batch is rolled back and its files
# are written again one at a time, so the file at fault fails alone.
BATCH_FILES = 200
BATCH_HIGHLIGHTS = 5_000


def _write_batch(user: User, files: list[tuple[Upload, ParseResult]]) -> list[FileOutcome]:
    if len(files) == 1:
        upload, result = files[0]
        return [_write_file(user, upload.path, result)]
    outcomes = [FileOutcome(path=upload.path, format=result.format, skipped=result.skipped) for upload, result in files]
    try:
        with transaction.atomic():
            writer = _Writer(user)
            writer.write_many(
                [
                    (doc, outcome)
                    for (_upload, result), outcome in zip(files, outcomes, strict=True)
                    for doc in result.documents
                    if _worth_writing(doc)
                ]
            )
            writer.drop_unused_tags()
            writer.preload_tags(name for _upload, result in files for name in result.tags)
    except Exception:
        logger.info("a batch of %d files failed; writing them one at a time", len(files), exc_info=True)
        return [_write_file(user, upload.path, result) for upload, result in files]
    return _finished(user, outcomes, [result for _upload, result in files])


def import_uploads(user: User, uploads: Iterable[Upload | FileOutcome]) -> list[FileOutcome]:
    """Import many files, in order, each standing or falling on its own (small ones written in batches).

    Read lazily: a batch is written before more files are read. An outcome in `uploads` (a file
    already known to be unreadable) is passed through in its place.
    """
    outcomes: list[FileOutcome | None] = []
    pending: list[tuple[int, Upload, ParseResult]] = []
    weight = 0
    rows = 0  # highlights and tag links read, for `refresh_statistics`

    def store(batch: list[tuple[int, Upload, ParseResult]], written: list[FileOutcome]) -> None:
        for (index, _, _), outcome in zip(batch, written, strict=True):
            outcomes[index] = outcome

    read = 0  # bytes
    with _BatchWriters(user, store) as writers:
        for upload, parsed in parse_ahead(uploads):
            read += len(upload.data) if isinstance(upload, Upload) else 0
            prepared = upload if isinstance(upload, FileOutcome) else _prepare(upload, parsed)
            outcomes.append(prepared if isinstance(prepared, FileOutcome) else None)
            if isinstance(prepared, FileOutcome):
                continue
            assert isinstance(upload, Upload)
            pending.append((len(outcomes) - 1, upload, prepared))
            highlights = sum(len(doc.highlights) for doc in prepared.documents)
            weight += highlights
            rows += highlights + sum(
                len(doc.tags) + sum(len(h.tags) for h in doc.highlights) for doc in prepared.documents
            )
            if len(pending) >= BATCH_FILES or weight >= BATCH_HIGHLIGHTS:
                writers.write(pending, at_once=read >= PARALLEL_AFTER_BYTES)
                pending, weight = [], 0
        if pending:
            writers.write(pending, at_once=read >= PARALLEL_AFTER_BYTES)
    done = [outcome for outcome in outcomes if outcome is not None]
    if rows >= ANALYZE_AFTER_ROWS and any(o.status in GROWING for o in done):
        refresh_statistics(rows)
    return done


# Two batches are written at once, each in its own transaction on its own connection: while the
# database stores one batch's highlights, Python makes the other's, and on two cores the database
# works on both (a tenth to a fifth faster). A batch with a source in common with one being
# written (a note twice in a vault) waits for it, so files still land in order: the later one
# merges into what the earlier made. Only once an import has read a megabyte: smaller uploads are
# imported inside the web request (see BACKGROUND_IMPORT_KB), whose process's pool of
# connections the writers would draw on.
WRITERS = 2
PARALLEL_AFTER_BYTES = 1024 * 1024


class _BatchWriters:
    """Writes batches of files (`_write_batch`) in worker threads, `WRITERS` at once, handing each
    batch's outcomes to `store`. Inside a transaction (a caller's, a test's) the batches are
    written here, one after the other: another connection would not see what that transaction
    holds, nor roll back with it."""

    def __init__(self, user: User, store: Callable[[Batch, list[FileOutcome]], None]) -> None:
        self.user, self.store = user, store
        self.parallel = WRITERS > 1 and not connection.in_atomic_block
        self.written = False  # a batch was written
        self.threads: list[threading.Thread] = []
        self.jobs: queue.Queue[tuple[Batch, set[str]] | None] = queue.Queue(maxsize=1)  # one waits, at most
        self.changed = threading.Condition()  # guards `flying` and `errors`
        self.flying: list[set[str]] = []  # the source identities of each batch queued or being written
        self.errors: list[BaseException] = []

    def __enter__(self) -> _BatchWriters:
        return self

    def write(self, batch: Batch, at_once: bool = True) -> None:
        """Write `batch`, here or (`at_once`, and not the first) beside the one being written."""
        if not (self.parallel and at_once) or not self.written:
            # The first batch here: an import of one batch (most uploads) starts no thread and
            # opens no connection.
            self.written = True
            self._write(batch)
            return
        if len(self.threads) < WRITERS:
            thread = threading.Thread(target=self._work, name=f"import-writer-{len(self.threads)}", daemon=True)
            thread.start()
            self.threads.append(thread)
        names = {name for _, _, result in batch for doc in result.documents for name in (_identity(doc), *doc.aliases)}
        with self.changed:
            self.changed.wait_for(lambda: self.errors or not any(names & other for other in self.flying))
            if self.errors:
                raise self.errors[0]
            self.flying.append(names)
        while not self._put((batch, names)):
            pass

    def _put(self, item: tuple[Batch, set[str]] | None) -> bool:
        """Queue `item`, waiting at most half a second; raise what a writer raised."""
        if self.errors:
            raise self.errors[0]
        try:
            self.jobs.put(item, timeout=0.5)
        except queue.Full:
            return False
        return True

    def _write(self, batch: Batch) -> None:
        self.store(batch, _write_batch(self.user, [(upload, result) for _, upload, result in batch]))

    def _work(self) -> None:
        try:
            while (job := self.jobs.get()) is not None:
                batch, names = job
                try:
                    self._write(batch)
                except BaseException as error:  # raised in the importing thread (see `write`, `__exit__`)
                    with self.changed:
                        self.errors.append(error)
                    return
                finally:
                    with self.changed:
                        self.flying.remove(names)
                        self.changed.notify_all()
        finally:
            connections.close_all()  # this thread's own connection

    def __exit__(self, *exc_info: object) -> None:
        stopped = 0
        while stopped < len(self.threads) and any(thread.is_alive() for thread in self.threads):
            try:
                self.jobs.put(None, timeout=0.5)  # one per thread: each stops at the first it takes
                stopped += 1
            except queue.Full:
                continue
        for thread in self.threads:
            thread.join()
        if self.errors and exc_info[0] is None:
            raise self.errors[0]


Batch = list[tuple[int, Upload, ParseResult]]


# Parsing is about a third of an import's time. Once an import proves to have many files (a
# vault, a zip of one) and a megabyte of them, a second process parses the files ahead while this
# one writes, so the two run on two cores. Fewer or smaller files are parsed here: starting a
# process (0.3 s) costs more than parsing a megabyte of notes here would (about half a second).
PARSE_AHEAD_AFTER = 20  # files
PARSE_AHEAD_AFTER_BYTES = 1024 * 1024
# Parsed ahead of the file being written, at most: a batch's worth (see BATCH_FILES), so the next
# batch is parsed while one is written, within a bound on the bytes held.
PARSE_AHEAD_FILES = 200
PARSE_AHEAD_BYTES = 64 * 1024 * 1024


def parse_ahead(uploads: Iterable[Upload | FileOutcome]) -> Iterator[tuple[Upload | FileOutcome, Parsed]]:
    """Each upload with what parsing it gave (None: parse it here), in order."""
    window: collections.deque[tuple[Upload | FileOutcome, Future[ParseResult | ParseError] | None]]
    window = collections.deque()
    pool: ProcessPoolExecutor | None = None
    held = 0  # bytes in the window
    seen = 0  # bytes read so far
    started = False  # a parsing process was started (it may have stopped since)

    def oldest() -> tuple[Upload | FileOutcome, Parsed]:
        nonlocal held
        upload, future = window.popleft()
        held -= len(upload.data) if isinstance(upload, Upload) else 0
        return _parsed(upload, future)

    try:
        for count, upload in enumerate(uploads):
            seen += len(upload.data) if isinstance(upload, Upload) else 0
            if not started and count >= PARSE_AHEAD_AFTER and seen >= PARSE_AHEAD_AFTER_BYTES:
                # A fresh interpreter (not a fork of this one, with its threads and connections),
                # which imports only the parsers.
                pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("forkserver"))
                started = True
            future = None
            if pool is not None and isinstance(upload, Upload) and not upload.error:
                try:
                    future = pool.submit(detect.parse_or_error, upload.data)
                except BrokenProcessPool:  # it stopped: the rest are parsed here (see `_parsed`)
                    pool.shutdown(wait=False)
                    pool = None
            window.append((upload, future))
            held += len(upload.data) if isinstance(upload, Upload) else 0
            while window and (pool is None or len(window) > PARSE_AHEAD_FILES or held > PARSE_AHEAD_BYTES):
                yield oldest()
        while window:
            yield oldest()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


Parsed = ParseResult | ParseError | None


def _parsed(
    upload: Upload | FileOutcome, future: Future[ParseResult | ParseError] | None
) -> tuple[Upload | FileOutcome, Parsed]:
    if future is None:
        return upload, None
    try:
        return upload, future.result()
    except BrokenProcessPool:
        logger.warning("the parsing process stopped; parsing %s here", getattr(upload, "path", "a file"))
        return upload, None


# After a large import the planner must know at once how big the tables became: with the
# statistics of an emptier archive it picks plans that are quadratic in what was just added (one
# highlight's 20,000 tags took minutes to list). Autovacuum would catch up, a minute or more later.
ANALYZE_AFTER_ROWS = 1_000
GROWING = {ImportFile.Status.CREATED, ImportFile.Status.UPDATED}
GROWN_TABLES = ("archive_source", "highlights_highlight", "highlights_highlight_tags", "highlights_tag")
# Tables this large are left to autovacuum (see `refresh_statistics`).
ANALYZE_BELOW_ROWS = 200_000
# The columns plans join, filter and sort on. The statistics of texts and search vectors (most of
# ANALYZE's time: 1.8 s of tables at a million highlights, 0.8 s without them) change little as
# an archive grows, and autovacuum brings them up to date soon after.
ANALYZED = {
    "archive_source": "id, user_id, identity, deleted_at, edited_at, created_at, last_highlighted_at, "
    "highlight_count, category, origin, title_key, author_key",
    "highlights_highlight": "id, user_id, source_id, position, deleted_at, edited_at, highlighted_at, favorite, "
    "created_at",
}


def refresh_statistics(added: int) -> None:
    """ANALYZE the tables an import grows when it added a tenth or more of what they held, while
    they are small.

    A tenth is autovacuum's own measure: below it the statistics still describe the archive well
    enough. Past `ANALYZE_BELOW_ROWS` the statistics of a tenth less are close enough for a
    minute, and autovacuum (by the same measure) brings them up to date within one; ANALYZE itself
    would add most of a second to the import. What cannot wait is a new archive's first import,
    when the planner still thinks the tables empty.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(reltuples), 0) FROM pg_class WHERE relname = ANY(%s)", [list(GROWN_TABLES)])
        (known,) = cursor.fetchone()
        if added >= 0.1 * known and known < ANALYZE_BELOW_ROWS:
            tables = [f"{table} ({ANALYZED[table]})" if table in ANALYZED else table for table in GROWN_TABLES]
            cursor.execute(f"ANALYZE {', '.join(tables)}")


def _worth_writing(document: Document) -> bool:
    """A document with highlights, or a source restored from a backup (which says when it came in)."""
    return bool(document.highlights) or document.created_at is not None


def _failed(path: str, format: str, message: str) -> FileOutcome:
    return FileOutcome(path=path, format=format, status=ImportFile.Status.ERROR, message=message)


def import_paths(user: User, files: Iterable[tuple[str, bytes]]) -> list[FileOutcome]:
    """Import many files (zips expanded); each one stands or falls on its own."""
    return import_uploads(user, (item for name, data in files for item in expand_or_report(name, data)))


def expand_or_report(name: str, data: bytes) -> list[Upload | FileOutcome]:
    """`expand`, with a zip that cannot be imported at all (or holds nothing) as its outcome."""
    try:
        members: list[Upload | FileOutcome] = list(expand(name, data))
    except ArchiveError as error:
        return [FileOutcome(path=name, status=ImportFile.Status.ERROR, message=str(error))]
    if not members:
        return [FileOutcome(path=name, status=ImportFile.Status.SKIPPED, message="the zip holds no files")]
    return members


def totals(outcomes: Iterable[FileOutcome]) -> dict[str, int]:
    counted = (
        "sources_created",
        "sources_updated",
        "highlights_created",
        "highlights_updated",
        "skipped",
        "in_trash",
    )
    result = dict.fromkeys(("files", *counted, "errors"), 0)
    for outcome in outcomes:
        result["files"] += 1
        result["errors"] += outcome.status == ImportFile.Status.ERROR
        for key in counted:
            result[key] += getattr(outcome, key)
    return result


def run_job(job: ImportJob) -> None:
    """Import every file of a job in order, recording each outcome and the progress as it goes."""
    job.status = ImportJob.Status.RUNNING
    job.save(update_fields=["status"])
    # One upload's bytes in memory at a time, not the whole job's.
    for upload in job.files.filter(status=ImportFile.Status.PENDING).defer("data").order_by("position"):
        data = ImportFile.objects.filter(pk=upload.pk).values_list("data", flat=True).get()
        outcomes = import_paths(job.user, [(upload.name, bytes(data or b""))])
        _record(upload, outcomes)
        ImportJob.objects.filter(pk=job.pk).update(done=F("done") + 1)
    job.refresh_from_db()
    job.status = ImportJob.Status.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "finished_at"])


def _record(upload: ImportFile, outcomes: list[FileOutcome]) -> None:
    """Store a file's outcome; a zip's members become files of their own after it."""
    first, *rest = outcomes
    apply_outcome(upload, first)
    upload.data = None
    upload.save()
    for outcome in rest:
        member = ImportFile(job=upload.job, position=upload.position)
        apply_outcome(member, outcome)
        member.save()


def apply_outcome(row: ImportFile, outcome: FileOutcome) -> None:
    """Copy an outcome onto its ImportFile row (not saved)."""
    row.name = outcome.path
    row.format = outcome.format
    row.status = outcome.status
    row.message = outcome.message
    row.source_ids = outcome.source_ids
    for key in (
        "sources_created",
        "sources_updated",
        "sources_unchanged",
        "highlights_created",
        "highlights_updated",
        "highlights_unchanged",
        "skipped",
        "in_trash",
    ):
        setattr(row, key, getattr(outcome, key))


def _summary(outcome: FileOutcome, warnings: list[str]) -> str:
    parts = []
    if outcome.highlights_created:
        parts.append(f"{outcome.highlights_created} new highlight{'s' * (outcome.highlights_created != 1)}")
    if outcome.highlights_updated:
        parts.append(f"{outcome.highlights_updated} updated")
    if outcome.highlights_unchanged:
        parts.append(f"{outcome.highlights_unchanged} already in your archive")
    if outcome.skipped:
        parts.append(f"{outcome.skipped} skipped")
    if outcome.in_trash:
        parts.append(f"{outcome.in_trash} highlight{'s' * (outcome.in_trash != 1)} in Trash not restored")
    message = ", ".join(parts) or "nothing new"
    if warnings:
        message += ". " + "; ".join(warnings)
    return message


def _aware(value: dt.datetime | None, zone: dt.tzinfo | None = None) -> dt.datetime | None:
    """A naive date and time read in `zone` (the current time zone if None)."""
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value, zone)


def _same_start(old: str, new: str) -> bool:
    """Whether two locations ("1004-1005", "12") begin at the same place; both must be known."""
    return bool(old and new) and old.split("-")[0].strip() == new.split("-")[0].strip()


def safe_url(value: str) -> str:
    """A link we may put in an href: http(s) only. `javascript:` and friends are dropped."""
    value = value.strip()
    return value[:2000] if value.lower().startswith(("http://", "https://")) else ""


# Columns whose Python values psycopg writes as they are; others go through get_db_prep_save.
_PLAIN_TYPES = {
    "AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField", "DateTimeField", "ForeignKey",
    "IntegerField", "PositiveIntegerField", "PositiveSmallIntegerField", "SmallIntegerField", "TextField", "URLField",
    "DateField",
}  # fmt: skip


def copy_rows(model: type[models.Model], rows: Iterable[dict[str, Any]], count: int | None = None) -> list[int]:
    """Insert new rows (column values by attribute name) with COPY; their ids, in order.

    The ids are drawn from the table's sequence first. Several times faster than INSERT for
    thousands of rows, and the statement-level count triggers still fire once. No `pre_save`
    (give `auto_now` fields their values), no signals; a column a row leaves out gets the
    field's default.

    Given `count`, at most that many rows, read as they are sent: the database stores each row
    while the next is made (a generator makes them in the time the database takes anyway).
    """
    if count is None:
        rows = list(rows)
        count = len(rows)
    if not count:
        return []
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.generated and not f.primary_key]
    plain_fields = [f for f in fields if f.get_internal_type() in _PLAIN_TYPES]
    prepared = [f for f in fields if f.get_internal_type() not in _PLAIN_TYPES]
    plain = [(f.attname, f.get_default()) for f in plain_fields]
    defaults = {f.attname: f.get_default() for f in prepared}
    table, quote = meta.db_table, connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in [meta.pk, *plain_fields, *prepared])
    # Sent in binary: the database reads numbers and dates without parsing text (an eighth
    # less of its work on a highlight). The types are the columns' own, "varchar(100)" as "varchar".
    types = [f.db_type(connection).split("(")[0] for f in [meta.pk, *plain_fields, *prepared]]
    rows = iter(rows)
    sent = 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, meta.pk.column, count],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        # Through Django's error wrapper, so a unique constraint refusing a row (a concurrent
        # import of the same file) is an IntegrityError the caller retries, as with INSERT.
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(types)
            for pk, row in zip(ids, rows, strict=False):
                values = [pk] + [row.get(name, default) for name, default in plain]
                if prepared:
                    values += [
                        f.get_db_prep_save(row.get(f.attname, defaults[f.attname]), connection) for f in prepared
                    ]
                copy.write_row(values)
                sent += 1
            if next(rows, None) is not None:
                raise ValueError(f"more than the {count} rows promised for {table}")
    return ids[:sent]


def _people(document: Document) -> list[str]:
    """A document's authors in order, one per person ("Ada" and "ADA" are one)."""
    names = document.authors or ([document.author] if document.author else [])
    people: dict[str, str] = {}
    for name in (n for n in names if n.strip()):
        people.setdefault(normalise_key(name), name)
    return list(people.values())


def source_identity(document: Document) -> str:
    """What makes a re-imported document the same source: its URL, else its title and author."""
    if document.url:
        return "url:" + document.url.strip().rstrip("/")[:590]
    return ("doc:" + normalise_key(document.name) + "|" + normalise_key(document.author))[:600]


def _identity(document: Document) -> str:
    """The identity a document's source has: the one a backup states, else the one it makes."""
    return document.identity[:600] or source_identity(document)


def find_source(user: User, identity: str) -> Source | None:
    """The user's source with this identity, in the Trash or not, or the one it was merged into."""
    source = Source.objects.filter(user=user, identity=identity).first()
    if source is None:
        alias = SourceAlias.objects.filter(user=user, identity=identity).select_related("source").first()
        source = alias.source if alias is not None else None
    return source


class _Writer:
    """Writes documents for one user, caching authors and tags for the length of a file."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.zone = timezone.get_current_timezone()  # looked up once, not per date (a thread-local read)
        self.tags: dict[str, Tag] = {}
        self.authors: dict[str, Author] = {}
        self.new_tags: set[str] = set()  # keys of the tags this file asked to be made
        self.prefix_index: tuple[list[Highlight], list[tuple[str, int]]] | None = None

    def tag(self, name: str) -> Tag:
        key = name.strip().lower()
        if key not in self.tags:
            self.preload_tags([name])
        return self.tags[key]

    def tag_ids(self, names: Iterable[str]) -> list[int]:
        """The ids of these tags, each once ("a" and "A" are one tag); blank names left out."""
        return list(dict.fromkeys(self.tag(name).pk for name in names if name.strip()))

    def preload_tags(self, names: Iterable[str]) -> None:
        """Find or create many tags in three queries, not two per tag (a file may hold thousands)."""
        wanted = {n.strip().lower(): n.strip() for n in names if n.strip() and n.strip().lower() not in self.tags}
        if not wanted:
            return
        keyed = Tag.objects.annotate(key=Lower("name")).filter(user=self.user)
        self.tags.update((t.key, t) for t in keyed.filter(key__in=list(wanted)))
        # In one order (by key) for every import, so two writing at once wait on each other's
        # new tags in turn, never each on the other's (a deadlock).
        missing = [Tag(user=self.user, name=name) for key, name in sorted(wanted.items()) if key not in self.tags]
        self.new_tags.update(key for key, _ in wanted.items() if key not in self.tags)
        if missing:
            Tag.objects.bulk_create(missing, ignore_conflicts=True)  # another import may add one too
            self.tags.update((t.key, t) for t in keyed.filter(key__in=[t.name.lower() for t in missing]))
        for key, name in wanted.items():  # Python's and Postgres's lower() disagree on a few letters
            if key not in self.tags:
                found = Tag.objects.filter(user=self.user).named(name).first()  # as the unique index compares
                self.tags[key] = found or Tag.objects.create(user=self.user, name=name)

    def drop_unused_tags(self) -> None:
        """Delete the tags made for this file that nothing ended up carrying: the names of tags
        the reader renamed, merged or deleted here, which a re-import must not bring back."""
        made = [self.tags[key].pk for key in self.new_tags if key in self.tags]
        if made:
            Tag.objects.filter(pk__in=made, highlights__isnull=True, sources__isnull=True).delete()

    def author(self, name: str) -> Author:
        key = normalise_key(name)
        if key not in self.authors:
            self.authors[key], _ = Author.objects.get_or_create(
                user=self.user, key=key, defaults={"name": name.strip()}
            )
        return self.authors[key]

    def preload_authors(self, names: Iterable[str]) -> None:
        """Find or create many authors in three queries, not one or two per author."""
        wanted: dict[str, str] = {}
        for name in names:
            key = normalise_key(name)
            if key and key not in self.authors:
                wanted.setdefault(key, name.strip())  # the first spelling met names the author
        if not wanted:
            return
        mine = Author.objects.filter(user=self.user)
        self.authors.update((a.key, a) for a in mine.filter(key__in=list(wanted)))
        missing = [  # in one order, as in `preload_tags`
            Author(user=self.user, name=name, key=key)
            for key, name in sorted(wanted.items())
            if key not in self.authors
        ]
        if missing:
            Author.objects.bulk_create(missing, ignore_conflicts=True)  # another import may add one too
            self.authors.update((a.key, a) for a in mine.filter(key__in=[a.key for a in missing]))

    def keep_aliases(self, source: Source, aliases: list[str]) -> None:
        """Restore what a backup says was merged into this source (where no other source has it)."""
        wanted = {alias[:600] for alias in aliases if alias.strip()} - {source.identity}
        taken = set(Source.objects.filter(user=self.user, identity__in=wanted).values_list("identity", flat=True))
        SourceAlias.objects.bulk_create(
            [SourceAlias(user=self.user, source=source, identity=alias) for alias in sorted(wanted - taken)],
            ignore_conflicts=True,
        )

    def write_many(self, items: list[tuple[Document, FileOutcome]]) -> None:
        """Write documents in order, each counted in its own outcome (a file's, or a batch's files').

        Documents that are new sources are written together: one statement per table for all
        of them. A document for a source already in the archive, or for one an earlier document
        of the same batch creates, goes through `write`, which merges into what is there.
        """
        spellings: dict[str, str] = {}  # per tag, its spelling in the first document that has it
        for doc, _ in items:
            names = (*doc.tags, *(tag for item in doc.highlights for tag in item.tags))
            for key, name in {n.strip().lower(): n.strip() for n in names if n.strip()}.items():
                spellings.setdefault(key, name)
        self.preload_tags(spellings.values())
        identities = [_identity(doc) for doc, _ in items]
        wanted = set(identities)
        # In the archive: a source's own identity, or one merged into it (which `write` follows).
        known = set(Source.objects.filter(user=self.user, identity__in=wanted).values_list("identity", flat=True))
        if unknown := wanted - known:
            aliases = SourceAlias.objects.filter(user=self.user, identity__in=unknown)
            known |= set(aliases.values_list("identity", flat=True))
        # Authors are made for new sources only (a re-import never adds authors to a source).
        creating: dict[str, Document] = {}
        for (doc, _), identity in zip(items, identities, strict=True):
            if identity not in known:
                creating.setdefault(identity, doc)
        self.preload_authors(name for doc in creating.values() for name in _people(doc))
        batch: list[tuple[Document, FileOutcome, str]] = []
        for (document, outcome), identity in zip(items, identities, strict=True):
            if identity in known:
                # Written where it stands, after the new sources before it (it may add to one).
                self.create_sources(batch)
                batch = []
                self.write(document, outcome)
            else:
                batch.append((document, outcome, identity))
                known.add(identity)
        self.create_sources(batch)

    def create_sources(self, batch: list[tuple[Document, FileOutcome, str]]) -> None:
        """Create a source for each document (none is in the archive yet), with all its highlights."""
        if not batch:
            return
        now = timezone.now()
        sources: list[Source] = []
        for document, _, identity in batch:
            source = self._new_source(document, identity)
            # What writing the highlights one source at a time would leave, then a backup's own date.
            if document.last_highlighted_at:
                source.last_highlighted_at = _aware(document.last_highlighted_at, self.zone)
            elif document.highlights:
                dates = [_aware(item.highlighted_at, self.zone) for item in document.highlights if item.highlighted_at]
                # No date at all (most Readwise Markdown) stays unknown rather than claiming today.
                source.last_highlighted_at = max(dates, default=None) or source.saved_at  # type: ignore[type-var]
            # A backup restores Commonplace's own dates too.
            source.created_at, source.updated_at = _aware(document.created_at, self.zone) or now, now  # type: ignore[assignment]
            sources.append(source)
        fields = [f.attname for f in Source._meta.concrete_fields if not f.generated and not f.primary_key]
        ids = copy_rows(Source, [{name: getattr(source, name) for name in fields} for source in sources])
        for source, pk in zip(sources, ids, strict=True):
            source.pk = pk
            source._state.adding = False
        # The links of new sources, which nothing else can hold yet: COPY, as for the sources.
        links: list[dict[str, int]] = []
        source_tags: list[dict[str, int]] = []
        for source, (document, outcome, _) in zip(sources, batch, strict=True):
            links += [
                {"source_id": source.pk, "author_id": self.authors[normalise_key(name)].pk, "position": i}
                for i, name in enumerate(_people(document))  # one per person
            ]
            source_tags += [{"source_id": source.pk, "tag_id": tag_id} for tag_id in self.tag_ids(document.tags)]
            outcome.sources_created += 1
            outcome.source_ids.append(source.pk)
        copy_rows(SourceAuthor, links)
        copy_rows(Tag.sources.through, source_tags)
        for source, (document, _, _) in zip(sources, batch, strict=True):
            if document.aliases:  # a backup's merged-away identities
                self.keep_aliases(source, document.aliases)
        # Made as they are sent, while the database stores the ones before (see `copy_rows`).
        rows = self._new_rows(sources, batch, now)
        self._insert_highlights(rows, sum(len(document.highlights) for document, _, _ in batch))

    def _new_rows(
        self, sources: list[Source], batch: list[tuple[Document, FileOutcome, str]], now: dt.datetime
    ) -> Iterator[NewHighlight]:
        """The highlights of new sources, each counted in its file's outcome; a repeat inside a
        file is left out (the first one stands)."""
        for source, (document, outcome, _) in zip(sources, batch, strict=True):
            added: dict[str, bool] = {}  # fingerprint -> in the trash
            for item in document.highlights:
                print_ = item.fingerprint[:32] or fingerprint(item.text or item.note)
                if print_ in added:
                    outcome.skipped += added[print_]
                    continue
                added[print_] = item.deleted_at is not None
                outcome.highlights_created += 1
                yield self._new_row(item, len(added) - 1, print_, now, source.pk)

    def _insert_highlights(self, created: Iterable[NewHighlight], most: int) -> list[int]:
        """Insert new highlights (at most `most`) with their tags; their ids, in order."""
        tags: list[list[str]] = []

        def values() -> Iterator[dict[str, Any]]:
            for row in created:
                tags.append(row.tags)
                yield row.values

        ids = copy_rows(Highlight, values(), most)
        links = [
            {"highlight_id": pk, "tag_id": tag_id}
            for pk, names in zip(ids, tags, strict=True)
            for tag_id in self.tag_ids(names)
        ]
        copy_rows(Highlight.tags.through, links)  # new highlights: no link can be there yet
        return ids

    def _new_row(
        self, item: ParsedHighlight, position: int, print_: str, now: dt.datetime, source_id: int
    ) -> NewHighlight:
        """A new highlight's column values (a backup's "came in at" date as `created_at`)."""
        values = {
            "user_id": self.user.pk,
            "source_id": source_id,
            "position": position,
            "text": item.text,
            "note": item.note,
            "location": item.location[:100],
            "location_kind": str(item.location_kind),
            "page": item.page[:50],
            "url": safe_url(item.url),
            "external_id": item.external_id,
            "color": item.color,
            "highlighted_at": _aware(item.highlighted_at, self.zone),
            "favorite": item.favorite,
            "fingerprint": print_,
            "created_at": _aware(item.created_at, self.zone) or now,
            "updated_at": now,
            "edited_at": _aware(item.edited_at, self.zone),
            "deleted_at": _aware(item.deleted_at, self.zone),
        }
        return NewHighlight(values, item.tags)

    def _new_source(self, document: Document, identity: str) -> Source:
        return Source(
            user=self.user,
            identity=identity,
            title=document.title[:1000],
            display_title=document.display_title[:1000],
            author_text=document.author[:1000],
            url=safe_url(document.url),
            category=str(document.category),
            origin=document.origin,
            cover_url=safe_url(document.cover_url),
            saved_at=_aware(document.saved_at),
            published_on=document.published_at,
            note=document.note,
            summary=document.summary,
            external_id=document.external_id,
            extra=document.extra,
            edited_at=_aware(document.edited_at),
            deleted_at=_aware(document.deleted_at),
        )

    def write(self, document: Document, outcome: FileOutcome) -> None:
        self.preload_tags([*document.tags, *(name for item in document.highlights for name in item.tags)])
        identity = _identity(document)
        source = find_source(self.user, identity)
        if source is None:
            self.preload_authors(_people(document))
            self.create_sources([(document, outcome, identity)])
            return
        if self.fill_source(source, document):
            outcome.sources_updated += 1
        else:
            outcome.sources_unchanged += 1
        if source.pk not in outcome.source_ids:
            outcome.source_ids.append(source.pk)
        if document.aliases:
            self.keep_aliases(source, document.aliases)
        if source.deleted_at is not None:  # the user trashed it: leave it be
            outcome.in_trash += len(document.highlights)
            return
        self.write_highlights(source, document.highlights, outcome)

    def fill_source(self, source: Source, document: Document) -> bool:
        """Fill what the source lacks from a re-import; never overwrite what is there."""
        if source.edited_at is not None:
            return False  # the user has worked on it in Commonplace: their version wins
        changed = []
        for field_name, value in (
            ("display_title", document.display_title),
            ("author_text", document.author),
            ("category", str(document.category)),
            ("origin", document.origin),
            ("cover_url", safe_url(document.cover_url)),
            ("saved_at", _aware(document.saved_at)),
            ("published_on", document.published_at),
            ("note", document.note),
            ("summary", document.summary),
            ("external_id", document.external_id),
        ):
            if value and not getattr(source, field_name):
                setattr(source, field_name, value)
                changed.append(field_name)
        new_extra = {k: v for k, v in document.extra.items() if k not in source.extra}
        if new_extra:
            source.extra = {**source.extra, **new_extra}
            changed.append("extra")
        existing_tags = {t.name.lower() for t in source.tags.all()}
        for name in document.tags:
            if name.strip().lower() not in existing_tags:
                self.tag(name).sources.add(source)
                changed.append("tags")
        if changed:
            source.save()
        return bool(changed)

    def write_highlights(self, source: Source, parsed: list[ParsedHighlight], outcome: FileOutcome) -> None:
        existing = list(Highlight.objects.filter(source=source).prefetch_related("tags"))
        by_fingerprint = {h.fingerprint: h for h in existing}
        for h in existing:
            # An edited highlight keeps the fingerprint of the text it was imported with (so the
            # original file still finds it) and is found by its new text too (so a Markdown
            # export of the archive, imported back, does not add the edited version again).
            if h.edited_at is not None and (h.text or h.note):
                by_fingerprint.setdefault(fingerprint(h.text or h.note), h)
        by_url = {h.url: h for h in existing if h.url}
        next_position = max((h.position for h in existing), default=-1) + 1
        created: list[NewHighlight] = []
        added: dict[str, bool] = {}  # fingerprint -> in the trash, of the highlights this file adds
        now = timezone.now()
        for item in parsed:
            print_ = item.fingerprint[:32] or fingerprint(item.text or item.note)
            if print_ in added:  # a repeat inside this very file
                outcome.skipped += added[print_]
                continue
            match = by_fingerprint.get(print_) or (by_url.get(item.url) if item.url else None)
            if match is None and existing:
                match = self.match_by_prefix(existing, item, print_, outcome)
                if match is not None and match.pk is not None and match.fingerprint == print_:
                    continue  # extended in place, counted by match_by_prefix
            if match is None:
                row = self._new_row(item, next_position, print_, now, source.pk)
                next_position += 1
                added[print_] = item.deleted_at is not None
                created.append(row)
            elif match.deleted_at is not None:
                outcome.in_trash += 1  # the user deleted it: the Trash keeps it, the import does not undo that
            elif self.fill_highlight(match, item):
                outcome.highlights_updated += 1
            else:
                outcome.highlights_unchanged += 1
        self._insert_highlights(created, len(created))
        outcome.highlights_created += len(created)
        if created:
            dates = [h.highlighted_at for h in existing if h.highlighted_at]
            dates += [row.values["highlighted_at"] for row in created if row.values["highlighted_at"]]
            # No date at all (most Readwise Markdown) stays unknown rather than claiming today:
            # such sources sort after the dated ones under "recently highlighted".
            last = max(dates, default=None) or source.saved_at
            if last != source.last_highlighted_at:
                source.last_highlighted_at = last
                source.save(update_fields=["last_highlighted_at", "updated_at"])

    def match_by_prefix(
        self, existing: list[Highlight], item: ParsedHighlight, print_: str, outcome: FileOutcome
    ) -> Highlight | None:
        """The same highlight cut shorter or made longer (a truncated file; a Kindle highlight
        extended later): the shorter text is the start of the longer one.

        A shorter version matches what is there. A longer one at the same starting location (a
        Kindle re-highlight) replaces the text it extends, unless the user has edited that
        highlight here; without locations to agree on, a longer text is a new highlight. Texts under 12 characters never match,
        so a short new highlight is not mistaken for the start of a long one. Existing texts are
        kept sorted, so each look-up is a binary search, not a scan of the source.
        """
        new = normalise_key(item.text)
        if len(new) < PREFIX_MIN:
            return None
        if self.prefix_index is None or self.prefix_index[0] is not existing:
            pairs = sorted((normalise_key(h.text), i) for i, h in enumerate(existing) if h.pk is not None and h.text)
            self.prefix_index = (existing, [p for p in pairs if len(p[0]) >= PREFIX_MIN])
        index = self.prefix_index[1]
        at = bisect.bisect_left(index, (new, -1))
        if at < len(index) and index[at][0].startswith(new):
            return existing[index[at][1]]  # what is there already holds this text, and more
        stem = new[:PREFIX_MIN]
        for old, position in reversed(index[max(0, at - 50) : at]):
            if not old.startswith(stem):
                break
            highlight = existing[position]
            if new.startswith(old) and _same_start(highlight.location, item.location):
                if highlight.deleted_at is None and highlight.edited_at is None:
                    highlight.text, highlight.fingerprint = item.text, print_
                    highlight.save(update_fields=["text", "fingerprint", "updated_at"])
                    outcome.highlights_updated += 1
                return highlight
        return None

    def fill_highlight(self, highlight: Highlight, item: ParsedHighlight) -> bool:
        """Fill blanks of an existing highlight, unless the user has edited it here."""
        if highlight.edited_at is not None:
            return False  # the user has worked on it in Commonplace: their version wins
        changed = []
        for field_name, value in (
            ("note", item.note),
            ("location", item.location[:100]),
            ("location_kind", str(item.location_kind)),
            ("page", item.page[:50]),
            ("url", safe_url(item.url)),
            ("external_id", item.external_id),
            ("color", item.color),
            ("highlighted_at", _aware(item.highlighted_at)),
        ):
            if value and not getattr(highlight, field_name):
                setattr(highlight, field_name, value)
                changed.append(field_name)
        have = {t.name.lower() for t in highlight.tags.all()}
        new_tags = [name for name in item.tags if name.strip() and name.strip().lower() not in have]
        if new_tags:
            highlight.tags.add(*(self.tag(name) for name in new_tags))
            changed.append("tags")
        if changed:
            highlight.save(update_fields=[f for f in changed if f != "tags"] + ["updated_at"])
        return bool(changed)
