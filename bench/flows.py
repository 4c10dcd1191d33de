"""Import and export: generated export files through `import_highlights`, and
`export_highlights`, each in a child process whose peak memory (with its own children's) is read."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.formats import readwise_csv, readwise_markdown
from archive.formats.document import Category, Document, Highlight, LocationKind
from bench import seed, text

ROOT = Path(__file__).resolve().parent.parent


def documents(
    rng: random.Random, files: int, highlights: int, authors: list[str], tags: list[str], kind: str
) -> list[Document]:
    """`files` new documents holding `highlights` highlights in all, like a Readwise export."""
    categories = list(seed.CATEGORIES)
    weights = [share for share, _, _ in seed.CATEGORIES.values()]
    languages, language_weights = list(text.LANGUAGES), list(text.LANGUAGES.values())
    picked = [(rng.choices(languages, language_weights)[0], rng.choices(categories, weights)[0]) for _ in range(files)]
    counts = seed._spread(
        rng,
        [seed.CATEGORIES[c][1] * rng.lognormvariate(0, 1.0) for _, c in picked],
        highlights,
        cap=max(1, highlights),
    )
    titles: set[str] = set()
    out = []
    for i, ((language, category), count) in enumerate(zip(picked, counts, strict=True)):
        title = text.title(rng, language)
        while title.casefold() in titles:
            title += f" {rng.randrange(10, 99)}"
        titles.add(title.casefold())
        names = list(dict.fromkeys(rng.choice(authors) for _ in range(1 if rng.random() < 0.85 else 2)))
        saved = seed.EPOCH.replace(tzinfo=None) + dt.timedelta(minutes=rng.randrange(seed.YEARS * 365 * 1440))
        doc = Document(
            title=title,
            author=seed.author_text(names),
            authors=names,
            url="" if category in ("books", "pdfs") else f"https://example.net/{kind}/{i}",
            category=Category(category),
            origin=seed.CATEGORIES[category][2],
            saved_at=saved,
            tags=[rng.choice(tags)] if rng.random() < 0.1 else [],
        )
        seen: set[str] = set()
        location = rng.randrange(10, 200)
        for position in range(count):
            body = text.highlight_text(rng, language)
            while body.casefold() in seen:
                body = text.highlight_text(rng, language)
            seen.add(body.casefold())
            location += rng.randrange(1, 60)
            book = category in ("books", "pdfs")
            doc.highlights.append(
                Highlight(
                    text=body,
                    note=text.note_text(rng, language) if rng.random() < 0.05 else "",
                    tags=[rng.choice(tags)] if rng.random() < 0.1 else [],
                    location=str(location) if book else "",
                    location_kind=LocationKind.LOCATION if book else LocationKind.NONE,
                    url="" if book else f"https://read.readwise.io/read/{kind}{i}x{position}",
                    highlighted_at=saved + dt.timedelta(minutes=10 * position + 5),
                )
            )
        out.append(doc)
    return out


def write_vault(folder: Path, docs: list[Document]) -> int:
    """Our default layout: one Markdown file per document, in a folder per category."""
    for i, doc in enumerate(docs):
        sub = folder / (doc.category.value.title() or "Uncategorised")
        sub.mkdir(parents=True, exist_ok=True)
        safe = "".join(ch if ch.isalnum() or ch in " -" else " " for ch in doc.title)[:80].strip()
        (sub / f"{safe or 'untitled'} {i}.md").write_text(readwise_markdown.render(doc), encoding="utf-8")
    return sum(len(doc.highlights) for doc in docs)


def write_csv(path: Path, docs: list[Document]) -> int:
    path.write_text(readwise_csv.render(docs), encoding="utf-8")
    return sum(len(doc.highlights) for doc in docs)


@dataclass
class Run:
    seconds: float
    highlights: int  # highlights the run handled (created, for an import)
    peak_mb: float = 0.0
    error: str = ""
    detail: str = ""

    @property
    def rate(self) -> float:
        return self.highlights / self.seconds if self.seconds else 0.0


def run_import(env: dict[str, str], paths: list[Path], username: str, expected: int, timeout: float) -> Run:
    """`manage.py import_highlights --json` in a child process, stopped after `timeout` seconds.

    A stopped import still yields a rate when its files were committed one by one (a vault):
    the highlights in the database by then, over the time. A single file (the CSV) is one
    transaction, so a stopped one only bounds the rate.
    """
    from django.contrib.auth.models import User

    from highlights.models import Highlight

    user = User.objects.get(username=username)
    before = Highlight.objects.filter(user=user).count()
    command = [sys.executable, "manage.py", "import_highlights", *map(str, paths), "--user", username, "--json"]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as log:
        finished, seconds, peak, code = _child(command, env, out, log, timeout)
        if not finished:
            created = Highlight.objects.filter(user=user).count() - before
            if created:
                note = f"stopped after {timeout:.0f} s; rate from the {created:,} highlights committed by then"
                return Run(seconds, created, peak, detail=note)
            return Run(seconds, 0, peak, error=f"did not finish in {timeout:.0f} s (under {expected / timeout:,.0f}/s)")
        if code:
            log.seek(0)
            return Run(seconds, 0, peak, error=log.read().decode(errors="replace")[-300:])
        out.seek(0)
        payload = json.loads(out.read())
    totals = payload["totals"]
    created = int(totals["highlights_created"])
    error = ""
    if totals["errors"]:
        first = next(f for f in payload["files"] if f["status"] == "error")
        error = f"{totals['errors']} files failed, e.g. {first['path']}: {first['message']}"[:300]
    elif created != expected:
        error = f"created {created} highlights, expected {expected}"
    return Run(
        seconds, created, peak, error=error, detail=f"{totals['files']:,} files, {totals['sources_created']:,} sources"
    )


def _child(
    command: list[str], env: dict[str, str], out: Any, log: Any, timeout: float
) -> tuple[bool, float, float, int]:
    """Run a command; stop it after `timeout`. (finished, seconds, peak memory in MB, exit code).

    The peak is of the command and every process it started (an export's workers, an import's
    parsing process) together: the largest sum of their memory seen (`tree_memory_mb`, four
    times a second), or the command's own peak as the kernel counted it, if that is larger.
    """
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=log)
    deadline = start + timeout
    together = 0.0
    polls = 0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            process.kill()
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = -9
            return False, timeout, max(together, usage.ru_maxrss / 1024), -9
        if polls % 5 == 0:
            together = max(together, tree_memory_mb(process.pid))
        polls += 1
        time.sleep(0.05)
    process.returncode = os.waitstatus_to_exitcode(status)
    peak = max(together, usage.ru_maxrss / 1024)  # Linux: ru_maxrss in KiB
    return True, time.perf_counter() - start, peak, process.returncode


def run_export(env: dict[str, str], username: str, out: Path, fmt: str, highlights: int, timeout: float) -> Run:
    """`manage.py export_highlights` in a child process; wall time and peak memory (with its workers)."""
    command = [sys.executable, "manage.py", "export_highlights", "--user", username, "--out", str(out)]
    if fmt == "json":
        command += ["--format", "json"]
    with tempfile.TemporaryFile() as log:
        finished, seconds, peak, code = _child(command, env, subprocess.DEVNULL, log, timeout)
        if not finished:
            return Run(
                seconds, 0, peak, error=f"did not finish in {timeout:.0f} s (under {highlights / timeout:,.0f}/s)"
            )
        if code:
            log.seek(0)
            return Run(seconds, 0, peak, error=log.read().decode(errors="replace")[-300:])
    size = out.stat().st_size / 1e6 if out.exists() else 0.0
    return Run(seconds, highlights, peak, detail=f"{size:,.1f} MB written")


def child_env(extra: dict[str, str] | None = None) -> dict[str, Any]:
    env = {**os.environ, **(extra or {})}
    env.pop("DATABASE_URL_FILE", None)
    return env


def tree_memory_mb(root: int) -> float:
    """The memory of a process and all its descendants, in MB (from Linux's /proc): the sum of
    their proportional set sizes, so that pages they share (the interpreter, libraries, a
    worker's pages copied from the forkserver) are counted once, not once per process."""
    if not os.path.isdir("/proc"):  # not Linux: the command's own peak (ru_maxrss) stands alone
        return 0.0
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                parents[int(entry.name)] = int(stat.read().rsplit(")", 1)[1].split()[1])
        except OSError:  # it ended meanwhile
            continue
    family, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    return sum(_pss_kb(pid) for pid in family) / 1024


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            return next((int(line.split()[1]) for line in rollup if line.startswith("Pss:")), 0)
    except OSError:  # it ended meanwhile
        return 0
