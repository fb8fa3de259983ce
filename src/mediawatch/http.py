"""The HTTP edge: one configured ``httpx.AsyncClient`` and a :class:`Fetcher` that turns a URL into a
:class:`FetchResult` or a :class:`~mediawatch.errors.FetchError` with a human reason.

What a fetch guarantees:

* conditional GET (``If-None-Match`` / ``If-Modified-Since``); a 304 is a success with ``not_modified=True``;
* at most ``per_host`` requests at once to one host (politeness);
* a wall-clock deadline of ``settings.timeout`` for each attempt, connect to last byte, so a server that drips
  one byte per second cannot hold a worker forever;
* at most ``settings.max_bytes`` of *decompressed* body: we decompress ourselves, bounded, so a gzip bomb is
  stopped after ``max_bytes`` of output instead of being inflated in memory;
* transient failures (timeouts, connection errors, 502/503/504) retried by ``stamina`` with backoff; no other
  4xx/5xx is retried, and 429/503 *with* ``Retry-After`` are returned at once as ``FetchError.retry_after``
  so the scheduler moves ``next_check_at`` instead of anybody sleeping;
* a ``user:password@`` in the URL is sent as HTTP Basic credentials, and on through redirects only where httpx
  keeps the ``Authorization`` header (the same origin, or its https upgrade), but appears nowhere the fetch
  reports: ``FetchResult.url``, ``FetchError`` (its URL and reason) and log fields carry the address without it.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import os
import ssl
import time
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpx
import stamina

import mediawatch
from mediawatch.addresses import PrivateAccess
from mediawatch.decoding import BoundedDecoder, TruncatedStreamError
from mediawatch.errors import FetchError
from mediawatch.fetch_reasons import clip, seconds, status_error, too_large, translate
from mediawatch.normalize import redact_credentials
from mediawatch.settings import HEADER_TEXT, Settings

logger = logging.getLogger(__name__)

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
ACCEPT_ENCODING = "gzip, deflate"  # we decode these ourselves (bounded); nothing else is advertised


def build_client(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    pool: int | None = None,
    verify: ssl.SSLContext | bool = True,
) -> httpx.AsyncClient:
    """The process's one HTTP client. Close it (``async with``) when the run ends.

    Redirects are followed up to ``settings.max_redirects`` (more raises ``httpx.TooManyRedirects``, which
    :class:`Fetcher` reports as "too many redirects"). Proxy environment variables (``HTTP_PROXY``,
    ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``) are honoured for the default transport; an injected
    ``transport`` (tests) is used as given, so a proxy variable in the environment cannot reroute it.
    """
    return httpx.AsyncClient(
        headers={
            "User-Agent": settings.user_agent_string(mediawatch.__version__),
            "Accept-Encoding": ACCEPT_ENCODING,
        },
        timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
        limits=httpx.Limits(
            max_connections=pool or max(20, settings.concurrency * 2),
            max_keepalive_connections=(pool // 2) if pool else max(10, settings.concurrency),
        ),
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        verify=verify,
        trust_env=transport is None,
        transport=transport,
    )


SHARD_SIZE = 4  # requests at once per client: httpcore's pool bookkeeping grows with its size squared


def build_clients(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> list[httpx.AsyncClient]:
    """Enough clients for ``settings.concurrency`` requests at once, each with a small connection pool.

    One pool of 100 connections spends more time choosing a connection than sending requests (measured:
    1,000 loopback requests at 100 ms took 7.1 s through one client limited to 16 at once, 2.7 s through
    8 clients of 8). Each request checks every idle connection of its pool (a poll and a getpeername
    call each); shards of 4 used ~9 % less CPU in the collector's process than shards of 8 on the
    1,000-feed benchmark. The Fetcher takes turns between them; per-host limits are the Fetcher's own.
    """
    shards = max(1, -(-settings.concurrency // SHARD_SIZE))
    verify = httpx.create_ssl_context()  # one TLS context for all (building one costs ~0.1 s)
    return [
        build_client(settings, transport=transport, pool=SHARD_SIZE * 2, verify=verify) for _ in range(shards)
    ]


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A successful response (2xx, or 304 when ``not_modified``; a 304 carries an empty body)."""

    url: str  # final URL after redirects
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes  # decompressed
    not_modified: bool
    etag: str | None
    last_modified: str | None
    content_hash: str  # sha256 hex of body
    elapsed_ms: int  # whole fetch, retries included
    redirects: int
    moved_permanently: bool = False  # redirected, and every redirect was permanent (301/308): ``url`` is the new home


