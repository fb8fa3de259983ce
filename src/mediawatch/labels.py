"""Editors' corrections: validated once, here, for the command line and the web form alike
(the form only parses its fields; these rules decide).

Topics are checked against the *active* taxonomy (the packaged one merged with the operator's override file,
``Settings.taxonomy``), so a topic an operator added can be used in a correction as soon as it can be predicted.
Free text an editor gives (name, note) loses control characters here: no NUL or other C0 control (tab and
newline excepted) ever reaches the store; PostgreSQL refuses NUL in text.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import datetime
from functools import cache
from pathlib import Path

from mediawatch.codes import is_country
from mediawatch.errors import ConfigError
from mediawatch.models import ItemId
from mediawatch.store.tags import Label

# C0 controls but tab and newline, and DEL. Carriage returns are turned into newlines first.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Lone surrogates (from undecodable command-line bytes) cannot be encoded as UTF-8 by any database driver.
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def clean_text(value: str | None, *, limit: int | None = None) -> str | None:
    """``value`` without control characters (tab and newline kept; CR and CRLF become newlines; lone surrogates
    become U+FFFD), stripped and cut to ``limit`` characters; None when nothing is left."""
    if value is None:
        return None
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = _SURROGATES.sub("\ufffd", _CONTROLS.sub("", text)).strip()
    if limit is not None:
        text = text[:limit].rstrip()
    return text or None


def active_topics(taxonomy_file: Path | None) -> tuple[str, ...]:
    """The topic ids of the active taxonomy: the packaged one merged with ``taxonomy_file`` (the operator's
    override, ``Settings.taxonomy``) when given. A broken override file is a ConfigError naming it."""
    if taxonomy_file is None:
        return _packaged_topics()
    from mediawatch.classify.taxonomy import load_topics

    return tuple(t.id for t in load_topics(taxonomy_file))


@cache
def _packaged_topics() -> tuple[str, ...]:
    """The packaged taxonomy's topic ids (package data: read once per process)."""
    from mediawatch.classify.taxonomy import load_topics

    return tuple(t.id for t in load_topics(None))


HOME_COUNTRY = "KZ"
HOME_PROBLEM = "KZ is Kazakhstan itself: countries are where a community abroad lives (the tagger never gives KZ)"


def country_problems(codes: Collection[str]) -> list[str]:
    """What is wrong with a correction's (upper-case) country codes: the rules `label` and the web form share."""
    problems = []
    if bad := [c for c in codes if not is_country(c)]:
        problems.append(f"not ISO 3166-1 alpha-2 country codes: {', '.join(_shown(c) for c in bad)}")
    if HOME_COUNTRY in codes:
        problems.append(HOME_PROBLEM)
    return problems


def make_label(
    item_id: str,
    relevant: bool | None,
    countries: Iterable[str],
    topics: Iterable[str],
    *,
    editor: str | None,
    note: str | None,
    now: datetime,
    known_topics: Collection[str] | None = None,
) -> Label:
    """A checked Label: relevance is required; countries and topics only for relevant items.

    ``known_topics`` are the valid topic ids, normally :func:`active_topics` of the running settings; None
    means the packaged taxonomy's. A relevant label without topics says nothing about topics (it is not a
    negative example for any topic when the heads are trained).
    """
    valid = tuple(known_topics) if known_topics is not None else active_topics(None)
    countries = tuple(dict.fromkeys(c.strip().upper() for c in countries if c.strip()))
    by_folded = {t.lower(): t for t in valid}  # ids are matched case-insensitively, stored as the taxonomy has them
    topics = tuple(dict.fromkeys(by_folded.get(t.strip().lower(), t.strip()) for t in topics if t.strip()))
    problems = []
    if relevant is None:
        problems.append("say whether the item is relevant (--relevant or --not-relevant)")
    problems += country_problems(countries)
    if bad := [t for t in topics if t not in valid]:
        problems.append(
            f"unknown topics: {', '.join(_shown(t) for t in bad)} "
            f"(the taxonomy's topics: {', '.join(valid)})"
        )
    if relevant is False and (countries or topics):
        problems.append("an item that is not relevant takes no countries or topics")
    if problems:
        raise ConfigError("invalid correction", [f"label {item_id}: {p}" for p in problems])
    return Label(
        ItemId(item_id), bool(relevant), countries, topics, clean_text(editor), clean_text(note), now
    )


def _shown(value: str) -> str:
    """A rejected value as it goes into an error message: control characters made visible, length capped."""
    text = value if len(value) <= 40 else value[:39] + "…"
    return text if text.isprintable() else repr(text)


__all__ = ["active_topics", "clean_text", "make_label"]
