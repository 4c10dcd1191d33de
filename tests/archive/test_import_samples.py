"""Every real sample, through the importer into Postgres and back out of it.

The parsers' own tests assert what each sample holds; these check that the database keeps all of
it (every field of every document and highlight), and that a second import changes nothing.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path

import pytest
from django.db.models import Count

from archive import exporting, importing
from archive.formats import detect
from archive.formats.document import Document
from archive.models import Source
from highlights.models import Highlight, fingerprint
from tests.factories import make_user
from tests.samples import sample, sample_names, samples_dir

SAMPLES = [
    name for folder in ("readwise-markdown", "readwise-csv", "kindle", "omnivore") for name in sample_names(folder)
]
FIXTURES = sorted(
    str(path.relative_to(Path(__file__).parent.parent / "fixtures"))
    for path in (Path(__file__).parent.parent / "fixtures").rglob("*")
    if path.is_file() and path.name not in {"broken-frontmatter.md", "wrong-width.csv"}
)


FIELDS = ("display_title", "author", "category", "origin", "saved_at", "published_at", "cover_url", "note", "summary",
          "external_id")  # fmt: skip


def expected(documents: list[Document]) -> dict[str, tuple[Document, dict[str, object]]]:
    """Parsed documents by source identity, their highlights by fingerprint (first one wins)."""
    by_identity: dict[str, tuple[Document, dict[str, object]]] = {}
    for doc in documents:
        if not doc.highlights:
            continue
        identity = importing.source_identity(doc)
        if identity in by_identity:
            # A second document with the same identity in one file fills the first one's blanks.
            first = by_identity[identity][0]
            for field in FIELDS:
                if not getattr(first, field):
                    setattr(first, field, getattr(doc, field))
            first.extra = {**doc.extra, **first.extra}
            first.tags = [*first.tags, *(t for t in doc.tags if t.casefold() not in {x.casefold() for x in first.tags})]
        else:
            by_identity[identity] = (dataclasses.replace(doc), {})
        highlights = by_identity[identity][1]
        for item in doc.highlights:
            highlights.setdefault(fingerprint(item.text or item.note), item)
    return by_identity


def check_round_trip(data: bytes) -> None:
    user = make_user()
    result = detect.parse(data)
    wanted = expected(result.documents)
    [outcome] = importing.import_paths(user, [("file", data)])
    if not wanted:
        assert outcome.status == "skipped"
        assert "no highlights" in outcome.message
        assert not Source.objects.filter(user=user).exists()
        return
    assert outcome.status == "created", outcome
    assert outcome.sources_created == len(wanted)
    assert outcome.highlights_created == sum(len(h) for _, h in wanted.values())

    sources = {s.identity: s for s in exporting.sources_for_export(user)}
    assert set(sources) == set(wanted)
    for identity, (doc, highlights) in wanted.items():
        stored = exporting.document_for(sources[identity])
        for field in ("title", "url", "extra", *FIELDS):
            assert getattr(stored, field) == getattr(doc, field), (identity, field)
        assert stored.authors == list(dict.fromkeys(a for a in (doc.authors or [doc.author]) if a.strip()))
        assert {t.casefold() for t in stored.tags} == {t.strip().casefold() for t in doc.tags}
        assert [fingerprint(h.text or h.note) for h in stored.highlights] == list(highlights)
        for got, item in zip(stored.highlights, highlights.values(), strict=True):
            for field in ("text", "note", "location", "location_kind", "page", "url", "external_id", "color",
                          "highlighted_at", "favorite"):  # fmt: skip
                assert getattr(got, field) == getattr(item, field), (identity, field, item.text[:40])
            assert {t.casefold() for t in got.tags} == {t.strip().casefold() for t in item.tags if t.strip()}

    [again] = importing.import_paths(user, [("file", data)])
    assert again.status == "unchanged", again
    assert (again.sources_created, again.highlights_created, again.highlights_updated) == (0, 0, 0)
    assert Highlight.objects.filter(user=user).count() == outcome.highlights_created
    duplicates = Highlight.objects.values("source", "fingerprint").annotate(n=Count("pk")).filter(n__gt=1)
    assert not duplicates.exists()


@pytest.mark.django_db
def test_it_finds_the_samples() -> None:
    assert samples_dir().is_dir()
    assert len(SAMPLES) == 37


@pytest.mark.django_db
@pytest.mark.parametrize("name", SAMPLES)
def test_it_stores_every_sample_completely_and_only_once(name: str) -> None:
    check_round_trip(sample(name))


@pytest.mark.django_db
@pytest.mark.parametrize("name", FIXTURES)
def test_it_stores_every_fixture_completely_and_only_once(name: str) -> None:
    check_round_trip((Path(__file__).parent.parent / "fixtures" / name).read_bytes())


@pytest.mark.django_db
def test_it_imports_the_whole_sample_folder_with_real_content() -> None:
    user = make_user()
    files = [(name, sample(name)) for name in SAMPLES]
    outcomes = {o.path: o for o in importing.import_paths(user, files)}
    assert not [o for o in outcomes.values() if o.status == "error"]
    assert outcomes["readwise-markdown/not-a-document-sync-log.md"].status == "skipped"
    seed = Source.objects.get(user=user, title="34840312")
    assert seed.name == "Model Alignment Protects Against Accidental Harms, Not Intentional Ones"
    assert seed.highlights.count() == 3
    by_origin = defaultdict(int)
    for source in Source.objects.filter(user=user):
        by_origin[source.origin] += 1
    assert by_origin["kindle"] > 10
    assert by_origin["omnivore"] > 100
