"""Two full archives, one per user, for the isolation and web-security tests.

Everything the second user (B) owns carries TOKEN, so any page that shows any of it, even cut
short, is caught. B's rows get ids no row of A has in any table (each table's sequence is
moved on first), so an id of B's can only ever reach B's own row.
"""

from __future__ import annotations

import itertools
from typing import Any

from django.apps import apps
from django.contrib.auth.models import User
from django.db import connection, models
from django.utils import timezone

from archive.models import Category, ExportSettings, ImportFile, ImportJob
from highlights.models import Tag
from tests.factories import make_highlight, make_source, make_user

TOKEN = "qzxvbsecret"
# Tag names a URL finds hard: slashes, percent, hash, query, dots, markup, emoji, case.
ODD_TAGS = ["/slash/in/it", " 100% sure", " #hash?q=1&x", " ..", " <b>&amp;</b>", " 🦊 fox", "+plus\\back", "CASE"]
# Words only B's highlights contain (A searches for them).
B_WORDS = [TOKEN, "axolotl", "quokka"]


def build_archive(user: User, prefix: str, words: str) -> None:
    """Sources (live and in the trash), authors, highlights with notes, tags, jobs, settings."""
    now = timezone.now()
    first = make_source(
        user,
        title=f"{prefix} Memoir of the {words}",
        author=f"{prefix} Okapi Writer",
        url=f"https://{prefix.lower().strip()}.example.org/memoir",
        category=Category.BOOKS,
        origin=f"{prefix.lower().strip()}app",
        note=f"{prefix} a document note",
        extra={"custom": f"{prefix} front matter"},
    )
    second = make_source(
        user, title=f"{prefix} Field Notes", author=f"{prefix} Second Writer", category=Category.ARTICLES
    )
    trashed = make_source(user, title=f"{prefix} Thrown Away", author=f"{prefix} Okapi Writer", deleted_at=now)
    tags = [Tag.objects.create(user=user, name=f"{prefix}{name}") for name in ODD_TAGS]
    texts = itertools.count(1)
    for source, count in ((first, 4), (second, 2), (trashed, 1)):
        for number in range(count):
            highlight = make_highlight(
                source,
                text=f"{prefix} the {words} sentence {next(texts)} is worth keeping.",
                note=f"{prefix} a note on it" if number % 2 == 0 else "",
                favorite=number == 0,
                highlighted_at=now,
            )
            highlight.tags.add(*tags[number::3])
    make_highlight(first, text=f"{prefix} a {words} sentence in the trash.", deleted_at=now)
    first.tags.add(tags[0], tags[1])
    done = ImportJob.objects.create(user=user, status=ImportJob.Status.DONE, total=1, done=1, finished_at=now)
    ImportFile.objects.create(
        job=done, name=f"{prefix} export.md", status=ImportFile.Status.CREATED, source_ids=[first.pk], message="ok"
    )
    failed = ImportJob.objects.create(user=user, status=ImportJob.Status.FAILED, total=2, done=1, message=f"{prefix} x")
    ImportFile.objects.create(job=failed, position=0, name=f"{prefix} one.md", status=ImportFile.Status.ERROR)
    ImportFile.objects.create(job=failed, position=1, name=f"{prefix} two.md", data=b"# pending")
    ExportSettings.objects.create(
        user=user, layout=ExportSettings.Layout.CUSTOM, template=f"{prefix} template {{{{ title }}}}"
    )


def move_sequences_on() -> None:
    """Start every table's ids far beyond each other's (and beyond anything made so far)."""
    with connection.cursor() as cursor:
        for number, model in enumerate(apps.get_models(include_auto_created=True), start=1):
            pk = model._meta.pk
            if not isinstance(pk, models.AutoField | models.BigAutoField | models.SmallAutoField):
                continue
            base = number * 10_000_000 if not isinstance(pk, models.SmallAutoField) else 20_000 + number * 200
            column, table = connection.ops.quote_name(pk.column), connection.ops.quote_name(model._meta.db_table)
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, %s), GREATEST(%s, (SELECT max({column}) FROM {table})))",
                [model._meta.db_table, pk.column, base],
            )


def two_archives() -> tuple[User, User]:
    """A (alice, no staff rights) and B (every string of theirs carries TOKEN)."""
    alice = make_user("alice")
    build_archive(alice, "Alpha", "heron")
    move_sequences_on()
    bob = make_user(f"{TOKEN}-bob", email=f"{TOKEN}@example.org", first_name=TOKEN)
    build_archive(bob, TOKEN.capitalize(), " ".join(B_WORDS[1:]))
    return alice, bob


def ids_by_kind(rows: dict[str, list[Any]], per_kind: int) -> list[str]:
    """Ids of each kind of row: the first `per_kind`, and of rows that can be in the trash, the
    last one too (the trash is made last)."""
    found: list[str] = []
    for kind_rows in rows.values():
        chosen = kind_rows[:per_kind]
        if any(field.name == "deleted_at" for field in kind_rows[0]._meta.fields):
            chosen.append(kind_rows[-1])
        found += [str(row.pk) for row in chosen if str(row.pk) not in found]
    return found
