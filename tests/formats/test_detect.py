"""Format detection from content, and the promise every parser keeps: documents or ParseError."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.formats import detect
from archive.formats.document import ParseError, ParseResult
from tests.samples import sample, sample_names

FIXTURES = Path(__file__).parent.parent / "fixtures"
FORMAT_OF_FOLDER = {
    "readwise-markdown": "readwise-markdown",
    "readwise-csv": "readwise-csv",
    "kindle": "kindle",
    "omnivore": "omnivore",
}
SEEDS = [p.read_bytes() for p in sorted(FIXTURES.rglob("*")) if p.is_file()]


@pytest.mark.parametrize("name", [n for folder in FORMAT_OF_FOLDER for n in sample_names(folder)])
def test_it_detects_every_sample_by_content(name: str) -> None:
    text, _ = detect.decode(sample(name))
    module = detect.detect(text)
    assert module is not None
    assert FORMAT_OF_FOLDER[name.split("/")[0]] == module.FORMAT


@pytest.mark.parametrize(
    "path", sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.parent.name in FORMAT_OF_FOLDER)
)
def test_it_detects_every_fixture_by_content(path: Path) -> None:
    text, _ = detect.decode(path.read_bytes())
    module = detect.detect(text)
    assert module is not None and FORMAT_OF_FOLDER[path.parent.name] == module.FORMAT


def parse_or_refuse(data: bytes) -> None:
    try:
        result = detect.parse(data)
    except ParseError as error:
        assert str(error)  # a message for the user, never empty
        return
    assert isinstance(result, ParseResult)
    for doc in result.documents:
        assert isinstance(doc.title, str)
        for highlight in doc.highlights:
            assert isinstance(highlight.text, str) and isinstance(highlight.note, str)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_it_only_returns_documents_or_refuses_random_bytes(data: bytes) -> None:
    parse_or_refuse(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=3000))
def test_it_only_returns_documents_or_refuses_random_text(text: str) -> None:
    parse_or_refuse(text.encode("utf-8", "replace"))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.data())
def test_it_only_returns_documents_or_refuses_mutated_exports(seed: bytes, data: st.DataObject) -> None:
    mutated = bytearray(seed)
    for _ in range(data.draw(st.integers(1, 8))):
        if not mutated:
            break
        position = data.draw(st.integers(0, len(mutated) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate", "duplicate"]))
        if action == "flip":
            mutated[position] = data.draw(st.integers(0, 255))
        elif action == "delete":
            del mutated[position : position + data.draw(st.integers(1, 40))]
        elif action == "insert":
            mutated[position:position] = data.draw(
                st.sampled_from(
                    [b"\n", b"==========\n", b"---\n", b"> ", b"## Highlights\n", b'"', b"\xef\xbb\xbf", b"- "]
                )
            )
        elif action == "truncate":
            del mutated[position:]
        else:
            mutated[position:position] = mutated[position : position + 200]
    parse_or_refuse(bytes(mutated))
