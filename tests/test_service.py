"""The always-on service: due sources and backoff under a controllable clock, the lock, the missed digest,
and a real `mediawatch run` process that refuses a second instance and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mediawatch.app import App, open_app
from mediawatch.pipeline import run_collect, run_digest, select_sources
from mediawatch.service import LOCK_NAME, AlreadyRunning, Service, TickReport, scheduled_time
from mediawatch.settings import Settings

pytestmark = pytest.mark.usefixtures("no_backoff")

T0 = datetime(2025, 11, 3, 7, 0, tzinfo=UTC)  # a Monday, after the default 06:00 digest time


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now



def idle_service(app: App) -> Service:
    """A service whose ticks and digests do nothing: for the lock and the scheduler alone."""
    return Service(app, tick=lambda a, stop: TickReport(0, 0, 0, 0, 0, 0.0), digest=lambda a, now: None)


def make_app(tmp_path: Path, stanzas: str, clock: Clock, **settings: object) -> App:
    sources = tmp_path / "sources.yaml"
    sources.write_text("version: 1\nsources:\n" + stanzas, encoding="utf-8")
    s = Settings(db=f"sqlite:///{tmp_path / 'mw.db'}", sources=sources, digests=tmp_path / "digests",
                 timeout=15.0, connect_timeout=10.0, retries=1, **settings)
    return open_app(s, clock=clock)


def test_due_sources_and_backoff_follow_the_clock(tmp_path: Path, loopserver) -> None:
    feed = ('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>Қазақтар</title>'
            '<link>http://x.example/1</link></item></channel></rss>')
    ok_url = loopserver.serve("/ok.xml", feed, content_type="application/rss+xml")
    bad_url = loopserver.status("/bad.xml", 500)
    clock = Clock(T0)
    app = make_app(tmp_path, f"  - {{id: good, kind: rss, url: '{ok_url}', every: 30m}}\n"
                             f"  - {{id: flaky, kind: rss, url: '{bad_url}', every: 30m}}\n", clock)
    assert sorted(s.id for s in select_sources(app)) == ["flaky", "good"]
    run_collect(app, select_sources(app))
    clock.now = T0 + timedelta(minutes=29)
    assert select_sources(app) == []
    clock.now = T0 + timedelta(minutes=31)
    assert [s.id for s in select_sources(app)] == ["good"]  # the failing one backs off: 2 x 30 min
    run_collect(app, select_sources(app))
    clock.now = T0 + timedelta(minutes=61)
    assert sorted(s.id for s in select_sources(app)) == ["flaky", "good"]
    run_collect(app, select_sources(app))
    state = app.store.source_state("flaky")
    assert state.consecutive_failures == 2
    assert state.next_check == T0 + timedelta(minutes=61) + timedelta(minutes=120)  # 4 x 30 min after 2 failures
    assert len(loopserver.requests_for("/bad.xml")) == 2


def test_lock_refuses_a_second_holder_until_the_first_goes_stale(tmp_path: Path) -> None:
    clock = Clock(T0)
    app = make_app(tmp_path, "", clock)
    first = idle_service(app)
    second = idle_service(app)
    second.holder = "other-host:1"
    first.acquire()
    with pytest.raises(AlreadyRunning, match="another 'mediawatch run'"):
        second.acquire()
    clock.now = T0 + timedelta(seconds=90)
    first.heartbeat()
    clock.now = T0 + timedelta(seconds=200)
    with pytest.raises(AlreadyRunning):
        second.acquire()  # 110 s since the last beat: still fresh (stale after 120 s)
    clock.now = T0 + timedelta(seconds=300)
    second.acquire()  # the first holder stopped beating: taken over
    assert app.store.lock_holder(LOCK_NAME)[0] == "other-host:1"
    assert not app.store.refresh_lock(LOCK_NAME, first.holder, clock.now)
    second.release()
    assert app.store.lock_holder(LOCK_NAME) is None


def test_the_lock_of_a_killed_run_on_this_machine_is_taken_over_at_once(tmp_path: Path) -> None:
    """Before: after a SIGKILL (or the OOM killer) the restarted service failed for two minutes, until the dead
    run's heartbeat went stale, and a supervisor gave up restarting it."""
    import socket
    import subprocess
    import sys

    clock = Clock(T0)
    app = make_app(tmp_path, "", clock)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        first = idle_service(app)
        first.holder = f"{socket.gethostname()}:{alive.pid}"
        first.acquire()
        with pytest.raises(AlreadyRunning):
            idle_service(app).acquire()  # its process still runs: refused as before
        first.release()
        first.holder = f"{socket.gethostname()}:{dead.pid}"
        first.acquire()
        second = idle_service(app)
        second.acquire()  # the holder's process has ended: no waiting for the heartbeat to go stale
        assert app.store.lock_holder(LOCK_NAME)[0] == second.holder
        assert not app.store.refresh_lock(LOCK_NAME, first.holder, clock.now)
    finally:
        alive.kill()
        alive.wait()


