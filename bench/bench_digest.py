"""Benchmark: the weekly digest for a week of 10,000 items in a real SQLite file (goal <= 10 s).

Items are recombined from real texts: dev.jsonl titles and excerpts and the entry titles/summaries of the
real-world feeds in ../shared/eval/feeds/real-world (title from one text, summary from two others), spread over
40 sources and one ISO week (plus 7 earlier weeks of 500 items each for the trend); ~35 % are tagged relevant
with countries and topics, and stories are assigned by ``assign_stories`` on 384-d vectors (groups of 1-6 items).

Printed: the setup figures (including story assignment for the week), then the digest's time (median of 3 runs
in this process), its peak memory (a fresh child process: max RSS; and tracemalloc's Python-heap peak), and the
ratio to the named baseline: reading the week's item rows with plain sqlite3 (``SELECT * FROM item WHERE
published in the week``), the least any digest has to do.

    .venv/bin/python bench/bench_digest.py [--items 10000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "eval"
WEEK = "2025-W12"
NOW = datetime(2025, 3, 24, 6, tzinfo=UTC)
COUNTRIES = ["CN", "MN", "RU", "TR", "UZ", "GB", "DE", "US", "KG", "AF", "IR", "FR", "UA", "CA"]
TOPICS = ["language", "festivals", "trade", "education", "repatriation", "media", "sport", "religion", "politics",
          "heritage"]


def real_texts() -> tuple[list[str], list[str]]:
    """(titles, passages) from dev.jsonl and the real-world feeds."""
    import feedparser
    from bs4 import BeautifulSoup

    titles: list[str] = []
    passages: list[str] = []
    for line in (SHARED / "labeled" / "dev.jsonl").read_text("utf-8").splitlines():
        r = json.loads(line)
        titles.append(r["title"])
        passages.append(r["text"])
    for path in sorted((SHARED / "feeds" / "real-world").rglob("*.xml")):
        parsed = feedparser.parse(path.read_bytes())
        for e in parsed.entries:
            if e.get("title"):
                titles.append(" ".join(str(e.title).split()))
            summary = e.get("summary") or ""
            if summary:
                text = " ".join(BeautifulSoup(summary, "html.parser").get_text(" ").split())
                if len(text) > 40:
                    passages.append(text[:600])
    return [t for t in titles if t], passages


def build(db: Path, n_items: int) -> dict[str, float]:
    from mediawatch.digest import IsoWeek
    from mediawatch.models import Classification, Item, ItemId, ItemKind, SourceId
    from mediawatch.sourcefile import parse_sourcefile
    from mediawatch.store import SourceState, open_store
    from mediawatch.stories import StoryCandidate, assign_stories

    rng = random.Random(12)
    nrng = np.random.default_rng(12)
    titles, passages = real_texts()
    week = IsoWeek.parse(WEEK)
    store = open_store(f"sqlite:///{db}")
    lines = ["version: 1", "sources:"] + [
        f'  - {{id: src-{k:02d}, kind: rss, name: "Source {k:02d}", url: "https://s{k}.example/rss", every: 1h}}'
        for k in range(40)
    ]
    store.sync_sources(parse_sourcefile("\n".join(lines) + "\n", Path("bench.yaml")).sources, week.start - timedelta(days=60))
    langs = ["en", "ru", "kk", "zh", "tr", "de"]
    spans = [(week.start, week.end, n_items)] + [
        (week.shift(-k).start, week.shift(-k).end, 500) for k in range(1, 8)
    ]
    t0 = time.perf_counter()
    items: list[Item] = []
    for lo, hi, n in spans:
        seconds = int((hi - lo).total_seconds())
        for _ in range(n):
            k = len(items)
            when = lo + timedelta(seconds=rng.randrange(seconds))
            title = f"{rng.choice(titles)} ({k})"
            summary = f"{rng.choice(passages)} {rng.choice(passages)}"
            items.append(Item(
                id=ItemId(f"bench{k:06d}"), source_id=SourceId(f"src-{rng.randrange(38):02d}"), kind=ItemKind.ARTICLE,
                url=f"https://s{k % 40}.example/news/{k}", title=title, summary=summary[:800], text=summary,
                published=when, fetched=when + timedelta(minutes=10), language=rng.choice(langs),
                author=None if k % 4 else "Staff",
            ))
    by_source: dict[str, list[Item]] = {}
    for it in items:
        by_source.setdefault(it.source_id, []).append(it)
    for source, its in sorted(by_source.items()):
        store.commit_source(SourceId(source), its, SourceState(SourceId(source), last_success=NOW), max(i.fetched for i in its))
    store.save_source_state(SourceState(SourceId("src-38"), consecutive_failures=4, last_error="HTTP 503", last_status=503))
    t_items = time.perf_counter() - t0

    t0 = time.perf_counter()
    relevant = [it for it in items if rng.random() < 0.35]
    is_relevant = {it.id for it in relevant}
    store.save_classifications(
        Classification(
            item_id=it.id, relevant=it.id in is_relevant, relevance=0.8 if it.id in is_relevant else 0.1,
            countries=tuple(rng.sample(COUNTRIES, rng.choice((0, 1, 1, 2)))) if it.id in is_relevant else (),
            topics=tuple(rng.sample(TOPICS, rng.choice((1, 1, 2)))) if it.id in is_relevant else (),
            why={}, model="bench", taxonomy_hash="bench", classified_at=NOW,
        )
        for it in items
    )
    t_cls = time.perf_counter() - t0

    # stories: groups of 1-6 relevant items of the week share a direction (plus noise) in 384-d
    week_relevant = sorted((it for it in relevant if week.contains(it.published)), key=lambda i: (i.published, i.id))
    cands = []
    i = 0
    while i < len(week_relevant):
        size = rng.choice((1, 1, 1, 2, 2, 3, 4, 6))
        direction = nrng.standard_normal(384).astype(np.float32)
        for it in week_relevant[i : i + size]:
            v = direction + nrng.normal(0, 0.25, 384).astype(np.float32) * np.linalg.norm(direction) / 19.6
            cands.append(StoryCandidate(it.id, v / np.linalg.norm(v), it.published, it.source_id, it.language))
        i += size
    t0 = time.perf_counter()
    plan = assign_stories(cands, [])
    t_assign = time.perf_counter() - t0
    t0 = time.perf_counter()
    store.save_story_plan(plan)
    t_save = time.perf_counter() - t0
    store.close()
    return {
        "items": len(items), "week_items": n_items, "week_relevant": len(week_relevant), "stories": len(plan.stories),
        "t_items": t_items, "t_cls": t_cls, "t_assign": t_assign, "t_save": t_save,
    }


def digest_once(db: Path, out: Path) -> float:
    from mediawatch.digest import IsoWeek, write_digest
    from mediawatch.store import open_store

    store = open_store(f"sqlite:///{db}", migrate=False)
    t0 = time.perf_counter()
    files = write_digest(store, IsoWeek.parse(WEEK), out, now=NOW)
    elapsed = time.perf_counter() - t0
    store.close()
    assert files.relevant_items > 0
    return elapsed


def baseline_once(db: Path) -> tuple[float, int]:
    from mediawatch.digest import IsoWeek

    week = IsoWeek.parse(WEEK)
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    t0 = time.perf_counter()
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT * FROM item WHERE published >= ? AND published < ?",
        (week.start.replace(tzinfo=None).strftime(fmt), week.end.replace(tzinfo=None).strftime(fmt)),
    ).fetchall()
    conn.close()
    return time.perf_counter() - t0, len(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--keep", type=Path, help="keep the database and digests in this folder")
    ap.add_argument("--digest-only", nargs=2, metavar=("DB", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.digest_only:
        digest_once(Path(args.digest_only[0]), Path(args.digest_only[1]))
        return
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args.keep, args.items)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-digest-") as tmp:
            run(Path(tmp), args.items)


def run(work: Path, n_items: int) -> None:
    db = work / "bench.db"
    db.unlink(missing_ok=True)
    setup = build(db, n_items)
    print(f"setup: {setup['items']} items ({setup['week_items']} in {WEEK}, {setup['week_relevant']} relevant), "
          f"{setup['stories']} stories; insert {setup['t_items']:.1f} s, classifications {setup['t_cls']:.1f} s, "
          f"assign_stories {setup['t_assign']:.2f} s, save_story_plan {setup['t_save']:.1f} s")

    base = [baseline_once(db) for _ in range(3)]
    t_base = statistics.median(t for t, _ in base)
    times = [digest_once(db, work / "digests") for _ in range(3)]
    t_digest = statistics.median(times)

    subprocess.run([sys.executable, __file__, "--digest-only", str(db), str(work / "digests")], check=True)
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    tracemalloc.start()
    digest_once(db, work / "digests")
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    md = work / "digests" / f"{WEEK}.md"
    html = work / "digests" / f"{WEEK}.html"
    print(f"baseline (plain sqlite3 SELECT of the week's {base[0][1]} item rows): {t_base * 1000:.0f} ms (median of 3)")
    print(f"digest {WEEK}: {t_digest:.2f} s (median of 3: {', '.join(f'{t:.2f}' for t in times)}), "
          f"goal <= 10 s: {'met' if t_digest <= 10 else 'MISSED'}")
    print(f"ratio digest / baseline: {t_digest / t_base:.1f}x")
    print(f"peak memory: child process max RSS {child_rss / 1024:.0f} MB; Python heap peak "
          f"(tracemalloc) {py_peak / 1e6:.0f} MB")
    print(f"output: {md} ({md.stat().st_size / 1024:.0f} KB), {html} ({html.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
