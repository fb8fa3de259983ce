"""Why a fetch failed, in words an operator can act on: ``HTTP 404``, ``HTTP 429 (retry after 120 s)``,
``timed out after 10 s``, ``could not connect (connection refused)``, ``response larger than 10 MB``. Each
reason says whether the failure is transient (worth a retry with backoff)."""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime

import httpx

from mediawatch.errors import FetchError
from mediawatch.schedule import parse_retry_after
from mediawatch.settings import Settings

__all__ = ["RETRY_AFTER_STATUSES", "TRANSIENT_STATUSES", "clip", "seconds", "status_error", "too_large", "translate"]

TRANSIENT_STATUSES = frozenset({502, 503, 504})
RETRY_AFTER_STATUSES = frozenset({429, 503})


def status_error(response: httpx.Response, source_id: str) -> FetchError:
    """An HTTP error status as a reason; a 429 or 503 with a Retry-After in the future carries the wait."""
    status = response.status_code
    url = str(response.url)
    retry_after = None
    if status in RETRY_AFTER_STATUSES:
        retry_after = parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC))
    if retry_after is not None and retry_after > 0:  # "0" or a date already past: no wait asked for
        return FetchError(
            source_id,
            f"HTTP {status} (retry after {math.ceil(retry_after)} s)",
            url=url,
            status=status,
            retry_after=retry_after,
        )
    return FetchError(
        source_id, f"HTTP {status}", url=url, status=status, transient=status in TRANSIENT_STATUSES
    )


def translate(exc: httpx.HTTPError, source_id: str, url: str, settings: Settings) -> FetchError:
    """An httpx exception as a FetchError with a reason a person can act on."""
    if isinstance(exc, httpx.TooManyRedirects):
        return FetchError(source_id, "too many redirects", url=url)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return FetchError(source_id, f"invalid URL ({exc})", url=url)
    if isinstance(exc, httpx.ConnectTimeout):
        reason = f"could not connect (timed out after {seconds(settings.connect_timeout)} s)"
        return FetchError(source_id, reason, url=url, transient=True)
    if isinstance(exc, httpx.TimeoutException):
        return FetchError(
            source_id, f"timed out after {seconds(settings.timeout)} s", url=url, transient=True
        )
    if isinstance(exc, httpx.ConnectError):
        return FetchError(source_id, f"could not connect ({_os_detail(exc)})", url=url, transient=True)
    if _caused_by(exc, ConnectionResetError) or "reset by peer" in str(exc).lower():
        return FetchError(source_id, "connection reset", url=url, transient=True)
    if isinstance(exc, httpx.RemoteProtocolError) and _looks_truncated(exc):
        return FetchError(source_id, "truncated response", url=url, transient=True)
    if isinstance(exc, httpx.TransportError):
        return FetchError(source_id, f"network error ({_os_detail(exc)})", url=url, transient=True)
    return FetchError(source_id, f"HTTP error ({exc})", url=url)


def _looks_truncated(exc: httpx.RemoteProtocolError) -> bool:
    text = str(exc).lower()
    return "incomplete" in text or "without sending complete message body" in text


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _os_detail(exc: BaseException) -> str:
    """The innermost OS error text ("connection refused"), else the exception's own text."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, OSError) and current.errno is not None and current.errno > 0:
            return os.strerror(current.errno).lower()  # asyncio's own strerror texts are less readable
        if isinstance(current, OSError) and current.strerror:
            return current.strerror.lower()
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    text = str(exc).strip()
    if text.startswith("[Errno") and "]" in text:
        text = text.split("]", 1)[1].strip()
    return (text or type(exc).__name__).lower()


def too_large(source_id: str, url: str, limit: int) -> FetchError:
    return FetchError(source_id, f"response larger than {_size(limit)}", url=url)


def _size(n: int) -> str:
    mb = 1024 * 1024
    if n >= mb:
        return f"{n // mb} MB" if n % mb == 0 else f"{n / mb:.1f} MB"
    if n >= 1024:
        return f"{n // 1024} KB" if n % 1024 == 0 else f"{n / 1024:.1f} KB"
    return f"{n} bytes"


def clip(text: str, limit: int = 200) -> str:
    """Server-supplied text (a Location header, a redirect target) shortened for a health reason."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def seconds(value: float) -> str:
    """A number of seconds as written in a reason: 10, 2.5."""
    return f"{value:g}"
