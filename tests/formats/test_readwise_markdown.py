"""Readwise Markdown: every real sample, a synthetic fixture per layout, and round-trip properties."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.formats import frontmatter
from archive.formats import readwise_markdown as rm
from archive.formats.document import (
    Category,
    Document,
    Highlight,
    LocationKind,
    ParseError,
    ParseResult,
)
from archive.formats.readwise_csv import split_authors
from tests.samples import sample, sample_names, samples_dir

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "readwise-markdown"
SEED = "readwise-markdown/000_69463c4c4be0e69e.txt"
LOC = LocationKind.LOCATION
NBSP = "\u00a0"


def real(name: str) -> ParseResult:
    return rm.parse(sample(f"readwise-markdown/{name}").decode("utf-8"))


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def fixture(name: str) -> ParseResult:
    return rm.parse(fixture_text(name))


def only(result: ParseResult) -> Document:
    assert len(result.documents) == 1, result
    return result.documents[0]


def texts(doc: Document) -> list[str]:
    return [h.text for h in doc.highlights]


# --- the real samples -----------------------------------------------------------------------

SAMPLE_TESTS = {
    "000_69463c4c4be0e69e.txt",
    "community-plugin-article.md",
    "community-podcast-bold-note.md",
    "community-then-default-podcast.md",
    "custom-frontmatter-blockquotes.md",
    "custom-frontmatter-id-headings.md",
    "custom-frontmatter-kindle-kafka.md",
    "custom-no-title-kindle-notes.md",
    "default-kindle-colour-tags.md",
    "default-kindle-kafka.md",
    "default-kindle-why-nations-fail.md",
    "default-multi-author-doc-tags.md",
    "default-reader-getting-started.md",
    "default-reader-multiline.md",
    "default-tweet-thread.md",
    "default-two-documents-appended.md",
    "not-a-document-sync-log.md",
}


def test_it_has_a_content_test_for_every_sample() -> None:
    names = {path.name for path in (samples_dir() / "readwise-markdown").iterdir()}
    assert names == SAMPLE_TESTS


@pytest.mark.parametrize("name", sample_names("readwise-markdown"))
def test_it_sniffs_every_readwise_markdown_sample(name: str) -> None:
    assert rm.sniff(sample(name).decode("utf-8"))


@pytest.mark.parametrize(
    "name",
    sample_names("kindle") + sample_names("readwise-csv") + sample_names("omnivore"),
)
def test_it_does_not_sniff_other_formats_samples(name: str) -> None:
    assert not rm.sniff(sample(name).decode("utf-8-sig"))


def test_it_reads_the_seed() -> None:
    doc = only(real("000_69463c4c4be0e69e.txt"))
    assert doc.title == "34840312"
    assert doc.display_title == ("Model Alignment Protects Against Accidental Harms, Not Intentional Ones")
    assert doc.author == "Arvind Narayanan"
    assert doc.authors == ["Arvind Narayanan"]
    assert doc.url == "https://www.aisnakeoil.com/p/model-alignment-protects-against"
    assert doc.saved_at == dt.datetime(2023, 12, 10, 11, 22)
    assert doc.origin == "reader"
    assert doc.extra == {}
    assert len(doc.highlights) == 3
    first = doc.highlights[0]
    assert first.text.startswith(
        "Model alignment, especially RLHF, is hard to get right, and there have been aligned "
        "chatbots that were [nonetheless](https://www.nytimes.com/2023/02/16/technology/"
    )
    assert first.text.endswith("a narrowly technical approach is probably [not enough]"
        "(https://braiduk.org/a-shrinking-path-to-safety-how-a-narrowly-technical-approach-"
        "to-align-ai-with-the-public-good-could-fail).")  # fmt: skip
    assert first.url == "https://read.readwise.io/read/01hgkpv7wd455652c0he4mvmgk"
    assert first.location_kind is LocationKind.NONE
    assert doc.highlights[1].text.startswith("This means that we must prepare for a world")
    assert "[LLMs to find security vulnerabilities](https://security.googleblog.com/" in (doc.highlights[1].text)
    assert doc.highlights[2].url == "https://read.readwise.io/read/01hgkq63b4vg9f3htv6868agct"
    assert doc.highlights[2].text.endswith("that lead to new alignment techniques.")


def test_it_renders_the_seed_byte_for_byte() -> None:
    raw = sample(SEED)
    doc = only(rm.parse(raw.decode("utf-8")))
    assert rm.render(doc).encode("utf-8") == raw


def test_it_reads_the_community_plugin_article() -> None:
    result = real("community-plugin-article.md")
    doc = only(result)
    assert doc.title == "301 Moved Permanently- What It Is and How to Fix It"
    assert doc.author == "Andrew Powell-Morse"
    assert doc.category is Category.ARTICLES
    assert doc.tags == ["troubleshoot", "http", "errors"]
    assert doc.url == "https://airbrake.io/blog/http-errors/301-moved-permanently"
    assert doc.external_id == "8350209"
    assert doc.cover_url == ("https://readwise-assets.s3.amazonaws.com/static/images/article3.5c705a01b476.png")
    assert doc.saved_at == dt.datetime(2022, 8, 15)
    assert doc.extra == {
        "Updated": "2022-08-15",
        "Readwise URL": "https://readwise.io/bookreview/8350209",
        "Last Highlighted": "2021-03-23",
    }
    assert [h.external_id for h in doc.highlights] == ["160005992", "160005993", "160005994"]
    assert texts(doc) == [
        "The 3xx category of response codes are used to indicate redirection messages to the "
        "client, such that the client will become aware that a redirection to a different "
        "resource or URL should take place.",
        "All HTTP response status codes that are in the 3xx category are considered redirection messages.",
        "Most browsers should automatically detect the 301 Moved Permanently response code and "
        "process the redirection action automatically.",
    ]
    assert result.warnings == []


def test_it_reads_a_community_note_written_in_bold() -> None:
    doc = only(real("community-podcast-bold-note.md"))
    assert doc.title == "#23- Nat Eliason on Starting a Life-Changing Blog"
    assert doc.author == "Mind Meld With Josh Gonsalves"
    assert doc.category is Category.PODCASTS
    assert doc.external_id == "7351858"
    [h] = doc.highlights
    assert h.external_id == "136672561"
    assert h.text.startswith("Speaker 1: it, the way I described my use of the two is Rome")
    assert h.text.endswith("because I think it's really good for managing info. I")
    assert h.note == "Roam vs Notion (maker brain vs manager brain)"


def test_it_merges_a_community_block_with_the_default_copy_appended_after_it() -> None:
    result = real("community-then-default-podcast.md")
    doc = only(result)
    assert doc.title == "The Tax Loophole That Won\u2019t Die"
    assert doc.author == "The Daily"
    assert doc.category is Category.PODCASTS
    assert doc.external_id == "17864226"
    assert doc.url == "https://www.airr.io/episode/62fa4441c0244b000e6b5245"
    [h] = doc.highlights
    assert h.text.startswith("Speaker 0: a journalist and a podcaster")
    assert h.text.endswith("wherever you get")
    assert h.external_id == "365847051"
    assert (h.location_kind, h.location) == (LocationKind.TIME, "0:00:02")
    assert h.url == "https://www.airr.io/quote/62fc4acf6b522d5c9a22be9f"
    assert result.skipped == 1


def test_it_reads_front_matter_with_blockquotes_footnotes_and_a_resynced_repeat() -> None:
    result = real("custom-frontmatter-blockquotes.md")
    doc = only(result)
    assert doc.title == ("The Ancient Japanese Technique That Produces Lumber Without Cutting Trees")
    assert doc.author == "DSF Antique Jewelry"
    assert doc.category is Category.ARTICLES
    assert doc.url.startswith("https://dsfantiquejewelry.com/blogs/interesting-facts/")
    assert doc.extra == {"projects": ["Test Project"]}
    assert doc.tags == ["to-process"]
    assert doc.note.startswith("an example of a highlight coming in later")
    image, shoots = doc.highlights
    assert image.text == ("![](https://cdn.shopify.com/s/files/1/0142/3405/8816/files/poza1_4.jpg?v=1652662357)")
    assert image.url == "https://read.readwise.io/read/01gkm5mj94j7xhptk1663cbm0s"
    assert shoots.text.startswith("The shoots are carefully and gently pruned by hand")
    assert shoots.text.endswith("can grow up to a hundred shoots at a time")
    assert shoots.note.split("\n\n") == [
        "an example of a raw highlight passed in from Readwise",
        "[[202212120002]]",
        "the same example converted into a Zettelkasten using Progressive Summarization "
        "leveraging the Templater (Note Refactor Zettelkasten Template) + Note Refactor combo",
    ]
    assert result.skipped == 1


def test_it_reads_id_headings_date_lines_and_dataview_keys() -> None:
    result = real("custom-frontmatter-id-headings.md")
    doc = only(result)
    assert doc.title == "Feed Detail Update"
    assert doc.display_title == ""
    assert doc.author == "linkedin.com"
    assert doc.origin == "reader"
    assert doc.category is Category.ARTICLES
    assert doc.url == "https://www.linkedin.com/feed/update/urn:li:activity:7115309646508167168/"
    assert doc.published_at == dt.date(2024, 3, 2)
    assert doc.saved_at == dt.datetime(2024, 3, 17)
    assert doc.cover_url == ("https://readwise-assets.s3.amazonaws.com/static/images/article0.00998d930354.png")
    assert doc.summary.startswith("The text emphasizes the importance of having a supportive")
    assert doc.tags == [
        "life",
        "pal",
        "medium/articles",
        "author/linkedin_com",
        "reader/reader",
        "date/2024-03-02",
        "area/reader",
    ]
    assert doc.extra == {
        "created": "2024-03-17",
        "assigned to": "people/pal",
        "priority": "P4",
        "work": "document",
        "last_highlighted_date": "2024-03-02",
    }
    [h] = doc.highlights
    assert h.external_id == "687119130"
    assert h.highlighted_at == dt.datetime(2024, 3, 2, 13, 19)
    lines = h.text.split("\n")
    assert len(lines) == 10
    assert lines[0] == "Every great leader has a team in their corner."
    assert lines[-1] == "What would you add?"
    assert h.note == "Interesting take on personal board of directors"
    assert h.url == "https://read.readwise.io/read/01hr09p9pztd7tfvdm77egm6hp"
    assert result.warnings == []


def test_it_reads_location_headings_in_a_custom_kindle_template() -> None:
    doc = only(real("custom-frontmatter-kindle-kafka.md"))
    assert doc.title == "Kafka"
    assert doc.authors == ["Neha Narkhede", "Gwen Shapira", "Todd Palino"]
    assert doc.category is Category.BOOKS
    assert doc.origin == "kindle"
    assert doc.summary == ""
    assert doc.published_at is None
    assert doc.extra["last_highlighted_date"] == "2018-09-01"
    assert "published_date" not in doc.extra
    assert len(doc.highlights) == 21
    assert all(h.location_kind is LOC for h in doc.highlights)
    assert all(h.highlighted_at == dt.datetime(2018, 8, 31, 23, 56) for h in doc.highlights)
    assert [h.location for h in doc.highlights[:3]] == ["46", "46", "49"]
    assert doc.highlights[1].text == (
        "Kafka is a true storage system built to store data for as long as you might like."
    )
    [noted] = [h for h in doc.highlights if h.note]
    assert noted.note == "How?"
    assert noted.location == "229"
    assert noted.url == "https://readwise.io/to_kindle?action=open&asin=B0758ZYVVN&location=229"


def test_it_reads_a_custom_template_without_a_title_line() -> None:
    doc = only(real("custom-no-title-kindle-notes.md"))
    assert doc.title == "The Psychology of Money"
    assert doc.author == "Morgan Housel"
    assert doc.category is Category.BOOKS
    assert doc.cover_url == "https://m.media-amazon.com/images/I/81eQqmEj65L._SY160.jpg"
    assert len(doc.highlights) == 190
    assert (doc.highlights[0].location, doc.highlights[-1].location) == ("93", "2466")
    assert doc.highlights[-1].note == "It refers to the authors investing strategy"
    assert sum(1 for h in doc.highlights if h.note) == 16
    [names] = [h for h in doc.highlights if h.note.startswith("Adolf Hitler")]
    assert names.note.split("\n") == [
        "Adolf Hitler",
        "Mao Zedong",
        "Joseph Stalin",
        "Thomas Edison",
        "Bill Gates",
        "Martin Luther King",
    ]
    assert [h.tags for h in doc.highlights if h.tags] == [["blue"]] * 3 + [["pink"], ["blue"]]
    assert [h.color for h in doc.highlights if h.color] == ["blue"] * 3 + ["pink", "blue"]


def test_it_reads_kindle_colours_that_arrive_as_tags() -> None:
    doc = only(real("default-kindle-colour-tags.md"))
    assert doc.title == "The Everything Fondue Cookbook"
    assert doc.author == "Rhonda Lauret Parkinson"
    assert len(doc.highlights) == 28
    assert all(h.tags == ["pink"] and h.color == "pink" for h in doc.highlights)
    assert doc.highlights[0].location == "114"
    [noted] = [h for h in doc.highlights if h.note]
    assert (noted.location, noted.note) == ("270", "???")
    assert noted.text == ("soft cheeses such as cottage or ricotta are normally used only in dessert fondues.")


def test_it_merges_a_document_appended_three_times() -> None:
    result = real("default-kindle-kafka.md")
    doc = only(result)
    assert doc.title == "Kafka"
    assert doc.author == "Neha Narkhede, Gwen Shapira, Todd Palino"
    assert len(doc.highlights) == 21
    assert result.skipped == 42
    assert len(set(texts(doc))) == 21
    [noted] = [h for h in doc.highlights if h.note]
    assert (noted.location, noted.note) == ("229", "How?")


def test_it_reads_a_kindle_book_with_a_new_highlights_section() -> None:
    doc = only(real("default-kindle-why-nations-fail.md"))
    assert doc.title == "Why Nations Fail"
    assert doc.authors == ["Daron Acemoglu", "James Robinson"]
    assert doc.category is Category.BOOKS
    assert doc.origin == "kindle"
    assert len(doc.highlights) == 23
    first = doc.highlights[0]
    assert (first.location_kind, first.location) == (LOC, "335")
    assert first.url == "https://readwise.io/to_kindle?action=open&asin=B0058Z4NR8&location=335"
    assert f"their inhabitants{NBSP}\u2026{NBSP}and then" in first.text
    assert not first.text.endswith(")")
    assert doc.highlights[-1].location == "524"
    assert doc.highlights[-1].text.startswith("Just as the attempt to impose draconian rule")


def test_it_reads_several_authors_document_tags_and_notes() -> None:
    doc = only(real("default-multi-author-doc-tags.md"))
    assert doc.title == "The Ultimate Beginner's Guide to Obsidian"
    assert doc.author == (
        "S\u00e9bastien Dubois & Obsidian Help & Obsidian Starter Kit & Obsidian Forum & Sebastien Dubois"
    )
    assert doc.authors == [
        "S\u00e9bastien Dubois",
        "Obsidian Help",
        "Obsidian Starter Kit",
        "Obsidian Forum",
        "Sebastien Dubois",
    ]
    assert doc.tags == ["obsidian", "type/outil"]
    assert doc.summary.startswith("Obsidian is a powerful note-taking app")
    assert doc.url == "https://www.dsebastien.net/the-ultimate-beginners-guide-to-obsidian/"
    assert len(doc.highlights) == 74
    first = doc.highlights[0]
    assert first.text == "best note-taking application"
    assert first.tags == ["type/obj", "pour_quoi"]
    assert first.note.startswith("Il s'agit de comprendre comment Obsidian")
    people = doc.highlights[5]
    assert people.tags == ["pourquoi"]
    assert people.text.count("\n") == 10
    assert people.text.startswith("\u2022 People who need to organize themselves\n")
    repeated = [h for h in doc.highlights if h.text == "built-in Tags view"]
    assert [h.url[-26:] for h in repeated] == [
        "01jvqg8b9jfh3dv6pkv2ygpgye",
        "01jvqg9488vbsgjcegxe78vzfe",
    ]
    assert (
        "**It uses an open data format**: Obsidian uses "
        "[Markdown](https://www.dsebastien.net/2022-04-22-markdown/)," in texts(doc)
    )
    [pkm] = [h for h in doc.highlights if h.note.startswith("PKM ou GCP")]
    assert pkm.note.count("\n") == 22  # the first line and 22 continuation lines
    assert pkm.note.endswith("celui de la comprh\u00e9hension li\u00e9e \u00e0 l'\u00e9tablissement de liens.")
    assert sum(1 for h in doc.highlights if h.note) == 8


def test_it_reads_a_reader_article_with_summary_ai_tags_and_long_notes() -> None:
    doc = only(real("default-reader-getting-started.md"))
    assert doc.title == "Getting Started With Reader"
    assert doc.author == "Readwise"
    assert doc.url == "https://www.youtube.com/watch?v=eJBtvfbcic0"
    assert doc.summary.startswith("Reader is an all-in-one app")
    assert doc.origin == "reader"
    assert len(doc.highlights) == 16
    assert doc.highlights[2].tags == ["\U0001f47b ai highlighted"]
    assert doc.highlights[5].note == "the table of contents and context panel,"
    [long] = [h for h in doc.highlights if "###" in h.note]
    assert long.text.startswith("documents of all kinds to Reader")
    assert long.note.startswith("**Background:** I want to utilize tools")
    assert "\n---\n### Top 3 Takeaways or To-Do's:\n\U0001f4da **Explore Document Types:**" in (long.note)
    assert long.note.endswith("\ntypes de doc contenus ds reader")
    assert doc.highlights[-1].text == "filtering,"
    assert doc.highlights[-1].note.startswith("Le filtrage vous permet")


def test_it_reads_a_multi_line_highlight_with_a_note() -> None:
    doc = only(real("default-reader-multiline.md"))
    assert doc.title == "Feed Detail Update"
    assert doc.tags == ["life", "pal"]
    [h] = doc.highlights
    assert h.text.split("\n")[1] == "The people behind the scenes."
    assert h.text.count("\n") == 9
    assert h.note == "Interesting take on personal board of directors"
    assert h.url == "https://read.readwise.io/read/01hr09p9pztd7tfvdm77egm6hp"


def test_it_reads_a_tweet_thread() -> None:
    doc = only(real("default-tweet-thread.md"))
    assert doc.title == "If You Pick Stocks, You..."
    assert doc.author == "@BrianFeroldi on Twitter"
    assert doc.category is Category.TWEETS
    assert len(doc.highlights) == 16
    second = doc.highlights[1]
    assert second.text.endswith("from your bank. \n![](https://pbs.twimg.com/media/FcX6TGnXoAIu3-v.jpg)")
    assert second.url == "https://twitter.com/BrianFeroldi/status/1568936833777803264"
    assert doc.highlights[-1].text == (
        "Prefer to keep learning for free?\nRead this thread about the Balance Sheet next:\nhttps://t.co/vjBpNjwAPn"
    )


def test_it_keeps_two_different_documents_appended_in_one_file_apart() -> None:
    result = real("default-two-documents-appended.md")
    first, second = result.documents
    assert first.title == second.title == "301 Moved Permanently: What It Is and How to Fix It"
    assert (first.author, second.author) == ("Andrew Powell-Morse", "airbrake.io")
    assert first.tags == second.tags == ["errors", "http", "troubleshoot"]
    assert len(first.highlights) == 3
    assert all(h.url == "" and h.location_kind is LocationKind.NONE for h in first.highlights)
    assert first.highlights[1].text == (
        "All HTTP response status codes that are in the 3xx category are considered redirection messages."
    )
    [h] = second.highlights
    assert h.text.startswith(
        "**301 Moved Permanently** is an [`HTTP response status code`]"
        "(https://developer.mozilla.org/en-US/docs/Web/HTTP/Status)"
    )
    assert h.note == "HTTP status code: resource permanently moved to new URL."
    assert h.url == "https://read.readwise.io/read/01gr08gm33v1tea70a2gqtxx1s"


def test_it_reports_no_highlights_for_the_sync_log() -> None:
    result = real("not-a-document-sync-log.md")
    assert result.documents == []
    assert result.warnings == ["no highlights found"]


@pytest.mark.parametrize("name", sample_names("readwise-markdown"))
def test_it_round_trips_every_sample_document_through_render(name: str) -> None:
    for doc in rm.parse(sample(name).decode("utf-8")).documents:
        assert rm.parse(rm.render(doc)).documents == [doc]


@pytest.mark.parametrize("name", sample_names("readwise-markdown"))
def test_it_round_trips_every_sample_document_through_render_readwise(name: str) -> None:
    for doc in rm.parse(sample(name).decode("utf-8")).documents:
        back = only(rm.parse(rm.render_readwise(doc)))
        assert back.highlights == doc.highlights
        assert (back.title, back.author, back.url, back.category, back.tags) == (
            doc.title,
            doc.author,
            doc.url,
            doc.category,
            doc.tags,
        )
        assert (back.summary, back.note, back.cover_url, back.display_title) == (
            doc.summary,
            doc.note,
            doc.cover_url,
            doc.display_title,
        )


# --- synthetic fixtures, one per layout (these run without the samples) -----------------------


def test_it_reads_the_default_template_for_a_kindle_book() -> None:
    result = fixture("default-kindle-book.md")
    doc = only(result)
    assert doc.title == "The Lighthouse Keeper's Almanac"
    assert doc.display_title == "The Lighthouse Keeper's Almanac: Tides, Lamps and Logbooks"
    assert doc.author == "Ada Brightwater, Tomas Reyes"
    assert doc.authors == ["Ada Brightwater", "Tomas Reyes"]
    assert doc.category is Category.BOOKS
    assert doc.origin == "kindle"
    assert doc.cover_url == "https://covers.example/almanac.jpg"
    lamp, log, fog, brass = doc.highlights
    assert (lamp.location_kind, lamp.location) == (LOC, "112")
    assert lamp.url == "https://readwise.io/to_kindle?action=open&asin=B000TEST01&location=112"
    assert log.text == ("A keeper's log is a letter to the next keeper.\nWrite it as if they will read it in a storm.")
    assert (log.tags, log.color, log.favorite) == (["pink"], "pink", True)
    assert log.note == ("Logs as letters.\n---\n### Why it matters\nThe next keeper is often you.")
    assert (fog.location_kind, fog.location) == (LocationKind.PAGE, "14")
    assert (fog.tags, fog.color) == (["blue", "weather"], "blue")
    assert brass.text == "Brass never forgives a wet cloth."
    assert brass.location == "204"
    assert result.warnings == [] and result.skipped == 0


def test_it_reads_the_default_template_for_a_reader_article() -> None:
    doc = only(fixture("default-reader-article.md"))
    assert doc.author == "Mira Holt & Reading Club & Mira Holt"
    assert doc.authors == ["Mira Holt", "Reading Club", "Mira Holt"]
    assert doc.tags == ["reading", "type/essay"]
    assert doc.summary == "An essay on reading slowly, with margins."
    assert doc.url == "https://essays.example/slow-reading"
    assert doc.origin == "reader"
    pencil, margin, habits, pencil_again, post, plain = doc.highlights
    assert pencil.tags == ["\U0001f47b ai highlighted"]
    assert margin.text == (
        "A margin is a conversation: [see the appendix](https://essays.example/appendix) and **argue back**."
    )
    assert (margin.tags, margin.note) == (["craft", "margins"], "Try this week.")
    assert habits.text == "Three habits:\n\u2022 underline less\n\u2022 copy out more\n\u2022 reread"
    assert pencil_again.text == pencil.text
    assert pencil_again.url != pencil.url
    assert post.text == (
        "A quoted post continues here.\nAnd here, with a trailing space. \n![](https://img.example/chart.png)"
    )
    assert post.url == "https://twitter.example/status/42"
    assert (plain.text, plain.url) == ("Slowness is a choice, not a speed.", "")


def test_it_merges_same_documents_appended_and_keeps_different_ones_apart() -> None:
    result = fixture("default-appended.md")
    charts, online = result.documents
    assert (charts.author, online.author) == ("Ines Varga", "harbour.example")
    assert texts(charts) == [
        "Soundings are taken at low water.",
        "Mark every rock twice.",
        "A chart is a promise about yesterday.",
    ]
    assert charts.highlights[1].note == "Twice, in different inks."
    assert result.skipped == 2
    assert online.category is Category.ARTICLES
    assert texts(online) == ["Charts are updated weekly online."]


def test_it_reads_the_community_plugin_layout_and_the_default_copy_after_it() -> None:
    result = fixture("community-then-default.md")
    doc = only(result)
    assert doc.title == "The Night Ferry"
    assert doc.author == "The Crossing Podcast"
    assert doc.external_id == "99000001"
    assert doc.category is Category.PODCASTS
    assert doc.tags == ["sea", "travel"]
    assert doc.url == "https://podcasts.example/night-ferry"
    assert doc.cover_url == "https://covers.example/ferry.jpg"
    assert doc.saved_at == dt.datetime(2023, 5, 6)
    assert doc.extra == {
        "Updated": "2023-05-06",
        "Readwise URL": "https://readwise.io/bookreview/99000001",
        "Last Highlighted": "2023-05-05",
    }
    midnight, blanket, gulls = doc.highlights
    assert midnight.external_id == "500000001"
    assert (midnight.location_kind, midnight.location) == (LocationKind.TIME, "0:00:07")
    assert midnight.url == "https://podcasts.example/quote/1"
    assert (blanket.external_id, blanket.note) == ("500000002", "Pack list: blanket")
    assert gulls.location == "0:12:40"
    assert result.skipped == 1


def test_it_reads_the_seed_layout() -> None:
    doc = only(fixture("frontmatter-seed-layout.md"))
    assert doc.title == "77001234"
    assert doc.display_title == "Tide Tables, and How to Read Them"
    assert doc.saved_at == dt.datetime(2024, 2, 29, 19, 5)
    assert doc.origin == "reader"
    assert texts(doc) == [
        "A tide table is a [forecast](https://essays.example/forecast) that is almost always right.",
        "Spring tides have nothing to do with spring \u2014 they *spring* up.",
    ]
    assert doc.highlights[1].url == "https://read.readwise.io/read/01testtide0000000000000002"


@pytest.mark.parametrize("name", ["frontmatter-seed-layout.md", "commonplace-layout.md"])
def test_it_renders_its_own_layout_byte_for_byte(name: str) -> None:
    text = fixture_text(name)
    assert rm.render(only(rm.parse(text))) == text


def test_it_reads_every_highlight_field_of_its_own_layout() -> None:
    doc = only(fixture("commonplace-layout.md"))
    assert doc.title == 'A Title: With "Quotes"'
    assert doc.display_title == "The Human Title"
    assert doc.authors == ["A. Writer", "B. Writer"]
    assert doc.saved_at == dt.datetime(2024, 3, 2, 13, 19, 5)
    assert doc.origin == "kindle"
    assert doc.tags == ["#hash", "a b"]
    assert doc.note == "A document note.\n\nSecond paragraph."
    assert (doc.external_id, doc.published_at) == ("B000TEST05", dt.date(1999, 12, 31))
    assert doc.extra == {"shelf": "top", "rating": 5}
    full, guarded, positioned = doc.highlights
    assert full.text == "First line\n\n> quoted line\n### not a heading\n---"
    assert (full.location_kind, full.location) == (LOC, "1004-1005")
    assert full.note == "First paragraph.\n\n- not a tag line\n---"
    assert full.tags == ["#hash", "a b", "type/x", "\U0001f47b ghost"]
    assert (full.color, full.favorite, full.page) == ("yellow", True, "xiv")
    assert full.highlighted_at == dt.datetime(2024, 3, 2, 13, 19)
    assert full.external_id == "687119130"
    assert guarded.text == "No link, but it ends like one ([Page 3](https://x.example))"
    assert (guarded.url, guarded.location_kind) == ("", LocationKind.NONE)
    assert (positioned.location_kind, positioned.location) == (LocationKind.NONE, "17")


def test_it_reads_blockquotes_rules_footnotes_and_a_resynced_repeat() -> None:
    result = fixture("frontmatter-blockquotes.md")
    doc = only(result)
    assert doc.title == "Grafting Apple Trees Without Fuss"
    assert doc.category is Category.ARTICLES
    assert doc.extra == {"projects": ["Garden Project"]}
    assert doc.tags == ["to-graft"]
    assert doc.note == "highlights that arrive later land here"
    image, scion = doc.highlights
    assert image.text == "![](https://orchard.example/img/graft.jpg)"
    assert scion.text.endswith("meet along their whole length")
    assert scion.note == (
        "the raw highlight as Readwise sent it\n\n[[202401010001]]\n\nmy own note, refactored into a zettel"
    )
    assert result.skipped == 1


def test_it_reads_id_headings_date_lines_n_notes_and_dataview_keys() -> None:
    doc = only(fixture("frontmatter-id-headings.md"))
    assert doc.title == "Field Notes on Moss"
    assert doc.url == "https://moss.example/field-notes"
    assert doc.cover_url == "https://covers.example/moss.png"
    assert doc.published_at == dt.date(2024, 4, 1)
    assert doc.saved_at == dt.datetime(2024, 4, 10)
    assert doc.summary == "Moss grows where nothing else bothers to."
    assert doc.tags == ["nature", "moss/field", "date/2024-04-01"]
    assert list(doc.extra) == ["created", "priority", "last_highlighted_date"]
    roots, rock = doc.highlights
    assert roots.text == "Moss has no roots.\nIt holds on anyway."
    assert (roots.external_id, roots.note) == ("700000001", "Holding on without roots")
    assert roots.highlighted_at == dt.datetime(2024, 4, 2, 9, 41)
    assert roots.url == "https://read.readwise.io/read/01testmoss0000000000000001"
    assert (rock.external_id, rock.url, rock.note) == ("700000002", "", "")


def test_it_reads_location_headings_and_ignores_empty_dataview_values() -> None:
    result = fixture("frontmatter-location-headings.md")
    doc = only(result)
    assert doc.authors == ["Sam Knot", "Ella Hitch"]
    assert (doc.url, doc.summary, doc.published_at, doc.extra) == ("", "", None, {})
    bowline, reef, whip = doc.highlights
    assert [(h.location_kind, h.location) for h in doc.highlights] == [
        (LOC, "51"),
        (LOC, "51"),
        (LocationKind.PAGE, "7"),
    ]
    assert reef.highlighted_at == dt.datetime(2019, 6, 1, 21, 16)
    assert whip.note == "Tape works too."
    assert whip.url == "https://readwise.io/to_kindle?action=open&asin=B000TEST03&page=7"
    assert bowline.url == ""
    assert result.warnings == []


def test_it_reads_a_template_without_title_line_and_several_new_sections() -> None:
    doc = only(fixture("no-title-kindle.md"))
    assert doc.title == "The Quiet Hive"
    assert doc.display_title == ""
    assert doc.cover_url == "https://covers.example/bees.jpg"
    assert [h.location for h in doc.highlights] == ["40", "88", "120"]
    assert doc.highlights[1].note == "Drones\nWorkers\nQueen"
    assert (doc.highlights[1].tags, doc.highlights[1].color) == (["orange"], "orange")


def test_it_reports_no_highlights_for_a_sync_log() -> None:
    text = fixture_text("sync-log.md")
    assert rm.sniff(text)
    result = rm.parse(text)
    assert (result.documents, result.warnings) == ([], ["no highlights found"])


def test_it_raises_a_parse_error_naming_the_line_of_broken_front_matter() -> None:
    with pytest.raises(ParseError) as caught:
        fixture("broken-frontmatter.md")
    message = str(caught.value)
    assert message.startswith("line 3: the YAML front matter is malformed")
    assert "line 4" in message
    assert not isinstance(caught.value, yaml.YAMLError)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("---\ntitle: a\ntitle: b\n---\n## Highlights\n> x", 3),
        ("---\ntitle: a\n  bad: indent\n---\n## Highlights\n> x", 3),
        ("---\ntitle: x\n\tfoo: 1\n---\n## Highlights\n> x", 3),
        ("---\ntitle: [\n", 1),
        ("---\n- a list\n---\n## Highlights\n> x", 2),
        ('---\ntitle: "unclosed\n---\n## Highlights\n> x', 2),
    ],
)
def test_it_raises_parse_errors_for_unreadable_front_matter(text: str, line: int) -> None:
    with pytest.raises(ParseError, match=rf"^line {line}: "):
        rm.parse(text)


def test_it_reads_crlf_and_a_bom_like_plain_newlines() -> None:
    text = fixture_text("default-kindle-book.md")
    assert rm.parse("\ufeff" + text.replace("\n", "\r\n")) == rm.parse(text)
    assert rm.sniff("\ufeff" + text.replace("\n", "\r\n"))


@pytest.mark.parametrize(
    "text",
    [
        "Book (Author)\n- Your Highlight on page 3 | Location 40-41 | Added on Monday\n\ntext\n==========\n",
        "Highlight,Book Title,Book Author,Amazon Book ID,Note,Color,Tags,Location Type,Location\na,b,c,,,,,,\n",
        "---\nid: 1\n---\n\n# Article\n#Omnivore\n\n[Read on Omnivore](https://omnivore.app/me/a)"
        "\n\n## Highlights\n\n> quote [\u2934\ufe0f](https://omnivore.app/me/a#1)  ^1234abcd\n",
        "## \U0001f516 Articles\n\t- [Page](https://omnivore.app/me/page-1)\n\t  site:: "
        "[site](https://site.example)\n\t  author:: Someone\n",
        "# Just a note\n\nSome text with no highlights section.\n",
    ],
)
def test_it_does_not_sniff_other_formats(text: str) -> None:
    assert not rm.sniff(text)


def test_it_sniffs_what_it_writes() -> None:
    doc = Document(title="t", highlights=[Highlight(text="x")])
    assert rm.sniff(rm.render(doc))
    assert rm.sniff(rm.render_readwise(doc))


def test_it_writes_no_trailing_newline_and_readwise_layout_with_one() -> None:
    doc = Document(title="t", highlights=[Highlight(text="x", url="https://u.example")])
    assert rm.render(doc) == ('---\ntitle: "t"\n---\n## Highlights\n> x ([View Highlight](https://u.example))')
    assert rm.render_readwise(doc) == (
        "# t\n\n## Metadata\n- Full Title: t\n\n## Highlights\n- x ([View Highlight](https://u.example))\n"
    )


def test_it_writes_locations_notes_and_tags_in_readwise_layout() -> None:
    doc = Document(
        title="Book",
        author="A & B",
        authors=["A", "B"],
        category=Category.BOOKS,
        highlights=[
            Highlight(
                text="one\ntwo",
                note="n1\n\nn2",
                tags=["t 1", "#x"],
                location="12",
                location_kind=LOC,
                url="https://k.example/12",
                favorite=True,
            )
        ],
    )
    assert rm.render_readwise(doc).split("## Highlights\n")[1] == (
        f"- one\n  two ([Location{NBSP}12](https://k.example/12))\n"
        "    - Tags: [[t 1]] [[##x]] [[favorite]] \n"
        "    - Note: n1\n\n      n2\n"
    )
    assert rm.parse(rm.render_readwise(doc)).documents == [doc]


def test_it_keeps_unknown_front_matter_keys_in_order_and_as_written() -> None:
    text = "---\nZeta Key: 1\ntitle: T\nalpha: [x, y]\nwhen: 2024-01-01\nflag: yes\nempty:\n---\n## Highlights\n> h"
    doc = only(rm.parse(text))
    assert list(doc.extra.items()) == [
        ("Zeta Key", 1),
        ("alpha", ["x", "y"]),
        ("when", "2024-01-01"),
        ("flag", "yes"),
        ("empty", None),
    ]
    assert rm.parse(rm.render(doc)).documents == [doc]


def test_it_keeps_an_unreadable_date_in_extra_with_a_warning() -> None:
    result = rm.parse("---\ntitle: T\ndate: someday\n---\n## Highlights\n> h")
    doc = only(result)
    assert (doc.saved_at, doc.extra) == (None, {"date": "someday"})
    assert "someday" in result.warnings[0]


def test_it_reads_a_hash_value_in_front_matter_as_text_not_a_comment() -> None:
    assert frontmatter.load("category: #articles\n# a real comment\ntags: [a]") == {
        "category": "#articles",
        "tags": ["a"],
    }


def test_it_reads_front_matter_with_the_yaml_1_2_core_schema() -> None:
    assert frontmatter.load("t: 11:22\nd: 2024-03-02\ny: no\no: 0o17\nf: 1e3\nn: ~") == {
        "t": "11:22",
        "d": "2024-03-02",
        "y": "no",
        "o": 15,
        "f": 1000.0,
        "n": None,
    }


def test_it_quotes_front_matter_values_only_when_they_need_it() -> None:
    dumped = frontmatter.dump([("a", "plain: no"), ("b", "true"), ("c", "x"), ("d", "\U0001f47b\nline"), ("e", [])])
    assert dumped == '---\na: "plain: no"\nb: "true"\nc: x\nd: |-\n  \U0001f47b\n  line\ne: []\n---'


# --- round-trip properties --------------------------------------------------------------------

CHARS = st.characters(blacklist_categories=("Cs", "Cc"))
PIECES = st.sampled_from(
    [
        "\n",
        "\n\n",
        "\t",
        "> ",
        ">",
        "# ",
        "## Highlights",
        "---",
        "\n---\n",
        "\n### id12\n",
        "- ",
        "\n- Note: x",
        "\n    - Tags: [[a]]",
        "\n  indented",
        "[link](https://example.com/a_(b))",
        "**bold**",
        "`code`",
        "[[wiki]]",
        "#tag",
        "[^1]",
        "\n[^1]: a footnote",
        " ^abc123",
        "%% id: 9 %%",
        " ([View Highlight](https://x.example/1))",
        " ([Location 12](https://y.example))",
        "([Page 3]())",
        '"quoted"',
        "'single'",
        "key: value",
        "key:: value",
        "\U0001f47b",
        "\u00e9",
        NBSP,
        "\u2028",
        "\u65e5\u672c\u8a9e",
        ": ",
        " #",
        "{",
        "[",
        "]",
        "(",
        ")",
        "*",
        "|",
        "&",
        "yes",
        "null",
        "0o17",
        "1e3",
        "2024-03-02",
        "[[2024-03-02]] 13:19",
        "**Note: n**",
        "\n%%\nID: 5\n%%\n",
        "\n# About\nTitle: x",
        "\n## Metadata\n",
        "![rw-book-cover](x)",
        "\n==========\n",
    ]
)
TEXT = st.lists(st.one_of(st.text(CHARS, max_size=10), PIECES), min_size=1, max_size=8).map("".join)
BODY = TEXT.map(str.strip).filter(bool)
MAYBE = st.one_of(st.just(""), TEXT.filter(lambda s: s.strip()))
URL = st.one_of(
    st.just(""),
    st.sampled_from(
        [
            "https://read.readwise.io/read/01abc",
            "https://en.wikipedia.org/wiki/Foo_(bar)",
            "https://readwise.io/to_kindle?action=open&asin=B0&location=335",
        ]
    ),
    TEXT,
)
KINDS = [
    LocationKind.LOCATION,
    LocationKind.PAGE,
    LocationKind.TIME,
    LocationKind.OFFSET,
    LocationKind.ORDER,
]
LOCATIONS = st.one_of(
    st.just((LocationKind.NONE, "")),
    st.tuples(st.just(LocationKind.NONE), BODY),
    st.tuples(
        st.sampled_from(KINDS),
        st.one_of(st.sampled_from(["335", "1004-1005", "xiv", "0:00:02", ""]), TEXT),
    ),
)
TAG = st.one_of(
    st.text(CHARS, min_size=1, max_size=8),
    st.sampled_from(["a b", "type/outil", "#hash", "##double", "\U0001f47b ai", "x]]y", "[[z", "a]", " pad "]),
)
TAGS = st.lists(TAG, max_size=4, unique_by=str.lower)


@st.composite
def highlights(draw: st.DrawFn) -> Highlight:
    kind, location = draw(LOCATIONS)
    return Highlight(
        text=draw(BODY),
        note=draw(TEXT.map(str.strip)),
        tags=draw(TAGS),
        location=location,
        location_kind=kind,
        url=draw(URL),
        external_id=draw(st.one_of(st.just(""), st.from_regex(r"[0-9]{1,10}", fullmatch=True))),
        color=draw(st.one_of(st.just(""), st.sampled_from(["yellow", "blue", "green"]), TEXT)),
        highlighted_at=draw(st.none() | st.datetimes()),
        favorite=draw(st.booleans()),
        page=draw(st.one_of(st.just(""), st.sampled_from(["12", "xiv"]), TEXT)),
    )


# What front matter keeps as a value: JSON's (infinities are read back as the text ".inf", by design).
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(CHARS, max_size=5), inner, max_size=3),
    max_leaves=6,
)
EXTRA_KEY = st.one_of(
    st.text(CHARS, max_size=10),
    st.sampled_from(["assigned to", "created", "Last Highlighted", "x::", ""]),
).filter(lambda key: rm._norm_key(key) not in rm._FIELDS)


@st.composite
def documents(draw: st.DrawFn) -> Document:
    author = draw(MAYBE)
    return Document(
        title=draw(TEXT),
        display_title=draw(MAYBE),
        author=author,
        authors=draw(st.one_of(st.just(split_authors(author)), st.lists(BODY, max_size=3))),
        url=draw(URL),
        category=draw(st.sampled_from(list(Category))),
        origin=draw(MAYBE.filter(lambda s: not re.match(r"https?://", s))),
        saved_at=draw(st.none() | st.datetimes()),
        published_at=draw(st.none() | st.dates()),
        cover_url=draw(MAYBE),
        tags=draw(st.lists(BODY, max_size=3, unique_by=str.lower)),
        note=draw(MAYBE),
        summary=draw(MAYBE),
        external_id=draw(MAYBE),
        extra=draw(st.dictionaries(EXTRA_KEY, JSONISH, max_size=3)),
        highlights=draw(st.lists(highlights(), min_size=1, max_size=4, unique_by=lambda h: h.text)),
    )


PROPERTY = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@PROPERTY
@given(documents())
def test_it_reads_back_any_document_it_renders(doc: Document) -> None:
    text = rm.render(doc)
    assert rm.sniff(text)
    result = rm.parse(text)
    assert result.documents == [doc]
    assert (result.skipped, result.warnings) == (0, [])
    assert rm.render(result.documents[0]) == text


SAFE = (
    st.text(st.sampled_from(list("abcxyzABC012 ,.:'\u2019!?&/-#()\u00e9\U0001f47b")), min_size=1, max_size=15)
    .map(str.strip)
    .filter(lambda s: s and not s.startswith("#") and "  " not in s)
)
SUB_BULLET = re.compile(
    r"^  [-*] (Tags|Notes?|Colou?r|Favou?rite|Highlighted|ID|URL|Printed page|Position|"
    r"Location|Page|Time|Offset|Order):",
    re.I,
)
READWISE_BODY = BODY.filter(lambda t: not any(SUB_BULLET.match(line) for line in t.split("\n")))
# In Readwise's layout `favorite` is the flag and a Kindle colour tag is also the colour.
READWISE_TAGS = TAGS.map(lambda tags: [t for t in tags if t.lower() not in {*rm.KINDLE_COLOURS, rm.FAVORITE_TAG}])


@st.composite
def readwise_documents(draw: st.DrawFn) -> Document:
    title = draw(SAFE)
    author = draw(st.one_of(st.just(""), SAFE))
    items = draw(st.lists(highlights(), min_size=1, max_size=4))
    for h in items:
        h.text = draw(READWISE_BODY)
        h.tags = draw(READWISE_TAGS)
    return Document(
        title=title,
        display_title=draw(st.one_of(st.just(""), SAFE.filter(lambda s: s != title))),
        author=author,
        authors=split_authors(author),
        url=draw(st.sampled_from(["", "https://example.com/a", "https://w.example/Foo_(bar)"])),
        category=draw(st.sampled_from(list(Category))),
        tags=draw(st.lists(BODY, max_size=3, unique_by=str.lower)),
        summary=draw(MAYBE.filter(lambda s: s.strip() == s and s != "None")),
        note=draw(MAYBE.filter(lambda s: s.strip() == s)),
        cover_url=draw(st.sampled_from(["", "https://img.example/c.jpg"])),
        highlights=list({h.text: h for h in items}.values()),
    )


@PROPERTY
@given(readwise_documents())
def test_it_reads_back_what_it_renders_in_readwise_layout(doc: Document) -> None:
    text = rm.render_readwise(doc)
    assert rm.sniff(text)
    back = only(rm.parse(text))
    assert back.highlights == doc.highlights
    back.origin = doc.origin  # inferred from highlight links in Readwise's own layouts
    assert back == doc


FUZZ_LINES = st.sampled_from(
    [
        "---",
        "# T",
        "## Highlights",
        "## Metadata",
        "- Author: [[a]]",
        "> q",
        ">",
        "- x",
        "    - Note: n",
        "    - Tags: [[a]]",
        "      more",
        "  cont",
        "%%",
        "ID: 1",
        "# About",
        "Title: [[x]]",
        "x ^12",
        "### id5",
        "### Location 4",
        "[[2024-01-01]] 10:00",
        "- [n] n  * [View Highlight](u)",
        "[^1]: f",
        "x[^1]",
        "key:: v",
        "title: a",
        "aliases: [",
        "![rw-book-cover](c)",
        "## New highlights added x #t [^1]",
        "",
        "**Note: n**",
        '- Color: "',
        "- Highlighted: nope",
        '- Tags: ["a',
        "date: 2024-13-45",
    ]
)


@PROPERTY
@given(st.lists(st.one_of(FUZZ_LINES, st.text(max_size=20)), max_size=25).map("\n".join))
def test_it_reads_any_text_or_says_why_not(text: str) -> None:
    rm.sniff(text)
    try:
        result = rm.parse(text)
    except ParseError as error:
        assert re.match(r"^line \d+: ", str(error))
        return
    for doc in result.documents:
        assert doc.highlights
        assert all(h.text and h.text == h.text.strip() for h in doc.highlights)


def test_it_keeps_text_above_the_first_document_as_its_note() -> None:
    doc = only(rm.parse("Read again in May.\n\n# Title\n\n## Highlights\n- h\n"))
    assert (doc.title, doc.note, texts(doc)) == ("Title", "Read again in May.", ["h"])


def test_it_keeps_a_section_of_its_own_as_the_document_note() -> None:
    doc = only(rm.parse("# Title\n\n## Highlights\n- h\n\n## My thoughts\nGood.\n"))
    assert (doc.note, texts(doc)) == ("## My thoughts\nGood.", ["h"])


URL_OR_LOCATION = st.one_of(
    st.text(st.sampled_from(list("aZ09:/.,-_?=&#%~+()[]^ \u00a0\n\\")), max_size=16),
    st.text(max_size=8),
    st.sampled_from(["https://read.readwise.io/read/01abc", "335", "0:00:02", "12-13", "kindle://book?a=1"]),
)


@settings(max_examples=2000, deadline=None)
@given(URL_OR_LOCATION, URL_OR_LOCATION, st.sampled_from(list(LocationKind)), st.sampled_from([" ", "\u00a0"]))
def test_a_simple_locator_reads_back_without_reading_it(
    url: str, location: str, kind: LocationKind, space: str
) -> None:
    h = Highlight(text="x", url=url, location=location, location_kind=kind)
    located = kind is not LocationKind.NONE
    if rm._simple_locator(h, located):
        locator, keys = rm._locator(h, space)
        assert rm._locator_reads_back(h, locator, located), (url, location, kind)
        assert keys == ([("Position", rm._encode(location))] if location and not located else [])


@given(st.datetimes())
def test_a_datetime_is_its_date_and_its_24_hour_clock(when: dt.datetime) -> None:
    assert rm._format_datetime(when) == f"{rm._format_date(when.date())} {rm._format_clock(when.time(), False)}"


# What the tail searches did before they looked for their marks first, kept to check against.
SLOW_TAIL = {
    "footnote": re.compile(r"\s*\[\^(?P<id>[^\]\s]+)\]$"),
    "block": re.compile(r"\s+\^(?P<id>[A-Za-z0-9][A-Za-z0-9-]*)$"),
    "inline": re.compile(r"\s*%%\s*(?:highlight[_ ]?)?id:\s*(?P<id>[^%\s]+)\s*%%$", re.I),
    "locator": re.compile(rf"\s*\(\[(?P<label>{rm._LABEL})\]\((?P<url>{rm._URL})\)\)$"),
}
TAIL_PIECES = st.sampled_from(
    ["a", "Z", "9", " ", "\t", "\u00a0", "\u2028", "(", ")", "[", "]", "^", "%%", "id:", "[^1]", "([", "](",
     "))", "Location 12", "View Highlight", "https://x.io/a", "^b-1", " %% id: 7 %%", "-"]
)  # fmt: skip


def slow_split_tail(line: str, footnotes: set[str]) -> tuple[str, str, list[str], str, str]:
    refs: list[str] = []
    while (m := SLOW_TAIL["footnote"].search(line)) and m["id"] in footnotes:
        refs.insert(0, m["id"])
        line = line[: m.start()]
    block_id = ""
    if m := (SLOW_TAIL["block"].search(line) or SLOW_TAIL["inline"].search(line)):
        block_id, line = m["id"], line[: m.start()]
    url = label = ""
    if m := SLOW_TAIL["locator"].search(line):
        line, url, label = line[: m.start()], m["url"], m["label"]
    return line, block_id, refs, url, label


LOCATORS = st.sampled_from(
    ["", " ([Location 12](https://x.io/a))", "\t([View Highlight](u(1)))", "([Page 3]())", "  ([Time 0:01](a([b])c))"]
)


@settings(max_examples=3000, deadline=None)
@given(st.tuples(*[st.lists(TAIL_PIECES, max_size=6).map("".join), LOCATORS] * 2).map("".join))
def test_the_tail_of_a_line_splits_as_the_full_searches_split_it(line: str) -> None:
    tail = rm._split_tail(line, {"1", "b"})
    text, block_id, refs, url, _label = slow_split_tail(line, {"1", "b"})
    assert (tail.text, tail.block_id, tail.refs, tail.url) == (text, block_id, refs, url)
