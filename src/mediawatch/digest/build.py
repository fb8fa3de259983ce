"""The weekly digest as a value: numbers, ranked stories, topic and country sections, charts, source health.

Pure: everything comes in as typed values read by the store (:mod:`mediawatch.digest.run` does the reading).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from mediawatch.digest.charts import Chart, bar_chart, column_chart
from mediawatch.digest.names import country_name, topic_name, topic_order
from mediawatch.digest.summary import extract_summary
from mediawatch.digest.week import IsoWeek
from mediawatch.models import StoryId
from mediawatch.store.stories import SourceWeek, StoryRecord, WeekItem, WeekNumbers

TOP_STORIES = 10
SECTION_STORIES = 15  # stories listed per topic or country section
BOOKKEEPING_NOTES = frozenset({"handle", "channel_id"})  # a YouTube source's resolved ids: no reason to act


@dataclass(frozen=True, slots=True)
class Link:
    title: str
    url: str
    source: str
    language: str | None
    published: datetime
    author: str | None


@dataclass(frozen=True, slots=True)
class DigestStory:
    key: str  # story id, or "item-<id>" for a relevant item that is in no story yet
    anchor: str  # fragment id in the HTML page
    title: str
    summary: str
    language: str | None  # of the title and summary (the lead item's)
    url: str
    first_seen: datetime
    last_seen: datetime
    links: tuple[Link, ...]
    sources: tuple[str, ...]  # display names
    languages: tuple[str, ...]
    countries: tuple[str, ...]
    topics: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Section:
    code: str
    name: str
    items: int  # relevant items of the week with this tag
    stories: tuple[DigestStory, ...]
    more: int  # stories not listed


@dataclass(frozen=True, slots=True)
class SourceProblem:
    id: str
    name: str
    url: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    week: IsoWeek
    generated_at: datetime
    numbers: WeekNumbers
    previous: WeekNumbers
    top: tuple[DigestStory, ...]
    stories: int
    topics: tuple[Section, ...]
    countries: tuple[Section, ...]
    charts: tuple[Chart, ...]
    problems: tuple[SourceProblem, ...]
    sources_checked: int

    @property
    def empty(self) -> bool:
        return self.numbers.relevant == 0


def build_digest(
    week: IsoWeek,
    *,
    now: datetime,
    items: Sequence[WeekItem],
    members: Sequence[WeekItem],
    stories: Mapping[StoryId, StoryRecord] | Mapping[str, StoryRecord],
    previous: WeekNumbers,
    trend: Sequence[tuple[IsoWeek, int]],
    sources: Sequence[SourceWeek],
    source_names: Mapping[str, str] | None = None,
) -> Digest:
    """``items``: the week's items; ``members``: members of the week's stories published before the week's end."""
    names = _source_names(sources, source_names)
    relevant = [it for it in items if it.relevant and week.contains(it.published)]
    groups = _group(relevant, members)
    ranked = sorted((_story(key, group, stories, names) for key, group in groups.items()), key=_rank)
    ranked = [_with_anchor(s, i) for i, s in enumerate(ranked, 1)]
    country_items = Counter(c for it in relevant for c in dict.fromkeys(it.countries))
    topic_items = Counter(t for it in relevant for t in dict.fromkeys(it.topics))
    numbers = WeekNumbers(
        items=sum(1 for it in items if week.contains(it.published)),
        relevant=len(relevant),
        stories=len(ranked),
        sources=len({it.source_id for it in items if week.contains(it.published)}),
    )
    topics = tuple(
        _section(code, topic_name(code), topic_items[code], [s for s in ranked if code in s.topics])
        for code in sorted(topic_items, key=topic_order)
    )
    countries = tuple(
        _section(code, country_name(code), country_items[code], [s for s in ranked if code in s.countries])
        for code in sorted(country_items, key=lambda c: (-country_items[c], country_name(c), c))
    )
    charts: tuple[Chart, ...] = ()
    if relevant:
        charts = (
            bar_chart("countries", "Relevant items per country", [(s.name, s.items) for s in countries]),
            bar_chart("topics", "Relevant items per topic", [(s.name, s.items) for s in topics]),
            column_chart("trend", "Relevant items, last 8 weeks", [(f"W{w.week:02d}", n) for w, n in trend]),
        )
    return Digest(
        week=week,
        generated_at=now,
        numbers=numbers,
        previous=previous,
        top=tuple(ranked[:TOP_STORIES]),
        stories=len(ranked),
        topics=topics,
        countries=countries,
        charts=charts,
        problems=tuple(
            source_problems(
                sources, names, published={it.source_id for it in items if week.contains(it.published)}
            )
        ),
        sources_checked=sum(1 for s in sources if s.enabled),
    )