def test_a_missed_digest_is_built_after_the_first_tick_not_before(tmp_path: Path) -> None:
    """On a new database the missed week's digest must not be built from an empty store: the service builds it
    right after its first tick has collected, once."""
    from mediawatch.app import system_clock

    app = make_app(tmp_path, "", system_clock, digest_time="00:00")  # type: ignore[arg-type]
    order: list[str] = []
    done = threading.Event()

    def tick(a: App, stop: threading.Event) -> TickReport:
        order.append("tick")
        return TickReport(0, 0, 0, 0, 0, 0.0)

    def digest(a: App, now: datetime) -> None:
        order.append("digest")
        run_digest(a, None, a.settings.digests)
        done.set()

    service = Service(app, tick=tick, digest=digest)

    def foreground() -> None:
        assert done.wait(20)
        service.tick()  # a later tick does not build it again

    service.run(foreground)
    assert order[:2] == ["tick", "digest"] and order.count("digest") == 1


def test_missed_digest_is_built_once_at_start(tmp_path: Path) -> None:
    clock = Clock(T0 - timedelta(hours=2))  # Monday 05:00: this week's digest is not due yet
    app = make_app(tmp_path, "", clock)
    built: list[datetime] = []

    def digest(a: App, now: datetime) -> None:
        built.append(now)
        run_digest(a, None, a.settings.digests)

    service = Service(app, tick=lambda a, stop: TickReport(0, 0, 0, 0, 0, 0.0), digest=digest)
    assert service.catch_up() is False
    clock.now = T0  # 07:00: the 06:00 digest was missed while the service was down
    assert service.catch_up() is True
    assert service.catch_up() is False
    assert built == [T0]
    assert (tmp_path / "digests" / "2025-W44.md").exists()
    clock.now = T0 + timedelta(days=7)  # a week later the next one is missing again
    assert service.catch_up() is True and len(built) == 2


def test_scheduled_time_in_a_time_zone() -> None:
    week_end = datetime(2025, 11, 10, tzinfo=UTC)
    assert scheduled_time(week_end, "mon", "06:00", "UTC") == datetime(2025, 11, 10, 6, tzinfo=UTC)
    assert scheduled_time(week_end, "mon", "09:00", "Asia/Almaty") == datetime(2025, 11, 10, 4, tzinfo=UTC)
    assert scheduled_time(week_end, "sun", "20:00", "UTC") == datetime(2025, 11, 16, 20, tzinfo=UTC)


def test_an_early_monday_digest_east_of_utc_covers_the_week_that_just_ended(tmp_path: Path) -> None:
    """Monday 03:00 in Almaty is Sunday 22:00 UTC: the digest is the Almaty week that just ended, not the
    week before."""
    clock = Clock(datetime(2024, 3, 10, 21, 59, tzinfo=UTC))  # Monday 02:59 in Almaty
    app = make_app(tmp_path, "", clock, digest_timezone="Asia/Almaty", digest_day="mon", digest_time="03:00")
    service = Service(app, tick=lambda a, stop: TickReport(0, 0, 0, 0, 0, 0.0),
                      digest=lambda a, now: run_digest(a, None, a.settings.digests))
    assert service.catch_up() is False  # not due yet
    clock.now = datetime(2024, 3, 10, 22, 0, tzinfo=UTC)  # Monday 03:00 in Almaty: missed while down
    assert service.catch_up() is True
    digests = tmp_path / "digests"
    assert sorted(p.name for p in digests.glob("*.md")) == ["2024-W10.md"]
    md = (digests / "2024-W10.md").read_text(encoding="utf-8")
    assert "Mon 04 Mar 2024 00:00 – Mon 11 Mar 2024 00:00 Asia/Almaty" in md
    assert app.store.has_digest("2024-W10") and service.catch_up() is False
    # the scheduled job itself (what fires at 03:00) writes the same week
    (digests / "2024-W10.md").unlink()
    service.weekly()
    assert (digests / "2024-W10.md").exists() and not (digests / "2024-W09.md").exists()


