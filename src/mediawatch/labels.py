"""Editors' corrections: validated once, here, for the command line and the web form alike
(the form only parses its fields; these rules decide)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from mediawatch.codes import is_country
from mediawatch.digest.names import TOPICS
from mediawatch.errors import ConfigError
from mediawatch.models import ItemId
from mediawatch.store.tags import Label


def make_label(
    item_id: str,
    relevant: bool | None,
    countries: Iterable[str],
    topics: Iterable[str],
    *,
    editor: str | None,
    note: str | None,
    now: datetime,
) -> Label:
    """A checked Label: relevance is required; countries and topics only for relevant items."""
    countries = tuple(dict.fromkeys(c.strip().upper() for c in countries if c.strip()))
    topics = tuple(dict.fromkeys(t.strip().lower() for t in topics if t.strip()))
    problems = []
    if relevant is None:
        problems.append("say whether the item is relevant (--relevant or --not-relevant)")
    if bad := [c for c in countries if not is_country(c)]:
        problems.append(f"not ISO 3166-1 alpha-2 country codes: {', '.join(bad)}")
    if bad := [t for t in topics if t not in TOPICS]:
        problems.append(f"unknown topics: {', '.join(bad)} (known: {', '.join(TOPICS)})")
    if relevant is False and (countries or topics):
        problems.append("an item that is not relevant takes no countries or topics")
    if problems:
        raise ConfigError("invalid correction", [f"label {item_id}: {p}" for p in problems])
    return Label(ItemId(item_id), bool(relevant), countries, topics, editor, note, now)
