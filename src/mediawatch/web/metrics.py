"""Prometheus metrics: counters the pipeline updates, and gauges read from the store at scrape time.

Each :class:`Metrics` owns its registry (never the process-wide default), so two apps or two tests never share
or clash. The pipeline calls ``items_collected``, ``fetch_error``, ``tick_seconds`` and ``tagged``; the web
app calls :meth:`Metrics.watch` so a scrape also reports what the database holds.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mediawatch.store.queries import StoreCounts

logger = logging.getLogger(__name__)

TICK_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800)
_REASON = re.compile(r"[^a-z0-9_]+")
CONTENT_TYPE = CONTENT_TYPE_LATEST


class CountingStore(Protocol):
    def counts(self) -> StoreCounts: ...


class Metrics:
    """The service's metrics. Thread-safe (prometheus-client values are; the store hook is locked)."""

    def __init__(self, *, ticks: bool = True) -> None:
        """``ticks=False`` for a web server without the service (``mediawatch serve``): it never sees a tick,
        so the tick-only families (items collected, fetch errors, tick duration, tagging) are left out rather
        than exported as zeros a scraper would take for real."""
        self.registry = CollectorRegistry(auto_describe=False)
        self.ticks = ticks
        r = self.registry if ticks else CollectorRegistry(auto_describe=False)  # kept apart: never exported
        self._items = Counter(
            "mediawatch_items_collected", "New items stored by collection runs.", registry=r
        )
        self._errors = Counter(
            "mediawatch_fetch_errors", "Source fetches that failed, by reason.", ["reason"], registry=r
        )
        self._tick = Histogram(
            "mediawatch_tick_seconds",
            "Duration of one scheduler tick (collect, tag, publish).",
            buckets=TICK_BUCKETS,
            registry=r,
        )
        self._tagged = Counter("mediawatch_items_tagged", "Items classified by the tagger.", registry=r)
        self._tag_seconds = Counter("mediawatch_tagging_seconds", "Time spent classifying items.", registry=r)
        self._tag_rate = Gauge(
            "mediawatch_tagging_items_per_second", "Tagging throughput of the last batch.", registry=r
        )
        self._lock = threading.Lock()
        self._store: CountingStore | None = None
        self._clock: Callable[[], datetime] | None = None
        self.registry.register(_StoreCollector(self))

    # ------------------------------------------------------------------------------------------ pipeline side
    def items_collected(self, n: int) -> None:
        if n > 0:
            self._items.inc(n)

    def fetch_error(self, reason: str) -> None:
        """Count a failed fetch; ``reason`` is a short category ("timeout", "http_503", "parse")."""
        label = _REASON.sub("_", reason.lower()).strip("_")[:40] or "unknown"
        self._errors.labels(reason=label).inc()

    def tick_seconds(self, seconds: float) -> None:
        self._tick.observe(max(0.0, seconds))

    def tagged(self, n: int, seconds: float) -> None:
        if n <= 0:
            return
        self._tagged.inc(n)
        self._tag_seconds.inc(max(0.0, seconds))
        if seconds > 0:
            self._tag_rate.set(n / seconds)

    # ------------------------------------------------------------------------------------------ scrape side
    def watch(self, store: CountingStore, clock: Callable[[], datetime]) -> None:
        """Report the store's totals at each scrape."""
        with self._lock:
            self._store, self._clock = store, clock

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def _snapshot(self) -> tuple[CountingStore | None, Callable[[], datetime] | None]:
        with self._lock:
            return self._store, self._clock


class _StoreCollector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        store, clock = self._metrics._snapshot()
        if store is None:
            return
        up = GaugeMetricFamily("mediawatch_db_up", "1 when the database answered the scrape's queries.")
        try:
            counts = store.counts()
        except Exception as exc:  # a scrape must answer even when the database does not
            logger.warning("metrics: database query failed: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        items = GaugeMetricFamily("mediawatch_items", "Items in the database.", labels=["state"])
        items.add_metric(["all"], counts.items)
        items.add_metric(["relevant"], counts.relevant)
        yield items
        sources = GaugeMetricFamily(
            "mediawatch_sources", "Enabled sources, and those failing now.", labels=["state"]
        )
        sources.add_metric(["enabled"], counts.sources_enabled)
        sources.add_metric(["failing"], counts.sources_failing)
        yield sources
        yield GaugeMetricFamily("mediawatch_stories", "Stories in the database.", value=counts.stories)
        if counts.database_bytes is not None:
            yield GaugeMetricFamily(
                "mediawatch_database_bytes", "Size of the database on disk (SQLite: the file, without its WAL).",
                value=counts.database_bytes,
            )
        if counts.newest_fetch is not None and clock is not None and counts.items:
            age = max(0.0, (clock() - counts.newest_fetch).total_seconds())
            yield GaugeMetricFamily(
                "mediawatch_newest_item_age_seconds", "Seconds since the newest item was fetched.", value=age
            )


__all__ = ["CONTENT_TYPE", "Metrics"]
