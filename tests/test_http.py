"""mediawatch.http and mediawatch.robots against the real loopback server (no mock transports).

Settings use a 1 s timeout and a 1 MB body limit so every failure mode resolves quickly; stamina's test mode
removes backoff sleeps but keeps the configured number of attempts, so retry counts are real.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import re
import socket
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import stamina
from conftest import PROXY_VARS
from loopserver import MB, ForwardProxy, LoopServer, Response, gzip_zeros

import mediawatch
from mediawatch.errors import FetchError
from mediawatch.http import Fetcher, FetchResult, build_client
from mediawatch.robots import RobotsCache
from mediawatch.settings import Settings

pytestmark = pytest.mark.anyio

@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    """No sleeping between attempts; ``cap=True`` keeps each caller's own attempt count (settings.retries)."""
    with stamina.set_testing(True, attempts=1000, cap=True):
        yield


@pytest.fixture(autouse=True)
def _no_operator_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {  # long deadlines: a stalled test process must not turn into a retry
        "timeout": 10.0,
        "connect_timeout": 5.0,
        "max_bytes": 1 * MB,
        "retries": 3,
        "max_redirects": 5,
        "per_host": 2,
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def open_fetcher(settings: Settings | None = None, **kwargs: Any) -> AsyncIterator[Fetcher]:
    settings = settings or make_settings()
    async with build_client(settings) as client:
        yield Fetcher(client, settings, **kwargs)


async def fetch_error(url: str, settings: Settings | None = None, source_id: str = "src") -> FetchError:
    async with open_fetcher(settings) as fetcher:
        with pytest.raises(FetchError) as info:
            await fetcher.fetch(url, source_id=source_id)
    return info.value


def free_port() -> int:
    """A 127.0.0.1 port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- client configuration


def test_build_client_applies_settings() -> None:
    settings = make_settings(timeout=7.0, connect_timeout=2.0, max_redirects=3, contact="ops@example.org")
    client = build_client(settings)
    assert client.timeout.read == 7.0 and client.timeout.connect == 2.0
    assert client.follow_redirects is True and client.max_redirects == 3
    assert client.headers["user-agent"] == f"mediawatch/{mediawatch.__version__} (+ops@example.org)"
    assert "gzip" in client.headers["accept-encoding"]
    assert client.trust_env is True  # proxy environment variables are honoured
    assert build_client(settings, transport=httpx.AsyncHTTPTransport()).trust_env is False


# --------------------------------------------------------------------------- success paths


async def test_fetch_returns_decoded_body_and_metadata(loopserver: LoopServer) -> None:
    body = "<rss><title>Қазақ диаспорасы</title></rss>".encode() * 50
    url = loopserver.serve(
        "/feed.xml",
        body,
        content_type="application/rss+xml; charset=utf-8",
        etag='"abc"',
        last_modified="Wed, 01 Jan 2025 10:00:00 GMT",
        cache_control="max-age=600",
        gzip=True,
    )
    settings = make_settings()
    async with open_fetcher(settings) as fetcher:
        result = await fetcher.fetch(url, source_id="kz-news", accept="application/rss+xml")
    assert isinstance(result, FetchResult)
    assert result.url == url and result.status == 200 and result.redirects == 0
    assert result.body == body  # decompressed by us
    assert result.headers["content-encoding"] == "gzip"  # it really travelled compressed
    assert result.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert result.headers["cache-control"] == "max-age=600"
    assert all(name == name.lower() for name in result.headers)
    assert result.not_modified is False
    assert result.etag == '"abc"' and result.last_modified == "Wed, 01 Jan 2025 10:00:00 GMT"
    assert result.content_hash == hashlib.sha256(body).hexdigest()
    assert 0 <= result.elapsed_ms < 5000
    [sent] = loopserver.requests_for("/feed.xml")
    assert sent.headers["user-agent"] == settings.user_agent_string(mediawatch.__version__)
    assert "gzip" in sent.headers["accept-encoding"]
    assert sent.headers["accept"] == "application/rss+xml"
    assert "if-none-match" not in sent.headers and "if-modified-since" not in sent.headers
    with pytest.raises(FrozenInstanceError):
        result.status = 500


async def test_conditional_get_round_trip(loopserver: LoopServer) -> None:
    lm = "Wed, 01 Jan 2025 10:00:00 GMT"
    url = loopserver.serve("/feed.xml", "<rss/>", etag='"v1"', last_modified=lm)
    async with open_fetcher() as fetcher:
        first = await fetcher.fetch(url, source_id="s")
        second = await fetcher.fetch(url, source_id="s", etag=first.etag, last_modified=first.last_modified)
    assert first.status == 200 and not first.not_modified
    assert second.status == 304 and second.not_modified
    assert second.body == b"" and second.etag == '"v1"' and second.last_modified == lm
    before, after = loopserver.requests_for("/feed.xml")
    assert "if-none-match" not in before.headers
    assert after.headers["if-none-match"] == '"v1"'
    assert after.headers["if-modified-since"] == lm


async def test_not_modified_responses_keep_the_connection(loopserver: LoopServer) -> None:
    """A re-poll of unchanged feeds on one host reuses one connection instead of opening one per feed."""
    urls = [loopserver.serve(f"/feed{i}.xml", "<rss/>", etag=f'"v{i}"') for i in range(6)]
    async with open_fetcher() as fetcher:
        for i, url in enumerate(urls):
            result = await fetcher.fetch(url, source_id="s", etag=f'"v{i}"')
            assert result.not_modified
    assert len(loopserver.requests) == 6
    assert loopserver.connections_accepted == 1


async def test_conditional_get_with_last_modified_only(loopserver: LoopServer) -> None:
    lm = "Wed, 01 Jan 2025 10:00:00 GMT"
    url = loopserver.serve("/page", "<p/>", last_modified=lm)
    async with open_fetcher() as fetcher:
        result = await fetcher.fetch(url, source_id="s", last_modified=lm)
    assert result.not_modified and result.last_modified == lm and result.etag is None


async def test_changed_resource_returns_new_body_despite_old_validator(loopserver: LoopServer) -> None:
    url = loopserver.sequence(
        "/feed",
        Response(body=b"old", etag='"v1"'),
        Response(body=b"new", etag='"v2"'),
    )
    async with open_fetcher() as fetcher:
        first = await fetcher.fetch(url, source_id="s")
        second = await fetcher.fetch(url, source_id="s", etag=first.etag)
    assert (second.status, second.body, second.etag, second.not_modified) == (200, b"new", '"v2"', False)
    assert second.content_hash != first.content_hash


async def test_redirects_up_to_the_limit_are_followed(loopserver: LoopServer) -> None:
    loopserver.serve("/final.xml", "<rss/>")
    url = loopserver.redirect_chain("/moved", 5, "/final.xml", status=301)
    async with open_fetcher(make_settings(max_redirects=5)) as fetcher:
        result = await fetcher.fetch(url, source_id="s")
    assert result.redirects == 5
    assert result.url == loopserver.url("/final.xml")
    assert result.body == b"<rss/>"


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send it
        ("gzip", lambda data: gzip.compress(data[:1000]) + gzip.compress(data[1000:])),  # two gzip members
    ],
    ids=["deflate-zlib", "deflate-raw", "gzip-multimember"],
)
async def test_other_compressed_forms_are_decoded(
    loopserver: LoopServer, encoding: str, encode: Callable[[bytes], bytes]
) -> None:
    body = bytes(range(256)) * 20
    url = loopserver.serve("/z", encode(body), headers={"Content-Encoding": encoding})
    async with open_fetcher() as fetcher:
        result = await fetcher.fetch(url, source_id="s")
    assert result.body == body


@pytest.mark.parametrize("compressed", [False, True], ids=["identity", "gzip"])
async def test_body_limit_is_exact_on_decompressed_bytes(loopserver: LoopServer, compressed: bool) -> None:
    limit = 64 * 1024
    fits, too_big = b"a" * limit, b"a" * (limit + 1)
    ok_url = loopserver.serve("/fits", fits, gzip=compressed)
    big_url = loopserver.serve("/big", too_big, gzip=compressed)
    async with open_fetcher(make_settings(max_bytes=limit)) as fetcher:
        result = await fetcher.fetch(ok_url, source_id="s")
        with pytest.raises(FetchError) as info:
            await fetcher.fetch(big_url, source_id="s")
    assert result.body == fits
    # compressed, the body is ~100 bytes on the wire: the limit really applies after decompression
    assert result.headers.get("content-encoding") == ("gzip" if compressed else None)
    assert info.value.reason == "response larger than 64 KB"


# --------------------------------------------------------------------------- failure modes


def _setup_404(srv: LoopServer) -> str:
    return srv.status("/missing", 404)


def _setup_500(srv: LoopServer) -> str:
    return srv.status("/broken", 500)


def _setup_429(srv: LoopServer) -> str:
    return srv.status("/busy", 429, retry_after=120)


def _setup_503_retry_after(srv: LoopServer) -> str:
    return srv.status("/maint", 503, retry_after=30)


def _setup_503(srv: LoopServer) -> str:
    return srv.status("/down", 503)


def _setup_502(srv: LoopServer) -> str:
    return srv.status("/gateway", 502)


def _setup_reset(srv: LoopServer) -> str:
    return srv.reset("/reset", size=200_000, cut_at=2048)


def _setup_truncated(srv: LoopServer) -> str:
    return srv.truncated("/short", size=10_000, cut_at=300)


def _setup_loop(srv: LoopServer) -> str:
    return srv.redirect_loop("/loop")


def _setup_long_chain(srv: LoopServer) -> str:
    srv.serve("/end", "x")
    return srv.redirect_chain("/chain", 6, "/end")  # one more than max_redirects=5


def _setup_huge(srv: LoopServer) -> str:
    return srv.huge("/huge", size=50 * MB)


def _setup_huge_chunked(srv: LoopServer) -> str:
    return srv.huge("/huge-chunked", size=50 * MB, chunked=True)


def _setup_bomb(srv: LoopServer) -> str:
    return srv.gzip_bomb("/bomb", size=1024 * MB)


def _setup_brotli(srv: LoopServer) -> str:
    return srv.serve("/br", b"\x0b\x02\x80hello\x03", headers={"Content-Encoding": "br"})


def _setup_bad_gzip(srv: LoopServer) -> str:
    return srv.serve("/badgz", b"\x1f\x8b\x08\x00garbage-not-deflate", headers={"Content-Encoding": "gzip"})


def _setup_cut_gzip(srv: LoopServer) -> str:
    whole = gzip.compress(b"<rss>" + b"x" * 5000 + b"</rss>")
    return srv.serve("/cutgz", whole[: len(whole) // 2], headers={"Content-Encoding": "gzip"})


FAILURES = [
    # setup, reason, status, transient, attempts the server saw (settings.retries == 3)
    (_setup_404, "HTTP 404", 404, False, 1),
    (_setup_500, "HTTP 500", 500, False, 1),
    (_setup_429, "HTTP 429 (retry after 120 s)", 429, False, 1),
    (_setup_503_retry_after, "HTTP 503 (retry after 30 s)", 503, False, 1),
    (_setup_503, "HTTP 503", 503, True, 3),
    (_setup_502, "HTTP 502", 502, True, 3),
    (_setup_reset, "connection reset", None, True, 3),
    (_setup_truncated, "truncated response", None, True, 3),
    (_setup_loop, "too many redirects", None, False, 6),
    (_setup_long_chain, "too many redirects", None, False, 6),
    (_setup_huge, "response larger than 1 MB", None, False, 1),
    (_setup_huge_chunked, "response larger than 1 MB", None, False, 1),
    (_setup_bomb, "response larger than 1 MB", None, False, 1),
    (_setup_brotli, "unsupported content encoding 'br'", 200, False, 1),
    (_setup_cut_gzip, "truncated response", None, True, 3),
]


@pytest.mark.parametrize(
    ("setup", "reason", "status", "transient", "attempts"),
    FAILURES,
    ids=[case[0].__name__.removeprefix("_setup_") for case in FAILURES],
)
async def test_failure_modes_yield_human_reasons(
    loopserver: LoopServer,
    setup: Callable[[LoopServer], str],
    reason: str,
    status: int | None,
    transient: bool,
    attempts: int,
) -> None:
    url = setup(loopserver)
    started = time.monotonic()
    error = await fetch_error(url, source_id="kz-diaspora")
    elapsed = time.monotonic() - started
    assert error.reason == reason
    assert error.status == status
    assert error.transient is transient
    assert error.source_id == "kz-diaspora"
    assert error.url is not None and error.url.startswith(loopserver.base_url)
    assert str(error).startswith(f"kz-diaspora: {reason} (http://127.0.0.1:")
    assert len(loopserver.requests) == attempts
    assert elapsed < 5.0  # none of these may wait for a timeout
    if status in (429, 503) and not transient:
        assert error.retry_after == float(reason.split("retry after ")[1].split(" ")[0])
    else:
        assert error.retry_after is None


async def test_undecodable_gzip_names_the_problem(loopserver: LoopServer) -> None:
    error = await fetch_error(_setup_bad_gzip(loopserver))
    assert error.reason.startswith("could not decode gzip response (")
    assert error.transient is False


async def test_retry_after_as_http_date(loopserver: LoopServer) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    url = loopserver.status("/later", 429, retry_after=when)
    error = await fetch_error(url)
    assert re.fullmatch(r"HTTP 429 \(retry after (8[5-9]|90) s\)", error.reason), error.reason
    assert error.retry_after is not None and 85 <= error.retry_after <= 90


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("file:///etc/passwd", "redirect to a non-HTTP URL (file:///etc/passwd)"),
        ("ftp://ftp.example.org/feed.xml", "redirect to a non-HTTP URL (ftp://ftp.example.org/feed.xml)"),
        ("javascript:alert(1)", "invalid redirect ("),  # httpx cannot even build a request from it
        ("http://[::1", "invalid redirect ("),  # unparsable Location
    ],
)
async def test_redirects_to_non_http_or_unparsable_locations_fail_with_a_reason(
    loopserver: LoopServer, location: str, reason: str
) -> None:
    """Such a redirect is the server's answer, not a network hiccup: one request, a reason naming it,
    never an unhandled httpx exception (it used to escape Fetcher as ``httpx.InvalidURL``)."""
    url = loopserver.sequence(
        "/moved", Response(status=302, headers={"Location": location}, content_type=None)
    )
    error = await fetch_error(url, source_id="kz-moved")
    assert error.reason.startswith(reason), error.reason
    assert error.reason.endswith(")") and error.url == url and error.source_id == "kz-moved"
    assert error.transient is False
    assert len(loopserver.requests) == 1


async def test_retry_after_that_asks_for_no_wait_is_a_plain_status(loopserver: LoopServer) -> None:
    """``Retry-After: 0`` or a date already past asks for no wait: a 503 is then retried like any 503 (it used
    to fail at once as "HTTP 503 (retry after 0 s)"), a 429 is reported without a pause to honour."""
    past = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    loopserver.sequence(
        "/zero",
        Response(status=503, retry_after="0"),
        Response(body=b"<rss/>", content_type="application/xml"),
    )
    async with open_fetcher() as fetcher:
        result = await fetcher.fetch(loopserver.url("/zero"), source_id="s")
    assert result.body == b"<rss/>" and len(loopserver.requests_for("/zero")) == 2
    error = await fetch_error(loopserver.status("/past", 429, retry_after=past))
    assert error.reason == "HTTP 429" and error.retry_after is None and error.transient is False


async def test_gzip_bomb_is_stopped_without_inflating_it(loopserver: LoopServer) -> None:
    """1 GB of zeros arrives as ~1 MB of gzip; we must stop after max_bytes of output, in bounded memory."""
    url = loopserver.gzip_bomb("/bomb", size=1024 * MB)
    tracemalloc.start()
    try:
        error = await fetch_error(url)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.reason == "response larger than 1 MB"
    # httpx's own decoder inflates a whole 64 KB network read (~64 MB) at once; ours stops at the limit
    assert peak < 16 * MB, f"peak {peak / MB:.1f} MB"


async def test_redirect_bodies_are_never_read(loopserver: LoopServer) -> None:
    """A redirect carrying a gzip bomb as its body: following it must not inflate the body."""
    final = loopserver.serve("/final", "<rss/>")
    bomb_redirect = Response(
        status=302,
        headers={"Location": final},
        body=lambda: gzip_zeros(1024 * MB),
        precompressed_gzip=True,
    )
    url = loopserver.sequence("/hop", bomb_redirect)
    tracemalloc.start()
    try:
        async with open_fetcher() as fetcher:
            result = await fetcher.fetch(url, source_id="s")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.body == b"<rss/>" and result.redirects == 1 and result.url == final
    assert peak < 16 * MB, f"peak {peak / MB:.1f} MB"


async def test_drip_feed_is_cut_at_the_wall_clock_deadline(loopserver: LoopServer) -> None:
    """Each byte arrives well within the read timeout, yet the whole response gets only settings.timeout."""
    url = loopserver.drip("/drip", b"x" * 100, interval=0.2)
    started = time.monotonic()
    error = await fetch_error(url, make_settings(timeout=1.0))
    elapsed = time.monotonic() - started
    assert error.reason == "timed out after 1 s"
    assert error.transient is False  # the body was flowing: retrying would only double the wait
    assert 0.9 <= elapsed < 10  # uncut, the drip takes 20 s (loose: a test process can stall)
    assert len(loopserver.requests) == 1


async def test_silent_server_times_out_and_is_retried(loopserver: LoopServer) -> None:
    url = loopserver.serve("/silent", "late", delay=5.0)
    started = time.monotonic()
    error = await fetch_error(url, make_settings(timeout=0.5, retries=2))
    elapsed = time.monotonic() - started
    assert error.reason == "timed out after 0.5 s"
    assert error.transient is True
    assert len(loopserver.requests) == 2
    assert elapsed < 4.5  # neither attempt waited for the answer


async def test_connection_refused(loopserver: LoopServer) -> None:
    url = f"http://127.0.0.1:{free_port()}/feed.xml"
    error = await fetch_error(url)
    assert error.reason == "could not connect (connection refused)"
    assert error.transient is True and error.url == url


async def test_invalid_url_is_not_retried() -> None:
    error = await fetch_error("ftp://127.0.0.1/feed.xml")
    assert error.reason.startswith("invalid URL (")
    assert error.transient is False


# --------------------------------------------------------------------------- retries and politeness


async def test_transient_503_is_retried_until_success(loopserver: LoopServer) -> None:
    url = loopserver.sequence("/flaky", Response(status=503), Response(status=503), Response(body=b"<rss/>"))
    async with open_fetcher(make_settings(retries=3)) as fetcher:
        result = await fetcher.fetch(url, source_id="s")
    assert result.status == 200 and result.body == b"<rss/>"
    assert len(loopserver.requests_for("/flaky")) == 3


async def test_reset_is_retried_until_success(loopserver: LoopServer) -> None:
    url = loopserver.sequence(
        "/wobbly", Response(body=b"x" * 100_000, mode="reset", cut_at=100), Response(body=b"fine")
    )
    async with open_fetcher() as fetcher:
        result = await fetcher.fetch(url, source_id="s")
    assert result.body == b"fine"
    assert len(loopserver.requests_for("/wobbly")) == 2


async def test_retries_stop_at_settings_retries(loopserver: LoopServer) -> None:
    url = loopserver.sequence("/flaky", Response(status=504), Response(status=504), Response(body=b"late"))
    error = await fetch_error(url, make_settings(retries=2))
    assert error.reason == "HTTP 504"
    assert len(loopserver.requests) == 2


async def test_backoff_really_waits_outside_test_mode(loopserver: LoopServer) -> None:
    """The retry path sleeps between attempts (wait_initial) unless stamina's test mode is on."""
    url = loopserver.sequence("/flaky", Response(status=503), Response(body=b"ok"))
    with stamina.set_testing(False):
        async with open_fetcher(wait_initial=0.3, wait_max=0.3) as fetcher:
            started = time.monotonic()
            await fetcher.fetch(url, source_id="s")
            elapsed = time.monotonic() - started
    first, second = loopserver.requests_for("/flaky")
    assert second.at - first.at >= 0.25
    assert elapsed < 3.0


@pytest.mark.parametrize(("per_host", "expected"), [(None, 2), (1, 1), (6, 6)])
async def test_per_host_concurrency_limit(
    loopserver: LoopServer, per_host: int | None, expected: int
) -> None:
    urls = [loopserver.serve(f"/p{i}", f"page {i}", delay=0.3) for i in range(6)]
    async with open_fetcher(make_settings(per_host=2), per_host=per_host) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(u, source_id=f"s{i}") for i, u in enumerate(urls)))
    assert [r.body for r in results] == [f"page {i}".encode() for i in range(6)]
    if expected < 6:
        assert loopserver.max_in_flight == expected
    else:  # six slots: all may run at once (at least most of them do, even on a busy machine)
        assert loopserver.max_in_flight >= 4


