"""A prompt, clean stop: a stop requested during a tick starts no further source, cuts off sources still
fetching after the HTTP timeout without writing anything of theirs, ends tagging between batches and puts off a
full feed rebuild; what was left stays due or untagged for the next start. A real `run`-style service process
that gets SIGTERM during a long tick exits well before the tick would have ended, and says what it left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_collect import _article, _page_site
from test_tagger import HashingEmbedder

from mediawatch.app import App, open_app
from mediawatch.enrich import (
    BATCH,
    BATCH_SECONDS,
    FIRST_STOPPABLE_BATCH,
    MIN_BATCH,
    build_embedder,
    next_batch_size,
    run_classify,
    tagger_identity,
)
from mediawatch.labels import make_label
from mediawatch.models import Item, ItemKind, SourceId
from mediawatch.normalize import item_id
from mediawatch.pipeline import CollectReport, run_collect, run_tick, select_sources
from mediawatch.service import Service, TickReport
from mediawatch.settings import Settings
from mediawatch.store import SourceState

pytestmark = pytest.mark.usefixtures("no_backoff")

WAIT = 60.0  # seconds any awaited event may take on a loaded machine before the test gives up



def rss(name: str, count: int = 2) -> str:
    items = "".join(
        f"<item><title>Казахи {name}: новость {n}</title><link>http://news.example/{name}/{n}</link>"
        f"<description>Казахская община {name} собралась на праздник Наурыз {n}.</description></item>"
        for n in range(count)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>{items}</channel></rss>'


def make_app(tmp_path: Path, stanzas: list[str], **settings: object) -> App:
    sources = tmp_path / "sources.yaml"
    sources.write_text("version: 1\nsources:\n" + "".join(stanzas), encoding="utf-8")
    base: dict[str, object] = {"timeout": 5.0, "connect_timeout": 2.0, "retries": 1, "concurrency": 1,
                               "parse_workers": 1, "cache_dir": tmp_path / "cache", "digests": tmp_path / "digests"}
    base.update(settings)
    return open_app(Settings(db=f"sqlite:///{tmp_path / 'mw.db'}", sources=sources, **base))


def feed_sources(loopserver, names: list[str], *, delay: float) -> list[str]:
    for name in names:
        loopserver.serve(f"/{name}.xml", rss(name), content_type="application/rss+xml", delay=delay)
    return [f"  - {{id: {n}, kind: rss, url: '{loopserver.url(f'/{n}.xml')}'}}\n" for n in names]


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


def in_thread(fn: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []

    def run() -> None:
        try:
            out.append(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread, which re-raises it
            out.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def result_of(thread: threading.Thread, out: list[object]) -> object:
    thread.join(WAIT)
    assert not thread.is_alive(), "the run did not end after the stop"
    (value,) = out
    if isinstance(value, BaseException):
        raise value
    return value


def requested(loopserver, names: list[str]) -> list[str]:
    return [n for n in names if loopserver.requests_for(f"/{n}.xml")]


def stored_by_source(app: App) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in app.store.export_rows():
        counts[row["source_id"]] = counts.get(row["source_id"], 0) + 1
    return counts


# --------------------------------------------------------------------------------------------- collect


def test_a_stop_during_collection_starts_no_further_source(tmp_path: Path, loopserver) -> None:
    names = [f"f{n}" for n in range(6)]
    app = make_app(tmp_path, feed_sources(loopserver, names, delay=1.5))  # one source at a time
    stop = threading.Event()
    thread, out = in_thread(lambda: run_collect(app, select_sources(app), stop=stop))
    wait_for(lambda: bool(loopserver.requests_for("/f0.xml")), "the first source's request")
    stop.set()  # while f0's response is still 1.5 s away
    report = result_of(thread, out)
    assert isinstance(report, CollectReport)

    assert requested(loopserver, names) == ["f0"]  # nothing started after the stop
    assert report.stopped and sorted(report.not_started) == names[1:] and report.cut_off == []
    assert "5 sources not started" in report.summary()
    # the source in flight finished within the grace and was committed; the others stay due, untouched
    assert report.sources_ok == 1 and report.items_new == 2
    assert stored_by_source(app) == {"f0": 2}
    assert sorted(app.store.due_sources(app.now())) == names[1:]
    assert all(app.store.source_state(n).last_attempt is None for n in names[1:])
    # the next run collects exactly what was left
    loopserver.clear_requests()
    feed_sources(loopserver, names, delay=0.0)
    again = run_collect(app, select_sources(app))
    assert requested(loopserver, names) == names[1:] and again.items_new == 10 and not again.stopped


def test_a_source_still_fetching_after_the_grace_is_cut_off_without_a_trace(tmp_path: Path, loopserver) -> None:
    """A page source fetching nine slow articles one by one outlives the stop's grace (the HTTP timeout):
    it is cancelled, nothing of it is written (no items, no validators that would hide its articles from the
    next run), and the next run collects it whole."""
    titles = [f"Казахи Омска: событие {n}" for n in range(1, 10)]
    count = len(titles)
    paths = _page_site(loopserver, titles)

    def articles(delay: float) -> None:
        for n, (path, title) in enumerate(zip(paths, titles, strict=True), 1):
            loopserver.serve(path, _article(title, n), content_type="text/html; charset=utf-8", delay=delay)

    articles(delay=1.5)
    app = make_app(tmp_path, [f"  - {{id: portal, kind: page, url: '{loopserver.url('/')}'}}\n"],
                   timeout=2.5, per_host=1)
    stop = threading.Event()
    thread, out = in_thread(lambda: run_collect(app, select_sources(app), stop=stop))
    wait_for(lambda: bool(loopserver.requests_for("/")), "the listing's request")
    stop.set()
    stopped_at = time.monotonic()
    report = result_of(thread, out)
    took = time.monotonic() - stopped_at
    assert isinstance(report, CollectReport)

    fetched = [p for p in paths if loopserver.requests_for(p)]
    assert len(fetched) < count  # the articles left were never asked for
    assert took < count * 1.5  # well before the source would have finished (grace 2.5 s + slack)
    assert report.cut_off == ["portal"] and report.not_started == [] and report.items_new == 0
    assert report.sources_ok == 0 and report.sources_failed == 0
    assert stored_by_source(app) == {}
    state = app.store.source_state("portal")
    assert state.last_attempt is None and state.etag is None and state.content_hash is None
    assert app.store.due_sources(app.now()) == ["portal"]

    articles(delay=0.0)
    again = run_collect(app, select_sources(app))
    assert again.sources_ok == 1 and again.items_new == count and again.cut_off == []
    assert stored_by_source(app) == {"portal": count}


def test_a_stop_already_set_collects_nothing(tmp_path: Path, loopserver) -> None:
    names = ["feed-a", "feed-b"]
    app = make_app(tmp_path, feed_sources(loopserver, names, delay=0.0))
    stop = threading.Event()
    stop.set()
    report = run_collect(app, select_sources(app), stop=stop)
    assert report.stopped and report.not_started == names and requested(loopserver, names) == []
    assert sorted(app.store.due_sources(app.now())) == names


# --------------------------------------------------------------------------------------------- tagging

NOW = datetime(2025, 11, 3, 12, tzinfo=UTC)


def stored_items(app: App, count: int) -> None:
    places = ["Омск", "Стамбул", "Баян-Өлгий", "Урумчи", "Берлин"]
    items = []
    for n in range(count):
        url = f"https://news.example/{n}"
        title = f"Казахи города {places[n % len(places)]} отметили праздник номер {n}"
        items.append(Item(id=item_id(url), source_id=SourceId("feed-a"), kind=ItemKind.ARTICLE, url=url,
                          title=title, summary=title, text=title, published=NOW + timedelta(minutes=n),
                          fetched=NOW, language="ru"))
    app.store.commit_source(SourceId("feed-a"), items, SourceState(SourceId("feed-a")), NOW)


def tagging_app(tmp_path: Path) -> App:
    return make_app(tmp_path, ["  - {id: feed-a, kind: rss, url: 'https://news.example/rss'}\n"])


@pytest.mark.slow  # trains the tagger's heads (with the hashing embedder)
def test_a_stop_during_tagging_ends_between_batches(tmp_path: Path) -> None:
    app = tagging_app(tmp_path)
    total = 100
    stored_items(app, total)
    embedder = HashingEmbedder()
    stop = threading.Event()
    batches: list[int] = []

    def progress(done: int, of: int) -> None:
        batches.append(done)
        stop.set()  # requested while the first batch was being tagged

    report = run_classify(app, embedder=embedder, stop=stop, progress=progress)
    assert len(batches) == 1  # no batch began after the stop
    assert report.stopped and 0 < report.tagged < total and report.left == total - report.tagged
    assert f"{report.left} items left untagged" in report.summary()
    rows = list(app.store.export_rows())
    tagged = [r for r in rows if r["relevant"] is not None]
    assert len(tagged) == report.tagged
    assert all(r["story_id"] is not None for r in tagged)  # what was tagged is placed into stories too
    assert report.stories == report.tagged
    model, key = tagger_identity(app.settings, embedder, app.store)
    assert len(app.store.items_to_classify(model, key)) == report.left

    rest = run_classify(app, embedder=embedder)  # the next run tags exactly what was left
    assert rest.tagged == report.left and not rest.stopped
    assert all(r["relevant"] is not None for r in app.store.export_rows())


def test_a_stop_before_tagging_loads_no_model(tmp_path: Path) -> None:
    app = tagging_app(tmp_path)
    stored_items(app, 5)
    embedder = HashingEmbedder()
    stop = threading.Event()
    stop.set()
    report = run_classify(app, embedder=embedder, stop=stop)
    assert report.stopped and report.tagged == 0 and report.left == 5
    assert embedder.calls == []  # neither heads trained nor items embedded
    assert all(r["relevant"] is None for r in app.store.export_rows())


def test_stoppable_batches_follow_the_pace_of_the_last_one() -> None:
    per_second = 3.3  # long texts through e5-small on a busy 2-core machine
    assert next_batch_size(32, 32 / per_second) == int(BATCH_SECONDS * per_second)
    assert next_batch_size(32, 0.001) == 64  # fast (cached) batches grow by doubling only
    assert next_batch_size(32, 0.0) == 64
    assert next_batch_size(BATCH, 0.001) == BATCH
    assert next_batch_size(8, 600.0) == MIN_BATCH
    size = 32
    for _ in range(20):  # at a steady pace the size settles where a batch takes BATCH_SECONDS
        size = next_batch_size(size, size / per_second)
    assert abs(size / per_second - BATCH_SECONDS) < 1.0


# --------------------------------------------------------------------------------------------- the tick


@pytest.mark.slow  # trains the tagger's heads (with the hashing embedder)
def test_a_stop_during_a_tick_leaves_the_rest_for_the_next_one(tmp_path: Path, loopserver) -> None:
    names = [f"t{n}" for n in range(5)]
    app = make_app(tmp_path, feed_sources(loopserver, names, delay=1.5))
    embedder = HashingEmbedder()
    stop = threading.Event()
    thread, out = in_thread(lambda: run_tick(app, embedder=embedder, stop=stop))
    wait_for(lambda: bool(loopserver.requests_for("/t0.xml")), "the first source's request")
    stop.set()
    report = result_of(thread, out)
    assert isinstance(report, TickReport)
    assert report.stopped and report.new_items == 2 and sorted(report.not_started) == names[1:]
    assert report.tagged == 0 and report.untagged == 2 and embedder.calls == []  # tagging never began
    assert report.feeds_put_off and report.feeds == 0  # the first full rebuild waits for the next tick
    digests = tmp_path / "digests"
    assert not digests.exists() or not any(digests.rglob("*"))

    loopserver.clear_requests()
    feed_sources(loopserver, names, delay=0.0)  # the next tick runs at full speed
    nxt = run_tick(app, embedder=embedder)
    assert isinstance(nxt, TickReport)
    assert requested(loopserver, names) == names[1:] and nxt.new_items == 8 and nxt.tagged == 10
    assert not nxt.stopped and not nxt.feeds_put_off
    assert (digests / "feeds.opml").is_file() and (digests / "feeds" / ".manifest").is_file()
    assert not [p for p in digests.rglob("*") if p.name.endswith(".tmp")]  # no half-written file anywhere


@pytest.mark.slow  # trains the tagger's heads (with the hashing embedder)
def test_a_tick_tags_for_part_of_the_interval_and_new_items_go_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: after an editor's correction retrained the heads, one tick re-tagged the whole archive (six
    minutes for 61,000 items in an audit) while no source was collected, the scheduler skipping tick after
    tick, and items collected meanwhile waited behind every old one."""
    import mediawatch.pipeline as pipeline

    app = tagging_app(tmp_path)
    stored_items(app, 60)
    embedder = HashingEmbedder()
    assert run_classify(app, embedder=embedder).tagged == 60
    app.store.save_label(make_label(item_id("https://news.example/0"), False, (), (), editor="ed", note=None,
                                    now=NOW))  # new heads: every stored item waits for new tags
    fresh = [Item(id=item_id(f"https://news.example/new{n}"), source_id=SourceId("feed-a"), kind=ItemKind.ARTICLE,
                  url=f"https://news.example/new{n}", title=f"Казахи Омска {n}", summary="", text="",
                  published=NOW - timedelta(days=30), fetched=NOW, language="ru") for n in range(3)]
    app.store.commit_source(SourceId("feed-a"), fresh, SourceState(SourceId("feed-a")), NOW)
    monkeypatch.setattr(pipeline, "TICK_TAGGING_SHARE", 0.0)  # out of time at once: one batch, no more
    monkeypatch.setattr(pipeline, "TICK_TAGGING_MIN_SHARE", 0.0)
    report = run_tick(app, embedder=embedder)
    assert isinstance(report, TickReport)
    assert report.tagged == FIRST_STOPPABLE_BATCH and report.untagged == 63 - FIRST_STOPPABLE_BATCH
    assert not report.stopped  # out of time is not a stop
    model, key = tagger_identity(app.settings, embedder, app.store)
    left = app.store.items_to_classify(model, key)
    assert not {i.id for i in fresh} & set(left)  # never-tagged items first, although published earliest
    # then the re-tag, newest first: those re-tagged are the newest of the old items
    retagged = sorted(set(item_id(f"https://news.example/{n}") for n in range(60)) - set(left))
    assert retagged == sorted(item_id(f"https://news.example/{n}") for n in range(60 - FIRST_STOPPABLE_BATCH + 3, 60))
    # collecting took the whole tick (the share is spent before tagging begins): tagging still gets its minimum
    monkeypatch.setattr(pipeline, "TICK_TAGGING_MIN_SHARE", 0.2)
    assert isinstance(nxt := run_tick(app, embedder=embedder), TickReport)
    assert nxt.tagged == 63 - FIRST_STOPPABLE_BATCH and nxt.untagged == 0 and app.store.items_to_classify(model, key) == []


