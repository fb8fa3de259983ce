"""`mediawatch run`: the always-on service on APScheduler (3.x).

Three static jobs, no per-source jobs and no persistent job store: when a source is due is the database's
business (``source_state.next_check``), so restarts are harmless.

* tick (every ``tick_minutes``): collect the due sources, tag what is new, update stories, rebuild the
  subscriber feeds those items touch;
* digest (weekly, at ``digest_day`` ``digest_time`` in ``digest_timezone``): the last complete week's digest
  (weeks are ISO weeks in ``digest_timezone`` too);
  at start-up a digest missed while the service was down is built once;
* heartbeat (every 30 s): keeps the service lock fresh.

A second ``run`` against the same database refuses to start while the lock is fresh.

On SIGTERM/SIGINT the service stops promptly: every tick is handed the service's stop event and winds down (no further source starts, tagging ends between batches; see
``run_tick``); the lock is released and one log line says what was left for the next start.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from mediawatch.app import App
from mediawatch.errors import MediawatchError

logger = logging.getLogger(__name__)

LOCK_NAME = "run"
HEARTBEAT = timedelta(seconds=30)
STALE_AFTER = HEARTBEAT * 4  # a lock not refreshed for this long belongs to a run that died
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class AlreadyRunning(MediawatchError):
    """Another ``mediawatch run`` holds the lock on this database."""


@dataclass
class TickReport:
    sources: int
    failed: int
    new_items: int
    tagged: int
    feeds: int
    seconds: float
    tag_seconds: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)  # source id -> reason
    # a stop was requested during the tick; what it left for the next one:
    stopped: bool = False
    not_started: tuple[str, ...] = ()  # due sources not started (still due)
    cut_off: tuple[str, ...] = ()  # sources cancelled in flight, nothing of theirs written (still due)
    untagged: int = 0  # stored items left untagged
    feeds_put_off: bool = False  # the rebuild of every feed waits for the next tick


# ``tick(app, stop)``: ``stop`` is the service's stop event, set when the tick should wind down
Tick = Callable[[App, threading.Event], TickReport]
WeeklyDigest = Callable[[App, datetime], object]


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _log_failure(message: str, exc: Exception) -> None:
    """A failed job as one error line: our own errors (a folder that cannot be written, a database that refuses)
    already say what is wrong, so their traceback goes to debug; anything else is logged with its traceback."""
    from mediawatch.errors import MediawatchError

    if isinstance(exc, MediawatchError):
        logger.error(message, extra={"fields": {"reason": str(exc)}})
        logger.debug("%s: traceback", message, exc_info=exc)
    else:
        logger.exception(message)


def holder_is_gone(holder: str) -> bool:
    """True when ``holder`` (as :func:`holder_id` writes it) names a process on this machine that has ended.
    A holder on another machine, or one whose process cannot be checked, is never called gone."""
    host, _, digits = holder.rpartition(":")
    pid = int(digits) if digits.isdigit() else 0
    if host != socket.gethostname() or pid <= 1 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, under another user
        return False
    return False


class Service:
    """Owns the scheduler, the lock and the jobs. ``tick`` and ``digest`` are the pipeline's functions."""

    def __init__(self, app: App, *, tick: Tick, digest: WeeklyDigest, metrics: Any = None) -> None:
        self.app = app
        self.tick_fn = tick
        self.digest_fn = digest
        self.metrics = metrics  # mediawatch.web.metrics.Metrics when the web pages run in this process
        self.holder = holder_id()
        self.stopping = threading.Event()
        self._ticking = threading.Event()  # set while a tick runs
        self._catch_up_pending = False  # set by run(): the first tick then builds a missed digest
        self._stop_reason = ""
        self._cut_short: TickReport | None = None  # the tick the stop cut short
        self._scheduler: Any = None
        self._foreground = False

    # ------------------------------------------------------------------------------------------ lock
    def acquire(self) -> None:
        from mediawatch.store import display_url

        now = self.app.now()
        if self.app.store.acquire_lock(LOCK_NAME, self.holder, now, stale_after=STALE_AFTER):
            return
        found = self.app.store.lock_holder(LOCK_NAME)
        if found is None and self.app.store.acquire_lock(
            LOCK_NAME, self.holder, now, stale_after=STALE_AFTER
        ):
            return  # the other run released its lock a moment ago
        if found is not None and holder_is_gone(found[0]):
            # a run on this machine that was killed (OOM, SIGKILL) never released its lock: taking it over at
            # once lets a supervisor restart the service instead of failing for STALE_AFTER
            logger.warning("taking over the lock of a run that is no longer running",
                           extra={"fields": {"holder": found[0]}})
            if self.app.store.acquire_lock(LOCK_NAME, self.holder, now, stale_after=timedelta(0)):
                return
            found = self.app.store.lock_holder(LOCK_NAME)
        holder, beat = found or ("?", None)
        when = ""
        if beat is not None:
            beat = beat if beat.tzinfo else beat.replace(tzinfo=UTC)
            when = (
                f", last heartbeat {beat:%Y-%m-%d %H:%M:%S} UTC; if it is no longer running, "
                f"its lock goes stale at {beat + STALE_AFTER:%H:%M:%S} UTC"
            )
        raise AlreadyRunning(
            f"another 'mediawatch run' ({holder}) is using {display_url(self.app.settings.db)}; "
            f"stop it first{when}"
        )

    def release(self) -> None:
        self.app.store.release_lock(LOCK_NAME, self.holder)

    def heartbeat(self) -> None:
        if self.stopping.is_set():
            return
        from mediawatch.store import database_reason

        try:
            beating = self.app.store.refresh_lock(LOCK_NAME, self.holder, self.app.now())
            found = None if beating else self.app.store.lock_holder(LOCK_NAME)
        except Exception as exc:  # busy, or gone: the next beat tries again (a lock lost meanwhile stops it)
            logger.error("service lock heartbeat failed", extra={"fields": {"reason": database_reason(exc)}})
            return
        if not beating:
            # another run took the lock over (this one missed its heartbeats for STALE_AFTER), or the database
            # was replaced under it: two services must never collect into one database, so this one stops
            if found is None:
                logger.error("service lock is gone (was the database deleted or replaced?); stopping",
                             extra={"fields": {"holder": self.holder}})
            else:
                logger.error("service lock lost to another 'mediawatch run'; stopping",
                             extra={"fields": {"holder": self.holder, "taken_by": found[0]}})
            self._stop_reason = self._stop_reason or "lock lost"
            self.stopping.set()
            if self._scheduler is not None and self._foreground:
                os.kill(os.getpid(), signal.SIGTERM)  # the web server in the main thread stops on it too

    # ------------------------------------------------------------------------------------------ jobs
    def tick(self) -> TickReport | None:
        if self.stopping.is_set():
            return None
        started = time.monotonic()
        self._ticking.set()
        try:
            report = self.tick_fn(self.app, self.stopping)
        except Exception as exc:
            _log_failure("tick failed", exc)
            report = None
        finally:
            self._ticking.clear()
        if self._catch_up_pending:
            # after the first tick of this process, not before it: on a new database (or after a long stop)
            # the missed week's digest is then built from what that tick collected, not from an empty store
            self._catch_up_pending = False
            if not self.stopping.is_set():
                try:
                    self.catch_up()
                except Exception as exc:  # the service goes on; the digest can be written with `mediawatch digest`
                    _log_failure("building the missed digest failed", exc)
        if report is None:
            return None
        if self.metrics is not None:
            self.metrics.tick_seconds(report.seconds)
            self.metrics.items_collected(report.new_items)
            if report.tagged:
                self.metrics.tagged(report.tagged, report.tag_seconds)
            for reason in report.failures.values():
                self.metrics.fetch_error(reason_category(reason))
        logger.info(
            "tick",
            extra={"fields": {
                "sources": report.sources, "failed": report.failed, "new": report.new_items,
                "tagged": report.tagged, "untagged": report.untagged, "feeds": report.feeds,
                "seconds": round(time.monotonic() - started, 1), "stopped": report.stopped,
            }},
        )
        if report.stopped:
            self._cut_short = report  # "service stopped" says what it left
        return report

    def weekly(self) -> None:
        if self.stopping.is_set():
            return
        try:
            self.digest_fn(self.app, self.app.now())
        except Exception as exc:
            _log_failure("weekly digest failed", exc)

    def catch_up(self) -> bool:
        """Build the last complete week's digest if its scheduled time has passed and it was never built."""
        from mediawatch.digest.week import last_complete_week

        now = self.app.now()
        week = last_complete_week(now, self.app.settings.digest_timezone)
        due = scheduled_time(week.end, self.app.settings.digest_day, self.app.settings.digest_time,
                             self.app.settings.digest_timezone)
        if now < due or self.app.store.has_digest(str(week)):
            return False
        logger.info("building missed digest", extra={"fields": {"week": str(week)}})
        self.digest_fn(self.app, now)
        return True

    # ------------------------------------------------------------------------------------------ run
    def run(self, foreground: Callable[[], None] | None = None) -> None:
        """Block until SIGTERM/SIGINT; committed work is never lost (each source commits on its own).

        ``foreground`` (the web server) runs in the main thread instead of waiting; it handles the signals
        itself and, when it returns, the scheduler stops too."""
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.cron import CronTrigger

        from mediawatch.store import display_url

        s = self.app.settings
        self._foreground = foreground is not None
        # Handlers first: a SIGTERM that arrives while the service is still starting stops it cleanly too.
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.acquire()
        except BaseException:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            raise
        scheduler = BackgroundScheduler(timezone="UTC")
        try:
            # misfire_grace_time=None: a run that starts late (the first tick after a slow catch-up digest,
            # the digest after the machine slept) still runs, once (coalesce); the default drops it after 1 s
            scheduler.add_job(self.tick, "interval", minutes=s.tick_minutes, id="tick", max_instances=1,
                              coalesce=True, misfire_grace_time=None, next_run_time=self.app.now())
            hour, minute = (int(x) for x in s.digest_time.split(":"))
            scheduler.add_job(self.weekly, CronTrigger(day_of_week=s.digest_day, hour=hour, minute=minute,
                                                       timezone=s.digest_timezone), id="digest", max_instances=1,
                              coalesce=True, misfire_grace_time=None)
            scheduler.add_job(self.heartbeat, "interval", seconds=HEARTBEAT.total_seconds(), id="heartbeat")
            self._catch_up_pending = True  # a missed digest is built right after the first tick
            scheduler.start()
            self._scheduler = scheduler
            logger.info(
                "service started", extra={"fields": {"db": display_url(s.db), "tick_minutes": s.tick_minutes}}
            )
            if foreground is not None:
                foreground()
                self._stop_reason = self._stop_reason or "web server stopped"
                self.stopping.set()
            else:
                self.stopping.wait()
        finally:
            stop_requested = time.monotonic()
            self._stop_reason = self._stop_reason or "error"
            self.stopping.set()  # a running tick winds down (an exception got here without the event)
            logger.info("stop requested", extra={"fields": {
                "reason": self._stop_reason, "tick_running": self._ticking.is_set(),
            }})
            if scheduler.running:
                scheduler.shutdown(wait=True)  # waits for the running tick, which the stop event cuts short
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.release()
            left = left_fields(self._cut_short) if self._cut_short is not None else {"tick_cut_short": False}
            logger.info("service stopped", extra={"fields": {
                "reason": self._stop_reason, "seconds": round(time.monotonic() - stop_requested, 1), **left,
            }})

    def _on_signal(self, signum: int, _frame: object) -> None:
        # only flags here (no logging in a signal handler); run() logs once it wakes up
        self._stop_reason = self._stop_reason or signal.Signals(signum).name
        self.stopping.set()


