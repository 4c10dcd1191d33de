"""Synthetic highlight text: word salad with the shape of real reading highlights.

The vocabularies (`words-<lang>.txt`, most frequent first) were counted from the real export
samples (English and German highlights; Chinese as two-character chunks of the Chinese Kindle
sample); the French list is a hand-written list of common words. Words are drawn with Zipf
weights (rank r has weight 1/(r + 1)), which is what makes the most frequent word that is not a
stop word ("people") turn up in about a tenth of all highlights, as it does in the samples.
Lengths follow the samples too: a median of about 180 characters, a long tail to ~1,000.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Share of highlights per language, as in a mostly English reader's archive.
LANGUAGES = {"en": 0.85, "de": 0.06, "fr": 0.05, "zh": 0.04}

# Planted so that searches have something known to find.
RARE_WORD = "quincunx"  # in a handful of highlights
PHRASE = "deliberate practice"  # in about 0.1% of highlights
CHINESE_PHRASE = "读书笔记"  # in about 2% of Chinese highlights


@dataclass(frozen=True)
class Vocabulary:
    words: list[str]
    cum_weights: list[float]
    spaced: bool  # words separated by spaces (not Chinese)


@cache
def vocabulary(language: str) -> Vocabulary:
    words = (HERE / f"words-{language}.txt").read_text(encoding="utf-8").split()
    cum = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(words))))
    return Vocabulary(words, cum, spaced=language != "zh")


def token_count(rng: random.Random, language: str, median: float = 30.0) -> int:
    """How many words a highlight has: log-normal, like the samples (median ~180 characters)."""
    if language == "zh":
        median = 28.0  # two-character words: ~55 characters, as in the Chinese sample
    return max(3, min(400, round(rng.lognormvariate(math.log(median), 0.75))))


def words(rng: random.Random, language: str, count: int) -> list[str]:
    vocab = vocabulary(language)
    return rng.choices(vocab.words, cum_weights=vocab.cum_weights, k=count)


def sentences(rng: random.Random, language: str, tokens: list[str]) -> str:
    """Tokens as sentences: capitalised, with the odd comma, full stops at the ends."""
    vocab = vocabulary(language)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        size = min(len(tokens) - i, rng.randint(6, 20))
        part = tokens[i : i + size]
        i += size
        if vocab.spaced:
            part[0] = part[0][:1].upper() + part[0][1:]
            if size > 8:
                cut = rng.randint(3, size - 3)
                part[cut] += ","
            out.append(" ".join(part) + ".")
        else:
            if size > 8:
                cut = rng.randint(3, size - 3)
                part[cut] += "，"
            out.append("".join(part) + "。")
    return (" " if vocab.spaced else "").join(out)


def highlight_text(rng: random.Random, language: str, planted: tuple[str, ...] = ()) -> str:
    tokens = words(rng, language, token_count(rng, language))
    for item in planted:
        tokens.insert(rng.randrange(len(tokens) + 1), item)
    return sentences(rng, language, tokens)


def note_text(rng: random.Random, language: str) -> str:
    return sentences(rng, language, words(rng, language, rng.randint(4, 30)))


def title(rng: random.Random, language: str) -> str:
    """A title of two to eight words, log-uniform over the vocabulary past its commonest words."""
    vocab = vocabulary(language)
    count = rng.randint(2, 4) if language == "zh" else rng.randint(2, 8)
    low, high = math.log(30), math.log(len(vocab.words))
    picked = [vocab.words[int(math.exp(rng.uniform(low, high)))] for _ in range(count)]
    if not vocab.spaced:
        return "".join(picked)
    return " ".join(word[:1].upper() + word[1:] for word in picked)
