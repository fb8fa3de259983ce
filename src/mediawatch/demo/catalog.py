"""The demo's own sample content (``data/*.yaml``) and where each item lands in time. Pure: no I/O but
reading the package's data files.

Each item names a week relative to the demo's ``now`` — ``previous``, ``last`` (the last complete ISO week,
the one a digest run at ``now`` covers) or ``current`` — and a weekday and time. ``previous`` and ``last``
items sit at exactly that weekday and time (UTC); ``current`` items are spread proportionally over the part
of the current week that has passed, so none is ever later than ``now`` (even at Monday 00:30).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mediawatch.models import SourceKind

Week = Literal["previous", "last", "current"]
Format = Literal["rss", "atom", "youtube", "page"]

_WEEK_SHIFT: dict[str, int] = {"previous": -2, "last": -1}
_MINUTES_PER_WEEK = 7 * 24 * 60
_KINDS: dict[str, SourceKind] = {
    "rss": SourceKind.RSS,
    "atom": SourceKind.RSS,  # the rss kind reads RSS and Atom alike
    "youtube": SourceKind.YOUTUBE,
    "page": SourceKind.PAGE,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Link(_Strict):
    href: str
    label: str


class _ItemData(_Strict):
    key: str = Field(min_length=1)  # article id in URLs; the video id for youtube
    slug: str | None = Field(None, pattern=r"^[a-z0-9-]+$")
    week: Week
    day: Annotated[int, Field(ge=0, le=6)]  # 0 = Monday
    time: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    relevant: bool
    event: str | None = None
    author: str | None = None
    section: str | None = None
    tags: tuple[str, ...] = ()
    title: str = Field(min_length=1)
    body: tuple[str, ...] = Field(min_length=1)
    views: int | None = None
    likes: int | None = None
    shorts: bool = False


class _SourceData(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    name: str
    format: Format
    language: str
    country: str
    utc_offset: str = Field(pattern=r"^[+-](0\d|1[0-4]):[0-5]\d$")
    charset: str = "utf-8"
    home: str | None = None
    feed: str | None = None
    article: str | None = None
    channel_id: str | None = Field(None, pattern=r"^UC[A-Za-z0-9_-]{22}$")
    description: str = ""
    most_read: str = "Most read"
    navigation: tuple[_Link, ...] = ()
    footer: tuple[_Link, ...] = ()


class _FileData(_Strict):
    source: _SourceData
    items: tuple[_ItemData, ...] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Link:
    href: str  # a path on the demo site or an absolute URL of another site
    label: str


@dataclass(frozen=True, slots=True)
class DemoItem:
    """One news item or video as the demo serves it."""

    source_id: str
    key: str
    title: str
    paragraphs: tuple[str, ...]
    published: datetime  # aware UTC, whole seconds
    week: Week
    url: str  # what the feed or listing links to: an article page on the demo site, or a YouTube link
    path: str | None  # the article page's path on the demo site (None for videos)
    author: str | None
    section: str | None
    tags: tuple[str, ...]
    relevant: bool  # the content author's label (never served)
    event: str | None  # items of one event in several sources share this (never served)
    views: int | None = None
    likes: int | None = None
    shorts: bool = False

    @property
    def video_id(self) -> str | None:
        return self.key if self.path is None else None


@dataclass(frozen=True, slots=True)
class DemoSource:
    """One demo outlet: a feed (RSS, Atom, YouTube-style) or a news site without a feed (``page``)."""

    id: str
    name: str
    format: Format
    language: str
    country: str
    utc_offset: timedelta
    charset: str
    url: str  # what sources.yaml points at: the feed, or the listing page
    home_path: str | None
    feed_path: str | None
    channel_id: str | None
    description: str
    most_read: str  # heading of the listing page's "most read" box
    navigation: tuple[Link, ...]
    footer: tuple[Link, ...]
    items: tuple[DemoItem, ...]  # newest first

    @property
    def kind(self) -> SourceKind:
        return _KINDS[self.format]


def place(now: datetime, week: Week, day: int, hh_mm: str) -> datetime:
    """The UTC moment of an item at weekday ``day`` (0 = Monday), ``hh_mm``, in ``week`` relative to ``now``.

    ``current`` maps the item's position in a whole week onto the elapsed part of the current week, so the
    result is never after ``now``."""
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now!r}: the demo needs a timezone-aware 'now'")
    now = now.astimezone(UTC)
    hours, minutes = (int(part) for part in hh_mm.split(":"))
    offset = timedelta(days=day, hours=hours, minutes=minutes)
    this_monday = week_start(now)
    if week == "current":
        fraction = offset / timedelta(minutes=_MINUTES_PER_WEEK)
        moment = this_monday + (now - this_monday) * fraction
        return moment.replace(microsecond=0)
    return this_monday + timedelta(weeks=_WEEK_SHIFT[week]) + offset


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 UTC of the ISO week that contains ``moment`` (as :class:`mediawatch.digest.week.IsoWeek`
    does; computed here so the demo site does not import the digest machinery)."""
    utc = moment.astimezone(UTC)
    return datetime.combine(utc.date() - timedelta(days=utc.weekday()), time(0), tzinfo=UTC)


