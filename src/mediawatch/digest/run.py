"""``mediawatch digest``: read the week from the store, build, render and write the files atomically.

Files: ``OUT/YYYY-Www.md``, ``OUT/YYYY-Www.html`` and the charts in ``OUT/YYYY-Www/*.svg``. Each is written to a
temporary file in the same folder and renamed over the old one, so a reader never sees half a digest. Re-running
for the same week rewrites the same bytes except the "Generated" line (when ``now`` differs).

A week that has not started by ``now`` is refused (ValueError naming it and its start). The week under way is
digested so far: the files say so, the previous week is compared over the same span, and the digest is not
recorded in the store as written (the service still builds the complete one after the week ends).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mediawatch.digest.build import Digest, build_digest, previous_span_end
from mediawatch.digest.charts import standalone
from mediawatch.digest.render import render_html, render_markdown
from mediawatch.digest.week import IsoWeek, last_complete_week
from mediawatch.errors import StoreError
from mediawatch.files import write_atomic
from mediawatch.store.stories import DigestRecord

if TYPE_CHECKING:
    from mediawatch.store import Store

TREND_WEEKS = 8
CHART_NAMES = ("countries", "topics", "trend")


@dataclass(frozen=True, slots=True)
class DigestFiles:
    md: Path
    html: Path
    relevant_items: int
    charts: tuple[Path, ...] = ()


def load_digest(
    store: Store, week: IsoWeek, *, now: datetime, source_names: Mapping[str, str] | None = None
) -> Digest:
    """Everything the digest needs, read from the store, as a :class:`Digest` value.

    A ValueError when ``week`` has not started by ``now``, or is too early to have the weeks it is compared
    with."""
    week.require_history(TREND_WEEKS - 1)
    week.require_started(now)
    # the week under way: what was published up to now (an item dated later is a feed's clock error, not news)
    items = store.week_items(week.start, min(week.end, now))
    story_ids = sorted({it.story_id for it in items if it.relevant and it.story_id is not None})
    # members from this week are already in `items`; only earlier ones (a story that began last week) are read
    wanted = set(story_ids)
    members = store.story_items(story_ids, until=week.start) + [it for it in items if it.story_id in wanted]
    records = store.stories_by_id(story_ids)
    previous = week.previous()
    trend_weeks = [week.shift(k) for k in range(-(TREND_WEEKS - 1), 0)]
    trend = [(w, store.week_numbers(w.start, w.end).relevant) for w in trend_weeks]
    trend.append((week, sum(1 for it in items if it.relevant)))
    return build_digest(
        week,
        now=now,
        items=items,
        members=members,
        stories=records,
        previous=store.week_numbers(previous.start, previous_span_end(week, now)),
        trend=trend,
        sources=store.source_weeks(week.start, week.end),
        source_names=source_names,
    )


def write_digest(
    store: Store,
    week: IsoWeek,
    out_dir: Path,
    *,
    now: datetime,
    source_names: Mapping[str, str] | None = None,
) -> DigestFiles:
    """Write the week's Markdown, HTML and chart files into ``out_dir`` and record the digest in the store."""
    digest = load_digest(store, week, now=now, source_names=source_names)
    out_dir = Path(out_dir)
    chart_dir = out_dir / str(week)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        charts: list[Path] = []
        if digest.charts:
            chart_dir.mkdir(exist_ok=True)
            for chart in digest.charts:
                path = chart_dir / f"{chart.name}.svg"
                atomic_write(path, standalone(chart))
                charts.append(path)
        _remove_stale_charts(chart_dir, {c.name for c in digest.charts})
        md = out_dir / f"{week}.md"
        html = out_dir / f"{week}.html"
        atomic_write(md, render_markdown(digest, chart_dir=str(week)))
        atomic_write(html, render_html(digest))
    except OSError as exc:
        raise StoreError(f"cannot write the digest for {week} into {out_dir}: {exc}") from exc
    if not digest.partial:  # a week under way is not done: the service must still build its digest
        store.record_digest(DigestRecord(str(week), now, str(md), str(html), digest.numbers.relevant))
    return DigestFiles(md=md, html=html, relevant_items=digest.numbers.relevant, charts=tuple(charts))


def atomic_write(path: Path, text: str) -> None:
    """Write UTF-8 text to a temporary file beside ``path``, then rename it over ``path``."""
    write_atomic(path, text.encode("utf-8"))


def _remove_stale_charts(chart_dir: Path, keep: set[str]) -> None:
    for name in CHART_NAMES:
        if name not in keep:
            (chart_dir / f"{name}.svg").unlink(missing_ok=True)
    if chart_dir.is_dir() and not any(chart_dir.iterdir()):
        chart_dir.rmdir()


__all__ = ["DigestFiles", "IsoWeek", "atomic_write", "last_complete_week", "load_digest", "write_digest"]
