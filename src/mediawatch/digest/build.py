"""The weekly digest as a value: numbers, ranked stories, topic and country sections, charts, source health.

Pure: everything comes in as typed values read by the store (:mod:`mediawatch.digest.run` does the reading).
Outside text loses its directional controls here (titles, summaries, authors, source names, error messages:
collection removes them, but items stored before it did keep theirs), so the HTML and the Markdown digest show
the same text; a title, a summary and an author are shown as every output shows them
(:func:`mediawatch.normalize.display_text`).

A section (a topic or a country) lists the stories that carry its tag and counts what it lists: its stories and
their members that carry the tag and were published in the week (a story's other members, and those of earlier
weeks, are shown with it but not counted). Under a section a story links to its lead, or, when the lead does not
carry the section's tag, to the first member that does.

The week under way (``now`` inside it) gives a partial digest: ``until`` is ``now``, the previous week's numbers
cover the same span of that week (the caller reads them so), and silent sources are "silent so far".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from mediawatch.digest.charts import Chart, bar_chart, column_chart
from mediawatch.digest.names import country_name, topic_name, topic_order
from mediawatch.digest.summary import extract_summary
from mediawatch.digest.week import IsoWeek
from mediawatch.models import StoryId
from mediawatch.normalize import display_text
from mediawatch.store.stories import SourceWeek, StoryRecord, WeekItem, WeekNumbers
from mediawatch.wording import shorten, without_bidi_controls

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
    countries: tuple[str, ...] = ()  # the member's own (effective) tags
    topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoryWhy:
    """Why a story carries its tags, from its members' evidence: the model's relevance of each member it
    tagged, how many members an editor marked, the names behind each country and each topic's best score."""

    relevance: tuple[float, ...] = ()
    editors: int = 0
    countries: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (code, matched names: the gazetteer's spelling)
    topics: tuple[tuple[str, float | None], ...] = ()  # (topic, best member score; None: from an editor only)


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
    lead: int = 0  # index of the lead member in ``links``
    why: StoryWhy = StoryWhy()


@dataclass(frozen=True, slots=True)
class SectionStory:
    """A story as a section lists it: linked through a member that carries the section's tag."""

    story: DigestStory
    title: str
    url: str
    language: str | None
    tagged: int  # members of the story that carry the section's tag

    @property
    def members(self) -> int:
        return len(self.story.links)


@dataclass(frozen=True, slots=True)
class Section:
    code: str
    name: str
    items: int  # members of the section's stories (listed or not) that carry the tag, published in the week
    story_count: int  # stories with the tag (listed or not)
    stories: tuple[SectionStory, ...]
    more: int  # stories not listed
    more_items: int  # tagged members of the stories not listed, published in the week


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
    sources_added_later: int = 0  # enabled sources registered after the week's end (not checked for it)
    until: datetime | None = None  # a week under way: the digest covers it up to this moment
    previous_until: datetime | None = None  # ... and compares with the previous week up to this moment

    @property
    def empty(self) -> bool:
        return self.numbers.relevant == 0

    @property
    def partial(self) -> bool:
        return self.until is not None


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
    """``items``: the week's items; ``members``: members of the week's stories published before the week's end.

    For the week under way at ``now``, ``previous`` must hold the previous week's numbers up to
    :func:`previous_span_end` (the same span of that week), not the whole week."""
    names = _source_names(sources, source_names)
    partial = week.is_partial(now)
    published = {it.source_id for it in items if week.contains(it.published)}
    relevant = [it for it in items if it.relevant and week.contains(it.published)]
    groups = _group(relevant, members)
    ranked = sorted((_story(key, group, stories, names) for key, group in groups.items()), key=_rank)
    ranked = [_with_anchor(s, i) for i, s in enumerate(ranked, 1)]
    numbers = WeekNumbers(
        items=sum(1 for it in items if week.contains(it.published)),
        relevant=len(relevant),
        stories=len(ranked),
        sources=len(published),
    )
    topic_codes = dict.fromkeys(t for s in ranked for t in s.topics)
    topics = tuple(
        sorted(
            (_section(code, topic_name(code), ranked, "topics", week.contains) for code in topic_codes),
            key=lambda sec: topic_order(sec.code),
        )
    )
    country_codes = dict.fromkeys(c for s in ranked for c in s.countries)
    countries = tuple(
        sorted(
            (_section(code, country_name(code), ranked, "countries", week.contains) for code in country_codes),
            key=lambda sec: (-sec.items, sec.name, sec.code),
        )
    )
    charts: tuple[Chart, ...] = ()
    if relevant:
        charts = (
            bar_chart("countries", CHART_TITLES["countries"], [(s.name, s.items) for s in countries]),
            bar_chart("topics", CHART_TITLES["topics"], [(s.name, s.items) for s in topics]),
            column_chart(
                "trend",
                CHART_TITLES["trend"] + (" (this week so far)" if partial else ""),
                [(f"W{w.week:02d}", n) for w, n in trend],
            ),
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
                sources,
                names,
                published=published,
                week=week,
                partial=partial,
            )
        ),
        sources_checked=sum(1 for s in sources if s.enabled and _existed(s, week, published)),
        sources_added_later=sum(1 for s in sources if s.enabled and not _existed(s, week, published)),
        until=now if partial else None,
        previous_until=previous_span_end(week, now) if partial else None,
    )


