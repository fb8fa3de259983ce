"""The loopback test server itself: every route kind and failure mode behaves as documented.

These talk to it with plain sockets / a synchronous httpx client, so they do not depend on mediawatch.http.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import socket
import time
import zlib

import httpx
import pytest
from loopserver import MB, LoopServer, Response


def _raw_get(srv: LoopServer, path: str, *, timeout: float = 5.0, extra: str = "") -> bytes:
    """Send one GET over a raw socket and return everything read until EOF (or raise what recv raised)."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n".encode())
        data = bytearray()
        while chunk := sock.recv(65536):
            data += chunk
        return bytes(data)


def _client() -> httpx.Client:
    return httpx.Client(trust_env=False, timeout=5.0)


def test_serves_body_status_headers_and_records_request(loopserver: LoopServer) -> None:
    url = loopserver.serve(
        "/a.xml",
        "қазақ диаспорасы",
        status=201,
        content_type="application/xml; charset=utf-8",
        headers={"X-Extra": "1"},
        cache_control="max-age=60",
    )
    assert url == f"http://127.0.0.1:{loopserver.port}/a.xml"
    with _client() as client:
        response = client.get(url, headers={"X-Probe": "yes"})
    assert response.status_code == 201
    assert response.text == "қазақ диаспорасы"
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    assert response.headers["x-extra"] == "1"
    assert response.headers["cache-control"] == "max-age=60"
    [seen] = loopserver.requests_for("/a.xml")
    assert seen.method == "GET"
    assert seen.headers["x-probe"] == "yes"


def test_unknown_path_is_404_and_query_strings_match_the_path(loopserver: LoopServer) -> None:
    loopserver.serve("/feed", "ok")
    with _client() as client:
        assert client.get(loopserver.url("/nope")).status_code == 404
        assert client.get(loopserver.url("/feed?page=2")).text == "ok"
    assert [r.path for r in loopserver.requests_for("/feed")] == ["/feed?page=2"]


def test_serve_file_guesses_content_type(loopserver: LoopServer, tmp_path: os.PathLike[str]) -> None:
    from pathlib import Path

    page = Path(tmp_path) / "page.html"
    page.write_text("<p>hi</p>", encoding="utf-8")
    url = loopserver.serve_file("/page.html", page)
    with _client() as client:
        response = client.get(url)
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == "<p>hi</p>"


def test_gzip_is_compressed_by_the_server_only_when_accepted(loopserver: LoopServer) -> None:
    body = b"<rss>" + b"kazakh diaspora " * 500 + b"</rss>"
    loopserver.serve("/g", body, gzip=True)
    raw = _raw_get(loopserver, "/g", extra="Accept-Encoding: gzip\r\n")
    head, _, payload = raw.partition(b"\r\n\r\n")
    assert b"Content-Encoding: gzip" in head
    assert len(payload) < len(body) / 5
    assert gzip.decompress(payload) == body
    plain = _raw_get(loopserver, "/g")
    assert b"Content-Encoding" not in plain.partition(b"\r\n\r\n")[0]
    assert plain.endswith(body)


def test_conditional_get_with_etag_and_last_modified(loopserver: LoopServer) -> None:
    url = loopserver.serve("/c", "body", etag='"v1"', last_modified="Wed, 01 Jan 2025 10:00:00 GMT")
    with _client() as client:
        assert client.get(url).status_code == 200
        hit = client.get(url, headers={"If-None-Match": '"v1"'})
        assert hit.status_code == 304
        assert hit.content == b""
        assert hit.headers["etag"] == '"v1"'
        assert client.get(url, headers={"If-None-Match": 'W/"v1"'}).status_code == 304
        assert client.get(url, headers={"If-None-Match": '"v0"'}).status_code == 200
        later = {"If-Modified-Since": "Thu, 02 Jan 2025 00:00:00 GMT"}
        earlier = {"If-Modified-Since": "Tue, 31 Dec 2024 00:00:00 GMT"}
        assert client.get(url, headers=later).status_code == 304
        assert client.get(url, headers=earlier).status_code == 200
        # RFC 9110: If-None-Match takes precedence over If-Modified-Since
        assert client.get(url, headers={"If-None-Match": '"v0"', **later}).status_code == 200


def test_routes_without_validators_never_answer_304(loopserver: LoopServer) -> None:
    url = loopserver.serve("/nv", "body")
    with _client() as client:
        response = client.get(
            url, headers={"If-None-Match": "*", "If-Modified-Since": "Thu, 01 Jan 2099 00:00:00 GMT"}
        )
    assert response.status_code == 200


def test_sequence_takes_responses_in_turn_and_repeats_the_last(loopserver: LoopServer) -> None:
    url = loopserver.sequence("/s", Response(status=503), Response(status=200, body=b"ok"))
    with _client() as client:
        assert [client.get(url).status_code for _ in range(3)] == [503, 200, 200]


def test_status_helper_sets_retry_after(loopserver: LoopServer) -> None:
    url = loopserver.status("/429", 429, retry_after=120)
    with _client() as client:
        response = client.get(url)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "120"