def left_fields(report: TickReport) -> dict[str, object]:
    """What a tick cut short by the stop left for the next start, as fields of the "service stopped" line."""
    return {
        "tick_cut_short": True,
        "sources_not_started": len(report.not_started),
        "sources_cut_off": len(report.cut_off),
        "still_due": ",".join([*report.cut_off, *report.not_started][:20])
        + (",..." if len(report.not_started) + len(report.cut_off) > 20 else ""),
        "items_untagged": report.untagged,
        "feeds_rebuild": "next tick" if report.feeds_put_off else "done",
    }


def scheduled_time(week_end: datetime, day: str, hhmm: str, tz_name: str) -> datetime:
    """When the weekly digest for the week ending at ``week_end`` (Monday 00:00 in ``tz_name``) is due: the
    first ``day`` ``hhmm`` in ``tz_name`` at or after the week's end."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(tz_name)
    hour, minute = (int(x) for x in hhmm.split(":"))
    local = week_end.astimezone(tz)
    offset = (DAYS.index(day) - local.weekday()) % 7
    target = (local + timedelta(days=offset)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target < week_end:
        target += timedelta(days=7)
    return target.astimezone(UTC)


def reason_category(reason: str) -> str:
    """A failure reason as a metric label of bounded cardinality: ``HTTP 404`` -> ``http_404``,
    ``XML error at line 3: …`` -> ``xml_error_at_line``, ``timed out after 10 s`` -> ``timed_out_after_s``."""
    import re

    head = re.split(r"[:(]", reason, maxsplit=1)[0]
    if m := re.match(r"HTTP (\d{3})", head):
        return f"http_{m.group(1)}"
    words = re.sub(r"[^a-z]+", " ", head.lower()).split()
    return "_".join(words)[:40] or "unknown"
