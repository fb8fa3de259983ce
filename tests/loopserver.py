"""A real HTTP/1.1 server on 127.0.0.1 for tests and benchmarks, with programmable routes and failure modes.

Usage inside pytest (the ``loopserver`` fixture) or as a plain context manager::

    with LoopServer() as srv:
        url = srv.serve("/feed.xml", body, content_type="application/rss+xml; charset=utf-8",
                        etag='"v1"', gzip=True, delay=0.1)
        ...
        assert srv.requests_for("/feed.xml")[-1].headers["if-none-match"] == '"v1"'

Each connection is handled in its own daemon thread, so a per-response ``delay`` does not serialise requests.
Routes may hold a *sequence* of responses (``srv.sequence(path, r1, r2)``): each request takes the next one
and the last one repeats, which is how "503, then 200" is scripted. Only 127.0.0.1 is ever bound.
"""

from __future__ import annotations

import contextlib
import gzip as gzip_module
import http.client
import itertools
import mimetypes
import os
import socket
import struct
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import pytest

HOST = "127.0.0.1"
CHUNK = 64 * 1024
MB = 1024 * 1024

Mode = Literal["normal", "reset", "truncate", "drip"]
BodySource = bytes | Callable[[], Iterable[bytes]]


@dataclass(frozen=True)
class Response:
    """One scripted response. ``body`` is bytes, or a zero-argument callable yielding chunks (lazy bodies)."""

    status: int = 200
    body: BodySource = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = "text/plain; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    cache_control: str | None = None
    retry_after: str | None = None
    gzip: bool = False  # compress when the client accepts gzip (the server does the compressing)
    precompressed_gzip: bool = False  # body is already a gzip stream: send it with Content-Encoding: gzip
    delay: float = 0.0  # seconds to wait before the status line
    mode: Mode = "normal"
    length: int | None = None  # Content-Length to declare for lazy bodies (None: chunked encoding)
    cut_at: int = 0  # "reset"/"truncate": bytes of body actually sent before the connection dies
    drip_interval: float = 1.0  # "drip": seconds between single bytes


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # request target as sent (origin-form, query included)
    headers: dict[str, str]  # lower-case names
    at: float  # time.monotonic() when the request line was read


class _Route:
    def __init__(self, responses: tuple[Response, ...]) -> None:
        if not responses:
            raise ValueError("a route needs at least one response")
        self._responses = responses
        self._next = 0
        self._lock = threading.Lock()

    def take(self) -> Response:
        with self._lock:
            response = self._responses[min(self._next, len(self._responses) - 1)]
            self._next += 1
            return response


