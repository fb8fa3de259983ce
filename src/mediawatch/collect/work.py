"""CPU-bound collection steps as plain top-level functions, so a process pool can run them.

Parsing a feed, normalising its entries and extracting an article's main text cost milliseconds to tens
of milliseconds of CPU each; run in worker processes they use every core and keep the event loop that
drives the HTTP requests responsive. Each function takes and returns picklable values only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache

from mediawatch.models import Item, RawEntry, SourceKind
from mediawatch.normalize import Skipped, language_tag, normalize


@dataclass(frozen=True, slots=True)
class Parsed:
    items: tuple[Item, ...]
    skipped: tuple[Skipped, ...]
    warning: str | None = None
    channel_id: str | None = None


@lru_cache(maxsize=1)
def _detector():  # type: ignore[no-untyped-def]
    from mediawatch.classify.lang import LanguageDetector

    return LanguageDetector()


def detect_language(text: str) -> str | None:
    guess = _detector().detect(text)
    return None if guess.lang == "und" else guess.lang


def normalize_entries(entries: tuple[RawEntry, ...] | list[RawEntry], fetched: datetime, language: str | None) -> Parsed:
    """RawEntry -> Item (or Skipped). The entry's (or feed's) declared language is kept unless it is one written
    in a single script that the text is not in (a template's ``en-US`` on a Kazakh feed); then, or when none
    is declared, the source's language stands in, else the text's language is detected."""
    from mediawatch.classify.lang import contradicts_script

    items: list[Item] = []
    skipped: list[Skipped] = []
    for raw in entries:
        if not raw.language and language:
            raw = replace(raw, language=language)
        out = normalize(raw, fetched=fetched)
        if isinstance(out, Skipped):
            skipped.append(out)
            continue
        if raw.language != language and contradicts_script(out.language, f"{out.title} {out.summary}"):
            out = replace(out, language=language_tag(language))
        if not out.language:
            out = replace(out, language=detect_language(f"{out.title}. {out.summary or out.text[:500]}"))
        items.append(out)
    return Parsed(tuple(items), tuple(skipped))


def parse_items(
    kind: SourceKind,
    body: bytes,
    *,
    source_id: str,
    url: str,
    headers: Mapping[str, str],
    fetched: datetime,
    language: str | None,
    timezone: str | None = None,
) -> Parsed:
    """A feed body (rss or youtube kind) -> normalised items. Raises ParseError for a body that is no feed.
    ``timezone``: the source's, for entry times written without an offset."""
    from mediawatch.collect import feeds, youtube

    if kind is SourceKind.YOUTUBE:
        parsed = youtube.parse_youtube(body, source_id=source_id, url=url, headers=dict(headers))
    else:
        parsed = feeds.parse_feed(body, source_id=source_id, url=url, headers=dict(headers), timezone=timezone)
    out = normalize_entries(parsed.entries, fetched, language)
    return replace(out, warning=parsed.warning, channel_id=parsed.channel_id)


def article_item(
    body: bytes, *, url: str, source_id: str, encoding: str | None, fetched: datetime, language: str | None,
    timezone: str | None = None,
) -> Parsed:
    """An article page -> one normalised item. Raises ParseError when the page has no article text."""
    from mediawatch.collect.pages import extract_article

    raw = extract_article(body, url=url, source_id=source_id, encoding=encoding, language=language, now=fetched,
                          timezone=timezone)
    return normalize_entries([raw], fetched, language)
