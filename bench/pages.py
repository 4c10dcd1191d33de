"""The pages the benchmark times, as data, and how one page is measured.

Each page is one line: a name, the URL name, its arguments and its query string, in which
`{placeholders}` are filled from the seeded archive (see `context()` in run.py). If a view's
URL or parameter names change, this list is the one place to follow them.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from bench import text


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    route: str
    args: tuple[str, ...] = ()
    query: dict[str, str] = field(default_factory=dict)

    def url(self, context: dict[str, Any]) -> str:
        from urllib.parse import urlencode

        from django.urls import reverse

        args = [arg.format(**context) for arg in self.args]
        path = reverse(self.route, args=args)
        query = {key: value.format(**context) for key, value in self.query.items()}
        return f"{path}?{urlencode(query)}" if query else path


# fmt: off
PAGES = [
    Page("library-recent-1", "library, recent, page 1", "highlights:library", query={"sort": "recent"}),
    Page("library-recent-500", "library, recent, page 500", "highlights:library", query={"sort": "recent", "page": "500"}),
    Page("library-title-1", "library, by title, page 1", "highlights:library", query={"sort": "title"}),
    Page("library-title-500", "library, by title, page 500", "highlights:library", query={"sort": "title", "page": "500"}),
    Page("library-tag-1", "library, one tag, page 1", "highlights:library", query={"tag": "{tag_name}"}),
    Page("library-tag-500", "library, one tag, page 500", "highlights:library", query={"tag": "{tag_name}", "page": "500"}),
    Page("source-1000", "source of {big_source_highlights} highlights", "archive:source", args=("{big_source}",)),
    Page("author", "author of {busiest_author_sources} sources", "highlights:author", args=("{busiest_author}",)),
    Page("tag-big", "tag on {big_tag_highlights} highlights", "highlights:tag", args=("{big_tag_name}",)),
    Page("search-rare", "search: rare word", "highlights:search", query={"q": text.RARE_WORD}),
    Page("search-common", "search: commonest word", "highlights:search", query={"q": "{common_word}"}),
    Page("search-phrase", "search: phrase", "highlights:search", query={"q": f'"{text.PHRASE}"'}),
    Page("search-exclusion", "search: -exclusion", "highlights:search", query={"q": "{common_word} -{second_word}"}),
    Page("search-chinese", "search: Chinese phrase", "highlights:search", query={"q": text.CHINESE_PHRASE}),
    Page("home", "home page", "highlights:library"),
]
# fmt: on


@dataclass
class Measured:
    page: Page
    url: str = ""
    status: int = 0
    error: str = ""
    queries: int = 0
    statements: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # seconds
    floor: float = 0.0  # seconds: the page's SQL, run alone
    statement_times: list[float] = field(default_factory=list)  # seconds, per statement (0 if not re-run)
    floor_skipped: int = 0  # statements not re-run (writes)
    size: int = 0

    @property
    def ok(self) -> bool:
        return not self.error

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        ordered = sorted(self.times)
        if not ordered:
            return 0.0
        rank = max(1, min(len(ordered), math.ceil(q * len(ordered))))
        return 1000 * ordered[rank - 1]


def measure(client: Any, page: Page, context: dict[str, Any], requests: int, budget: float) -> Measured:
    """Warm up, count the queries once, then time `requests` requests (or as many as fit in `budget`)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch

    result = Measured(page)
    try:
        result.url = page.url(context)
    except NoReverseMatch as error:
        result.error = f"no such URL ({error})"
        return result
    try:
        response = client.get(result.url)
        result.status = response.status_code
        if response.status_code != 200:
            result.error = f"HTTP {response.status_code}"
            return result
        with CaptureQueriesContext(connection) as captured:
            response = client.get(result.url)
        result.size = len(response.content)
        result.queries = len(captured.captured_queries)
        result.statements = [q["sql"] for q in captured.captured_queries]
        deadline = time.perf_counter() + budget
        for _ in range(requests):
            start = time.perf_counter()
            client.get(result.url)
            result.times.append(time.perf_counter() - start)
            if start > deadline:
                break
    except Exception as error:  # a view that fails is a result, not the end of the run
        result.error = f"{type(error).__name__}: {error}"[:300]
    return result


def floor(result: Measured, repeats: int) -> None:
    """The page's SQL statements re-run alone on a raw cursor; the sum of their median times."""
    from django.db import connection

    total = 0.0
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    with raw.cursor() as cursor:
        for statement in result.statements:
            words = statement.lstrip(" \n(").split(None, 1)  # "(SELECT ...) UNION (SELECT ...)" reads
            head = words[0].upper() if words else ""
            if head not in {"SELECT", "WITH"}:
                result.floor_skipped += 1
                result.statement_times.append(0.0)
                continue
            samples = []
            for _ in range(repeats):
                start = time.perf_counter()
                cursor.execute(statement)
                cursor.fetchall()
                samples.append(time.perf_counter() - start)
            result.statement_times.append(statistics.median(samples))
            total += result.statement_times[-1]
    if not raw.autocommit:
        raw.rollback()
    result.floor = total


def explain(result: Measured) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the page's slowest statement, with every statement's time."""
    from django.db import connection

    lines = [f"== {result.page.slug}: {result.url}"]
    for seconds, statement in zip(result.statement_times, result.statements, strict=True):
        lines.append(f"  {1000 * seconds:8.2f} ms  {' '.join(statement.split())[:300]}")
    if not result.statement_times:
        return "\n".join(lines)
    slowest = max(range(len(result.statements)), key=lambda i: result.statement_times[i])
    lines.append(f"-- slowest ({1000 * result.statement_times[slowest]:.1f} ms):")
    lines.append(result.statements[slowest])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + result.statements[slowest])
        lines += [row[0] for row in cursor.fetchall()]
    return "\n".join(lines)