@pytest.mark.slow  # imports sentence-transformers to fail loading a model that is not there
def test_a_tick_whose_model_cannot_load_keeps_the_items_and_says_how_many_wait(
    tmp_path: Path, loopserver, caplog: pytest.LogCaptureFixture
) -> None:
    names = ["m0", "m1"]
    app = make_app(tmp_path, feed_sources(loopserver, names, delay=0.0), model=str(tmp_path / "no-such-model"))
    report = run_tick(app, embedder=build_embedder(app.settings))
    assert isinstance(report, TickReport)
    assert report.new_items == 4 and report.tagged == 0 and report.untagged == 4
    assert any("tagging skipped: cannot load embedding model" in r.getMessage() for r in caplog.records)
    assert app.store.count_never_tagged() == 4  # collected and kept for the tick that has a model


def test_the_service_hands_its_stop_event_to_the_tick(tmp_path: Path) -> None:
    app = tagging_app(tmp_path)
    seen: list[object] = []

    def stoppable(a: App, stop: threading.Event) -> TickReport:
        seen.append(stop)
        return TickReport(0, 0, 0, 0, 0, 0.0)

    service = Service(app, tick=stoppable, digest=lambda a, now: None)
    assert service.tick() is not None and seen == [service.stopping]


# --------------------------------------------------------------------------------------------- a real process



