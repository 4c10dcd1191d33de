from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from archive.formats import omnivore
from archive.formats.document import (
    Category,
    Document,
    Highlight,
    ParseError,
    ParseResult,
)
from tests.samples import sample, sample_names, samples_dir

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "omnivore"
ALL_SAMPLES = [
    name for folder in ("readwise-csv", "readwise-markdown", "kindle", "omnivore") for name in sample_names(folder)
]
KAFKA = "https://omnivore.app/me/kafka-internals-1852b397db4"
TIDES = "https://omnivore.app/me/tide-tables-for-beginners-18a00000001"


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
    assert (samples_dir() / "omnivore").is_dir()
    assert len(ALL_SAMPLES) > 30


@pytest.mark.parametrize("name", ALL_SAMPLES)
def test_it_sniffs_only_omnivore_samples(name: str) -> None:
    assert omnivore.sniff(decoded(name)) is name.startswith("omnivore/")


@pytest.mark.parametrize("name", ["obsidian-default.md", "obsidian-single-file.md", "logseq-page.md"])
def test_it_sniffs_its_own_fixtures(name: str) -> None:
    assert omnivore.sniff(fixture(name))


def test_it_does_not_sniff_a_page_that_merely_links_to_omnivore() -> None:
    assert not omnivore.sniff("I read it on [Omnivore](https://omnivore.app/me/x-1).\n")


# --- the Obsidian sample --------------------------------------------------------------------


def test_it_reads_the_obsidian_default_template_sample() -> None:
    result = omnivore.parse(decoded("omnivore/default-template-kafka-internals.md"))
    (document,) = result.documents

    assert result.format == "omnivore"
    assert result.skipped == 0
    assert result.warnings == []
    assert document.title == "Kafka Internals"
    assert document.external_id == "1445f443-eb7c-43f5-9fa0-ddb7dc10c487"
    assert document.url == "https://engineering.cred.club/kafka-internals-47e594e3f006"
    assert document.extra == {"omnivore_url": KAFKA}
    assert document.origin == "omnivore"
    assert document.category is Category.ARTICLES
    assert document.tags == []
    assert document.note == ""
    assert [h.external_id for h in document.highlights] == [
        "eb45ebe7-57dd-4550-bf82-6e47063e6758",
        "2a3b9317-75b2-4781-8e28-00b7dd6b9449",
        "71a14d30-8205-4927-a7d5-0d8205f2e0f2",
        "ab70b391-6ac0-4b4b-ad12-25b084fb7820",
    ]
    assert all(h.url == f"{KAFKA}#{h.external_id}" for h in document.highlights)
    assert all(h.note == "" and h.tags == [] for h in document.highlights)
    first, broker, topic, partitioner = document.highlights
    assert first.text.startswith("Apache Kafka is a distributed pub/sub messaging system")
    assert first.text.endswith("a mandatory value which is the actual information.")
    assert first.text.count("\n") == 1
    assert "\nMessage: Message is a record of information." in first.text
    assert broker.text == (
        "Broker: Broker is an application that is responsible for persisting messages. "
        "Consumers interact with the broker to consume messages published to topics."
    )
    assert [line.split(":")[0] for line in topic.text.split("\n")] == [
        "Topic",
        "Partition",
        "Offset",
    ]
    assert partitioner.text.split("\n")[0] == (
        "If the partition number is passed as an input, it is used as the partition."
    )
    assert partitioner.text.endswith("using the round-robin algorithm.")
    assert "⤴" not in "".join(h.text for h in document.highlights)
    assert "^" not in "".join(h.text for h in document.highlights)


# --- the Logseq sample ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def logseq_page() -> ParseResult:
    return omnivore.parse(decoded("omnivore/logseq-plugin-page.md"))