# --------------------------------------------------------------------------- proxies


async def test_http_proxy_env_is_honoured(loopserver: LoopServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator behind a proxy: HTTP_PROXY routes fetches for a name only the proxy can resolve."""
    loopserver.serve("/feed.xml", "<rss>via proxy</rss>", etag='"p1"', gzip=True)
    with ForwardProxy({"news.example.test": ("127.0.0.1", loopserver.port)}) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        async with open_fetcher() as fetcher:
            result = await fetcher.fetch("http://news.example.test/feed.xml", source_id="s")
            # NO_PROXY (127.0.0.1, set by the loopserver fixture) still goes direct
            direct = await fetcher.fetch(loopserver.url("/feed.xml"), source_id="s")
    assert result.body == b"<rss>via proxy</rss>" and result.headers["via"] == "1.1 test-proxy"
    assert result.url == "http://news.example.test/feed.xml"
    assert proxy.seen == ["http://news.example.test/feed.xml"]  # absolute-form: it went through the proxy
    assert "via" not in direct.headers
    via_proxy, _ = loopserver.requests_for("/feed.xml")
    assert via_proxy.headers["host"] == "news.example.test"
    assert via_proxy.headers["user-agent"].startswith("mediawatch/")


async def test_injected_transport_is_not_rerouted_by_proxy_env(
    loopserver: LoopServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = loopserver.serve("/x", "direct")
    with ForwardProxy({}) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY")
        monkeypatch.delenv("no_proxy")
        settings = make_settings()
        async with build_client(settings, transport=httpx.AsyncHTTPTransport()) as client:
            result = await Fetcher(client, settings).fetch(url, source_id="s")
    assert result.body == b"direct" and proxy.seen == []


# --------------------------------------------------------------------------- robots.txt

ROBOTS = """\
User-agent: otherbot
Disallow: /

User-agent: mediawatch
Disallow: /private/
Allow: /private/press/
"""


@pytest.mark.parametrize("via", ["fetcher", "client"])
async def test_robots_rules_apply_to_our_agent_and_are_fetched_once(loopserver: LoopServer, via: str) -> None:
    loopserver.serve("/robots.txt", ROBOTS)
    settings = make_settings()
    agent = settings.user_agent_string(mediawatch.__version__)
    async with build_client(settings) as client:
        robots = RobotsCache(Fetcher(client, settings) if via == "fetcher" else client, agent)
        checks = await asyncio.gather(*(robots.allowed(loopserver.url(f"/news/{i}")) for i in range(10)))
        assert all(checks)
        assert not await robots.allowed(loopserver.url("/private/report.html"))
        assert await robots.allowed(loopserver.url("/private/press/2025.html"))
        with pytest.raises(FetchError) as info:
            await robots.ensure_allowed(loopserver.url("/private/x"), source_id="kz-page")
    assert info.value.reason == "blocked by robots.txt"
    assert str(info.value) == f"kz-page: blocked by robots.txt ({loopserver.url('/private/x')})"
    [robots_request] = loopserver.requests_for("/robots.txt")
    assert robots_request.headers["user-agent"] == agent


async def test_robots_wildcard_disallow(loopserver: LoopServer) -> None:
    loopserver.serve("/robots.txt", "User-agent: *\nDisallow: /\n")
    async with build_client(make_settings()) as client:
        robots = RobotsCache(client, "mediawatch/0.1.0 (+https://example.org)")
        assert not await robots.allowed(loopserver.url("/anything"))


@pytest.mark.parametrize(
    ("status", "refusal"),
    [
        (404, None),  # RFC 9309 2.3.1.3: "unavailable", crawl freely
        (410, None),
        # cautious practice kept (RFC 9309 only says "may" crawl): an access-controlled robots.txt says keep out
        (401, "blocked by robots.txt"),
        (403, "blocked by robots.txt"),
        (500, "blocked: robots.txt unreachable (HTTP 500)"),  # RFC 9309 2.3.1.4: assume complete disallow
        (503, "blocked: robots.txt unreachable (HTTP 503)"),
        (429, "blocked: robots.txt unreachable (HTTP 429)"),
    ],
)
@pytest.mark.parametrize("via", ["fetcher", "client"])
async def test_robots_status_policy(
    loopserver: LoopServer, status: int, refusal: str | None, via: str
) -> None:
    loopserver.status("/robots.txt", status)
    settings = make_settings(retries=1)
    async with build_client(settings) as client:
        http = Fetcher(client, settings) if via == "fetcher" else client
        robots = RobotsCache(http, settings.user_agent_string(mediawatch.__version__))
        assert await robots.allowed(loopserver.url("/page.html")) is (refusal is None)
        assert await robots.allowed(loopserver.url("/other.html")) is (refusal is None)
        if refusal is None:
            await robots.ensure_allowed(loopserver.url("/page.html"), source_id="kz-page")
        else:
            with pytest.raises(FetchError) as info:
                await robots.ensure_allowed(loopserver.url("/page.html"), source_id="kz-page")
            assert info.value.reason == refusal and info.value.source_id == "kz-page"
            assert info.value.url == loopserver.url("/page.html")
    assert len(loopserver.requests_for("/robots.txt")) == 1


async def test_robots_unreachable_host_disallows_with_the_network_reason() -> None:
    """RFC 9309 2.3.1.4: a robots.txt that cannot be reached (network error) means complete disallow."""
    settings = make_settings(retries=1)
    url = f"http://127.0.0.1:{free_port()}/page.html"
    async with open_fetcher(settings) as fetcher:
        robots = RobotsCache(fetcher, settings.user_agent_string(mediawatch.__version__))
        assert not await robots.allowed(url)
        with pytest.raises(FetchError) as info:
            await robots.ensure_allowed(url, source_id="kz-page")
    assert info.value.reason == "blocked: robots.txt unreachable (could not connect (connection refused))"


async def test_robots_too_many_redirects_is_unavailable_and_allows(loopserver: LoopServer) -> None:
    """RFC 9309 2.3.1.2: after five redirects a crawler may treat robots.txt as unavailable (allow)."""
    loopserver.redirect_loop("/robots.txt")
    settings = make_settings(retries=1)
    async with open_fetcher(settings) as fetcher:
        robots = RobotsCache(fetcher, settings.user_agent_string(mediawatch.__version__))
        assert await robots.allowed(loopserver.url("/page.html"))


# --------------------------------------------------------------------------- redirects checked hop by hop


async def test_check_redirect_is_asked_about_each_hop_before_it_is_requested(loopserver: LoopServer) -> None:
    """/a -> /b -> /c: the check sees /b, then /c, each before the server does; refusing /c raises its
    FetchError, and /c is never requested."""
    loopserver.serve("/c", "<html>final</html>")
    loopserver.redirect("/a", "/b")
    loopserver.redirect("/b", "/c", status=301)
    asked: list[tuple[str, int]] = []

    async def allow(url: str) -> None:
        asked.append((url, len(loopserver.requests_for(url.removeprefix(loopserver.base_url)))))

    async def refuse_c(url: str) -> None:
        if url.endswith("/c"):
            raise FetchError("kz-page", f"blocked by robots.txt (redirect to {url})", url=url)

    async with open_fetcher() as fetcher:
        result = await fetcher.fetch(loopserver.url("/a"), source_id="kz-page", check_redirect=allow)
        assert (
            result.url == loopserver.url("/c")
            and result.redirects == 2
            and result.body == b"<html>final</html>"
        )
        assert asked == [(loopserver.url("/b"), 0), (loopserver.url("/c"), 0)]  # asked before any request
        loopserver.clear_requests()
        with pytest.raises(FetchError) as info:
            await fetcher.fetch(loopserver.url("/a"), source_id="kz-page", check_redirect=refuse_c)
    assert info.value.reason == f"blocked by robots.txt (redirect to {loopserver.url('/c')})"
    assert info.value.url == loopserver.url("/c") and info.value.source_id == "kz-page"
    assert [r.path for r in loopserver.requests] == ["/a", "/b"]


async def test_check_redirect_keeps_the_redirect_limit(loopserver: LoopServer) -> None:
    """A loop with a check that allows everything: still 'too many redirects' after max_redirects + 1
    requests, naming the URL asked for, like a fetch without a check."""
    url = loopserver.redirect_loop("/loop")
    checked: list[str] = []

    async def allow(target: str) -> None:
        checked.append(target)

    async with open_fetcher(make_settings(max_redirects=5)) as fetcher:
        with pytest.raises(FetchError) as info:
            await fetcher.fetch(url, source_id="s", check_redirect=allow)
    assert info.value.reason == "too many redirects" and info.value.url == url
    assert len(loopserver.requests) == 6 and len(checked) == 5


async def test_redirect_chain_with_a_check_shares_one_deadline_and_the_check_is_not_counted(
    loopserver: LoopServer,
) -> None:
    """settings.timeout (1 s) is for the whole chain, hop by hop as before: three hops of 0.4 s time out.
    Time spent in the check (robots.txt of another host, say) is not the page's: 2 x 0.6 s of checking on
    fast hops does not."""
    for n in (1, 2, 3):
        loopserver.sequence(
            f"/slow{n}",
            Response(
                status=302,
                headers={"Location": loopserver.url(f"/slow{n + 1}")},
                delay=0.4,
                content_type=None,
            ),
        )
    loopserver.serve("/slow4", "end")
    loopserver.redirect("/fast1", "/fast2")
    loopserver.redirect("/fast2", "/fast3")
    loopserver.serve("/fast3", "end")

    async def slow_check(url: str) -> None:
        await asyncio.sleep(0.6)

    async def allow(url: str) -> None:
        return None

    async with open_fetcher(make_settings(retries=1, timeout=1.0)) as fetcher:
        with pytest.raises(FetchError) as info:
            await fetcher.fetch(loopserver.url("/slow1"), source_id="s", check_redirect=allow)
        assert info.value.reason == "timed out after 1 s"
        assert loopserver.requests_for("/slow4") == []
        result = await fetcher.fetch(loopserver.url("/fast1"), source_id="s", check_redirect=slow_check)
    assert result.body == b"end" and result.redirects == 2


async def test_hops_between_hosts_with_robots_checks_do_not_deadlock(
    loopserver: LoopServer,
) -> None:
    """per_host=1, A/x -> B/y and B/p -> A/q at once, robots.txt of neither host read yet: each check
    fetches the other host's robots.txt. The check runs outside the first host's slot (each hop waits for
    its own host's), so both finish; a check made while holding the slot would wait for the other fetch's
    slot forever (measured: such a variant hangs here)."""
    with LoopServer() as other:
        for srv in (loopserver, other):
            srv.serve("/robots.txt", "User-agent: *\nDisallow: /private/\n")
        loopserver.redirect("/x", other.url("/y"))
        other.serve("/y", "from B")
        other.redirect("/p", loopserver.url("/q"))
        loopserver.serve("/q", "from A", delay=0.05)
        settings = make_settings(retries=1, timeout=5.0)
        async with open_fetcher(settings, per_host=1) as fetcher:
            robots = RobotsCache(fetcher, settings.user_agent_string(mediawatch.__version__))

            async def check(url: str) -> None:
                await robots.check_redirect(url, source_id="kz-page")

            async with asyncio.timeout(4):  # a deadlock fails the test instead of hanging it
                a, b = await asyncio.gather(
                    fetcher.fetch(loopserver.url("/x"), source_id="kz-page", check_redirect=check),
                    fetcher.fetch(other.url("/p"), source_id="kz-page", check_redirect=check),
                )
    assert (a.body, b.body) == (b"from B", b"from A")
    assert len(loopserver.requests_for("/robots.txt")) == 1 and len(other.requests_for("/robots.txt")) == 1


async def test_robots_check_redirect_names_the_target(loopserver: LoopServer) -> None:
    loopserver.serve("/robots.txt", "User-agent: *\nDisallow: /private/\n")
    settings = make_settings(retries=1)
    async with open_fetcher(settings) as fetcher:
        robots = RobotsCache(fetcher, settings.user_agent_string(mediawatch.__version__))
        await robots.check_redirect(loopserver.url("/news/1"), source_id="kz-page")
        with pytest.raises(FetchError) as info:
            await robots.check_redirect(loopserver.url("/private/1"), source_id="kz-page")
    target = loopserver.url("/private/1")
    assert info.value.reason == f"blocked by robots.txt (redirect to {target})"
    assert info.value.url == target and info.value.source_id == "kz-page"


# --------------------------------------------------------------------------- stop: withdrawn before sending


async def test_stop_withdraws_a_fetch_still_waiting_for_its_hosts_slot(loopserver: LoopServer) -> None:
    """per_host=1: /next waits while /slow holds the slot; stop is set meanwhile, so /next is never sent
    (NotRequested). A fetch already sent when stop is set finishes normally; one started after is refused."""
    from mediawatch.http import NotRequested

    slow = loopserver.serve("/slow", "slow", delay=0.4)
    nxt = loopserver.serve("/next", "next")
    stop = asyncio.Event()
    async with open_fetcher(per_host=1) as fetcher:
        first = asyncio.create_task(fetcher.fetch(slow, source_id="s", stop=stop))
        second = asyncio.create_task(fetcher.fetch(nxt, source_id="s", stop=stop))
        while not loopserver.requests_for("/slow"):
            await asyncio.sleep(0.01)
        stop.set()
        assert (await first).body == b"slow"  # already sent: finished and kept
        with pytest.raises(NotRequested) as info:
            await second
        assert info.value.url == nxt
        with pytest.raises(NotRequested):
            await fetcher.fetch(nxt, source_id="s", stop=stop)
    assert loopserver.requests_for("/next") == []


@pytest.mark.parametrize("with_check", [False, True])
async def test_a_urls_password_goes_to_its_origin_only_and_is_reported_nowhere(
    loopserver: LoopServer, with_check: bool
) -> None:
    """Basic credentials from the URL go with the request and with a redirect on the same origin (relative
    or absolute); a redirect to another origin, or a Location with its own user:password, gets none. The
    result, the errors and the redirect targets handed to ``check_redirect`` name the addresses without it;
    only a hop that goes on with the credentials hands them to the check (its robots.txt needs them)."""
    import base64

    auth = "Basic " + base64.b64encode(b"user:s3cret").decode()
    with LoopServer() as other:
        other.serve("/there", "there")
        loopserver.serve("/here", "here")
        loopserver.sequence("/rel", Response(status=302, headers={"Location": "/here"}, content_type=None))
        loopserver.redirect("/away", other.url("/there").replace("http://", "http://evil:pw@"))
        loopserver.status("/gone", 404)
        secret = loopserver.base_url.replace("http://", "http://user:s3cret@")
        checked: list[str] = []

        async def check(url: str) -> None:
            checked.append(url)

        async with open_fetcher() as fetcher:
            kwargs: dict[str, Any] = {"check_redirect": check} if with_check else {}
            near = await fetcher.fetch(secret + "/rel", source_id="s", **kwargs)
            far = await fetcher.fetch(secret + "/away", source_id="s", **kwargs)
            with pytest.raises(FetchError) as info:
                await fetcher.fetch(secret + "/gone", source_id="s", **kwargs)
        assert (near.url, far.url) == (loopserver.url("/here"), other.url("/there"))
        assert [r.headers.get("authorization") for r in loopserver.requests] == [auth] * 4
        assert [r.headers.get("authorization") for r in other.requests] == [None]
        assert info.value.url == loopserver.url("/gone") and "s3cret" not in repr(info.value)
        assert checked == ([secret + "/here", other.url("/there")] if with_check else [])


async def test_robots_txt_is_asked_with_the_password_as_written(loopserver: LoopServer) -> None:
    """Before: the cache's origin was lower-cased whole, so robots.txt went out with 'user:s3cret' for
    'User:S3cret' (a 401, then everything disallowed); the refusal names the address without the password."""
    import base64

    loopserver.serve("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    secret = loopserver.base_url.replace("http://", "http://User:S3cret@")
    async with open_fetcher() as fetcher:
        robots = RobotsCache(fetcher, "mediawatch-test")
        assert await robots.allowed(secret + "/news/1")
        with pytest.raises(FetchError) as info:
            await robots.check_redirect(secret + "/private/1", source_id="s")
    sent = [r.headers.get("authorization") for r in loopserver.requests_for("/robots.txt")]
    assert sent == ["Basic " + base64.b64encode(b"User:S3cret").decode()]
    assert info.value.reason == f"blocked by robots.txt (redirect to {loopserver.url('/private/1')})"
    assert "S3cret" not in repr(info.value)
