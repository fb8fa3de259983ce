"""A page source fetches its listing's new articles concurrently, a few at a time and within the per-host limit;
results keep the listing's order, and a 429 stops new requests. Against the real loopback server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from collectapp import ARTICLE, make_app, page
from loopserver import LoopServer, RecordedRequest, Response

import mediawatch
from mediawatch.app import App
from mediawatch.collect.runner import SourceCollector, SourceOutcome
from mediawatch.http import Fetcher, build_client
from mediawatch.pipeline import select_sources
from mediawatch.robots import RobotsCache

pytestmark = pytest.mark.usefixtures("no_backoff")


def site(srv: LoopServer, delays: list[float]) -> tuple[list[str], list[str]]:
    """A listing linking ``len(delays)`` articles, article ``i`` answering after ``delays[i]`` seconds.
    Returns (paths, titles) in listing order."""
    paths = [f"/news/2025/11/story-{n:02d}" for n in range(len(delays))]
    titles = [f"Казахская община, новость номер {n}" for n in range(len(delays))]
    links = "".join(
        f'<li><article><h2><a href="{p}">{t}</a></h2></article></li>' for p, t in zip(paths, titles)
    )
    srv.serve("/", f"<!doctype html><html><body><ul>{links}</ul></body></html>", content_type="text/html")
    srv.serve("/robots.txt", "User-agent: *\nDisallow: /private/\n")
    for path, title, delay in zip(paths, titles, delays):
        srv.serve(path, ARTICLE.format(title=title), content_type="text/html; charset=utf-8", delay=delay)
    return paths, titles


def portal_app(tmp_path: Path, srv: LoopServer, *, per_host: int) -> App:
    return make_app(tmp_path, [page("portal", srv.url("/"))], per_host=per_host)


def collect_once(app: App, *, articles_at_once: int | None = None) -> SourceOutcome:
    """One collection of the page source through SourceCollector (the pipeline's collector), committed."""
    [spec] = select_sources(app, all_sources=True)

    async def run() -> SourceOutcome:
        settings = app.settings
        async with build_client(settings) as client:
            fetcher = Fetcher(client, settings)
            robots = RobotsCache(fetcher, settings.user_agent_string(mediawatch.__version__))
            tuning = {} if articles_at_once is None else {"articles_at_once": articles_at_once}
            collector = SourceCollector(
                fetcher, robots, known_urls=app.store.known_urls, clock=app.clock, **tuning
            )
            return await collector.collect(spec, app.store.source_states([spec.id])[spec.id])

    outcome = asyncio.run(run())
    app.store.commit_source(spec.id, outcome.items, outcome.state, app.now())
    return outcome


def peak_overlap(requests: list[RecordedRequest], delays: dict[str, float]) -> int:
    """Most requests whose scripted delay [arrival, arrival + delay) overlapped. A client that waits for an
    answer before its next request never overlaps itself here, so this counts requests truly at once."""
    events = sorted(
        [(r.at, 1) for r in requests] + [(r.at + delays[r.path], -1) for r in requests],
        key=lambda e: (e[0], e[1]),  # an end before a start at the same instant
    )
    peak = current = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak


def article_requests(srv: LoopServer) -> list[RecordedRequest]:
    return [r for r in srv.requests if r.path.startswith("/news/")]


@pytest.mark.parametrize(("per_host", "bound"), [(8, 4), (2, 2)])
def test_new_articles_are_fetched_concurrently_within_the_bounds_and_kept_in_listing_order(
    tmp_path: Path, loopserver: LoopServer, per_host: int, bound: int
) -> None:
    """Ten slow articles: at most ``min(4, per_host)`` are requested at once (and that many really are), each
    exactly once; the first ones answer last, yet the items come out in listing order."""
    # 1.35 s down to 0.54 s: later articles finish first; long enough that a request reaching the server a few
    # tenths of a second late (a stalled test process) does not change which requests overlapped
    delays = [1.35 - 0.09 * n for n in range(10)]
    paths, titles = site(loopserver, delays)
    app = portal_app(tmp_path, loopserver, per_host=per_host)
    outcome = collect_once(app)
    assert outcome.ok and outcome.warning is None, outcome.reason or outcome.warning
    requests = article_requests(loopserver)
    assert sorted(r.path for r in requests) == paths  # each article exactly once
    assert peak_overlap(requests, dict(zip(paths, delays))) == bound
    assert loopserver.max_in_flight >= bound
    # the first ones in the listing were started first ...
    assert {r.path for r in sorted(requests, key=lambda r: r.at)[:bound]} == set(paths[:bound])
    # ... finished out of it, and the items still follow the listing
    assert [i.title for i in outcome.items] == titles
    assert [i.url for i in outcome.items] == [loopserver.url(p) for p in paths]
    assert {i["title"] for i in app.store.export_rows()} == set(titles)


def test_a_429_stops_new_article_requests_and_keeps_those_already_sent(
    tmp_path: Path, loopserver: LoopServer
) -> None:
    """The first article answers 429 (Retry-After) at once while three more are in flight: those three are
    finished and stored, the other four are never requested this run, the source waits as asked, and the next
    run fetches what is left."""
    delays = [0.0] + [0.4] * 7
    paths, titles = site(loopserver, delays)
    loopserver.sequence(
        paths[0],
        Response(status=429, body=b"slow down", retry_after="3600"),
        Response(body=ARTICLE.format(title=titles[0]).encode(), content_type="text/html; charset=utf-8"),
    )
    app = portal_app(tmp_path, loopserver, per_host=8)
    before = datetime.now(UTC)
    outcome = collect_once(app)
    assert outcome.ok, outcome.reason
    assert sorted(r.path for r in article_requests(loopserver)) == paths[:4]
    assert [i.title for i in outcome.items] == titles[1:4]
    assert outcome.warning == (
        "4 articles left for the next run (HTTP 429 (retry after 3600 s)); "
        f"1 of 8 articles failed (first: {loopserver.url(paths[0])}: HTTP 429 (retry after 3600 s))"
    )
    assert outcome.state.next_check is not None
    assert (outcome.state.next_check - before).total_seconds() >= 3600 - 5
    assert outcome.state.content_hash is None  # work left: the listing's hash is not kept

    loopserver.clear_requests()
    again = collect_once(app)
    assert again.ok and again.warning is None, again.reason or again.warning
    assert sorted(r.path for r in article_requests(loopserver)) == [paths[0], *paths[4:]]
    assert {i["title"] for i in app.store.export_rows()} == set(titles)


def test_an_article_waiting_for_its_hosts_slot_is_not_sent_after_a_429(
    tmp_path: Path, loopserver: LoopServer
) -> None:
    """Three articles at once but one slot per host: the second answers 429 while the third waits for the
    host's slot inside the Fetcher; the third is then withdrawn, not sent, and left for the next run."""
    paths, titles = site(loopserver, [0.0, 0.0, 0.0])
    loopserver.sequence(
        paths[1],
        Response(status=429, body=b"slow down", retry_after="3600"),
        Response(body=ARTICLE.format(title=titles[1]).encode(), content_type="text/html; charset=utf-8"),
    )
    app = portal_app(tmp_path, loopserver, per_host=1)
    outcome = collect_once(app, articles_at_once=3)
    assert [r.path for r in article_requests(loopserver)] == paths[:2]
    assert [i.title for i in outcome.items] == titles[:1]
    assert outcome.warning is not None
    assert outcome.warning.startswith("1 articles left for the next run (HTTP 429 (retry after 3600 s))")
    loopserver.clear_requests()
    assert collect_once(app, articles_at_once=3).ok
    assert sorted(r.path for r in article_requests(loopserver)) == paths[1:]
    assert {i["title"] for i in app.store.export_rows()} == set(titles)
