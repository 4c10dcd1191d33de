"""Search: Postgres full-text search, plus substring matching where full-text search cannot cut words.

Full-text search (English stemming, web-search syntax: `"a phrase"`, `-word`, `or`) finds words in
any language written with spaces between words: German, French, Portuguese words are tokenised
and stemmed the same way in the highlight and in the query, so a word copied from a highlight finds
it. Chinese and Japanese are not written with spaces, so the parser sees a whole run of characters
(up to the next punctuation mark) as one "word", and a word copied from the middle of it matches
nothing. For terms in such scripts the query adds a substring match (`ILIKE`), combined with the
rest of the query as web-search syntax would combine it. On highlights an index of character
pairs (`highlights_cjk_bigrams()`, a GIN expression index) finds the candidates first, so the
substring match never reads the whole table.

The word being typed (the last one, with no space after it yet) is also matched as a prefix, so
live results appear while a word is still half written.

Everything here builds expressions; `highlights.filters` and the QuerySets apply them.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import Lexeme, SearchQuery, SearchQueryField, SearchVectorField
from django.db.models import BooleanField, Expression, F, Func, Lookup, Q, TextField, Value
from django.db.models.functions import Cast
from django.utils.safestring import SafeString, mark_safe

CONFIG = "english"
# ts_headline marks matches with these; private-use characters never met in real text, replaced by
# <mark> only after the snippet has been HTML-escaped.
START, STOP = "\ue000", "\ue001"
MIN_PREFIX = 3

# Scripts written without spaces between words (Han, kana, Hangul, Thai, Lao, Khmer, Myanmar, ...).
# The same class is written into the SQL function highlights_cjk_bigrams (highlights migration
# 0003); a test checks that both agree.
UNSPACED_CLASS = (
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3040-\u30ff"
    "\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0003134f]"
)
_UNSPACED = re.compile(UNSPACED_CLASS)
_UNSPACED_RUN = re.compile(UNSPACED_CLASS + "+")
BIGRAMS_FUNCTION = "highlights_cjk_bigrams"
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+")
_MARKDOWN_LINK = r"!?\[([^]]*)\]\([^)]*\)"


class ILike(Lookup):
    """`lhs ILIKE rhs`. Django's `icontains` compiles to `UPPER(lhs) LIKE UPPER(rhs)`, which a
    trigram index on the bare column cannot serve; ILIKE can."""

    lookup_name = "ilike"
    prepare_rhs = False

    def as_sql(self, compiler, connection):  # type: ignore[no-untyped-def]
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ILIKE {rhs}", (*lhs_params, *rhs_params)


class AnyOf(Lookup):
    """`lhs = ANY(rhs)`, rhs a list sent as one array parameter: unlike IN with a thousand
    placeholders, the statement stays short and cheap to plan."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):  # type: ignore[no-untyped-def]
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", (*lhs_params, *rhs_params)


