"""Import export files, folders and zips from the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from archive import importing


def files_under(paths: list[str]) -> Iterator[tuple[str, Path]]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not any(part.startswith(".") for part in child.relative_to(path).parts):
                    yield str(child), child
        elif path.is_file():
            yield raw, path
        else:
            raise CommandError(f"{raw}: no such file or folder")


class Progress:
    """A one-line progress bar on a terminal: `[#####-----]  12/40  Books/Kafka.md`."""

    def __init__(self, stream: Any, total: int, width: int = 30) -> None:
        self.stream, self.total, self.width, self.done = stream, total, width, 0

    def show(self, label: str) -> None:
        filled = self.width * self.done // max(self.total, 1)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r\033[K[{bar}] {self.done:>{len(str(self.total))}}/{self.total}  {label[-50:]}", ending="")
        self.stream.flush()
        self.done += 1

    def finish(self) -> None:
        self.stream.write(f"\r\033[K[{'#' * self.width}] {self.total}/{self.total}  done")


class Command(BaseCommand):
    help = "Import highlights from export files, folders of them, or zips, for one user."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--user", required=True, help="The username whose archive receives them.")
        parser.add_argument(
            "--json",
            action="store_true",
            help="Print one JSON object instead of a table.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["user"])
        except User.DoesNotExist:
            raise CommandError(f"no user named {options['user']!r}; create one with createsuperuser") from None
        files = list(files_under(options["paths"]))
        progress = Progress(self.stderr, len(files)) if self.stderr.isatty() else None

        def uploads() -> Iterator[importing.Upload | importing.FileOutcome]:
            # Read as the importer asks for them: it writes small files in batches.
            for label, path in files:
                if progress:
                    progress.show(label)
                try:
                    data = path.read_bytes()
                except OSError as error:
                    yield importing.FileOutcome(path=label, status="error", message=str(error))
                    continue
                yield from importing.expand_or_report(label, data)

        outcomes = importing.import_uploads(user, uploads())
        if progress:
            progress.finish()
        totals = importing.totals(outcomes)
        if options["json"]:
            payload = {"files": [o.as_dict() for o in outcomes], "totals": totals}
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
        else:
            for o in outcomes:
                style = self.style.ERROR if o.status == "error" else self.style.SUCCESS
                self.stdout.write(f"{style(o.status.upper()):>10}  {o.path}  [{o.format or '?'}]  {o.message}")
            self.stdout.write(
                f"{totals['files']} files: {totals['sources_created']} new sources, "
                f"{totals['highlights_created']} new highlights, {totals['errors']} errors"
            )
        if totals["errors"] and totals["errors"] == totals["files"]:
            raise CommandError("no file could be imported")
