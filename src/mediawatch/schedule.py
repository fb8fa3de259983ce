"""When to check a source next: pure arithmetic over the last outcome (miniflux's ``next_check_at``).

A source is polled every ``every``. While it keeps failing, the interval doubles per consecutive failure
(``every * 2**failures``), capped at :data:`MAX_INTERVAL` but never below ``every``. A server's own hints
(``Retry-After`` on 429/503, ``Cache-Control: max-age``) can push the next check later, never earlier;
they are capped the same way so one header cannot silence a source for months.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

MAX_INTERVAL = timedelta(hours=24)
"""Longest wait that back-off or a server hint can impose (unless ``every`` itself is longer)."""

_MAX_EXPONENT = 64  # 2**64 intervals is far beyond any cap
_DIGITS = re.compile(r"\s*(\d+)\s*")
_MAX_AGE = re.compile(r"""^\s*max-age\s*=\s*"?\s*(\d+)\s*"?\s*$""", re.IGNORECASE)


def next_check(
    now: datetime,
    every: timedelta,
    *,
    failures: int,
    retry_after: float | None = None,
    max_age: float | None = None,
) -> datetime:
    """The moment to check a source again.

    ``failures`` is the number of consecutive failed checks (0 after a success). ``retry_after`` and
    ``max_age`` are seconds from :func:`parse_retry_after` / :func:`parse_max_age`; the later of back-off and
    hints wins.
    """
    if every <= timedelta(0):
        raise ValueError(f"check interval must be positive, got {every}")
    if failures < 0:
        raise ValueError(f"failures must be >= 0, got {failures}")
    cap = max(MAX_INTERVAL, every).total_seconds()
    # seconds as floats, capped before converting, so no timedelta can overflow
    delay = min(every.total_seconds() * 2.0 ** min(failures, _MAX_EXPONENT), cap)
    hints = [seconds for seconds in (retry_after, max_age) if seconds is not None and seconds > 0]
    if hints:
        delay = max(delay, min(max(hints), cap))
    return now + max(every, timedelta(seconds=delay))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date (RFC 9110 10.2.3).

    Returns ``None`` for a missing or unreadable value, and 0.0 for a date in the past.
    """
    if value is None:
        return None
    if match := _DIGITS.fullmatch(value):
        return float(match.group(1))
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" dates come back naive; HTTP dates are always GMT
        when = when.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def parse_max_age(cache_control: str | None) -> float | None:
    """Seconds from the ``max-age`` directive of a ``Cache-Control`` header, or ``None``.

    ``no-store`` / ``no-cache`` mean the server gives no freshness promise, so they yield ``None`` too.
    ``s-maxage`` is for shared caches and is ignored (mediawatch is a private client).
    """
    if not cache_control:
        return None
    max_age: float | None = None
    for directive in cache_control.split(","):
        name = directive.split("=", 1)[0].strip().lower()
        if name in ("no-store", "no-cache"):
            return None
        if max_age is None and (match := _MAX_AGE.match(directive)):
            max_age = float(match.group(1))
    return max_age