def source_problems(
    sources: Sequence[SourceWeek], names: Mapping[str, str], *, published: Collection[str] = ()
) -> list[SourceProblem]:
    """Enabled sources that are failing or brought nothing this week, failing ones first.

    ``published``: sources with items published in the week. Such a source is not silent even when those items
    were collected after the week (a digest written for an earlier week, a source added and read late)."""
    out: list[tuple[int, SourceProblem]] = []
    for s in sources:
        if not s.enabled or not s.in_file:
            continue
        reasons: list[str] = []
        failing = s.consecutive_failures > 0
        if failing:
            status = f" (HTTP {s.last_status})" if s.last_status else ""
            plural = "s" if s.consecutive_failures != 1 else ""
            reasons.append(f"failing: {s.consecutive_failures} failed attempt{plural} in a row{status}")
            if s.last_error:
                reasons.append(f"last error: {_oneline(s.last_error)}")
            reasons.append(f"last success: {_day(s.last_success)}")
        if s.items == 0 and s.id not in published:
            reasons.append(f"no items this week (last new item: {_day(s.last_new_item)})")
        if not reasons:
            continue
        reasons += [f"{k}: {_oneline(v)}" for k, v in sorted(s.notes.items()) if k not in BOOKKEEPING_NOTES]
        out.append((0 if failing else 1, SourceProblem(s.id, names.get(s.id, s.id), s.url, tuple(reasons))))
    out.sort(key=lambda p: (p[0], p[1].id))
    return [p for _, p in out]


def _source_names(sources: Sequence[SourceWeek], given: Mapping[str, str] | None) -> dict[str, str]:
    names: dict[str, str] = {s.id: (s.name or s.id) for s in sources}
    names.update(given or {})
    return names


def _group(relevant: Sequence[WeekItem], members: Sequence[WeekItem]) -> dict[str, list[WeekItem]]:
    """Relevant items by story; a story's group is its relevant members published before the week's end
    (a story can gather an item the tagger or an editor judged not relevant: editors do not see it here)."""
    by_story: dict[str, list[WeekItem]] = {}
    for m in members:
        if m.story_id is not None and m.relevant:
            by_story.setdefault(m.story_id, []).append(m)
    groups: dict[str, list[WeekItem]] = {}
    for it in relevant:
        if it.story_id is None:
            groups[f"item-{it.id}"] = [it]
        elif it.story_id not in groups:
            group = by_story.get(it.story_id) or [it]
            if all(m.id != it.id for m in group):
                group = [*group, it]
            groups[it.story_id] = sorted(group, key=lambda m: (m.published, m.id))
    return groups


def _story(
    key: str, group: list[WeekItem], records: Mapping[Any, StoryRecord], names: Mapping[str, str]
) -> DigestStory:
    record = records.get(key)
    lead = next((m for m in group if record is not None and m.id == record.lead_item_id), None)
    if lead is None:
        lead = min(group, key=lambda m: (-(m.similarity if m.similarity is not None else 1.0), m.published, m.id))
    tagged = [m for m in group if m.relevant] or group
    countries = _by_frequency(c for m in tagged for c in dict.fromkeys(m.countries))
    topics = tuple(sorted(_by_frequency(t for m in tagged for t in dict.fromkeys(m.topics)), key=topic_order))
    links = tuple(
        Link(m.title, m.url, names.get(m.source_id, m.source_id), m.language, m.published, m.author) for m in group
    )
    return DigestStory(
        key=key,
        anchor="",
        title=lead.title,
        summary=extract_summary(lead.title, lead.summary, lead.text),
        language=lead.language,
        url=lead.url,
        first_seen=group[0].published,
        last_seen=group[-1].published,
        links=links,
        sources=tuple(sorted({ln.source for ln in links})),
        languages=tuple(sorted({m.language for m in group if m.language})),
        countries=countries,
        topics=topics,
    )


def _by_frequency(values: object) -> tuple[str, ...]:
    counts = Counter(values)  # type: ignore[call-overload]
    return tuple(sorted(counts, key=lambda v: (-counts[v], v)))


def _rank(s: DigestStory) -> tuple[int, int, float, str]:
    """More distinct sources, then more languages, then the most recent, then the key (stable)."""
    return (-len(s.sources), -len(s.languages), -s.last_seen.timestamp(), s.key)


def _with_anchor(s: DigestStory, n: int) -> DigestStory:
    return replace(s, anchor=f"story-{n}")


def _section(code: str, name: str, items: int, stories: list[DigestStory]) -> Section:
    return Section(code, name, items, tuple(stories[:SECTION_STORIES]), max(0, len(stories) - SECTION_STORIES))


def _oneline(text: str, limit: int = 240) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def change(current: int, previous: int) -> str:
    """'+3 (+25%)', '−2 (−10%)', 'no change', '+5 (new)'."""
    diff = current - previous
    if diff == 0:
        return "no change"
    sign = "+" if diff > 0 else "−"
    if previous == 0:
        return f"{sign}{abs(diff)} (new)"
    return f"{sign}{abs(diff)} ({sign}{round(abs(diff) * 100 / previous)}%)"


__all__ = ["Digest", "DigestStory", "Link", "Section", "SourceProblem", "build_digest", "change", "source_problems"]
