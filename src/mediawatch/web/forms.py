"""Request input made typed: the list filters (query string) and an editor's correction (form body).

Pure functions over mappings of strings; anything malformed is reported back, never passed to the store, and
free text (the search, an editor's name and note) loses its control characters (NUL included) here.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from mediawatch.codes import TOPIC_ID
from mediawatch.labels import clean_text, country_problems
from mediawatch.store.queries import ItemQuery

PAGE_SIZE = 50
MAX_PAGE = 10_000
LAST_TO = date.max - timedelta(days=1)  # the latest usable "to" date (its end is the next day's midnight)
_COUNTRY = re.compile(r"^[A-Za-z]{2}\Z")
_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*\Z")
_SOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
_SPLIT = re.compile(r"[\s,;]+")


@dataclass(frozen=True, slots=True)
class Filters:
    topic: str = ""
    country: str = ""
    lang: str = ""
    source: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    show_all: bool = False
    page: int = 1
    problems: tuple[str, ...] = ()

    def query(self) -> ItemQuery:
        return ItemQuery(
            topic=self.topic or None,
            country=self.country or None,
            language=self.lang or None,
            source=self.source or None,
            since=datetime.combine(self.date_from, time(), UTC) if self.date_from else None,
            until=_day_after(self.date_to),
            search=self.q or None,
            relevant_only=not self.show_all,
        )

    def params(self) -> dict[str, str]:
        """The filters as query parameters (for links that keep them)."""
        out = {
            "topic": self.topic,
            "country": self.country,
            "lang": self.lang,
            "source": self.source,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "q": self.q,
            "show": "all" if self.show_all else "",
        }
        return {k: v for k, v in out.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.params())


def parse_filters(params: Mapping[str, str]) -> Filters:
    problems: list[str] = []

    def pick(name: str, pattern: re.Pattern[str], what: str) -> str:
        value = (params.get(name) or "").strip()
        if value and not pattern.match(value):
            problems.append(f"ignored {what} {value[:40]!r}: not a valid {what}")
            return ""
        return value

    def day(name: str) -> date | None:
        value = (params.get(name) or "").strip()
        if not value:
            return None
        try:
            found = date.fromisoformat(value)
        except ValueError:
            problems.append(f"ignored date {value[:40]!r}: not a valid date (use YYYY-MM-DD)")
            return None
        if name == "to" and found == date.max:  # "to" includes its day: the bound is the next midnight
            problems.append(f"ignored date {value[:40]!r}: out of range (the latest is {LAST_TO})")
            return None
        return found

    try:
        page = max(1, min(MAX_PAGE, int(params.get("page") or 1)))
    except ValueError:
        page = 1
    return Filters(
        topic=pick("topic", TOPIC_ID, "topic"),
        country=pick("country", _COUNTRY, "country code").upper(),
        lang=pick("lang", _LANG, "language code"),
        source=pick("source", _SOURCE, "source id"),
        date_from=day("from"),
        date_to=day("to"),
        q=clean_text(params.get("q"), limit=200) or "",  # no NUL into a query: PostgreSQL refuses it
        show_all=params.get("show") == "all",
        page=page,
        problems=tuple(problems),
    )


@dataclass(frozen=True, slots=True)
class Correction:
    relevant: bool
    countries: tuple[str, ...]
    topics: tuple[str, ...]
    editor: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class CorrectionResult:
    correction: Correction | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)


def token_ok(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; an unset or empty expected token accepts nothing."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def parse_correction(
    relevant: str | None,
    countries: str | None,
    topics: Sequence[str],
    editor: str | None,
    note: str | None,
    *,
    known_topics: Collection[str],
) -> CorrectionResult:
    problems: list[str] = []
    if relevant not in ("yes", "no"):
        problems.append("choose relevant or not relevant")
    codes: list[str] = []
    for code in _SPLIT.split((countries or "").strip()):
        if not code:
            continue
        if not _COUNTRY.match(code):
            problems.append(f"{code[:20]!r} is not a two-letter country code (ISO 3166-1 alpha-2)")
        elif code.upper() not in codes:
            codes.append(code.upper())
    if relevant == "yes":  # "not relevant" drops the countries: an old KZ in the filled-in form is no problem
        problems += country_problems(codes)  # the rules `mediawatch label` has, shown with every other problem
    chosen: list[str] = []
    for topic in topics:
        if topic not in known_topics:
            problems.append(f"unknown topic {topic[:40]!r} (the taxonomy's topics: {', '.join(known_topics)})")
        elif topic not in chosen:
            chosen.append(topic)
    if len(codes) > 20:
        problems.append("at most 20 countries")
    if problems:
        return CorrectionResult(None, tuple(problems))
    return CorrectionResult(
        Correction(
            relevant=relevant == "yes",
            countries=tuple(codes),
            topics=tuple(chosen),
            editor=_short(editor, 80),
            note=_short(note, 500),
        )
    )


def _day_after(day: date | None) -> datetime | None:
    """The exclusive upper bound for a "to" date: the next midnight (UTC); None for no day and for the last
    representable day, whose end no datetime can express (every item is before it anyway)."""
    if day is None or day >= date.max:
        return None
    return datetime.combine(day + timedelta(days=1), time(), UTC)


def _short(value: str | None, limit: int) -> str | None:
    """One line of at most ``limit`` characters, without control characters (see :func:`clean_text`)."""
    return clean_text(" ".join((clean_text(value) or "").split()), limit=limit)


__all__ = [
    "LAST_TO",
    "MAX_PAGE",
    "PAGE_SIZE",
    "Correction",
    "CorrectionResult",
    "Filters",
    "parse_correction",
    "parse_filters",
    "token_ok",
]
