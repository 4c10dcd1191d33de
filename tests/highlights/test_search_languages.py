"""A word or phrase copied from a highlight finds it, in every language of the samples.

Each language is tested twice: with our own small Kindle fixtures (tests/fixtures/kindle), so a
fresh clone without the samples still covers it, and with the real samples in ../shared/samples.
Everything goes through the real importer and the search page.
"""

from __future__ import annotations

from django.db import connection
from django.http import QueryDict
from django.test import TestCase
from django.urls import reverse

from highlights import search
from highlights.filters import search_highlights, search_sources
from highlights.models import Highlight
from tests.factories import make_user
from tests.highlights.helpers import import_bytes, import_fixture
from tests.samples import sample

# (query, the highlight text or note it must find)
OWN_FIXTURES = {
    "kindle/de.txt": [
        ("Schnee", "Der Schnee fiel leise."),
        ('"Luft dünn"', "Oben ist die Luft dünn."),
        ("dünn", "Oben ist die Luft dünn."),
        ("Winter 1999", "Wie im Winter 1999."),  # a note
    ],
    "kindle/fr.txt": [
        ("neige", "Les roses dorment sous la neige."),
        ("Août", "Août est chaud."),
        ('"Décembre est froid"', "Décembre est froid."),
        ("français", "Une note en français."),
    ],
    "kindle/pt-br.txt": [
        ("janelas azuis", "A casa tinha janelas azuis."),
        ("página e posição", "Firmware nova, página e posição."),
        ("posição", "Firmware nova, página e posição."),
    ],
    "kindle/zh.txt": [
        ("灯塔", "灯塔每晚都亮着。"),
        ("每晚都亮", "灯塔每晚都亮着。"),
        ("新的一天", "明天又是新的一天。"),
        ("页码", "既有页码也有位置。"),
        ("跟着标注", "这条笔记跟着标注。"),  # a note
    ],
    "kindle/ja.txt": [
        ("静か", "湖は静かだった。"),
        ("湖は静か", "湖は静かだった。"),
        ("ハイライト", "位置だけのハイライト。"),
        ("日本語", "日本語のメモ。"),  # a note
    ],
}

SAMPLES = {
    "kindle/de-My Clippings.txt": [
        ("pleite", "Es ist ein Unterschied, ob man arm ist oder pleite."),
        ('"arm ist oder pleite"', "Es ist ein Unterschied, ob man arm ist oder pleite."),
        ("schmalen Körper", "an ihren schmalen Körper, Elias hatte"),
        ("Unwissenheit und Erkenntnis", "Mein reicher Vater fuhr damit fort"),
    ],
    "kindle/eleven-languages.txt": [
        ('"My highlight in Français"', "My highlight in Français"),
        ("Português", "My highlight in Português (Brasil)"),
        ("Deutsch", "My highlight in Deutsch"),
        # Written on a Japanese-language Kindle (the samples hold no Japanese highlight text:
        # only Kindle metadata, and Omnivore titles without highlights; ja.txt above covers it).
        ('"My highlight in Japanese"', "My highlight in Japanese"),
    ],
    "readwise-markdown/default-multi-author-doc-tags.md": [
        ("bâtir ma base", "Il s'agit de comprendre comment Obsidian peut m'aider à bâtir ma base"),
        ('"gestion des connaissances personnelles"', "Qu'est-ce que la gestion des connaissances personnelles"),
    ],
    "kindle/pt-br.txt": [
        ("solução", "Única solução que ele menciona."),
        ("falta de normalização", "Dá como e exemplo a falta de normalização."),
    ],
    "kindle/zh-My Clippings.txt": [
        ("封建", "从西周到东周，我们民族实行的是“邦国制度”。"),
        ("姬姜两族长期通婚", "齐国是姜太公之后，姓姜"),
        ("众星拱月", "家臣往往是大夫的家人"),
        ("邦国制度", "从西周到东周"),
    ],
}


class SearchLanguageMixin:
    user: object

    def assert_finds(self, query: str, expected: str) -> None:
        texts = [f"{h.text}\n{h.note}" for h in search_highlights(self.user, query, QueryDict())]
        assert any(expected in text for text in texts), (query, expected, texts[:5])
        page = self.client.get(reverse("highlights:search"), {"q": query}).text  # type: ignore[attr-defined]
        assert "<mark>" in page, query