def test_it_counts_the_logseq_sample(logseq_page: ParseResult) -> None:
    documents = logseq_page.documents
    highlights = [h for d in documents for h in d.highlights]

    # 2,150 saved articles, 116 of them with highlights; 269 highlight blocks, of which 34 have
    # an empty quote and 7 repeat an earlier highlight of the same article.
    assert len(documents) == 116
    assert len(highlights) == 228
    assert logseq_page.skipped == 2034 + 34 + 7
    assert "2034 saved article(s) have no highlights and were left out." in logseq_page.warnings
    assert sum("repeats an earlier one" in w for w in logseq_page.warnings) == 7
    assert all(d.origin == "omnivore" for d in documents)
    assert all(d.external_id == "" for d in documents)
    assert all(d.extra["omnivore_url"].startswith("https://omnivore.app/me/") for d in documents)
    assert all(d.url and d.saved_at for d in documents)
    assert sum(1 for d in documents if d.author) == 73
    assert sum(1 for d in documents if d.published_at) == 61
    assert sum(1 for h in highlights if h.note) == 27
    assert all(h.text for h in highlights)
    ids = [h.external_id for h in highlights if h.external_id]
    assert len(ids) == 226 == len(set(ids))
    assert all(h.url.endswith("#" + h.external_id) for h in highlights if h.external_id)
    assert len({(d.title, h.text) for d in documents for h in d.highlights}) == 228
    assert Counter(t for d in documents for t in d.tags).most_common(3) == [
        ("programming", 14),
        ("Newsletter", 11),
        ("ai", 8),
    ]
    assert documents[0].title == "When America First Dropped Acid | The New Yorker"
    assert documents[-1].title == "ChatGPT"


def test_it_reads_logseq_article_properties(logseq_page: ParseResult) -> None:
    documents = by_title(logseq_page.documents)

    dev_tools = documents["Dev tools: The ex-Googler guide"]
    assert dev_tools.url == "https://sourcegraph.com/blog/ex-googler-guide-dev-tools"
    assert dev_tools.author == "About the author"
    assert dev_tools.extra == {
        "omnivore_url": "https://omnivore.app/me/dev-tools-the-ex-googler-guide-18c1a0e391f",
        "site": "Sourcegraph",
    }
    assert dev_tools.saved_at == dt.datetime(2023, 11, 28)
    assert dev_tools.published_at == dt.date(2020, 11, 24)
    assert dev_tools.category is Category.ARTICLES
    assert [h.text for h in dev_tools.highlights] == [
        "Another tool worth looking into is [Reviewable](https://reviewable.io/)",
        "The closest thing to Critique you can get outside of Google is Gerrit.",
    ]
    assert dev_tools.highlights[1] == Highlight(
        text="The closest thing to Critique you can get outside of Google is Gerrit.",
        url="https://omnivore.app/me/dev-tools-the-ex-googler-guide-18c1a0e391f#15ff728d-0497-4300-9fcd-12630f93faf7",
        external_id="15ff728d-0497-4300-9fcd-12630f93faf7",
    )

    # the older layout: date_saved, deeper property indentation, two labels
    monolith = documents["Keep the monolith, but split the workloads | incident.io"]
    assert monolith.tags == ["programming", "infra"]
    assert monolith.saved_at == dt.datetime(2023, 4, 24)
    assert monolith.url == "https://incident.io/blog/monolith"
    assert monolith.highlights[0].note == "protoflow baby"

    lmql = documents["LMQL: Programming Large Language Models"]
    assert lmql.author == "Luca Beurer-Kellner,"
    assert lmql.authors == ["Luca Beurer-Kellner"]

    # a label written with a trailing space inside the brackets
    assert any(d.tags == ["programming", "business"] for d in documents.values())
    assert all(t == t.strip() for d in documents.values() for t in d.tags)
    assert "Addy Osmani" not in " ".join(documents)  # saved, never highlighted


