"""Benchmark of mediawatch's article extraction on third-party evaluation sets.

1. Article Extraction Benchmark (Zyte/Scrapinghub, 181 pages): precision, recall, F1 and accuracy with the
   benchmark's own measure (4-token shingles, per-page TP/FP/FN normalised to sum 1, averaged over pages),
   for ``extract_article`` and, as the named baseline in the same run, for plain ``trafilatura.extract``
   with default settings.
2. trafilatura's evaluation subset (34 pages): share of "with" snippets found, of "without" snippets kept
   out, and of pages passing both.

Usage:  python bench/bench_articles.py [--shared ../shared] [--sample N] [--jobs 2] [--no-baseline]

The measure is implemented here from its description (shared/eval/articles/README.md); ``score_saved`` on
the saved outputs reproduces the published figures (trafilatura 0.958, html-text 0.665, …), which
tests/test_pages.py checks.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import statistics
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import trafilatura

from mediawatch.collect.pages import extract_article
from mediawatch.errors import ParseError

_TOKEN = re.compile(r"\w+")
SHINGLE = 4
DEFAULT_SHARED = Path(__file__).resolve().parents[1].parent / "shared"

Counts = tuple[float, float, float]  # normalised (tp, fp, fn) of one page


# --- the AEB measure ---


def tokens(text: str | None) -> list[str]:
    return _TOKEN.findall(text or "")


def shingles(text: str | None, n: int = SHINGLE) -> Counter[tuple[str, ...]]:
    """Multiset of n-token shingles; a text shorter than n tokens is one short shingle, an empty one none."""
    words = tokens(text)
    if not words:
        return Counter()
    return Counter(tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1)))


def page_counts(predicted: str | None, truth: str | None) -> Counts:
    """Shared, extra and missing shingles of one page, scaled so that they sum to 1 (long pages don't
    weigh more)."""
    pred, true = shingles(predicted), shingles(truth)
    tp = sum((pred & true).values())
    fp = sum((pred - true).values())
    fn = sum((true - pred).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _precision(c: Counts) -> float:
    tp, fp, fn = c
    return 1.0 if fp == fn == 0 else tp / (tp + fp)


def _recall(c: Counts) -> float:
    tp, fp, fn = c
    return 1.0 if fp == fn == 0 else tp / (tp + fn)


@dataclass(frozen=True, slots=True)
class Score:
    f1: float
    precision: float
    recall: float
    accuracy: float
    pages: int
    f1_std: float = 0.0

    def line(self, name: str) -> str:
        std = f" ± {self.f1_std:.3f}" if self.f1_std else ""
        return (
            f"{name:<34} F1 {self.f1:.3f}{std}  P {self.precision:.3f}  R {self.recall:.3f}  "
            f"accuracy {self.accuracy:.3f}  ({self.pages} pages)"
        )


def _prf(counts: Sequence[Counts]) -> tuple[float, float, float]:
    # A page with nothing predicted has no precision (it is left out of that average), as upstream does.
    precisions = [_precision(c) for c in counts if c[0] + c[1] > 0]
    recalls = [_recall(c) for c in counts if c[0] + c[2] > 0]
    p = statistics.fmean(precisions) if precisions else 0.0
    r = statistics.fmean(recalls) if recalls else 0.0
    return (2 * p * r / (p + r) if p + r else 0.0), p, r


def score(pairs: Iterable[tuple[str | None, str]], *, bootstrap: int = 0, seed: int = 0) -> Score:
    """Score (predicted, truth) pairs. ``bootstrap``: resamples for the F1 standard deviation."""
    pairs = list(pairs)
    counts = [page_counts(pred, truth) for pred, truth in pairs]
    f1, p, r = _prf(counts)
    exact = sum(tokens(pred) == tokens(truth) for pred, truth in pairs)
    std = 0.0
    if bootstrap and counts:
        rng = random.Random(seed)
        samples = [_prf([rng.choice(counts) for _ in counts])[0] for _ in range(bootstrap)]
        std = statistics.stdev(samples)
    return Score(f1, p, r, exact / len(pairs) if pairs else 0.0, len(pairs), std)


# --- data ---


@dataclass(frozen=True, slots=True)
class AebPage:
    id: str
    url: str
    html: bytes
    truth: str


def load_aeb(shared: Path, ids: Iterable[str] | None = None) -> list[AebPage]:
    base = shared / "eval" / "articles" / "scrapinghub-aeb"
    truth = json.loads((base / "ground-truth.json").read_text(encoding="utf-8"))
    wanted = sorted(truth) if ids is None else list(ids)
    return [
        AebPage(
            i,
            truth[i]["url"],
            gzip.decompress((base / "html" / f"{i}.html.gz").read_bytes()),
            truth[i]["articleBody"],
        )
        for i in wanted
    ]


def aeb_sample(shared: Path, size: int) -> list[AebPage]:
    """Every k-th page in id order: a fixed, spread-out sample."""
    base = shared / "eval" / "articles" / "scrapinghub-aeb"
    ids = sorted(json.loads((base / "ground-truth.json").read_text(encoding="utf-8")))
    step = max(1, len(ids) // size)
    return load_aeb(shared, ids[::step][:size])


def score_saved(shared: Path, name: str) -> Score:
    """Score one of upstream's saved outputs (output/<name>.json) against the ground truth."""
    base = shared / "eval" / "articles" / "scrapinghub-aeb"
    truth = json.loads((base / "ground-truth.json").read_text(encoding="utf-8"))
    saved = json.loads((base / "output" / f"{name}.json").read_text(encoding="utf-8"))
    if isinstance(saved.get("output"), dict):
        saved = saved["output"]
    return score(((saved.get(k) or {}).get("articleBody"), v["articleBody"]) for k, v in truth.items())


