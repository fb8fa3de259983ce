"""sources.yaml: the operators' file. Loaded, validated and reported with file:line:col precision.

Every command that reads the file goes through :func:`load_sourcefile`; a file with any problem raises
:class:`~mediawatch.errors.ConfigError` carrying one ``FILE:LINE:COL: path: message`` line per problem, and
nothing is written anywhere.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from mediawatch.errors import ConfigError
from mediawatch.models import SourceId, SourceKind
from mediawatch.normalize import without_credentials
from mediawatch.source_values import DEFAULT_EVERY, Country, Every, Language, TimeZone, Url
from mediawatch.yamltree import (
    TooManyValues,
    locate,
    parse_yaml_tree,
    plain_data,
    read_yaml_text,
    value_position,
)

SCHEMA_VERSION = 1
MAX_FILE_BYTES = 1024 * 1024  # a sources file is a few KB; 1 MB is thousands of sources
MAX_VALUES = 100_000  # values after aliases are expanded (an alias "bomb" expands exponentially)

_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
_CHANNEL_RE = re.compile(r"^UC[A-Za-z0-9_-]{22}$")
_HANDLE_RE = re.compile(r"^@[A-Za-z0-9._-]{3,30}$")
_PLAYLIST_RE = re.compile(r"^(PL|UU|LL|FL|OL)[A-Za-z0-9_-]{10,}$")


def _strict_int(value: object) -> object:
    """``version: true`` or ``version: 1.0`` is not version 1."""
    if isinstance(value, bool) or not isinstance(value, int):
        # a ValueError, not TypeError: pydantic turns only ValueError into a validation problem
        raise ValueError(  # noqa: TRY004
            f"unsupported schema version {value!r}; this mediawatch reads version {SCHEMA_VERSION}"
        )
    return value





class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Defaults(_Strict):
    """Values a source takes when it does not set them itself."""

    every: Every = DEFAULT_EVERY
    language: Language | None = None
    country: Country | None = None
    timezone: TimeZone | None = None
    enabled: bool = True
    tags: tuple[str, ...] = ()


class _SourceBase(_Strict):
    id: str
    name: str | None = None
    country: Country | None = None
    language: Language | None = None
    timezone: TimeZone | None = None
    every: Every | None = None
    enabled: bool | None = None
    tags: tuple[str, ...] = ()

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG_RE.match(value):
            raise ValueError(
                f"{value!r} is not a valid id; use 2-64 lower-case letters, digits and '-', starting with a letter or digit"
            )
        return value


class RssSource(_SourceBase):
    kind: Literal["rss"]
    url: Url


class PageSource(_SourceBase):
    kind: Literal["page"]
    url: Url
    selector: str | None = Field(None, description="CSS selector for article links on the listing page")

    @field_validator("selector")
    @classmethod
    def _selector(cls, value: str | None) -> str | None:
        if value is None:
            return None
        import soupsieve

        try:
            soupsieve.compile(value)
        except Exception as exc:  # soupsieve raises SelectorSyntaxError (a ValueError subclass) and others
            raise ValueError(f"{value!r} is not a valid CSS selector: {str(exc).splitlines()[0]}") from None
        return value


class YouTubeSource(_SourceBase):
    kind: Literal["youtube"]
    channel_id: str | None = None
    handle: str | None = None
    playlist_id: str | None = None
    feed_url: Url | None = None

    @field_validator("channel_id")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None and not _CHANNEL_RE.match(value):
            raise ValueError(f"{value!r} is not a YouTube channel id ('UC' followed by 22 letters, digits, - or _)")
        return value

    @field_validator("handle")
    @classmethod
    def _handle(cls, value: str | None) -> str | None:
        if value is not None and not _HANDLE_RE.match(value):
            raise ValueError(f"{value!r} is not a YouTube handle ('@' followed by 3-30 letters, digits, '.', '_', '-')")
        return value

    @field_validator("playlist_id")
    @classmethod
    def _playlist(cls, value: str | None) -> str | None:
        if value is not None and not _PLAYLIST_RE.match(value):
            raise ValueError(f"{value!r} is not a YouTube playlist id (PL…, UU…)")
        return value

    @model_validator(mode="after")
    def _locator(self) -> YouTubeSource:
        if not (self.channel_id or self.handle or self.playlist_id or self.feed_url):
            raise ValueError("a youtube source needs one of channel_id, handle or playlist_id (or feed_url)")
        given = [key for key in ("channel_id", "handle", "playlist_id") if getattr(self, key)]
        if len(given) > 1:
            # the collector would silently use one and ignore the other(s)
            raise ValueError(
                f"a youtube source takes one of channel_id, handle or playlist_id, not {' and '.join(given)}"
            )
        return self


SourceModel = Annotated[RssSource | YouTubeSource | PageSource, Field(discriminator="kind")]


class _FileModel(_Strict):
    version: Annotated[Literal[1], BeforeValidator(_strict_int)]
    defaults: Defaults = Defaults()
    sources: tuple[SourceModel, ...]  # required: a file without it would switch every source off

    @field_validator("defaults", "sources", mode="before")
    @classmethod
    def _empty(cls, value: object, info: Any) -> object:
        """``sources:`` with every stanza commented out is an empty list, not an error (the key is written, so
        switching everything off is meant)."""
        if value is None:
            return {} if info.field_name == "defaults" else ()
        return value


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """One source with the defaults applied: what the rest of mediawatch sees."""

    id: SourceId
    kind: SourceKind
    name: str | None
    url: str | None
    channel_id: str | None
    handle: str | None
    playlist_id: str | None
    feed_url: str | None
    selector: str | None
    country: str | None
    language: str | None
    every: timedelta
    enabled: bool
    tags: tuple[str, ...]
    line: int  # where the stanza starts in the file (1-based), for messages
    timezone: str | None = None  # IANA name: the zone of the source's dates that carry no offset

    @property
    def locator(self) -> str:
        """The address an operator recognises: URL, channel id, handle or playlist id."""
        return self.url or self.feed_url or self.channel_id or self.handle or self.playlist_id or ""

    @property
    def public_locator(self) -> str:
        """:attr:`locator` as stored and shown (sources table, web pages, feeds): a URL's user name and
        password (``https://user:secret@host/feed``) are left out; collection still sends them."""
        return without_credentials(self.locator)

    @property
    def spec_hash(self) -> str:
        fields = {k: getattr(self, k) for k in self.__slots__ if k not in ("line",)}  # type: ignore[attr-defined]
        if self.timezone is None:  # a later key: sources without it keep the hash they had
            del fields["timezone"]
        fields["every"] = int(self.every.total_seconds())
        return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path
    version: int
    sources: tuple[SourceSpec, ...]

    def get(self, source_id: str) -> SourceSpec | None:
        return next((s for s in self.sources if s.id == source_id), None)


# ---------------------------------------------------------------------------------------------- loading


def load_sourcefile(path: Path) -> SourceFile:
    """Read and validate ``path``; raise ConfigError listing every problem as FILE:LINE:COL lines."""
    return parse_sourcefile(read_sourcefile_text(path), path)


def read_sourcefile_text(path: Path) -> str:
    """The file's text (UTF-8, a BOM allowed); ConfigError naming the file (and the line of a byte that is
    not UTF-8) when it is missing, unreadable, larger than :data:`MAX_FILE_BYTES` or not UTF-8."""
    return read_yaml_text(path, max_bytes=MAX_FILE_BYTES, what="the sources file")


def parse_sourcefile(text: str, path: Path, *, sources_required: bool = True) -> SourceFile:
    """``text`` validated as the sources file at ``path`` (ConfigError with FILE:LINE:COL problems).

    ``sources_required=False`` reads a file without a ``sources`` key as listing none (``sources add``, which
    is about to write that key)."""
    data = parse_yaml_tree(text, path, what="a sources file")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("invalid file", [f"{path}:1:1: the file must be a mapping with 'version' and 'sources'"])

    try:
        plain = plain_data(data, MAX_VALUES)
    except (TooManyValues, RecursionError):
        raise ConfigError(
            "too many values",
            [f"{path}:1:1: the file holds more than {MAX_VALUES} values once its aliases (*name) are expanded"],
        ) from None
    problems: list[tuple[int, int, str]] = []
    try:
        if not sources_required and isinstance(plain, dict):
            plain.setdefault("sources", [])
        model = _FileModel.model_validate(plain)
    except ValidationError as exc:
        model = None
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            line, col, dotted = locate(data, loc, err["type"], kinds=[k.value for k in SourceKind])
            problems.append((line, col, f"{dotted}: {_message(err, loc)}"))
    problems.extend(_duplicate_ids(data))
    if problems:
        problems.sort()
        lines = [f"{path}:{line}:{col}: {msg}" for line, col, msg in problems]
        raise ConfigError(f"{path}: {len(lines)} problem(s)", lines)
    assert model is not None
    return SourceFile(path=path, version=model.version, sources=tuple(_resolve(model, data)))


def _resolve(model: _FileModel, data: Any) -> Iterator[SourceSpec]:
    d = model.defaults
    raw_sources = data.get("sources") or []
    for index, src in enumerate(model.sources):
        line = raw_sources.lc.item(index)[0] + 1 if hasattr(raw_sources, "lc") else 0
        yield SourceSpec(
            id=SourceId(src.id),
            kind=SourceKind(src.kind),
            name=src.name,
            url=getattr(src, "url", None),
            channel_id=getattr(src, "channel_id", None),
            handle=getattr(src, "handle", None),
            playlist_id=getattr(src, "playlist_id", None),
            feed_url=getattr(src, "feed_url", None),
            selector=getattr(src, "selector", None),
            country=src.country or d.country,
            language=src.language or d.language,
            timezone=src.timezone or d.timezone,
            every=src.every or d.every,
            enabled=d.enabled if src.enabled is None else src.enabled,
            tags=tuple(dict.fromkeys((*d.tags, *src.tags))),
            line=line,
        )


def _duplicate_ids(data: Any) -> Iterable[tuple[int, int, str]]:
    sources = data.get("sources")
    if not isinstance(sources, list):
        return
    first: dict[str, int] = {}
    for index, src in enumerate(sources):
        if not isinstance(src, dict) or not isinstance(src.get("id"), str):
            continue
        sid = src["id"]
        if sid in first:
            line, col = value_position(src, "id")
            yield (line, col, f"sources[{index}].id: duplicate id {sid!r} (first used by sources[{first[sid]}]); ids must be unique")
        else:
            first[sid] = index


_FIELDS = {
    "rss": RssSource,
    "page": PageSource,
    "youtube": YouTubeSource,
    "defaults": Defaults,
    "file": _FileModel,
}


def _message(err: Any, loc: tuple[Any, ...]) -> str:
    kind = err["type"]
    msg: str = err["msg"]
    if kind == "extra_forbidden":
        model = _model_for(loc)
        allowed = ", ".join(model.model_fields) if model else ""
        return f"unknown key {loc[-1]!r}" + (f"; allowed keys: {allowed}" if allowed else "")
    if kind == "missing":
        return "required key is missing"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind == "union_tag_not_found":
        return "required key 'kind' is missing; it must be one of rss, youtube, page"
    if kind == "union_tag_invalid":
        tag = (err.get("ctx") or {}).get("tag")
        return "'kind' must be one of rss, youtube, page" + (f" (got {tag!r})" if tag is not None else "")
    if kind == "string_type" and isinstance(err.get("input"), int | float) and not isinstance(err["input"], bool):
        return f"must be text; quote it: '{err['input']}' (got {err['input']!r})"
    if kind == "literal_error" and loc == ("version",):
        return f"unsupported schema version; this mediawatch reads version {SCHEMA_VERSION}"
    got = f" (got {err['input']!r})" if "input" in err else ""
    if kind in ("tuple_type", "list_type", "set_type", "frozen_set_type"):
        return f"must be a list ([a, b] or '- ' lines){got}"
    if kind in ("dict_type", "model_type", "model_attributes_type", "mapping_type"):
        return f"must be a mapping ('key: value' lines){got}"
    return f"{msg} (got {err.get('input')!r})" if "input" in err and not isinstance(err["input"], dict) else msg


def _model_for(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    if len(loc) == 1:
        return _FileModel
    if loc[0] == "defaults":
        return Defaults
    if loc[0] == "sources" and len(loc) >= 3 and loc[2] in _FIELDS:
        return _FIELDS[loc[2]]
    return None


