"""Absolute links from the web app over real HTTP on 127.0.0.1: MEDIAWATCH_BASE_URL when set, else the Host
header only when it names the server's own address (never a forged one in a cacheable response), and the
emptied feed's date on the web equal to the file's."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from liveserver import LiveServer
from webdata import NOW, QStore, item_id, open_filled

from mediawatch.publish import FeedOptions, rebuild_feeds
from mediawatch.settings import Settings
from mediawatch.store import Label
from mediawatch.web import create_app
from mediawatch.web.origin import allowed_hosts, bind_names, trusted_host

FEED = "/feeds/countries/MN.atom"


class OriginServer(LiveServer):
    def get(self, path: str, host: str) -> tuple[int, dict[str, str], bytes]:
        """GET ``path`` with exactly this Host header."""
        return fetch(self.port, path, host)


def fetch(port: int, path: str, host: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": host})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def self_link(body: bytes) -> str | None:
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return next((link.href for link in parsed.feed.get("links", []) if link.rel == "self"), None)


def opml_urls(body: bytes) -> set[str]:
    return {o.get("xmlUrl") or "" for o in ET.fromstring(body).iter("outline") if o.get("xmlUrl")}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[QStore]:
    s = open_filled(tmp_path / "origin.db")
    yield s
    s.close()


def live(store: QStore, tmp_path: Path, settings: Settings) -> OriginServer:
    return OriginServer(
        lambda port: create_app(
            store, settings, digests_dir=tmp_path / "digests", clock=lambda: NOW, listen=("127.0.0.1", port)
        )
    )


def test_without_a_base_url_only_the_servers_own_address_reaches_the_links(
    store: QStore, tmp_path: Path
) -> None:
    with live(store, tmp_path, Settings()) as srv:
        own = f"127.0.0.1:{srv.port}"
        for host in (own, f"localhost:{srv.port}"):
            status, headers, body = srv.get(FEED, host)
            assert status == 200 and self_link(body) == f"http://{host}{FEED}", host
            assert headers["vary"] == "Host", host  # the body depends on Host: caches must key on it
            _, headers, body = srv.get("/feeds.opml", host)
            assert f"http://{host}/feeds/countries/MN.atom" in opml_urls(body) and headers["vary"] == "Host"
        # the files written without a base URL: what any other Host gets, byte for byte
        out = tmp_path / "written"
        rebuild_feeds(store, out, now=NOW, options=FeedOptions.from_settings(Settings()))
        forged = (
            "evil.example",
            f"evil.example:{srv.port}",
            "127.0.0.1:1",
            f"127.0.0.1:{srv.port}.evil.example",
            f"localhost.evil.example:{srv.port}",
            "",
        )
        for host in forged:
            status, headers, body = srv.get(FEED, host)
            assert status == 200 and self_link(body) is None, host
            assert b"evil" not in body and body == (out / FEED.lstrip("/")).read_bytes(), host
            assert headers["vary"] == "Host" and headers["cache-control"] == "public, max-age=300", host
            _, _, opml = srv.get("/feeds.opml", host)
            assert b"evil" not in opml and "feeds/countries/MN.atom" in opml_urls(opml), host  # relative
            assert opml == (out / "feeds.opml").read_bytes()


def test_with_a_base_url_the_links_never_depend_on_host(store: QStore, tmp_path: Path) -> None:
    settings = Settings(base_url="https://mw.example.org/attaches")
    out = tmp_path / "written"
    rebuild_feeds(store, out, now=NOW, options=FeedOptions.from_settings(settings))
    with live(store, tmp_path, settings) as srv:
        for host in (f"127.0.0.1:{srv.port}", "evil.example"):
            status, headers, body = srv.get(FEED, host)
            assert status == 200 and self_link(body) == f"https://mw.example.org/attaches{FEED}", host
            assert body == (out / FEED.lstrip("/")).read_bytes(), host  # on the fly == on disk
            assert "vary" not in headers, host
            _, headers, opml = srv.get("/feeds.opml", host)
            assert "https://mw.example.org/attaches/feeds/countries/MN.atom" in opml_urls(opml)
            assert b"evil" not in opml and b"127.0.0.1" not in opml and "vary" not in headers


def test_an_emptied_feed_on_the_web_carries_the_files_date(store: QStore, tmp_path: Path) -> None:
    out = tmp_path / "written"
    options = FeedOptions.from_settings(Settings(base_url="https://mw.example.org/"))
    rebuild_feeds(store, out, now=NOW, options=options)
    relabeled = NOW + timedelta(hours=2)
    store.save_label(Label(item_id(9), False, (), (), "aigerim", None, relabeled))  # Turkey's only item
    rebuild_feeds(store, out, now=NOW, touched_item_ids=[], options=options)
    with live(store, tmp_path, Settings(base_url="https://mw.example.org/")) as srv:
        for path in ("/feeds/countries/TR.atom", "/feeds/countries/TR.json"):
            status, _, body = srv.get(path, f"127.0.0.1:{srv.port}")
            assert status == 200 and body == (out / path.lstrip("/")).read_bytes(), path
        _, _, body = srv.get("/feeds/countries/TR.atom", f"127.0.0.1:{srv.port}")
        parsed = feedparser.parse(body)
        assert parsed.entries == [] and parsed.feed.updated == relabeled.isoformat()
        # never had an item: empty since the sources were registered, not since 1970
        _, _, body = srv.get("/feeds/topics/sport/countries/KZ.json", f"127.0.0.1:{srv.port}")
        assert json.loads(body)["_mediawatch"]["updated"] == "2025-01-23T06:00:00Z"


def test_trusted_host_names() -> None:
    assert allowed_hosts(("127.0.0.1", 8080), "http") == {"127.0.0.1:8080", "localhost:8080", "[::1]:8080"}
    assert allowed_hosts(("::1", 8080), "http") == {"[::1]:8080", "localhost:8080", "127.0.0.1:8080"}
    # a connection that reached a public address through a wildcard bind: that address only
    assert allowed_hosts(("192.0.2.7", 8080), "http") == {"192.0.2.7:8080"}
    # the default port may be left out of Host
    assert allowed_hosts(("192.0.2.7", 80), "http") == {"192.0.2.7:80", "192.0.2.7"}
    assert trusted_host("LOCALHOST:8080", ("127.0.0.1", 8080), "http")
    assert not trusted_host("localhost:8081", ("127.0.0.1", 8080), "http")
    assert not trusted_host(None, ("127.0.0.1", 8080), "http")
    # the name given at start-up (serve --host) is trusted with its port; a wildcard names nothing
    assert bind_names("mw.lan", 8080) == {"mw.lan:8080"} and bind_names("0.0.0.0", 8080) == frozenset()
    assert bind_names("::", 8080) == frozenset()
    assert trusted_host("mw.lan:8080", ("192.0.2.7", 8080), "http", bind_names("mw.lan", 8080))


def test_serve_command_takes_the_base_url(tmp_path: Path) -> None:
    """``mediawatch serve --base-url`` in a child process: the option reaches the feeds and the OPML."""
    open_filled(tmp_path / "serve.db").close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "MEDIAWATCH_DB": f"sqlite:///{tmp_path / 'serve.db'}",
        "MEDIAWATCH_DIGESTS": str(tmp_path / "digests"),
    }
    env.pop("MEDIAWATCH_BASE_URL", None)
    cmd = [
        sys.executable,
        "-m",
        "mediawatch",
        "serve",
        "--port",
        str(port),
        "--base-url",
        "https://mw.example.org/x",
    ]
    child = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, headers, body = fetch(port, "/feeds.opml", "evil.example")
                break
            except OSError:
                assert child.poll() is None, child.stdout.read() if child.stdout else ""
                assert time.monotonic() < deadline, "serve did not answer within 60 s"
                time.sleep(0.2)
        assert status == 200 and "vary" not in headers
        urls = opml_urls(body)
        assert urls and all(re.match(r"^https://mw\.example\.org/x/feeds/", u) for u in urls)
        _, _, feed = fetch(port, FEED, f"127.0.0.1:{port}")
        assert self_link(feed) == f"https://mw.example.org/x{FEED}"
    finally:
        child.terminate()
        child.wait(timeout=20)
