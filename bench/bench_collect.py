"""Benchmark: `mediawatch collect` on 1,000 feed URLs against a plain sequential httpx.get + feedparser.parse loop.

The real-world feed corpus (../shared/eval/feeds/real-world) is served by the loopback test server under 1,000
distinct paths, each response delayed by 100 ms. Printed: both cold times and their ratio (goal >= 20x), the warm
re-poll (conditional GET, nothing changed) as a fraction of the cold run (goal <= 10 %), the same re-poll sent
through bare asyncio sockets (the loopback server's own floor), the same re-poll through plain httpx clients
with nothing of mediawatch (the HTTP library's floor, with its CPU seconds), the time spent waiting alone (feeds x latency /
concurrency, which no client can beat), and peak memory of each phase (each phase runs in its own process so the figures do not mix).

    .venv/bin/python bench/bench_collect.py [--feeds 1000] [--latency 0.1] [--concurrency 64] [--repeat 3]

In production the 1,000 feeds sit on many hosts; here they share 127.0.0.1, so the per-host limit is raised to the
concurrency for the run (the limit itself is exercised by the tests).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from loopserver import LoopServer  # noqa: E402

SHARED = ROOT.parent / "shared" / "eval" / "feeds" / "real-world"


def corpus() -> list[tuple[bytes, str]]:
    files = sorted(
        p for p in SHARED.rglob("*")
        if p.suffix in (".xml", ".json") and not p.name.endswith(".serde.json") and "observed" not in p.name
    )
    return [(p.read_bytes(), "application/feed+json" if p.suffix == ".json" else "application/xml") for p in files]


def serve(server: LoopServer, n: int, latency: float) -> list[str]:
    docs = corpus()
    urls = []
    for i in range(n):
        body, ctype = docs[i % len(docs)]
        urls.append(server.serve(f"/f/{i}.xml", body, content_type=ctype, delay=latency, etag=f'"v{i}"',
                                 last_modified="Mon, 03 Nov 2025 10:00:00 GMT"))
    return urls


def phase_baseline(urls: list[str]) -> dict[str, float]:
    import feedparser
    import httpx

    started = time.perf_counter()
    entries = 0
    with httpx.Client(timeout=10) as client:
        for url in urls:
            response = client.get(url)
            entries += len(feedparser.parse(response.content).entries)
    return {"seconds": time.perf_counter() - started, "entries": entries}


def phase_floor(urls: list[str], concurrency: int) -> dict[str, float]:
    """The warm re-poll with no HTTP library: bare asyncio sockets send the same conditional GETs (one
    connection each, at the same concurrency) and read the 304s. What is left is the server's and the
    kernel's share, which no client can go below."""
    import asyncio
    from urllib.parse import urlsplit

    async def one(url: str, etag: str, limit: asyncio.Semaphore) -> bool:
        parts = urlsplit(url)
        async with limit:
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
            writer.write(f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nIf-None-Match: {etag}\r\n"
                         f"Connection: close\r\n\r\n".encode())
            reply = await reader.read()
            writer.close()
            return reply.startswith(b"HTTP/1.1 304")

    async def run() -> int:
        limit = asyncio.Semaphore(concurrency)
        return sum(await asyncio.gather(*(one(u, f'"v{i}"', limit) for i, u in enumerate(urls))))

    started = time.perf_counter()
    not_modified = asyncio.run(run())
    return {"seconds": time.perf_counter() - started, "not_modified": not_modified}


