"""robots.txt politeness for page sources: fetched once per host per run, parsed by ``urllib.robotparser``.

Rules are matched RFC 9309 style (the longest matching path wins, Allow on a tie); like urllib, ``*`` and
``$`` wildcards inside paths are not interpreted.

Policy when robots.txt cannot be read: 401/403 mean "keep out" (disallow all, the common crawler practice);
any other failure — 404 and other client errors, server errors, network failures, oversized files — allows
everything, so a broken robots.txt never silences a source. The cache lives as long as its instance (one run).
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from mediawatch.errors import FetchError
from mediawatch.http import Fetcher

logger = logging.getLogger(__name__)

DENY_STATUSES = frozenset({401, 403})
MAX_ROBOTS_BYTES = 512 * 1024  # RFC 9309 2.5: parse at least 500 KiB


class RobotsCache:
    """``allowed(url)`` for one run. Give it the run's :class:`Fetcher` (preferred: per-host limits and
    retries apply) or a bare ``httpx.AsyncClient``, and the full User-Agent string sent by mediawatch."""

    def __init__(self, fetcher_or_client: Fetcher | httpx.AsyncClient, user_agent: str) -> None:
        self._http = fetcher_or_client
        self._user_agent = user_agent
        self._parsers: dict[str, RobotFileParser] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def allowed(self, url: str) -> bool:
        """Whether robots.txt of ``url``'s host lets our User-Agent fetch it."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return True  # nothing to ask; the fetch itself will report the bad URL
        origin = f"{parts.scheme}://{parts.netloc.lower()}"
        parser = await self._parser(origin)
        return parser.can_fetch(self._user_agent, url)

    async def ensure_allowed(self, url: str, *, source_id: str) -> None:
        """Raise ``FetchError("blocked by robots.txt")`` when ``url`` is disallowed."""
        if not await self.allowed(url):
            raise FetchError(source_id, "blocked by robots.txt", url=url)

    async def _parser(self, origin: str) -> RobotFileParser:
        parser = self._parsers.get(origin)
        if parser is not None:
            return parser
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:  # concurrent pages of one host wait for a single robots.txt fetch
            parser = self._parsers.get(origin)
            if parser is None:
                parser = self._parsers[origin] = await self._load(origin)
        return parser

    async def _load(self, origin: str) -> RobotFileParser:
        robots_url = f"{origin}/robots.txt"
        status, body = await self._get(robots_url)
        parser = RobotFileParser(robots_url)
        if status in DENY_STATUSES:
            parser.parse(["User-agent: *", "Disallow: /"])
        elif status is None or not 200 <= status < 300:
            parser.parse([])  # no rules: everything allowed
        else:
            text = body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace").removeprefix("\ufeff")
            parser.parse(text.splitlines())
            _longest_match_first(parser)
        logger.debug("robots.txt loaded", extra={"url": robots_url, "status": status})
        return parser

    async def _get(self, robots_url: str) -> tuple[int | None, bytes]:
        """(status, body) of robots.txt; status ``None`` when it could not be fetched at all."""
        if isinstance(self._http, Fetcher):
            try:
                result = await self._http.fetch(robots_url, source_id="robots.txt", accept="text/plain")
            except FetchError as exc:
                return exc.status, b""
            return result.status, result.body
        body = bytearray()
        try:
            async with self._http.stream("GET", robots_url, headers={"Accept": "text/plain"}) as response:
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) >= MAX_ROBOTS_BYTES:
                        break  # the rest is ignored anyway
        except httpx.HTTPError:
            return None, b""
        return response.status_code, bytes(body)


def _longest_match_first(parser: RobotFileParser) -> None:
    """Make urllib's first-match rule order behave like RFC 9309's longest match (Allow wins a tie).

    ``urllib.robotparser`` checks rules in file order, so ``Disallow: /a/`` before ``Allow: /a/b/`` would
    block ``/a/b/``; sorting each group's rules longest-path-first gives the standard answer.
    """
    entries = list(getattr(parser, "entries", []))  # urllib internals, untyped in typeshed
    default_entry = getattr(parser, "default_entry", None)
    if default_entry is not None:
        entries.append(default_entry)
    for entry in entries:
        entry.rulelines.sort(key=lambda rule: (-len(rule.path), not rule.allowance))
