"""``mediawatch serve``: the read-only web pages, feeds, /healthz and /metrics as one Starlette (ASGI) app.

Build it with :func:`create_app`; :func:`serve` runs it under uvicorn. Nobody logs in: every page is public
and read-only, and the only write (an editor's label correction) needs ``Settings.editor_token`` in the form
body. Every response, error pages included, carries a Content-Security-Policy (no scripts, no external
resources) and nosniff/no-referrer/no-framing headers; templates autoescape every outside string.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mediawatch.publish.feeds import FeedOptions
from mediawatch.settings import Settings
from mediawatch.store import Store
from mediawatch.store.queries import QueryStore, StoreCounts
from mediawatch.web import files, pages
from mediawatch.web.metrics import Metrics
from mediawatch.web.origin import bind_names, trusted_host
from mediawatch.web.templating import environment, page_csp

logger = logging.getLogger(__name__)

StoreFactory = Callable[[], Store]
T = TypeVar("T")
MEMO_SECONDS = (
    30.0  # how stale the filter menus and the feed list may be (the scheduler adds items meanwhile)
)


class WebStore(Store, QueryStore):
    """The store with the read-only queries the pages need."""


class Site:
    """What a request handler needs: the store (opened lazily from a factory), settings, folders, clock."""

    def __init__(
        self,
        store: Store | StoreFactory,
        settings: Settings,
        *,
        digests_dir: Path,
        metrics: Metrics,
        clock: Callable[[], datetime],
        feed_options: FeedOptions,
        trusted_hosts: frozenset[str] = frozenset(),
    ) -> None:
        self._given: Store | None = store if isinstance(store, Store) else None
        self._factory: StoreFactory | None = None if isinstance(store, Store) else store
        self._store: WebStore | None = _with_queries(self._given) if self._given is not None else None
        self._opened: Store | None = None
        self._lock = threading.Lock()
        self.settings = settings
        self.digests_dir = Path(digests_dir)
        self.metrics = metrics
        self.clock = clock
        self.feed_options = feed_options
        self.trusted_hosts = trusted_hosts  # Host values named at start-up (see mediawatch.web.origin)
        self.env = environment()
        self._memo: dict[str, tuple[float, Any]] = {}

    def memo(self, name: str, compute: Callable[[], T], ttl: float = MEMO_SECONDS) -> T:
        """A value computed at most every ``ttl`` seconds (filter menus, feed list); see :meth:`forget`."""
        now = time.monotonic()
        with self._lock:
            hit = self._memo.get(name)
        if hit is not None and now - hit[0] < ttl:
            return cast(T, hit[1])
        value = compute()
        with self._lock:
            self._memo[name] = (now, value)
        return value

    def forget(self) -> None:
        """Drop memoised values (after a correction changed the tags)."""
        with self._lock:
            self._memo.clear()

    @property
    def store(self) -> WebStore:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    assert self._factory is not None
                    self._opened = self._factory()
                    self._store = _with_queries(self._opened)
        return self._store

    def close(self) -> None:
        """Close a store this site opened itself (a given store belongs to the caller)."""
        with self._lock:
            if self._opened is not None:
                self._opened.close()
                self._opened = None
                self._store = None

    @property
    def corrections_enabled(self) -> bool:
        return bool(self.settings.editor_token)

    def now(self) -> datetime:
        return self.clock()

    def public_base(self, request: Request) -> str | None:
        """Where absolute links in feeds and the OPML point: ``MEDIAWATCH_BASE_URL`` when set, else this
        server as the request names it, but only when that Host is trusted (:mod:`mediawatch.web.origin`);
        None means no absolute links. Without a configured base URL the answer depends on Host, so those
        responses say ``Vary: Host`` (:attr:`varies_by_host`)."""
        if self.feed_options.base_url:
            return self.feed_options.base_url
        server = request.scope.get("server")
        if trusted_host(
            request.headers.get("host"),
            tuple(server) if server else None,
            request.url.scheme,
            self.trusted_hosts,
        ):
            return str(request.base_url)
        return None

    @property
    def varies_by_host(self) -> bool:
        return not self.feed_options.base_url

    def render(self, request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(
            request=request, base=request.scope.get("root_path", ""), **context
        )
        return HTMLResponse(html, status_code=status)


def create_app(
    store: Store | StoreFactory,
    settings: Settings,
    *,
    digests_dir: Path,
    metrics: Metrics | None = None,
    clock: Callable[[], datetime] | None = None,
    feed_options: FeedOptions | None = None,
    listen: tuple[str, int] | None = None,
) -> Starlette:
    """The web app over ``store`` (or a factory called on first use and closed at shutdown).

    ``digests_dir`` is where digests are written (their .html/.md and chart .svg files are served from it).
    Feeds are rendered from the store on each request (always current after a correction), with the same
    functions and bytes as the files :func:`mediawatch.publish.rebuild_feeds` writes. ``feed_options``
    default to the settings' (``base_url``); ``listen`` is the (host, port) the server was started on, a
    Host header naming it is trusted for absolute links when no base URL is set.
    """
    site = Site(
        store,
        settings,
        digests_dir=digests_dir,
        metrics=metrics or Metrics(ticks=False),  # no service in this process: no tick counters
        clock=clock or (lambda: datetime.now(UTC)),
        feed_options=feed_options or FeedOptions.from_settings(settings),
        trusted_hosts=bind_names(*listen) if listen else frozenset(),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield
        site.close()

    def bind(handler: Callable[[Site], Callable[[Request], Any]]) -> Callable[[Request], Any]:
        return handler(site)

    routes = [
        Route("/", bind(pages.index), name="index"),
        Route("/items/{item_id}", bind(pages.item), name="item"),
        Route("/items/{item_id}/label", bind(pages.label), methods=["POST"], name="label"),
        Route("/stories/{story_id}", bind(pages.story), name="story"),
        Route("/sources", bind(pages.sources), name="sources"),
        Route("/digests", bind(pages.digests), name="digests"),
        Route("/digests/{name}", bind(files.digest_file), name="digest_file"),
        Route("/digests/{week}/{name}", bind(files.digest_chart), name="digest_chart"),
        Route("/feeds", bind(pages.feeds), name="feeds"),
        Route("/feeds.opml", bind(files.opml), name="opml"),
        Route("/feeds/topics/{name}", bind(files.topic_feed), name="topic_feed"),
        Route("/feeds/countries/{name}", bind(files.country_feed), name="country_feed"),
        Route("/feeds/topics/{topic}/countries/{name}", bind(files.pair_feed), name="pair_feed"),
        Route("/favicon.svg", bind(files.favicon), name="favicon"),
        Route("/healthz", bind(files.healthz), name="healthz"),
        Route("/metrics", bind(files.metrics), name="metrics"),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        detail = exc.detail if isinstance(exc, HTTPException) else "Internal error"
        if status == 500:
            logger.exception("error serving %s", request.url.path, exc_info=exc)
        return site.render(request, "error.html", status=status, status_code=status, message=str(detail))

    app = WebApp(
        routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error, 500: http_error}
    )
    app.state.site = site
    site.metrics.watch(_LazyCounts(site), site.clock)
    return app


class WebApp(Starlette):
    """Starlette with :class:`SecurityHeaders` outside its whole stack. ``add_middleware`` would put it inside
    Starlette's ServerErrorMiddleware, whose 500 page (an unexpected exception) would then go out bare."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


