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

    def now(self) -> datetime:
        return self.clock()

    def close(self) -> None:
        self.store.close()


def open_app(settings: Settings, *, clock: Callable[[], datetime] = system_clock) -> App:
    """Validate the sources file first (a bad file never touches the database), then open and sync the store."""
    sourcefile = load_sourcefile(settings.sources)
    store = open_store(settings.db)
    report = store.sync_sources(sourcefile.sources, clock())
    return App(settings=settings, sourcefile=sourcefile, store=store, sync=report, clock=clock)
