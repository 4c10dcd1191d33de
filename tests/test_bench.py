"""The benchmark (bench/run.py) at a tiny scale, so that it cannot rot.

It runs in a child process with a database of its own, made and dropped by the benchmark. The
timings of a tiny archive say nothing and are not asserted; the query counts are the same at any
scale, so each page's must meet its target here too. The load test uses wrk when it is installed
and a small Python HTTP client otherwise (as on CI), for two seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from django.test import SimpleTestCase

from bench import pages
from bench.run import PAGE_QUERIES

ROOT = Path(__file__).resolve().parent.parent


class BenchTests(SimpleTestCase):
    def test_it_runs_at_a_tiny_scale_and_reports_every_figure(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "bench.json"
            command = [
                sys.executable,
                "bench/run.py",
                "--scale", "0.002",
                "--quick",
                "--load-connections", "4",
                "--json", str(out),
                "--database", f"commonplace_bench_test_{os.getpid()}",
                "--drop",
            ]  # fmt: skip
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
            entries = json.loads(out.read_text())

        by_name = {entry["name"]: entry for entry in entries}
        for entry in entries:
            assert set(entry) >= {"name", "value", "unit", "target", "met"}
        expected = {"seed: highlights", "seed: time", "bench: total time"}
        for page in pages.PAGES:
            expected |= {f"{page.slug}: {what}" for what in ("p50", "p95", "queries", "SQL floor", "page / floor")}
        expected |= {"load: requests/s", "load: p99", "load: errors"}
        for label in ("zip", "JSON"):
            expected |= {f"export {label}: highlights/s", f"export {label}: peak memory", f"export {label}: time"}
        for label in ("Markdown", "CSV"):
            expected |= {f"import {label}: highlights/s", f"import {label}: time"}
        assert not expected - set(by_name), f"missing: {sorted(expected - set(by_name))}"

        queries = {name: entry for name, entry in by_name.items() if name.endswith(": queries")}
        assert len(queries) == len(pages.PAGES)
        over = {name: (entry["value"], entry["note"]) for name, entry in queries.items() if entry["met"] is not True}
        assert not over, f"pages over {PAGE_QUERIES} queries, or failing: {over}"
        # Imports and exports handled every highlight (their rates exist only when nothing failed).
        for name in ("import Markdown: highlights/s", "import CSV: highlights/s", "export zip: highlights/s"):
            assert by_name[name]["value"], by_name[name]
        assert by_name["load: errors"]["value"] == 0, by_name["load: errors"]


class MissTests(SimpleTestCase):
    def test_a_miss_never_reads_as_on_target(self) -> None:
        from bench.run import Entry

        assert Entry("zip", 19_916, "/s", 20_000, ">=").miss() == "84 /s short (99.5% of it)"
        assert Entry("page", 100.3, "ms", 100, "<").miss() == "0.30 ms over (1.01×)"
        assert Entry("page", 90, "ms", 100, "<").miss() == ""


class TreeMemoryTests(SimpleTestCase):
    def test_a_process_tree_s_memory_counts_its_children(self) -> None:
        from bench.flows import tree_memory_mb

        if not os.path.isdir("/proc"):
            self.skipTest("reads Linux's /proc")
        alone = tree_memory_mb(os.getpid())
        script = "import sys, time; block = bytearray(80_000_000); print(flush=True); time.sleep(30)"
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        try:
            assert child.stdout is not None
            child.stdout.readline()  # the block is allocated (and, being zeroed, resident)
            together = tree_memory_mb(os.getpid())
        finally:
            child.kill()
            child.wait()
            child.stdout.close()  # type: ignore[union-attr]
        assert alone > 10
        assert together - alone > 70  # the child's 80 MB, not counted for the parent alone
