"""Benchmark: `classify` end to end (read items from the store, embed, tag, write back) against the raw
`SentenceTransformer.encode` of the same texts, in the same process with the same loaded model.

Items are real texts: the labeled dev set, the titles/summaries of the real-world feed corpus and the whole
articles of the extraction benchmark (../shared/eval), repeated with a numbered suffix up to --items. A text
longer than one lead is read in parts, and the baseline encodes the same parts. Printed: both times, classify throughput as a
percentage of raw encoding (goal >= 85 %), how many texts a second run re-embeds (goal 0), and peak RSS.
The tagger's heads are trained (or loaded from the cache), and the texts encoded once, before timing starts.

    .venv/bin/python bench/bench_classify.py [--items 1000] [--articles 20]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "eval"


def real_texts(articles: int = 20) -> list[tuple[str, str, str]]:
    import feedparser

    out = []
    for line in (SHARED / "labeled" / "dev.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        out.append((rec["title"], rec["text"], rec["lang"]))
    for path in sorted((SHARED / "feeds" / "real-world").rglob("*.xml")):
        for entry in feedparser.parse(path.read_bytes()).entries[:5]:
            title = " ".join(str(entry.get("title", "")).split())
            if title:
                out.append((title, " ".join(str(entry.get("summary", ""))[:600].split()), ""))
    # whole articles, as page sources store them (read in parts): some of the extraction benchmark's ground truth
    truth = json.loads((SHARED / "articles" / "scrapinghub-aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    for _, rec in sorted(truth.items())[:articles]:
        slug = rec["url"].rstrip("/").rsplit("/", 1)[-1].split(".")[0]
        out.append((" ".join(slug.replace("_", "-").split("-")), rec["articleBody"], ""))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--articles", type=int, default=20, help="whole articles among the real texts (of 181)")
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"bench: the evaluation material is missing at {SHARED}")

    from mediawatch.app import open_app
    from mediawatch.enrich import build_embedder, build_tagger, run_classify, tag_input
    from mediawatch.models import Item, ItemId, ItemKind, SourceId
    from mediawatch.settings import Settings
    from mediawatch.store import SourceState

    work = Path(tempfile.mkdtemp(prefix="mw-bench-classify-"))
    (work / "sources.yaml").write_text("version: 1\nsources:\n  - {id: bench, kind: rss, url: 'https://bench.example/rss'}\n")
    settings = Settings(db=f"sqlite:///{work / 'bench.db'}", sources=work / "sources.yaml")
    app = open_app(settings)
    base = real_texts(args.articles)
    now = datetime.now(UTC)
    items = []
    for n in range(args.items):
        title, text, lang = base[n % len(base)]
        if n >= len(base):
            title = f"{title} ({n // len(base)})"
        items.append(Item(id=ItemId(f"b{n:06d}"), source_id=SourceId("bench"), kind=ItemKind.ARTICLE,
                          url=f"https://bench.example/{n}", title=title, summary=text, text=text,
                          published=now - timedelta(minutes=n), fetched=now, language=lang or None))
    app.store.commit_source(SourceId("bench"), items, SourceState(SourceId("bench")), now)

    embedder = build_embedder(settings)
    embedder.embed(["warm up"])  # load the model outside the timings
    tagger = build_tagger(settings, embedder, app.store)  # train or load the heads outside the timings
    texts = tagger.texts([tag_input(i) for i in items])  # what classify embeds: a long text is read in parts
    model = embedder._load()  # the same SentenceTransformer object, for the raw baseline
    # One untimed pass first: torch is slower the first time it meets each input length, and whichever of the
    # two timed runs came first would pay for it (a third of the time with whole articles among the texts).
    model.encode([f"passage: {t}" for t in texts], batch_size=32, normalize_embeddings=True)

    started = time.perf_counter()
    first = run_classify(app, embedder=embedder)
    classify_s = time.perf_counter() - started

    started = time.perf_counter()
    model.encode([f"passage: {t}" for t in texts], batch_size=32, normalize_embeddings=True)
    raw_s = time.perf_counter() - started

    started = time.perf_counter()
    second = run_classify(app, everything=True, embedder=embedder)
    second_s = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"items: {len(items)} real texts (dev.jsonl, real-world feed entries, whole articles; repeated), "
          f"read as {len(texts)} parts")
    print(f"baseline  SentenceTransformer.encode of the same {len(texts)} texts: {raw_s:.1f} s "
          f"({len(items) / raw_s:.1f} items/s)")
    print(f"mediawatch classify (store -> embed -> tag -> store, + stories): {classify_s:.1f} s "
          f"({first.tagged / classify_s:.1f} items/s), embedded {first.embedded}")
    print(f"classify throughput = {100 * raw_s / classify_s:.0f} % of raw encoding (goal >= 85 %)")
    print(f"second run (--all): {second.tagged} re-tagged, {second.embedded} texts re-embedded (goal 0), {second_s:.1f} s")
    print(f"peak RSS: {peak:.0f} MB")


if __name__ == "__main__":
    main()
