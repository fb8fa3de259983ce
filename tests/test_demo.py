"""`mediawatch demo` end to end, as the README's first command runs it: the real model, a real SQLite file,
the demo site on loopback. Checks what an editor would check: the digest, the feeds, the tags and stories."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner

from mediawatch.cli import main
from mediawatch.demo.catalog import all_items, load_catalog
from mediawatch.store import open_store


@pytest.mark.slow
@pytest.mark.model
def test_demo_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["demo", "--dir", "demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo" / ".mediawatch-demo").is_file()  # marked: the next run may empty it, nothing else
    out = result.stdout
    assert re.search(r"items:\s+47 collected from 7 sources \(0 failed\)", out), out
    digest_html = Path(re.search(r"digest:\s+(\S+\.html)", out).group(1))
    digest_md = digest_html.with_suffix(".md")
    assert digest_html.exists() and digest_md.exists()

    # tags against the demo authors' own labels, stories against their events
    store = open_store(f"sqlite:///{tmp_path / 'demo' / 'mediawatch.db'}")
    rows = {r["title"]: r for r in store.export_rows()}
    labelled = list(all_items(load_catalog(datetime.now(UTC), "http://demo.invalid")))
    assert len(rows) == len(labelled) == 47
    right = sum(rows[i.title]["relevant"] == i.relevant for i in labelled)
    assert right / len(labelled) >= 0.9, f"relevance agreement {right}/{len(labelled)}"
    stories: dict[str, set[str]] = defaultdict(set)
    for i in labelled:
        if i.event:
            stories[i.event].add(rows[i.title]["story_id"])
    grouped = sum(len(s) == 1 for s in stories.values())
    assert grouped >= len(stories) - 2, dict(stories)
    # pairwise precision of the grouping: pairs put in one story that really report one event
    together = [(a, b) for n, a in enumerate(labelled) for b in labelled[n + 1:]
                if rows[a.title]["story_id"] == rows[b.title]["story_id"]]
    correct = sum(a.event is not None and a.event == b.event for a, b in together)
    assert together and correct / len(together) >= 0.8, [(a.title, b.title) for a, b in together if a.event != b.event]

    # the digest: numbers, a multi-language story first, charts inline, nothing external
    md = digest_md.read_text(encoding="utf-8")
    assert "## The week in numbers" in md and "## Top stories" in md
    first = md.split("### 1. ", 1)[1].split("###", 1)[0]
    assert re.search(r"([3-9]) sources, ([3-9]) languages", first), first
    html = digest_html.read_text(encoding="utf-8")
    assert "<svg" in html and "<script" not in html
    assert not re.search(r'(src|href)="https?://(?!127\.0\.0\.1)', html.split("<main", 1)[0])

    # the feeds: every file parses, the OPML lists them, entries have stable tag: ids
    feeds_dir = tmp_path / "demo" / "digests" / "feeds"
    atoms = sorted(feeds_dir.rglob("*.atom"))
    assert atoms and (tmp_path / "demo" / "digests" / "feeds.opml").exists()
    for path in atoms:
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, (path, parsed.bozo_exception)
        assert all(e.id.startswith("tag:") for e in parsed.entries)
    jsons = sorted(feeds_dir.rglob("*.json"))
    assert len(jsons) == len(atoms)  # every feed in both formats
    for path in jsons:
        assert json.loads(path.read_text(encoding="utf-8"))["version"].startswith("https://jsonfeed.org/version/1")
    festivals = feedparser.parse((feeds_dir / "topics" / "festivals.atom").read_bytes())
    assert any("Nauryz" in e.title or "Наурыз" in e.title for e in festivals.entries)


@pytest.mark.slow
@pytest.mark.model
def test_demo_keeps_its_outlets_up_while_serving(tmp_path: Path) -> None:
    """`demo --serve`: the articles the pages link to must open while the pages are up, and not after."""
    import urllib.error
    import urllib.request
    from contextlib import ExitStack

    from mediawatch.demo.run import run_demo
    from mediawatch.settings import Settings

    with ExitStack() as site:
        result, used = run_demo(tmp_path / "demo", Settings(), say=lambda _line: None, keep_site=site)
        store = open_store(used.db)
        urls = [r["url"] for r in store.export_rows()]
        store.close()
        assert len(urls) == result.items == 47
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        for url in urls[:5]:
            with opener.open(url, timeout=10) as response:
                assert response.status == 200
    with pytest.raises(urllib.error.URLError):
        opener.open(urls[0], timeout=5)
