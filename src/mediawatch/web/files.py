"""Non-page responses: digest files and charts, subscriber feeds and OPML, /healthz and /metrics.

Feeds are rendered from the store on each request with :mod:`mediawatch.publish` (so an editor's correction
shows at once); the bytes equal the files ``rebuild_feeds`` writes for the same moment and base URL. Each
response carries a strong ETag from its content, and a matching ``If-None-Match`` (weak comparison, ``*``,
lists) gets a 304. Files read from the digests folder also carry ``Last-Modified`` (their mtime) and honour
``If-Modified-Since`` when no ``If-None-Match`` is sent. Feeds have no Last-Modified: a correction or an item
ageing out of the window changes a feed without moving any date forward, so only the ETag can tell. Absolute
links use ``MEDIAWATCH_BASE_URL``, else a trusted Host (then ``Vary: Host``), else none: see
:mod:`mediawatch.web.origin`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mediawatch.digest.names import COUNTRIES
from mediawatch.publish.feeds import FeedKey, FeedOptions, feed_updated, render_atom, render_json
from mediawatch.publish.opml import render_opml
from mediawatch.publish.write import empty_feed_updated, feed_entries, known_keys
from mediawatch.web.metrics import CONTENT_TYPE
from mediawatch.web.pages import taxonomy_topics
from mediawatch.web.templating import style_csp

if TYPE_CHECKING:
    from mediawatch.web.app import Site

Endpoint = Callable[[Request], Response]
_WEEK = re.compile(r"^\d{4}-W\d{2}\Z")
_CHART = re.compile(r"^[a-z][a-z0-9_-]{0,31}\.svg\Z")
FEED_TYPES = {"atom": "application/atom+xml; charset=utf-8", "json": "application/feed+json; charset=utf-8"}
FILE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@dataclass(frozen=True, slots=True)
class DigestEntry:
    week: str
    generated_at: datetime | None
    relevant_items: int | None
    html: bool
    md: bool


def digest_weeks(site: Site) -> list[DigestEntry]:
    """Digests recorded in the store or lying in the digests folder, newest week first (files must exist)."""
    recorded = {d.week: d for d in site.store.digests() if _WEEK.match(d.week)}
    weeks = set(recorded)
    if site.digests_dir.is_dir():
        weeks |= {
            p.stem for p in site.digests_dir.iterdir() if p.suffix in (".html", ".md") and _WEEK.match(p.stem)
        }
    out = []
    for week in sorted(weeks, reverse=True):
        html, md = (site.digests_dir / f"{week}.html").is_file(), (site.digests_dir / f"{week}.md").is_file()
        if html or md:
            r = recorded.get(week)
            out.append(
                DigestEntry(week, r.generated_at if r else None, r.relevant_items if r else None, html, md)
            )
    return out


def digest_file(site: Site) -> Endpoint:
    def endpoint(request: Request) -> Response:
        name = request.path_params["name"]
        week, _, ext = name.rpartition(".")
        if not _WEEK.match(week) or ext not in ("html", "md"):
            raise HTTPException(404, "No such digest")
        data, modified = _read(site.digests_dir / name)
        if ext == "html":
            text = data.decode("utf-8", "replace")
            csp = {"content-security-policy": style_csp(text)}
            return _cached(request, data, "text/html; charset=utf-8", csp, modified)
        return _cached(
            request, data, "text/plain; charset=utf-8", {"content-security-policy": FILE_CSP}, modified
        )

    return endpoint


def digest_chart(site: Site) -> Endpoint:
    def endpoint(request: Request) -> Response:
        week, name = request.path_params["week"], request.path_params["name"]
        if not _WEEK.match(week) or not _CHART.match(name):
            raise HTTPException(404, "No such chart")
        data, modified = _read(site.digests_dir / week / name)
        return _cached(request, data, "image/svg+xml", {"content-security-policy": FILE_CSP}, modified)

    return endpoint


def opml(site: Site) -> Endpoint:
    def endpoint(request: Request) -> Response:
        base = site.public_base(request)
        keys = site.memo("feed_keys", lambda: known_keys(site.store))
        # base_url "": URLs relative to /feeds.opml, as in the file written without a base URL
        data = render_opml(keys, options=site.feed_options, base_url=base or "")
        headers = {"content-security-policy": FILE_CSP, **_vary(site)}
        return _cached(request, data, "text/x-opml; charset=utf-8", headers)

    return endpoint


def topic_feed(site: Site) -> Endpoint:
    def endpoint(request: Request) -> Response:
        topic, ext = _split(request.path_params["name"])
        return _feed(site, request, FeedKey.parse(topic, None), ext)

    return endpoint


def country_feed(site: Site) -> Endpoint:
    def endpoint(request: Request) -> Response:
        country, ext = _split(request.path_params["name"])
        return _feed(site, request, FeedKey.parse(None, country), ext)

    return endpoint


def pair_feed(site: Site) -> Endpoint:
    def endpoint(request: Request) -> Response:
        country, ext = _split(request.path_params["name"])
        return _feed(site, request, FeedKey.parse(request.path_params["topic"], country), ext)

    return endpoint


FAVICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    b'<circle cx="8" cy="8" r="7" fill="#0b5cad"/>'
    b'<circle cx="8" cy="8" r="3" fill="#fff"/></svg>'
)


def favicon(site: Site) -> Endpoint:
    def endpoint(request: Request) -> Response:
        return _cached(request, FAVICON, "image/svg+xml", {"content-security-policy": FILE_CSP})

    return endpoint


def healthz(site: Site) -> Endpoint:
    def endpoint(request: Request) -> Response:
        try:
            ok = site.store.ping()
            items = site.store.count_items()
        except (SQLAlchemyError, OSError) as exc:
            logging.getLogger(__name__).warning("healthz: database check failed: %s", exc)
            return JSONResponse(
                {"status": "error", "db": "error", "error": type(exc).__name__}, status_code=503
            )
        return JSONResponse(
            {"status": "ok" if ok else "error", "db": "ok" if ok else "error", "items": items},
            status_code=200 if ok else 503,
            headers={"cache-control": "no-store"},
        )

    return endpoint


def metrics(site: Site) -> Endpoint:
    def endpoint(request: Request) -> Response:
        return Response(site.metrics.render(), media_type=CONTENT_TYPE, headers={"cache-control": "no-store"})

    return endpoint


# ---------------------------------------------------------------------------------------------- helpers


def render_feed(site: Site, key: FeedKey, ext: str, *, options: FeedOptions) -> bytes:
    """One feed from the store, as :func:`mediawatch.publish.rebuild_feeds` would write it now."""
    now = site.now()
    entries = feed_entries(site.store, key, now=now, options=options)
    if entries:
        updated = feed_updated(entries)
    else:
        row = site.store.feed_key(key.topic, key.country)
        updated = empty_feed_updated(site.store, key, now=now, newest=row.newest if row else None)
    render = render_atom if ext == "atom" else render_json
    return render(key, entries, updated=updated, options=options)


def _feed(site: Site, request: Request, key: FeedKey | None, ext: str) -> Response:
    if key is None or ext not in FEED_TYPES:
        raise HTTPException(404, "No such feed")
    if not _plausible(site, key) and site.store.feed_key(key.topic, key.country) is None:
        raise HTTPException(404, "No such feed")
    options = site.feed_options
    if not options.base_url:  # links point back at this server when the request's Host is trusted
        options = replace(options, base_url=site.public_base(request))
    data = render_feed(site, key, ext, options=options)
    return _cached(request, data, FEED_TYPES[ext], {"content-security-policy": FILE_CSP, **_vary(site)})


def _vary(site: Site) -> dict[str, str]:
    """Without a configured base URL a feed's links depend on the Host header: caches must key on it."""
    return {"vary": "Host"} if site.varies_by_host else {}