@pytest.mark.parametrize("tz", ["UTC", "Asia/Almaty", "Europe/Berlin", "America/New_York"])
def test_the_scheduler_fires_when_catch_up_expects_the_digest(tz: str) -> None:
    """APScheduler's cron trigger and ``scheduled_time`` agree, weeks with clock changes included."""
    from apscheduler.triggers.cron import CronTrigger

    from mediawatch.digest.week import IsoWeek

    for day, hhmm in (("mon", "03:00"), ("mon", "00:00"), ("sun", "22:30"), ("wed", "06:00")):
        hour, minute = (int(x) for x in hhmm.split(":"))
        trigger = CronTrigger(day_of_week=day, hour=hour, minute=minute, timezone=tz)
        week = IsoWeek(2024, 8, tz)
        while week < IsoWeek(2024, 46, tz):
            due = scheduled_time(week.end, day, hhmm, tz)
            fire = trigger.get_next_fire_time(None, week.end)
            assert fire is not None and fire.astimezone(UTC) == due, (tz, day, hhmm, week)
            assert due >= week.end and due - week.end < timedelta(days=7, hours=2)
            week = week.shift(1)


@pytest.mark.slow
def test_run_refuses_a_second_instance_and_stops_on_sigterm(tmp_path: Path) -> None:
    (tmp_path / "sources.yaml").write_text("version: 1\nsources: []\n", encoding="utf-8")
    env = {**os.environ, "MEDIAWATCH_DB": f"sqlite:///{tmp_path / 'mw.db'}", "MEDIAWATCH_TICK_MINUTES": "60",
           "MEDIAWATCH_CACHE_DIR": str(tmp_path / "cache"), "MEDIAWATCH_DIGESTS": str(tmp_path / "digests")}
    cmd = [sys.executable, "-m", "mediawatch", "run"]
    first = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            probe = subprocess.run([sys.executable, "-c", (
                "from mediawatch.store import open_store; import sys; "
                f"s = open_store({env['MEDIAWATCH_DB']!r}); sys.exit(0 if s.lock_holder('run') else 1)")],
                env=env, capture_output=True)
            if probe.returncode == 0:
                break
            assert first.poll() is None, first.communicate()
            time.sleep(0.3)
        else:
            pytest.fail("the service never took its lock")
        second = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert "another 'mediawatch run'" in second.stderr
        first.send_signal(signal.SIGTERM)
        out, err = first.communicate(timeout=60)
        assert first.returncode == 0, err
        assert "service stopped" in err
    finally:
        if first.poll() is None:
            first.kill()
    # the lock is released: a new run could start
    check = subprocess.run([sys.executable, "-c", (
        "from mediawatch.store import open_store; "
        f"print(open_store({env['MEDIAWATCH_DB']!r}).lock_holder('run'))")], env=env, capture_output=True, text=True)
    assert check.stdout.strip() == "None"


def test_tick_reports_feed_the_metrics(tmp_path: Path) -> None:
    from mediawatch.service import reason_category
    from mediawatch.web.metrics import Metrics

    metrics = Metrics()
    report = TickReport(sources=3, failed=2, new_items=5, tagged=4, feeds=2, seconds=1.5, tag_seconds=0.5,
                        failures={"a": "HTTP 404", "b": "XML error at line 3: mismatched tag"})
    service = Service(make_app(tmp_path, "", Clock(T0)), tick=lambda a, stop: report, digest=lambda a, now: None,
                      metrics=metrics)
    assert service.tick() is report
    text = metrics.render().decode()
    assert 'mediawatch_fetch_errors_total{reason="http_404"} 1.0' in text
    assert 'mediawatch_fetch_errors_total{reason="xml_error_at_line"} 1.0' in text
    assert "mediawatch_items_collected_total 5.0" in text
    assert "mediawatch_items_tagged_total 4.0" in text
    assert "mediawatch_tick_seconds_count 1.0" in text
    assert reason_category("timed out after 10 s") == "timed_out_after_s"
    assert reason_category("HTTP 429 (retry after 120 s)") == "http_429"


