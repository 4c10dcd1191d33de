"""The comparison keys that decide what is "the same": a highlight's fingerprint, a name's key."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from hypothesis import example, given, settings
from hypothesis import strategies as st

from archive.models import normalise_key
from highlights.models import fingerprint

# Whitespace of every kind Unicode has, among ordinary letters.
TEXT = st.text(st.sampled_from(["a", "B", "é", "ß", "ﬁ", "中", " ", "\t", "\n", "\u00a0", "\u2028", "\u3000", "\x1c"]))


def regex_key(text: str) -> str:
    """How the keys were made with a regular expression, the definition they keep."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()


@settings(max_examples=1500, deadline=None)
@given(st.one_of(TEXT, st.text()))
@example(" Ａ\u3000b\x1c\n")
def test_keys_collapse_whitespace_exactly_as_the_regular_expression_does(text: str) -> None:
    assert normalise_key(text) == regex_key(text)
    assert fingerprint(text) == hashlib.sha256(regex_key(text).encode()).hexdigest()[:32]


def test_a_fingerprint_ignores_case_width_and_spacing() -> None:
    assert fingerprint("  The  ﬁrst\nline ") == fingerprint("the first line")
    assert fingerprint("the first line") != fingerprint("the first lines")
