"""ISO weeks in UTC: a digest covers Monday 00:00 UTC up to (not including) the next Monday 00:00 UTC."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$")


@dataclass(frozen=True, slots=True, order=True)
class IsoWeek:
    year: int
    week: int

    def __post_init__(self) -> None:
        if not 1 <= self.week <= _weeks_in(self.year):
            raise ValueError(f"{self.year} has no ISO week {self.week} (it has {_weeks_in(self.year)})")

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """``2025-W03`` (or ``2025W03``); a ValueError names what is wrong."""
        m = _WEEK.match(text.strip())
        if not m:
            raise ValueError(f"not an ISO week: {text!r} (expected YYYY-Www, e.g. 2025-W03)")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, moment: datetime) -> IsoWeek:
        """The week that contains ``moment`` (an aware datetime, read in UTC)."""
        if moment.tzinfo is None:
            raise ValueError(f"naive datetime {moment!r}: use timezone-aware UTC")
        year, week, _ = moment.astimezone(UTC).isocalendar()
        return cls(year, week)

    @property
    def start(self) -> datetime:
        return datetime.combine(date.fromisocalendar(self.year, self.week, 1), time(0), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=7)

    def shift(self, weeks: int) -> IsoWeek:
        return IsoWeek.of(self.start + timedelta(weeks=weeks))

    def previous(self) -> IsoWeek:
        return self.shift(-1)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def __str__(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"


def last_complete_week(now: datetime) -> IsoWeek:
    """The newest ISO week that has ended by ``now`` (the week before the one ``now`` is in)."""
    return IsoWeek.of(now).previous()


def _weeks_in(year: int) -> int:
    return date(year, 12, 28).isocalendar()[1]


__all__ = ["IsoWeek", "last_complete_week"]