CHART_TITLES = {
    "countries": "Relevant items per country",
    "topics": "Relevant items per topic",
    "trend": "Relevant items, last 8 weeks",
}


def previous_span_end(week: IsoWeek, now: datetime) -> datetime:
    """The end of the previous week's span to compare with: its end, or for the week under way at ``now`` the
    moment as far into the previous week as ``now`` is into this one."""
    previous = week.previous()
    if not week.is_partial(now):
        return previous.end
    return min(previous.end, previous.start + (now - week.start))


def source_problems(
    sources: Sequence[SourceWeek],
    names: Mapping[str, str],
    *,
    published: Collection[str] = (),
    week: IsoWeek | None = None,
    partial: bool = False,
) -> list[SourceProblem]:
    """Enabled sources that are failing or brought nothing this week, failing ones first.

    ``published``: sources with items published in the week. Such a source is not silent even when those items
    were collected after the week (a digest written for an earlier week, a source added and read late).
    ``week``: sources registered after its end are left out (they were not watched yet) unless they brought items
    of the week, and one registered during it is silent only since then. ``partial``: the week is under way, so "no items" means "so far"."""
    out: list[tuple[int, SourceProblem]] = []
    for s in sources:
        if not s.enabled or not s.in_file or (week is not None and not _existed(s, week, published)):
            continue
        reasons: list[str] = []
        failing = s.consecutive_failures > 0
        if failing:
            # the status only where the last error does not already say it ("HTTP 404" twice)
            said = s.last_status and s.last_error and f"HTTP {s.last_status}" in s.last_error
            status = f" (HTTP {s.last_status})" if s.last_status and not said else ""
            plural = "s" if s.consecutive_failures != 1 else ""
            reasons.append(f"failing: {s.consecutive_failures} failed attempt{plural} in a row{status}")
            if s.last_error:
                reasons.append(f"last error: {_oneline(s.last_error)}")
            reasons.append(f"last success: {_day(s.last_success)}")
        if s.items == 0 and s.id not in published:
            since = ""
            if week is not None and s.added_at is not None and s.added_at > week.start:
                since = f" since it was added on {_day(s.added_at)}"
            when = "so far this week" if partial else "this week"
            reasons.append(f"no items {when}{since} (last new item: {_day(s.last_new_item)})")
        if not reasons:
            continue
        reasons += [f"{k}: {_oneline(v)}" for k, v in sorted(s.notes.items()) if k not in BOOKKEEPING_NOTES]
        out.append((0 if failing else 1, SourceProblem(s.id, names.get(s.id, s.id), s.url, tuple(reasons))))
    out.sort(key=lambda p: (p[0], p[1].id))
    return [p for _, p in out]


def _existed(s: SourceWeek, week: IsoWeek, published: Collection[str]) -> bool:
    """Whether the source counts for the week: registered before its end (a source without a date is given the
    benefit), or, registered later, it brought items of the week anyway (its first run read them back)."""
    return s.added_at is None or s.added_at < week.end or s.items > 0 or s.id in published


