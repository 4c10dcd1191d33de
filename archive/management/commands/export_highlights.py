"""Export a user's archive: one source as Markdown, many as a zip of Markdown, or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from archive import exporting


class Command(BaseCommand):
    help = "Export highlights as Markdown (a .md for one source, a .zip for several) or as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True)
        parser.add_argument("--out", required=True, help="File to write ('-' for standard output).")
        parser.add_argument("--format", choices=["markdown", "json"], default="markdown")
        parser.add_argument(
            "--source",
            type=int,
            action="append",
            help="Only this source id (repeatable).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["user"])
        except User.DoesNotExist:
            raise CommandError(f"no user named {options['user']!r}") from None
        sources = exporting.sources_for_export(user)
        if options["source"]:
            sources = sources.filter(pk__in=options["source"])
            missing = set(options["source"]) - set(sources.values_list("pk", flat=True))
            if missing:
                raise CommandError(f"no source with id {', '.join(map(str, sorted(missing)))} in {user}'s archive")
        out = options["out"]
        if options["format"] == "json":
            text = json.dumps(exporting.json_export(sources), ensure_ascii=False, indent=2)
            self._write(out, text.encode())
        elif options["source"] and len(options["source"]) == 1:
            self._write(out, exporting.markdown_for(sources.get()).encode())
        else:
            if out == "-":
                raise CommandError("a zip of several sources needs --out FILE.zip")
            with Path(out).open("wb") as handle:
                count = exporting.write_zip(sources.iterator(chunk_size=200), handle)
            self.stderr.write(f"Wrote {count} sources to {out}")

    def _write(self, out: str, data: bytes) -> None:
        if out == "-":
            self.stdout.write(data.decode(), ending="")
        else:
            Path(out).write_bytes(data)