class _LazyCounts:
    """Lets the metrics read the store only when scraped (the factory may not have run yet)."""

    def __init__(self, site: Site) -> None:
        self._site = site

    def counts(self) -> StoreCounts:
        return self._site.store.counts()


class SecurityHeaders:
    """Pure ASGI middleware: default CSP and hardening headers on every response that lacks them."""

    HEADERS = (
        (b"content-security-policy", page_csp().encode("ascii")),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` for :func:`serve`, bound first so that a port in use (or a host that is
    not this machine's) is one clear error before anything starts, not uvicorn's log line and exit code 3.
    Bound as uvicorn binds: IPv6 when the host has a colon, else IPv4 (``localhost`` is 127.0.0.1, ``""`` every
    interface)."""
    from mediawatch.errors import MediawatchError

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn sets it
        sock.bind((host.strip("[]"), port))
    except (OSError, UnicodeError, OverflowError) as exc:
        sock.close()
        why = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
        in_use = isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE
        hint = " (another program uses it: choose another --port)" if in_use else ""
        raise MediawatchError(f"cannot listen on {host}:{port}: {why}{hint}") from None
    return sock


def listening_url(sock: socket.socket) -> str:
    """``http://host:port/`` of a bound socket (the port it got for ``--port 0``)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    metrics: Metrics | None = None,
    sock: socket.socket | None = None,
) -> None:
    """Run the web app under uvicorn until interrupted (the store is opened from ``settings.db``), on ``sock``
    (from :func:`listen`) or a socket it binds itself."""
    import uvicorn

    from mediawatch.store import open_store

    sock = sock or listen(host, port)

    app = create_app(
        lambda: open_store(settings.db),
        settings,
        digests_dir=settings.digests,
        metrics=metrics,
        listen=(host, port),
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


def _with_queries(store: Store) -> WebStore:
    return store if isinstance(store, WebStore) else WebStore(store.engine)


__all__ = ["SecurityHeaders", "Site", "StoreFactory", "WebApp", "WebStore", "create_app", "listen", "listening_url", "serve"]