@pytest.mark.slow
def test_run_with_serve_exposes_healthz_and_metrics(tmp_path: Path) -> None:
    import socket
    import urllib.request

    (tmp_path / "sources.yaml").write_text("version: 1\nsources: []\n", encoding="utf-8")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "MEDIAWATCH_DB": f"sqlite:///{tmp_path / 'mw.db'}", "MEDIAWATCH_TICK_MINUTES": "60",
           "MEDIAWATCH_CACHE_DIR": str(tmp_path / "cache"), "MEDIAWATCH_DIGESTS": str(tmp_path / "digests"),
           "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    proc = subprocess.Popen([sys.executable, "-m", "mediawatch", "run", "--serve", "--port", str(port)], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                    assert resp.status == 200
                    break
            except OSError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the web server never answered"
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
        assert "mediawatch_tick_seconds" in text and "mediawatch_items_collected" in text
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "service stopped" in err
    finally:
        if proc.poll() is None:
            proc.kill()


def test_lock_messages_mask_the_password_and_say_when_a_dead_holders_lock_goes_stale(tmp_path: Path) -> None:
    import dataclasses

    clock = Clock(T0)
    app = make_app(tmp_path, "", clock)
    first = idle_service(app)
    first.holder = "host-a:41"
    first.acquire()
    shown = dataclasses.replace(app, settings=app.settings.model_copy(update={"db": "postgresql://mw:s3cret@db/mw"}))
    second = idle_service(shown)
    with pytest.raises(AlreadyRunning) as info:
        second.acquire()
    message = str(info.value)
    assert "s3cret" not in message and "postgresql://mw:***@db/mw" in message
    assert "(host-a:41)" in message and "last heartbeat 2025-11-03 07:00:00 UTC" in message
    assert "its lock goes stale at 07:02:00 UTC" in message


def test_a_service_that_lost_its_lock_stops(tmp_path: Path) -> None:
    clock = Clock(T0)
    app = make_app(tmp_path, "", clock)
    first = idle_service(app)
    second = idle_service(app)
    second.holder = "other-host:1"
    first.acquire()
    first.heartbeat()
    assert not first.stopping.is_set()
    clock.now = T0 + timedelta(minutes=5)  # the first one was suspended and missed its heartbeats
    second.acquire()
    first.heartbeat()
    assert first.stopping.is_set()  # two services never collect into one database
    assert first.tick() is None
    assert app.store.lock_holder(LOCK_NAME)[0] == "other-host:1"
    first.release()  # releasing does not take the other's lock away
    assert app.store.lock_holder(LOCK_NAME)[0] == "other-host:1"


