"""A ``user:password@`` in a source's url is sent where the source needs it and shown nowhere: not in stored
item URLs (so not in pages, feeds, digests or export), not in warnings, reasons or notes, not in log lines.
Real loopback servers, the real command line, the real web app."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from collectapp import ARTICLE
from loopserver import LoopServer, Response

from mediawatch.cli import main

pytestmark = pytest.mark.usefixtures("direct_http")

USER, PASSWORD = "user", "s3cret"
AUTH = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
STORY = "/news/2025/11/0{n}/kazakh-diaspora-story-{n}"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def credentialed(url: str, password: str = PASSWORD) -> str:
    return url.replace("http://", f"http://{USER}:{password}@", 1)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for var in ("MEDIAWATCH_DB", "MEDIAWATCH_SOURCES", "MEDIAWATCH_DIGESTS", "MEDIAWATCH_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def write_sources(workdir: Path, site: LoopServer, other: LoopServer, password: str = PASSWORD) -> None:
    (workdir / "sources.yaml").write_text(
        "version: 1\nsources:\n"
        f"  - {{id: credpage, kind: page, url: '{credentialed(site.url('/news/'), password)}',"
        " selector: 'li.n a'}\n"
        f"  - {{id: credrel, kind: rss, url: '{credentialed(site.url('/rel.xml'), password)}'}}\n"
        f"  - {{id: credfail, kind: page, url: '{credentialed(site.url('/broken/'), password)}'}}\n"
        f"  - {{id: other-host, kind: rss, url: '{other.url('/feed.xml')}', enabled: false}}\n",
        encoding="utf-8",
    )


def serve(site: LoopServer, other: LoopServer) -> None:
    """credpage: two articles on its own host (one a 404, one behind a relative redirect into a path robots.txt
    disallows) and one on another host; credrel: a feed with a relative link; credfail: a listing whose only
    article is a 404."""
    for n in (1, 2):
        title = f"Казахи Турции отметили Наурыз {n}"
        site.serve(STORY.format(n=n), ARTICLE.format(title=title), content_type="text/html; charset=utf-8")
    site.sequence(STORY.format(n=3), Response(status=302, headers={"Location": "/private/3"}, content_type=None))
    site.status(STORY.format(n=4), 404)
    site.serve("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    other.serve("/elsewhere/2025/11/05/kazakh-story", ARTICLE.format(title="Казахи Германии провели курултай"),
                content_type="text/html; charset=utf-8")
    links = [STORY.format(n=n) for n in (1, 2, 3, 4)] + [other.url("/elsewhere/2025/11/05/kazakh-story")]
    items = "".join(f'<li class="n"><a href="{u}">Казахская диаспора, новость {n}</a></li>' for n, u in enumerate(links))
    site.serve("/news/", f"<html><body><ul>{items}</ul></body></html>", content_type="text/html")
    site.serve("/rel.xml", "<?xml version='1.0'?><rss version='2.0'><channel><title>Rel</title><item>"
               "<title>Казахская община Стамбула открыла школу</title><link>/rel/1</link>"
               "<description>Казахская община Стамбула открыла школу родного языка.</description></item>"
               "</channel></rss>", content_type="application/rss+xml")
    site.status("/broken/2025/11/01/kazakh-diaspora-gone", 404)
    site.serve("/broken/", '<html><body><article><h2><a href="/broken/2025/11/01/kazakh-diaspora-gone">'
               "Казахская диаспора: статья</a></h2></article></body></html>", content_type="text/html")


def shown_everywhere(workdir: Path) -> str:
    """Everything mediawatch shows or publishes: command output, export, the sources table, digest and feed
    files, the web app's pages and feeds, and the stored item URLs, source errors and notes."""
    from starlette.testclient import TestClient

    from mediawatch.settings import Settings
    from mediawatch.store import open_store
    from mediawatch.web import create_app

    texts = []
    for command in (["export"], ["sources"], ["sources", "--json"]):
        code, out, err = run(*command)
        assert code == 0, err
        texts += [out, err]
    texts += [p.read_text(encoding="utf-8") for p in (workdir / "digests").rglob("*") if p.is_file()
              and p.suffix in (".md", ".html", ".atom", ".json", ".opml", ".svg")]
    store = open_store("sqlite:///mediawatch.db")
    try:
        client = TestClient(create_app(store, Settings(), digests_dir=workdir / "digests"))
        rows = list(store.export_rows())
        pages = ["/", "/sources", "/feeds", "/feeds.opml", "/digests"] + [f"/items/{r['id']}" for r in rows]
        pages += ["/feeds/countries/TR.atom", "/feeds/countries/TR.json", "/feeds/topics/festivals.atom"]
        for path in pages:
            response = client.get(path)
            assert response.status_code == 200, path
            texts.append(response.text)
        texts += [json.dumps([r["url"] for r in rows])]
        texts += [json.dumps([h.last_error, h.notes, h.url]) for h in store.health(store_now())]
    finally:
        store.close()
    return "\n".join(texts)


