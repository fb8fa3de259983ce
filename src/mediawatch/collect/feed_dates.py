"""Dates in feeds: feedparser's UTC tuples as aware datetimes, RFC 822 dates with month names it does not know
(Italian, Spanish, French, German, Portuguese, Russian, Turkish, Kazakh), ISO 8601 strings (JSON Feed), and
times written without an offset, which are read in the source's time zone when it has one."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from mediawatch.models import RawEntry
from mediawatch.wording import count

# Month names feedparser does not know, in languages the monitored outlets write in (it, es, fr, de, pt, ru;
# Turkish and Kazakh, whole and in three letters; Russian genitive whole names).
_MONTHS = {
    name: english
    for english, names in {
        "Jan": "gen ene janv jän янв января ocak oca қаңтар қаң",
        "Feb": "fév fev февр фев февраля şubat şub subat ақпан ақп",
        "Mar": "mars mär märz марта мар mart наурыз нау",
        "Apr": "abr avr апр апреля nisan nis сәуір сәу",
        "May": "mag mai mayo maio мая май mayıs mayis мамыр мам",
        "Jun": "giu juin июн июня haziran haz маусым мау",
        "Jul": "lug juil июл июля temmuz tem шілде шіл",
        "Aug": "ago août авг августа ağustos ağu agustos тамыз там",
        "Sep": "set sept сент сен сентября eylül eyl eylul қыркүйек қыр",
        "Oct": "ott okt out окт октября ekim eki қазан қаз",
        "Nov": "ноя нояб ноября kasım kas kasim қараша қар",
        "Dec": "dic déc dez дек декабря aralık ara aralik желтоқсан жел",
    }.items()
    for name in names.split()
}  # fmt: skip
_TIME_OF_DAY = re.compile(r"\d{1,2}:\d{2}")
# At the end, after a comment such as "(Almaty Time)" is set aside: an offset (+0500, -03:00, +05, GMT+0500), Z
# right after the time, or a zone's letters that the parsers know (others, such as MSK, they read as UTC)
_ZONE = re.compile(r"(?:[+-]\d{2}(?::?\d{2})?|\d[zZ]|\b(?:GMT|UTC|UT|Z|[ECMP][SD]T))\s*$", re.IGNORECASE)
_COMMENT = re.compile(r"\s*\([^()]*\)\s*$")
_LEADING_DAY = re.compile(r"^\s*[^\W\d]+\.?,\s*")


def utc_struct(parsed: object) -> datetime | None:
    """feedparser's UTC ``struct_time`` as an aware datetime (None when absent or impossible)."""
    if not isinstance(parsed, tuple) or len(parsed) < 6:  # time.struct_time is a tuple
        return None
    year, month, day, hour, minute, second = parsed[:6]
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def local_date(raw: object) -> datetime | None:
    """An RFC 822 date with a non-English day or month name (``mer, 16 nov 2022 00:38:15 +0100``)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip()
    words = _LEADING_DAY.sub("", text.lower()).split()
    english = " ".join(_MONTHS.get(word.rstrip("."), word) for word in words)
    if not _TIME_OF_DAY.search(english):  # a date alone ("21 Mart 2025"): its day, at midnight UTC
        english += " 00:00:00 +0000"
    try:
        moment = parsedate_to_datetime(english)
    except (TypeError, ValueError, IndexError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def in_zone(
    entries: tuple[RawEntry, ...], written: list[str | None], timezone: str | None
) -> tuple[tuple[RawEntry, ...], int, str | None]:
    """``entries`` with the times written without an offset (``written``: each entry's date as written) read
    in ``timezone`` instead of UTC, how many there were, and (without a timezone) a note saying how many were
    read as UTC."""
    unzoned = [i for i, (entry, text) in enumerate(zip(entries, written, strict=True))
               if entry.published is not None and text is not None and _without_offset(text)]
    if not unzoned:
        return entries, 0, None
    if timezone is None:
        n = count(len(unzoned), "entry", "entries")
        return entries, len(unzoned), f"{n} dated without a time zone, read as UTC (set the source's timezone)"
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)
    out = list(entries)
    for i in unzoned:
        moment = out[i].published
        assert moment is not None
        out[i] = replace(out[i], published=moment.replace(tzinfo=zone).astimezone(UTC))
    return tuple(out), len(unzoned), None


def _without_offset(text: str) -> bool:
    """Whether a date as written has a time of day but no zone: ``Fri, 21 Mar 2025 11:05:00``,
    ``2025-03-21 10:30:00`` (not ``… +0500``, ``…T10:30:00Z``, ``… GMT``, nor a date alone)."""
    return _TIME_OF_DAY.search(text) is not None and _ZONE.search(_COMMENT.sub("", text)) is None


def entry_time(entry: Mapping[str, Any]) -> tuple[datetime | None, str | None]:
    """A feedparser entry's time (published, else updated, else created; feedparser's reading, else ours) and
    the date as written in the field that gave it."""
    for key in ("published", "updated", "created"):
        if moment := utc_struct(entry.get(f"{key}_parsed")):
            return moment, _written(entry.get(key))
    raw = entry.get("published") or entry.get("updated")
    moment = local_date(raw)
    return moment, _written(raw) if moment else None


def _written(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def iso_time(value: str | None) -> datetime | None:
    """An ISO 8601 time (JSON Feed), else an RFC 822 one; without an offset, labelled UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return local_date(value)  # RFC 822 dates are common in JSON Feeds made by hand
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