def _plausible(site: Site, key: FeedKey) -> bool:
    """A feed for a known topic (the active taxonomy's, operators' additions included) and/or country that has
    no items yet: an empty feed, not a 404."""
    return ((key.topic is None or key.topic in taxonomy_topics(site))
            and (key.country is None or key.country in COUNTRIES))


def _split(name: str) -> tuple[str, str]:
    stem, _, ext = name.rpartition(".")
    return stem, ext


def _read(path: Path) -> tuple[bytes, datetime]:
    """A served file's bytes and its modification time (UTC, whole seconds as HTTP dates have)."""
    try:
        with path.open("rb") as f:
            data = f.read()
            mtime = os.fstat(f.fileno()).st_mtime
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise HTTPException(404, "No such file") from None
    return data, datetime.fromtimestamp(int(mtime), UTC)


def _cached(
    request: Request,
    data: bytes,
    media_type: str,
    headers: dict[str, str],
    modified: datetime | None = None,
) -> Response:
    """``data`` with a strong ETag (and ``Last-Modified`` when ``modified`` is known), or 304 Not Modified
    when the request's validators match (:func:`not_modified`)."""
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    headers = {**headers, "etag": etag, "cache-control": "public, max-age=300"}
    if modified is not None:
        headers["last-modified"] = format_datetime(modified.astimezone(UTC), usegmt=True)
    if not_modified(request.method, _field(request, "if-none-match"), _field(request, "if-modified-since"),
                    etag, modified):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media_type, headers=headers)


_ETAG = re.compile(r'[\s,]*(?:W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')


def not_modified(
    method: str,
    if_none_match: str | None,
    if_modified_since: str | None,
    etag: str,
    modified: datetime | None,
) -> bool:
    """Whether a GET/HEAD gets 304 (RFC 9110 13.1.2, 13.1.3, 13.2.2).

    ``If-None-Match`` takes precedence: ``*`` matches any existing representation, otherwise any listed
    entity-tag matches by weak comparison (``W/"x"`` matches ``"x"``). Only without it is
    ``If-Modified-Since`` evaluated: a valid HTTP-date at or after ``modified`` means not modified; an invalid
    date is ignored."""
    if method not in ("GET", "HEAD"):
        return False
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        return _opaque(etag) in _entity_tags(if_none_match)
    if if_modified_since is None or modified is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since.strip())
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:  # "-0000": HTTP dates are GMT
        since = since.replace(tzinfo=UTC)
    return modified.replace(microsecond=0) <= since


def _entity_tags(value: str) -> set[str]:
    """The opaque tags of an ``If-None-Match`` list (weak or strong); a malformed member ends the list."""
    tags: set[str] = set()
    pos = 0
    while pos < len(value):
        m = _ETAG.match(value, pos)
        if m is None or m.end() == pos:
            break
        tags.add(m.group(1))
        pos = m.end()
    return tags


def _field(request: Request, name: str) -> str | None:
    """A request header's value, repeated lines joined as one list (RFC 9110 5.3); None when absent."""
    values = request.headers.getlist(name)
    return ", ".join(values) if values else None


def _opaque(etag: str) -> str:
    return etag[2:] if etag.startswith("W/") else etag


__all__ = ["DigestEntry", "digest_weeks", "not_modified", "render_feed"]