@dataclass(frozen=True, slots=True)
class SubsetPage:
    key: str
    url: str | None
    html: bytes
    with_: tuple[str, ...]
    without: tuple[str, ...]


def load_subset(shared: Path) -> list[SubsetPage]:
    base = shared / "eval" / "articles" / "trafilatura-eval-subset"
    data = json.loads((base / "evaldata-subset.json").read_text(encoding="utf-8"))
    return [
        SubsetPage(
            key,
            None if key.startswith("hard::") else key,
            gzip.decompress((base / e["file"]).read_bytes()),
            tuple(e.get("with", ())),
            tuple(e.get("without", ())),
        )
        for key, e in sorted(data.items())
    ]


@dataclass(frozen=True, slots=True)
class SubsetScore:
    with_found: int
    with_total: int
    without_absent: int
    without_total: int
    pages_passed: int
    pages: int

    def line(self, name: str) -> str:
        share = self.pages_passed / self.pages
        return (
            f"{name:<34} pages passed {self.pages_passed}/{self.pages} ({share:.0%})  "
            f"with {self.with_found}/{self.with_total}  "
            f"without kept out {self.without_absent}/{self.without_total}"
        )


def _squash(text: str | None) -> str:
    """Whitespace collapsed and Unicode in NFC on both sides, so that composed and decomposed forms of the
    same letters (some snippets are decomposed, extractors may compose) compare equal."""
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def check_subset(texts: Sequence[str | None], pages: Sequence[SubsetPage]) -> SubsetScore:
    found = found_total = absent = absent_total = passed = 0
    for text, page in zip(texts, pages, strict=True):
        flat = _squash(text)
        hits = sum(_squash(s) in flat for s in page.with_)
        leaks = sum(_squash(s) in flat for s in page.without)
        found, found_total = found + hits, found_total + len(page.with_)
        absent, absent_total = absent + len(page.without) - leaks, absent_total + len(page.without)
        passed += hits == len(page.with_) and leaks == 0
    return SubsetScore(found, found_total, absent, absent_total, passed, len(pages))


# --- extractors ---


def ours(html: bytes, url: str | None) -> str:
    try:
        return extract_article(html, url=url or "https://example.invalid/", source_id="bench").text or ""
    except ParseError:
        return ""


def baseline(html: bytes, url: str | None) -> str:
    """Plain trafilatura.extract with default settings, given the page as UTF-8 text (as upstream runs it)."""
    return trafilatura.extract(html.decode("utf-8", errors="replace")) or ""


def _run(job: tuple[Callable[[bytes, str | None], str], bytes, str | None]) -> str:
    extractor, html, url = job
    return extractor(html, url)


def run(
    extractor: Callable[[bytes, str | None], str], docs: Sequence[tuple[bytes, str | None]], jobs: int = 1
) -> list[str]:
    work = [(extractor, html, url) for html, url in docs]
    if jobs <= 1:
        return [_run(w) for w in work]
    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(_run, work, chunksize=4))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--shared", type=Path, default=Path(os.environ.get("MEDIAWATCH_SHARED", DEFAULT_SHARED))
    )
    parser.add_argument("--sample", type=int, default=0, help="AEB pages to use (0 = all 181)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    if not (args.shared / "eval" / "articles").is_dir():
        print(f"no evaluation material at {args.shared}/eval/articles", file=sys.stderr)
        return 2

    pages = aeb_sample(args.shared, args.sample) if args.sample else load_aeb(args.shared)
    docs = [(p.html, p.url) for p in pages]
    print(f"Article Extraction Benchmark, {len(pages)} pages (4-token shingles, per-page normalised)")
    print(score_saved(args.shared, "trafilatura").line("  saved upstream trafilatura output"))
    started = time.perf_counter()
    mine = score(zip(run(ours, docs, args.jobs), (p.truth for p in pages), strict=True), bootstrap=1000)
    print(mine.line("  mediawatch extract_article") + f"  [{time.perf_counter() - started:.1f} s]")
    base: Score | None = None
    if not args.no_baseline:
        started = time.perf_counter()
        base = score(
            zip(run(baseline, docs, args.jobs), (p.truth for p in pages), strict=True), bootstrap=1000
        )
        print(base.line("  baseline trafilatura.extract()") + f"  [{time.perf_counter() - started:.1f} s]")
        print(
            f"  ratio mediawatch / baseline: F1 {mine.f1 / base.f1:.3f}  "
            f"P {mine.precision / base.precision:.3f}  R {mine.recall / base.recall:.3f}"
        )

    subset = load_subset(args.shared)
    sdocs = [(p.html, p.url) for p in subset]
    print(f"\ntrafilatura evaluation subset, {len(subset)} pages (snippets found / kept out)")
    print(check_subset(run(ours, sdocs, args.jobs), subset).line("  mediawatch extract_article"))
    if not args.no_baseline:
        print(check_subset(run(baseline, sdocs, args.jobs), subset).line("  baseline trafilatura.extract()"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
