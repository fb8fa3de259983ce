"""The values an operator writes in sources.yaml, checked: intervals (``30m``, ``6h``), country and language
codes, http(s) URLs and IANA time zones. Each check raises ValueError with a message for the operator; the
annotated types carry them into the file's pydantic models (:mod:`mediawatch.sourcefile`)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator

from mediawatch.codes import is_country, is_language

MIN_EVERY = timedelta(minutes=5)
MAX_EVERY = timedelta(days=30)
DEFAULT_EVERY = timedelta(hours=1)

_EVERY_RE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.ASCII)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_every(value: object) -> timedelta:
    """``30m``, ``6h``, ``1d``, ``1w`` (or ``90s``) -> timedelta, within [5 minutes, 30 days]."""
    if isinstance(value, timedelta):
        delta = value
    elif isinstance(value, str) and (m := _EVERY_RE.match(value)):
        digits = m.group(1).lstrip("0") or "0"
        seconds = int(digits) * _UNITS[m.group(2)] if len(digits) <= 12 else None
        if seconds is None or seconds > MAX_EVERY.total_seconds():  # before timedelta(), which can overflow
            raise ValueError(f"{value!r} is too rare; the maximum interval is 30d")
        delta = timedelta(seconds=seconds)
    else:
        raise ValueError(f"{value!r} is not an interval; write a number and a unit: 30m, 6h, 1d (units s, m, h, d, w)")
    if delta < MIN_EVERY:
        raise ValueError(f"{value!r} is too often; the minimum interval is 5m")
    if delta > MAX_EVERY:
        raise ValueError(f"{value!r} is too rare; the maximum interval is 30d")
    return delta


def format_every(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def check_country(value: object) -> object:
    if isinstance(value, str) and not is_country(value):
        hint = " (use upper case)" if is_country(value.upper()) else ""
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code such as KZ, CN, MN, TR{hint}")
    return value


def check_language(value: object) -> object:
    if isinstance(value, str) and not is_language(value):
        raise ValueError(f"{value!r} is not an ISO 639-1 language code such as kk, ru, zh, tr, en (or kk-Arab)")
    return value


def check_url(value: object) -> object:
    if not isinstance(value, str):
        return value
    from urllib.parse import urlsplit

    url = value.strip()
    if any(c.isspace() or ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in url):
        raise ValueError(
            f"{value!r} is not an absolute http(s) URL (it contains spaces or control characters)"
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a usable URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    return url


def check_timezone(value: object) -> object:
    """An IANA time zone name (``Asia/Almaty``, ``UTC``), the zone a source's dates without an offset are in."""
    if isinstance(value, str):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError, OSError):  # "Asia" is a folder of the zone files
            raise ValueError(
                f"{value!r} is not a time zone; use an IANA name such as Asia/Almaty, Asia/Shanghai, Europe/Istanbul "
                f"or UTC"
            ) from None
        return value.strip()
    return value


Every = Annotated[timedelta, BeforeValidator(parse_every)]
Country = Annotated[str, BeforeValidator(check_country)]
Language = Annotated[str, BeforeValidator(check_language)]
Url = Annotated[str, BeforeValidator(check_url)]
TimeZone = Annotated[str, BeforeValidator(check_timezone)]