class OwnFixtureLanguageTests(SearchLanguageMixin, TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        import_fixture(cls.user, *OWN_FIXTURES)

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def test_it_finds_german_french_portuguese_chinese_and_japanese(self) -> None:
        for queries in OWN_FIXTURES.values():
            for query, expected in queries:
                self.assert_finds(query, expected)

    def test_it_finds_chinese_and_japanese_only_where_they_are(self) -> None:
        texts = [h.text for h in search_highlights(self.user, "静か", QueryDict())]
        assert texts == ["湖は静かだった。"]
        assert [h.text for h in search_highlights(self.user, "灯塔 -每晚", QueryDict())] == []
        assert {h.text for h in search_highlights(self.user, "灯塔 or 静か", QueryDict())} == {
            "灯塔每晚都亮着。",
            "湖は静かだった。",
        }
        assert list(search_highlights(self.user, "静かな海", QueryDict())) == []

    def test_it_marks_the_chinese_word_in_the_snippet(self) -> None:
        page = self.client.get(reverse("highlights:search"), {"q": "每晚"}).text
        assert "灯塔<mark>每晚</mark>都亮着。" in page

    def test_it_finds_sources_by_a_japanese_or_chinese_title(self) -> None:
        assert [s.name for s in search_sources(self.user, "静かな", QueryDict())] == ["静かな湖"]
        assert [s.name for s in search_sources(self.user, "灯塔", QueryDict())] == ["远方的灯塔（上卷） (海风丛书)"]


class SampleLanguageTests(SearchLanguageMixin, TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        for name in SAMPLES:
            import_bytes(cls.user, name, sample(name))

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def test_it_finds_words_and_phrases_copied_from_the_samples(self) -> None:
        for queries in SAMPLES.values():
            for query, expected in queries:
                self.assert_finds(query, expected)


class BigramFunctionTests(TestCase):
    """highlights.search.UNSPACED_CLASS and the SQL function highlights_cjk_bigrams agree."""

    def bigrams(self, text: str) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT tsvector_to_array(highlights_cjk_bigrams(%s, ''))", [text])
            return sorted(cursor.fetchone()[0])

    def test_it_cuts_runs_into_character_pairs(self) -> None:
        assert self.bigrams("封建秩序。Kafka 静か") == sorted(["封建", "建秩", "秩序", "静か"])
        assert self.bigrams("湖") == ["湖"]
        assert self.bigrams("only latin, ümlauts and ½") == []

    def test_it_reads_every_range_python_reads(self) -> None:
        ranges = search.UNSPACED_CLASS.strip("[]").split("-")
        samples = [ranges[0][-1]] + [part[0] for part in ranges[1:]]  # the first and the last of each range
        samples += [part[-1] for part in ranges[1:-1]]
        for char in samples:
            assert search._UNSPACED.match(char), repr(char)
            assert self.bigrams(char) == [char], repr(char)
        for outside in ["a", "é", "。", "，", "“", "Ａ", " "]:
            assert not search._UNSPACED.match(outside)
            assert self.bigrams(outside) == []

    def test_it_matches_what_the_query_side_asks_for(self) -> None:
        assert search.bigram_query("封建秩序") == "'封建' & '建秩' & '秩序'"
        assert search.bigram_query("湖") == "'湖':*"
        assert search.bigram_query("Gboard帽バ") == "'帽バ'"
        assert search.bigram_query("a'b") == ""


class BigramIndexTests(TestCase):
    """The bigram index holds only the highlights with unspaced-script characters, and a search
    for such a term states that condition, so Postgres can use the index."""

    def test_a_chinese_search_can_use_the_partial_index(self) -> None:
        user = make_user()
        import_bytes(user, "zh.md", "# 书\n\n## Highlights\n- 我们学习历史。\n- Plain English.\n".encode())
        with connection.cursor() as cursor:
            # Left with no other way than a bitmap scan (the bigram index is the only one that
            # can serve the condition) or reading the table.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
        for query in ["学习", "学习 -plain", '"学习历史"']:
            condition = search.substring_condition(search.parse(query), ["text", "note"], bigrams=("text", "note"))
            plan = Highlight.objects.filter(condition).explain()
            assert "highlight_cjk_bigrams" in plan, (query, plan)
        highlights = Highlight.objects.filter(user=user)
        self.assertEqual([h.text for h in highlights.matching("学习")], ["我们学习历史。"])
        self.assertEqual(highlights.newest_matching_ids("学习", 10), [highlights.get(text="我们学习历史。").pk])

    def test_the_index_leaves_out_highlights_without_such_characters(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_indexdef('highlight_cjk_bigrams'::regclass)")
            definition = cursor.fetchone()[0]
        assert " WHERE " in definition and "~" in definition, definition
