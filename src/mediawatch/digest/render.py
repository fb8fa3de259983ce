"""Render a :class:`Digest` as Markdown and as one self-contained HTML page (Jinja2 templates).

Everything from the outside world (titles, summaries, authors, source names, URLs, error messages) is text:

* HTML: Jinja2 autoescape; links only for http/https URLs (:func:`safe_url`); the inline SVG charts come from
  :mod:`mediawatch.digest.charts` and pass through nh3. No scripts, no external resources; a CSP meta tag allows
  only the page's own inline style (by hash). Titles, summaries, source names and authors sit in elements with
  ``dir="auto"`` or in ``<bdi>``, so Arabic-script text (Kazakh in China) reads right to left.
* Markdown: every ``{{ }}`` output is escaped by the environment's ``finalize`` (Markdown's autoescape), so a
  title such as ``[x](javascript:…)`` or ``<script>`` stays literal text; link targets are percent-encoded.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from mediawatch.digest.build import Digest, Section, SectionStory, StoryWhy, change
from mediawatch.digest.names import country_name, topic_name
from mediawatch.digest.week import IsoWeek, zone
from mediawatch.wording import count, isolate, without_bidi_controls

GENERATED_PREFIX = "Generated"  # the one line allowed to differ between two runs for the same week

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&!])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")
# also refused in a link: C1 controls, surrogates and the two non-characters XML forbids (lxml raises on them)
_NOT_IN_URL = re.compile(r"[\x80-\x9f\ud800-\udfff\ufffe\uffff]")


class MdRaw(str):
    """A string the Markdown template prints as is (already escaped or produced by us)."""


def safe_url(url: object) -> str | None:
    """The URL when it is an absolute http(s) URL with a host, else None (no javascript:, data:, …, nor one
    holding a character XML cannot carry: the same links go into the Atom feeds)."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if _CONTROL.search(url) or _NOT_IN_URL.search(url) or any(ch.isspace() for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def md_escape(value: object) -> str:
    """Plain text for a Markdown line: whitespace collapsed, Markdown/HTML punctuation backslash-escaped,
    right-to-left text isolated (:func:`~mediawatch.wording.isolate`) so the rest of the line keeps its order."""
    text = isolate(" ".join(_CONTROL.sub(" ", str(value)).split()))
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_finalize(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, MdRaw):
        return str(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return str(value)
    return md_escape(value)


def _md_link(text: object, url: object) -> MdRaw:
    """``[text](url)`` for a safe URL, else the escaped text alone."""
    label = md_escape(text) or "link"
    target = safe_url(url)
    if target is None:
        return MdRaw(label)
    return MdRaw(f"[{label}](<{quote(target, safe=_URL_SAFE)}>)")


_URL_SAFE = "/:?#[]@!$&'*+,;=%-._~"  # keep URL syntax; encode spaces, <, >, (, ), \, quotes, non-ASCII


def _md_image(alt: str, path: str) -> MdRaw:
    return MdRaw(f"![{md_escape(alt)}](<{quote(path, safe='/._-')}>)")


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _when(moment: datetime, fmt: str = "%a %d %b %Y", tz: str | None = None) -> str:
    """strftime with English day and month names whatever the process locale; the moment is shown in ``tz``
    (an IANA name: the digest's week zone) or as given (UTC)."""
    if tz is not None:
        moment = moment.astimezone(zone(tz))
    fmt = fmt.replace("%a", _DAYS[moment.weekday()]).replace("%b", _MONTHS[moment.month - 1])
    return moment.strftime(fmt)


def _period(week: IsoWeek) -> str:
    """The week's bounds as the editors read them: local Monday 00:00 to Monday 00:00, and in UTC when the
    digest's zone is another one (a week with a daylight-saving change shows it in the offsets)."""
    fmt = "%a %d %b %Y %H:%M"
    local = f"{_when(week.local_start, fmt)} – {_when(week.local_end, fmt)} {week.tz}"
    if week.tz == "UTC":
        return local
    return f"{local} ({_when(week.start, fmt)} – {_when(week.end, fmt)} UTC)"


def _moment(moment: datetime, week: IsoWeek) -> str:
    """An instant as the editors read it: ``Sat 28 Nov 2026 11:20 UTC`` (local time in the week's zone)."""
    return f"{_when(moment, '%a %d %b %Y %H:%M', week.tz)} {week.tz}"


def _section_counts(sec: Section) -> str:
    """What a section heading counts: ``3 stories, 5 items this week`` (items: members that carry the section's
    tag, published in the week)."""
    return f"{count(sec.story_count, 'story', 'stories')}, {count(sec.items, 'item')} this week"


def _entry_counts(entry: SectionStory, sec: Section) -> str:
    """A story's line under a section: ``2 items, 2 sources``, or ``1 of 2 items tagged Türkiye, 2 sources``
    when some members do not carry the section's tag (the heading counts those that do, published this week)."""
    sources = count(len(entry.story.sources), "source")
    if entry.tagged == entry.members:
        return f"{count(entry.members, 'item')}, {sources}"
    return f"{entry.tagged} of {count(entry.members, 'item')} tagged {sec.name}, {sources}"


def _more_line(sec: Section) -> str:
    return f"…and {count(sec.more, 'more story', 'more stories')} ({count(sec.more_items, 'item')} this week)"


def _why_line(why: StoryWhy) -> str:
    """Why a story carries its tags, in one plain line: ``Why: relevance 0.91–0.99 (3 items); Mongolia:
    Bayan-Ölgii, Ölgii; Festivals 0.93`` (names as the gazetteer spells them; scores as the tagger gave them)."""
    parts: list[str] = []
    if why.relevance:
        low, high = f"{why.relevance[0]:.2f}", f"{why.relevance[-1]:.2f}"
        n = len(why.relevance)
        parts.append(f"relevance {low}" + ("" if n == 1 else f" ({n} items)" if low == high else
                                           f"–{high} ({n} items)"))
    if why.editors:
        parts.append(f"{count(why.editors, 'item')} marked by an editor")
    parts += [
        f"{country_name(code)}: {', '.join(without_bidi_controls(n) for n in names)}"
        for code, names in why.countries
        if names
    ]
    scored = [f"{topic_name(t)} {score:.2f}" for t, score in why.topics if score is not None]
    if scored:
        parts.append(", ".join(scored))
    return "Why: " + "; ".join(parts) if parts else ""


def _lang(code: str | None) -> str:
    return code or "?"


def _html_lang(code: str | None) -> str:
    """A value for the HTML lang attribute (BCP 47 characters only), or empty."""
    return code if code and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", code) else ""


@cache
def _css() -> str:
    return resources.files("mediawatch.digest").joinpath("templates/digest.css").read_text(encoding="utf-8")


def _csp(css: str) -> str:
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'none'; script-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )


def _globals() -> dict[str, Any]:
    return {
        "change": change,
        "count": count,
        "country_name": country_name,
        "topic_name": topic_name,
        "country_names": lambda codes: ", ".join(country_name(c) for c in codes),
        "topic_names": lambda codes: ", ".join(topic_name(c) for c in codes),
        "generated_prefix": GENERATED_PREFIX,
        "period": _period,
        "moment": _moment,
        "section_counts": _section_counts,
        "entry_counts": _entry_counts,
        "more_line": _more_line,
        "why_line": _why_line,
    }


@cache
def _html_env() -> Environment:
    env = Environment(
        loader=PackageLoader("mediawatch.digest", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(safe_url=safe_url, when=_when, lang=_lang, html_lang=_html_lang)
    env.globals.update(_globals())
    return env


@cache
def _md_env() -> Environment:
    env = Environment(
        loader=PackageLoader("mediawatch.digest", "templates"),
        autoescape=False,
        finalize=_md_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(when=_when, lang=_lang, link=_md_link)
    env.globals.update(_globals(), image=_md_image, raw=MdRaw)
    return env


def render_markdown(digest: Digest, *, chart_dir: str) -> str:
    """The Markdown digest; charts are linked as ``chart_dir/<name>.svg`` (relative to the .md file)."""
    return _md_env().get_template("digest.md.j2").render(d=digest, chart_dir=chart_dir, this_week=_this_week(digest))


def render_html(digest: Digest) -> str:
    css = _css()
    charts = {c.name: Markup(c.svg) for c in digest.charts}  # sanitized by charts.sanitize_svg
    return _html_env().get_template("digest.html.j2").render(
        d=digest, css=Markup(css), csp=_csp(css), charts=charts, this_week=_this_week(digest)
    )


def _this_week(digest: Digest) -> str:
    return "so far this week" if digest.partial else "this week"


__all__ = ["GENERATED_PREFIX", "md_escape", "render_html", "render_markdown", "safe_url"]
