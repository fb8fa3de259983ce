"""A sources.yaml stanza for a probed URL, and appending it to the operators' file without disturbing it.

Pure except :func:`write_atomically`. The stanza is a plain ``dict[str, str]`` in the order an operator
reads it (id, name, kind, locator, selector, language, country, every).

Appending keeps every existing byte: ruamel.yaml (round-trip mode) reads the file to find where the
``sources`` list ends and how its items are indented, the new item is rendered by ruamel.yaml alone, and
the text is spliced in at that point. The result is checked with :func:`~mediawatch.sourcefile.parse_sourcefile`
before anybody writes it.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediawatch.codes import is_country, is_language
from mediawatch.errors import ConfigError

if TYPE_CHECKING:
    from mediawatch.sourcefile import SourceSpec

EVERY = {"rss": "1h", "page": "6h", "youtube": "3h"}
MAX_NAME = 120
MAX_ID = 64
NEW_FILE = "version: 1\nsources:\n"

# ccTLDs that are sold as generic names (.io, .tv, .me …) say nothing about where an outlet is.
_GENERIC_CCTLDS = frozenset({"io", "co", "tv", "me", "fm", "ai", "ly", "cc", "ws", "to", "gg", "am", "nu", "tk", "so"})
_TLD_COUNTRY = {"uk": "GB", "su": "RU"}
# Languages that point at one country strongly enough for a first guess (the operator reviews the stanza).
_LANGUAGE_COUNTRY = {"kk": "KZ", "mn": "MN", "uz": "UZ", "ky": "KG", "tr": "TR", "ru": "RU", "zh": "CN"}
_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі",
        "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch - y - e yu ya a g q n o u u h i".split(),
        strict=True,
    )
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


# ---------------------------------------------------------------------------------------------- stanza


def slugify(text: str) -> str:
    """Lower-case ASCII letters, digits and single hyphens (Cyrillic transliterated, other scripts dropped)."""
    out: list[str] = []
    for ch in text.lower():
        if ch in _CYRILLIC:
            mapped = _CYRILLIC[ch]
            out.append("" if mapped == "-" else mapped)
        else:
            out.append(unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode())
    slug = re.sub(r"[^a-z0-9]+", "-", "".join(out)).strip("-")
    return slug[:MAX_ID].rstrip("-")


def host_slug(host: str) -> str:
    """``www.news.example.kz`` -> ``news-example-kz``."""
    return slugify(host.lower().rstrip(".").removeprefix("www."))


def language_code(raw: str | None) -> str | None:
    """The ISO 639-1 primary subtag of a language tag (``en-US`` -> ``en``), or None if it is not one."""
    if not raw:
        return None
    match = re.match(r"^\s*([A-Za-z]{2})(?:[-_][A-Za-z0-9]+)*\s*$", raw.split(",")[0])
    if not match:
        return None
    code = match.group(1).lower()
    return code if is_language(code) else None


def country_guess(host: str | None, language_tag: str | None = None) -> str | None:
    """A country from the host's top-level domain (``.kz`` -> KZ, ``.com.tr`` -> TR), else from the
    language tag (its region, ``kk-KZ``; else a language tied to one country, ``mn`` -> MN), else None."""
    if host:
        label = host.lower().rstrip(".").rsplit(".", 1)[-1]
        if not label.isdigit():  # an IP address has no TLD
            country = _TLD_COUNTRY.get(label) or label.upper()
            if label not in _GENERIC_CCTLDS and len(label) == 2 and is_country(country):
                return country
    if language_tag:
        parts = re.split(r"[-_]", language_tag.strip())
        region = next((p.upper() for p in parts[1:] if len(p) == 2 and p.isalpha()), None)
        if region and is_country(region):
            return region
        return _LANGUAGE_COUNTRY.get(parts[0].lower())
    return None


# Countries on one clock, with the IANA zone of their outlets (Kazakhstan since March 2024; China's official time,
# which Xinjiang's outlets print). Countries with several zones (RU, MN, US, CA, AU, …) are left to the operator.
_COUNTRY_ZONE = {
    "KZ": "Asia/Almaty", "CN": "Asia/Shanghai", "TR": "Europe/Istanbul", "UZ": "Asia/Tashkent",
    "KG": "Asia/Bishkek", "TJ": "Asia/Dushanbe", "TM": "Asia/Ashgabat", "AZ": "Asia/Baku", "IR": "Asia/Tehran",
    "AF": "Asia/Kabul", "DE": "Europe/Berlin", "GB": "Europe/London", "FR": "Europe/Paris", "UA": "Europe/Kyiv",
    "BY": "Europe/Minsk", "JP": "Asia/Tokyo", "KR": "Asia/Seoul", "SA": "Asia/Riyadh", "AE": "Asia/Dubai",
    "EG": "Africa/Cairo", "PK": "Asia/Karachi", "IN": "Asia/Kolkata",
}  # fmt: skip


def timezone_guess(country: str | None) -> str | None:
    """The IANA zone of a country on one clock (``KZ`` -> ``Asia/Almaty``), else None."""
    return _COUNTRY_ZONE.get(country or "")


def clean_name(text: str | None) -> str | None:
    """A title fit for the ``name`` field: one line, no control characters, at most 120 characters."""
    if not text:
        return None
    line = " ".join(_CONTROL.sub(" ", text).split())
    if len(line) > MAX_NAME:
        line = line[: MAX_NAME - 1].rsplit(" ", 1)[0] + "…"
    return line or None


def build_stanza(
    kind: str,
    *,
    source_id: str,
    name: str | None = None,
    url: str | None = None,
    channel_id: str | None = None,
    playlist_id: str | None = None,
    selector: str | None = None,
    language: str | None = None,
    country: str | None = None,
    timezone: str | None = None,
) -> dict[str, str]:
    """The stanza as an ordered mapping; fields without a value are left out."""
    fields: list[tuple[str, str | None]] = [
        ("id", source_id),
        ("name", clean_name(name)),
        ("kind", kind),
        ("url", url),
        ("channel_id", channel_id),
        ("playlist_id", playlist_id),
        ("selector", selector),
        ("language", language),
        ("country", country),
        ("timezone", timezone),
        ("every", EVERY[kind]),
    ]
    return {key: value for key, value in fields if value}


def unique_id(wanted: str, taken: Iterable[str]) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3`` … when it is taken."""
    used = set(taken)
    if wanted not in used:
        return wanted
    for n in range(2, 10_000):
        suffix = f"-{n}"
        candidate = wanted[: MAX_ID - len(suffix)].rstrip("-") + suffix
        if candidate not in used:
            return candidate
    raise ConfigError(f"no free id like {wanted!r}")


