"""Taking the archive out again: Documents rebuilt from the database, written as Markdown, CSV or JSON.

Everything that writes many sources streams: sources are read a chunk at a time from a server-side
cursor (each with its authors, tags and highlights in the same row) and each piece of output is
handed on as soon as it is written, so memory stays flat however large the archive. A large zip
or JSON backup is written by worker processes, a batch of sources each, and put together here in
order (`workers.spread`).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.contrib.auth.models import User
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Aggregate, Func, JSONField, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast, Lower
from django.utils import timezone

from archive import export_template, workers
from archive.formats import commonplace_json, readwise_csv, readwise_markdown
from archive.formats.document import Category, Document, Highlight, LocationKind
from archive.models import Author, ExportSettings, Source, SourceAlias, SourceAuthor, normalise_key
from archive.models import Category as CategoryChoice
from highlights import filters as library
from highlights.models import Highlight as HighlightRow
from highlights.models import Tag

try:
    from isal import isal_zlib as _deflate
except ImportError:  # pragma: no cover - a platform without ISA-L's wheel
    import zlib as _deflate  # type: ignore[no-redef]

CHUNK_SIZE = 200  # sources read at a time
# Deflate level of the Markdown zip. Intel's ISA-L at level 1 deflates a whole archive's
# Markdown three and a half times as fast as zlib's level 1 (185 against 53 MB/s here), and as
# small; zlib is the fallback where its wheel is missing.
ZIP_LEVEL = 1

Renderer = Callable[[Document], str]


# --- choosing sources -----------------------------------------------------------------------

SELECTION_KEYS = ("source", "tag", "author", "category", "origin", "favorites", "q")


def for_export(sources: QuerySet[Source], *, trash: bool = False) -> QuerySet[Source]:
    """Sources with everything an export needs, in one query (read a chunk at a time).

    With `trash`, highlights in the trash come too (a backup keeps them); otherwise only live ones.
    Each source's highlights come with it as one JSON array (`export_json`, read by
    `export_rows`), each with its tag names: building a model instance, and a related manager for
    its tags, per highlight cost more than everything else an export does. The source's own tags,
    authors and (for a backup) aliases come as arrays of names too (`export_tags`, ...): prefetched
    querysets would each tie their source into a reference cycle, and collecting those cycles
    took a quarter of a large export's time.
    """
    rows = HighlightRow.objects.filter(source=OuterRef("pk"))
    if not trash:
        rows = rows.filter(deleted_at__isnull=True)
    names = Tag.objects.filter(highlights=OuterRef("pk")).order_by(Lower("name")).values("name")
    item = Func(*ROW_COLUMNS, ArraySubquery(names), function="JSON_BUILD_ARRAY", output_field=JSONField())
    aggregated = rows.order_by().values("source").annotate(rows=JSONAgg(item, order_by=("position", "pk")))
    sources = sources.annotate(
        export_json=Cast(Subquery(aggregated.values("rows")), TextField()),
        export_tags=ArraySubquery(Tag.objects.filter(sources=OuterRef("pk")).order_by(Lower("name")).values("name")),
        export_authors=ArraySubquery(
            SourceAuthor.objects.filter(source=OuterRef("pk")).order_by("position").values("author__name")
        ),
    )
    if trash:  # a backup keeps what re-imports match by, merged sources' identities too
        aliases = SourceAlias.objects.filter(source=OuterRef("pk")).order_by("identity").values("identity")
        sources = sources.annotate(export_aliases=ArraySubquery(aliases))
    return sources.order_by("pk")


class JSONAgg(Aggregate):
    """Postgres's JSON_AGG: an export's rows as JSON text, which is half the database's work of
    building them as JSONB (JSONB_AGG, Django's JSONArray) for a text that is only read once."""

    function = "JSON_AGG"
    allow_order_by = True
    output_field = JSONField()


# What an export reads of a highlight, in the order `for_export` sends it (then its tag names).
ROW_COLUMNS = (
    "pk", "text", "note", "location", "location_kind", "page", "url", "external_id", "color", "highlighted_at",
    "favorite", "created_at", "edited_at", "deleted_at", "updated_at", "fingerprint",
)  # fmt: skip


def _when(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


class ExportRow:
    """A highlight as an export reads it (from `for_export`'s JSON), with the attributes of a Highlight.

    Dates are parsed when read: a Markdown export reads one of the five.
    """

    __slots__ = (
        "pk", "text", "note", "location", "location_kind", "page", "url", "external_id", "color", "favorite",
        "fingerprint", "tag_names", "_highlighted", "_created", "_edited", "_deleted", "_updated",
    )  # fmt: skip

    def __init__(self, values: list[Any]) -> None:
        (
            self.pk, self.text, self.note, self.location, self.location_kind, self.page, self.url, self.external_id,
            self.color, self._highlighted, self.favorite, self._created, self._edited, self._deleted, self._updated,
            self.fingerprint, tag_names,
        ) = values  # fmt: skip
        self.tag_names: list[str] = tag_names or []

    @property
    def highlighted_at(self) -> dt.datetime | None:
        return _when(self._highlighted)

    @property
    def created_at(self) -> dt.datetime | None:
        return _when(self._created)

    @property
    def edited_at(self) -> dt.datetime | None:
        return _when(self._edited)

    @property
    def deleted_at(self) -> dt.datetime | None:
        return _when(self._deleted)

    @property
    def updated_at(self) -> dt.datetime | None:
        return _when(self._updated)


def sources_for_export(user: User) -> QuerySet[Source]:
    """The user's live sources (not in the trash) with their live highlights."""
    return for_export(Source.objects.for_user(user))


def select_sources(user: User, params: Mapping[str, Any], *, trash: bool = False) -> QuerySet[Source]:
    """The user's sources a selection names, ready to export.

    `params` uses the library's query-string names (`highlights.filters`), so "the current filter
    or search" of any library page is a selection: `category` (or `uncategorised`), `origin`,
    `author` (an id, or here also a name), `tag`, `favorites`, and `q` (sources whose highlights,
    notes, title or author match). `source` adds ids (a list, or one). Together they narrow the
    selection; with none it is the whole archive, and with `trash` the sources in the trash come
    too (the JSON backup keeps them). Highlights in the trash come with `trash` either way.
    """
    chosen = {key: params[key] for key in SELECTION_KEYS if params.get(key) not in (None, "", [], (), False)}
    if trash and not chosen:
        return for_export(Source.objects.filter(user=user), trash=True)
    sources = Source.objects.for_user(user)
    if ids := chosen.pop("source", None):
        sources = sources.filter(pk__in=ids if isinstance(ids, list | tuple) else [ids])
    if chosen:
        sources = sources.filter(pk__in=_filtered(user, chosen).values("pk"))
    return for_export(sources, trash=trash)


def _filtered(user: User, chosen: dict[str, Any]) -> QuerySet[Source]:
    """The library's filters and search, plus what only an export offers (authors by name, no category)."""
    params = {key: "1" if value is True else value for key, value in chosen.items()}
    q = str(params.pop("q", "")).strip()
    uncategorised = params.get("category") == "uncategorised"
    if uncategorised:
        del params["category"]
    if author := str(params.get("author", "")).strip():
        found = find_author(user, author)
        if found is None:
            return Source.objects.none()
        params["author"] = str(found.pk)
    sources = library.filter_sources(user, params)
    if uncategorised:
        sources = sources.filter(category="")
    if q:
        matching = library.search_highlights(user, q, params).values("source_id")
        sources = sources.filter(Q(pk__in=matching) | Q(pk__in=library.search_sources(user, q, params).values("pk")))
    return sources


def find_author(user: User, who: str) -> Author | None:
    """An author by name (ignoring case and spacing), else by id."""
    author = Author.objects.filter(user=user, key=normalise_key(who)).first()
    if author is None and who.isdigit():
        author = Author.objects.filter(user=user, pk=int(who)).first()
    return author


def selection_label(params: Mapping[str, Any]) -> str:
    """A few words naming a selection, for file names: `tag-reading`, `books`, `search-rlhf`."""
    parts = []
    if params.get("tag"):
        parts.append(f"tag-{params['tag']}")
    if params.get("author"):
        parts.append(f"author-{params['author']}")
    if params.get("category"):
        parts.append(str(params["category"]))
    if params.get("origin"):
        parts.append(str(params["origin"]))
    if params.get("favorites"):
        parts.append("favourites")
    if params.get("q"):
        parts.append(f"search-{params['q']}")
    return "-".join(filter(None, (re.sub(r"\s+", " ", _UNSAFE.sub(" ", part)).strip(" .") for part in parts)))


# --- one source as a Document -----------------------------------------------------------------


def export_rows(source: Source, *, trash: bool = False) -> list[Any]:
    """A source's highlights in reading order: live ones, or all of them with `trash`."""
    rows: list[Any] | None = getattr(source, "export_rows", None)
    if rows is None and hasattr(source, "export_json"):  # from `for_export`: read once, kept
        items = json.loads(source.export_json) if source.export_json else []
        rows = source.export_rows = [ExportRow(item) for item in items]  # type: ignore[attr-defined]
    if rows is None:  # a Source read some other way
        query = source.highlights.prefetch_related("tags").order_by("position", "pk")
        rows = list(query if trash else query.filter(deleted_at__isnull=True))
    return rows if trash else [row for row in rows if row.deleted_at is None]


def _tag_names(highlight: Any) -> list[str]:
    """A highlight's tag names (annotated by `for_export`, else read), ordered as Tag orders them."""
    names: list[str] | None = getattr(highlight, "tag_names", None)
    return list(names) if names is not None else [tag.name for tag in highlight.tags.all()]


def _names(source: Source, annotation: str, read: Callable[[], list[str]]) -> list[str]:
    """Names `for_export` annotated a source with, else read from its relations."""
    names: list[str] | None = getattr(source, annotation, None)
    return list(names) if names is not None else read()


def document_for(source: Source, *, backup: bool = False) -> Document:
    """The intermediate Document for one source (as `for_export` reads it).

    For Markdown and CSV (the default) it holds the live highlights, with datetimes naive in the
    server's time zone as the renderers expect. For a `backup` it holds every highlight, the trash
    and Commonplace's own dates, with datetimes aware, so a restore is exact.
    """
    zone = timezone.get_current_timezone()  # once, not per highlight

    def when(value: dt.datetime | None) -> dt.datetime | None:
        if backup or value is None:
            return value
        return value.astimezone(zone).replace(tzinfo=None)  # timezone.make_naive, without its checks

    doc = Document(
        title=source.title,
        display_title=source.display_title,
        author=source.author_text,
        authors=_names(source, "export_authors", lambda: [link.author.name for link in source.sourceauthor_set.all()]),
        url=source.url,
        category=Category(source.category),
        origin=source.origin,
        saved_at=when(source.saved_at),
        published_at=source.published_on,
        cover_url=source.cover_url,
        tags=_names(source, "export_tags", lambda: [tag.name for tag in source.tags.all()]),
        note=source.note,
        summary=source.summary,
        external_id=source.external_id,
        extra=dict(source.extra),
        highlights=[
            Highlight(
                text=h.text,
                note=h.note,
                tags=_tag_names(h),
                location=h.location,
                location_kind=LocationKind(h.location_kind),
                page=h.page,
                url=h.url,
                external_id=h.external_id,
                color=h.color,
                highlighted_at=when(h.highlighted_at),
                favorite=h.favorite,
            )
            for h in export_rows(source, trash=backup)
        ],
    )
    if backup:
        doc.created_at, doc.edited_at, doc.deleted_at = source.created_at, source.edited_at, source.deleted_at
        doc.last_highlighted_at = source.last_highlighted_at
        doc.identity = source.identity
        doc.aliases = sorted(
            _names(source, "export_aliases", lambda: [alias.identity for alias in source.aliases.all()])
        )
        for item, row in zip(doc.highlights, export_rows(source, trash=True), strict=True):
            item.created_at, item.edited_at, item.deleted_at = row.created_at, row.edited_at, row.deleted_at
            item.fingerprint = row.fingerprint
    return doc


# --- Markdown ---------------------------------------------------------------------------------


def _custom_renderer(source_text: str) -> Renderer:
    try:
        template = export_template.compile_template(source_text)
    except export_template.ExportTemplateError as error:
        broken = error

        def fallback(doc: Document) -> str:
            return _with_warning(readwise_markdown.render(doc), broken)

        return fallback

    def render(doc: Document) -> str:
        try:
            return export_template.render(template, doc)
        except export_template.ExportTemplateError as error:
            return _with_warning(readwise_markdown.render(doc), error)

    return render


def _with_warning(markdown: str, error: Exception) -> str:
    """Commonplace's layout, headed by why the user's template was not used for this source."""
    reason = str(error).replace("--", "- -")
    return f"<!-- Your export template failed on this source ({reason}); this is Commonplace's layout. -->\n{markdown}"


@functools.lru_cache(maxsize=16)
def renderer(layout: str = ExportSettings.Layout.COMMONPLACE, template: str = "") -> Renderer:
    """The function that writes one Document as Markdown in a layout."""
    if layout == ExportSettings.Layout.READWISE:
        return readwise_markdown.render_readwise
    if layout == ExportSettings.Layout.CUSTOM and template.strip():
        return _custom_renderer(template)
    return readwise_markdown.render


@dataclass(frozen=True)
class Style:
    """A layout (with the user's template, for a custom one): a Renderer made of plain data,
    which worker processes can be handed (see `stream_zip`)."""

    layout: str = ExportSettings.Layout.COMMONPLACE
    template: str = ""

    def __call__(self, doc: Document) -> str:
        return renderer(self.layout, self.template)(doc)


def renderer_for(user: User, layout: str | None = None) -> Style:
    """The user's chosen layout (or `layout`, overriding it)."""
    preferences = ExportSettings.for_user(user)
    return Style(layout or preferences.layout, preferences.template)


def markdown_for(source: Source, render: Renderer = readwise_markdown.render) -> str:
    return render(document_for(source))


# --- file names -------------------------------------------------------------------------------

MAX_NAME_BYTES = 200  # leaves room for " (12).md" within the 255 bytes most file systems allow
# Path separators, characters Windows refuses, Obsidian's link syntax, and control characters.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|#^\[\]]+')
# Invisible characters that reorder or hide text (a title could disguise its extension).
_INVISIBLE = re.compile("[\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u206f\ufeff]")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def safe_filename(name: str, extension: str, fallback: str = "export") -> str:
    """A file name every system accepts: no separators or control characters, at most 200 bytes."""
    name = unicodedata.normalize("NFC", name)
    name = _INVISIBLE.sub("", _UNSAFE.sub(" ", name))
    name = re.sub(r"\s+", " ", name).strip(" .")
    cut = name.encode()[:MAX_NAME_BYTES].decode(errors="ignore")
    name = cut.rstrip(" .\u200d\ufe0f") or fallback
    if name.split(".")[0].casefold() in _RESERVED:
        name = f"{name} (file)"
    return f"{name}.{extension}"


def filename_for(source: Source, extension: str = "md") -> str:
    return safe_filename(source.name, extension, fallback=f"source-{source.pk}")


def download_name(params: Mapping[str, Any], extension: str, what: str = "highlights") -> str:
    """`commonplace-highlights-2024-05-01.zip`, with the selection in it when there is one."""
    label = selection_label(params)
    today = timezone.localdate().isoformat()
    return safe_filename("-".join(p for p in ("commonplace", what, label, today) if p), extension)


CATEGORY_FOLDERS = {value: label for value, label in CategoryChoice.choices if value}


def folder_for(source: Source) -> str:
    """Readwise's folders: `Books`, `Articles`, `Tweets`, `Podcasts`, ...; `Uncategorised` else."""
    return CATEGORY_FOLDERS.get(source.category, "Uncategorised")


class UniquePaths:
    """Paths inside one zip, made unique ignoring case (`Title (2).md`) as Windows and macOS need."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, folder: str, filename: str) -> str:
        stem, dot, extension = filename.rpartition(".")
        path, number = f"{folder}/{filename}", 2
        while path.casefold() in self.used:
            path = f"{folder}/{stem} ({number}){dot}{extension}"
            number += 1
        self.used.add(path.casefold())
        return path


# --- zip, streamed ----------------------------------------------------------------------------


class StreamBuffer(io.RawIOBase):
    """A write-only file that hands over what was written since last asked (`take`).

    `zipfile` writes into it as into an unseekable stream (it then uses data descriptors), and
    the bytes go out to the client chunk by chunk; nothing is kept once taken.
    """

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []
        self._offset = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._offset += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._offset

    def take(self) -> bytes:
        chunk = b"".join(self._chunks)
        self._chunks.clear()
        return chunk


def _zip_time(source: Source) -> tuple[int, int, int, int, int, int]:
    when = timezone.localtime(source.updated_at) if source.updated_at else timezone.localtime()
    stamp = max(when.replace(tzinfo=None), dt.datetime(1980, 1, 1))
    return stamp.timetuple()[:6]


class ZipEntry(NamedTuple):
    """A source's Markdown file, deflated, for `stream_zip` to put in the zip."""

    folder: str
    filename: str
    when: tuple[int, int, int, int, int, int]
    crc: int
    size: int  # of the Markdown
    deflated: bytes


def stream_zip(sources: Iterable[Source], render: Renderer = Style()) -> Iterator[bytes]:
    """A zip of one Markdown file per source (in category folders), yielded a source at a time.

    Given a queryset (`for_export`) and a `Style`, a large export is written by worker
    processes (`workers.spread`), a batch of sources each, and zipped here in order.
    """
    buffer = StreamBuffer()
    unique = UniquePaths()
    with zipfile.ZipFile(buffer, "w") as archive:
        for entry in _zip_entries(sources, render):
            info = zipfile.ZipInfo(unique(entry.folder, entry.filename), date_time=entry.when)
            info.external_attr = 0o644 << 16
            add_deflated(archive, info, entry)
            if chunk := buffer.take():
                yield chunk
    yield buffer.take()  # the central directory


def add_deflated(archive: zipfile.ZipFile, info: zipfile.ZipInfo, entry: ZipEntry) -> None:
    """Put a file deflated elsewhere into `archive` as `writestr` would have, under `info`.

    `zipfile` takes no data already compressed, so this does what its `open(name, "w")` does
    (local header, data, the entry kept for the central directory), knowing the sizes and CRC
    up front: the header carries them, and no data descriptor follows.
    """
    info.compress_type = zipfile.ZIP_DEFLATED
    info.flag_bits = 0
    info.CRC, info.file_size, info.compress_size = entry.crc, entry.size, len(entry.deflated)
    info.header_offset = archive.fp.tell()  # type: ignore[union-attr]
    archive._writecheck(info)  # type: ignore[attr-defined]
    archive._didModify = True  # type: ignore[attr-defined]
    archive.fp.write(info.FileHeader())  # type: ignore[union-attr]
    archive.fp.write(entry.deflated)  # type: ignore[union-attr]
    archive.filelist.append(info)
    archive.NameToInfo[info.filename] = info
    archive.start_dir = archive.fp.tell()  # type: ignore[attr-defined,union-attr]


def _zip_entries(sources: Iterable[Source], render: Renderer) -> Iterator[ZipEntry]:
    def here() -> Iterator[ZipEntry]:
        rows = sources.iterator(chunk_size=CHUNK_SIZE) if isinstance(sources, QuerySet) else sources
        return (_zip_entry(source, render) for source in rows)

    if isinstance(sources, QuerySet) and isinstance(render, Style):
        return workers.spread(sources, _zip_batch, render, here=here)
    return here()


def _zip_entry(source: Source, render: Renderer) -> ZipEntry:
    markdown = render(document_for(source)).encode()
    deflate = _deflate.compressobj(ZIP_LEVEL, _deflate.DEFLATED, -15)  # raw deflate, as zips hold it
    deflated = deflate.compress(markdown) + deflate.flush()
    when = _zip_time(source)
    return ZipEntry(folder_for(source), filename_for(source), when, _deflate.crc32(markdown), len(markdown), deflated)


def _zip_batch(ids: list[int], render: Style) -> list[ZipEntry]:
    """In a worker: the zip entries of these sources."""
    sources = for_export(Source.objects.filter(pk__in=ids)).iterator(chunk_size=CHUNK_SIZE)
    return [_zip_entry(source, render) for source in sources]


# --- CSV and JSON, streamed -------------------------------------------------------------------


def _chunks(sources: Iterable[Source], size: int) -> Iterator[list[Source]]:
    batch: list[Source] = []
    for source in sources:
        batch.append(source)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def stream_csv(sources: Iterable[Source], chunk_size: int = 50) -> Iterator[str]:
    """Readwise's 11-column CSV (spreadsheet formulas neutralised), a few sources at a time."""
    yield readwise_csv.render([])  # the header row
    for batch in _chunks(sources, chunk_size):
        text = readwise_csv.render([document_for(source) for source in batch])
        yield text.split("\r\n", 1)[1]  # without its header row; the header holds no line break


def _book(source: Source) -> dict[str, Any]:
    rows = export_rows(source, trash=True)
    book = commonplace_json.book(
        document_for(source, backup=True), book_id=source.pk, highlight_ids=[r.pk for r in rows]
    )
    book["updated_at"] = source.updated_at.isoformat() if source.updated_at else None
    for item, row in zip(book["highlights"], rows, strict=True):
        item["updated_at"] = row.updated_at.isoformat() if row.updated_at else None
    return book


def stream_json(sources: QuerySet[Source], indent: int | None = None, tags: Sequence[str] = ()) -> Iterator[str]:
    """The JSON backup (Readwise's `/api/v2/export/` shape), a book at a time; `tags` (see
    `unused_tags`) are the tags no source or highlight carries, which a whole backup keeps.

    A large one is written by worker processes, a batch of books each (`workers.spread`)."""
    count = sources.count()
    trash = "export_aliases" in sources.query.annotations  # `for_export(..., trash=True)`

    def here() -> Iterator[str]:
        return (commonplace_json.book_text(_book(s), indent) for s in sources.iterator(chunk_size=CHUNK_SIZE))

    books = workers.spread(sources, _json_batch, trash, indent, here=here)
    return commonplace_json.stream_texts(books, count, indent=indent, tags=tags)


def _json_batch(ids: list[int], trash: bool, indent: int | None) -> list[str]:
    """In a worker: these sources as books of the backup, written."""
    sources = for_export(Source.objects.filter(pk__in=ids), trash=trash).iterator(chunk_size=CHUNK_SIZE)
    return [commonplace_json.book_text(_book(source), indent) for source in sources]


def unused_tags(user: User) -> list[str]:
    """The names of the user's tags that nothing carries (made, then taken off everything)."""
    spare = Tag.objects.filter(user=user, highlights__isnull=True, sources__isnull=True)
    return list(spare.order_by(Lower("name")).values_list("name", flat=True))


def json_export(sources: QuerySet[Source]) -> dict[str, Any]:
    """The whole JSON backup as one object (for small selections and tests)."""
    loaded: dict[str, Any] = json.loads("".join(stream_json(sources)))
    return loaded
