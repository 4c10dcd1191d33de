"""The Kindle `My Clippings.txt` parser.

Three kinds of test: every real sample in the shared samples folder (what a real device wrote),
small synthetic fixtures in tests/fixtures/kindle/ (one per layout and device language; the
page-and-location lines of German, English, Chinese, Portuguese, Japanese, Spanish, French,
Italian, Dutch and Russian follow the strings real firmware writes, as in the eleven-languages
sample), and Hypothesis properties over generated files.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.formats import kindle
from archive.formats.document import (
    Category,
    Document,
    Highlight,
    LocationKind,
    ParseError,
    ParseResult,
)
from tests.samples import sample, sample_names, samples_dir

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kindle"

REAL_KINDLE_SAMPLES = {
    "kindle/de-My Clippings.txt",
    "kindle/eleven-languages.txt",
    "kindle/en-underline-midfile-bom-My Clippings.txt",
    "kindle/kindle2-2009-My Clippings.txt",
    "kindle/multiline-notes.txt",
    "kindle/page-only-lowercase.txt",
    "kindle/pt-br.txt",
    "kindle/scenario-dup-location-scenario.txt",
    "kindle/scenario-dup-same-page.txt",
    "kindle/scenario-first-scenario.txt",
    "kindle/scenario-missing-note-scenario.txt",
    "kindle/scenario-no-content-scenario.txt",
    "kindle/scenario-simple.txt",
    "kindle/scenario-trailing-separator-start.txt",
    "kindle/scenario-unordered-scenario.txt",
    "kindle/zh-My Clippings.txt",
}


def real(name: str) -> ParseResult:
    return kindle.parse(sample(f"kindle/{name}").decode("utf-8"))


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def fixture(name: str) -> ParseResult:
    return kindle.parse(fixture_text(name))


def book(result: ParseResult, title: str) -> Document:
    found = [d for d in result.documents if d.title == title]
    assert len(found) == 1, [d.title for d in result.documents]
    return found[0]


def only_book(result: ParseResult) -> Document:
    assert len(result.documents) == 1
    return result.documents[0]


def starting(document: Document, text: str) -> Highlight:
    found = [h for h in document.highlights if h.text.startswith(text)]
    assert len(found) == 1, [h.text[:40] for h in document.highlights]
    return found[0]


def noted(document: Document) -> dict[str, str]:
    """Each note in the book, keyed by the start of the text it is attached to."""
    return {h.text[:30]: h.note for h in document.highlights if h.note}


def count(result: ParseResult) -> int:
    return sum(len(d.highlights) for d in result.documents)


def words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


# --- every real sample ------------------------------------------------------------------------


def test_it_has_a_test_for_every_real_kindle_sample() -> None:
    samples_dir()
    assert set(sample_names("kindle")) == REAL_KINDLE_SAMPLES


@pytest.mark.parametrize("name", sample_names("kindle"))
def test_it_reads_every_real_sample_without_losing_a_word(name: str) -> None:
    text = sample(name).decode("utf-8")
    assert kindle.sniff(text)
    result = kindle.parse(text)
    assert result.format == "kindle"
    assert result.warnings == []
    assert {d.category for d in result.documents} == {Category.BOOKS}
    assert {d.origin for d in result.documents} == {"kindle"}
    everything = " | ".join(words(f"{h.text} | {h.note}") for d in result.documents for h in d.highlights)
    # Every body in the file (bookmarks have none) is somewhere in the result, except one note
    # that the same note, edited on the device, replaces.
    bodies = [
        block.split("\n", 2)[2]
        for block in (b.lstrip("\r\n\ufeff") for b in re.split(r"\r?\n?==========\r?\n", text))
        if block.count("\n") >= 2
    ]
    for body in bodies:
        if words(body) and words(body) != "hollow 2":
            assert words(body) in everything, body[:80]
    for document in result.documents:
        assert document.title == document.title.strip()
        assert "\ufeff" not in document.title
        for highlight in document.highlights:
            assert highlight.text or highlight.note
            assert "\ufeff" not in highlight.text + highlight.note
            assert "\r" not in highlight.text + highlight.note


def test_it_reads_the_2009_kindle2_file() -> None:
    result = real("kindle2-2009-My Clippings.txt")
    assert [d.title for d in result.documents] == [
        "The Help",
        "Freakonomics Rev Ed",
        "Coders at Work",
        "Twilight (The Twilight Saga, Book 1)",
        "Last Words",
        "The Unlikely Disciple: A Sinner's Semester at America's Holiest University",
        "Confessions of a Public Speaker",
        "Thirteen Reasons Why",
        "The Tipping Point: How Little Things Can Make a Big Difference",
    ]  # the book "Test" holds only bookmarks
    assert count(result) == 102
    assert result.skipped == 3  # three bookmarks
    help_ = book(result, "The Help")
    assert help_.author == "Kathryn Stockett"
    assert help_.authors == ["Kathryn Stockett"]
    first = help_.highlights[0]
    assert first.text == "“Like living in Antarctica all my life and one day moving to Hawaii.”"
    assert (first.location, first.location_kind) == ("5444-5445", LocationKind.LOCATION)
    assert first.highlighted_at == dt.datetime(2009, 10, 31, 9, 25)
    # "Loc. 6672" and "Loc. 6672-73" are different highlights that share a start.
    assert [h.location for h in help_.highlights][1:3] == ["6672", "6672-6673"]
    disciple = book(
        result,
        "The Unlikely Disciple: A Sinner's Semester at America's Holiest University",
    )
    fellowship = starting(disciple, "I didn’t know what that verb meant")
    assert fellowship.location == "1004-1005"
    assert fellowship.highlighted_at == dt.datetime(2009, 12, 7, 15, 25)
    freakonomics = book(result, "Freakonomics Rev Ed")
    assert freakonomics.author == "Steven D., Levitt"
    assert freakonomics.authors == ["Steven D. Levitt"]
    assert starting(freakonomics, "Listerine").location == "1334-1340"
    assert book(result, "Confessions of a Public Speaker").author == "Berkun  Scott"
    tipping = book(result, "The Tipping Point: How Little Things Can Make a Big Difference")
    standalone = tipping.highlights[-1]
    assert standalone.text == ""
    assert standalone.note == "hello world\nthis is the shit\nhello world\nthis is the shit"
    assert standalone.location == "1933"
    assert standalone.highlighted_at == dt.datetime(2009, 12, 23, 21, 37)


def test_it_reads_the_german_file_with_its_repeats_and_re_highlights() -> None:
    result = real("de-My Clippings.txt")
    assert len(result.documents) == 19
    assert count(result) == 586  # 671 highlight entries
    assert result.skipped == 87  # 2 bookmarks, 85 repeats and earlier versions
    traction = book(result, "Traction: A Startup Guide to Getting Customers")
    assert traction.author == "Weinberg, Gabriel;Mares, Justin"
    assert traction.authors == ["Gabriel Weinberg", "Justin Mares"]
    assert noted(traction) == {"Poor distribution—not product—": "Peter Thiel"}
    assert starting(traction, "Poor distribution").location == "148-151"
    stoic = book(result, "Letters from a Stoic")
    assert (stoic.author, stoic.authors) == ("Seneca,", ["Seneca"])
    assert book(result, "98.6 degrees: the art of keeping your ass alive").authors == [
        "Cody Lundin",
        "Russ Miller",
    ]
    assert book(
        result,
        "Rich Dad Poor Dad: Was die Reichen ihren Kindern über Geld beibringen (German Edition)",
    ).authors == ["Robert T. Kiyosaki"]
    principles = book(result, "Principles: Life and Work")
    conflicts = [h for h in principles.highlights if "Recognize that conflicts are essential" in h.text]
    assert len(conflicts) == 1  # the later version starts earlier, with "26)", and wins
    assert conflicts[0].text.startswith("26)\xa0")
    assert conflicts[0].location == "1040-1044"
    assert conflicts[0].highlighted_at == dt.datetime(2017, 11, 3, 3, 51, 11)
    fail = book(
        result,
        "How to Fail at Almost Everything and Still Win Big: Kind of the Story of My Life",
    )
    willpower = [h for h in fail.highlights if "any system that depends on your willpower" in h.text]
    assert len(willpower) == 1  # two neighbours, then one highlight over both
    assert willpower[0].text.endswith("focus your limited stockpile of willpower on fitness.")
    # Trimmed at the start and extended at the end: the ranges overlap without one holding the
    # other, so both versions stay (no word is lost; some are in both).
    future = [h for h in fail.highlights if "future will be better than today" in h.text]
    assert [(h.location, h.text[:20]) for h in future] == [
        ("2778-2779", "now. I find it usefu"),
        ("2779-2781", "I find it useful to "),
    ]
    genesis = book(result, "Genesis. Brennende Welten (German Edition)")
    (elias,) = genesis.highlights
    assert (elias.location, elias.page) == ("3436-3436", "246")
    assert elias.highlighted_at == dt.datetime(2015, 4, 3, 12, 33, 35)


def test_it_reads_the_chinese_file_with_nested_and_full_width_brackets() -> None:
    result = real("zh-My Clippings.txt")
    assert len(result.documents) == 37
    assert count(result) == 549
    # 254 bookmarks, 13 repeats and earlier versions, one edited note.
    assert result.skipped == 268
    javascript = book(result, "你不知道的JavaScript（上卷） (图灵程序设计丛书)")
    assert javascript.author == "[美]辛普森（Kyle Simpson）"
    assert javascript.authors == ["[美]辛普森（Kyle Simpson）"]
    assert book(result, "MongoDB权威指南(第2版) (图灵程序设计丛书)").author == "霍多罗夫 (Kristina Chodorow)"
    assert book(result, "JavaScript高级程序设计(第3版) (图灵程序设计丛书)").author == "泽卡斯（Zakas. Nicholas C.）"
    mars = book(result, "火星救援（同名电影登顶10月北美票房 11月25日大陆震撼上映） (译林幻系列)")
    assert mars.author == "［美国］安迪·威尔"
    assert book(result, "把你的英语用起来").authors == ["伍君仪", "刘晓光"]
    no_author = book(result, "你不知道的JavaScript（上）（中文版）194页")
    assert no_author.author == ""
    assert no_author.authors == []
    assert book(result, "Pro Git").author == ""
    # The note edited on the device replaces the first version.
    assert javascript.highlights[0].location == "2565-2579"
    assert javascript.highlights[0].highlighted_at == dt.datetime(2016, 4, 30, 15, 42, 52)
    classes = starting(javascript, "如果使用类，那设计方法可能是这样的")
    assert classes.note == "这儿,介绍了传统语言,面向类的设计,确定了过程"
    assert starting(javascript, "下面的例子使用对象关联风格委托").note.startswith("学到了,这本书最有价值在于")
    assert len(noted(javascript)) == 7
    # Page-only notes go to the highlight written at the same time, on the same page.
    assert len(noted(no_author)) == 3
    assert starting(no_author, "var fn; function foo()").note.startswith("函数的作用域由它一开始书写的地方就决定了")
    assert starting(no_author, "首先，CoolModule()").note == "就这个道理,确认"
    assert starting(no_author, "模块中返回一个实际的对象并不是必须的").note == "函数本身就是对象"
    module = starting(no_author, "首先，CoolModule()")
    # The longer of two versions.
    assert module.text.endswith("内部作用域和闭包都无法被创建。")
    assert (module.location, module.location_kind, module.page) == (
        "52-52",
        LocationKind.PAGE,
        "52-52",
    )
    assert module.highlighted_at == dt.datetime(2016, 4, 28, 18, 43, 18)


def test_it_reads_underlines_mid_file_boms_and_re_highlights() -> None:
    result = real("en-underline-midfile-bom-My Clippings.txt")
    assert [d.title for d in result.documents] == [
        "How to Win Friends and Influence People: Updated For the Next Generation of Leaders (Dale Carnegie Books)",
        "How to Stop Worrying and Start Living",
        "Design Patterns Elements of Reusable Object-Oriented Software (Erich Gamma, Richard Helm, Ralph Johnson etc.) (z-lib.org)",
        "El inversor inteligente (Deusto) (Spanish Edition)",
        "design-patterns-en",
        "postgresql-17-A4",
    ]
    assert count(result) == 268  # 456 highlight entries
    assert result.skipped == 223  # 35 bookmarks (one on page iii), 188 earlier versions
    worrying = book(result, "How to Stop Worrying and Start Living")
    assert worrying.authors == ["Dale Carnegie"]
    underline = starting(worrying, "When their minds were filled")
    # The underline, later extended.
    assert underline.text.endswith("almost fifty per cent.")
    assert (underline.location, underline.page) == ("1639-1640", "128")
    assert underline.highlighted_at == dt.datetime(2025, 2, 8, 11, 9, 20)
    jung = [h for h in worrying.highlights if "Dr. Carl" in h.text]
    assert len(jung) == 1
    assert jung[0].location == "2787-2792"
    # Same start, unrelated texts: two highlights.
    assert [h.text[:12] for h in worrying.highlights if h.location.startswith("3717-")] == [
        "“A man can s",
        "But how can ",
    ]
    patterns = book(
        result,
        "Design Patterns Elements of Reusable Object-Oriented Software (Erich Gamma, Richard Helm, Ralph Johnson etc.) (z-lib.org)",
    )
    assert patterns.author == "Erich Gamma, Richard Helm, Ralph Johnson, John Vlissides"
    assert patterns.authors == [
        "Erich Gamma",
        "Richard Helm",
        "Ralph Johnson",
        "John Vlissides",
    ]
    assert {"Since reuse", "Since reuse is often", "Since reuse is often a"}.isdisjoint(
        h.text for h in patterns.highlights
    )
    reuse = starting(patterns, "address language and implementation issues as well.")
    assert reuse.location == "238-240"
    assert reuse.text.endswith("helps you understand and evaluate them.")
    graham = book(result, "El inversor inteligente (Deusto) (Spanish Edition)")
    assert len([h for h in graham.highlights if "de diez años, el excedente" in h.text]) == 1
    assert starting(graham, "A lo largo de un período de diez años").location == "10190-10199"


def test_it_reads_the_same_entries_in_eleven_languages() -> None:
    result = real("eleven-languages.txt")
    document = only_book(result)
    assert document.title == "Hexagonal Architecture Explained"
    assert (document.author, document.authors) == (
        "Cockburn, Alistair",
        ["Alistair Cockburn"],
    )
    assert result.skipped == 11  # one bookmark per language
    languages = [
        "Deutsch",
        "Español",
        "Français",
        "Italiano",
        "Japanese",
        "Nederlands",
        "Português (Brasil)",
        "Russian",
        "Chinese",
        "English (US)",
        "English (UK)",
    ]
    assert [h.text for h in document.highlights] == [f"My highlight in {language}" for language in languages]
    assert [h.note for h in document.highlights] == [f"My note in {language}" for language in languages]
    for highlight in document.highlights:
        assert (highlight.location, highlight.location_kind, highlight.page) == (
            "1300-1301",
            LocationKind.LOCATION,
            "112",
        )
        assert highlight.highlighted_at == dt.datetime(2024, 8, 22, 18, 10, 53)


def test_it_reads_the_brazilian_firmware_typo() -> None:
    result = real("pt-br.txt")
    assert len(result.documents) == 7
    assert count(result) == 28  # 26 highlights and 2 notes no highlight holds
    assert result.skipped == 3  # bookmarks
    pragmatic = book(result, "The Pragmatic Programmer: From Journeyman to Master")
    assert pragmatic.authors == ["Andrew Hunt", "David Thomas"]
    duplication = starting(pragmatic, "Many languages impose considerable duplication")
    assert duplication.location == "755-756"
    assert duplication.note == "Diz que nao ha muito o que fazer. Cita as IDEs no caso de C."
    assert duplication.highlighted_at == dt.datetime(2019, 11, 2, 21, 41, 44)
    lonely = [h for h in pragmatic.highlights if not h.text]
    assert [(h.location, h.note) for h in lonely] == [("754", "Única solução que ele menciona.")]
    writing = book(
        result,
        "On Writing Well, 30th Anniversary Edition: An Informal Guide to Writing Nonfiction",
    )
    assert writing.highlights[0].text == ""
    assert writing.highlights[0].note == "This is a note."
    assert writing.highlights[0].highlighted_at == dt.datetime(2019, 11, 2, 20, 43, 52)
    crime = book(result, "Crime and Punishment (AmazonClassics Edition)")
    assert (crime.highlights[0].location, crime.highlights[0].page) == (
        "6607-6609",
        "467",
    )
    assert crime.highlights[0].highlighted_at == dt.datetime(2019, 11, 3, 18, 43, 35)
    assert book(result, "Book without author").author == ""
    articles = [d.title for d in result.documents if d.author == "P2K"]
    assert articles == [
        "Your P2K Articles (2019-11-01)",
        "Your P2K Articles (2019-11-02)",
        "Your P2K Articles (2019-11-10)",
    ]


def test_it_keeps_line_breaks_in_a_multi_line_note() -> None:
    result = real("multiline-notes.txt")
    document = only_book(result)
    assert document.title == "Harry Potter e il Prigioniero di Azkaban"
    assert document.authors == ["J.K. Rowling"]
    (highlight,) = document.highlights
    assert highlight.text == "all’espressione"
    assert highlight.note == "This\nis\na\ntest\nnote"  # written before its highlight
    assert highlight.location == "5170-5170"
    assert highlight.highlighted_at == dt.datetime(2020, 5, 13, 20, 55, 46)


def test_it_reads_page_only_and_lowercase_locations() -> None:
    result = real("page-only-lowercase.txt")
    assert [(d.title, d.author) for d in result.documents] == [
        ("Kindle Paperwhite User’s Guide, 7th Edition", "Amazon"),
        ("Rutherford 1996 - Of Birds and Gifts", ""),
        ("Brubaker 2004 - Ethnicity without groups", ""),
        ("Dangerous Visions (S.F. MASTERWORKS)", "Ellison, Harlan"),
        (
            "The Early Works of F. Scott Fitzgerald (With Active Table of Contents)",
            "Fitzgerald, F. Scott",
        ),
    ]
    rutherford = book(result, "Rutherford 1996 - Of Birds and Gifts").highlights[0]
    assert (rutherford.location, rutherford.location_kind, rutherford.page) == (
        "13-13",
        LocationKind.PAGE,
        "13-13",
    )
    assert rutherford.highlighted_at == dt.datetime(2020, 5, 11, 15, 8, 37)
    visions = book(result, "Dangerous Visions (S.F. MASTERWORKS)")
    assert (visions.highlights[0].location, visions.highlights[0].page) == (
        "1097-1099",
        "27",
    )
    assert book(result, "The Early Works of F. Scott Fitzgerald (With Active Table of Contents)").authors == [
        "F. Scott Fitzgerald"
    ]


def test_it_keeps_the_same_location_in_different_books_apart() -> None:
    result = real("scenario-dup-location-scenario.txt")
    assert [(d.title, d.author, [h.location for h in d.highlights]) for d in result.documents] == [
        ("Amazon has ruined search and Google is in on it", "HN to Kindle", ["3-9"]),
        ("Duolingo reaches $6.5B valuation on day of IPO", "HN to Kindle", ["3-10"]),
        (
            "Papers every developer should read at least twice (2017)",
            "b8cd5f21-3503-4d65-bfbf-cea4ad864210@hntokindle.com",
            ["3-13"],
        ),
    ]
    assert result.documents[0].highlights[0].highlighted_at == dt.datetime(2021, 7, 29, 22, 37, 23)


def test_it_keeps_different_highlights_on_one_page() -> None:
    result = real("scenario-dup-same-page.txt")
    document = only_book(result)
    assert document.author == "Addy Osmani"
    assert [(h.text, h.location, h.location_kind) for h in document.highlights] == [
        ("Highlight 1", "7", LocationKind.PAGE),
        ("Highlight 2", "10", LocationKind.PAGE),
        ("Highlight 3", "10", LocationKind.PAGE),
    ]
    assert result.skipped == 1  # the exact repeat of "Highlight 3"
    # "Monday, 3 December 12 19:42:30 Greenwich Mean Time": a two-digit year and a zone name.
    assert document.highlights[0].highlighted_at == dt.datetime(2012, 12, 3, 19, 42, 30)
    assert document.highlights[2].highlighted_at == dt.datetime(2012, 12, 3, 19, 50, 51)


def test_it_reads_the_first_scenario() -> None:
    result = real("scenario-first-scenario.txt")
    elantris = book(result, "Elantris: Tenth Anniversary Author's Definitive Edition")
    assert elantris.authors == ["Brandon Sanderson"]
    assert [h.location for h in elantris.highlights] == [
        "398-399",
        "481-484",
        "483-484",
    ]
    assert elantris.highlights[0].text == "—anything to keep from acknowledging what she was: a lanky, brusque"
    assert elantris.highlights[0].highlighted_at == dt.datetime(2017, 8, 24, 22, 31, 50)
    orwell = book(result, "1984")
    assert [(h.text, h.note, h.location) for h in orwell.highlights] == [
        (
            "“Don’t you see that the whole aim of Newspeak is to narrow the range of thought?",
            "The ABC model - key for growth and happiness",
            "737-739",
        ),
        ("", "Airplane Accidents - also how software projects go wrong", "1971"),
    ]
    assert orwell.highlights[0].highlighted_at == dt.datetime(2017, 9, 9, 13, 27, 9)
    assert result.skipped == 1  # the shorter version of the 1984 highlight


def test_it_attaches_a_chinese_note_to_its_highlight() -> None:
    result = real("scenario-missing-note-scenario.txt")
    document = only_book(result)
    assert document.title == "飘（上下） (外国文学名著名译丛书)"
    assert document.author == "(美)米切尔"
    (highlight,) = document.highlights
    assert highlight.location == "2543-2544"
    assert highlight.note == "原来是为她哥哥守孝,到这里才说明白。"
    assert highlight.highlighted_at == dt.datetime(2023, 2, 9, 18, 35, 21)


def test_it_skips_empty_bodies_and_bookmarks() -> None:
    result = real("scenario-no-content-scenario.txt")
    (highlight,) = only_book(result).highlights
    assert highlight.text.startswith("The rare moment when you choose to reorganize")
    assert (highlight.location, highlight.page) == ("267-271", "35")
    assert result.skipped == 2


def test_it_reads_titles_with_a_bom() -> None:
    result = real("scenario-simple.txt")
    document = only_book(result)
    assert document.title == "Strength in Stillness: The Power of Transcendental Meditation"
    assert document.authors == ["Bob Roth"]
    assert [h.location for h in document.highlights] == ["98-99", "157-163"]
    assert document.highlights[1].highlighted_at == dt.datetime(2019, 10, 1, 2, 45, 45)
    assert result.skipped == 1


def test_it_reads_a_file_that_starts_with_a_separator() -> None:
    result = real("scenario-trailing-separator-start.txt")
    document = only_book(result)
    assert (document.title, document.author) == (
        "Jornada de Montahue - P Hernan Alessandri",
        "",
    )
    assert [(h.text[:10], h.location, h.location_kind) for h in document.highlights] == [
        ("para nosot", "125-125", LocationKind.PAGE),
        ("personal", "125-125", LocationKind.PAGE),
    ]
    assert document.highlights[0].highlighted_at == dt.datetime(2012, 4, 24, 16, 13)


def test_it_attaches_notes_written_out_of_order() -> None:
    result = real("scenario-unordered-scenario.txt")
    document = only_book(result)
    assert [(h.location, h.note) for h in document.highlights] == [
        ("89-91", "Hollow 1"),
        ("98-98", "Few more"),  # the note comes before its highlight
        ("113-114", "Hollow 3"),  # "Hollow 2" edited: same location, same time
    ]
    assert result.skipped == 1


# --- the synthetic fixtures -------------------------------------------------------------------

FIXTURE_NAMES = sorted(p.name for p in FIXTURES.glob("*.txt"))


def test_it_has_fixtures_for_every_layout_and_language() -> None:
    assert FIXTURE_NAMES == [
        "de.txt",
        "en-kindle2-loc.txt",
        "en-modern.txt",
        "es.txt",
        "fr.txt",
        "it.txt",
        "ja.txt",
        "layout-edges.txt",
        "nl.txt",
        "notes.txt",
        "pt-br.txt",
        "rehighlights.txt",
        "ru.txt",
        "titles.txt",
        "zh.txt",
    ]


@pytest.mark.parametrize("name", FIXTURE_NAMES)
@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_it_reads_every_line_ending_alike(name: str, newline: str) -> None:
    text = fixture_text(name)
    assert kindle.sniff(text.replace("\n", newline))
    assert kindle.parse(text.replace("\n", newline)) == kindle.parse(text)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_it_reads_a_bom_before_any_entry(name: str) -> None:
    text = fixture_text(name)
    with_boms = "\ufeff" + text.replace("==========\n", "==========\n\ufeff")
    assert kindle.parse(with_boms) == kindle.parse(text)


@dataclass
class Language:
    fixture: str
    title: str
    author: str
    texts: list[str]
    notes: dict[str, str]
    locations: list[str]
    pages: list[str]
    dates: list[dt.datetime]
    skipped: int


LANGUAGES = [
    Language(
        "de.txt",
        "Die Stille der Berge",
        "Huber, Lena",
        [
            "Der Schnee fiel leise.",
            "Oben ist die Luft dünn.",
            "Neue Firmware, neues Du.",
        ],
        {
            "Der Schnee fiel leise.": "Wie im Winter 1999.",
            "Neue Firmware, neues Du.": "Eine Notiz mit Du.",
        },
        ["210-212", "680-681", "700-701"],
        ["", "45", "50"],
        [
            dt.datetime(2014, 3, 3, 8, 5, 9),
            dt.datetime(2014, 12, 17, 23, 59, 59),
            dt.datetime(2024, 8, 22, 18, 10, 53),
        ],
        2,
    ),
    Language(
        "es.txt",
        "El río lento",
        "Ortega y Gasset, José",
        ["El agua no tiene prisa.", "Fin de año en el río."],
        {"El agua no tiene prisa.": "Nota en español."},
        ["120-121", "140-141"],
        ["9", "11"],
        [dt.datetime(2018, 9, 5, 7, 8, 9), dt.datetime(2018, 12, 30, 23, 15)],
        1,
    ),
    Language(
        "fr.txt",
        "Le Jardin d’hiver",
        "Dupont, Claire",
        ["Les roses dorment sous la neige.", "Août est chaud.", "Décembre est froid."],
        {"Les roses dorment sous la neige.": "Une note en français."},
        ["40-42", "300-301", "310-311"],
        ["3", "20", "21"],
        [
            dt.datetime(2020, 2, 1, 9, 30),
            dt.datetime(2020, 8, 17, 14, 0),
            dt.datetime(2020, 12, 9, 8, 0),
        ],
        1,
    ),
    Language(
        "it.txt",
        "Il mare d’inverno",
        "Rossi, Marco",
        ["Il mare d’inverno è un concetto.", "Luglio al mare."],
        {"Il mare d’inverno è un concetto.": "Una nota italiana."},
        ["88-90", "150-151"],
        ["7", "12"],
        [dt.datetime(2015, 5, 4, 10, 11, 12), dt.datetime(2015, 7, 31, 19, 0)],
        1,
    ),
    Language(
        "nl.txt",
        "De stille gracht",
        "Jansen, Pieter",
        ["Het water spiegelt de huizen.", "Mei in de stad."],
        {"Het water spiegelt de huizen.": "Een Nederlandse notitie."},
        ["15-17", "120-121"],  # "15 t/m 17"
        ["2", "9"],
        [dt.datetime(2023, 3, 14, 11, 22, 33), dt.datetime(2023, 5, 31, 6, 7, 8)],
        1,
    ),
    Language(
        "pt-br.txt",
        "A casa amarela",
        "Souza, Ana",
        [
            "A casa tinha janelas azuis.",
            "Firmware nova, página e posição.",
            "Março chegou.",
        ],
        {
            "A casa tinha janelas azuis.": "Nota com a firmware antiga.",
            "Firmware nova, página e posição.": "Nota nova.",
        },
        ["55-57", "140-141", "200-201"],
        ["", "12", ""],
        [
            dt.datetime(2019, 11, 2, 20, 43, 52),
            dt.datetime(2024, 8, 22, 18, 10, 53),
            dt.datetime(2020, 3, 10, 9, 9, 9),
        ],
        2,
    ),
    Language(
        "ru.txt",
        "Белые ночи",
        "Иванов, Пётр",
        ["Ночь была светла.", "Новый год."],
        {"Ночь была светла.": "Заметка по-русски."},
        ["60-62", "500-501"],  # "60–62", with an en dash
        ["5", "40"],
        [dt.datetime(2020, 5, 1, 7, 5, 9), dt.datetime(2020, 12, 31, 23, 59)],
        1,
    ),
    Language(
        "ja.txt",
        "静かな湖",
        "山田太郎",
        ["湖は静かだった。", "位置だけのハイライト。"],
        {"湖は静かだった。": "日本語のメモ。"},
        ["150-152", "300-301"],
        ["12", ""],
        [dt.datetime(2021, 3, 9, 21, 4, 5), dt.datetime(2021, 12, 31, 0, 0, 1)],
        1,
    ),
]


@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.fixture)
def test_it_reads_each_device_language(language: Language) -> None:
    result = fixture(language.fixture)
    assert result.warnings == []
    assert result.skipped == language.skipped  # the bookmarks
    document = only_book(result)
    assert (document.title, document.author) == (language.title, language.author)
    assert (document.category, document.origin) == (Category.BOOKS, "kindle")
    assert [h.text for h in document.highlights] == language.texts
    assert {h.text: h.note for h in document.highlights if h.note} == language.notes
    assert [h.location for h in document.highlights] == language.locations
    assert {h.location_kind for h in document.highlights} == {LocationKind.LOCATION}
    assert [h.page for h in document.highlights] == language.pages
    assert [h.highlighted_at for h in document.highlights] == language.dates


def test_it_reads_chinese_pages_locations_and_noon() -> None:
    result = fixture("zh.txt")
    assert result.skipped == 2
    lighthouse = book(result, "远方的灯塔（上卷） (海风丛书)")
    assert lighthouse.author == "[美]卡特（Nora Carter）"
    assert [(h.text, h.note, h.location, h.page, h.highlighted_at) for h in lighthouse.highlights] == [
        (
            "灯塔每晚都亮着。",
            "这条笔记跟着标注。",
            "1020-1022",
            "",
            dt.datetime(2016, 4, 28, 0, 5, 6),
        ),  # 上午12:05
        (
            "既有页码也有位置。",
            "",
            "1300-1301",
            "112",
            dt.datetime(2024, 8, 22, 18, 10, 53),
        ),
    ]
    rain = book(result, "雨季（上下） (世界文学译丛)")
    assert rain.author == "(英)哈珀"
    (page_only,) = rain.highlights
    assert (page_only.location, page_only.location_kind, page_only.note) == (
        "5-6",
        LocationKind.PAGE,
        "页码笔记。",
    )
    assert page_only.highlighted_at == dt.datetime(2023, 2, 9, 18, 35, 21)
    untitled = book(result, "编程随笔 第一版")
    assert (untitled.author, untitled.authors) == ("", [])


def test_it_reads_the_kindle2_layout_and_abbreviated_locations() -> None:
    result = fixture("en-kindle2-loc.txt")
    assert result.skipped == 1
    harbour = book(result, "The Quiet Harbour")
    assert [(h.location, h.text, h.note, h.highlighted_at) for h in harbour.highlights] == [
        (
            "466-469",
            "Boats knock against the pier at night.",
            "",
            dt.datetime(2009, 12, 8, 12, 40),
        ),
        (
            "1004-1005",
            "The tide came in without a sound.",
            "Compare chapter one.",
            dt.datetime(2009, 12, 7, 15, 25),
        ),
        (
            "1099-1100",
            "Lanterns swung in the rigging.",
            "",
            dt.datetime(2009, 12, 9, 0, 0),
        ),  # 12:00 AM
    ]
    signal = book(result, "Signal and Noise")
    assert [(h.location, h.location_kind, h.page, h.highlighted_at) for h in signal.highlights] == [
        ("100-102", LocationKind.LOCATION, "7", dt.datetime(2010, 1, 14, 23, 15)),
        ("9", LocationKind.PAGE, "9", dt.datetime(2012, 12, 3, 19, 42, 30)),
    ]


def test_it_reads_the_modern_english_layouts() -> None:
    result = fixture("en-modern.txt")
    # A bookmark, an empty highlight, an exact repeat and the first version of the cirrus.
    assert result.skipped == 4
    assert result.warnings == ["line 75: cannot read the date 'Added on sometime last week'; imported without one"]
    clouds = book(result, "A Field Guide to Clouds (Series Two)")
    assert clouds.author == "Reyes, Ana; Lindqvist, Per"
    assert clouds.authors == ["Ana Reyes", "Per Lindqvist"]
    assert [(h.text, h.note, h.location, h.page) for h in clouds.highlights] == [
        ("Clouds are weather made visible.", "", "20-21", "xiv"),
        ("Cumulus grow in the afternoon.", "Check the photo plates.", "98-99", "12"),
        ("Cirrus are made of ice crystals,\nhigh and thin.", "", "400-402", "30"),
        ("Nimbus means rain.", "", "410-411", "31"),  # "Your Underline"
        ("", "A thought of my own,\nover two lines.", "555", "40"),
    ]
    assert clouds.highlights[2].highlighted_at == dt.datetime(2024, 8, 24, 9, 0, 7)
    rooftops = book(result, "Rooftops")
    assert [(h.text, h.location, h.location_kind, h.highlighted_at) for h in rooftops.highlights] == [
        (
            "A clipped paragraph.",
            "3-5",
            LocationKind.LOCATION,
            dt.datetime(2024, 8, 27, 13, 2, 3),
        ),
        (
            "Chimneys lean toward the river.",
            "77-80",
            LocationKind.LOCATION,
            dt.datetime(2024, 8, 26, 0, 15),
        ),
        ("Undated but kept.", "90-91", LocationKind.LOCATION, None),
        (
            "Pigeons own the city.",
            "5-6",
            LocationKind.PAGE,
            dt.datetime(2024, 8, 26, 12, 30),
        ),
        (
            "A second thing on page five.",
            "5",
            LocationKind.PAGE,
            dt.datetime(2024, 8, 26, 12, 31),
        ),
    ]


def test_it_reads_separators_first_missing_blank_lines_and_a_cut_off_end() -> None:
    result = fixture("layout-edges.txt")
    document = only_book(result)
    assert result.warnings == []
    assert [(h.text, h.location) for h in document.highlights] == [
        ("Body straight after the metadata line.", "398-399"),
        ("A BOM at the start of the body.", "481-484"),
        ("Truncated separator follows.", "490-490"),
    ]


def test_it_attaches_notes_by_the_location_they_end_at() -> None:
    result = fixture("notes.txt")
    document = only_book(result)
    assert [(h.location, h.text, h.note) for h in document.highlights] == [
        ("89-91", "The caravan left before dawn.", "First note."),
        ("98-98", "Three wells, all dry", "Note written before its highlight."),
        (
            "110-114",
            "An unrelated highlight ending at 114.",
            "Belongs to the unrelated highlight.",
        ),
        (
            "113-114",
            "The guide counted the camels twice.",
            "Edited note\n\nA second, separate note.",
        ),
        ("2000", "", "Nothing holds me, edited."),
    ]
    # The draft replaced by its edit, a repeated note, the first standalone note's edit, an empty note.
    assert result.skipped == 4


def test_it_keeps_only_the_longest_version_of_a_re_highlight() -> None:
    result = fixture("rehighlights.txt")
    tides = book(result, "Tides")
    assert [(h.location, h.text) for h in tides.highlights] == [
        (
            "737-739",
            "“Isn’t it plain that every map is smaller than the coast it draws?",
        ),
        ("1040-1044", "7) Remember that storms are how a coast keeps its shape."),
        (
            "3316-3317",
            "Every harbour wall is a bet against the sea. Most bets are lost slowly.",
        ),
        ("3717-3717", "The lighthouse keeper never slept past four."),
        ("3717-3721", "Nobody asked him why; the lamp was reason enough."),
        ("125-125", "La marea sube sin"),
        ("125-125", "prisa"),
        ("126", "the"),
        ("126", "There is the sea."),
    ]
    assert tides.highlights[0].highlighted_at == dt.datetime(2017, 9, 9, 13, 27, 9)
    assert [h.text for h in book(result, "Currents").highlights] == ["There is the sea."]
    # 737, two at 3316, 1040 and the repeated "There is the sea." (another book has it too).
    assert result.skipped == 5


def test_it_splits_titles_and_authors() -> None:
    result = fixture("titles.txt")
    assert [(d.title, d.author, d.authors) for d in result.documents] == [
        ("数据库入门(第3版) (青松丛书)", "罗森 (Mira Rosen)", ["罗森 (Mira Rosen)"]),
        (
            "月球花园（同名电影） (星河系列)",
            "［加拿大］艾拉·摩尔",
            ["［加拿大］艾拉·摩尔"],
        ),
        ("数据库入门(第3版)", "", []),  # no space before the bracket: part of the title
        (
            "Bridges (scan.org)",
            "Mara Quill, Tobias Fenn, Ines Ruiz, Odo Park",
            ["Mara Quill", "Tobias Fenn", "Ines Ruiz", "Odo Park"],
        ),
        ("Odd Numbers", "Steven D., Marlow", ["Steven D. Marlow"]),
        ("Letters from the Coast", "Plinius,", ["Plinius"]),
        ("Momentum", "Okoro, Grace;Lind, Jonas", ["Grace Okoro", "Jonas Lind"]),
        (
            "Why Rivers Bend",
            "Nadia Petrova and Samuel K. Obi",
            ["Nadia Petrova", "Samuel K. Obi"],
        ),
        ("Unbalanced (Title", "Author", ["Author"]),
        ("The Long Shore", "Van Dyke, Ruth M.", ["Ruth M. Van Dyke"]),
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Title (Series) (Last, First)", ("Title (Series)", "Last, First")),
        ("书名 ([美]作者（English Name）)", ("书名", "[美]作者（English Name）")),
        ("书名 （作者）", ("书名", "作者")),
        ("书名（上下）", ("书名（上下）", "")),
        ("Title ()", ("Title", "")),
        ("(Only Brackets)", ("(Only Brackets)", "")),
        ("Title (Author", ("Title (Author", "")),
        ("  Padded Title (A. Writer)  ", ("Padded Title", "A. Writer")),
        ("", ("", "")),
    ],
)
def test_it_takes_the_author_from_the_last_balanced_bracket_group(line: str, expected: tuple[str, str]) -> None:
    assert kindle.split_title_line(line) == expected


@pytest.mark.parametrize(
    ("author", "people"),
    [
        ("Cockburn, Alistair", ["Alistair Cockburn"]),
        ("Alistair Cockburn", ["Alistair Cockburn"]),
        ("Weinberg, Gabriel;Mares, Justin", ["Gabriel Weinberg", "Justin Mares"]),
        ("Cody Lundin; Russ Miller", ["Cody Lundin", "Russ Miller"]),
        ("A. Writer and B. Writer", ["A. Writer", "B. Writer"]),
        ("A & B", ["A", "B"]),
        ("Gamma, Erich, Helm, Richard", ["Erich Gamma", "Richard Helm"]),
        ("Erich Gamma, Richard Helm", ["Erich Gamma", "Richard Helm"]),
        ("García Márquez, Gabriel", ["Gabriel García Márquez"]),
        ("Steven D., Levitt", ["Steven D. Levitt"]),
        ("Seneca,", ["Seneca"]),
        ("伍君仪;刘晓光", ["伍君仪", "刘晓光"]),
        ("", []),
    ],
)
def test_it_splits_authors_into_people(author: str, people: list[str]) -> None:
    assert kindle.split_authors(author) == people


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Added on Monday, December 07, 2009, 03:25 PM",
            dt.datetime(2009, 12, 7, 15, 25),
        ),
        (
            "Added on Thursday, August 22, 2024 12:10:53 AM",
            dt.datetime(2024, 8, 22, 0, 10, 53),
        ),
        (
            "Added on Thursday, August 22, 2024 12:10:53 PM",
            dt.datetime(2024, 8, 22, 12, 10, 53),
        ),
        (
            "Added on Monday, 3 December 12 19:42:30 Greenwich Mean Time",
            dt.datetime(2012, 12, 3, 19, 42, 30),
        ),
        (
            "Hinzugefügt am Donnerstag, 22. August 2024 18:10:53",
            dt.datetime(2024, 8, 22, 18, 10, 53),
        ),
        (
            "Añadido el jueves, 22 de agosto de 2024 18:10:53",
            dt.datetime(2024, 8, 22, 18, 10, 53),
        ),
        ("Ajouté le lundi 1er janvier 2018 08:05:09", dt.datetime(2018, 1, 1, 8, 5, 9)),
        ("Ajouté le jeudi 22 aout 2024 18:10:53", dt.datetime(2024, 8, 22, 18, 10, 53)),
        (
            "Aggiunto in data giovedì 22 agosto 2024 18:10:53",
            dt.datetime(2024, 8, 22, 18, 10, 53),
        ),
        (
            "Toegevoegd op donderdag 22 augustus 2024 18:10:53",
            dt.datetime(2024, 8, 22, 18, 10, 53),
        ),
        (
            "Adicionado: quinta-feira, 22 de agosto de 2024 18:10:53",
            dt.datetime(2024, 8, 22, 18, 10, 53),
        ),
        (
            "Добавлено: четверг, 22 августа 2024 г. в 18:10:53",
            dt.datetime(2024, 8, 22, 18, 10, 53),
        ),
        ("作成日: 2024年8月22日木曜日 18:10:53", dt.datetime(2024, 8, 22, 18, 10, 53)),
        (
            "添加于 2024年8月22日星期四 下午6:10:53",
            dt.datetime(2024, 8, 22, 18, 10, 53),
        ),
        (
            "添加于 2024年8月22日星期四 上午12:10:53",
            dt.datetime(2024, 8, 22, 0, 10, 53),
        ),
        ("Added on Sept. 3, 2020 9:00", dt.datetime(2020, 9, 3, 9, 0)),
        (
            "Hinzugefügt am Freitag, 3. April 2015 12:33:35",
            dt.datetime(2015, 4, 3, 12, 33, 35),
        ),
        ("Added on Monday, May 4, 2015 12:05 a.m.", dt.datetime(2015, 5, 4, 0, 5)),
        ("Added on Monday, May 4, 2015 1:05 p. m.", dt.datetime(2015, 5, 4, 13, 5)),
        ("Added on Monday, May 4, 2015 11:05 amazing", dt.datetime(2015, 5, 4, 11, 5)),
        (
            "添加于 2024年8月22日星期四 中午12:10:53",
            dt.datetime(2024, 8, 22, 12, 10, 53),
        ),
        (
            "添加于 2024年8月22日星期四 中午1:10:53",
            dt.datetime(2024, 8, 22, 13, 10, 53),
        ),
        (
            "作成日: 2024年8月22日木曜日 午後6:10:53",
            dt.datetime(2024, 8, 22, 18, 10, 53),
        ),
        ("Added on sometime last week", None),
        ("Added on Thursday, February 30, 2024 10:00:00", None),
        ("", None),
    ],
)
def test_it_reads_dates_in_the_device_language(text: str, expected: dt.datetime | None) -> None:
    assert kindle.parse_date(text) == expected


# --- detection --------------------------------------------------------------------------------


def test_it_does_not_claim_other_formats() -> None:
    samples_dir()
    others = [name for folder in ("readwise-markdown", "readwise-csv", "omnivore") for name in sample_names(folder)]
    assert others
    for name in others:
        assert not kindle.sniff(sample(name).decode("utf-8")), name


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Title\n==========\n\n- a list item\n- another | 12\n",
        "# Notes\n\nSome Title\n==========\n- Your thoughts on page 12\n",
        "Title,Author,Highlight\n==========,x,y\n",
        "Book (Author)\n- Your Highlight on page 12 | location 98-99 | Added on Monday, 1 January 2024 10:00:00\n\ntext\n",
    ],
)
def test_it_does_not_claim_text_without_a_separator_and_metadata_line(
    text: str,
) -> None:
    assert not kindle.sniff(text)


def test_it_claims_a_single_entry_file() -> None:
    assert kindle.sniff(
        "\ufeffBook (Author)\r\n- Your Highlight on page 12 | location 98-99 | Added on Monday, 1 January 2024 10:00:00\r\n\r\ntext\r\n==========\r\n"
    )


def test_it_rejects_text_with_no_entry_at_all() -> None:
    with pytest.raises(ParseError, match="no Kindle clippings found"):
        kindle.parse("just a shopping list\n==========\nmilk\n")


def test_it_reads_an_empty_file_as_no_documents() -> None:
    assert kindle.parse("") == ParseResult(format="kindle")
    assert kindle.parse("\ufeff\r\n") == ParseResult(format="kindle")


def test_it_warns_about_blocks_that_are_not_entries_and_keeps_the_rest() -> None:
    text = (
        "stray text\n"
        "==========\n"
        "Book (Author)\n"
        "- Your Highlight on page 1 | location 5-6 | Added on Monday, 1 January 2024 10:00:00\n\n"
        "kept\n"
        "==========\n"
        "Book (Author)\n"
        "- Your Scribble at location 9 | Added on Monday, 1 January 2024 10:00:00\n\n"
        "an unknown kind\n"
        "==========\n"
    )
    result = kindle.parse(text)
    assert [h.text for h in only_book(result).highlights] == ["kept", "an unknown kind"]
    assert result.warnings == [
        "line 1: not a Kindle entry (no '- Your Highlight ... | Added on ...' line after the title); left out",
        "line 9: cannot tell what kind of entry '- Your Scribble at location 9 | Added on Monday, 1 January 2024 10:00:00' is; read as a highlight",
    ]


# --- properties -------------------------------------------------------------------------------

FRAGMENTS = [
    "==========",
    "\n",
    "\r\n",
    "\ufeff",
    "- ",
    "– ",
    " | ",
    "|",
    "Your Highlight on page ",
    "Your Note at location ",
    "Your Bookmark ",
    "Highlight Loc. ",
    "您在第 ",
    " 页（位置 #",
    "）的标注",
    "的笔记",
    "位置No. ",
    "ページ",
    "のメモ",
    "locatie 3 t/m ",
    "page xiv",
    "location ",
    "99999999999999999999",
    "1004-5",
    "0-0",
    "5-",
    "Added on Monday, December 07, 2009, 03:25 PM",
    "Added on 31 February 99999 25:61:61 PM",
    "添加于 2024年13月40日星期四 下午6:10:53",
    "作成日: 0年0月0日",
    "Title (Author)",
    "(（",
    ")）",
    "(",
    ")",
    "12",
    "text",
    "=====",
]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=20), max_size=60).map("".join))
def test_it_raises_nothing_but_parse_error(text: str) -> None:
    kindle.sniff(text)
    try:
        result = kindle.parse(text)
    except ParseError:
        return
    for document in result.documents:
        assert document.highlights
        for highlight in document.highlights:
            assert highlight.text or highlight.note


MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "de": [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    "es": [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
    "it": [
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ],
    "nl": [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
    "pt": [
        "janeiro",
        "fevereiro",
        "março",
        "abril",
        "maio",
        "junho",
        "julho",
        "agosto",
        "setembro",
        "outubro",
        "novembro",
        "dezembro",
    ],
    "ru": [
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ],
}
WEEKDAYS = {
    "en": [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ],
    "de": [
        "Montag",
        "Dienstag",
        "Mittwoch",
        "Donnerstag",
        "Freitag",
        "Samstag",
        "Sonntag",
    ],
    "fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    "es": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
    "it": [
        "lunedì",
        "martedì",
        "mercoledì",
        "giovedì",
        "venerdì",
        "sabato",
        "domenica",
    ],
    "nl": [
        "maandag",
        "dinsdag",
        "woensdag",
        "donderdag",
        "vrijdag",
        "zaterdag",
        "zondag",
    ],
    "pt": [
        "segunda-feira",
        "terça-feira",
        "quarta-feira",
        "quinta-feira",
        "sexta-feira",
        "sábado",
        "domingo",
    ],
    "ru": [
        "понедельник",
        "вторник",
        "среда",
        "четверг",
        "пятница",
        "суббота",
        "воскресенье",
    ],
    "ja": [f"{c}曜日" for c in "月火水木金土日"],
    "zh": [f"星期{c}" for c in "一二三四五六日"],
}


def twelve(when: dt.datetime) -> tuple[int, str]:
    return (when.hour % 12 or 12), ("AM" if when.hour < 12 else "PM")


def date_in(layout: str, when: dt.datetime) -> str:
    hour, half = twelve(when)
    hms = f"{when:%H:%M:%S}"
    weekday = WEEKDAYS.get(layout[:2], WEEKDAYS["en"])[when.weekday()]
    month = MONTHS.get(layout[:2], MONTHS["en"])[when.month - 1] if layout[:2] in MONTHS else ""
    match layout:
        case "en-2009":
            return f"Added on {weekday}, {month} {when.day:02}, {when.year}, {hour:02}:{when:%M} {half}"
        case "en-us":
            return f"Added on {weekday}, {month} {when.day}, {when.year} {hour}:{when:%M:%S} {half}"
        case "en-uk":
            return f"Added on {weekday}, {when.day} {month} {when.year} {hms}"
        case "de":
            return f"Hinzugefügt am {weekday}, {when.day}. {month} {when.year} {hms}"
        case "fr":
            return f"Ajouté le {weekday} {when.day} {month} {when.year} {hms}"
        case "es":
            return f"Añadido el {weekday}, {when.day} de {month} de {when.year} {when.hour}:{when:%M:%S}"
        case "it":
            return f"Aggiunto in data {weekday} {when.day} {month} {when.year} {hms}"
        case "nl":
            return f"Toegevoegd op {weekday} {when.day} {month} {when.year} {hms}"
        case "pt" | "pt-old":
            return f"Adicionado: {weekday}, {when.day} de {month} de {when.year} {hms}"
        case "ru":
            return f"Добавлено: {weekday}, {when.day} {month} {when.year} г. в {when.hour}:{when:%M:%S}"
        case "ja":
            return f"作成日: {when.year}年{when.month}月{when.day}日{weekday} {when.hour}:{when:%M:%S}"
        case _:
            chinese_half = "上午" if when.hour < 12 else "下午"
            return f"添加于 {when.year}年{when.month}月{when.day}日{weekday} {chinese_half}{hour}:{when:%M:%S}"


def abbreviated(start: int, end: int) -> str:
    """The end as the 2009 firmware wrote it: only the digits that differ ("1004-5")."""
    first, last = str(start), str(end)
    if len(first) != len(last):
        return last
    same = 0
    while same < len(first) - 1 and first[same] == last[same]:
        same += 1
    return last[same:]


KIND_WORDS = {
    "en-us": ("Your Highlight", "Your Note", "Your Bookmark"),
    "en-uk": ("Your Highlight", "Your Note", "Your Bookmark"),
    "en-2009": ("Highlight", "Note", "Bookmark"),
    "de": ("Ihre Markierung", "Ihre Notiz", "Ihr Lesezeichen"),
    "fr": ("Votre surlignement", "Votre note", "Votre signet"),
    "es": ("La subrayado", "La nota", "El marcador"),
    "it": ("La tua evidenziazione", "La tua nota", "Il tuo segnalibro"),
    "nl": ("Je highlight", "Je notitie", "Je bladwijzer"),
    "pt": ("Seu destaque", "Sua nota", "Seu marcador"),
    "pt-old": ("Seu destaque", "Sua nota", "Seu marcador"),
    "ru": ("Ваш выделенный отрывок", "Ваша заметка", "Ваша закладка"),
    "ja": ("ハイライト", "メモ", "ブックマーク"),
    "zh": ("标注", "笔记", "书签"),
    "zh-loc": ("标注", "笔记", "书签"),
}
LAYOUTS_WITHOUT_PAGES = {"en-2009", "pt-old", "zh-loc"}


def metadata(layout: str, kind: int, page: int, start: int, end: int | None, when: dt.datetime) -> str:
    word = KIND_WORDS[layout][kind]
    span = f"{start}" if end is None else f"{start}-{end}"
    match layout:
        case "en-us" | "en-uk":
            where = f"on page {page} | Location {span}"
        case "en-2009":
            where = f"Loc. {start}" if end is None else f"Loc. {start}-{abbreviated(start, end)}"
        case "de":
            where = f"auf Seite {page} | bei Position {span}"
        case "fr":
            where = f"sur la page {page} | emplacement {span}"
        case "es":
            where = f"en la página {page} | posición {span}"
        case "it":
            where = f"a pagina {page} | posizione {span}"
        case "nl":
            where = f"op pagina {page} | locatie {start}" + ("" if end is None else f" t/m {end}")
        case "pt":
            where = f"na página {page} | posição {span}"
        case "pt-old":
            where = f"ou posição {span}"
        case "ru":
            where = f"на странице {page} | Место {span.replace('-', '–')}"
        case "ja":
            return f"- {page}ページ|位置No. {span}の{word} |{date_in(layout, when)}"
        case "zh":
            return f"- 您在第 {page} 页（位置 #{span}）的{word} | {date_in(layout, when)}"
        case _:
            return f"- 您在位置 #{span}的{word} | {date_in(layout, when)}"
    dash = "–" if layout == "ru" else "-"
    return f"{dash} {word} {where} | {date_in(layout, when)}"


AUTHORS = {
    "": [],
    "Doe, Jane": ["Jane Doe"],
    "Ana Lima": ["Ana Lima"],
    "Kim, Min; Park, Ji": ["Min Kim", "Ji Park"],
}
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäéßøжлд漢字かな", min_size=1, max_size=7)
BODY = st.lists(
    st.tuples(WORD, st.sampled_from([" ", " ", " ", "\n", "\n\n", ", "])),
    min_size=1,
    max_size=8,
).map(lambda pairs: "".join(w + s for w, s in pairs[:-1]) + pairs[-1][0])
TITLE = st.lists(
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzéü",
        min_size=1,
        max_size=8,
    ),
    min_size=1,
    max_size=4,
).map(" ".join)
WHEN = st.datetimes(min_value=dt.datetime(2008, 1, 1), max_value=dt.datetime(2035, 12, 31)).map(
    lambda when: when.replace(microsecond=0)
)


@st.composite
def clippings(draw: st.DrawFn) -> tuple[str, list[Document], int]:
    """A clippings file of random books and entries, the documents it holds and how many entries
    are skipped. Highlights get disjoint location ranges; each may come with an earlier, shorter
    version, an exact repeat, a note (before or after it, sometimes twice); a book may have
    standalone notes and bookmarks; the entries of all books are shuffled together."""
    layout = draw(st.sampled_from(sorted(KIND_WORDS)))
    pages = layout not in LAYOUTS_WITHOUT_PAGES
    titles = draw(st.lists(TITLE, min_size=1, max_size=3, unique=True))
    entries: list[tuple[str, str, str]] = []  # title line, metadata line, body
    documents: list[Document] = []
    skipped = 0

    def when_for_layout() -> dt.datetime:
        when = draw(WHEN)
        return when.replace(second=0) if layout == "en-2009" else when

    for number, title in enumerate(titles):
        author = draw(st.sampled_from(sorted(AUTHORS)))
        title_line = f"{title} ({author})" if author else title
        highlights: list[Highlight] = []
        for index in range(draw(st.integers(0, 4))):
            start = 1000 + 100 * index + draw(st.integers(0, 9))
            end = start + draw(st.integers(0, 30))
            page = start // 10
            text = f"mark{number}x{index} " + draw(BODY)
            when = when_for_layout()
            entries.append((title_line, metadata(layout, 0, page, start, end, when), text))
            if draw(st.booleans()):  # an earlier, shorter version
                cut = draw(st.integers(start, end))
                earlier = text.split(" ", 1)[0]
                entries.append(
                    (
                        title_line,
                        metadata(layout, 0, page, start, cut, when_for_layout()),
                        earlier,
                    )
                )
                skipped += 1
            if draw(st.booleans()):  # an exact repeat
                entries.append((title_line, metadata(layout, 0, page, start, end, when), text))
                skipped += 1
            note = ""
            if draw(st.booleans()):
                note = f"note{number}x{index} " + draw(BODY)
                copies = draw(st.integers(1, 2))  # a second copy is a repeat
                for _ in range(copies):
                    entries.append(
                        (
                            title_line,
                            metadata(layout, 1, page, end, None, when_for_layout()),
                            note,
                        )
                    )
                skipped += copies - 1
            highlights.append(
                Highlight(
                    text=text,
                    note=note,
                    location=f"{start}-{end}",
                    location_kind=LocationKind.LOCATION,
                    highlighted_at=when,
                    page=str(page) if pages else "",
                )
            )
        for index in range(draw(st.integers(0, 2))):  # notes no highlight holds
            where = 9000 + 10 * index
            note = f"alone{number}x{index} " + draw(BODY)
            when = when_for_layout()
            entries.append((title_line, metadata(layout, 1, where // 10, where, None, when), note))
            highlights.append(
                Highlight(
                    text="",
                    note=note,
                    location=str(where),
                    location_kind=LocationKind.LOCATION,
                    highlighted_at=when,
                    page=str(where // 10) if pages else "",
                )
            )
        for _ in range(draw(st.integers(0, 2))):
            where = draw(st.integers(1, 9999))
            entries.append(
                (
                    title_line,
                    metadata(layout, 2, where // 10 + 1, where, None, when_for_layout()),
                    "",
                )
            )
            skipped += 1
        if highlights:
            documents.append(
                Document(
                    title=title,
                    author=author,
                    authors=AUTHORS[author],
                    category=Category.BOOKS,
                    origin="kindle",
                    highlights=sorted(highlights, key=lambda h: int(h.location.split("-")[0])),
                )
            )
    if not entries:
        return "", [], 0
    order = draw(st.permutations(range(len(entries))))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    blocks = []
    for position in order:
        title_line, meta, body = entries[position]
        bom = "\ufeff" if draw(st.booleans()) else ""
        gap = "" if body and draw(st.integers(0, 9)) == 0 else "\n"
        blocks.append(f"{bom}{title_line}\n{meta}\n{gap}{body}\n")
    text = ("==========\n" if draw(st.booleans()) else "") + "==========\n".join(blocks)
    if draw(st.booleans()) or "==========" not in text:
        text += "=========="
    # Documents come in the order the file first names them, skipping bookmark-only books.
    first_seen = {entries[position][0]: n for n, position in reversed(list(enumerate(order)))}
    documents.sort(key=lambda d: first_seen[f"{d.title} ({d.author})" if d.author else d.title])
    return text.replace("\n", newline), documents, skipped


@settings(
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(clippings())
def test_it_reads_generated_clippings_exactly(
    generated: tuple[str, list[Document], int],
) -> None:
    text, documents, skipped = generated
    if not text:
        return
    assert kindle.sniff(text)
    result = kindle.parse(text)
    assert result.warnings == []
    assert result.documents == documents
    assert result.skipped == skipped