def store_now():  # noqa: ANN201 - a datetime
    from datetime import UTC, datetime

    return datetime.now(UTC)


def test_a_source_urls_password_is_sent_where_needed_and_shown_nowhere(workdir: Path, loopserver: LoopServer) -> None:
    with LoopServer() as other:
        serve(loopserver, other)
        write_sources(workdir, loopserver, other)
        code, out, logged = run("collect", "--all", "-vv")  # every debug line, on standard error
        assert code == 0, logged
        gone = loopserver.url("/broken/2025/11/01/kazakh-diaspora-gone")
        assert f"  failed  credfail: every new article failed; first: {gone}: HTTP 404" in out
        assert (f"  warning credpage: 2 of 5 articles failed (first: {loopserver.url(STORY.format(n=3))}: blocked by "
                f"robots.txt (redirect to {loopserver.url('/private/3')}))") in out
        # sent: to the listing's host (robots.txt, the listing, its articles, the redirect it follows)
        for path in ("/news/", "/robots.txt", *(STORY.format(n=n) for n in (1, 2, 3, 4)), "/rel.xml"):
            assert loopserver.requests_for(path), path
            assert all(r.headers.get("authorization") == AUTH for r in loopserver.requests_for(path)), path
        assert loopserver.requests_for("/private/3") == []  # robots.txt disallows where it redirects
        # not sent: to another host the listing links
        assert other.requests and not any("authorization" in r.headers for r in other.requests)

        code, _, err = run("classify")
        assert code == 0, err
        code, out, _ = run("export")
        ids = [json.loads(line)["id"] for line in out.splitlines()]
        for item_id in ids:  # every item on the feeds and in the digest, whatever the model said
            assert run("label", item_id, "--relevant", "--country", "TR", "--topic", "festivals")[0] == 0
        year, week, _ = store_now().isocalendar()
        code, _, err = run("digest", "--week", f"{year}-W{week:02d}")
        assert code == 0, err

        urls = sorted(json.loads(line)["url"] for line in run("export")[1].splitlines())
        assert urls == sorted([loopserver.url(STORY.format(n=1)), loopserver.url(STORY.format(n=2)),
                               loopserver.url("/rel/1"), other.url("/elsewhere/2025/11/05/kazakh-story")])
        shown = shown_everywhere(workdir)
        assert f"first: {gone}: HTTP 404" in shown  # the source's error and warning, without the password
        assert f"blocked by robots.txt (redirect to {loopserver.url('/private/3')})" in shown
        assert f"url={loopserver.url('/news/')} " in logged and "robots.txt loaded" in logged  # named in the log...
        for text in (logged, shown):
            assert PASSWORD not in text  # ...and never the password

        # a new password is the same source: nothing is fetched or stored again
        write_sources(workdir, loopserver, other, password="n3w-pass")
        loopserver.clear_requests()
        code, out, err = run("collect", "--all")
        assert code == 0 and "items: 0 new" in out, (out, err)
        # the stored articles are known, the redirect into robots.txt and the 404 were given up for 30 days
        assert not [r for r in loopserver.requests if r.path.startswith("/news/2025/")]
        assert PASSWORD not in out + err


