"""Seed a large synthetic archive with Postgres COPY, not the ORM.

`seed(scale)` fills the (empty, migrated) bench database with one user's archive: by default
1,000,000 highlights in 50,000 sources by 10,000 authors, 2,000 tags on 10% of the highlights,
notes on 5%, one source of 1,000 highlights and one tag on 20,000 (at scale). Everything comes
from one fixed random seed, so every run builds the same archive.

How it is fast: the secondary indexes and the unique and foreign-key constraints of the tables
being filled are dropped first and rebuilt after the load (a GIN index built in one pass is many
times faster than one grown row by row), and the highlights are generated and copied by
several processes at once, each on its own connection. Columns are found from the models, so a
field added later either gets its default or stops the seed with a message naming it. Triggers
stay on: the app's counts (a source's and a tag's highlights, a tag's sources) are kept by
statement-level triggers, which fire once per COPY and so cost little, and whatever the triggers
of a later migration maintain is right without the seed knowing about it.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import random
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

import psycopg
from psycopg import sql

from bench import text

SEED = 20240229
EPOCH = dt.datetime(2016, 1, 1, tzinfo=dt.UTC)
YEARS = 10

CATEGORIES = {  # category: (share of sources, relative number of highlights, origin)
    "articles": (0.45, 1.0, "reader"),
    "books": (0.30, 2.5, "kindle"),
    "tweets": (0.12, 0.12, "twitter"),
    "podcasts": (0.05, 0.8, "airr"),
    "pdfs": (0.04, 1.5, "reader"),
    "videos": (0.02, 0.6, "reader"),
    "emails": (0.01, 0.5, "reader"),
    "supplementals": (0.01, 0.5, "readwise"),
}
_FIRST = (
    "Ada Alan Anna Ben Carla Chen Clara Daniel Dora Elena Emil Eva Farah Felix Grace Hannah Hugo Ines Ivan "
    "Jana Jonas Julia Karl Kenji Laura Lea Leon Lina Louis Maya Marta Max Mei Nadia Nina Noah Olga Omar Oscar "
    "Paul Priya Rosa Ruth Sara Simon Sofia Tom Uma Vera Wei Yara Yusuf Zoe Amara Bruno Chiara Dmitri Esther"
)
_LAST = (
    "Abbott Bauer Becker Brandt Chang Costa Dubois Eriksen Fischer Garcia Haas Hoffmann Ito Jensen Kaur Keller "
    "Klein Kowalski Lambert Larsen Lehmann Li Lopez Martin Meyer Moreau Müller Nakamura Novak Okafor Olsen "
    "Park Petit Quinn Richter Rossi Roux Sato Schmidt Schulz Silva Singh Sousa Tanaka Thomas Vogel Wagner "
    "Walker Wang Weber Wolf Wright Yamamoto Young Zhang Zimmermann Adler Baker Carter Dalton Ellis Fontaine"
)
FIRST_NAMES, LAST_NAMES = _FIRST.split(), _LAST.split()


@dataclass(frozen=True)
class Sizes:
    highlights: int
    sources: int
    authors: int
    tags: int
    big_source: int  # the highlights of the one large source (a long book)
    big_tag: int  # the highlights of the one large tag
    tagged: int  # highlights with at least one tag
    noted: int  # highlights with a note
    rare: int  # highlights holding the rare word

    @classmethod
    def at(cls, scale: float) -> Sizes:
        highlights = max(200, round(1_000_000 * scale))
        tagged = round(highlights * 0.10)
        return cls(
            highlights=highlights,
            sources=max(10, round(50_000 * scale)),
            authors=max(5, round(10_000 * scale)),
            tags=max(3, round(2_000 * scale)),
            big_source=min(1_000, highlights * 2 // 5),
            big_tag=min(max(10, round(20_000 * scale)), tagged // 2),
            tagged=tagged,
            noted=round(highlights * 0.05),
            rare=max(3, round(5 * math.sqrt(scale))),
        )


@dataclass
class SourcePlan:
    id: int
    language: str
    category: str
    count: int  # highlights
    first_highlight: int  # id of its first highlight; the others follow
    saved_at: dt.datetime
    first_read: dt.datetime
    span: dt.timedelta  # first highlight to last
    dated: bool  # do its highlights carry a highlighted-at (Kindle clippings without dates do not)
    title: str = ""
    author_ids: list[int] = field(default_factory=list)

    @property
    def last_highlighted_at(self) -> dt.datetime:
        return self.first_read + self.span if self.dated else self.saved_at


@dataclass
class Plan:
    """Everything decided before any highlight text is written."""

    sizes: Sizes
    user_id: int
    sources: list[SourcePlan]
    authors: list[tuple[int, str]]
    tags: list[tuple[int, str]]
    big_source: int
    big_tag: int
    busiest_author: int
    big_tag_highlights: set[int]
    planted: dict[int, tuple[str, ...]]  # highlight id: words to put in its text
    trashed: set[int]


@dataclass
class Seeded:
    """What the benchmark needs to know about the archive it measures."""

    user_id: int
    highlights: int
    sources: int
    authors: int
    tags: int
    big_source: int
    big_source_highlights: int
    big_tag: int
    big_tag_name: str
    big_tag_highlights: int
    busiest_author: int
    busiest_author_sources: int
    typical_sources: list[int]
    tag_links: int
    seconds: float
    steps: dict[str, float]


def _spread(rng: random.Random, weights: Sequence[float], total: int, cap: int) -> list[int]:
    """Split `total` into whole parts of at least 1 and at most `cap`, roughly by weight."""
    whole = sum(weights)
    counts = [min(cap, max(1, int(w / whole * total))) for w in weights]
    diff = total - sum(counts)
    while diff:
        i = rng.randrange(len(counts))
        if diff > 0 and counts[i] < cap:
            counts[i] += 1
            diff -= 1
        elif diff < 0 and counts[i] > 1:
            counts[i] -= 1
            diff += 1
    return counts


def _zipf_cum(n: int, s: float = 1.0, offset: float = 1.0) -> list[float]:
    total = 0.0
    out = []
    for rank in range(n):
        total += 1.0 / (rank + offset) ** s
        out.append(total)
    return out


def make_plan(sizes: Sizes, user_id: int) -> Plan:
    from archive.formats.document import Document
    from archive.importing import source_identity

    rng = random.Random(SEED)
    # Authors: unique names; a few prolific ones (Zipf-Mandelbrot popularity).
    authors: list[tuple[int, str]] = []
    for i in range(sizes.authors):
        first = FIRST_NAMES[i % len(FIRST_NAMES)]
        last = LAST_NAMES[(i // len(FIRST_NAMES)) % len(LAST_NAMES)]
        middle = i // (len(FIRST_NAMES) * len(LAST_NAMES))
        name = f"{first} {chr(65 + middle % 26)}. {last}" if middle else f"{first} {last}"
        if middle >= 26:
            name += f" {middle // 26 + 1}"
        authors.append((i + 1, name))
    rng.shuffle(authors)
    authors = [(i + 1, name) for i, (_, name) in enumerate(authors)]
    author_cum = _zipf_cum(len(authors), s=1.0, offset=20.0)

    languages = list(text.LANGUAGES)
    language_cum = list(_accumulate(text.LANGUAGES.values()))
    categories = list(CATEGORIES)
    category_cum = list(_accumulate(share for share, _, _ in CATEGORIES.values()))

    big_source = rng.randrange(1, sizes.sources + 1)
    specs: list[tuple[str, str]] = []
    weights: list[float] = []
    for sid in range(1, sizes.sources + 1):
        language = rng.choices(languages, cum_weights=language_cum)[0]
        category = "books" if sid == big_source else rng.choices(categories, cum_weights=category_cum)[0]
        if sid == big_source:
            language = "en"
        specs.append((language, category))
        weights.append(CATEGORIES[category][1] * rng.lognormvariate(0, 1.0) if sid != big_source else 0.0)
    counts = _spread(
        rng,
        [w for sid, w in enumerate(weights, 1) if sid != big_source],
        sizes.highlights - sizes.big_source,
        cap=max(1, sizes.big_source - 1),
    )
    counts.insert(big_source - 1, sizes.big_source)

    sources: list[SourcePlan] = []
    next_highlight = 1
    identities: set[str] = set()
    ten_years = YEARS * 365 * 86400
    for sid, ((language, category), count) in enumerate(zip(specs, counts, strict=True), 1):
        saved = EPOCH + dt.timedelta(seconds=rng.randrange(ten_years))
        first_read = saved + dt.timedelta(seconds=rng.randrange(30 * 86400))
        span = dt.timedelta(seconds=rng.randrange(1, 60 * 86400)) if count > 1 else dt.timedelta(0)
        plan = SourcePlan(
            id=sid,
            language=language,
            category=category,
            count=count,
            first_highlight=next_highlight,
            saved_at=saved,
            first_read=first_read,
            span=span,
            dated=rng.random() > 0.05,
        )
        n_authors = 1 if rng.random() < 0.85 else (2 if rng.random() < 0.8 else 3)
        plan.author_ids = list(dict.fromkeys(authors[i][0] for i in _indexes(rng, author_cum, len(authors), n_authors)))
        names = [authors[a - 1][1] for a in plan.author_ids]
        for attempt in range(100):
            plan.title = text.title(rng, language) + (f" ({attempt + 1})" if attempt else "")
            identity = source_identity(Document(title=plan.title, author=author_text(names)))
            if identity not in identities:
                identities.add(identity)
                break
        sources.append(plan)
        next_highlight += count

    sources_of: dict[int, int] = {}
    for plan in sources:
        for a in plan.author_ids:
            sources_of[a] = sources_of.get(a, 0) + 1
    busiest_author = max(sources_of, key=lambda a: (sources_of[a], -a))

    tags: list[tuple[int, str]] = []
    seen_tags: set[str] = set()
    vocab = text.vocabulary("en").words
    tid = 0
    while len(tags) < sizes.tags:
        tid += 1
        if tid == 1:
            name = "to-review"
        else:
            word = vocab[30 + (tid * 7919) % (len(vocab) - 30)]
            name = word if tid % 3 else f"{word}-{vocab[30 + (tid * 104729) % (len(vocab) - 30)]}"
        if name.casefold() not in seen_tags:
            seen_tags.add(name.casefold())
            tags.append((len(tags) + 1, name))
    big_tag = 1

    total = sizes.highlights
    big_source_plan = sources[big_source - 1]
    big_source_ids = set(
        range(big_source_plan.first_highlight, big_source_plan.first_highlight + big_source_plan.count)
    )
    big_tag_highlights = set(rng.sample(range(1, total + 1), sizes.big_tag))
    protected = big_source_ids | big_tag_highlights
    trashed = {h for h in rng.sample(range(1, total + 1), max(1, total // 300)) if h not in protected}

    english = [p for p in sources if p.language == "en" and p.id != big_source]
    chinese = [p for p in sources if p.language == "zh"]
    planted: dict[int, tuple[str, ...]] = {}

    def plant(pool: list[SourcePlan], word: str, how_many: int) -> None:
        if not pool:
            return
        for _ in range(how_many):
            plan = rng.choice(pool)
            hid = plan.first_highlight + rng.randrange(plan.count)
            if hid not in trashed:
                planted[hid] = (*planted.get(hid, ()), word)

    plant(english, text.RARE_WORD, sizes.rare)
    plant(english, text.PHRASE, max(3, total // 1000))
    chinese_highlights = sum(p.count for p in chinese)
    plant(chinese, text.CHINESE_PHRASE, max(3, chinese_highlights // 50))
    return Plan(
        sizes=sizes,
        user_id=user_id,
        sources=sources,
        authors=authors,
        tags=tags,
        big_source=big_source,
        big_tag=big_tag,
        busiest_author=busiest_author,
        big_tag_highlights=big_tag_highlights,
        planted=planted,
        trashed=trashed,
    )


def _accumulate(values: Iterable[float]) -> Iterable[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def _indexes(rng: random.Random, cum: list[float], n: int, k: int) -> list[int]:
    return [rng.choices(range(n), cum_weights=cum)[0] for _ in range(k)]


def author_text(names: list[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + ", and " + names[-1]


# --- writing rows -------------------------------------------------------------------------


class Table:
    """COPY rows into a model's table: the columns named, every other column's default."""

    def __init__(self, model: Any, attnames: Sequence[str]) -> None:
        from django.db import connection, models

        self.table = model._meta.db_table
        fields = {f.attname: f for f in model._meta.concrete_fields if not f.generated}
        self.attnames = [a for a in attnames if a in fields]
        self.positions = [i for i, a in enumerate(attnames) if a in fields]
        self.columns = [fields[a].column for a in self.attnames]
        self.constants: list[Any] = []
        for attname, f in fields.items():
            if attname in attnames:
                continue
            if f.has_db_default():
                continue
            if f.has_default():
                self.columns.append(f.column)
                self.constants.append(f.get_db_prep_save(f.get_default(), connection))
            elif not f.null and not isinstance(f, models.AutoField):
                raise RuntimeError(
                    f"bench/seed.py does not know how to fill {self.table}.{f.column}: add it to the seed"
                )
        self.trivial = self.positions == list(range(len(attnames)))

    def copy(self, cursor: psycopg.Cursor[Any], rows: Iterable[Sequence[Any]]) -> int:
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(self.table), sql.SQL(", ").join(map(sql.Identifier, self.columns))
        )
        count = 0
        constants = tuple(self.constants)
        with cursor.copy(statement) as copy:
            for row in rows:
                if not self.trivial:
                    row = [row[i] for i in self.positions]
                copy.write_row((*row, *constants) if constants else row)
                count += 1
        return count


HIGHLIGHT_COLUMNS = (
    "id",
    "user_id",
    "source_id",
    "position",
    "text",
    "note",
    "location",
    "location_kind",
    "page",
    "url",
    "external_id",
    "color",
    "highlighted_at",
    "favorite",
    "fingerprint",
    "created_at",
    "updated_at",
    "edited_at",
    "deleted_at",
)
COLOURS = ("yellow", "blue", "pink", "orange")


def _worker_init() -> None:
    import django

    django.setup()


def write_highlights(dsn: str, plan: Plan, chunk: list[SourcePlan], chunk_no: int) -> tuple[int, int]:
    """Generate and COPY the highlights (and their tags) of some sources; runs in a worker."""
    from highlights.models import Highlight, fingerprint

    rng = random.Random(SEED * 1000 + chunk_no)
    highlights = Table(Highlight, HIGHLIGHT_COLUMNS)
    through = Table(Highlight.tags.through, ("highlight_id", "tag_id"))
    sizes = plan.sizes
    # Tags: the big tag on its chosen highlights, the others (Zipf) on the rest of the tagged tenth.
    other_tagged = max(0, sizes.tagged - sizes.big_tag) / max(1, sizes.highlights - sizes.big_tag)
    tag_ids = [t for t, _ in plan.tags if t != plan.big_tag] or [plan.big_tag]
    tag_cum = _zipf_cum(len(tag_ids), s=0.9, offset=3.0)
    note_share = sizes.noted / sizes.highlights
    links: list[tuple[int, int]] = []
    user = plan.user_id

    def rows() -> Iterable[tuple[Any, ...]]:
        for source in chunk:
            seen: set[str] = set()
            created = source.last_highlighted_at + dt.timedelta(hours=rng.randrange(1, 24 * 30))
            location = rng.randrange(10, 200)
            for position in range(source.count):
                hid = source.first_highlight + position
                while True:
                    body = text.highlight_text(rng, source.language, plan.planted.get(hid, ()))
                    print_ = fingerprint(body)
                    if print_ not in seen:
                        seen.add(print_)
                        break
                note = text.note_text(rng, source.language) if rng.random() < note_share else ""
                if source.category in ("books", "pdfs"):
                    location += rng.randrange(1, 60)
                    kind, loc, url = "location", str(location), ""
                elif source.category in ("podcasts", "videos"):
                    location += rng.randrange(5, 300)
                    kind, loc, url = "time", str(dt.timedelta(seconds=location)), ""
                else:
                    kind, loc, url = "", "", f"https://read.readwise.io/read/{hid:x}"
                if source.dated:
                    last = position == source.count - 1
                    frac = 1.0 if last else min(0.999, (position + rng.random()) / source.count)
                    when: dt.datetime | None = source.first_read + source.span * frac
                else:
                    when = None
                edited = created + dt.timedelta(days=rng.randrange(1, 400)) if rng.random() < 0.01 else None
                yield (
                    hid,
                    user,
                    source.id,
                    position,
                    body,
                    note,
                    loc,
                    kind,
                    "",
                    url,
                    str(600_000_000 + hid) if source.category == "articles" else "",
                    rng.choice(COLOURS) if rng.random() < 0.1 else "",
                    when,
                    rng.random() < 0.02,
                    print_,
                    created,
                    edited or created,
                    edited,
                    created + dt.timedelta(days=30) if hid in plan.trashed else None,
                )
                if hid in plan.big_tag_highlights:
                    links.append((hid, plan.big_tag))
                    if rng.random() < 0.3:
                        links.append((hid, tag_ids[_indexes(rng, tag_cum, len(tag_ids), 1)[0]]))
                elif rng.random() < other_tagged:
                    for i in set(_indexes(rng, tag_cum, len(tag_ids), rng.choice((1, 1, 1, 2, 3)))):
                        links.append((hid, tag_ids[i]))

    with psycopg.connect(dsn, autocommit=False) as conn, conn.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        count = highlights.copy(cursor, rows())
        through.copy(cursor, links)
        conn.commit()
    return count, len(links)


# --- the seed -----------------------------------------------------------------------------


def _secondary(cursor: psycopg.Cursor[Any], table: str) -> tuple[list[str], list[str], list[str]]:
    """Drop a table's secondary indexes, unique and foreign-key constraints; return how to rebuild them.

    Three lists: index builds (unique constraints' indexes among them; they can run side by
    side), statements that turn those indexes back into constraints, and the foreign keys.
    """
    cursor.execute(
        """
        SELECT conname, pg_get_constraintdef(oid), contype, pg_get_indexdef(conindid) FROM pg_constraint
        WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC, conname
        """,
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
        WHERE indrelid = %s::regclass AND NOT indisprimary
          AND indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE conrelid = %s::regclass)
        """,
        [table, table],
    )
    indexes = cursor.fetchall()
    builds = [definition for _, definition in indexes]
    attach: list[str] = []
    keys: list[str] = []
    for name, definition, kind, index in constraints:
        alter = sql.SQL("ALTER TABLE {} ").format(sql.Identifier(table)).as_string(cursor)
        constraint = sql.Identifier(name).as_string(cursor)
        cursor.execute(f"{alter} DROP CONSTRAINT {constraint}")  # type: ignore[arg-type]
        if kind == "u":
            builds.append(index)
            attach.append(f"{alter} ADD CONSTRAINT {constraint} UNIQUE USING INDEX {constraint}")
        else:
            keys.append(f"{alter} ADD CONSTRAINT {constraint} {definition} NOT VALID")
            keys.append(f"{alter} VALIDATE CONSTRAINT {constraint}")
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")  # type: ignore[arg-type]
    return builds, attach, keys