def test_it_reads_logseq_highlights_and_notes(logseq_page: ParseResult) -> None:
    documents = by_title(logseq_page.documents)

    lessons = documents["Lessons learned adding messaging to a notes app (Guest Post) at andrewchen"]
    assert lessons.tags == ["mah boi"]
    assert [h.external_id[:8] for h in lessons.highlights] == [
        "88ed4d7e",
        "88ed2b8c",
        "88ece74e",
    ]
    assert lessons.highlights[0].text == (
        "### **The Passive Follower**\n\nThese are the people that just go with the flow on how things are planned."
    )

    html = documents["HTML Design Principles"]
    assert html.highlights[0].text == (
        "Features should be designed for universal access. This category covers\n"
        "various principles related to that.\n\n"
        "5.1. Media Independence\n"
        "Features should, when possible, work across different"
    )

    docker = documents["Docker is deleting Open Source organisations - what you need to know"]
    assert [h.text for h in docker.highlights] == ["Anyone could cybersquat the image and publish malicious content."]

    communal = documents["Communal Computing Networks"]
    assert communal.highlights[0].note == "#protoflow/ideas\n\n#protoflow/ideas #seagl/ideas"

    getting_started = documents["Getting Started with Omnivore"]
    (newsletters,) = getting_started.highlights
    assert newsletters.note == "This is pretty cool. I hope i remember to use this!"
    assert newsletters.text.split("\n")[:3] == [
        "Newsletter Subscriptions via Email",
        "1. On the Omnivore website or app, tap your photo, initial, or avatar in the top "
        "right corner to access the profile menu. Select Emails from the menu.",
        "2. Tap Create a New Email Address to add a new email address "
        "(ex: username-123abc@inbox.omnivore.app) to the list.",
    ]
    assert newsletters.text.endswith("(the email you registered with).")
    assert newsletters.external_id == "b312dd1b-f661-441b-9ea1-51918af76695"

    on_demand = documents["On-demand learning is ruining the tech industry."]
    assert on_demand.tags == ["learning"]
    assert [h.note for h in on_demand.highlights] == ["Testing logseq", "", ""]

    css = next(d for d in documents.values() if d.url.startswith("https://moderncss.dev/"))
    assert css.author == "Written by Stephanie Eckles"
    assert css.highlights[0].note == "#css note for the stream"

    scratchpad = documents["TIL About the i3 Scratchpad | rockyourcode"]
    assert [(h.text.split("\n")[0], h.external_id[:8], h.note) for h in scratchpad.highlights] == [
        ("# Make the currently focused window a scratchpad", "", ""),
        (
            "The scatchpad is a special i3 window. You can use it as a window that opens your "
            "favorite program, e.g., a music player or editor.",
            "e41a2099",
            "use this for logseq",
        ),
    ]


# --- own fixtures: Obsidian -----------------------------------------------------------------


def test_it_reads_an_obsidian_note_with_front_matter_labels_and_notes() -> None:
    result = omnivore.parse(fixture("obsidian-default.md"))
    (document,) = result.documents
    slug = "https://omnivore.app/me/the-quiet-harbour-18d6a1b2c3d"

    assert document.title == "The Quiet Harbour"
    assert document.external_id == "0a1b2c3d-0000-4000-8000-000000000001"
    assert document.author == "Ada Byron and Mary Shelley"
    assert document.authors == ["Ada Byron", "Mary Shelley"]
    assert document.tags == ["sailing", "slow_reading"]
    assert document.saved_at == dt.datetime(2024, 2, 3, 14, 5, 6)
    assert document.published_at == dt.date(2023, 12, 24)
    assert document.url == "https://harbour.example/quiet"
    assert document.extra == {"site_name": "Harbour Weekly", "omnivore_url": slug}
    assert document.note == ""
    assert document.highlights == [
        Highlight(
            text="Boats rest at night.\n\nThe harbour hums at dawn.",
            url=f"{slug}#11111111-1111-4111-8111-111111111111",
            external_id="11111111-1111-4111-8111-111111111111",
        ),
        Highlight(
            text="Gulls know the tide tables better than we do.",
            note="A note on gulls.\n\nIt has a second paragraph.",
            tags=["birds", "tide_tables"],
            url=f"{slug}#22222222-2222-4222-8222-222222222222",
            external_id="22222222-2222-4222-8222-222222222222",
        ),
        Highlight(
            text="- a list item in a quote\n- another",
            url=f"{slug}#55555555-5555-4555-8555-555555555555",
            external_id="55555555-5555-4555-8555-555555555555",
        ),
    ]
    # the empty quote (33333333) and the repeat (44444444)
    assert result.skipped == 2
    assert result.warnings == [
        "Line 33: a highlight repeats an earlier one of 'The Quiet Harbour' (same text, note and labels); skipped."
    ]


