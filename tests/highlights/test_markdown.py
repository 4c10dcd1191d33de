"""The Markdown filter: the fast path for plain prose says exactly what the parser would."""

from __future__ import annotations

from django.test import SimpleTestCase
from hypothesis import example, given, settings
from hypothesis import strategies as st

from highlights.templatetags.markdown import (
    _markdown_words,
    _plain_paragraph,
    _render_markdown,
    markdown_text_filter,
    render_markdown,
)

# Letters, digits, spaces (ordinary and not), punctuation, and every character Markdown or HTML
# gives a meaning to, so generated text often looks like markup.
ALPHABET = st.sampled_from(
    list("abcXYZ019 .,;:'\"?()/-+=>&#*_[]<`\\!~|%@$^{}")
    + ["\xa0", "\u3000", "\u2003", "\ufeff", "\u200b", "é", "封", "\t", "\n", "&amp;", "1. "]
)


class FastPathTests(SimpleTestCase):
    @settings(max_examples=600, deadline=None)
    @given(st.lists(ALPHABET, max_size=40).map("".join))
    @example('He said "hi" & it\'s 5 > 4')
    @example("   three spaces")
    @example("AT&T and &amp; and &#169;")
    @example("2020. A year")
    @example("- not a list?")
    @example("a\xa0b\u3000")
    def test_it_renders_plain_prose_as_the_parser_would(self, text: str) -> None:
        fast = _plain_paragraph(text)
        if fast is not None:
            assert fast == _render_markdown(text), text

    @settings(max_examples=600, deadline=None)
    @given(st.lists(ALPHABET, max_size=40).map("".join))
    @example("a\xa0b\u3000c")
    @example("AT&T &amp; 5 > 4")
    def test_its_words_of_plain_prose_are_the_parser_s(self, text: str) -> None:
        assert markdown_text_filter(text) == _markdown_words(text), text

    def test_it_takes_the_fast_path_for_ordinary_highlights(self) -> None:
        for text in [
            "I realized then why the Jews in Nazi Germany had stayed: They had hope.",
            "Es ist ein Unterschied, ob man arm ist oder pleite.",
            "封建，就是天子“封邦建国”，诸侯“封土立家”。",
            "Risk & reward > fear.",
        ]:
            assert _plain_paragraph(text) is not None, text
        for text in ["**bold**", "[a](b)", "<script>", "# heading", "line\nbreak", "1. list", "    code"]:
            assert _plain_paragraph(text) is None, text

    def test_it_sanitises_what_the_parser_makes(self) -> None:
        html = render_markdown('<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror="a()">')
        assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
        assert "&lt;script&gt;" in html  # shown, not run
        assert render_markdown("*em* and [link](https://example.org)") == (
            '<p><em>em</em> and <a href="https://example.org" rel="noopener noreferrer nofollow">link</a></p>\n'
        )

    def test_it_reduces_markdown_to_its_words(self) -> None:
        assert (
            markdown_text_filter("**Bold** [link](https://x.example)\n\nNext <b>para</b>")
            == "Bold link Next <b>para</b>"
        )
