"""Orchestration: the only module that mixes collectors, the store and (later) the tagger.

Every entry point (the CLI's ``collect``, the service's tick, the demo) calls these same functions.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mediawatch.app import App
from mediawatch.errors import ConfigError
from mediawatch.models import ItemId, SourceId
from mediawatch.sourcefile import SourceSpec
from mediawatch.store import AddReport, SourceState

if TYPE_CHECKING:
    from mediawatch.collect.runner import SourceOutcome

logger = logging.getLogger(__name__)


@dataclass
class CollectReport:
    sources_ok: int = 0
    sources_failed: int = 0
    sources_unchanged: int = 0
    items_new: int = 0
    items_seen: int = 0
    new_ids: list[ItemId] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # source id -> reason
    warnings: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    stopped: bool = False  # a stop was requested during the run
    not_started: list[str] = field(default_factory=list)  # left for the stop before they started: still due
    cut_off: list[str] = field(default_factory=list)  # still in flight when the stop's grace ran out: still due

    def summary(self) -> str:
        text = (
            f"sources: {self.sources_ok} ok ({self.sources_unchanged} unchanged), {self.sources_failed} failed; "
            f"items: {self.items_new} new, {self.items_seen} already seen; {self.seconds:.1f} s"
        )
        if self.stopped:
            text += (
                f"; stopped early: {len(self.not_started)} sources not started, {len(self.cut_off)} cut off "
                "(still due)"
            )
        return text


Progress = Callable[[str, bool], None]  # (source id, ok) after each source
STATE_BATCH = 100  # unchanged or failed sources' states written together...
STATE_FLUSH_SECONDS = 5.0  # ...or after this long, so that a killed run loses little of their health
POOL_MIN_SOURCES = 8  # below this, parsing inline is cheaper than starting worker processes
STOP_POLL = 0.1  # seconds between looks at the stop event while sources are collected
# A tick tags until it has lasted this share of the tick interval; the rest waits for the next ticks, so a re-tag
# of a large archive (after an editor's correction retrains the heads) never holds up collection...
TICK_TAGGING_SHARE = 0.8
# ...but it always has at least this share of the interval for tagging, however long collecting took, so that
# tagging keeps up when collection is slow.
TICK_TAGGING_MIN_SHARE = 0.2


def select_sources(app: App, ids: Sequence[str] = (), *, all_sources: bool = False) -> list[SourceSpec]:
    """The named sources, every enabled one (``all_sources``), or those due now."""
    if ids:
        unknown = [i for i in ids if app.sourcefile.get(i) is None]
        if unknown:
            known = ", ".join(s.id for s in app.sourcefile.sources)
            raise ConfigError(f"unknown source id(s): {', '.join(unknown)}", [
                f"{app.sourcefile.path}: no source with id {i!r} (known: {known})" for i in unknown
            ])
        return [s for i in dict.fromkeys(ids) if (s := app.sourcefile.get(i)) is not None]
    enabled = [s for s in app.sourcefile.sources if s.enabled]
    if all_sources:
        return enabled
    due = set(app.store.due_sources(app.now()))
    return [s for s in enabled if s.id in due]


def run_collect(
    app: App,
    specs: Sequence[SourceSpec],
    *,
    progress: Progress | None = None,
    per_host: int | None = None,
    transport: object | None = None,
    stop: threading.Event | None = None,
) -> CollectReport:
    """Collect ``specs`` concurrently; commit each source's items and state as soon as it finishes.

    Once ``stop`` is set no further source starts; sources already being fetched get ``settings.timeout``
    seconds to finish, then they are cancelled before anything of theirs is written. Sources left either way
    keep their stored state, so they stay due and the next run collects them (``CollectReport.not_started``,
    ``CollectReport.cut_off``). Without ``stop`` the run never stops early.
    """
    if stop is not None and stop.is_set():
        report = CollectReport(stopped=True, not_started=[s.id for s in specs])
        logger.info("collect skipped: stop requested", extra={"fields": {"sources": len(specs)}})
        return report
    return asyncio.run(
        _collect(app, specs, progress=progress, per_host=per_host, transport=transport, stop=stop)
    )


async def _collect(
    app: App,
    specs: Sequence[SourceSpec],
    *,
    progress: Progress | None,
    per_host: int | None,
    transport: object | None,
    stop: threading.Event | None = None,
) -> CollectReport:
    from concurrent.futures import ThreadPoolExecutor
    from contextlib import AsyncExitStack

    from mediawatch import __version__
    from mediawatch.addresses import PrivateAccess
    from mediawatch.collect.runner import SourceCollector, inline, internal_error, process_offload
    from mediawatch.http import Fetcher, build_clients
    from mediawatch.robots import RobotsCache

    started = time.monotonic()
    report = CollectReport()
    settings = app.settings
    pool = _parse_pool(settings.parse_workers, len(specs))
    # one writer thread: SQLite's single-writer rule kept, and the event loop never waits on a commit
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mediawatch-writer")
    loop = asyncio.get_running_loop()
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(c) for c in build_clients(settings, transport=transport)]  # type: ignore[arg-type]
        named = [*specs, *app.sourcefile.sources]  # a private address is reachable only where a source names it
        private = PrivateAccess.from_urls([settings.youtube_base, *(u for s in named for u in (s.url, s.feed_url))])
        fetcher = Fetcher(clients, settings, per_host=per_host, private=private)
        robots = RobotsCache(fetcher, settings.user_agent_string(__version__))
        collector = SourceCollector(
            fetcher,
            robots,
            known_urls=app.store.known_urls,
            clock=app.clock,
            offload=process_offload(pool) if pool else inline,
            youtube_base=settings.youtube_base,
        )
        limit = asyncio.Semaphore(settings.concurrency)
        states = app.store.source_states([s.id for s in specs])

        pending: list[SourceState] = []  # states of sources that brought no items, written in batches
        unchanged: set[str] = set()  # counted as ok and unchanged (in case their state then fails to store)
        by_id = {s.id: s for s in specs}

        def store_failure(spec: SourceSpec, exc: Exception) -> SourceOutcome:
            """``spec``'s outcome could not be stored: record the source as failed, its state as stored
            before with the failure counted (so it backs off). When even that cannot be written, the store
            itself is broken: the original error ends the run."""
            from mediawatch.store import refuses_every_write

            if refuses_every_write(exc):
                raise exc  # a full or read-only database: the run ends with one line, no source is blamed
            reason = internal_error(exc)
            logger.error("storing a source failed", extra={"fields": {"source_id": spec.id, "reason": reason}})
            logger.debug("storing a source failed: traceback", exc_info=exc)
            failed = collector.failure(spec, states[spec.id], reason)
            try:
                app.store.save_source_state(failed.state)
            except Exception:
                raise exc from None
            return failed

        def save_states(batch: list[SourceState]) -> list[tuple[SourceState, Exception]]:
            """Write ``batch`` in one transaction; should that fail, each state alone. The states that still
            cannot be written come back with their errors."""
            try:
                app.store.save_source_states(batch)
                return []
            except Exception as exc:  # one unstorable state must not cost the others theirs
                logger.warning("batch of source states failed; writing them one by one",
                               extra={"fields": {"reason": internal_error(exc)}})
                logger.debug("batch of source states failed: traceback", exc_info=exc)
            failed: list[tuple[SourceState, Exception]] = []
            for state in batch:
                try:
                    app.store.save_source_state(state)
                except Exception as exc:
                    failed.append((state, exc))
            return failed

        def recount(failed: SourceOutcome) -> None:
            """A source counted as ok whose state then could not be stored: counted as failed instead."""
            if failed.source_id not in report.failures:
                report.sources_ok -= 1
                report.sources_failed += 1
                report.sources_unchanged -= int(failed.source_id in unchanged)
            report.failures[failed.source_id] = failed.reason or "failed"

        last_flush = loop.time()

        async def flush() -> None:
            nonlocal last_flush
            last_flush = loop.time()
            batch = pending[:]
            pending.clear()
            if batch:
                for state, exc in await loop.run_in_executor(writer, save_states, batch):
                    recount(await loop.run_in_executor(writer, store_failure, by_id[state.source_id], exc))

        def commit(spec: SourceSpec, outcome: SourceOutcome) -> tuple[SourceOutcome, AddReport]:
            try:
                added = app.store.commit_source(SourceId(spec.id), outcome.items, outcome.state, app.now())
            except Exception as exc:  # one source's unstorable outcome: it fails, the run goes on
                return store_failure(spec, exc), AddReport((), 0)
            return outcome, added

        in_flight: dict[str, asyncio.Task[SourceOutcome]] = {}

        async def one(spec: SourceSpec) -> None:
            async with limit:
                if stop is not None and stop.is_set():
                    report.not_started.append(spec.id)  # its state is untouched: still due
                    return
                # a task of its own, so that a stop can cancel the fetching and never the commit below
                fetch = asyncio.ensure_future(collector.collect(spec, states[spec.id]))
                in_flight[spec.id] = fetch
                try:
                    outcome = await fetch
                except asyncio.CancelledError:
                    me = asyncio.current_task()
                    if fetch.cancelled() and not (me is not None and me.cancelling()):
                        report.cut_off.append(spec.id)  # cancelled by the stop: nothing written, still due
                        return
                    raise
                finally:
                    del in_flight[spec.id]
            batched = not outcome.items  # no items: its state is written with others', after it is counted
            if batched:
                added = AddReport((), 0)
            else:
                outcome, added = await loop.run_in_executor(writer, commit, spec, outcome)
            if outcome.ok:
                report.sources_ok += 1
                report.sources_unchanged += int(outcome.unchanged)
                if outcome.unchanged:
                    unchanged.add(spec.id)
            else:
                report.sources_failed += 1
                report.failures[spec.id] = outcome.reason or "failed"
            if outcome.warning:
                report.warnings[spec.id] = outcome.warning
            report.items_new += len(added.new)
            report.items_seen += added.seen
            report.new_ids.extend(added.new)
            logger.info(
                "source collected" if outcome.ok else "source failed",
                extra={"fields": {"source_id": spec.id, "new": len(added.new), "seen": added.seen,
                                  "reason": outcome.reason or ""}},
            )
            if progress:
                progress(spec.id, outcome.ok)
            if batched:
                pending.append(outcome.state)
                if len(pending) >= STATE_BATCH or loop.time() - last_flush >= STATE_FLUSH_SECONDS:
                    await flush()

        watcher = (
            asyncio.ensure_future(_cut_off_after_stop(stop, in_flight, grace=settings.timeout, report=report))
            if stop is not None
            else None
        )
        try:
            await asyncio.gather(*(one(s) for s in specs))
            await flush()
        finally:
            if watcher is not None:
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)
            writer.shutdown(wait=True)
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
    report.stopped = report.stopped or bool(report.not_started or report.cut_off)
    report.seconds = time.monotonic() - started
    logger.info("collect finished", extra={"fields": {"summary": report.summary()}})
    return report


async def _cut_off_after_stop(
    stop: threading.Event,
    in_flight: dict[str, asyncio.Task[SourceOutcome]],
    *,
    grace: float,
    report: CollectReport,
) -> None:
    """Wait for ``stop``; then give the sources being fetched ``grace`` seconds and cancel those still going.

    (Sources that have not started see the event themselves and do not start.)"""
    while not stop.is_set():
        await asyncio.sleep(STOP_POLL)
    report.stopped = True
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    logger.info(
        "stop requested: no further source starts",
        extra={"fields": {"in_flight": len(in_flight), "grace_seconds": grace}},
    )
    while in_flight and loop.time() < deadline:
        await asyncio.sleep(STOP_POLL)
    for task in list(in_flight.values()):
        task.cancel()


def _parse_pool(workers: int | None, sources: int):  # type: ignore[no-untyped-def]
    """A process pool for parsing and extraction when the run is big enough to pay for starting it.

    The workers are forked at once, before the HTTP client starts any thread, and they only ever run
    the pure functions of ``collect.work``. They import the parsers on their first job, not at start: a
    re-poll where every source answers 304 never pays for those imports.
    """
    import os

    n = (os.cpu_count() or 1) if workers is None else workers
    if n <= 1 or sources < POOL_MIN_SOURCES:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("fork"))
    pool.submit(os.getpid)  # the first submit forks every worker now; nothing waits for it
    return pool


def run_digest(app: App, week: object | None, out_dir: Path):  # type: ignore[no-untyped-def]
    """Write the digest of ``week`` into ``out_dir`` (default: the last complete ISO week in
    ``digest_timezone``)."""
    from mediawatch.digest.run import write_digest
    from mediawatch.digest.week import last_complete_week

    now = app.now()
    iso = week or last_complete_week(now, app.settings.digest_timezone)
    names = {s.id: s.name for s in app.sourcefile.sources if s.name}
    files = write_digest(app.store, iso, out_dir, now=now, source_names=names)
    logger.info("digest written", extra={"fields": {"week": str(iso), "md": str(files.md),
                                                    "relevant": files.relevant_items}})
    return files


def refresh_feeds(
    app: App, touched: Sequence[ItemId], *, stop: threading.Event | None = None
) -> tuple[list[Path], bool]:
    """Bring the subscriber feed files under ``digests/feeds/`` up to date after items were tagged or corrected,
    and as entries age out of the feeds' window.

    Every feed is rebuilt when the files were never built or were built for another ``MEDIAWATCH_BASE_URL``;
    otherwise only the feeds ``touched`` items are (or were) in, those of labels saved on the web since, and those
    whose files hold an entry that has left the window (checked even when nothing was touched: one look-up).
    With ``stop`` set, a rebuild of every feed is put off (the files stay outdated, so the next call rebuilds them
    all). Returns the files written and whether the rebuild was put off.
    """
    from mediawatch.publish import FeedOptions, rebuild_feeds
    from mediawatch.publish.write import feeds_outdated

    options = FeedOptions.from_settings(app.settings)
    if feeds_outdated(app.settings.digests, options):
        if stop is not None and stop.is_set():
            return [], True
        return rebuild_feeds(app.store, app.settings.digests, now=app.now(), options=options), False
    return rebuild_feeds(app.store, app.settings.digests, now=app.now(), touched_item_ids=touched,
                         options=options), False


def run_tick(app: App, *, embedder: object | None = None, stop: threading.Event | None = None) -> object:
    """One service tick: collect what is due, tag what lacks tags, place stories, rebuild touched feeds.

    Tagging ends between batches once the tick has lasted :data:`TICK_TAGGING_SHARE` of ``tick_minutes``
    (or tagging has had :data:`TICK_TAGGING_MIN_SHARE` of it, if that is later); the next ticks tag the rest
    (items never tagged first), after collecting.

    ``stop`` (the service's stop event) makes the tick wind down promptly: no further source starts and those
    being fetched are cut off after the HTTP timeout (:func:`run_collect`), tagging ends between batches
    (:func:`mediawatch.enrich.run_classify`), and a rebuild of every feed is put off to the next tick. The
    feeds of the items tagged so far are still rebuilt: only this tick knows them, and each file is replaced
    atomically. What was left is on the returned ``TickReport``.
    """
    from mediawatch.enrich import run_classify
    from mediawatch.errors import ClassifierUnavailable
    from mediawatch.service import TickReport

    started = time.monotonic()
    app.reload_sources()
    specs = select_sources(app)
    collected = run_collect(app, specs, stop=stop) if specs else CollectReport()
    tagged_ids: list[ItemId] = []
    tag_seconds = 0.0
    untagged, tagging_stopped = 0, False
    try:
        interval = app.settings.tick_minutes * 60
        deadline = max(started + TICK_TAGGING_SHARE * interval, time.monotonic() + TICK_TAGGING_MIN_SHARE * interval)
        classified = run_classify(app, embedder=embedder, stop=stop, deadline=deadline)  # type: ignore[arg-type]
        tagged_ids, tag_seconds = classified.item_ids, classified.seconds
        untagged, tagging_stopped = classified.left, classified.stopped
    except ClassifierUnavailable as exc:
        logger.error("tagging skipped: %s", exc)  # items stay stored; the next tick tries again
        untagged = app.store.count_never_tagged()
    feeds, feeds_put_off = refresh_feeds(app, tagged_ids, stop=stop)
    # the stop left something for the next start (tagging that only ran out of the tick's time is not a stop)
    stopped = collected.stopped or feeds_put_off or (tagging_stopped and stop is not None and stop.is_set())
    return TickReport(sources=len(specs), failed=collected.sources_failed, new_items=collected.items_new,
                      tagged=len(tagged_ids), feeds=len(feeds), seconds=time.monotonic() - started,
                      tag_seconds=tag_seconds, failures=dict(collected.failures), stopped=stopped,
                      not_started=tuple(collected.not_started), cut_off=tuple(collected.cut_off),
                      untagged=untagged, feeds_put_off=feeds_put_off)