def contains_pattern(term: str) -> str:
    """An ILIKE pattern matching `term` anywhere, with LIKE's wildcards taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class Term:
    text: str
    negated: bool = False
    phrase: bool = False


@dataclass
class ParsedQuery:
    """A query as web-search syntax reads it: alternatives (split by `or`), each a conjunction."""

    raw: str
    alternatives: list[list[Term]] = field(default_factory=list)
    last_start: int = 0  # where the last alternative begins in `raw`

    @property
    def terms(self) -> list[Term]:
        return [term for alternative in self.alternatives for term in alternative]

    @property
    def positive_terms(self) -> list[str]:
        return [term.text for term in self.terms if not term.negated]

    @property
    def needs_substring(self) -> bool:
        """True when a term is in a script full-text search cannot cut into words."""
        return any(_UNSPACED.search(term.text) for term in self.terms if not term.negated)

    @property
    def prefix_word(self) -> str:
        """The last word, still being typed (no space after it): matched as a prefix too."""
        if not self.alternatives or not self.alternatives[-1] or self.raw != self.raw.rstrip():
            return ""
        last = self.alternatives[-1][-1]
        if last.negated or last.phrase or len(last.text) < MIN_PREFIX or _UNSPACED.search(last.text):
            return ""
        return last.text if _WORD.fullmatch(last.text) else ""

    def __bool__(self) -> bool:
        return bool(self.terms)


def parse(q: str) -> ParsedQuery:
    parsed = ParsedQuery(raw=q)
    current: list[Term] = []
    for match in _TOKEN.finditer(q):
        negated, phrase, word = match.group(1) == "-", match.group(2), match.group(3)
        if word is not None and word.lower() == "or":
            if current:
                parsed.alternatives.append(current)
                current = []
                parsed.last_start = match.end()
            continue
        if phrase is not None:
            text = " ".join(phrase.split())
            if text:
                current.append(Term(text, negated=negated, phrase=True))
            continue
        assert word is not None
        if word.startswith("-") and len(word) > 1:
            current.append(Term(word[1:], negated=True))
        elif word.strip("-"):
            current.append(Term(word))
    if current:
        parsed.alternatives.append(current)
    return parsed


def fts_query(parsed: ParsedQuery) -> SearchQuery:
    """The full-text query: web-search syntax, or'ed with the last alternative in which the word
    being typed is matched as a prefix ("kafka or philos" also finds "philosophy")."""
    query = SearchQuery(parsed.raw, search_type="websearch", config=CONFIG)
    if word := parsed.prefix_word:
        before = parsed.raw.rstrip()[parsed.last_start : -len(word)]
        prefix = SearchQuery(Lexeme(word, prefix=True), config=CONFIG)
        if before.strip():
            prefix = SearchQuery(before, search_type="websearch", config=CONFIG) & prefix
        query = query | prefix
    return query


def cjk_bigrams(*fields: str) -> Func:
    """The character pairs of the unspaced-script runs in `fields`, as a tsvector (in SQL)."""
    return Func(*(F(name) for name in fields), function=BIGRAMS_FUNCTION, output_field=SearchVectorField())


def unspaced_rows(*fields: str) -> Q:
    """Rows with a character of an unspaced script in one of `fields`: the only rows the bigram
    index holds. Nearly every highlight has none, and it costs such a row one regular expression
    to be left out instead of a bigram function and an index entry. A query must state this
    condition too for Postgres to use that (partial) index."""
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{name}__regex": UNSPACED_CLASS})
    return condition


def bigram_query(term: str) -> str:
    """A tsquery (as text) that every text containing `term` matches in `cjk_bigrams`.

    Each pair of neighbouring characters must be present; a lone character matches as the
    start of a pair. Lexemes are quoted, so no character of the term is read as an operator.
    """
    lexemes = []
    for run in _UNSPACED_RUN.findall(term):
        if len(run) == 1:
            lexemes.append(_quote_lexeme(run) + ":*")
        else:
            lexemes.extend(_quote_lexeme(run[i : i + 2]) for i in range(len(run) - 1))
    return " & ".join(dict.fromkeys(lexemes))


def _quote_lexeme(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def substring_condition(parsed: ParsedQuery, fields: list[Expression | str], bigrams: tuple[str, ...] = ()) -> Q | None:
    """The web-search meaning of the query, for alternatives with a term in an unspaced script,
    with every term matched as a substring (ILIKE) of one of `fields`.

    Alternatives without such a term are left to full-text search, which is better (stemming,
    ranking) and cheaper. With `bigrams` (the fields of an index of `cjk_bigrams` on
    `unspaced_rows`) each such term must also match the index of character pairs, which is what
    lets Postgres find candidates without reading every row; ILIKE then checks them.
    """
    condition = None
    for alternative in parsed.alternatives:
        unspaced = [term for term in alternative if not term.negated and _UNSPACED.search(term.text)]
        if not unspaced:
            continue
        conjunction = Q()
        if bigrams:
            conjunction &= unspaced_rows(*bigrams)
            for term in unspaced:
                conjunction &= Q(_matches(cjk_bigrams(*bigrams), bigram_query(term.text)))
        for term in alternative:
            pattern = Value(contains_pattern(term.text))
            anywhere = Q()
            for name in fields:
                anywhere |= Q(ILike(F(name) if isinstance(name, str) else name, pattern))
            conjunction &= ~anywhere if term.negated else anywhere
        condition = conjunction if condition is None else condition | conjunction
    return condition


def _matches(vector: Func, tsquery: str) -> Func:
    query = Cast(Value(tsquery), output_field=SearchQueryField())
    return Func(vector, query, template="%(expressions)s", arg_joiner=" @@ ", output_field=BooleanField())


# ts_headline drops anything that looks like an HTML tag ("List<String>" loses "<String>"), so
# angle brackets travel to it as stand-ins and are put back in `snippet`.
_LT, _GT = "\ue002", "\ue003"


def headline_source(expression: Expression | str) -> Func:
    """The text to cut a snippet from (in SQL): Markdown links and images reduced to their
    words, angle brackets replaced by stand-ins."""
    source = F(expression) if isinstance(expression, str) else expression
    plain = Func(
        source,
        Value(_MARKDOWN_LINK),
        Value(r"\1"),
        Value("g"),
        function="regexp_replace",
        output_field=TextField(),
    )
    return Func(plain, Value("<>"), Value(_LT + _GT), function="translate", output_field=TextField())


def _plain_markdown(text: str) -> str:
    return re.sub(_MARKDOWN_LINK, r"\1", text)


SNIPPET_CHARS = 240


def snippet(headline: str, text: str, terms: list[str]) -> SafeString:
    """An HTML-safe snippet: the headline with its matches in <mark>, escaped everywhere else.

    When full-text search marked nothing (a substring match in an unspaced script), the snippet
    is cut from the text around the first term found, with every term marked.
    """
    terms = [term for term in terms if term]
    headline = headline.replace(_LT, "<").replace(_GT, ">")
    plain = _plain_markdown(text).strip()
    if START not in headline and terms:
        pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
        if found := pattern.search(plain):
            start = max(0, found.start() - SNIPPET_CHARS // 3)
            window = pattern.sub(lambda m: f"{START}{m.group(0)}{STOP}", plain[start : start + SNIPPET_CHARS])
            ellipsis_after = "…" if start + SNIPPET_CHARS < len(plain) else ""
            return _to_html(("…" if start else "") + window + ellipsis_after)
    # ts_headline cuts a fragment out of a long text without saying so: show where it was cut.
    bare = " ".join(headline.replace(START, "").replace(STOP, "").split())
    plain = " ".join(plain.split())
    if bare and not plain.startswith(bare[:40]):
        headline = "… " + headline.lstrip()
    if bare and not plain.endswith(bare[-40:]):
        headline = headline.rstrip() + " …"
    return _to_html(headline)


def _to_html(marked: str) -> SafeString:
    parts = re.split(f"({START}[^{START}{STOP}]*{STOP})", marked)
    out = []
    for part in parts:
        if part.startswith(START) and part.endswith(STOP):
            out.append(f"<mark>{html.escape(part[1:-1])}</mark>")
        else:
            out.append(html.escape(part.replace(START, "").replace(STOP, "")))
    return mark_safe("".join(out))  # noqa: S308 - every piece escaped just above


def has_mark(headline: str) -> bool:
    return START in headline