# ---------------------------------------------------------------------------------------------- YAML


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.width = 4096  # never fold a long URL or name
    return yaml


def stanza_yaml(stanza: Mapping[str, str], *, dash_column: int = 0) -> str:
    """The stanza as one block-sequence item (``- id: …``) whose dash sits at ``dash_column``."""
    from ruamel.yaml.comments import CommentedMap

    buffer = io.StringIO()
    _yaml().dump(CommentedMap(stanza), buffer)
    lines = buffer.getvalue().splitlines()
    pad = " " * dash_column
    return "".join(
        f"{pad}- {line}\n" if i == 0 else f"{pad}  {line}\n" for i, line in enumerate(lines)
    )


@dataclass(frozen=True, slots=True)
class Addition:
    """The file's new text and the stanza that went into it (its id possibly suffixed)."""

    text: str
    stanza: dict[str, str]
    item_yaml: str  # the lines inserted


def existing_ids(text: str, path: Path) -> tuple[str, ...]:
    """Ids of the sources in ``text``; ConfigError (FILE:LINE:COL problems) if the file is not valid now."""
    return tuple(s.id for s in _listed(text, path))


def _listed(text: str, path: Path) -> tuple[SourceSpec, ...]:
    """The sources of ``text``; a file that only lacks its ``sources`` key (``version: 1`` alone) lists none
    (the new stanza brings the key). Other problems raise ConfigError."""
    from mediawatch.sourcefile import parse_sourcefile

    return parse_sourcefile(text, path, sources_required=False).sources if text.strip() else ()


