#!/usr/bin/env python3
"""Commonplace at a lifetime of reading: seed a million highlights, time every page, import,
export and serve under load, and print one table of figures next to their targets.

    .venv/bin/python bench/run.py [--scale S] [--json PATH] [--quick] [--database NAME]

It never touches your archive: it works in a database of its own (`commonplace_bench`, dropped
and created again on every run) on the embedded Postgres server (or on the server DATABASE_URL
names). The database is left in place afterwards for EXPLAIN ANALYZE; `--drop` removes it.

Phases: seed (COPY) → pages (server time through Django's test client, query counts, SQL floors)
→ load (wrk, or a Python client when wrk is not installed, against gunicorn on 127.0.0.1) →
export (`export_highlights`, zip and JSON) → import (`import_highlights`, a Markdown vault and a
Readwise CSV). Imports and exports run as child processes, so that their peak memory can be read
and a slow one stopped (after --flow-timeout seconds); imports run last because they add to the
archive the other phases measure. A slow page stops after --page-budget seconds of requests.
The figures of the last full run, and why the missed targets are missed: bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
USERNAME = "bench"

# Targets at 1,000,000 highlights on two cores (issue 7).
PAGE_P95_MS = 100.0
PAGE_QUERIES = 12
IMPORT_RATE = 5_000.0
EXPORT_RATE = 20_000.0
EXPORT_PEAK_MB = 300.0
LOAD_RPS = 150.0
LOAD_P99_MS = 500.0
TOTAL_SECONDS = 15 * 60


@dataclass
class Entry:
    name: str
    value: float | None
    unit: str
    target: float | None = None
    op: str = ""  # "<", "<=", ">=", "==" or "" for a figure without a target
    note: str = ""

    @property
    def met(self) -> bool | None:
        if not self.op or self.target is None:
            return None
        if self.value is None:
            return False
        return {
            "<": self.value < self.target,
            "<=": self.value <= self.target,
            ">=": self.value >= self.target,
            "==": self.value == self.target,
        }[self.op]

    def miss(self) -> str:
        """By how much a missed target is missed."""
        if self.met is not False:
            return ""
        if self.value is None:
            return "no figure"
        assert self.target is not None
        gap = self.value - self.target
        if self.op in ("<", "<="):
            # Rounded away from the target: a miss never reads as "1.00×" or "100%".
            ratio = f" ({math.ceil(100 * self.value / self.target) / 100:.2f}×)" if self.target else ""
            return f"{_fmt(gap)} {self.unit} over{ratio}"
        if self.op == ">=":
            share = f" ({math.floor(1000 * self.value / self.target) / 10:.1f}% of it)" if self.target else ""
            return f"{_fmt(-gap)} {self.unit} short{share}"
        return f"{_fmt(gap)} off"

    def as_dict(self) -> dict[str, Any]:
        target = f"{self.op} {_fmt(self.target)}" if self.op and self.target is not None else None
        return {
            "name": self.name,
            "value": round(self.value, 3) if isinstance(self.value, float) else self.value,
            "unit": self.unit,
            "target": target,
            "target_value": self.target,
            "met": self.met,
            "note": self.note,
        }


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100 or value == int(value):
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(entries: list[Entry]) -> str:
    rows = [("figure", "value", "target", "met", "missed by / note")]
    for e in entries:
        value = f"{_fmt(e.value)} {e.unit}".strip() if e.value is not None else "—"
        target = f"{e.op} {_fmt(e.target)}" if e.op else ""
        met = {True: "yes", False: "NO", None: ""}[e.met]
        rows.append((e.name, value, target, met, " · ".join(x for x in (e.miss(), e.note) if x)))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for i, r in enumerate(rows):
        cells = [c.rjust(w) if j == 1 else c.ljust(w) for j, (c, w) in enumerate(zip(r[:4], widths, strict=True))]
        lines.append("  ".join(cells) + "  " + r[4])
        if i == 0:
            lines.append("-" * (sum(widths) + 8 + max(len(r[4]) for r in rows)))
    return "\n".join(line.rstrip() for line in lines)


def markdown(entries: list[Entry], about: dict[str, str], title: str) -> str:
    """The machine, a table of the pages (one row each) and a table of every other figure."""
    from bench import pages

    def cell(e: Entry | None) -> str:
        if e is None or e.value is None:
            return "—"
        flag = " ✗" if e.met is False else ""
        return f"{_fmt(e.value)}{flag}"

    by_name = {e.name: e for e in entries}
    lines = [f"### {title}", ""]
    lines += [f"- {key}: {value}" for key, value in about.items()]
    lines += [
        "",
        f"Pages (target: p95 < {_fmt(PAGE_P95_MS)} ms, ≤ {PAGE_QUERIES} queries; ✗ = missed):",
        "",
        "| page | p50 ms | p95 ms | queries | SQL floor ms | p50 / floor | note |",
        "|---|--:|--:|--:|--:|--:|---|",
    ]
    shown = set()
    for page in pages.PAGES:
        row = {
            what: by_name.get(f"{page.slug}: {what}") for what in ("p50", "p95", "queries", "SQL floor", "page / floor")
        }
        shown |= {e.name for e in row.values() if e is not None}
        if row["p95"] is None:
            continue
        title_ = row["p50"].note if row["p50"] else page.title
        note = row["p95"].note if row["p95"].value is None else row["p95"].miss()
        cells = " | ".join(cell(row[w]) for w in ("p50", "p95", "queries", "SQL floor", "page / floor"))
        lines.append(f"| {page.slug} ({title_}) | {cells} | {note} |")
    lines += ["", "| figure | value | target | met | missed by / note |", "|---|--:|---|---|---|"]
    for e in entries:
        if e.name in shown:
            continue
        value = f"{_fmt(e.value)} {e.unit}".strip() if e.value is not None else "—"
        target = f"{e.op} {_fmt(e.target)}".replace("<=", "≤").replace(">=", "≥") if e.op else ""
        met = {True: "yes", False: "**no**", None: ""}[e.met]
        note = " · ".join(x for x in (e.miss(), e.note) if x).replace("|", "\\|")
        lines.append(f"| {e.name} | {value} | {target} | {met} | {note} |")
    return "\n".join(lines) + "\n"


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the database -------------------------------------------------------------------------------


def prepare_database(name: str, create: bool = True) -> str:
    """Drop and create the bench database; point Django at it; return its libpq URL."""
    import psycopg

    if url := os.environ.get("DATABASE_URL"):
        parts = urlsplit(url)
        maintenance = urlunsplit(parts._replace(path="/postgres"))
        bench = urlunsplit(parts._replace(path=f"/{name}"))
    else:
        sys.path.insert(0, str(ROOT))
        from config.embedded import ensure_running

        data_dir = Path(os.environ.get("COMMONPLACE_DATA_DIR") or ROOT / "var").resolve()
        host = ensure_running(data_dir)["HOST"]
        maintenance = f"postgresql://postgres@/postgres?host={quote(host)}"
        bench = f"postgresql://postgres@/{name}?host={quote(host)}"
    if create:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    os.environ["DATABASE_URL"] = bench
    os.environ.pop("DATABASE_URL_FILE", None)
    return bench


def drop_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return str(cursor.fetchone()[0])


def cpu_probe() -> float:
    """Milliseconds for a fixed stretch of pure Python on one core (best of three): how fast the
    machine is at the moment. A shared VM's speed moves with its neighbours' load, by a quarter
    within an hour here; runs compare fairly only next to this figure."""
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i * i
        best = min(best, time.perf_counter() - start)
    return 1000 * best


def machine() -> dict[str, str]:
    """What the figures were measured on (for RESULTS.md)."""
    import platform

    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load average": load,
    }


# --- phases -------------------------------------------------------------------------------------


def common_words(user_id: int) -> tuple[str, str, float]:
    """The two commonest English words that are not stop words, and the share of highlights holding the first."""
    from django.db import connection

    from bench import text

    found: list[str] = []
    with connection.cursor() as cursor:
        for word in text.vocabulary("en").words:
            cursor.execute("SELECT to_tsvector('english', %s)::text", [word])
            if cursor.fetchone()[0]:
                found.append(word)
                if len(found) == 2:
                    break
        cursor.execute(
            """SELECT count(*) FILTER (WHERE search_vector @@ to_tsquery('english', %s)), count(*)
               FROM highlights_highlight WHERE user_id = %s AND deleted_at IS NULL""",
            [found[0], user_id],
        )
        matched, total = cursor.fetchone()
    return found[0], found[1], matched / max(total, 1)


def page_phase(args: argparse.Namespace, user: Any, context: dict[str, Any], entries: list[Entry]) -> list[Any]:
    from django.conf import settings
    from django.test import Client

    from bench import pages

    # Each page is drawn for every timed request: the page cache would answer all but the first
    # from memory, and the figures are about drawing (the load test below has the cache on).
    settings.PAGE_CACHE = False
    client = Client(headers={"host": "127.0.0.1"}, raise_request_exception=True)
    client.force_login(user)
    results = []
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    for page in pages.PAGES:
        if only and page.slug not in only:
            continue
        result = pages.measure(client, page, context, args.requests, args.page_budget)
        if result.ok:
            pages.floor(result, args.floor_repeats)
        results.append(result)
        title = page.title.format(**context)
        if not result.ok:
            say(f"  {page.slug:<20} {title}: {result.error}")
            entries.append(Entry(f"{page.slug}: p95", None, "ms", PAGE_P95_MS, "<", result.error))
            entries.append(Entry(f"{page.slug}: queries", None, "", PAGE_QUERIES, "<=", result.error))
            continue
        p50, p95 = result.percentile(0.5), result.percentile(0.95)
        floor_ms = 1000 * result.floor
        say(
            f"  {page.slug:<20} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  {result.queries:2d} queries  "
            f"floor {floor_ms:6.1f} ms  n={len(result.times)}  {title}"
        )
        if args.explain and p95 >= PAGE_P95_MS:
            print(pages.explain(result), flush=True)
        n_note = f"n={len(result.times)}" if len(result.times) < args.requests else ""
        entries.append(Entry(f"{page.slug}: p50", p50, "ms", note=title))
        entries.append(Entry(f"{page.slug}: p95", p95, "ms", PAGE_P95_MS, "<", n_note))
        entries.append(Entry(f"{page.slug}: queries", result.queries, "", PAGE_QUERIES, "<="))
        skipped = f"{result.floor_skipped} writes not re-run" if result.floor_skipped else ""
        entries.append(Entry(f"{page.slug}: SQL floor", floor_ms, "ms", note=skipped))
        entries.append(Entry(f"{page.slug}: page / floor", p50 / floor_ms if floor_ms else None, "×"))
    return results


def load_paths(context: dict[str, Any], seeded: Any, count: int = 300) -> list[str]:
    """The load test's mix: 40% library pages, 40% source pages, 20% searches."""
    from django.urls import NoReverseMatch, reverse

    from bench import pages

    rng = random.Random(7)
    by_slug = {p.slug: p for p in pages.PAGES}
    searches = [by_slug[s] for s in ("search-rare", "search-common", "search-phrase", "search-exclusion")]
    paths = []
    for i in range(count):
        try:
            if i % 5 in (0, 1):
                sort = rng.choice(["recent", "title"])
                page_no = rng.choice([1, 1, 2, 3, rng.randint(1, max(1, seeded.sources // 50))])
                paths.append(f"{reverse('highlights:library')}?sort={sort}&page={page_no}")
            elif i % 5 in (2, 3):
                paths.append(reverse("archive:source", args=[rng.choice(seeded.typical_sources)]))
            else:
                paths.append(rng.choice(searches).url(context))
        except NoReverseMatch:
            continue
    return paths


def load_phase(args: argparse.Namespace, user: Any, context: dict[str, Any], seeded: Any, entries: list[Entry]) -> None:
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from bench import flows, load

    client = Client(headers={"host": "127.0.0.1"})
    client.force_login(user)
    client.get(reverse("highlights:tags"))  # a browser holds a CSRF cookie too (pages are kept per cookie)
    cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())
    assert settings.SESSION_COOKIE_NAME in cookie and settings.CSRF_COOKIE_NAME in cookie
    paths = load_paths(context, seeded)
    say(f"load: {args.load_seconds} s against gunicorn (2 workers × 4 threads), {args.load_connections} connections")
    targets = (
        ("load: requests/s", "req/s", LOAD_RPS, ">="),
        ("load: p99", "ms", LOAD_P99_MS, "<"),
        ("load: errors", "", 0, "=="),
    )
    try:
        result = load.load_test(
            flows.child_env(), paths, cookie, args.load_seconds, args.load_connections, args.load_tool
        )
    except Exception as error:
        message = f"{type(error).__name__}: {error}"[:300]
        say(f"  load test failed: {message}")
        entries += [Entry(name, None, unit, target, op, message) for name, unit, target, op in targets]
        return
    note = f"{load.describe(result)}; {result.detail}".strip("; ")
    say(
        f"  {result.rps:.0f} req/s, p50 {result.p50_ms:.0f} ms, p99 {result.p99_ms:.0f} ms, {result.errors} errors ({note})"
    )
    values = (result.rps, result.p99_ms, result.errors)
    notes = (note, f"p50 {result.p50_ms:.0f} ms", "")
    entries += [
        Entry(name, value, unit, target, op, n)
        for (name, unit, target, op), value, n in zip(targets, values, notes, strict=True)
    ]


def export_phase(args: argparse.Namespace, user: Any, work: Path, entries: list[Entry]) -> None:
    from bench import flows
    from highlights.models import Highlight

    live = Highlight.objects.filter(user=user, deleted_at__isnull=True, source__deleted_at__isnull=True).count()
    for fmt, label in (("markdown", "zip"), ("json", "JSON")):
        out = work / f"export.{label.lower()}"
        say(f"export: {label} of {live:,} highlights")
        run = flows.run_export(flows.child_env(), USERNAME, out, fmt, live, args.flow_timeout)
        out.unlink(missing_ok=True)
        say(f"  {run.rate:,.0f} highlights/s, {run.seconds:.1f} s, peak {run.peak_mb:.0f} MB {run.detail} {run.error}")
        rate = run.rate if run.highlights else None
        entries.append(Entry(f"export {label}: highlights/s", rate, "/s", EXPORT_RATE, ">=", run.error))
        entries.append(Entry(f"export {label}: peak memory", run.peak_mb, "MB", EXPORT_PEAK_MB, "<"))
        entries.append(Entry(f"export {label}: time", run.seconds, "s", note=run.detail))


def import_phase(args: argparse.Namespace, user: Any, work: Path, entries: list[Entry]) -> None:
    from bench import flows

    rng = random.Random(99)
    authors = list(user.authors.values_list("name", flat=True)[:2000]) or ["Ada Author"]
    tags = list(user.tags.values_list("name", flat=True)[:500]) or ["imported"]
    files = max(5, round(5_000 * args.scale))
    rows = max(50, round(100_000 * args.scale))
    say(f"import: writing a vault of {files:,} Markdown files and a CSV of {rows:,} rows")
    vault = work / "vault"
    md_count = flows.write_vault(vault, flows.documents(rng, files, files * 20, authors, tags, "vault"))
    csv_path = work / "readwise.csv"
    csv_count = flows.write_csv(csv_path, flows.documents(rng, max(1, rows // 20), rows, authors, tags, "csv"))
    for label, path, count, what in (
        ("Markdown", vault, md_count, f"{files:,} files"),
        ("CSV", csv_path, csv_count, f"{rows:,} rows"),
    ):
        say(f"import: {label}, {what}, {count:,} highlights")
        run = flows.run_import(flows.child_env(), [path], USERNAME, count, args.flow_timeout)
        say(f"  {run.rate:,.0f} highlights/s, {run.seconds:.1f} s, peak {run.peak_mb:.0f} MB {run.detail} {run.error}")
        rate = run.rate if run.highlights else None
        entries.append(Entry(f"import {label}: highlights/s", rate, "/s", IMPORT_RATE, ">=", run.error or run.detail))
        entries.append(Entry(f"import {label}: time", run.seconds, "s", note=f"{what}, {count:,} highlights"))
        entries.append(Entry(f"import {label}: peak memory", run.peak_mb, "MB"))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--scale", type=float, default=1.0, help="1 = a million highlights (default)")
    add("--json", type=Path, help="write the figures here as JSON")
    add("--markdown", type=Path, help="write the machine and the figures here as Markdown")
    add("--quick", action="store_true", help="few requests, a short load test (what the test suite runs)")
    add("--requests", type=int, help="timed requests per page (default 50; 3 with --quick)")
    add("--page-budget", type=float, default=20.0, help="seconds after which a slow page stops early (default 20)")
    add("--only", default="", help="comma-separated page slugs to measure (default: all)")
    add("--floor-repeats", type=int, help="times each SQL statement is re-run for the floor (default 5)")
    add("--load-seconds", type=int, help="length of the load test (default 20; 2 with --quick)")
    add("--load-connections", type=int, default=8, help="concurrent connections of the load test (default 8)")
    add("--load-tool", choices=["auto", "wrk", "python"], default="auto", help="default: wrk when installed")
    add("--flow-timeout", type=float, default=75.0, help="seconds before an import or export is stopped (default 75)")
    add("--database", default="commonplace_bench", help="the database to (re)create (default commonplace_bench)")
    add("--drop", action="store_true", help="drop the database at the end")
    add("--explain", action="store_true", help="print EXPLAIN ANALYZE of each slow page's slowest statement")
    add("--reuse", action="store_true", help="measure what an earlier run at this --scale left (for investigating)")
    add("--jobs", type=int, help="seeding processes (default: the cores, at most 4)")
    add("--skip", default="", help="comma-separated phases to leave out: pages,load,export,import")
    args = parser.parse_args(argv)
    args.requests = args.requests or (3 if args.quick else 50)
    args.floor_repeats = args.floor_repeats or (1 if args.quick else 5)
    args.load_seconds = args.load_seconds or (2 if args.quick else 20)
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="commonplace-bench-"))
    os.environ.setdefault("SECRET_KEY", "commonplace-bench-only-" + "x" * 40)
    os.environ["STATIC_ROOT"] = str(work / "static")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    about = machine()
    say("machine: " + "; ".join(f"{k} {v}" for k, v in about.items()))
    say(f"database {args.database}: " + ("reusing it" if args.reuse else "dropping and creating it"))
    url = prepare_database(args.database, create=not args.reuse)

    import django

    django.setup()
    # A page that fails is reported in the table; its traceback would only bury the progress lines.
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from bench import seed

    entries: list[Entry] = []
    try:
        call_command("collectstatic", verbosity=0, interactive=False)
        if args.reuse:
            user = User.objects.get(username=USERNAME)
            seeded = seed.already_seeded(args.scale, user.pk)
        else:
            call_command("migrate", verbosity=0, interactive=False)
            user = User.objects.create_user(USERNAME, password=None)
            say(f"seeding at scale {args.scale:g}")
            seeded = seed.seed(url, args.scale, user.pk, jobs=args.jobs or seed.workers(), say=say)
            steps = ", ".join(f"{k} {v:.0f} s" for k, v in seeded.steps.items())
            say(f"  seeded {seeded.highlights:,} highlights in {seeded.seconds:.0f} s ({steps})")
            what = f"{seeded.sources:,} sources, {seeded.authors:,} authors, {seeded.tags:,} tags"
            entries.append(Entry("seed: highlights", seeded.highlights, "", note=what))
            entries.append(Entry("seed: time", seeded.seconds, "s", note=steps))

        about["postgres"] = server_version()
        note = f"{about['cpu']}, {about['memory']}, Postgres {about['postgres']}, load average {about['load average']}"
        entries.append(Entry("machine: cores", float(about["cores"]), "", note=note))
        entries.append(Entry("machine: CPU probe", cpu_probe(), "ms", note="a fixed loop of Python; lower is faster"))
        common, second, share = common_words(user.pk)
        entries.append(
            Entry(
                f"share of highlights with '{common}'",
                100 * share,
                "%",
                note="the commonest non-stop word; ~10% wanted",
            )
        )
        context = {**seeded.__dict__, "tag_name": seeded.big_tag_name, "common_word": common, "second_word": second}
        if "pages" not in args.skip:
            say(f"pages: {args.requests} timed requests each")
            page_phase(args, user, context, entries)
        if "load" not in args.skip:
            load_phase(args, user, context, seeded, entries)
        if "export" not in args.skip:
            export_phase(args, user, work, entries)
        if "import" not in args.skip:
            import_phase(args, user, work, entries)
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(work, ignore_errors=True)
        if args.drop:
            drop_database(url)

    about["load average at the end"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    entries.append(Entry("machine: CPU probe at the end", cpu_probe(), "ms", note="the same loop, after the run"))
    full = args.scale <= 1 and not args.skip and not args.reuse
    total = time.perf_counter() - started
    entries.append(Entry("bench: total time", total, "s", TOTAL_SECONDS if full else None, "<" if full else ""))
    print()
    print(f"Commonplace benchmark, scale {args.scale:g}: {seeded.highlights:,} highlights")
    print(table(entries))
    if args.markdown:
        title = f"Scale {args.scale:g}, {time.strftime('%Y-%m-%d %H:%M')}"
        args.markdown.write_text(markdown(entries, about, title))
        say(f"wrote {args.markdown}")
    if args.json:
        args.json.write_text(json.dumps([e.as_dict() for e in entries], indent=2, ensure_ascii=False) + "\n")
        say(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
