"""Composition root: settings -> validated sources file -> store (synced). Built once per command."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mediawatch.settings import Settings
from mediawatch.sourcefile import SourceFile, load_sourcefile
from mediawatch.store import Store, SyncReport, open_store


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class App:
    settings: Settings
    sourcefile: SourceFile
    store: Store
    sync: SyncReport
    clock: Callable[[], datetime] = field(default=system_clock)
    sources_mtime: int = 0

    def now(self) -> datetime:
        return self.clock()

    def close(self) -> None:
        self.store.close()

    def reload_sources(self) -> bool:
        """Re-read the sources file if it changed on disk and sync it; a bad file is logged and ignored
        (the service keeps the last good configuration and the database stays as it was)."""
        import logging

        from mediawatch.errors import ConfigError

        try:
            mtime = self.settings.sources.stat().st_mtime_ns
        except OSError:
            return False
        if mtime == self.sources_mtime:
            return False
        self.sources_mtime = mtime
        try:
            fresh = load_sourcefile(self.settings.sources)
        except ConfigError as exc:
            logging.getLogger(__name__).error(
                "sources file invalid; keeping the previous one", extra={"fields": {"problems": "; ".join(exc.problems)}}
            )
            return False
        self.sourcefile = fresh
        self.sync = self.store.sync_sources(fresh.sources, self.now())
        return True


def open_app(settings: Settings, *, clock: Callable[[], datetime] = system_clock) -> App:
    """Validate the sources file first (a bad file never touches the database), then open and sync the store."""
    mtime = settings.sources.stat().st_mtime_ns if settings.sources.exists() else 0
    sourcefile = load_sourcefile(settings.sources)
    store = open_store(settings.db)
    report = store.sync_sources(sourcefile.sources, clock())
    return App(settings=settings, sourcefile=sourcefile, store=store, sync=report, clock=clock, sources_mtime=mtime)