class AlreadyListed(ConfigError):
    """The feed of a new stanza is already collected by a source of the file (``source_id``, at ``line``)."""

    def __init__(self, message: str, *, source_id: str, line: int) -> None:
        super().__init__(message)
        self.source_id = source_id
        self.line = line


def feed_key(url: str | None = None, *, channel_id: str | None = None, playlist_id: str | None = None) -> str | None:
    """What a source collects, comparable across spellings: the canonical URL
    (:func:`~mediawatch.normalize.canonical_url`), with a YouTube channel or playlist (by id, or by its
    ``…/feeds/videos.xml?…`` address on any YouTube host) as its canonical feed URL. None when nothing is given."""
    from urllib.parse import parse_qs, urlsplit

    from mediawatch.collect import youtube
    from mediawatch.normalize import canonical_url

    if url and not channel_id and not playlist_id:
        url = canonical_url(url)
        parts = urlsplit(url)
        if (parts.hostname or "") in youtube.YOUTUBE_HOSTS and parts.path == "/feeds/videos.xml":
            channel_id = youtube.channel_id_from_url(url)
            playlist_id = None if channel_id else (parse_qs(parts.query).get("playlist_id") or [None])[0]
    try:
        if channel_id:
            return youtube.feed_url(channel_id=channel_id)
        if playlist_id:
            return youtube.feed_url(playlist_id=playlist_id)
    except ValueError:  # not a valid id: compared as written
        return f"youtube:{channel_id or playlist_id}"
    return url or None


def _handle_key(handle: str | None) -> str | None:
    """A YouTube handle, comparable across spellings (handles are case-insensitive)."""
    return f"youtube-handle:{handle.strip().lstrip('@').lower()}" if handle and handle.strip("@ ") else None


def already_listed(sources: Iterable[SourceSpec], stanza: Mapping[str, str],
                   also: Iterable[str] = (), handle: str | None = None,
                   remembered: Mapping[str, Mapping[str, str]] | None = None) -> SourceSpec | None:
    """The first source that collects the same feed as ``stanza`` (or as a URL in ``also``, or the YouTube
    ``handle`` the new source was found by, against sources the file lists by handle), or None.
    ``remembered``: source id -> the notes collection keeps for it: the channel id its handle resolved to, and
    the address its url moved to for good (``moved_permanently``)."""
    remembered = remembered or {}
    wanted = {feed_key(stanza.get("url"), channel_id=stanza.get("channel_id"),
                       playlist_id=stanza.get("playlist_id")), _handle_key(handle or stanza.get("handle"))}
    wanted.update(feed_key(u) for u in also)
    wanted.discard(None)
    for spec in sources:
        keys = {
            feed_key(spec.url),
            feed_key(spec.feed_url),
            feed_key(channel_id=spec.channel_id),
            feed_key(playlist_id=spec.playlist_id),
            _handle_key(spec.handle),
            *_remembered_keys(spec, remembered.get(spec.id, {})),
        }
        if wanted & (keys - {None}):
            return spec
    return None


def _remembered_keys(spec: SourceSpec, notes: Mapping[str, str]) -> list[str | None]:
    keys = [feed_key(notes.get("moved_permanently"))]
    if spec.handle and notes.get("handle") == spec.handle:  # resolved for this handle, not an earlier one
        keys.append(feed_key(channel_id=notes.get("channel_id")))
    return keys


