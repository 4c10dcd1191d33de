from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.formats import readwise_csv
from archive.formats.document import (
    Category,
    Document,
    Highlight,
    LocationKind,
    ParseError,
)
from tests.samples import sample, sample_names, samples_dir

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "readwise-csv"
ALL_SAMPLES = [
    name for folder in ("readwise-csv", "readwise-markdown", "kindle", "omnivore") for name in sample_names(folder)
]


def fixture(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("utf-8")


def decoded(name: str) -> str:
    data = sample(name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def by_title(documents: list[Document]) -> dict[str, Document]:
    return {document.title: document for document in documents}


# --- detection ------------------------------------------------------------------------------


def test_it_finds_the_samples() -> None:
    assert (samples_dir() / "readwise-csv").is_dir()
    assert len(ALL_SAMPLES) > 30


@pytest.mark.parametrize("name", ALL_SAMPLES)
def test_it_sniffs_only_readwise_csv_samples(name: str) -> None:
    assert readwise_csv.sniff(decoded(name)) is name.startswith("readwise-csv/")


def test_it_sniffs_each_header_layout() -> None:
    for header in (
        readwise_csv.HEADER_9,
        readwise_csv.HEADER_10,
        readwise_csv.HEADER_11,
    ):
        assert readwise_csv.sniff(",".join(header) + "\r\nrow")
    assert not readwise_csv.sniff("Highlight,Book Title,Book Author\nx,y,z")
    assert not readwise_csv.sniff("")


# --- the real samples -----------------------------------------------------------------------


def test_it_reads_the_eleven_column_sample() -> None:
    result = readwise_csv.parse(decoded("readwise-csv/export-11-columns.csv"))

    assert result.format == "readwise-csv"
    assert result.skipped == 0
    assert result.warnings == []
    assert [d.title for d in result.documents] == [
        "🚨 BREAKING: Temperatures are now set to reach up to...",
        "X",
        "Effortlessly save popular documents in two clicks",
    ]
    assert [len(d.highlights) for d in result.documents] == [1, 1, 1]
    assert all(d.category is Category.ARTICLES for d in result.documents)
    politics, x, wisereads = result.documents
    assert politics.author == "Politics UK"
    assert politics.highlights[0] == Highlight(
        text="nd Thursday",
        note="beware",
        location="81",
        location_kind=LocationKind.OFFSET,
        highlighted_at=dt.datetime(2026, 6, 22, 10, 34, 42, 964038),
    )
    assert x.author == "x.com"
    assert x.highlights[0].text == (
        "BREAKING: Temperatures are now set to reach up to 40C in the UK on Wednesday and Thursday"
    )
    assert x.highlights[0].location == "2792"
    assert x.highlights[0].note == ""
    assert wisereads.author == "Daniel Doyon and Tristan Homsi"
    assert wisereads.authors == ["Daniel Doyon", "Tristan Homsi"]
    assert wisereads.highlights[0].text == ("over the past week in a newsletter called *Wisereads*. **Tap the bu**")
    assert wisereads.highlights[0].note == "asd"
    assert wisereads.highlights[0].highlighted_at == dt.datetime(2026, 6, 22, 10, 28, 55, 551207)


def test_it_reads_the_nine_column_sample() -> None:
    result = readwise_csv.parse(decoded("readwise-csv/export-9-columns.csv"))
    documents = by_title(result.documents)
    highlights = [h for d in result.documents for h in d.highlights]

    assert result.skipped == 0
    assert result.warnings == []
    assert len(result.documents) == 55
    assert len(highlights) == 1658
    assert all(d.category is Category.BOOKS for d in result.documents)
    assert all(h.location_kind is LocationKind.LOCATION for h in highlights)
    assert all(h.highlighted_at is None for h in highlights)
    assert Counter(h.color for h in highlights) == {
        "yellow": 1646,
        "blue": 6,
        "pink": 3,
        "orange": 3,
    }
    assert sum(h.favorite for h in highlights) == 11
    assert Counter(t for h in highlights for t in h.tags) == {
        "blue": 6,
        "pink": 3,
        "orange": 3,
        "discard": 3,
        "gestures": 1,
    }
    assert sum(1 for h in highlights if h.note) == 4

    geek = documents["Even a Geek Can Speak: Low-Tech Presentation Skills for High-Tech People"]
    assert geek.author == "Joey Asher"
    assert geek.external_id == "B004GXAZF2"
    assert len(geek.highlights) == 198
    gestures = next(h for h in geek.highlights if h.tags == ["gestures"])
    assert gestures.text.startswith("“What do I do with my hands?” We get that question all the t")
    assert gestures.location == "2147"

    stick = documents["Made to Stick: Why Some Ideas Survive and Others Die"]
    assert stick.authors == ["Chip Heath", "Dan Heath"]
    assert len(stick.highlights) == 70
    assert [h.location for h in stick.highlights if h.color == "blue"] == [
        "2949",
        "3192",
    ]

    learning = documents["How Learning Works: Seven Research-Based Principles for Smart Teaching"]
    assert learning.authors == [
        "Susan A. Ambrose",
        "Michael W. Bridges",
        "Michele DiPietro",
        "Marsha C. Lovett",
        "Marie K. Norman",
        "Richard E. Mayer",
    ]

    apprenticeship = documents["Apprenticeship Patterns: Guidance for the Aspiring Software Craftsman"]
    assert apprenticeship.external_id == "B002RMSZ7E"
    assert sum(h.favorite for h in apprenticeship.highlights) == 8
    assert all("favorite" not in h.tags for h in highlights)

    pharmacology = documents["Clinical Pharmacokinetics and Pharmacodynamics: Concepts and Applications"]
    pie = next(h for h in pharmacology.highlights if h.note)
    assert pie.note == "great figure to show how bad 3d pie charts are"
    assert pie.location == "2834"
    assert pie.text.startswith("FIGURE 5-1. Relative importance of route and mechanism of el")

    memory_man = documents["Memory Man (Memory Man series Book 1)"]
    assert [(h.text, h.tags, h.location) for h in memory_man.highlights] == [
        ("shuffle as he walked. He looked around the large", ["discard"], "1540"),
        ("They", ["discard"], "2061"),
    ]

    mailund = [d for d in result.documents if d.author == "Thomas Mailund"]
    assert len(mailund) == 2


def test_it_round_trips_the_real_samples() -> None:
    for name in (
        "readwise-csv/export-11-columns.csv",
        "readwise-csv/export-9-columns.csv",
    ):
        result = readwise_csv.parse(decoded(name))
        again = readwise_csv.parse(readwise_csv.render(result.documents))
        assert again.documents == result.documents


# --- own fixtures ---------------------------------------------------------------------------


def test_it_reads_the_eleven_column_fixture() -> None:
    result = readwise_csv.parse(fixture("eleven-columns.csv"))
    almanac, tides, podcast = result.documents

    assert almanac.title == "The Lighthouse Almanac"
    assert almanac.author == "Ada Byron & Mary Shelley"
    assert almanac.authors == ["Ada Byron", "Mary Shelley"]
    assert almanac.external_id == "B000TEST01"
    assert almanac.tags == ["fiction", "coast"]
    assert almanac.category is Category.BOOKS
    assert almanac.highlights == [
        Highlight(
            text="The lighthouse keeper counted ships.",
            note="first note",
            tags=["sea"],
            location="120-121",
            location_kind=LocationKind.LOCATION,
            color="yellow",
            highlighted_at=dt.datetime(2024, 3, 1, 8, 15, 30, 250000),
            favorite=True,
        ),
        Highlight(
            text='A quote with a comma, and "quotes",\nand a second line.',
            note="a note\nover two lines",
            tags=["blue", "discard"],
            location="340",
            location_kind=LocationKind.LOCATION,
            color="blue",
            highlighted_at=dt.datetime(2024, 3, 1, 7, 0),
        ),
        Highlight(
            text="=SUM(A1:A3) is how the keeper tallied.",
            note="-- a dash note",
            location="xiv",
            location_kind=LocationKind.PAGE,
            color="pink",
        ),
    ]

    assert tides.author == "@tidewatcher"
    assert tides.category is Category.ARTICLES
    assert [(h.location_kind, h.location, h.favorite) for h in tides.highlights] == [
        (LocationKind.OFFSET, "1503", False),
        (LocationKind.ORDER, "2", True),
    ]
    assert tides.highlights[0].highlighted_at == dt.datetime(2024, 3, 2, 10, 0, 0, 1)

    assert podcast.category is Category.NONE
    assert [(h.text, h.location_kind, h.location) for h in podcast.highlights] == [
        ("Episode opening line.", LocationKind.TIME, "0:00:02")
    ]
    assert result.skipped == 1
    assert result.warnings == ["Row 8 (line 10) has no highlight text and no note; skipped."]


def test_it_reads_the_ten_column_layout() -> None:
    result = readwise_csv.parse(fixture("ten-columns.csv"))
    (book,) = result.documents

    assert book.author == "Doe, Jane"
    assert book.category is Category.BOOKS
    assert [(h.location, h.favorite, h.note) for h in book.highlights] == [
        ("12", False, ""),
        ("13", True, "reef early"),
    ]
    assert book.highlights[1].highlighted_at == dt.datetime(2023, 11, 5, 17, 46)


def test_it_reads_crlf_and_lf_alike() -> None:
    crlf = fixture("eleven-columns.csv")
    lf = crlf.replace("\r\n", "\n")
    assert "\r" not in lf
    assert readwise_csv.parse(lf) == readwise_csv.parse(crlf)


def test_it_names_the_row_of_a_wrong_width() -> None:
    with pytest.raises(ParseError, match=r"Row 3 \(line 4\) has 8 cells, but the header has 9"):
        readwise_csv.parse(fixture("wrong-width.csv"))


def test_it_rejects_binary_junk_with_its_row() -> None:
    text = ",".join(readwise_csv.HEADER_9) + "\nok,Book,Author,,,,,,\n\x00\x01\x02PK,,,,,,,,\n"
    with pytest.raises(ParseError, match=r"Row 3 \(line 3\) contains binary data"):
        readwise_csv.parse(text)


def test_it_rejects_an_unclosed_quote_with_its_row() -> None:
    text = ",".join(readwise_csv.HEADER_9) + '\nok,Book,Author,,,,,,\n"never closed,Book\n'
    with pytest.raises(ParseError, match=r"Row 3 \(line 3\) is not valid CSV"):
        readwise_csv.parse(text)


def test_it_rejects_a_file_without_the_header() -> None:
    with pytest.raises(ParseError, match="not a Readwise CSV header"):
        readwise_csv.parse("Title,Author\nA,B\n")
    with pytest.raises(ParseError, match="empty"):
        readwise_csv.parse("")


def test_it_skips_an_exact_repeat_row() -> None:
    row = "Same words,Book,Author,,,,,location,5"
    result = readwise_csv.parse("\n".join([",".join(readwise_csv.HEADER_9), row, row]))
    assert len(result.documents[0].highlights) == 1
    assert result.skipped == 1
    assert result.warnings == ["Row 3 (line 3) repeats an earlier row exactly; skipped."]


def test_it_keeps_a_location_of_an_unknown_type_and_warns() -> None:
    text = ",".join(readwise_csv.HEADER_9) + "\nWords,Book,Author,,,,,chapter,7\n"
    result = readwise_csv.parse(text)
    highlight = result.documents[0].highlights[0]
    assert (highlight.location, highlight.location_kind) == ("7", LocationKind.NONE)
    assert "unknown Location Type 'chapter'" in result.warnings[0]


# --- rendering ------------------------------------------------------------------------------


def test_it_renders_the_eleven_column_layout() -> None:
    document = Document(
        title="Book",
        author="A & B",
        external_id="B01",
        tags=["one", "two"],
        highlights=[
            Highlight(
                text="Words",
                note="n",
                tags=["t"],
                location="3",
                location_kind=LocationKind.PAGE,
                color="yellow",
                highlighted_at=dt.datetime(2024, 1, 2, 3, 4, 5, 6),
                favorite=True,
            )
        ],
    )
    assert readwise_csv.render([document, Document(title="Empty")]) == (
        ",".join(readwise_csv.HEADER_11)
        + '\r\nWords,Book,A & B,B01,n,yellow,"t, favorite",page,3,'
        + '2024-01-02 03:04:05.000006+00:00,"one, two"\r\n'
    )


def test_it_neutralises_cells_a_spreadsheet_would_execute() -> None:
    texts = [
        "=1+1",
        "+1",
        "-1",
        "@SUM(A1)",
        "\tx",
        "'=1+1",
        "''@x",
        "'Tis",
        "plain",
        "a=b",
    ]
    document = Document(
        title="=HYPERLINK()",
        highlights=[Highlight(text=text) for text in texts],
    )
    rendered = readwise_csv.render([document])
    written = [line.split(",")[0] for line in rendered.split("\r\n")[1:-1]]

    assert written == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "''=1+1",
        "'''@x",
        "'Tis",
        "plain",
        "a=b",
    ]
    assert ",'=HYPERLINK()," in rendered
    assert [h.text for h in readwise_csv.parse(rendered).documents[0].highlights] == texts


# --- the round trip, as a property ----------------------------------------------------------

_CHARACTERS = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters="\r\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11"
    "\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f",
)
_PREFIXES = st.sampled_from(["", "", "", "'", "''", "=", "'=", "''+", "-", "@", "+", "\t", "'\t"])
_free_text = st.builds(lambda p, t: p + t, _PREFIXES, st.text(_CHARACTERS, max_size=30))
_text = _free_text.filter(lambda t: t.strip())
_stripped = st.builds(lambda p, t: (p + t).strip(), _PREFIXES, st.text(_CHARACTERS, max_size=12))
_tag = _stripped.filter(lambda t: t and "," not in t and t.lower() != "favorite")
_tags = st.lists(_tag, max_size=3, unique_by=str.lower)
_when = st.none() | st.datetimes(min_value=dt.datetime(1900, 1, 1))


