"""Writing parsed documents to the database, idempotently.

The rules (DESIGN.md): importing the same file twice changes nothing; a re-sync adds only what is
new; what the user did in Commonplace is never overwritten; nothing is deleted; a file imports
completely or not at all, and one bad file never stops the others.
"""

from __future__ import annotations

import bisect
import datetime as dt
import io
import logging
import stat
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from archive.formats import detect
from archive.formats.document import Document, ParseError
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
    outcome = FileOutcome(path=upload.path)
    if upload.error:
        outcome.status, outcome.message = ImportFile.Status.ERROR, upload.error
        return outcome
    try:
        result = detect.parse(upload.data)
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
    for attempt in range(3):
        outcome = FileOutcome(path=upload.path, format=result.format, skipped=result.skipped)
        try:
            with transaction.atomic():
                writer = _Writer(user)
                for document in result.documents:
                    if _worth_writing(document):
                        writer.write(document, outcome)
                writer.drop_unused_tags()
            break
        except IntegrityError:
            # Another import wrote the same source or highlight at the same moment; the
            # database's unique constraints refused the duplicate. Read again and merge.
            if attempt < 2:
                continue
            logger.exception("import of %s kept colliding with another import", upload.path)
            return _failed(
                upload.path, result.format, "another import of the same file kept colliding with this one; try again"
            )
        except Exception:
            logger.exception("import of %s failed", upload.path)
            return _failed(
                upload.path, result.format, "an unexpected error stopped this file; nothing from it was saved"
            )
    if outcome.sources_created:
        outcome.status = ImportFile.Status.CREATED
    elif outcome.highlights_created or outcome.highlights_updated or outcome.sources_updated:
        outcome.status = ImportFile.Status.UPDATED
    else:
        outcome.status = ImportFile.Status.UNCHANGED
    outcome.message = _summary(outcome, result.warnings)
    if outcome.status != ImportFile.Status.UNCHANGED:
        pagecache.changed(user.pk)
    return outcome


def _worth_writing(document: Document) -> bool:
    """A document with highlights, or a source restored from a backup (which says when it came in)."""
    return bool(document.highlights) or document.created_at is not None


def _failed(path: str, format: str, message: str) -> FileOutcome:
    return FileOutcome(path=path, format=format, status=ImportFile.Status.ERROR, message=message)


def import_paths(user: User, files: Iterable[tuple[str, bytes]]) -> list[FileOutcome]:
    """Import many files (zips expanded); each one stands or falls on its own."""
    outcomes = []
    for name, data in files:
        try:
            members = expand(name, data)
        except ArchiveError as error:
            outcomes.append(FileOutcome(path=name, status=ImportFile.Status.ERROR, message=str(error)))
            continue
        if not members:
            outcomes.append(FileOutcome(path=name, status=ImportFile.Status.SKIPPED, message="the zip holds no files"))
        outcomes.extend(import_file(user, member) for member in members)
    return outcomes


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


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value)


def _same_start(old: str, new: str) -> bool:
    """Whether two locations ("1004-1005", "12") begin at the same place; both must be known."""
    return bool(old and new) and old.split("-")[0].strip() == new.split("-")[0].strip()


def safe_url(value: str) -> str:
    """A link we may put in an href: http(s) only. `javascript:` and friends are dropped."""
    value = value.strip()
    return value[:2000] if value.lower().startswith(("http://", "https://")) else ""


