"""Lossless round trips through the database: archive -> Markdown zip / JSON backup -> a fresh account.

Generated archives are written the way imports write them, then worked on the way a reader works
in Commonplace (trash, edits, favourites, tags, dates); every real sample goes through too.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from archive import exporting, importing
from archive.formats.document import Category, Document, Highlight, LocationKind
from archive.models import Source
from highlights.models import Highlight as HighlightRow
from highlights.models import Tag
from tests.archive.test_export import add_source, restore, snapshot
from tests.factories import make_user
from tests.formats.test_readwise_markdown import BODY, CHARS, EXTRA_KEY, MAYBE, TAG, TEXT, URL
from tests.samples import sample, sample_names

FIXTURES = Path(__file__).parent.parent / "fixtures"


def short(strategy: st.SearchStrategy[str], limit: int) -> st.SearchStrategy[str]:
    """Values that fit their column (the importer cuts some, the database refuses others)."""
    return strategy.map(lambda s: s[:limit])


NAME = short(BODY, 200).map(str.strip).filter(bool)
# What a JSON column holds (Postgres refuses Infinity and NaN).
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(CHARS, max_size=5), inner, max_size=3),
    max_leaves=6,
)
# The importer keeps only http(s) links (it drops `javascript:` and the like).
LINK = st.one_of(
    st.just(""), URL.filter(lambda u: u.startswith("https://")), TEXT.map(lambda s: f"https://x.example/{s}")
)
WHEN = st.none() | st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1))
AWARE = st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC))


@st.composite
def highlights(draw: st.DrawFn) -> Highlight:
    kind = draw(st.sampled_from(list(LocationKind)))
    return Highlight(
        text=draw(BODY),
        note=draw(TEXT.map(str.strip)),
        tags=draw(st.lists(TAG.filter(str.strip), max_size=3)),
        location=draw(short(st.one_of(st.sampled_from(["335", "1004-1005", "xiv", "0:00:02"]), BODY), 100))
        if kind is not LocationKind.NONE or draw(st.booleans())
        else "",
        location_kind=kind,
        page=draw(short(st.one_of(st.just(""), st.sampled_from(["12", "xiv"]), TEXT), 50)),
        url=draw(LINK),
        external_id=draw(short(st.one_of(st.just(""), st.from_regex(r"[0-9]{1,10}", fullmatch=True), TEXT), 200)),
        color=draw(short(st.one_of(st.just(""), st.sampled_from(["yellow", "blue", "green"]), TEXT), 30)),
        highlighted_at=draw(WHEN),
        favorite=draw(st.booleans()),
    )


@st.composite
def documents(draw: st.DrawFn) -> Document:
    author = draw(short(MAYBE, 300))
    return Document(
        title=draw(short(TEXT, 300)),
        display_title=draw(short(MAYBE, 300)),
        author=author,
        authors=draw(st.one_of(st.just([]), st.lists(NAME, max_size=3))),
        url=draw(LINK),
        category=draw(st.sampled_from(list(Category))),
        origin=draw(short(MAYBE.filter(lambda s: not s.startswith(("http://", "https://"))), 100)),
        saved_at=draw(WHEN),
        published_at=draw(st.none() | st.dates(min_value=dt.date(1000, 1, 1))),
        cover_url=draw(LINK),
        tags=draw(st.lists(NAME, max_size=3)),
        note=draw(MAYBE),
        summary=draw(MAYBE),
        external_id=draw(short(MAYBE, 200)),
        extra=draw(st.dictionaries(EXTRA_KEY, JSONISH, max_size=3)),
        highlights=draw(st.lists(highlights(), min_size=1, max_size=4)),
    )


@st.composite
def archives(draw: st.DrawFn) -> tuple[list[Document], list[dict[str, Any]]]:
    """Documents to import, and what the reader then does to each source and highlight."""
    docs = draw(st.lists(documents(), min_size=1, max_size=4))
    actions = [
        {
            "trash": draw(st.booleans()),
            "edited": draw(st.none() | AWARE),
            "added": draw(st.none() | AWARE),
            "empty": draw(st.integers(0, 9)) == 0,
            "highlights": draw(
                st.lists(
                    st.fixed_dictionaries(
                        {
                            "trash": st.booleans(),
                            "edited": st.none() | AWARE,
                            "added": st.none() | AWARE,
                            "favorite": st.booleans(),
                            "tag": st.none() | NAME,
                        }
                    ),
                    min_size=4,
                    max_size=4,
                )
            ),
        }
        for _ in docs
    ]
    return docs, actions


def build(user: User, docs: list[Document], actions: list[dict[str, Any]]) -> None:
    for doc, action in zip(docs, actions, strict=True):
        source = add_source(user, doc)
        rows = list(source.highlights.order_by("position", "pk"))
        for row, change in zip(rows, action["highlights"], strict=False):
            if change["trash"]:
                row.deleted_at = change["edited"] or dt.datetime(2021, 6, 1, tzinfo=dt.UTC)
            row.edited_at = change["edited"]
            row.favorite = change["favorite"]
            row.save()
            if change["added"]:
                HighlightRow.objects.filter(pk=row.pk).update(created_at=change["added"])
            if change["tag"]:
                tag = Tag.objects.filter(user=user).named(change["tag"]).first()
                row.tags.add(tag or Tag.objects.create(user=user, name=change["tag"]))
        if action["empty"]:
            source.highlights.all().delete()
        updates: dict[str, Any] = {"edited_at": action["edited"]}
        if action["trash"] and source.deleted_at is None:
            updates["deleted_at"] = action["added"] or dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        if action["added"]:
            updates["created_at"] = action["added"]
        Source.objects.filter(pk=source.pk).update(**updates)


def backup_of(user: User) -> bytes:
    whole = exporting.select_sources(user, {}, trash=True)
    return "".join(exporting.stream_json(whole, tags=exporting.unused_tags(user))).encode()


def zip_of(user: User) -> bytes:
    return b"".join(exporting.stream_zip(exporting.select_sources(user, {}).iterator(chunk_size=50)))


def markdown_view(user: User) -> dict[str, Any]:
    """What a Markdown export can carry: live sources that have live highlights."""
    return {key: entry for key, entry in snapshot(user, backup=False).items() if entry["highlights"]}


PROPERTY = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


class RoundTripProperties(TestCase):
    @PROPERTY
    @given(archives())
    def test_it_restores_any_archive_from_its_json_backup(self, archive: Any) -> None:
        user = make_user()
        build(user, *archive)
        fresh = make_user()
        restore(fresh, "backup.json", backup_of(user))
        assert snapshot(fresh) == snapshot(user)

    @PROPERTY
    @given(archives())
    def test_it_rebuilds_any_archive_from_its_markdown_zip(self, archive: Any) -> None:
        user = make_user()
        build(user, *archive)
        fresh = make_user()
        data = zip_of(user)
        if markdown_view(user):
            restore(fresh, "export.zip", data)
        assert markdown_view(fresh) == markdown_view(user)


SAMPLES = [n for folder in ("readwise-markdown", "readwise-csv", "kindle", "omnivore") for n in sample_names(folder)]
FIXTURE_FILES = sorted(
    str(p.relative_to(FIXTURES))
    for p in FIXTURES.rglob("*")
    if p.is_file() and p.name not in {"broken-frontmatter.md", "wrong-width.csv"}
)


def check_sample(data: bytes) -> None:
    user = make_user()
    [outcome] = importing.import_paths(user, [("sample", data)])
    if outcome.status == "skipped":
        return
    zip_user, json_user = make_user(), make_user()
    restore(zip_user, "export.zip", zip_of(user))
    assert markdown_view(zip_user) == markdown_view(user)
    assert snapshot(zip_user, backup=False) == snapshot(user, backup=False)
    restore(json_user, "backup.json", backup_of(user))
    assert snapshot(json_user) == snapshot(user)


@pytest.mark.django_db
@pytest.mark.parametrize("name", SAMPLES)
def test_it_takes_every_sample_out_and_back_in_unchanged(name: str) -> None:
    check_sample(sample(name))


@pytest.mark.django_db
@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_it_takes_every_fixture_out_and_back_in_unchanged(name: str) -> None:
    check_sample((FIXTURES / name).read_bytes())


@pytest.mark.django_db
def test_it_takes_the_whole_sample_folder_out_and_back_in_unchanged() -> None:
    user = make_user()
    importing.import_paths(user, [(name, sample(name)) for name in SAMPLES])
    # Some reading happened here: a source and a highlight in the trash, a favourite.
    first, second = Source.objects.filter(user=user).order_by("pk")[:2]
    Source.objects.filter(pk=first.pk).update(deleted_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    HighlightRow.objects.filter(source=second).update(favorite=True)
    HighlightRow.objects.filter(pk=second.highlights.first().pk).update(
        deleted_at=dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    )
    zip_user, json_user = make_user(), make_user()
    outcomes = restore(zip_user, "export.zip", zip_of(user))
    assert len(outcomes) == Source.objects.for_user(user).count()
    assert snapshot(zip_user, backup=False) == snapshot(user, backup=False)
    restore(json_user, "backup.json", backup_of(user))
    assert snapshot(json_user) == snapshot(user)


def tag_names(user: User) -> list[str]:
    return sorted(Tag.objects.filter(user=user).values_list("name", flat=True))


class UnusedTagTests(TestCase):
    """A tag taken off everything is still part of the archive: the whole backup keeps it."""

    @PROPERTY
    @given(st.lists(TAG, max_size=4))
    def test_a_backup_keeps_the_tags_nothing_carries(self, spare: list[str]) -> None:
        user = make_user()
        add_source(user, Document(title="Kept", highlights=[Highlight(text="A kept line.", tags=["carried"])]))
        for name in spare:
            if name.strip() and not Tag.objects.filter(user=user).named(name).exists():
                Tag.objects.create(user=user, name=name)
        fresh = make_user()
        data = backup_of(user)
        restore(fresh, "backup.json", data)
        assert tag_names(fresh) == tag_names(user)
        restore(fresh, "backup.json", data)  # again: nothing doubles
        assert tag_names(fresh) == tag_names(user)

    def test_only_a_whole_backup_carries_them(self) -> None:
        user = make_user()
        add_source(user, Document(title="Kept", highlights=[Highlight(text="A kept line.")]))
        Tag.objects.create(user=user, name="someday")
        whole = self.client_class()
        whole.force_login(user)
        response = whole.get("/export/download/", {"format": "json"})
        assert b'"tags": ["someday"]' in b"".join(response.streaming_content)
        response = whole.get("/export/download/", {"format": "json", "category": "books"})
        assert response.status_code in {200, 302}
        if response.status_code == 200:
            assert b'"someday"' not in b"".join(response.streaming_content)