def _source_names(sources: Sequence[SourceWeek], given: Mapping[str, str] | None) -> dict[str, str]:
    names: dict[str, str] = {s.id: (s.name or s.id) for s in sources}
    names.update(given or {})
    return {k: without_bidi_controls(v) for k, v in names.items()}


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
        Link(
            display_text(m.title),
            m.url,
            names.get(m.source_id, m.source_id),
            m.language,
            m.published,
            display_text(m.author) or None,
            tuple(dict.fromkeys(m.countries)),
            tuple(dict.fromkeys(m.topics)),
        )
        for m in group
    )
    title = links[group.index(lead)].title
    return DigestStory(
        key=key,
        anchor="",
        title=title,
        summary=without_bidi_controls(extract_summary(title, display_text(lead.summary), lead.text)),
        language=lead.language,
        url=lead.url,
        first_seen=group[0].published,
        last_seen=group[-1].published,
        links=links,
        sources=tuple(sorted({ln.source for ln in links})),
        languages=tuple(sorted({m.language for m in group if m.language})),
        countries=countries,
        topics=topics,
        lead=group.index(lead),
        why=_story_why(tagged, countries, topics),
    )


MAX_WHY_NAMES = 4  # matched names shown per country


def _story_why(tagged: Sequence[WeekItem], countries: tuple[str, ...], topics: tuple[str, ...]) -> StoryWhy:
    model = [m for m in tagged if not m.labeled]
    names: dict[str, list[str]] = {code: [] for code in countries}
    best: dict[str, float | None] = dict.fromkeys(topics)
    for m in model:
        if m.why is None:
            continue
        for code in m.countries:
            if code in names:
                names[code].extend(m.why.support(code))
        for topic in m.topics:
            score = m.why.score(topic)
            if topic in best and score is not None:
                best[topic] = max(score, best[topic] or 0.0)
    return StoryWhy(
        relevance=tuple(sorted(m.relevance for m in model if m.relevance is not None)),
        editors=sum(m.labeled for m in tagged),
        countries=tuple((code, tuple(dict.fromkeys(names[code]))[:MAX_WHY_NAMES]) for code in countries),
        topics=tuple(best.items()),
    )


def _by_frequency(values: object) -> tuple[str, ...]:
    counts = Counter(values)  # type: ignore[call-overload]
    return tuple(sorted(counts, key=lambda v: (-counts[v], v)))


def _rank(s: DigestStory) -> tuple[int, int, float, str]:
    """More distinct sources, then more languages, then the most recent, then the key (stable)."""
    return (-len(s.sources), -len(s.languages), -s.last_seen.timestamp(), s.key)


def _with_anchor(s: DigestStory, n: int) -> DigestStory:
    return replace(s, anchor=f"story-{n}")


def _section(code: str, name: str, ranked: Sequence[DigestStory], kind: Literal["countries", "topics"],
             in_week: Callable[[datetime], bool]) -> Section:
    """The stories (in rank order) with a member that carries the tag, each linked through such a member.
    The section's item counts (its heading, the "more" line, the charts) are the tagged members published in
    the week: a story that began the week before lists its earlier members, but they are last week's items."""

    def carries(link: Link) -> bool:
        return code in (link.countries if kind == "countries" else link.topics)

    entries = [e for s in ranked if (e := _section_story(s, carries)) is not None]
    listed, rest = entries[:SECTION_STORIES], entries[SECTION_STORIES:]

    def this_week(group: Sequence[SectionStory]) -> int:
        return sum(1 for e in group for ln in e.story.links if carries(ln) and in_week(ln.published))

    return Section(
        code=code,
        name=name,
        items=this_week(entries),
        story_count=len(entries),
        stories=tuple(listed),
        more=len(rest),
        more_items=this_week(rest),
    )


def _section_story(story: DigestStory, carries: Callable[[Link], bool]) -> SectionStory | None:
    tagged = [ln for ln in story.links if carries(ln)]
    if not tagged:
        return None
    lead = story.links[story.lead]
    if carries(lead):
        return SectionStory(story, story.title, story.url, story.language, len(tagged))
    first = tagged[0]
    return SectionStory(story, first.title, first.url, first.language, len(tagged))


def _oneline(text: str, limit: int = 240) -> str:
    return shorten(" ".join(without_bidi_controls(str(text)).split()), limit)


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


__all__ = [
    "CHART_TITLES",
    "Digest",
    "DigestStory",
    "Link",
    "Section",
    "SectionStory",
    "SourceProblem",
    "build_digest",
    "change",
    "previous_span_end",
    "source_problems",
]