def data_files() -> list[tuple[str, str]]:
    """(file name, text) of every content file, in file-name order (the order sources are listed in)."""
    folder = resources.files("mediawatch.demo").joinpath("data")
    names = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".yaml"))
    return [(name, folder.joinpath(name).read_text(encoding="utf-8")) for name in names]


@lru_cache(maxsize=1)
def _content() -> tuple[tuple[str, _FileData], ...]:
    """The content files, parsed and validated once per process (they are package data and never change)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="safe", pure=True)
    parsed: list[tuple[str, _FileData]] = []
    seen_ids: set[str] = set()
    for name, text in data_files():
        try:
            data = _FileData.model_validate(yaml.load(text))
        except YAMLError as exc:
            raise ValueError(f"demo data {name}: invalid YAML: {exc}") from None
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
                for err in exc.errors(include_url=False)
            )
            raise ValueError(f"demo data {name}: {problems}") from None
        if data.source.id in seen_ids:
            raise ValueError(f"demo data {name}: source id {data.source.id!r} is used twice")
        seen_ids.add(data.source.id)
        parsed.append((name, data))
    return tuple(parsed)


def load_catalog(now: datetime, base_url: str) -> tuple[DemoSource, ...]:
    """Every demo source with its items placed relative to ``now`` and its URLs under ``base_url``.

    Raises ValueError naming the file (and the field) when a content file is malformed."""
    base = base_url.rstrip("/")
    return tuple(_source(name, data, now, base) for name, data in _content())


def _source(name: str, data: _FileData, now: datetime, base: str) -> DemoSource:
    spec = data.source
    if spec.format == "page":
        if not (spec.home and spec.article):
            raise ValueError(f"demo data {name}: a page source needs 'home' and 'article'")
        url = base + spec.home
    else:
        if not spec.feed:
            raise ValueError(f"demo data {name}: a {spec.format} source needs 'feed'")
        url = base + spec.feed
        if spec.format == "youtube":
            if not spec.channel_id:
                raise ValueError(f"demo data {name}: a youtube source needs 'channel_id'")
            url += f"?channel_id={spec.channel_id}"
        elif not spec.article:
            raise ValueError(f"demo data {name}: a {spec.format} source needs 'article'")
    keys = [item.key for item in data.items]
    if len(set(keys)) != len(keys):
        raise ValueError(f"demo data {name}: item keys repeat")
    items = sorted(
        (_item(name, spec, item, now, base) for item in data.items), key=lambda i: i.published, reverse=True
    )
    sign = -1 if spec.utc_offset.startswith("-") else 1
    hours, minutes = (int(part) for part in spec.utc_offset[1:].split(":"))
    return DemoSource(
        id=spec.id,
        name=spec.name,
        format=spec.format,
        language=spec.language,
        country=spec.country,
        utc_offset=sign * timedelta(hours=hours, minutes=minutes),
        charset=spec.charset,
        url=url,
        home_path=spec.home,
        feed_path=spec.feed,
        channel_id=spec.channel_id,
        description=spec.description,
        most_read=spec.most_read,
        navigation=tuple(Link(link.href, link.label) for link in spec.navigation),
        footer=tuple(Link(link.href, link.label) for link in spec.footer),
        items=tuple(items),
    )


def _item(name: str, spec: _SourceData, item: _ItemData, now: datetime, base: str) -> DemoItem:
    path: str | None
    if spec.format == "youtube":
        if len(item.key) != 11 or not all(c.isalnum() or c in "-_" for c in item.key):
            raise ValueError(f"demo data {name}: item {item.key!r} is not an 11-character video id")
        path = None
        url = f"https://www.youtube.com/{'shorts/' if item.shorts else 'watch?v='}{item.key}"
    else:
        assert spec.article is not None
        if "{slug}" in spec.article and not item.slug:
            raise ValueError(f"demo data {name}: item {item.key} needs a slug")
        path = spec.article.format(key=item.key, slug=item.slug or "")
        url = base + path
    return DemoItem(
        source_id=spec.id,
        key=item.key,
        title=item.title,
        paragraphs=item.body,
        published=place(now, item.week, item.day, item.time),
        week=item.week,
        url=url,
        path=path,
        author=item.author,
        section=item.section,
        tags=item.tags,
        relevant=item.relevant,
        event=item.event,
        views=item.views,
        likes=item.likes,
        shorts=item.shorts,
    )


def all_items(sources: tuple[DemoSource, ...]) -> Iterator[DemoItem]:
    for source in sources:
        yield from source.items
