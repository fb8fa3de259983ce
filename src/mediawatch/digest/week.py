"""ISO weeks in the editors' time zone: a digest covers Monday 00:00 local up to (not including) the next
Monday 00:00 local, as UTC instants for queries.

The zone is ``Settings.digest_timezone`` (default UTC, where a week is exactly 168 hours). Elsewhere a week
that contains a daylight-saving change lasts 167 or 169 hours: ``end`` is the next week's ``start``, never
``start + 7 days``. The week's name (``2024-W10``) does not carry the zone; files and the store use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_WEEK = re.compile(r"^(\d{4})-?W(\d{2})\Z")


@cache
def zone(name: str) -> tzinfo:
    """The IANA zone ``name`` (``UTC`` is :data:`datetime.UTC`); a ValueError names an unknown zone."""
    if name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (expected an IANA name such as Asia/Almaty)") from exc


@dataclass(frozen=True, slots=True, order=True)
class IsoWeek:
    year: int
    week: int
    tz: str = field(default="UTC")  # IANA name of the zone whose Mondays bound the week

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9999:
            raise ValueError(f"{self.year:04d} has no ISO weeks (years run from 0001 to 9999)")
        if not 1 <= self.week <= _weeks_in(self.year):
            raise ValueError(f"{self.year} has no ISO week {self.week} (it has {_weeks_in(self.year)})")
        zone(self.tz)

    @classmethod
    def parse(cls, text: str, tz: str = "UTC") -> IsoWeek:
        """``2025-W03`` (or ``2025W03``); a ValueError names what is wrong."""
        m = _WEEK.match(text.strip())
        if not m:
            raise ValueError(f"not an ISO week: {text!r} (expected YYYY-Www, e.g. 2025-W03)")
        return cls(int(m.group(1)), int(m.group(2)), tz)

    @classmethod
    def of(cls, moment: datetime, tz: str = "UTC") -> IsoWeek:
        """The week (Monday to Monday in ``tz``) that contains ``moment`` (an aware datetime)."""
        if moment.tzinfo is None:
            raise ValueError(f"naive datetime {moment!r}: use timezone-aware UTC")
        year, week, _ = moment.astimezone(zone(tz)).isocalendar()
        found = cls(year, week, tz)
        # A clock set back across Monday 00:00 shows Sunday again for an hour: the boundaries decide.
        if moment < found.start:
            return found.shift(-1)
        if moment >= found.end:
            return found.shift(1)
        return found

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def start(self) -> datetime:
        """Monday 00:00 in ``tz`` as a UTC instant (in a skipped hour: the instant the clock jumped)."""
        return _midnight(self.monday, self.tz)

    @property
    def end(self) -> datetime:
        """The next week's start (167, 168 or 169 hours after ``start``)."""
        return _midnight(self.monday + timedelta(days=7), self.tz)

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(zone(self.tz))

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(zone(self.tz))

    def shift(self, weeks: int) -> IsoWeek:
        year, week, _ = (self.monday + timedelta(weeks=weeks)).isocalendar()
        return IsoWeek(year, week, self.tz)

    def previous(self) -> IsoWeek:
        return self.shift(-1)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def require_started(self, now: datetime) -> None:
        """A ValueError when the week has not begun by ``now``: its digest could only say that nothing happened
        (and blame every source). The message names the week and when it starts."""
        if now < self.start:
            local = self.local_start.strftime("%Y-%m-%d %H:%M")
            utc = "" if self.tz == "UTC" else f" ({self.start.strftime('%Y-%m-%d %H:%M')} UTC)"
            raise ValueError(
                f"{self} has not started yet: it starts on {local} {self.tz}{utc}; "
                f"choose the current week ({IsoWeek.of(now, self.tz)}, digested so far) or an earlier one"
            )

    def require_history(self, weeks: int) -> None:
        """A ValueError when the ``weeks`` weeks before this one (and their bounds) cannot be represented: they
        would begin before 0001-01-01, where a digest's comparison with the previous week and its trend chart
        cannot reach (``0001-W01``)."""
        try:
            self.shift(-weeks).start
        except (OverflowError, ValueError):
            raise ValueError(
                f"{self} is too early: a digest compares the week with the {weeks} weeks before it, and those "
                f"would begin before the year 1"
            ) from None

    def is_partial(self, now: datetime) -> bool:
        """True while the week is under way at ``now`` (started, not ended): its digest covers it so far."""
        return self.start <= now < self.end

    def __str__(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"


def last_complete_week(now: datetime, tz: str = "UTC") -> IsoWeek:
    """The newest ISO week in ``tz`` that has ended by ``now`` (the week before the one ``now`` is in)."""
    return IsoWeek.of(now, tz).previous()


def _midnight(day: date, tz: str) -> datetime:
    # fold=0: an ambiguous midnight is its first occurrence; a skipped one maps to the moment of the jump
    return datetime.combine(day, time(0), tzinfo=zone(tz)).astimezone(UTC)


def _weeks_in(year: int) -> int:
    return date(year, 12, 28).isocalendar()[1]


__all__ = ["IsoWeek", "last_complete_week", "zone"]