def phase_httpx(urls: list[str], concurrency: int) -> dict[str, float]:
    """The warm re-poll through plain httpx and nothing of mediawatch: the same conditional GETs at the same
    concurrency, through clients of 4 connections each (one client with a big pool is much slower: its
    bookkeeping grows with the pool), bodies read whole. This is the HTTP library's own floor; the process's
    CPU seconds show whether the run waits or computes."""
    import asyncio
    import itertools

    import httpx

    verify = httpx.create_ssl_context()  # one for all clients, as mediawatch does (each costs ~0.1 s CPU)

    async def run() -> dict[str, float]:
        limit = asyncio.Semaphore(concurrency)
        clients = [httpx.AsyncClient(timeout=30, verify=verify,
                                     limits=httpx.Limits(max_connections=8, max_keepalive_connections=4))
                   for _ in range(-(-concurrency // 4))]
        turn = itertools.cycle(clients)

        async def one(i: int, url: str) -> bool:
            async with limit:
                response = await next(turn).get(url, headers={"If-None-Match": f'"v{i}"'})
                return response.status_code == 304

        # timed: the requests only (building the clients is left out, so this is a floor)
        cpu, started = time.process_time(), time.perf_counter()
        try:
            not_modified = sum(await asyncio.gather(*(one(i, u) for i, u in enumerate(urls))))
        finally:
            for client in clients:
                await client.aclose()
        return {"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu,
                "not_modified": not_modified}

    return asyncio.run(run())


def phase_mediawatch(urls: list[str], concurrency: int) -> dict[str, float]:
    from mediawatch.app import open_app
    from mediawatch.pipeline import run_collect, select_sources
    from mediawatch.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="mw-bench-"))
    sources = work / "sources.yaml"
    sources.write_text(
        "version: 1\nsources:\n" + "".join(f"  - {{id: feed-{i:04d}, kind: rss, url: '{u}'}}\n" for i, u in enumerate(urls)),
        encoding="utf-8",
    )
    settings = Settings(db=f"sqlite:///{work / 'bench.db'}", sources=sources, concurrency=concurrency,
                        per_host=concurrency, timeout=30)
    app = open_app(settings)
    specs = select_sources(app, all_sources=True)
    cpu = time.process_time()
    cold = run_collect(app, specs)
    cold_cpu, cpu = time.process_time() - cpu, time.process_time()
    warm = run_collect(app, specs)
    warm_cpu = time.process_time() - cpu
    return {
        "cold_seconds": cold.seconds, "warm_seconds": warm.seconds, "cold_cpu_seconds": cold_cpu,
        "warm_cpu_seconds": warm_cpu, "cold_new": cold.items_new,
        "cold_seen": cold.items_seen, "failed": cold.sources_failed, "warm_new": warm.items_new,
        "warm_unchanged": warm.sources_unchanged,
    }


def child(phase: str, urls_file: str, concurrency: int) -> None:
    urls = json.loads(Path(urls_file).read_text())
    if phase == "baseline":
        out = phase_baseline(urls)
    elif phase == "floor":
        out = phase_floor(urls, concurrency)
    elif phase == "httpx":
        out = phase_httpx(urls, concurrency)
    else:
        out = phase_mediawatch(urls, concurrency)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=3, help="mediawatch runs (the machine's speed varies; median shown)")
    ap.add_argument("--phase", help=argparse.SUPPRESS)
    ap.add_argument("--urls", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        child(args.phase, args.urls, args.concurrency)
        return
    if not SHARED.is_dir():
        sys.exit(f"bench: the feed corpus is missing at {SHARED}")
    with LoopServer() as server, tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        urls = serve(server, args.feeds, args.latency)
        json.dump(urls, f)
        f.flush()
        runs: dict[str, list[dict[str, float]]] = {"baseline": [], "floor": [], "httpx": [], "mediawatch": []}
        for phase, times in (("baseline", 1), ("floor", 1), ("httpx", 1), ("mediawatch", args.repeat)):
            for _ in range(times):
                proc = subprocess.run(
                    [sys.executable, __file__, "--phase", phase, "--urls", f.name, "--concurrency", str(args.concurrency)],
                    capture_output=True, text=True, check=False,
                )
                if proc.returncode:
                    sys.exit(f"bench: phase {phase} failed:\n{proc.stderr[-3000:]}")
                runs[phase].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    base = runs["baseline"][0]
    # Each mediawatch run starts from an empty database; the median run (by cold time) is reported.
    ordered = sorted(runs["mediawatch"], key=lambda r: r["cold_seconds"])
    mw = ordered[len(ordered) // 2]
    colds = ", ".join(f"{r['cold_seconds']:.1f}" for r in runs["mediawatch"])
    warms = ", ".join(f"{100 * r['warm_seconds'] / r['cold_seconds']:.0f} %" for r in runs["mediawatch"])
    print(f"feeds: {args.feeds} (corpus of {len(corpus())} files), latency {args.latency * 1000:.0f} ms per response")
    print(f"baseline  sequential httpx.get + feedparser.parse: {base['seconds']:.1f} s, "
          f"{base['entries']:.0f} entries, peak RSS {base['peak_rss_mb']:.0f} MB")
    print(f"mediawatch collect (cold, concurrency {args.concurrency}): {mw['cold_seconds']:.1f} s, "
          f"{mw['cold_new']:.0f} new + {mw['cold_seen']:.0f} already-seen items, {mw['failed']:.0f} sources failed, "
          f"peak RSS {mw['peak_rss_mb']:.0f} MB")
    print(f"speed-up cold vs baseline: {base['seconds'] / mw['cold_seconds']:.1f}x (goal >= 20x); "
          f"median of {len(ordered)} runs (cold s: {colds}; best {base['seconds'] / ordered[0]['cold_seconds']:.1f}x)")
    print(f"warm re-poll: {mw['warm_seconds']:.2f} s = {100 * mw['warm_seconds'] / mw['cold_seconds']:.1f} % of cold "
          f"(goal <= 10 %), {mw['warm_new']:.0f} new, {mw['warm_unchanged']:.0f} unchanged (all runs: {warms})")
    floor = runs["floor"][0]
    print(f"warm floor, bare asyncio sockets (no HTTP library), same conditional GETs: {floor['seconds']:.2f} s = "
          f"{100 * floor['seconds'] / mw['cold_seconds']:.1f} % of cold, {floor['not_modified']:.0f} answered 304")
    plain = runs["httpx"][0]
    print(f"warm floor, plain httpx (same conditional GETs, nothing of mediawatch): {plain['seconds']:.2f} s = "
          f"{100 * plain['seconds'] / mw['cold_seconds']:.1f} % of cold, {plain['cpu_seconds']:.2f} s CPU, "
          f"{plain['not_modified']:.0f} answered 304; mediawatch's re-poll used {mw['warm_cpu_seconds']:.2f} s CPU "
          f"(its cold run {mw['cold_cpu_seconds']:.2f} s, parse workers not counted)")
    # Waiting alone: N responses, each held `latency` by the server, at most `concurrency` at once.
    waiting = args.feeds * args.latency / args.concurrency
    print(f"warm floor, waiting alone (feeds x latency / concurrency): {waiting:.2f} s = "
          f"{100 * waiting / mw['cold_seconds']:.1f} % of cold; <= 10 % together with >= 20x needs a concurrency of "
          f"at least {200 * args.latency / (base['seconds'] / args.feeds):.0f}")


if __name__ == "__main__":
    main()