class LoopServer:
    """ThreadingHTTPServer on an ephemeral 127.0.0.1 port with registrable routes; a context manager."""

    def __init__(self) -> None:
        self._routes: dict[str, _Route] = {}
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._accepted = 0  # connections accepted since start
        self._in_flight = 0
        self._max_in_flight = 0
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> LoopServer:
        if self._httpd is not None:
            return self
        httpd = _Server((HOST, 0), _Handler)
        httpd.loop = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="loopserver", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            open_connections = list(self._connections)
        for conn in open_connections:  # unblock handler threads waiting on idle keep-alive connections
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> LoopServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("LoopServer is not running")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + _check_path(path)

    # ---------------------------------------------------------------- recording
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path or urlsplit(r.path).path == path]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()
            self._max_in_flight = self._in_flight

    @property
    def connections_accepted(self) -> int:
        """TCP connections accepted since start (keep-alive reuse shows as fewer connections than requests)."""
        with self._lock:
            return self._accepted

    @property
    def max_in_flight(self) -> int:
        """Most requests being answered at the same moment (since start or ``clear_requests``)."""
        with self._lock:
            return self._max_in_flight

    # ---------------------------------------------------------------- routes
    def sequence(self, path: str, *responses: Response) -> str:
        """Route ``path`` to these responses in turn (the last one repeats). Returns the full URL."""
        with self._lock:
            self._routes[_check_path(path)] = _Route(responses)
        return self.url(path)

    def serve(
        self,
        path: str,
        body: bytes | str = b"",
        *,
        status: int = 200,
        content_type: str | None = "text/plain; charset=utf-8",
        headers: Mapping[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        cache_control: str | None = None,
        retry_after: str | int | None = None,
        gzip: bool = False,
        delay: float = 0.0,
    ) -> str:
        """Serve bytes (or text, encoded as UTF-8) with the chosen status and headers. Returns the URL."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        return self.sequence(
            path,
            Response(
                status=status,
                body=data,
                headers=dict(headers or {}),
                content_type=content_type,
                etag=etag,
                last_modified=last_modified,
                cache_control=cache_control,
                retry_after=None if retry_after is None else str(retry_after),
                gzip=gzip,
                delay=delay,
            ),
        )

    def serve_file(self, path: str, file: Path, *, content_type: str | None = None, **kwargs: object) -> str:
        """Serve a file from disk; Content-Type is guessed from its name unless given."""
        guessed = content_type or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return self.serve(path, file.read_bytes(), content_type=guessed, **kwargs)  # type: ignore[arg-type]

    def status(
        self, path: str, code: int, *, retry_after: str | int | None = None, delay: float = 0.0
    ) -> str:
        """A bare status response (404, 500, 429 with Retry-After, 503, …) with a short text body."""
        return self.serve(path, f"status {code}\n", status=code, retry_after=retry_after, delay=delay)

    def redirect(self, path: str, to: str, *, status: int = 302) -> str:
        """``path`` redirects to ``to`` (a path on this server or an absolute URL)."""
        location = to if "://" in to else self.url(to)
        return self.sequence(path, Response(status=status, headers={"Location": location}, content_type=None))

    def redirect_chain(self, path: str, hops: int, to: str, *, status: int = 302) -> str:
        """``path`` -> ``path/1`` -> … -> ``to``: exactly ``hops`` redirects before reaching ``to``."""
        if hops < 1:
            raise ValueError("a redirect chain needs at least one hop")
        stops = [path] + [f"{path.rstrip('/')}/hop{i}" for i in range(1, hops)] + [to]
        for here, there in itertools.pairwise(stops):
            self.redirect(here, there, status=status)
        return self.url(path)

    def redirect_loop(self, path: str) -> str:
        """``path`` -> ``path/loop`` -> ``path`` -> … forever."""
        other = f"{path.rstrip('/')}/loop"
        self.redirect(path, other)
        self.redirect(other, path)
        return self.url(path)

    def reset(self, path: str, *, size: int = 64 * 1024, cut_at: int = 1024) -> str:
        """Declares ``size`` bytes, sends ``cut_at`` of them, then aborts the connection with a TCP RST."""
        return self.sequence(path, Response(body=b"x" * size, mode="reset", cut_at=cut_at))

    def truncated(self, path: str, *, size: int = 10_000, cut_at: int = 100) -> str:
        """Declares Content-Length ``size`` but sends only ``cut_at`` bytes, then closes cleanly (FIN)."""
        return self.sequence(path, Response(body=b"x" * size, mode="truncate", cut_at=cut_at))

    def drip(self, path: str, body: bytes = b"x" * 1000, *, interval: float = 1.0) -> str:
        """Sends the body one byte every ``interval`` seconds (a slowloris-style server)."""
        return self.sequence(path, Response(body=body, mode="drip", drip_interval=interval))

    def huge(self, path: str, *, size: int = 50 * MB, chunked: bool = False) -> str:
        """A ``size``-byte body generated lazily (never held in memory); Content-Length unless ``chunked``."""
        return self.sequence(
            path,
            Response(
                body=lambda: _pattern_chunks(size),
                length=None if chunked else size,
                content_type="application/octet-stream",
            ),
        )

    def gzip_bomb(self, path: str, *, size: int = 1024 * MB, content_type: str = "application/xml") -> str:
        """A gzip stream of ``size`` zero bytes, compressed on the fly (~1000:1), sent chunked."""
        return self.sequence(
            path,
            Response(body=lambda: gzip_zeros(size), precompressed_gzip=True, content_type=content_type),
        )

    # ---------------------------------------------------------------- internals used by the handler
    def _enter(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _lookup(self, target: str) -> Response | None:
        with self._lock:
            route = self._routes.get(target) or self._routes.get(urlsplit(target).path)
        return route.take() if route else None

    def _track(self, conn: socket.socket, alive: bool) -> None:
        with self._lock:
            (self._connections.add if alive else self._connections.discard)(conn)
            self._accepted += alive


class _QuietServer(ThreadingHTTPServer):
    """A client closing a kept-alive connection resets it: normal, not a traceback on stderr (which a test
    reading a command's output would see)."""

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Server(_QuietServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # the benchmark opens many connections at once
    loop: LoopServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "loopserver/1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes; no 40 ms delayed-ACK stall

    def setup(self) -> None:
        super().setup()
        self.server.loop._track(self.connection, True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.loop._track(self.connection, False)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass  # keep test output clean; requests are recorded instead

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError, BrokenPipeError):
            self.close_connection = True  # the client went away (expected in failure-mode tests)

    def do_GET(self) -> None:
        loop = self.server.loop
        headers = {name.lower(): value for name, value in self.headers.items()}
        loop._enter(RecordedRequest("GET", self.path, headers, time.monotonic()))
        try:
            response = loop._lookup(self.path)
            if response is None:
                response = Response(status=404, body=b"no route\n")
            if response.delay and loop._stopping.wait(response.delay):
                self.close_connection = True
                return
            if _not_modified(response, headers):
                self._send_head(304, _validator_headers(response), length=0)
                return
            self._send(response, headers)
        finally:
            loop._leave()

    # ------------------------------------------------------------------ writing
    def _send_head(self, status: int, extra: Mapping[str, str], *, length: int | None) -> None:
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def _send(self, response: Response, request_headers: Mapping[str, str]) -> None:
        extra: dict[str, str] = {}
        if response.content_type:
            extra["Content-Type"] = response.content_type
        extra.update(_validator_headers(response))
        if response.retry_after is not None:
            extra["Retry-After"] = response.retry_after
        extra.update(response.headers)

        body = response.body
        compress = response.gzip and "gzip" in request_headers.get("accept-encoding", "").lower()
        if response.precompressed_gzip or compress:
            extra["Content-Encoding"] = "gzip"
            extra["Vary"] = "Accept-Encoding"
        if compress:
            raw = body if isinstance(body, bytes) else b"".join(body())
            body = gzip_module.compress(raw)

        if isinstance(body, bytes):
            self._send_bytes(response, body, extra)
        else:
            self._send_stream(response, body(), extra)

    def _send_bytes(self, response: Response, body: bytes, extra: dict[str, str]) -> None:
        if response.mode in ("reset", "truncate"):
            self._send_head(response.status, extra, length=len(body))
            self.wfile.write(body[: response.cut_at])
            self.wfile.flush()
            self.close_connection = True
            if response.mode == "reset":
                time.sleep(0.05)  # let the partial body reach the client before the RST
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            else:
                self.connection.shutdown(socket.SHUT_WR)
            return
        self._send_head(response.status, extra, length=len(body))
        if response.mode == "drip":
            stopping = self.server.loop._stopping
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                if stopping.wait(response.drip_interval):
                    self.close_connection = True
                    return
            return
        self.wfile.write(body)

    def _send_stream(self, response: Response, chunks: Iterable[bytes], extra: dict[str, str]) -> None:
        self._send_head(response.status, extra, length=response.length)
        stopping = self.server.loop._stopping
        try:
            for chunk in chunks:
                if stopping.is_set():
                    self.close_connection = True
                    return
                if not chunk:
                    continue
                if response.length is None:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                else:
                    self.wfile.write(chunk)
            if response.length is None:
                self.wfile.write(b"0\r\n\r\n")
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()


# ---------------------------------------------------------------------- helpers
def _check_path(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError(f"route paths start with '/', got {path!r}")
    return path


def _validator_headers(response: Response) -> dict[str, str]:
    headers: dict[str, str] = {}
    if response.etag:
        headers["ETag"] = response.etag
    if response.last_modified:
        headers["Last-Modified"] = response.last_modified
    if response.cache_control:
        headers["Cache-Control"] = response.cache_control
    return headers


def _not_modified(response: Response, request_headers: Mapping[str, str]) -> bool:
    """RFC 9110 13.1: If-None-Match wins over If-Modified-Since; only for 200 routes with validators."""
    if response.status != 200 or response.mode != "normal":
        return False
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        if not response.etag:
            return False
        wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in wanted or response.etag.removeprefix("W/") in wanted
    if_modified_since = request_headers.get("if-modified-since")
    if if_modified_since and response.last_modified:
        try:
            return parsedate_to_datetime(response.last_modified) <= parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
    return False


def _pattern_chunks(size: int) -> Iterator[bytes]:
    block = (b"0123456789abcdef" * (CHUNK // 16))[:CHUNK]
    remaining = size
    while remaining > 0:
        piece = block[: min(CHUNK, remaining)]
        remaining -= len(piece)
        yield piece


def gzip_zeros(size: int) -> Iterator[bytes]:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(MB)
    remaining = size
    while remaining > 0:
        n = min(MB, remaining)
        remaining -= n
        out = compressor.compress(zeros[:n])
        if out:
            yield out
    yield compressor.flush()


class ForwardProxy:
    """A minimal HTTP forward proxy on 127.0.0.1: absolute-form GETs, fake host names mapped to real ports."""

    def __init__(self, hosts: dict[str, tuple[str, int]]) -> None:
        self.hosts = hosts
        self.seen: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:
                proxy.seen.append(self.path)
                target = urlsplit(self.path)
                if not target.scheme or target.hostname not in proxy.hosts:
                    self.send_error(502, "unknown upstream")
                    return
                host, port = proxy.hosts[target.hostname]
                upstream = http.client.HTTPConnection(host, port, timeout=5)
                headers = {k: v for k, v in self.headers.items() if not k.lower().startswith("proxy-")}
                upstream.request(
                    "GET", target.path + (f"?{target.query}" if target.query else ""), headers=headers
                )
                answer = upstream.getresponse()
                body = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in (
                        "connection",
                        "transfer-encoding",
                        "content-length",
                        "keep-alive",
                    ):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Via", "1.1 test-proxy")
                self.end_headers()
                self.wfile.write(body)
                upstream.close()

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> ForwardProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def loopserver(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopServer]:
    """A fresh loopback server per test. 127.0.0.1 is added to NO_PROXY so an operator's proxy is bypassed."""
    for name in ("NO_PROXY", "no_proxy"):
        current = [host for host in os.environ.get(name, "").split(",") if host.strip()]
        monkeypatch.setenv(name, ",".join([*current, HOST]))
    with LoopServer() as server:
        yield server
