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
        """Re-read the sources file if it changed on disk, then sync the configuration into the database.

        Returns whether the file was re-read. A bad file is logged and ignored: the service keeps the last good
        configuration. The sync runs every time, file changed or not, so the database follows this process's
        file even after another process synced a different one into it (one cheap query when nothing differs).
        """
        import logging

        from mediawatch.errors import ConfigError

        log = logging.getLogger(__name__)
        reread = False
        try:
            mtime = self.settings.sources.stat().st_mtime_ns
        except OSError:
            mtime = self.sources_mtime  # gone for a moment (an editor saving): keep the last good configuration
        if mtime != self.sources_mtime:
            self.sources_mtime = mtime
            try:
                self.sourcefile = load_sourcefile(self.settings.sources)
                reread = True
            except ConfigError as exc:
                log.error("sources file invalid; keeping the previous one",
                          extra={"fields": {"problems": "; ".join(exc.problems)}})
        self.sync = self.store.sync_sources(self.sourcefile.sources, self.now())
        if not reread and (self.sync.added or self.sync.changed or self.sync.disabled):
            log.warning("the database's sources differed from %s (synced by another process?); restored",
                        self.settings.sources)
        elif reread and (self.sync.changed or self.sync.disabled):
            # an edit that switches sources off or changes them is worth a line an operator sees: a file saved
            # half-way (an editor that crashed, a copy cut short) reads as valid YAML with sources missing
            log.warning("sources file re-read: %d source(s) switched off, %d changed", len(self.sync.disabled),
                        len(self.sync.changed), extra={"fields": {"file": str(self.settings.sources),
                                                                  "switched_off": ",".join(self.sync.disabled),
                                                                  "changed": ",".join(self.sync.changed)}})
        return reread


def open_app(settings: Settings, *, clock: Callable[[], datetime] = system_clock, sync: bool = True) -> App:
    """Validate the sources file first (a bad file never touches the database), then open and sync the store.

    ``sync=False`` is for commands that only read or annotate what is stored (``export``, ``digest``, ``label``):
    they neither need a sources file nor change which sources are enabled, so running one with another
    ``--sources`` (or none at hand) cannot switch off what a running service collects. Nor do they create a
    database: a SQLite file that does not exist is a ConfigError (a mistyped ``--db``).
    """
    if not sync:
        return App(settings=settings, sourcefile=SourceFile(settings.sources, 1, ()),
                   store=open_store(settings.db, existing=True),
                   sync=SyncReport((), (), (), 0), clock=clock)
    mtime = settings.sources.stat().st_mtime_ns if settings.sources.exists() else 0
    sourcefile = load_sourcefile(settings.sources)
    store = open_store(settings.db)
    report = store.sync_sources(sourcefile.sources, clock())
    return App(settings=settings, sourcefile=sourcefile, store=store, sync=report, clock=clock, sources_mtime=mtime)
