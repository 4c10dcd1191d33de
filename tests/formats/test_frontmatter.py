"""Front matter's fast path for plain scalars agrees with reading the YAML back."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from archive.formats import frontmatter

# Mostly characters the fast path accepts, with every YAML indicator mixed in.
ALPHABET = st.sampled_from(list("aZéß中ъ0129 .,;'\"()/&+!?%$@*=~^<>-_:#[]{}|`\\\t\n\u00a0\u2028\u0085½Ⅻ\ufeff"))
# And strings the fast path mostly accepts, so that its "yes" is checked often.
LIKELY = st.text(st.sampled_from(list("aZé中0 .,;'\"()/&+!?%$@*=~^<>-_")), min_size=1, max_size=12).map(
    lambda s: "x" + s
)
TEXTS = st.one_of(st.text(ALPHABET, max_size=12), st.text(max_size=12), LIKELY)


def slow_plain(text: str, *, in_list: bool = False) -> bool:
    """What `scalar` decides without the fast path: plain when it reads back as the same string."""
    source, expected = (f"- {text}\n", [text]) if in_list else (f"k: {text}\n", {"k": text})
    return frontmatter._plain_candidate(text) and frontmatter._reads_back(source, expected)


@settings(max_examples=3000, deadline=None)
@given(TEXTS)
@example("true")
@example("Null")
@example("a: b")
@example("a #b")
@example("a  b")
@example("a ")
@example("e1")
@example("Ⅻ")
@example("a\u2028b")
@example("12")
@example("1e5")
@example("0x1F")
@example("2024-01-02")
@example("07:05 PM")
@example("https://example.net/a#b")
@example("a:")
@example("a: b")
@example("a #b")
@example("١٢")
def test_it_knows_a_plain_scalar_without_reading_it_back(text: str) -> None:
    if frontmatter._plain_fast(text):
        assert slow_plain(text)
        assert slow_plain(text, in_list=True)
        assert frontmatter.load(frontmatter.dump([("k", text), ("l", [text])])[4:-4]) == {"k": text, "l": [text]}


@settings(max_examples=1000, deadline=None)
@given(st.one_of(st.text(st.sampled_from(list("0123456789")), min_size=1, max_size=12), TEXTS))
@example("0")
@example("007")
@example("09")
@example("687119130")
@example("١٢")
def test_it_knows_a_number_without_reading_it_back(text: str) -> None:
    if frontmatter._number_fast(text):
        assert not slow_plain(text)
        assert not slow_plain(text, in_list=True)
        assert frontmatter.scalar(text) == f'"{text}"'


def test_it_takes_the_fast_path_for_ordinary_titles() -> None:
    for text in (
        "The Slow Web",
        "Kafka, Franz",
        "Don't Make Me Think (2nd ed.)",
        "封建秩序",
        "C++ & Rust!",
        "https://example.net/a?b=1#c",
        "2024-01-02",
        "07:05 PM",
    ):
        assert frontmatter._plain_fast(text), text
        assert frontmatter.scalar(text) == text


KEYS = st.one_of(st.sampled_from(["title", "url", "author", "date", "e1", "true", "Null", "a-b", "x_y", "12"]), TEXTS)
VALUES = st.one_of(
    TEXTS,
    TEXTS.map(lambda text: f'"{text}"'),
    st.text(st.sampled_from(list("0123456789")), min_size=1, max_size=8),
    st.sampled_from(["", " ", "~", "null", "true", "-3", "1.5", "0x1F", "007", '"a\\"b"', "'q'", "[a, b]", "&x a"]),
)
LINES = st.tuples(KEYS, st.sampled_from([": ", ":", ":  ", " : "]), VALUES).map("".join)
# Lines the simple path mostly takes, so that its answers are checked often.
LIKELY_LINES = st.tuples(
    st.sampled_from(["title", "url", "author", "date", "e1", "a-b", "Ü"]),
    st.sampled_from([": ", ":  "]),
    st.one_of(LIKELY, LIKELY.map(lambda text: f'"{text}"'), st.sampled_from(["", "0", "12", "x y"])),
).map("".join)


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.one_of(LIKELY_LINES, LINES), min_size=1, max_size=4).map("\n".join))
@example('title: "Abandon Ve Me Know Recently"\nurl: https://example.net/vault/329\ndate: 2024-04-06\ntime: 06:48 PM')
@example("id: 687119130\nnote:\ncount: 0")
@example('title: "a #b: c"\ntitle: again')
@example("k: a\u2028b")
@example('k: "a\u0085b"')
@example("k" * 300 + ": v")
def test_simple_front_matter_reads_as_the_yaml_parser_reads_it(text: str) -> None:
    simple = frontmatter.load_simple(text)
    if simple is not None:
        assert simple == frontmatter.load_yaml(text)


def test_commonplace_and_readwise_front_matter_takes_the_simple_path() -> None:
    text = 'title: "Don\'t Make Me Think: 2nd ed."\nauthor: Steve Krug\nurl: https://example.net/a?b=1#c\nid: 42\nnote:'
    assert frontmatter.load_simple(text) == {
        "title": "Don't Make Me Think: 2nd ed.",
        "author": "Steve Krug",
        "url": "https://example.net/a?b=1#c",
        "id": 42,
        "note": None,
    }
    assert frontmatter.load_simple("tags:\n  - a") is None  # a list: the YAML parser reads it