def source_identity(document: Document) -> str:
    """What makes a re-imported document the same source: its URL, else its title and author."""
    if document.url:
        return "url:" + document.url.strip().rstrip("/")[:590]
    return ("doc:" + normalise_key(document.name) + "|" + normalise_key(document.author))[:600]


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
        self.tags: dict[str, Tag] = {}
        self.authors: dict[str, Author] = {}
        self.new_tags: set[str] = set()  # keys of the tags this file asked to be made
        self.prefix_index: tuple[list[Highlight], list[tuple[str, int]]] | None = None

    def tag(self, name: str) -> Tag:
        key = name.strip().lower()
        if key not in self.tags:
            self.preload_tags([name])
        return self.tags[key]

    def preload_tags(self, names: Iterable[str]) -> None:
        """Find or create many tags in three queries, not two per tag (a file may hold thousands)."""
        wanted = {n.strip().lower(): n.strip() for n in names if n.strip() and n.strip().lower() not in self.tags}
        if not wanted:
            return
        keyed = Tag.objects.annotate(key=Lower("name")).filter(user=self.user)
        self.tags.update((t.key, t) for t in keyed.filter(key__in=list(wanted)))
        missing = [Tag(user=self.user, name=name) for key, name in wanted.items() if key not in self.tags]
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

    def write(self, document: Document, outcome: FileOutcome) -> None:
        self.preload_tags([*document.tags, *(name for item in document.highlights for name in item.tags)])
        identity = document.identity[:600] or source_identity(document)  # a backup says which
        source = find_source(self.user, identity)
        created = source is None
        if source is None:
            source = self.create_source(document, identity)
            outcome.sources_created += 1
        elif self.fill_source(source, document):
            outcome.sources_updated += 1
        else:
            outcome.sources_unchanged += 1
        if source.pk not in outcome.source_ids:
            outcome.source_ids.append(source.pk)
        if document.aliases:
            self.keep_aliases(source, document.aliases)
        if source.deleted_at is not None and not created:  # the user trashed it: leave it be
            outcome.in_trash += len(document.highlights)
            return
        self.write_highlights(source, document.highlights, outcome)
        if created and (document.created_at or document.last_highlighted_at):
            # A backup restores Commonplace's own dates too (auto_now_add cannot be set on create).
            restored = {"created_at": document.created_at, "last_highlighted_at": document.last_highlighted_at}
            Source.objects.filter(pk=source.pk).update(**{k: _aware(v) for k, v in restored.items() if v})

    def keep_aliases(self, source: Source, aliases: list[str]) -> None:
        """Restore what a backup says was merged into this source (where no other source has it)."""
        wanted = {alias[:600] for alias in aliases if alias.strip()} - {source.identity}
        taken = set(Source.objects.filter(user=self.user, identity__in=wanted).values_list("identity", flat=True))
        SourceAlias.objects.bulk_create(
            [SourceAlias(user=self.user, source=source, identity=alias) for alias in sorted(wanted - taken)],
            ignore_conflicts=True,
        )

    def create_source(self, document: Document, identity: str) -> Source:
        source = Source.objects.create(
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
        names = document.authors or ([document.author] if document.author else [])
        people: dict[str, str] = {}  # one link per person, in order ("Ada" and "ADA" are one)
        for name in (n for n in names if n.strip()):
            people.setdefault(normalise_key(name), name)
        SourceAuthor.objects.bulk_create(
            SourceAuthor(source=source, author=self.author(name), position=i) for i, name in enumerate(people.values())
        )
        for name in document.tags:
            self.tag(name).sources.add(source)
        return source

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
        created: list[tuple[Highlight, list[str]]] = []
        stamps: list[tuple[Highlight, dt.datetime]] = []  # a backup's "came in at" dates
        for item in parsed:
            print_ = item.fingerprint[:32] or fingerprint(item.text or item.note)
            match = by_fingerprint.get(print_) or (by_url.get(item.url) if item.url else None)
            if match is None and existing:
                match = self.match_by_prefix(existing, item, print_, outcome)
                if match is not None and match.pk is not None and match.fingerprint == print_:
                    continue  # extended in place, counted by match_by_prefix
            if match is None:
                highlight = Highlight(
                    user=self.user,
                    source=source,
                    position=next_position,
                    text=item.text,
                    note=item.note,
                    location=item.location[:100],
                    location_kind=str(item.location_kind),
                    page=item.page[:50],
                    url=safe_url(item.url),
                    external_id=item.external_id,
                    color=item.color,
                    highlighted_at=_aware(item.highlighted_at),
                    favorite=item.favorite,
                    fingerprint=print_,
                    edited_at=_aware(item.edited_at),
                    deleted_at=_aware(item.deleted_at),
                )
                if item.created_at is not None:
                    stamps.append((highlight, item.created_at))
                next_position += 1
                by_fingerprint[print_] = highlight
                created.append((highlight, item.tags))
            elif match.deleted_at is not None:
                outcome.in_trash += 1  # the user deleted it: the Trash keeps it, the import does not undo that
            elif match.pk is None:
                continue  # a repeat inside this very file
            elif self.fill_highlight(match, item):
                outcome.highlights_updated += 1
            else:
                outcome.highlights_unchanged += 1
        Highlight.objects.bulk_create([h for h, _ in created])
        if stamps:
            for highlight, when in stamps:
                highlight.created_at = _aware(when)  # type: ignore[assignment]
            Highlight.objects.bulk_update([h for h, _ in stamps], ["created_at"], batch_size=500)
        through = Highlight.tags.through
        through.objects.bulk_create(
            [
                through(highlight_id=h.pk, tag_id=self.tag(name).pk)
                for h, names in created
                for name in dict.fromkeys(n.strip() for n in names if n.strip())
            ],
            ignore_conflicts=True,
        )
        outcome.highlights_created += len(created)
        if created:
            dates = [h.highlighted_at for h in existing + [h for h, _ in created] if h.highlighted_at]
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