def test_redirect_chain_has_exactly_the_requested_hops(loopserver: LoopServer) -> None:
    loopserver.serve("/end", "done")
    url = loopserver.redirect_chain("/start", 4, "/end")
    with httpx.Client(trust_env=False, follow_redirects=True) as client:
        response = client.get(url)
    assert response.text == "done"
    assert len(response.history) == 4


def test_redirect_loop_never_ends(loopserver: LoopServer) -> None:
    url = loopserver.redirect_loop("/loop")
    with (
        httpx.Client(trust_env=False, follow_redirects=True, max_redirects=7) as client,
        pytest.raises(httpx.TooManyRedirects),
    ):
        client.get(url)
    assert len(loopserver.requests) == 8  # the first request and seven redirects, bouncing between two paths


def test_reset_aborts_the_connection_mid_body(loopserver: LoopServer) -> None:
    loopserver.reset("/r", size=100_000, cut_at=500)
    with pytest.raises(ConnectionResetError):
        _raw_get(loopserver, "/r")


def test_truncated_body_is_shorter_than_content_length(loopserver: LoopServer) -> None:
    loopserver.truncated("/t", size=10_000, cut_at=100)
    head, _, payload = _raw_get(loopserver, "/t").partition(b"\r\n\r\n")
    assert b"Content-Length: 10000" in head
    assert len(payload) == 100


def test_drip_sends_one_byte_per_interval(loopserver: LoopServer) -> None:
    loopserver.drip("/d", b"abcd", interval=0.15)
    started = time.monotonic()
    payload = _raw_get(loopserver, "/d").partition(b"\r\n\r\n")[2]
    elapsed = time.monotonic() - started
    assert payload == b"abcd"
    assert 0.5 <= elapsed < 5.0  # four bytes, 0.15 s apart (the bound is loose: a test process can stall)


def test_huge_body_streams_the_declared_size(loopserver: LoopServer) -> None:
    url = loopserver.huge("/huge", size=50 * MB)
    total = 0
    with _client() as client, client.stream("GET", url) as response:
        assert response.headers["content-length"] == str(50 * MB)
        for chunk in response.iter_raw():
            total += len(chunk)
    assert total == 50 * MB


def test_huge_chunked_body(loopserver: LoopServer) -> None:
    url = loopserver.huge("/hc", size=3 * MB + 7, chunked=True)
    with _client() as client:
        response = client.get(url)
    assert "content-length" not in response.headers
    assert len(response.content) == 3 * MB + 7


def test_gzip_bomb_is_small_on_the_wire_and_huge_inflated(loopserver: LoopServer) -> None:
    url = loopserver.gzip_bomb("/bomb", size=64 * MB)
    with _client() as client, client.stream("GET", url) as response:
        assert response.headers["content-encoding"] == "gzip"
        compressed = b"".join(response.iter_raw())
    assert len(compressed) < 200_000
    inflated = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(compressed)
    assert len(inflated) == 64 * MB
    assert inflated.count(0) == 64 * MB


def test_delays_do_not_serialise_concurrent_requests(loopserver: LoopServer) -> None:
    """The benchmark's shape in miniature: many paths, 100 ms latency each, fetched 20 at a time.

    (20, not more: httpcore's pool bookkeeping grows quadratically with open connections and becomes the
    bottleneck on a 2-core machine well before this server does.)"""
    paths = [f"/feed/{i}.xml" for i in range(200)]
    for path in paths:
        loopserver.serve(path, f"<rss>{path}</rss>", delay=0.1)

    async def fetch_all() -> list[str]:
        limits = httpx.Limits(max_connections=20, max_keepalive_connections=20)
        async with httpx.AsyncClient(trust_env=False, limits=limits, timeout=10) as client:
            semaphore = asyncio.Semaphore(20)

            async def one(path: str) -> str:
                async with semaphore:
                    return (await client.get(loopserver.url(path))).text

            return await asyncio.gather(*(one(p) for p in paths))

    started = time.monotonic()
    bodies = asyncio.run(fetch_all())
    elapsed = time.monotonic() - started
    assert bodies == [f"<rss>{p}</rss>" for p in paths]
    assert loopserver.max_in_flight >= 10, "delayed responses were not answered concurrently"
    assert loopserver.max_in_flight <= 20
    assert elapsed < 10.0, f"200 x 100 ms took {elapsed:.1f} s (20 s if serialised, ~1 s ideal)"


def test_context_manager_outside_pytest_binds_loopback_only_and_stops() -> None:
    with LoopServer() as srv:
        url = srv.serve("/x", "ok")
        assert srv.base_url.startswith("http://127.0.0.1:")
        assert srv._httpd is not None and srv._httpd.server_address[0] == "127.0.0.1"
        with _client() as client:
            assert client.get(url).text == "ok"
        port = srv.port
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_close_interrupts_a_dripping_response() -> None:
    srv = LoopServer().start()
    srv.drip("/slow", b"x" * 100, interval=1.0)
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    assert sock.recv(100)  # the status line arrived; the body is dripping
    started = time.monotonic()
    srv.close()
    assert time.monotonic() - started < 10.0  # the whole drip takes 100 s
    sock.close()


def test_fixture_keeps_loopback_off_any_proxy(loopserver: LoopServer) -> None:
    assert "127.0.0.1" in os.environ["NO_PROXY"].split(",")
    assert "127.0.0.1" in os.environ["no_proxy"].split(",")
