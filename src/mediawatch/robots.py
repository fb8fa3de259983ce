"""robots.txt politeness for page sources: fetched once per host per run, parsed by ``urllib.robotparser``.

Rules are matched RFC 9309 style (the longest matching path wins, Allow on a tie); like urllib, ``*`` and
``$`` wildcards inside paths are not interpreted.

Redirects of page sources are checked too (:meth:`RobotsCache.check_redirect`, handed to ``Fetcher.fetch``
as ``check_redirect``): each hop is asked about before it is requested, so an allowed URL cannot lead into a
disallowed one on any host.

Policy when robots.txt cannot be read (RFC 9309 2.3.1.3-2.3.1.4): 401/403 mean "keep out" (disallow all,
the cautious crawler practice); other client errors (404, 410, …), too many redirects and oversized files
mean "unavailable" and allow everything; an *unreachable* robots.txt — a server error (5xx), 429, a network
failure or a timeout — means "assume complete disallow": the fetch is refused with the reason
``blocked: robots.txt unreachable (HTTP 503)``. The cache lives as long as its instance (one run), so the
next run asks again.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from mediawatch.errors import FetchError
from mediawatch.fetch_reasons import clip
from mediawatch.http import Fetcher
from mediawatch.normalize import without_credentials

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
        self._unreachable: dict[str, str] = {}  # origin -> why its robots.txt could not be read
        self._locks: dict[str, asyncio.Lock] = {}

    async def allowed(self, url: str) -> bool:
        """Whether robots.txt of ``url``'s host lets our User-Agent fetch it (False while it is unreachable)."""
        return await self.refusal(url) is None

    async def ensure_allowed(self, url: str, *, source_id: str) -> None:
        """Raise ``FetchError("blocked by robots.txt")`` when ``url`` is disallowed, or
        ``FetchError("blocked: robots.txt unreachable (…)")`` when its robots.txt could not be read.

        A ``user:password@`` in ``url`` is sent with the robots.txt request (a site behind a password answers
        401 without it, which would keep us out), and never shown."""
        reason = await self.refusal(url)
        if reason is not None:
            raise FetchError(source_id, reason, url=without_credentials(url))

    async def check_redirect(self, url: str, *, source_id: str) -> None:
        """Like :meth:`ensure_allowed` for a redirect target (``Fetcher.fetch(check_redirect=…)``): the reason
        names it, e.g. ``blocked by robots.txt (redirect to https://b.example/private/1)``."""
        reason = await self.refusal(url)
        if reason is not None:
            shown = without_credentials(url)
            raise FetchError(source_id, f"{reason} (redirect to {clip(shown)})", url=shown)

    async def refusal(self, url: str) -> str | None:
        """Why ``url`` may not be fetched (``blocked by robots.txt``, ``blocked: robots.txt unreachable (…)``),
        or None when it may."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return None  # nothing to ask; the fetch itself will report the bad URL
        # credentials, kept as written (a password's case matters), tell apart the robots.txt they may unlock
        userinfo, at, hostport = parts.netloc.rpartition("@")
        origin = f"{parts.scheme}://{userinfo}{at}{hostport.lower()}"
        parser, unreachable = await self._parser(origin)
        if unreachable is not None:
            return f"blocked: robots.txt unreachable ({unreachable})"
        return None if parser.can_fetch(self._user_agent, url) else "blocked by robots.txt"

    async def _parser(self, origin: str) -> tuple[RobotFileParser, str | None]:
        parser = self._parsers.get(origin)
        if parser is not None:
            return parser, self._unreachable.get(origin)
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:  # concurrent pages of one host wait for a single robots.txt fetch
            parser = self._parsers.get(origin)
            if parser is None:
                parser = self._parsers[origin] = await self._load(origin)
        return parser, self._unreachable.get(origin)

    async def _load(self, origin: str) -> RobotFileParser:
        robots_url = f"{origin}/robots.txt"
        status, body, unreachable = await self._get(robots_url)
        parser = RobotFileParser(robots_url)
        if unreachable is not None or status in DENY_STATUSES:
            parser.parse(["User-agent: *", "Disallow: /"])
            if unreachable is not None:
                self._unreachable[origin] = unreachable
        elif status is None or not 200 <= status < 300:
            parser.parse([])  # unavailable (404, too many redirects, …): no rules, everything allowed
        else:
            text = body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace").removeprefix("\ufeff")
            parser.parse(text.splitlines())
            _longest_match_first(parser)
        logger.debug(
            "robots.txt loaded",
            extra={"url": without_credentials(robots_url), "status": status, "unreachable": unreachable},
        )
        return parser

    async def _get(self, robots_url: str) -> tuple[int | None, bytes, str | None]:
        """(status, body, why it is unreachable); status ``None`` when no status line was received."""
        if isinstance(self._http, Fetcher):
            try:
                result = await self._http.fetch(robots_url, source_id="robots.txt", accept="text/plain")
            except FetchError as exc:
                return exc.status, b"", _unreachable(exc.status, exc.reason, network=exc.transient)
            return result.status, result.body, None
        body = bytearray()
        try:
            async with self._http.stream("GET", robots_url, headers={"Accept": "text/plain"}) as response:
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) >= MAX_ROBOTS_BYTES:
                        break  # the rest is ignored anyway
        except httpx.TooManyRedirects:
            return None, b"", None
        except httpx.HTTPError as exc:
            return None, b"", _unreachable(None, str(exc) or type(exc).__name__, network=True)
        status = response.status_code
        return status, bytes(body), _unreachable(status, f"HTTP {status}", network=False)


def _unreachable(status: int | None, reason: str, *, network: bool) -> str | None:
    """Why robots.txt counts as unreachable (RFC 9309 2.3.1.4: server errors, and 429 like Google), or
    None when it is merely unavailable or was read."""
    if status is not None:
        return f"HTTP {status}" if status >= 500 or status == 429 else None
    if network or reason.startswith("timed out"):
        return reason  # connection refused/reset, timeouts, truncated responses
    return None  # too many redirects, larger than the body limit, undecodable: unavailable


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
