"""The offline demo's sample website: the project's own demo outlets served from a loopback HTTP server.

::

    with DemoSite(now) as site:
        Path("demo-sources.yaml").write_text(site.sources_yaml())
        ...  # collect from site.base_url, tag, build stories, write the digest

``DemoSite(now)`` renders every feed and page from ``data/*.yaml`` with dates placed relative to ``now``
(most items in the last complete ISO week, a few in the week before and in the current week) and starts a
``ThreadingHTTPServer`` on 127.0.0.1 with an ephemeral port in a daemon thread. Responses carry a
Content-Type with charset, an ETag and a Last-Modified, and conditional GETs get 304. robots.txt allows
everything but ``/private/``. Nothing here touches any address but 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self
from urllib.parse import parse_qs, urlsplit

from mediawatch.demo import render
from mediawatch.demo.catalog import DemoItem, DemoSource, all_items, load_catalog

HOST = "127.0.0.1"
EVERY = "30m"

_CONTENT_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "youtube": "text/xml",  # what youtube.com/feeds/videos.xml answers with
}
_HTML = "text/html; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Resource:
    """One served document with its validators."""

    body: bytes
    content_type: str
    last_modified: datetime
    etag: str = ""
    required_query: Mapping[str, str] = field(default_factory=dict)  # e.g. the channel_id of a channel feed

    def __post_init__(self) -> None:
        if not self.etag:
            object.__setattr__(self, "etag", '"' + hashlib.sha256(self.body).hexdigest()[:20] + '"')


@dataclass(frozen=True, slots=True)
class Hit:
    """One request the demo site answered."""

    method: str
    path: str  # with the query string
    status: int


def build_site(sources: tuple[DemoSource, ...], base: str, now: datetime) -> dict[str, Resource]:
    """Every path of the demo site and what it serves. Pure."""
    newest = max((i.published for i in all_items(sources)), default=now)
    site: dict[str, Resource] = {
        "/": Resource(render.index_page(sources), _HTML, newest),
        "/robots.txt": Resource(render.ROBOTS_TXT.encode(), "text/plain; charset=utf-8", newest),
        "/private/redaktsiya/": Resource(b"<!DOCTYPE html><title>private</title>", _HTML, newest),
    }
    for source in sources:
        updated = max((i.published for i in source.items), default=now)
        if source.home_path is not None:  # the listing page (every page source has one)
            site[source.home_path] = Resource(render.listing_page(source), _HTML, updated)
        if source.feed_path is not None:
            body = {
                "rss": render.rss_feed,
                "atom": render.atom_feed,
                "youtube": render.youtube_feed,
            }[source.format](source, base, now)
            charset = "utf-8" if source.format == "youtube" else source.charset
            query = {"channel_id": source.channel_id} if source.channel_id else {}
            content_type = f"{_CONTENT_TYPES[source.format]}; charset={charset}"
            site[source.feed_path] = Resource(body, content_type, updated, required_query=query)
        for item in source.items:
            if item.path is not None:
                site[item.path] = Resource(render.article_page(source, item), _HTML, item.published)
            else:
                png = render.thumbnail_png(item.key)
                site[f"/youtube/vi/{item.key}/hqdefault.png"] = Resource(png, "image/png", item.published)
    return site


def not_modified(resource: Resource, headers: Mapping[str, str]) -> bool:
    """RFC 9110 13.1.1/13.1.3: If-None-Match decides when present; else If-Modified-Since."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in wanted or resource.etag in wanted
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            return False
        return resource.last_modified.replace(microsecond=0) <= since
    return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    resources: dict[str, Resource]
    hits: list[Hit]
    lock: threading.Lock


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mediawatch-demo/1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # the stdlib's signature
        pass  # requests are recorded as Hits instead

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, *, send_body: bool) -> None:
        parts = urlsplit(self.path)
        resource = self.server.resources.get(parts.path)
        if resource is not None and resource.required_query:
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if any(query.get(k) != v for k, v in resource.required_query.items()):
                resource = None
        headers = {name.lower(): value for name, value in self.headers.items()}
        if resource is None:
            status, body = 404, b"not found\n"
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)
        elif not_modified(resource, headers):
            status = 304
            self.send_response(status)
            self._validators(resource)
            self.end_headers()
        else:
            status = 200
            self.send_response(status)
            self.send_header("Content-Type", resource.content_type)
            self.send_header("Content-Length", str(len(resource.body)))
            self._validators(resource)
            self.end_headers()
            if send_body:
                self.wfile.write(resource.body)
        with self.server.lock:
            self.server.hits.append(Hit(self.command, self.path, status))

    def _validators(self, resource: Resource) -> None:
        self.send_header("ETag", resource.etag)
        self.send_header("Last-Modified", render.http_date(resource.last_modified))


class DemoSite:
    """The demo outlets, rendered for ``now`` and served on 127.0.0.1 until :meth:`close`.

    The server starts in the constructor; use the object as a context manager (or call ``close()``)."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError(f"naive datetime {now!r}: DemoSite needs a timezone-aware 'now'")
        self.now = now.astimezone(UTC)
        self._server = _Server((HOST, 0), _Handler)
        self._server.hits = []
        self._server.lock = threading.Lock()
        try:
            self.sources: tuple[DemoSource, ...] = load_catalog(self.now, self.base_url)
            self._server.resources = build_site(self.sources, self.base_url, self.now)
        except BaseException:
            self._server.server_close()
            raise
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="demo-site", daemon=True
        )
        self._thread.start()
        self._closed = False

    # --------------------------------------------------------------------------------------- lifecycle
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and release the port. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --------------------------------------------------------------------------------------- views
    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}"

    @property
    def items(self) -> tuple[DemoItem, ...]:
        return tuple(all_items(self.sources))

    @property
    def paths(self) -> tuple[str, ...]:
        """Every path the site serves."""
        return tuple(self._server.resources)

    def hits(self) -> list[Hit]:
        """The requests answered so far, oldest first."""
        with self._server.lock:
            return list(self._server.hits)

    def sources_yaml(self) -> str:
        """A version-1 sources.yaml listing every demo source (valid for ``mediawatch check``)."""
        lines = [
            f"# The demo's own sample outlets, served by `mediawatch demo` on {self.base_url}",
            "# (only while the demo runs).",
            "# Outlets, people, events and numbers are invented; real places and institutions are only the setting.",
            "version: 1",
            "",
            "defaults:",
            f"  every: {EVERY}",
            "",
            "sources:",
        ]
        for source in self.sources:
            lines += [
                f"  - id: {source.id}",
                f"    name: {_quoted(source.name)}",
                f"    kind: {source.kind.value}",
            ]
            if source.format == "youtube":
                lines += [
                    f"    channel_id: {source.channel_id}",
                    f"    feed_url: {_quoted(source.url)}",
                ]
            else:
                lines.append(f"    url: {_quoted(source.url)}")
            lines += [
                f"    country: {source.country}",
                f"    language: {source.language}",
                f"    every: {EVERY}",
                "    tags: [demo]",
                "",
            ]
        return "\n".join(lines)


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax is a subset of it)."""
    return json.dumps(text, ensure_ascii=False)
