"""robots.txt is asked about every redirect target of a page source (listing and articles) before it is
requested, on whichever host it lands; feeds follow redirects as before. Two real loopback servers stand for
two hosts (same address, different ports: different origins)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from collectapp import ARTICLE, health, make_app, page
from loopserver import LoopServer

from mediawatch.pipeline import run_collect, select_sources

pytestmark = pytest.mark.usefixtures("no_backoff")


RSS = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed</title>
<link>https://example.org/</link><description>d</description><item><title>Казахи Омска отметили Наурыз</title>
<link>https://example.org/news/1</link><guid>https://example.org/news/1</guid>
<pubDate>Mon, 03 Nov 2025 10:00:00 GMT</pubDate><description>Праздник общины.</description></item>
</channel></rss>"""


STORY = [f"/news/2025/11/03/kazakh-story-{n}" for n in (1, 2, 3)]  # article-like paths (links.py)


@pytest.fixture
def other_host(loopserver: LoopServer) -> Iterator[LoopServer]:
    """A second origin (``loopserver`` has already put 127.0.0.1 in NO_PROXY)."""
    with LoopServer() as server:
        yield server


def naming(srv: LoopServer) -> str:
    """A disabled stanza that names ``srv``: a loopback address is private, so collection reaches it only
    where the sources file names it (test_private_addresses.py); here it stands for a public second host."""
    return f"  - {{id: other-host, kind: rss, url: '{srv.url('/')}', enabled: false}}\n"


def listing(srv: LoopServer, paths: list[str]) -> None:
    links = "".join(
        f'<li><article><h2><a href="{p}">Новость диаспоры номер {n}</a></h2></article></li>'
        for n, p in enumerate(paths)
    )
    srv.serve("/", f"<!doctype html><html><body><ul>{links}</ul></body></html>", content_type="text/html")


def test_listing_redirect_into_a_path_disallowed_on_another_host_is_not_requested(
    tmp_path: Path, loopserver: LoopServer, other_host: LoopServer
) -> None:
    """/ (allowed) -> /moved (allowed) -> other host's /private/listing (disallowed there): the source fails
    with a reason naming the target, which is never requested; nothing is stored. A feed that redirects into
    the same disallowed path is still followed (robots.txt is for page sources only, as before)."""
    loopserver.serve("/robots.txt", "User-agent: *\nDisallow: /private/\n")
    other_host.serve("/robots.txt", "User-agent: *\nDisallow: /private/\n")
    target = other_host.url("/private/listing")
    loopserver.redirect("/", "/moved")
    loopserver.redirect("/moved", target, status=301)
    other_host.serve(
        "/private/listing",
        f"<html><body><a href='{STORY[0]}'>Новость диаспоры</a></body></html>",
    )
    other_host.serve(STORY[0], ARTICLE.format(title="Новость диаспоры"), content_type="text/html")
    loopserver.redirect("/feed.xml", other_host.url("/private/feed.xml"))
    other_host.serve("/private/feed.xml", RSS, content_type="application/rss+xml; charset=utf-8")
    app = make_app(
        tmp_path,
        [
            page("portal", loopserver.url("/")),
            f"  - {{id: feed, kind: rss, url: '{loopserver.url('/feed.xml')}'}}\n",
            naming(other_host),
        ],
        per_host=2,
    )
    report = run_collect(app, select_sources(app, all_sources=True))
    reason = f"blocked by robots.txt (redirect to {target})"
    assert report.failures == {"portal": reason}
    assert health(app)["portal"].last_error == reason
    assert len(loopserver.requests_for("/moved")) == 1  # the allowed hop was followed
    assert len(other_host.requests_for("/robots.txt")) == 1  # asked before the hop, once
    assert other_host.requests_for("/private/listing") == []
    assert other_host.requests_for(STORY[0]) == []
    assert {i["source_id"] for i in app.store.export_rows()} == {"feed"}
    assert len(other_host.requests_for("/private/feed.xml")) == 1