def test_it_reads_an_obsidian_single_file_with_several_articles() -> None:
    result = omnivore.parse(fixture("obsidian-single-file.md"))
    first, second = result.documents

    assert (first.title, first.external_id, first.url) == (
        "First Light",
        "aaaaaaaa-0000-4000-8000-00000000000a",
        "https://example.org/first-light",
    )
    assert [h.text for h in first.highlights] == ["Morning comes slowly."]
    assert (second.title, second.external_id, second.tags) == (
        "Second Wind",
        "bbbbbbbb-0000-4000-8000-00000000000b",
        ["weather"],
    )
    assert [(h.text, h.note) for h in second.highlights] == [
        ("The wind turned at noon.", "It was expected."),
        ("Then it rained.", ""),
    ]
    assert result.skipped == 0


def test_it_reads_crlf_like_lf() -> None:
    for name in ("obsidian-default.md", "logseq-page.md"):
        lf = fixture(name)
        assert omnivore.parse(lf.replace("\n", "\r\n")) == omnivore.parse(lf)


def test_it_reports_broken_front_matter() -> None:
    with pytest.raises(ParseError, match="not valid YAML"):
        omnivore.parse("---\nid: [unclosed\n---\n# T\n[Read on Omnivore](https://omnivore.app/me/t)\n")
    with pytest.raises(ParseError, match="never closed"):
        omnivore.parse("---\nid: x\n# T\n[Read on Omnivore](https://omnivore.app/me/t)\n")


def test_it_finds_nothing_in_an_obsidian_note_without_highlights() -> None:
    text = "---\nid: x\n---\n\n# Saved only\n#Omnivore\n\n[Read on Omnivore](https://omnivore.app/me/s)\n"
    result = omnivore.parse(text)
    assert result.documents == []
    assert result.skipped == 1


# --- own fixtures: Logseq -------------------------------------------------------------------


def test_it_reads_a_logseq_page() -> None:
    result = omnivore.parse(fixture("logseq-page.md"))
    tides, wrapped = result.documents

    assert tides.title == "Tide Tables for Beginners"
    assert tides.url == "https://harbour.example/tides?ref=a(b)"
    assert tides.author == "Jo Marsh, Sam Reed"
    assert tides.authors == ["Jo Marsh", "Sam Reed"]
    assert tides.tags == ["sailing", "tides"]
    assert tides.saved_at == dt.datetime(2024, 3, 3)
    assert tides.published_at == dt.date(2024, 2, 29)
    assert tides.extra == {"omnivore_url": TIDES, "site": "Harbour Weekly"}
    assert tides.highlights == [
        Highlight(
            text="High water comes twice a day.",
            note="check the almanac\n\nand the harbour board",
            tags=["tide facts", "basics"],
            url=f"{TIDES}#c1c1c1c1-0000-4000-8000-000000000001",
            external_id="c1c1c1c1-0000-4000-8000-000000000001",
        ),
        Highlight(
            text="Spring tides follow the full moon.\n\nNeap tides follow the half moon.",
            note="a bullet I wrote beside the highlights",
            url=f"{TIDES}#c2c2c2c2-0000-4000-8000-000000000002",
            external_id="c2c2c2c2-0000-4000-8000-000000000002",
        ),
    ]

    assert wrapped.title == "A title that the page wraps over lines"
    assert wrapped.url == "https://wrapped.example/post"
    assert wrapped.author == "Kim Lee | Harbour Desk"
    assert wrapped.saved_at == dt.datetime(2023, 1, 1)
    assert wrapped.extra == {
        "omnivore_url": "https://omnivore.app/me/a-title-that-wraps-18a00000003",
        "reading-time": "4 minutes",
    }
    assert wrapped.note == "a note directly under the article"
    assert wrapped.highlights == [
        Highlight(
            text="Wrapped titles still count.",
            external_id="d1d1d1d1-0000-4000-8000-000000000001",
        )
    ]

    # one empty quote, one repeat, one article without highlights
    assert result.skipped == 3
    assert result.warnings == [
        "Line 20: a highlight repeats an earlier one of 'Tide Tables for Beginners' "
        "(same text, note and labels); skipped.",
        "1 saved article(s) have no highlights and were left out.",
    ]
