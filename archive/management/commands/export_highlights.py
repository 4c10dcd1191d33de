"""Export a user's archive: Markdown (one source as a .md, several as a zip), JSON backup or CSV."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from archive import exporting
from archive.models import Category, ExportSettings
from highlights.models import Tag


class Command(BaseCommand):
    help = (
        "Export highlights as Markdown (a .md for one --source, else a zip with a folder per category), "
        "as a JSON backup (Readwise's /api/v2/export/ shape; restores exactly with import_highlights) or as "
        "Readwise's 11-column CSV. Without a selection, the whole archive (and for JSON, the trash too)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True)
        parser.add_argument("--out", required=True, help="File to write ('-' for standard output).")
        parser.add_argument("--format", choices=["markdown", "json", "csv"], default="markdown")
        parser.add_argument(
            "--layout",
            choices=[choice.value for choice in ExportSettings.Layout],
            help="Markdown layout (default: the one chosen in the user's settings).",
        )
        parser.add_argument("--source", type=int, action="append", help="Only this source id (repeatable).")
        parser.add_argument("--tag", help="Only sources with this tag (on the source or one of its highlights).")
        parser.add_argument("--author", help="Only sources by this author (a name, or an author id).")
        parser.add_argument(
            "--category", choices=[value for value, _label in Category.choices if value] + ["uncategorised"]
        )
        parser.add_argument("--origin", help="Only sources read in this app (kindle, reader, ...).")
        parser.add_argument(
            "--favorites", "--favourites", action="store_true", help="Only sources with a favourite highlight."
        )
        parser.add_argument("--search", help="Only sources matching this search (titles, authors, highlights, notes).")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        try:
            user = User.objects.get(username=options["user"])
        except User.DoesNotExist:
            raise CommandError(f"no user named {options['user']!r}") from None
        selection = self._selection(user, options)
        kind, out = options["format"], options["out"]
        sources = exporting.select_sources(user, selection, trash=kind == "json")
        if options["source"]:
            missing = set(options["source"]) - set(sources.values_list("pk", flat=True))
            if missing:
                raise CommandError(f"no source with id {', '.join(map(str, sorted(missing)))} in {user}'s archive")
        count = sources.count()
        if kind == "json":
            spare = exporting.unused_tags(user) if not any(selection.values()) else []
            self._write(out, (text.encode() for text in exporting.stream_json(sources, indent=2, tags=spare)))
        elif kind == "csv":
            self._write(
                out, (text.encode() for text in exporting.stream_csv(sources.iterator(chunk_size=exporting.CHUNK_SIZE)))
            )
        else:
            render = exporting.renderer_for(user, options["layout"])
            if options["source"] and len(options["source"]) == 1:
                self._write(out, [exporting.markdown_for(sources.get(), render).encode()])
            elif out == "-":
                raise CommandError("a zip of several sources needs --out FILE.zip")
            else:
                self._write(out, exporting.stream_zip(sources, render))
        if out != "-":
            seconds = time.monotonic() - started
            self.stderr.write(f"Wrote {count} source{'s' * (count != 1)} to {out} in {seconds:.1f}s")

    def _selection(self, user: User, options: dict[str, Any]) -> dict[str, Any]:
        if options["tag"] and not Tag.objects.filter(user=user, name__iexact=options["tag"].strip()).exists():
            raise CommandError(f"no tag named {options['tag']!r} in {user}'s archive")
        if options["author"] and exporting.find_author(user, options["author"].strip()) is None:
            raise CommandError(f"no author {options['author']!r} in {user}'s archive")
        return {
            "source": options["source"] or [],
            "tag": options["tag"],
            "author": options["author"],
            "category": options["category"],
            "origin": options["origin"],
            "favorites": options["favorites"],
            "q": options["search"],
        }

    def _write(self, out: str, chunks: Iterable[bytes]) -> None:
        with self._open(out) as handle:
            for chunk in chunks:
                handle.write(chunk)

    @contextmanager
    def _open(self, out: str) -> Iterator[_Writable]:
        if out == "-":
            stream = getattr(self.stdout, "_out", sys.stdout)
            buffer = getattr(stream, "buffer", None)
            if buffer is not None:
                yield buffer
                buffer.flush()
            else:  # a text stream (a test's StringIO): decode what we write
                yield _TextSink(stream)
            return
        with Path(out).open("wb") as handle:
            yield handle


class _Writable(Protocol):
    def write(self, data: bytes, /) -> int: ...


class _TextSink:
    """Bytes to a text stream (a test's StringIO); every chunk written is whole UTF-8."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, data: bytes) -> int:
        self.stream.write(data.decode())
        return len(data)