def _run_all(dsn: str, groups: list[list[str]], jobs: int) -> None:
    """Run groups of statements side by side on `jobs` connections, each group in order."""

    def run(statements: list[str]) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '512MB'")
            for statement in statements:
                conn.execute(statement)  # type: ignore[arg-type]

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(run, groups))


def seed(dsn: str, scale: float, user_id: int, jobs: int = 2, say: Any = print) -> Seeded:
    from archive.models import Author, Source, SourceAuthor
    from highlights.models import Highlight, Tag

    started = time.perf_counter()
    steps: dict[str, float] = {}
    sizes = Sizes.at(scale)
    plan = make_plan(sizes, user_id)
    steps["plan"] = time.perf_counter() - started
    live = live_counts(plan)

    tables = [
        Highlight._meta.db_table,
        Highlight.tags.through._meta.db_table,
        Source._meta.db_table,
        SourceAuthor._meta.db_table,
        Tag.sources.through._meta.db_table,
        Author._meta.db_table,
        Tag._meta.db_table,
    ]
    builds: list[str] = []
    attach: list[str] = []
    keys: dict[str, list[str]] = {}
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cursor:
        for table in tables:
            b, a, k = _secondary(cursor, table)
            builds += b
            attach += a
            keys[table] = k

        mark = time.perf_counter()
        Table(Author, ("id", "user_id", "name", "key")).copy(
            cursor,
            ((aid, user_id, name, _key(name)) for aid, name in plan.authors),
        )
        Table(Tag, ("id", "user_id", "name", "created_at")).copy(
            cursor, ((tid, user_id, name, EPOCH) for tid, name in plan.tags)
        )
        rng = random.Random(SEED + 1)
        source_rows = []
        for s in plan.sources:
            url = "" if s.category in ("books", "pdfs") else f"https://example.org/{s.category}/{s.id}"
            names = [plan.authors[a - 1][1] for a in s.author_ids]
            identity = f"url:{url}" if url else _identity(s.title, author_text(names))
            created = s.last_highlighted_at + dt.timedelta(hours=1)
            source_rows.append(
                (
                    s.id,
                    user_id,
                    s.title,
                    "",
                    author_text(names),
                    url,
                    s.category,
                    CATEGORIES[s.category][2],
                    f"https://images.example.org/covers/{s.id}.jpg" if s.category == "books" else "",
                    s.saved_at,
                    (s.saved_at - dt.timedelta(days=rng.randrange(0, 3000))).date() if rng.random() < 0.5 else None,
                    text.note_text(rng, s.language) if rng.random() < 0.02 else "",
                    text.note_text(rng, s.language) if s.category == "articles" and rng.random() < 0.2 else "",
                    str(10_000_000 + s.id),
                    identity,
                    s.last_highlighted_at,
                    created,
                    created,
                )
            )
        Table(
            Source,
            (
                "id",
                "user_id",
                "title",
                "display_title",
                "author_text",
                "url",
                "category",
                "origin",
                "cover_url",
                "saved_at",
                "published_on",
                "note",
                "summary",
                "external_id",
                "identity",
                "last_highlighted_at",
                "created_at",
                "updated_at",
            ),
        ).copy(cursor, source_rows)
        Table(SourceAuthor, ("source_id", "author_id", "position")).copy(
            cursor, ((s.id, a, i) for s in plan.sources for i, a in enumerate(s.author_ids))
        )
        source_tags = {
            (rng.choice(plan.tags)[0], s.id)
            for s in plan.sources
            if rng.random() < 0.1
            for _ in range(rng.randint(1, 2))
        }
        Table(Tag.sources.through, ("tag_id", "source_id")).copy(cursor, sorted(source_tags))
        steps["copy small tables"] = time.perf_counter() - mark

        mark = time.perf_counter()
        chunks = _chunks(plan.sources, max(jobs * 4, 1))
        slim = Plan(**{**plan.__dict__, "sources": []})  # workers get their own sources only
        say(f"  generating and copying {sizes.highlights:,} highlights with {jobs} processes")
        if jobs > 1 and sizes.highlights >= 50_000:  # below that, starting processes costs more
            with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=_worker_init) as pool:
                results = list(
                    pool.map(write_highlights, [dsn] * len(chunks), [slim] * len(chunks), chunks, range(len(chunks)))
                )
        else:
            results = [write_highlights(dsn, slim, chunk, i) for i, chunk in enumerate(chunks)]
        links = sum(r[1] for r in results)
        steps["copy highlights"] = time.perf_counter() - mark

        mark = time.perf_counter()
        say(f"  rebuilding {len(builds)} indexes, {len(attach)} unique constraints, the foreign keys")
        big_first = sorted(builds, key=lambda s: ("gin" not in s.lower(), s))
        _run_all(dsn, [[b] for b in big_first], jobs)
        for statement in attach + [k for group in keys.values() for k in group if "NOT VALID" in k]:
            cursor.execute(statement)  # type: ignore[arg-type]
        validate = [[k for k in group if "NOT VALID" not in k] for group in keys.values()]
        _run_all(dsn, [g for g in validate if g], jobs)
        steps["indexes"] = time.perf_counter() - mark

        mark = time.perf_counter()
        for table in tables:
            cursor.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({t}, 'id'), coalesce(max(id), 0) + 1, false) FROM {i}"
                ).format(t=sql.Literal(table), i=sql.Identifier(table))
            )
        say("  VACUUM ANALYZE")
        _run_all(dsn, [[f'VACUUM (ANALYZE) "{t}"'] for t in tables], jobs)
        steps["vacuum analyze"] = time.perf_counter() - mark

    return describe(plan, live, links, time.perf_counter() - started, steps)


