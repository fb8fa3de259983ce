"""Text for subscriber feeds: untrusted strings made plain and XML-safe, the entry HTML, the *why* in words.

Every string a feed or page supplied (title, summary, author, evidence) goes through :func:`plain`, which is
:func:`mediawatch.normalize.display_text`, the one rendering of an item's title that collection stores and the
digests and web pages show too: markup dropped (with the content of ``script``/``style``), entities decoded,
repeated until nothing changes, so an escaped ``&lt;script&gt;`` cannot come back as markup; directional
controls (U+202E…) go, for items stored before collection removed them. Text that is not markup is kept as
written, a literal ``javascript:`` included: no text becomes a link anywhere (links come only from
:func:`~mediawatch.digest.render.safe_url`, and the entry HTML allows only http(s) links). The operator's
source name (sources.yaml) is plain text already: :func:`as_text` keeps it verbatim (``Edge & <Test> Outlet``
stays that), only controls and line breaks go; the Atom and JSON writers and the HTML escaping below make it
safe where it lands. Long text is cut by :func:`mediawatch.wording.shorten` (word or grapheme boundary, never
half a character).

The entry HTML is built from escaped pieces and then passed through nh3 once more with a small allowlist
(links: http/https only). Untrusted text sits in elements with ``dir="auto"`` (or ``<bdi>``), so a title or
source name in Arabic script (Kazakh in China) reads right to left inside the English framing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import nh3
from markupsafe import escape

from mediawatch.digest.names import country_name, topic_name
from mediawatch.digest.render import safe_url
from mediawatch.normalize import display_text
from mediawatch.publish.topics import topics_line
from mediawatch.store.evidence import Why
from mediawatch.store.queries import TaggedItem
from mediawatch.wording import isolate, shorten, without_bidi_controls

# characters XML 1.0 forbids (lxml refuses them) plus other controls that only confuse readers
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_WS = re.compile(r"\s+")
_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*\Z")

ENTRY_TAGS = {"p", "ul", "li", "strong", "a", "br", "bdi"}
ENTRY_ATTRIBUTES = {"a": {"href"}, "p": {"dir"}}
SUMMARY_CHARS = 600


def plain(value: object, limit: int | None = None) -> str:
    """Plain, single-line, XML-safe text from an untrusted string (:func:`~mediawatch.normalize.display_text`:
    markup removed, entities decoded, directional controls removed), cut to ``limit``."""
    text = display_text(value)
    return shorten(text, limit) if limit is not None else text


def as_text(value: object, limit: int | None = None) -> str:
    """Plain, single-line, XML-safe text from a string that is text already (the operator's source name):
    kept verbatim (no markup is looked for, ``&`` and ``<`` stay), only controls (directional ones included) and
    runs of spaces go."""
    out = _WS.sub(" ", _NOT_XML.sub(" ", without_bidi_controls(str(value or "")))).strip()
    return shorten(out, limit) if limit is not None else out


def language_tag(value: str | None) -> str | None:
    """A BCP 47-looking language code, or None."""
    return value if value and _LANG.match(value) else None


def source_name(item: TaggedItem) -> str:
    """The operator's name for the item's source, verbatim (plain text, never treated as markup)."""
    return as_text(item.source_name)


def source_label(item: TaggedItem) -> str:
    name = source_name(item)
    return f"{name} ({item.source_id})" if name and name != item.source_id else as_text(item.source_id)


def _parts(why: Why | None) -> str:
    """How a long text was read, for the relevance line ("" for a text read whole)."""
    if why is None or len(why.parts) < 2:
        return ""
    scores = ", ".join(f"{p:.2f}" for p in why.parts)
    told = f"; the names and countries below are from part {why.evidence_from + 1}" if why.evidence_from else ""
    return f", from the {len(why.parts)} parts the text was read in ({scores}){told}"


def why_lines(item: TaggedItem, *, nearest: bool = False) -> list[str]:
    """Why the item is in the feed, as short plain-text lines (relevance, names, countries, topics, and with
    ``nearest`` the closest training example). Outside words (matched names, an editor's name and note) are
    isolated, so names in Arabic script keep their order."""
    why = item.why
    lines: list[str] = []
    if item.labeled:
        who = f" ({isolate(as_text(item.editor, 60))})" if item.editor else ""  # typed by an editor: text
        note = f": {isolate(as_text(item.note, 200))}" if item.note else ""
        verdict = "relevant" if item.relevant else "not relevant"
        lines.append(f"Marked {verdict} by an editor{who}{note}.")
    if item.relevance is not None:
        threshold = f" (threshold {why.threshold:.2f})" if why and why.threshold is not None else ""
        lines.append(f"Model relevance {item.relevance:.2f}{threshold}{_parts(why)}.")
    if why is not None:
        names = _unique(
            [
                f"{isolate(plain(p.text))} → {isolate(plain(p.name))} ({plain(p.country)})"
                if p.text and p.text != p.name
                else f"{isolate(plain(p.name))} ({plain(p.country)})"
                for p in why.places
            ]
            + [isolate(plain(s)) for kind, surfaces in why.terms if kind != "other_group" for s in surfaces]
        )
        if names:
            lines.append("Names matched: " + ", ".join(names[:12]) + ".")
    if item.countries:
        parts = []
        for code in item.countries:
            support = _unique(isolate(plain(n)) for n in (why.support(code) if why else ()))
            parts.append(
                f"{country_name(code)} [{code}]" + (f" ({', '.join(support[:5])})" if support else "")
            )
        lines.append("Countries: " + "; ".join(parts) + ".")
    if (topics := topics_line(item)) is not None:  # each with its score, told as it was decided
        lines.append(topics)
    if item.language:
        detected = (
            f", detected {plain(why.language)}"
            if why and why.language and why.language != item.language
            else ""
        )
        lines.append(f"Language: {plain(item.language)}{detected}.")
    if nearest and why is not None and why.nearest:
        n = why.nearest[0]
        verdict = "not relevant"
        if n.relevant:
            verdict = "relevant" + "".join(f", {topic_name(plain(t))}" for t in n.topics)
        lines.append(f"Nearest training example: {isolate(plain(n.text, 160))} ({verdict}; similarity "
                     f"{n.similarity:.2f}).")
    return lines


def entry_html(item: TaggedItem) -> str:
    """The entry content: summary, the why as a list, the source and a link to the original (sanitised)."""
    summary = plain(item.summary, SUMMARY_CHARS)
    parts: list[str] = []
    if summary:
        parts.append(f'<p dir="auto">{escape(summary)}</p>')
    lines = why_lines(item, nearest=True)
    if lines:
        parts.append("<p><strong>Why it is in this feed</strong></p><ul>")
        parts.extend(f"<li>{escape(line)}</li>" for line in lines)
        parts.append("</ul>")
    link = safe_url(item.url)
    source = escape(source_label(item))
    if link:
        parts.append(f'<p>Source: <bdi>{source}</bdi>. <a href="{escape(link)}">Read the original</a></p>')
    else:
        parts.append(f"<p>Source: <bdi>{source}</bdi>.</p>")
    return sanitize_html("".join(parts))


def entry_text(item: TaggedItem) -> str:
    """The same content as plain text (JSON Feed ``content_text``)."""
    out = [plain(item.summary, SUMMARY_CHARS)] if item.summary else []
    out += [f"- {line}" for line in why_lines(item, nearest=True)]
    out.append(f"Source: {source_label(item)}")
    return "\n".join(x for x in out if x)


def sanitize_html(markup: str) -> str:
    return nh3.clean(
        markup,
        tags=ENTRY_TAGS,
        attributes=ENTRY_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer nofollow",
    )


def _unique(values: Iterable[str]) -> list[str]:
    return [v for v in dict.fromkeys(values) if v]


__all__ = [
    "as_text",
    "entry_html",
    "entry_text",
    "language_tag",
    "plain",
    "sanitize_html",
    "source_label",
    "source_name",
    "why_lines",
]