@dataclass(slots=True)
class _Attempt:
    """What one attempt produced, before it becomes a FetchResult."""

    response: httpx.Response
    body: bytes
    not_modified: bool
    redirects: int
    permanent: bool  # no redirect of the chain was temporary


@dataclass(slots=True)
class _Hop:
    """A redirect to check before it is requested: the next request and the redirects counted so far."""

    request: httpx.Request
    redirects: int
    permanent: bool  # no redirect so far was temporary


@dataclass(slots=True)
class _Progress:
    headers_received: bool = False


RedirectCheck = Callable[[str], Awaitable[None]]
"""Awaited with a redirect target before it is requested; raises :class:`FetchError` to refuse it."""


class NotRequested(Exception):
    """``Fetcher.fetch`` sent nothing: its ``stop`` event was set while it waited for its turn."""

    def __init__(self, url: str) -> None:
        super().__init__(f"not requested (stopped before its turn): {url}")
        self.url = url


class Fetcher:
    """Fetches URLs through ``client`` with the politeness, limits and retry policy from ``settings``.

    ``per_host`` overrides ``settings.per_host`` (a benchmark against one loopback host raises it).
    ``wait_initial``/``wait_max`` shape stamina's exponential backoff (seconds); ``stamina.set_testing(True)``
    turns backoff off in tests.
    """

    def __init__(
        self,
        client: httpx.AsyncClient | Sequence[httpx.AsyncClient],
        settings: Settings,
        *,
        per_host: int | None = None,
        wait_initial: float = 0.5,
        wait_max: float = 10.0,
        private: PrivateAccess | None = None,
    ) -> None:
        if per_host is not None and per_host < 1:
            raise ValueError(f"per_host must be >= 1, got {per_host}")
        self.clients = [client] if isinstance(client, httpx.AsyncClient) else list(client)
        if not self.clients:
            raise ValueError("Fetcher needs at least one client")
        self.client = self.clients[0]
        self._turn = itertools.count()
        self.settings = settings
        self.per_host = per_host or settings.per_host
        self.wait_initial = wait_initial
        self.wait_max = wait_max
        self._hosts: dict[str, asyncio.Semaphore] = {}
        # None: any address (tests that build a Fetcher by hand); collection and probe pass what the operator
        # named. Behind a proxy the connection's peer is the proxy, so only the URL's own host is checked.
        self.private = private
        self._check_peer = private is not None and not any(os.environ.get(v) for v in PROXY_VARIABLES)

    async def fetch(
        self,
        url: str,
        *,
        source_id: str,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
        check_redirect: RedirectCheck | None = None,
        stop: asyncio.Event | None = None,
    ) -> FetchResult:
        """GET ``url``; raise :class:`FetchError` (reason, URL, status, ``retry_after``) when it fails.

        ``check_redirect`` is awaited with each redirect target *before* it is requested, outside the
        per-host slot (it may fetch robots.txt of another host); it refuses a target by raising
        :class:`FetchError`. Each hop then waits for its own host's slot. Without it, a redirect chain is
        followed within the first host's slot, as always.

        ``stop``: when it is set before the request goes out (still waiting for the host's slot, or between
        attempts), :class:`NotRequested` is raised instead and nothing is sent.
        """
        # A validator that cannot go back out as a header (a server sent "\xff" in its ETag) is not sent:
        # the request would fail before reaching the server, on every run. The content hash still catches an
        # unchanged body, and the next good validator the server sends replaces it.
        etag, last_modified = sendable(etag), sendable(last_modified)
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        # The password goes into the Authorization header only: everything this fetch reports or logs names the
        # address without it (a relative link resolved against FetchResult.url never inherits it either).
        credentials, url = _credentials(url)
        started = time.monotonic()
        attempt_result: _Attempt | None = None
        retrying = stamina.retry_context(
            on=_is_transient,
            attempts=self.settings.retries,
            timeout=None,  # each attempt has its own deadline; attempts are bounded by settings.retries
            wait_initial=self.wait_initial,
            wait_max=self.wait_max,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    if attempt.num > 1:
                        logger.debug(
                            "retrying", extra={"source_id": source_id, "url": url, "attempt": attempt.num}
                        )
                    attempt_result = await self._attempt(url, credentials, headers, source_id, check_redirect, stop)
        except FetchError as exc:
            logger.debug(
                "fetch failed",
                extra={"source_id": source_id, "url": url, "reason": exc.reason, "status": exc.status},
            )
            raise
        assert attempt_result is not None  # the loop either produced a result or raised
        elapsed_ms = round((time.monotonic() - started) * 1000)
        result = _to_result(attempt_result, etag=etag, last_modified=last_modified, elapsed_ms=elapsed_ms)
        logger.debug(
            "fetched",
            extra={
                "source_id": source_id,
                "url": url,
                "status": result.status,
                "bytes": len(result.body),
                "duration_ms": elapsed_ms,
            },
        )
        return result

    def _semaphore(self, url: httpx.URL) -> asyncio.Semaphore:
        key = f"{url.scheme}://{url.host}:{url.port or ''}"
        semaphore = self._hosts.get(key)
        if semaphore is None:
            semaphore = self._hosts[key] = asyncio.Semaphore(self.per_host)
        return semaphore

    async def _attempt(
        self,
        url: str,
        credentials: _Credentials | None,
        headers: dict[str, str],
        source_id: str,
        check_redirect: RedirectCheck | None,
        stop: asyncio.Event | None,
    ) -> _Attempt:
        client = self.clients[next(self._turn) % len(self.clients)]
        try:
            request = client.build_request("GET", httpx.URL(url), headers=headers)
        except httpx.InvalidURL as exc:
            raise FetchError(source_id, f"invalid URL ({exc})", url=url) from exc
        redirects, permanent = 0, True
        loop = asyncio.get_running_loop()
        budget = self.settings.timeout  # for the whole chain, counted while holding a host's slot
        while True:
            progress = _Progress()
            async with self._semaphore(request.url):
                if stop is not None and stop.is_set() and redirects == 0:
                    raise NotRequested(url)
                started = loop.time()
                try:
                    async with asyncio.timeout(budget):
                        step = await self._exchange(
                            client,
                            request,
                            redirects,
                            permanent,
                            url,
                            source_id,
                            progress,
                            auth=credentials.auth if credentials and redirects == 0 else None,
                            hop=check_redirect is not None,
                        )
                except TimeoutError as exc:
                    # Before the status line this is a slow server (worth another attempt); once the body is
                    # flowing, it is a server that drips — retrying would only double the wait.
                    raise FetchError(
                        source_id,
                        f"timed out after {seconds(self.settings.timeout)} s",
                        url=url,
                        transient=not progress.headers_received,
                    ) from exc
                except httpx.HTTPError as exc:
                    raise translate(exc, source_id, url, self.settings) from exc
            if isinstance(step, _Attempt):
                return step
            budget -= loop.time() - started
            assert check_redirect is not None  # a hop is only handed back to be checked
            target = str(step.request.url)
            if credentials and "authorization" in step.request.headers:  # the hop goes on with the credentials,
                target = target.replace("://", f"://{credentials.userinfo}@", 1)  # so does its robots.txt
            await check_redirect(target)
            request, redirects, permanent = step.request, step.redirects, step.permanent

    async def _exchange(
        self,
        client: httpx.AsyncClient,
        request: httpx.Request,
        redirects: int,
        permanent: bool,
        url: str,
        source_id: str,
        progress: _Progress,
        *,
        auth: httpx.BasicAuth | None,
        hop: bool,
    ) -> _Attempt | _Hop:
        step = await self._follow(client, request, redirects, permanent, url, source_id, auth=auth, hop=hop)
        if isinstance(step, _Hop):
            return step
        response, redirects, permanent = step
        progress.headers_received = True
        try:
            status = response.status_code
            if status == 304:
                # Read the (empty) rest of the message: a response closed unread takes its connection with
                # it, and a re-poll of unchanged feeds would open one connection (and TLS session) per feed.
                await self._read_body(response, source_id)
                return _Attempt(response, b"", not_modified=True, redirects=redirects, permanent=permanent)
            if not 200 <= status < 300:
                raise status_error(response, source_id)
            body = await self._read_body(response, source_id)
            return _Attempt(response, body, not_modified=False, redirects=redirects, permanent=permanent)
        finally:
            await response.aclose()

    async def _follow(
        self,
        client: httpx.AsyncClient,
        request: httpx.Request,
        redirects: int,
        permanent: bool,
        url: str,
        source_id: str,
        *,
        auth: httpx.BasicAuth | None = None,
        hop: bool,
    ) -> tuple[httpx.Response, int, bool] | _Hop:
        """Send the GET and follow redirects ourselves: httpx would read (and inflate) every redirect's body
        without a size limit; here a redirect body is never read. With ``hop``, the first redirect is handed
        back (as a :class:`_Hop`) to be checked before it is requested. Errors name ``url``, the URL asked
        for. ``auth`` goes with the first request; httpx carries its header on to the redirects that keep the
        origin (or upgrade it to https) and drops it for any other."""
        while True:
            self._refuse_private(request, None, source_id, url)
            try:
                response = await client.send(
                    request, stream=True, follow_redirects=False, auth=auth or httpx.USE_CLIENT_DEFAULT
                )
                auth = None
            except (httpx.InvalidURL, httpx.RemoteProtocolError) as exc:
                # httpx builds the next request while sending: a Location it cannot parse ("javascript:…",
                # a bad port) surfaces here; the server will send the same header next time, so not transient
                if isinstance(exc, httpx.RemoteProtocolError) and "location header" not in str(exc).lower():
                    raise
                raise FetchError(source_id, f"invalid redirect ({clip(str(exc))})", url=url) from exc
            peer = _peer_address(response) if self._check_peer else None
            if peer is not None:
                try:
                    self._refuse_private(request, peer, source_id, url)
                except FetchError:
                    await response.aclose()  # nothing of it is read
                    raise
            if response.next_request is None:
                return response, redirects, permanent
            permanent = permanent and response.status_code in (301, 308)
            await response.aclose()
            request = response.next_request
            if request.url.userinfo:  # a Location's own user:password is neither sent nor shown
                request.url = request.url.copy_with(userinfo=None)
            if request.url.scheme not in ("http", "https"):
                location = clip(response.headers.get("location", str(request.url)))
                raise FetchError(source_id, f"redirect to a non-HTTP URL ({location})", url=url)
            if redirects >= self.settings.max_redirects:
                raise FetchError(source_id, "too many redirects", url=url)
            redirects += 1
            if hop:
                return _Hop(request, redirects, permanent)

    def _refuse_private(self, request: httpx.Request, peer: str | None, source_id: str, url: str) -> None:
        """FetchError when ``request`` goes to a private address the operator did not name (see
        :mod:`mediawatch.addresses`): checked on the URL before sending, and on the peer once connected."""
        if self.private is None:
            return
        target = request.url
        reason = self.private.refusal(target.host, target.port, target.scheme, peer)
        if reason is not None:
            where = "" if str(target) == url else f" (redirect to {clip(str(target))})"
            raise FetchError(source_id, reason + where, url=url)

    async def _read_body(self, response: httpx.Response, source_id: str) -> bytes:
        url = str(response.url)
        limit = self.settings.max_bytes
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        declared = response.headers.get("content-length", "")
        if encoding in ("", "identity") and declared.isdigit() and int(declared) > limit:
            raise too_large(source_id, url, limit)
        try:
            decoder = BoundedDecoder(encoding)
        except ValueError as exc:
            raise FetchError(source_id, str(exc), url=url, status=response.status_code) from exc
        chunks: list[bytes] = []
        total = 0
        try:
            async for raw in response.aiter_raw():
                piece = decoder.feed(raw, limit - total + 1)
                total += len(piece)
                if total > limit:
                    raise too_large(source_id, url, limit)
                chunks.append(piece)
            tail = decoder.finish()
        except zlib.error as exc:
            raise FetchError(
                source_id,
                f"could not decode {encoding} response ({exc})",
                url=url,
                status=response.status_code,
            ) from exc
        except TruncatedStreamError as exc:
            raise FetchError(source_id, "truncated response", url=url, transient=True) from exc
        total += len(tail)
        if total > limit:
            raise too_large(source_id, url, limit)
        chunks.append(tail)
        return b"".join(chunks)


@dataclass(frozen=True, slots=True)
class _Credentials:
    auth: httpx.BasicAuth
    userinfo: str  # as the URL wrote it (percent-encoded)


def _credentials(url: str) -> tuple[_Credentials | None, str]:
    """(the Basic credentials of ``url``'s ``user:password@``, or None; ``url`` without them)."""
    try:
        parts = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return None, redact_credentials(url)  # the request fails on it, with an error naming it without them
    if not parts.userinfo:
        return None, url
    found = _Credentials(httpx.BasicAuth(parts.username, parts.password), parts.userinfo.decode("ascii"))
    return found, str(parts.copy_with(userinfo=None))


def _is_transient(exc: Exception) -> bool:
    return isinstance(exc, FetchError) and exc.transient


def sendable(validator: str | None) -> str | None:
    """``validator`` (an ETag or Last-Modified value) when it can be sent back as a request header: printable
    ASCII, surrounding blanks stripped; else None."""
    if validator is None:
        return None
    value = validator.strip(" \t")
    return value if HEADER_TEXT.fullmatch(value) else None


def _peer_address(response: httpx.Response) -> str | None:
    """The IP address the response's connection reached (None when the transport does not tell)."""
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    return str(peer[0]) if peer else None


def _to_result(
    attempt: _Attempt, *, etag: str | None, last_modified: str | None, elapsed_ms: int
) -> FetchResult:
    response = attempt.response
    headers = {name.lower(): value for name, value in response.headers.items()}
    # A 304 need not repeat the validators; keep the ones we sent so the caller's state stays intact. One that
    # could not be sent back (non-ASCII, control characters) is not kept at all.
    new_etag = sendable(headers.get("etag")) or (etag if attempt.not_modified else None)
    new_last_modified = sendable(headers.get("last-modified")) or (
        last_modified if attempt.not_modified else None
    )
    return FetchResult(
        url=str(response.url),
        status=response.status_code,
        headers=headers,
        body=attempt.body,
        not_modified=attempt.not_modified,
        etag=new_etag,
        last_modified=new_last_modified,
        content_hash=hashlib.sha256(attempt.body).hexdigest(),
        elapsed_ms=elapsed_ms,
        redirects=attempt.redirects,
        moved_permanently=attempt.redirects > 0 and attempt.permanent,
    )