@pytest.mark.slow
def test_sigterm_during_a_long_tick_stops_the_service_promptly(tmp_path: Path, loopserver) -> None:
    """40 sources at 3 s each, one at a time: a two-minute tick. SIGTERM while the first is being fetched ends
    the process in seconds; the first source is stored, the others were never requested and stay due."""
    names = [f"s{n:02d}" for n in range(40)]
    stanzas = feed_sources(loopserver, names, delay=3.0)
    (tmp_path / "sources.yaml").write_text("version: 1\nsources:\n" + "".join(stanzas), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'mw.db'}"
    env = {**os.environ, "MEDIAWATCH_DB": db, "MEDIAWATCH_SOURCES": str(tmp_path / "sources.yaml"),
           "MEDIAWATCH_TICK_MINUTES": "60", "MEDIAWATCH_CONCURRENCY": "1", "MEDIAWATCH_TIMEOUT": "10",
           "MEDIAWATCH_PARSE_WORKERS": "1", "MEDIAWATCH_LOG_FORMAT": "json", "MEDIAWATCH_LOG_LEVEL": "INFO",
           "MEDIAWATCH_CACHE_DIR": str(tmp_path / "cache"), "MEDIAWATCH_DIGESTS": str(tmp_path / "digests")}
    proc = subprocess.Popen([sys.executable, "-m", "mediawatch", "run"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + WAIT
        while not loopserver.requests_for("/s00.xml"):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the service never started collecting"
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        _, err = proc.communicate(timeout=WAIT)
        took = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert took < 30, f"{took:.1f} s from SIGTERM to exit"  # the whole tick would take 120 s

    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    by_msg = {line["msg"]: line for line in lines}
    assert by_msg["stop requested"]["reason"] == "SIGTERM" and by_msg["stop requested"]["tick_running"] is True
    stopped = by_msg["service stopped"]
    fetched = requested(loopserver, names)
    assert 1 <= len(fetched) <= 2 and fetched[0] == "s00"  # one in flight (two only if the stop came late)
    assert stopped["tick_cut_short"] is True and stopped["reason"] == "SIGTERM"
    assert stopped["sources_not_started"] == len(names) - len(fetched) and stopped["sources_cut_off"] == 0
    assert stopped["items_untagged"] == 2 * len(fetched) and stopped["feeds_rebuild"] == "next tick"

    app = open_app(Settings(db=db, sources=tmp_path / "sources.yaml"))
    assert stored_by_source(app) == {n: 2 for n in fetched}
    assert sorted(app.store.due_sources(app.now())) == [n for n in names if n not in fetched]
    assert app.store.lock_holder("run") is None  # the lock is released: the next start is not refused
    assert not (tmp_path / "digests" / "feeds").exists()