def test_article_redirects_are_checked_against_robots_txt_of_their_target_host(
    tmp_path: Path, loopserver: LoopServer, other_host: LoopServer
) -> None:
    """Three new articles: one redirects into a disallowed path of its own host (not requested, reported),
    one to an allowed path on another host (fetched, stored under the listed URL), one is direct."""
    loopserver.serve("/robots.txt", "User-agent: *\nDisallow: /private/\n")
    other_host.serve("/robots.txt", "User-agent: *\nDisallow: /private/\n")
    listing(loopserver, STORY)
    blocked = loopserver.url("/private/a1")
    loopserver.redirect(STORY[0], "/private/a1")
    loopserver.serve("/private/a1", ARTICLE.format(title="Закрытая статья"), content_type="text/html")
    loopserver.redirect(STORY[1], other_host.url("/news/a2"), status=301)
    other_host.serve("/news/a2", ARTICLE.format(title="Статья на другом хосте"), content_type="text/html")
    loopserver.serve(STORY[2], ARTICLE.format(title="Прямая статья"), content_type="text/html")
    app = make_app(tmp_path, [page("portal", loopserver.url("/")), naming(other_host)], per_host=2)
    report = run_collect(app, select_sources(app, all_sources=True))
    assert report.sources_ok == 1 and report.items_new == 2
    first = f"{loopserver.url(STORY[0])}: blocked by robots.txt (redirect to {blocked})"
    assert report.warnings["portal"] == f"1 of 3 articles failed (first: {first})"
    assert loopserver.requests_for("/private/a1") == []
    assert len(other_host.requests_for("/robots.txt")) == 1
    assert len(other_host.requests_for("/news/a2")) == 1
    stored = {i["url"]: i["title"] for i in app.store.export_rows()}
    assert stored == {
        loopserver.url(STORY[1]): "Статья на другом хосте",
        loopserver.url(STORY[2]): "Прямая статья",
    }


def test_article_redirect_to_a_host_whose_robots_txt_is_unreachable_is_left_for_the_next_run(
    tmp_path: Path, loopserver: LoopServer, other_host: LoopServer
) -> None:
    """RFC 9309 2.3.1.4 on the redirect target's host: robots.txt answering 500 means complete disallow; the
    reason says so and names the target, and (a passing reason) the article is tried again next run."""
    loopserver.serve("/robots.txt", "User-agent: *\nDisallow: /private/\n")
    other_host.status("/robots.txt", 500)
    listing(loopserver, [STORY[0], STORY[1]])
    target = other_host.url("/news/a1")
    loopserver.redirect(STORY[0], target)
    other_host.serve("/news/a1", ARTICLE.format(title="Статья за редиректом"), content_type="text/html")
    loopserver.serve(STORY[1], ARTICLE.format(title="Прямая статья"), content_type="text/html")
    app = make_app(tmp_path, [page("portal", loopserver.url("/")), naming(other_host)], per_host=2)
    report = run_collect(app, select_sources(app, all_sources=True))
    why = f"blocked: robots.txt unreachable (HTTP 500) (redirect to {target})"
    assert report.warnings["portal"] == f"1 of 2 articles failed (first: {loopserver.url(STORY[0])}: {why})"
    assert other_host.requests_for("/news/a1") == []
    state = app.store.source_states(["portal"])["portal"]
    assert state.content_hash is None  # work left: the unchanged listing is read again, not skipped
    other_host.serve("/robots.txt", "User-agent: *\nAllow: /\n")
    loopserver.clear_requests()
    again = run_collect(app, select_sources(app, all_sources=True))
    assert again.items_new == 1 and "portal" not in again.warnings
    assert [r.path for r in loopserver.requests if r.path.startswith("/news/")] == [STORY[0]]
    assert len(other_host.requests_for("/news/a1")) == 1