def test_heartbeat_says_why_the_lock_went_and_survives_a_failing_database(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: a service whose database was deleted said "lock lost to another 'mediawatch run'" when no other
    run existed, and a database error in the heartbeat was a traceback from the scheduler."""
    import logging

    clock = Clock(T0)
    app = make_app(tmp_path, "", clock)
    service = idle_service(app)
    service.acquire()
    caplog.set_level(logging.ERROR, logger="mediawatch")
    app.store.engine.dispose()
    for path in tmp_path.glob("*.db*"):
        path.unlink()  # the database file is gone: no connection can be opened
    service.heartbeat()
    assert not service.stopping.is_set()  # busy or gone: the next beat tries again
    assert [r.getMessage() for r in caplog.records] == ["service lock heartbeat failed"]
    assert "unable to open database file" in str(caplog.records[0].__dict__.get("fields"))
    caplog.clear()
    fresh = make_app(tmp_path, "", clock)  # a new, empty database in its place: the lock row is gone
    service.app = fresh
    service.heartbeat()
    assert service.stopping.is_set()
    assert [r.getMessage() for r in caplog.records] == [
        "service lock is gone (was the database deleted or replaced?); stopping"]


def test_a_failing_missed_digest_and_failing_ticks_do_not_stop_the_service(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import dataclasses
    import logging

    from mediawatch.app import system_clock

    # the real clock, and a digest due at Monday 00:00: last week's is always due and never built
    app = make_app(tmp_path, "", system_clock, digest_time="00:00")  # type: ignore[arg-type]
    app = dataclasses.replace(app, settings=app.settings.model_copy(update={"db": "postgresql://mw:s3cret@db/mw"}))
    ticks = threading.Event()

    def tick(a: App, stop: threading.Event) -> TickReport:
        ticks.set()
        raise RuntimeError("boom")

    digested = threading.Event()

    def digest(a: App, now: datetime) -> None:
        digested.set()
        raise OSError("digests folder is read-only")

    service = Service(app, tick=tick, digest=digest)
    ran: list[bool] = []

    def foreground() -> None:  # stands in for the web server: runs while the scheduler does
        assert ticks.wait(10) and digested.wait(10)  # the missed digest is tried after the first tick
        ran.append(True)

    with caplog.at_level(logging.INFO, logger="mediawatch.service"):
        service.run(foreground)
    assert ran == [True]
    text = caplog.text
    assert "building the missed digest failed" in text and "tick failed" in text and "service stopped" in text
    (started,) = [r for r in caplog.records if r.getMessage() == "service started"]
    assert started.fields["db"] == "postgresql://mw:***@db/mw"  # type: ignore[attr-defined]
    assert "s3cret" not in text and not any("s3cret" in str(getattr(r, "fields", "")) for r in caplog.records)
    assert app.store.lock_holder(LOCK_NAME) is None


def test_a_tick_that_fails_with_a_reason_logs_one_line_not_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: a read-only digests folder logged a whole traceback at every tick; the reason alone says it."""
    import logging

    from mediawatch.errors import StoreError

    app = make_app(tmp_path, "", Clock(T0))
    failures = [StoreError("cannot write subscriber feeds into /srv/digests: Read-only file system"),
                RuntimeError("a bug")]

    def tick(a: App, stop: threading.Event) -> TickReport:
        raise failures.pop(0)

    service = Service(app, tick=tick, digest=lambda a, now: None)
    with caplog.at_level(logging.DEBUG, logger="mediawatch.service"):
        assert service.tick() is None
        assert service.tick() is None
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["tick failed", "tick failed"]
    assert errors[0].exc_info is None
    assert errors[0].fields == {"reason": "cannot write subscriber feeds into /srv/digests: Read-only file system"}  # type: ignore[attr-defined]
    assert errors[1].exc_info is not None  # an unforeseen error keeps its traceback
    assert any(r.levelno == logging.DEBUG and r.exc_info for r in caplog.records)  # and ours is there with -v


def test_ticks_reread_the_sources_file_and_a_bad_edit_changes_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(T0)
    two = ("  - {id: aa, kind: rss, url: 'https://a.example/rss'}\n"
           "  - {id: bb, kind: rss, url: 'https://b.example/rss'}\n")
    app = make_app(tmp_path, two, clock)
    path = app.settings.sources

    def write(text: str, bump: int) -> None:
        path.write_text(text, encoding="utf-8")
        when = app.sources_mtime + bump  # a new mtime, even on a file system with coarse timestamps
        os.utime(path, ns=(when, when))

    assert app.reload_sources() is False  # unchanged
    write("version: 1\nsources:\n  - {id: aa, kind: rss, url: 'https://a.example/rss'}\n"
          "  - {id: aa, kind: rss}\n", 10**9)
    assert app.reload_sources() is False
    assert [s.id for s in app.sourcefile.sources] == ["aa", "bb"]
    assert sorted(app.store.source_ids(enabled_only=True)) == ["aa", "bb"]
    (logged,) = [r for r in caplog.records if r.getMessage() == "sources file invalid; keeping the previous one"]
    assert "duplicate id 'aa'" in logged.fields["problems"]  # type: ignore[attr-defined]
    write("version: 1\nsources:\n  - {id: aa, kind: rss, url: 'https://a.example/rss'}\n", 2 * 10**9)
    assert app.reload_sources() is True
    assert app.store.source_ids(enabled_only=True) == ["aa"] and sorted(app.store.source_ids()) == ["aa", "bb"]
    write("version: 1\nsources:\n" + two, 3 * 10**9)  # put back: enabled again
    assert app.reload_sources() is True
    assert sorted(app.store.source_ids(enabled_only=True)) == ["aa", "bb"]
