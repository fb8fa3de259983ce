"""Parsing times given on the command line."""

from __future__ import annotations

from datetime import UTC, date, datetime


def parse_iso_cli(value: str, option: str) -> datetime:
    """``2025-11-03``, ``2025-11-03T10:00``, ``2025-11-03T10:00:00+05:00`` or ``…Z`` -> aware UTC datetime."""
    text = value.strip()
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{option}: {value!r} is not an ISO 8601 date or datetime (e.g. 2025-11-03 or 2025-11-03T10:00Z)") from None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