@st.composite
def _documents(draw: st.DrawFn) -> list[Document]:
    highlights = st.builds(
        Highlight,
        text=_text,
        note=_free_text,
        tags=_tags,
        location=_stripped,
        location_kind=st.sampled_from(list(LocationKind)),
        color=_stripped,
        highlighted_at=_when,
        favorite=st.booleans(),
    )
    keys = draw(
        st.lists(
            st.tuples(_free_text, _free_text, _stripped),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    documents = []
    for title, author, external_id in keys:
        document = Document(
            title=title,
            author=author,
            authors=readwise_csv.split_authors(author),
            external_id=external_id,
            tags=draw(_tags),
            highlights=draw(
                st.lists(
                    highlights,
                    min_size=1,
                    max_size=4,
                    unique_by=lambda h: (h.text, h.note, h.location, h.location_kind),
                )
            ),
        )
        kinds = {h.location_kind for h in document.highlights}
        if external_id or kinds & {LocationKind.LOCATION, LocationKind.PAGE}:
            document.category = Category.BOOKS
        elif LocationKind.OFFSET in kinds:
            document.category = Category.ARTICLES
        documents.append(document)
    return documents


@settings(max_examples=300, deadline=None)
@given(_documents())
def test_it_parses_what_it_renders_without_loss(documents: list[Document]) -> None:
    result = readwise_csv.parse(readwise_csv.render(documents))
    assert result.documents == documents
    assert result.skipped == 0
    assert result.warnings == []