def test_probe_and_sources_add_show_no_password_but_the_stanza_keeps_it(workdir: Path, loopserver: LoopServer) -> None:
    """probe sends the credentials on the address's origin (robots.txt, the page, the feed it declares) and
    shows addresses without them, except in the suggested stanza, which needs them to collect; sources add
    writes that stanza."""
    feed = loopserver.serve("/feed.xml", "<?xml version='1.0'?><rss version='2.0'><channel><title>Portal</title>"
                            "<item><title>Казахи Турции</title><link>/news/1</link></item></channel></rss>",
                            content_type="application/rss+xml")
    loopserver.serve("/site/", '<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml">'
                     '</head><body><article><h2><a href="/news/2025/11/01/kazakh-diaspora-story">Казахская '
                     "диаспора Турции провела курултай</a></h2></article></body></html>", content_type="text/html")
    code, out, err = run("probe", credentialed(loopserver.url("/site/")))
    assert code == 0, err
    report, _, stanza = out.partition("suggested sources.yaml stanza")
    assert loopserver.url("/site/") in report and feed in report and PASSWORD not in report + err
    assert f"url: {credentialed(feed)}" in stanza  # the feed the page declares, reached with the page's password
    assert loopserver.requests and all(r.headers.get("authorization") == AUTH for r in loopserver.requests)

    code, out, _ = run("probe", "--json", credentialed(loopserver.url("/site/")))
    data = json.loads(out)
    assert data["suggested"]["url"] == credentialed(feed)
    assert PASSWORD not in json.dumps({key: value for key, value in data.items() if key != "suggested"})

    (workdir / "sources.yaml").write_text("version: 1\nsources: []\n", encoding="utf-8")
    code, out, err = run("sources", "add", credentialed(feed))
    assert code == 0, err
    assert f"url: {credentialed(feed)}" in (workdir / "sources.yaml").read_text(encoding="utf-8")
    code, out, err = run("sources", "add", feed)  # the same feed, without the password: already collected
    assert code == 2 and "already collects that feed" in err


def test_a_failed_probe_shows_no_password(workdir: Path, loopserver: LoopServer) -> None:
    """Before: probe --json's failure object (a 404, a bad selector, a YouTube video address) and the error
    line printed the address as given, password included."""
    loopserver.serve("/gone", "", status=404)
    for args in (("probe", "--json", credentialed(loopserver.url("/gone"))),
                 ("probe", credentialed(loopserver.url("/gone"))),
                 ("probe", "--json", "--selector", "a[[", credentialed(loopserver.url("/gone")))):
        code, out, err = run(*args)
        assert code in (1, 2) and PASSWORD not in out + err, (args, out, err)
        if "--json" in args:
            assert json.loads(out)["error"]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_crashing_collector_logs_no_password(workdir: Path, loopserver: LoopServer, monkeypatch: pytest.MonkeyPatch,
                                               log_format: str) -> None:
    """Before: the "collector crashed" line's traceback carried the exception's text, and with it the source's
    address, password included (here a bug whose message, and whose cause's, quote the address it was given)."""
    from mediawatch.robots import RobotsCache

    async def broken(self: RobotsCache, url: str, *, source_id: str) -> None:
        try:
            raise KeyError(url)
        except KeyError as exc:
            raise RuntimeError(f"robots check broke on {url}") from exc

    monkeypatch.setattr(RobotsCache, "ensure_allowed", broken)
    monkeypatch.setenv("MEDIAWATCH_LOG_FORMAT", log_format)
    (workdir / "sources.yaml").write_text(
        f"version: 1\nsources:\n  - {{id: crashy, kind: page, url: '{credentialed(loopserver.url('/news/'))}'}}\n",
        encoding="utf-8",
    )
    code, out, logged = run("collect", "--all")
    assert code == 0, logged
    assert "failed  crashy: internal error: RuntimeError: robots check broke on" in out
    assert "collector crashed" in logged and "KeyError" in logged, logged  # the traceback, both exceptions...
    assert f"robots check broke on {loopserver.url('/news/')}" in logged  # ...naming the address...
    assert PASSWORD not in out + logged  # ...never its password
