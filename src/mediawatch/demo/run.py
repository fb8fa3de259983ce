"""`mediawatch demo`: the whole pipeline, offline, on the project's own sample sources.

A loopback server serves the demo outlets; a sources file in the demo folder points at them; then
collect -> tag -> stories -> feeds -> digest, each through the same functions the service uses.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mediawatch.settings import Settings


@dataclass
class DemoResult:
    folder: Path
    sources: int
    sources_failed: int
    items: int
    tagged: int
    relevant: int
    stories: int
    feeds: int
    digest_md: Path
    digest_html: Path
    week: str


def run_demo(folder: Path, base: Settings, *, now: datetime | None = None,
             say: Callable[[str], None] = print, keep_site: ExitStack | None = None) -> tuple[DemoResult, Settings]:
    """Run the demo into ``folder``. Returns what it did and the settings it used.

    ``folder`` is created, or emptied when an earlier demo run created it; a folder with other contents, the
    current or home folder or a filesystem root is refused with ConfigError before anything is touched
    (:func:`~mediawatch.demo.folder.prepare_folder`).

    With ``keep_site`` the sample outlets stay up until that stack closes, so the articles that the digest,
    feeds and web pages link to can be opened while the pages are served (``demo --serve``).
    """
    from mediawatch.app import open_app
    from mediawatch.demo.folder import prepare_folder
    from mediawatch.demo.site import DemoSite
    from mediawatch.digest.week import last_complete_week
    from mediawatch.enrich import run_classify
    from mediawatch.pipeline import run_collect, run_digest, select_sources
    from mediawatch.publish import FeedOptions, rebuild_feeds

    now = now or datetime.now(UTC)
    prepare_folder(folder)
    _keep_loopback_direct()
    with ExitStack() as own:
        site = (keep_site or own).enter_context(DemoSite(now))
        sources = folder / "sources.yaml"
        sources.write_text(site.sources_yaml(), encoding="utf-8")
        settings = base.model_copy(update={
            "db": f"sqlite:///{(folder / 'mediawatch.db').resolve()}",
            "sources": sources,
            "digests": folder / "digests",
        })
        app = open_app(settings, clock=lambda: datetime.now(UTC))
        say(f"demo site on {site.base_url} with {len(app.sourcefile.sources)} sources")
        collected = run_collect(app, select_sources(app, all_sources=True))
        say(f"collect: {collected.summary()}")
    say("tagging (the first run converts the model and trains the tagger; later runs reuse both)")
    tagged = run_classify(app)
    say(f"classify: {tagged.summary()}")
    feeds = rebuild_feeds(app.store, settings.digests, now=app.now(),
                          options=FeedOptions.from_settings(settings))
    week = last_complete_week(app.now())
    files = run_digest(app, week, settings.digests)
    counts = app.store.counts()
    result = DemoResult(
        folder=folder, sources=collected.sources_ok + collected.sources_failed,
        sources_failed=collected.sources_failed, items=counts.items, tagged=tagged.tagged,
        relevant=counts.relevant, stories=counts.stories, feeds=len(feeds), digest_md=files.md,
        digest_html=files.html, week=str(week),
    )
    app.close()
    return result, settings


def _keep_loopback_direct() -> None:
    """An operator's HTTP proxy must not carry requests to the demo's loopback server."""
    for name in ("NO_PROXY", "no_proxy"):
        hosts = [h for h in os.environ.get(name, "").split(",") if h.strip()]
        if "127.0.0.1" not in hosts:
            os.environ[name] = ",".join([*hosts, "127.0.0.1", "localhost"])
