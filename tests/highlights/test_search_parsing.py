"""The pure parts of search: reading web-search syntax, and making safe snippets."""

from __future__ import annotations

from django.test import SimpleTestCase

from highlights import search
from highlights.search import START, STOP, Term


class ParseTests(SimpleTestCase):
    def test_it_reads_words_phrases_negations_and_or(self) -> None:
        parsed = search.parse('stoic "the obstacle  is" -atomic or kafka')
        assert parsed.alternatives == [
            [Term("stoic"), Term("the obstacle is", phrase=True), Term("atomic", negated=True)],
            [Term("kafka")],
        ]
        assert parsed.positive_terms == ["stoic", "the obstacle is", "kafka"]

    def test_it_ignores_dangling_operators_and_unclosed_quotes(self) -> None:
        assert search.parse("or or").alternatives == []
        assert search.parse(' - "" ').alternatives == []
        assert search.parse('"open phrase').alternatives == [[Term("open phrase", phrase=True)]]
        assert not search.parse("   ")

    def test_it_wants_substrings_only_for_unspaced_scripts(self) -> None:
        assert search.parse("封建").needs_substring
        assert search.parse("湖は静か").needs_substring
        assert search.parse("Körper solução Français").needs_substring is False

    def test_it_treats_the_last_word_without_a_space_as_being_typed(self) -> None:
        assert search.parse("stoic philos").prefix_word == "philos"
        assert search.parse("stoic philos ").prefix_word == ""
        assert search.parse('"philos"').prefix_word == ""
        assert search.parse("-philos").prefix_word == ""
        assert search.parse("ph").prefix_word == ""  # too short to be worth a prefix scan
        assert search.parse("C++").prefix_word == ""
        assert search.parse("封建制度").prefix_word == ""

    def test_it_knows_where_the_last_alternative_starts(self) -> None:
        parsed = search.parse("kafka or philos")
        assert parsed.raw[parsed.last_start :].strip() == "philos"
        assert search.parse("stoic philos").last_start == 0

    def test_it_escapes_like_wildcards(self) -> None:
        assert search.contains_pattern("100%_a\\b") == "%100\\%\\_a\\\\b%"


class SnippetTests(SimpleTestCase):
    def test_it_marks_what_postgres_marked_and_escapes_the_rest(self) -> None:
        headline = f"<b>bold</b> & {START}cats{STOP} <script>"
        html = search.snippet(headline, "<b>bold</b> & cats <script>", ["cat"])
        assert html == "&lt;b&gt;bold&lt;/b&gt; &amp; <mark>cats</mark> &lt;script&gt;"

    def test_it_never_lets_a_mark_carry_markup(self) -> None:
        html = search.snippet(f"{START}<img src=x onerror=alert(1)>{STOP}", "<img src=x onerror=alert(1)>", [])
        assert html == "<mark>&lt;img src=x onerror=alert(1)&gt;</mark>"
        assert "<img" not in search.snippet(f"a {START}b", "a b", [])

    def test_it_cuts_a_window_around_a_substring_match(self) -> None:
        text = "前" * 300 + "封建秩序" + "后" * 300
        html = search.snippet(text[:50], text, ["封建"])
        assert "<mark>封建</mark>秩序" in html
        assert html.startswith("…") and html.endswith("…")
        assert len(html) < 300

    def test_it_says_where_postgres_cut_the_text(self) -> None:
        text = "One two three four. " * 20 + "The cat sat. " + "Five six seven. " * 20
        html = search.snippet(f"The {START}cat{STOP} sat.", text, ["cat"])
        assert html == "… The <mark>cat</mark> sat. …"
        assert search.snippet(f"whole {START}text{STOP}", "whole text", ["text"]) == "whole <mark>text</mark>"

    def test_it_reads_markdown_links_as_their_words(self) -> None:
        html = search.snippet("", "see [the docs](https://x.example/a) 封建", ["封建"])
        assert "the docs" in html and "https://" not in html
