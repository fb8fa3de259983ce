"""mediawatch.schedule: back-off and server hints (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediawatch.schedule import MAX_INTERVAL, next_check, parse_max_age, parse_retry_after

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, 1 * HOUR), (1, 2 * HOUR), (2, 4 * HOUR), (4, 16 * HOUR), (5, 24 * HOUR), (10_000, 24 * HOUR)],
)
def test_backoff_doubles_per_failure_and_caps_at_a_day(failures: int, expected: timedelta) -> None:
    assert next_check(NOW, HOUR, failures=failures) == NOW + expected


def test_backoff_never_goes_below_the_interval() -> None:
    every = timedelta(hours=48)
    assert next_check(NOW, every, failures=0) == NOW + every
    assert next_check(NOW, every, failures=3) == NOW + every  # the 24 h cap does not shorten a 48 h interval


def test_short_interval_backoff() -> None:
    every = timedelta(minutes=15)
    assert next_check(NOW, every, failures=3) == NOW + timedelta(hours=2)


def test_retry_after_later_than_backoff_wins() -> None:
    assert next_check(NOW, HOUR, failures=1, retry_after=3 * 3600) == NOW + 3 * HOUR


def test_retry_after_earlier_than_backoff_is_ignored() -> None:
    assert next_check(NOW, HOUR, failures=2, retry_after=60) == NOW + 4 * HOUR
    assert next_check(NOW, HOUR, failures=0, retry_after=60) == NOW + HOUR


def test_max_age_pushes_a_healthy_source_back() -> None:
    assert next_check(NOW, timedelta(minutes=15), failures=0, max_age=7200) == NOW + 2 * HOUR
    assert next_check(NOW, timedelta(minutes=15), failures=0, max_age=60) == NOW + timedelta(minutes=15)


def test_the_later_hint_wins() -> None:
    assert next_check(NOW, HOUR, failures=0, retry_after=7200, max_age=10800) == NOW + 3 * HOUR
    assert next_check(NOW, HOUR, failures=0, retry_after=10800, max_age=7200) == NOW + 3 * HOUR


def test_hints_are_capped_and_non_positive_hints_ignored() -> None:
    assert next_check(NOW, HOUR, failures=0, retry_after=30 * 86400) == NOW + MAX_INTERVAL
    # an absurd header cannot overflow the arithmetic
    assert next_check(NOW, HOUR, failures=0, max_age=1e300) == NOW + MAX_INTERVAL
    assert next_check(NOW, HOUR, failures=0, retry_after=0, max_age=-5) == NOW + HOUR


def test_invalid_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="interval"):
        next_check(NOW, timedelta(0), failures=0)
    with pytest.raises(ValueError, match="failures"):
        next_check(NOW, HOUR, failures=-1)


@given(
    every_s=st.integers(min_value=1, max_value=7 * 86400),
    failures=st.integers(min_value=0, max_value=200),
    retry_after=st.none() | st.floats(min_value=-100, max_value=1e300, allow_nan=False),
    max_age=st.none() | st.floats(min_value=-100, max_value=1e300, allow_nan=False),
)
def test_next_check_is_always_within_bounds(
    every_s: int, failures: int, retry_after: float | None, max_age: float | None
) -> None:
    every = timedelta(seconds=every_s)
    when = next_check(NOW, every, failures=failures, retry_after=retry_after, max_age=max_age)
    assert NOW + every <= when <= NOW + max(every, MAX_INTERVAL)
    # more failures never bring the next check closer
    assert next_check(NOW, every, failures=failures + 1, retry_after=retry_after, max_age=max_age) >= when


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("0", 0.0),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_parse_retry_after_http_date() -> None:
    assert parse_retry_after(format_datetime(NOW + timedelta(seconds=90), usegmt=True), NOW) == 90.0
    assert parse_retry_after("Sat, 01 Mar 2025 12:02:00 GMT", NOW) == 120.0
    assert parse_retry_after("Sat, 01 Mar 2025 11:00:00 GMT", NOW) == 0.0  # already past
    assert parse_retry_after("Sat, 01 Mar 2025 12:02:00 GMT", NOW.replace(tzinfo=None)) == 120.0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("max-age=300", 300.0),
        ("public, max-age=600, must-revalidate", 600.0),
        ("MAX-AGE = 60", 60.0),
        ('max-age="30"', 30.0),
        ("max-age=0", 0.0),
        ("s-maxage=100", None),
        ("s-maxage=100, max-age=20", 20.0),
        ("no-cache, max-age=60", None),
        ("max-age=60, no-store", None),
        ("max-age=abc", None),
        ("private", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_max_age(header: str | None, expected: float | None) -> None:
    assert parse_max_age(header) == expected