def add_stanza(text: str, stanza: Mapping[str, str], path: Path, *, keep_id: bool = False,
               also: Iterable[str] = (), handle: str | None = None,
               remembered: Mapping[str, Mapping[str, str]] | None = None) -> Addition:
    """``text`` with ``stanza`` appended to its ``sources`` list, validated.

    A taken id gets a numeric suffix, unless ``keep_id`` (an id the operator chose): then the validator's
    duplicate-id problem is raised. Raises ConfigError with FILE:LINE:COL problems when the file is invalid
    before or after, and :class:`AlreadyListed` when a source of the file collects the same feed (its URL
    compared canonically, a YouTube channel or playlist by id; ``also``: more URLs that mean the same feed,
    such as the address that redirected to it; ``handle``: the YouTube handle it was found by; ``remembered``:
    what collection learnt of the file's sources, see :func:`already_listed`).
    """
    from mediawatch.sourcefile import parse_sourcefile

    existing = _listed(text, path)
    same = already_listed(existing, stanza, also, handle, remembered)
    if same is not None:
        what = stanza.get("url") or stanza.get("channel_id") or stanza.get("playlist_id") or "the new source"
        if handle and _handle_key(handle) == _handle_key(same.handle):
            what = f"{handle} ({what})"
        raise AlreadyListed(
            f"{path}:{same.line}: {what} is already collected by source {same.id!r}",
            source_id=same.id,
            line=same.line,
        )
    taken = tuple(s.id for s in existing)
    chosen = dict(stanza)
    if not keep_id:
        chosen["id"] = unique_id(chosen["id"], taken)
    crlf = "\r\n" in text
    new_text, item = _splice(text.replace("\r\n", "\n") if crlf else text, chosen)
    if crlf:
        new_text = new_text.replace("\n", "\r\n")
    parse_sourcefile(new_text, path)  # raises ConfigError with the problems; nothing is written then
    return Addition(new_text, chosen, item)


def _splice(text: str, stanza: Mapping[str, str]) -> tuple[str, str]:
    data = _yaml().load(text) if text.strip() else None
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    if data is None:
        # an empty file: start one
        item = stanza_yaml(stanza, dash_column=2)
        return "".join(lines) + NEW_FILE + item, item
    sources = data.get("sources")
    if "sources" not in data:
        item = stanza_yaml(stanza, dash_column=2)
        return "".join(lines) + "sources:\n" + item, item
    if sources is not None and (not isinstance(sources, list) or _is_flow(data, "sources", lines)):
        return _rewrite(data, stanza)  # a flow list (sources: [ ]) or something odd: ruamel re-emits it
    dash_column = 2
    if sources:
        _, item_col = sources.lc.item(0)
        first_line = sources.lc.item(0)[0]
        dash = lines[first_line].rfind("-", 0, item_col)
        dash_column = dash if dash >= 0 else max(0, item_col - 2)
    item = stanza_yaml(stanza, dash_column=dash_column)
    at = _insertion_line(data, "sources", lines)
    return "".join(lines[:at]) + item + "".join(lines[at:]), item


def _is_flow(data: Any, key: str, lines: list[str]) -> bool:
    line, col = data.lc.value(key)
    return line < len(lines) and lines[line][col:].lstrip().startswith("[")


def _insertion_line(data: Any, key: str, lines: list[str]) -> int:
    """Index of the line before which a new item of top-level ``key`` goes: before the next top-level key
    and the blank lines and top-level comments leading up to it; else after the file's last content."""
    key_line = data.lc.key(key)[0]
    following = [line for k in data if (line := data.lc.key(k)[0]) > key_line]
    if following:
        end = min(following)
        while end > key_line + 1 and (lines[end - 1].strip() == "" or lines[end - 1].startswith("#")):
            end -= 1
        return end
    end = len(lines)
    while end > key_line + 1 and lines[end - 1].strip() in ("", "..."):
        end -= 1
    return end


def _rewrite(data: Any, stanza: Mapping[str, str]) -> tuple[str, str]:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    sources = data.get("sources")
    seq = CommentedSeq(list(sources) if isinstance(sources, list) else [])
    seq.append(CommentedMap(stanza))
    data["sources"] = seq
    yaml = _yaml()
    yaml.indent(mapping=2, sequence=4, offset=2)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue(), stanza_yaml(stanza, dash_column=2)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step (:func:`mediawatch.files.replacing`), keeping the file's
    permission bits and every byte of its line endings. A symbolic link is followed: its target is replaced,
    the link kept."""
    from mediawatch.files import replacing

    with replacing(path.resolve(), keep_mode=True) as fh:
        fh.write(text.encode("utf-8"))