def live_counts(plan: Plan) -> list[int]:
    """Live (not trashed) highlights per source id."""
    live = [0] * (len(plan.sources) + 1)
    for source in plan.sources:
        live[source.id] = source.count
    for hid in plan.trashed:
        live[_source_of(plan, hid)] -= 1
    return live


def describe(plan: Plan, live: list[int], links: int, seconds: float, steps: dict[str, float]) -> Seeded:
    sources_per_author: dict[int, int] = {}
    for s in plan.sources:
        for a in s.author_ids:
            sources_per_author[a] = sources_per_author.get(a, 0) + 1
    typical_rng = random.Random(SEED + 2)
    typical = [s.id for s in plan.sources if 5 <= s.count <= 60 and s.id != plan.big_source]
    sizes = plan.sizes
    return Seeded(
        user_id=plan.user_id,
        highlights=sizes.highlights,
        sources=sizes.sources,
        authors=sizes.authors,
        tags=sizes.tags,
        big_source=plan.big_source,
        big_source_highlights=live[plan.big_source],
        big_tag=plan.big_tag,
        big_tag_name=plan.tags[plan.big_tag - 1][1],
        big_tag_highlights=len(plan.big_tag_highlights),
        busiest_author=plan.busiest_author,
        busiest_author_sources=sources_per_author[plan.busiest_author],
        typical_sources=typical_rng.sample(typical, min(len(typical), 200)) or [plan.big_source],
        tag_links=links,
        seconds=seconds,
        steps=steps,
    )


def already_seeded(scale: float, user_id: int) -> Seeded:
    """What an earlier `seed()` at this scale wrote (the plan is the same every time), without writing."""
    plan = make_plan(Sizes.at(scale), user_id)
    return describe(plan, live_counts(plan), 0, 0.0, {})


def _source_of(plan: Plan, hid: int) -> int:
    lo, hi = 0, len(plan.sources) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if plan.sources[mid].first_highlight <= hid:
            lo = mid
        else:
            hi = mid - 1
    return plan.sources[lo].id


def _chunks(sources: list[SourcePlan], n: int) -> list[list[SourcePlan]]:
    """Split sources into `n` runs of about equal highlight counts, keeping id order."""
    total = sum(s.count for s in sources)
    out: list[list[SourcePlan]] = [[]]
    done = 0
    for s in sources:
        if done >= total * len(out) / n and len(out) < n:
            out.append([])
        out[-1].append(s)
        done += s.count
    return [c for c in out if c]


def _key(name: str) -> str:
    from archive.models import normalise_key

    return normalise_key(name)


def _identity(title: str, author: str) -> str:
    from archive.formats.document import Document
    from archive.importing import source_identity

    return source_identity(Document(title=title, author=author))


def workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))
