"""The JSON backup: it reads back exactly what it wrote, reads Readwise's export API, and says what is wrong."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.formats import commonplace_json as cj
from archive.formats import detect
from archive.formats.document import Category, Document, Highlight, LocationKind, ParseError
from tests.samples import sample, sample_names

CHARS = st.characters(blacklist_categories=("Cs",))
TEXT = st.text(CHARS, max_size=30)
NAME = TEXT.filter(lambda s: s.strip())
AWARE = st.datetimes(timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-5, minutes=-30))]))
WHEN = st.none() | st.datetimes() | AWARE
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def highlights(draw: st.DrawFn) -> Highlight:
    return Highlight(
        text=draw(NAME),
        note=draw(TEXT),
        tags=draw(st.lists(NAME, max_size=3, unique_by=lambda s: s.strip().casefold())),
        location=draw(TEXT),
        location_kind=draw(st.sampled_from(list(LocationKind))),
        page=draw(TEXT),
        url=draw(TEXT),
        external_id=draw(TEXT),
        color=draw(TEXT),
        highlighted_at=draw(WHEN),
        favorite=draw(st.booleans()),
        created_at=draw(st.none() | AWARE),
        edited_at=draw(st.none() | AWARE),
        deleted_at=draw(st.none() | AWARE),
    )


@st.composite
def documents(draw: st.DrawFn) -> Document:
    return Document(
        title=draw(TEXT),
        display_title=draw(TEXT),
        author=draw(TEXT),
        authors=draw(st.lists(NAME, max_size=3, unique_by=lambda s: s.strip().casefold())),
        url=draw(TEXT),
        category=draw(st.sampled_from(list(Category))),
        origin=draw(TEXT),
        saved_at=draw(WHEN),
        published_at=draw(st.none() | st.dates()),
        cover_url=draw(TEXT),
        tags=draw(st.lists(NAME, max_size=3, unique_by=lambda s: s.strip().casefold())),
        note=draw(TEXT),
        summary=draw(TEXT),
        external_id=draw(TEXT),
        extra=draw(st.dictionaries(TEXT, JSONISH, max_size=3)),
        highlights=draw(st.lists(highlights(), max_size=4)),
        created_at=draw(st.none() | AWARE),
        edited_at=draw(st.none() | AWARE),
        deleted_at=draw(st.none() | AWARE),
        last_highlighted_at=draw(st.none() | AWARE),
    )


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(documents(), max_size=3))
def test_it_reads_back_exactly_the_documents_it_wrote(docs: list[Document]) -> None:
    text = cj.render(docs)
    assert cj.sniff(text)
    result = detect.parse(text.encode())
    assert result.format == cj.FORMAT
    assert result.documents == docs
    assert result.warnings == ([] if docs else ["no highlights found"])


def test_it_is_shaped_like_readwise_export_api() -> None:
    doc = Document(
        title="34840312",
        display_title="Model Alignment",
        author="Arvind Narayanan and Sayash Kapoor",
        authors=["Arvind Narayanan", "Sayash Kapoor"],
        url="https://example.org/a",
        category=Category.ARTICLES,
        origin="reader",
        tags=["ai"],
        highlights=[Highlight(text="x", location="3", location_kind=LocationKind.PAGE, tags=["t"], favorite=True)],
    )
    data = json.loads(cj.render([doc]))
    assert list(data)[:5] == ["format", "version", "count", "nextPageCursor", "results"]
    assert (data["count"], data["nextPageCursor"]) == (1, None)
    [book] = data["results"]
    assert book["title"] == book["readable_title"] == "Model Alignment"
    assert book["exported_title"] == "34840312"
    assert book["source"] == "reader"
    assert book["source_url"] == book["unique_url"] == "https://example.org/a"
    assert book["book_tags"] == [{"name": "ai"}]
    assert book["is_deleted"] is False
    [item] = book["highlights"]
    assert item["location"] == "3" and item["location_type"] == "page"
    assert item["tags"] == [{"name": "t"}]
    assert item["is_favorite"] is True


def test_it_writes_a_stream_that_is_one_json_document() -> None:
    books = [cj.book(Document(title=f"t{i}", highlights=[Highlight(text="x")]), book_id=i) for i in range(3)]
    pieces = list(cj.stream(books, 3, indent=2))
    assert len(pieces) == 5
    assert [b["user_book_id"] for b in json.loads("".join(pieces))["results"]] == [0, 1, 2]
    assert json.loads("".join(cj.stream([], 0))) == {
        "format": cj.FORMAT,
        "version": cj.VERSION,
        "count": 0,
        "nextPageCursor": None,
        "results": [],
    }


READWISE_RESPONSE = """{
  "count": 1,
  "nextPageCursor": null,
  "results": [
    {
      "user_book_id": 12345,
      "title": "Why Nations Fail",
      "author": "Daron Acemoglu and James A. Robinson",
      "readable_title": "Why Nations Fail",
      "source": "kindle",
      "cover_image_url": "https://images-na.ssl-images-amazon.com/images/I/51.jpg",
      "unique_url": null,
      "book_tags": [{"id": 1, "name": "economics"}],
      "category": "books",
      "document_note": null,
      "summary": null,
      "readwise_url": "https://readwise.io/bookreview/12345",
      "source_url": null,
      "asin": "B0058Z4NR8",
      "highlights": [
        {
          "id": 687119130,
          "text": "Nations fail today because their extractive economic institutions...",
          "location": 335,
          "location_type": "location",
          "note": "central claim",
          "color": "yellow",
          "highlighted_at": "2023-07-19T09:54:00Z",
          "created_at": "2023-07-19T10:00:00Z",
          "updated_at": "2023-07-19T10:00:00Z",
          "external_id": null,
          "end_location": null,
          "url": null,
          "book_id": 12345,
          "tags": [{"id": 2, "name": "thesis"}],
          "is_favorite": true,
          "is_discard": false,
          "readwise_url": "https://readwise.io/open/687119130"
        },
        {"id": 2, "text": "  ", "location": 0, "location_type": "order", "tags": [], "is_discard": true}
      ]
    }
  ]
}"""


def test_it_reads_readwise_export_api_responses() -> None:
    result = detect.parse(READWISE_RESPONSE.encode())
    assert result.format == cj.READWISE_FORMAT
    [doc] = result.documents
    assert doc.title == "Why Nations Fail" and doc.display_title == ""
    assert doc.authors == ["Daron Acemoglu", "James A. Robinson"]
    assert (doc.category, doc.origin, doc.external_id) == (Category.BOOKS, "kindle", "12345")
    assert doc.tags == ["economics"]
    assert doc.created_at is None  # Readwise's dates of its own rows are not Commonplace's
    [h] = doc.highlights
    assert (h.location, h.location_kind, h.external_id) == ("335", LocationKind.LOCATION, "687119130")
    assert (h.note, h.color, h.tags, h.favorite) == ("central claim", "yellow", ["thesis"], True)
    assert h.highlighted_at == dt.datetime(2023, 7, 19, 9, 54, tzinfo=dt.UTC)
    assert result.warnings == ["results[0]: 1 empty highlight(s) left out"]


def test_it_keeps_discarded_and_deleted_readwise_highlights_as_such() -> None:
    data = json.loads(READWISE_RESPONSE)
    data["results"][0]["highlights"][0].update(is_discard=True, is_deleted=True)
    [doc] = cj.parse(json.dumps(data)).documents
    assert doc.highlights[0].tags == ["thesis", "discard"]
    assert doc.highlights[0].deleted_at is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"format": "commonplace-json", "version": 1,\n "results": [}', r"^line 2: "),
        ('{"format": "commonplace-json", "version": 9, "results": []}', "version 9"),
        ('{"format": "commonplace-json", "version": 1, "results": [3]}', r"^results\[0\]: should be an object"),
        (
            '{"format": "commonplace-json", "version": 1, "results": [{"highlights": [{"text": ["x"]}]}]}',
            r"^results\[0\]\.highlights\[0\]\.text: should be text, not a list",
        ),
        (
            '{"format": "commonplace-json", "version": 1, "results": [{"saved_at": "yesterday"}]}',
            r"results\[0\]\.saved_at: 'yesterday' is not a date and time",
        ),
        (
            '{"format": "commonplace-json", "version": 1, "results": [{"highlights": [{"is_favorite": "yes"}]}]}',
            r"is_favorite: should be true or false",
        ),
        ('{"count": 1, "results": {"a": 1}}', 'there is no "results" list'),
        ('{"count": 1, "results": ' + "[" * 100_000 + "]" * 100_000 + "}", "cannot be read|line 1"),
    ],
)
def test_it_says_what_is_wrong_and_where(text: str, message: str) -> None:
    assert cj.sniff(text)
    with pytest.raises(ParseError, match=message):
        cj.parse(text)


def test_it_claims_only_json_exports() -> None:
    assert not cj.sniff('{"a": 1, "results": []}')
    assert not cj.sniff('[{"results": []}]')
    assert not cj.sniff("# Title\n\n## Highlights\n")
    assert cj.sniff('  \n{ "nextPageCursor": null, "count": 0, "results": [] }')
    assert detect.PARSER_MODULES[0] == "commonplace_json"


@pytest.mark.parametrize(
    "name", [n for folder in ("readwise-markdown", "readwise-csv", "kindle", "omnivore") for n in sample_names(folder)]
)
def test_it_leaves_every_other_sample_alone(name: str) -> None:
    text, _ = detect.decode(sample(name))
    assert not cj.sniff(text)
