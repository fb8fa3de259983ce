"""Jinja2 for the web pages: autoescape on for every template, filters for dates, links, language tags and
bidirectional isolation of outside text (``bdi``; see :func:`isolate`).

The page style is one inline stylesheet (``templates/style.css``); its SHA-256 goes into the
Content-Security-Policy, so nothing else (no script, no other style, no external resource) can run or load.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime
from functools import cache
from importlib import resources
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from mediawatch.digest.names import country_name, topic_name
from mediawatch.digest.render import safe_url
from mediawatch.normalize import display_text
from mediawatch.publish.text import language_tag
from mediawatch.wording import without_bidi_controls

CSS = resources.files("mediawatch.web").joinpath("templates/style.css").read_text(encoding="utf-8").strip()
NONE = "'none'"


def css_hash(css: str = CSS) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")


def page_csp() -> str:
    """The policy for our pages: nothing but our stylesheet, our own images and forms posted to ourselves."""
    return (
        f"default-src 'none'; style-src '{css_hash()}'; img-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )


def style_csp(html: str) -> str:
    """A policy for a stored HTML file (a digest): allow exactly its own inline stylesheets, by hash."""
    hashes = " ".join(f"'{css_hash(s)}'" for s in re.findall(r"<style>(.*?)</style>", html, flags=re.S))
    return (
        f"default-src 'none'; style-src {hashes or NONE}; img-src 'self'; "
        "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
    )


def when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    return value.strftime(fmt) if value else "—"


def isolate(value: object) -> Markup:
    """Outside text (a title, a source's or an editor's name) in ``<bdi>``, escaped: it takes its direction
    from its own first strong character, so Arabic-script text reads right to left without reordering the
    punctuation and the names around it, and the page stays left to right. Blocks that hold only such text
    carry ``dir="auto"`` in the templates instead. Directional controls in the text (U+202E…) are removed:
    inside the ``<bdi>`` they would still reverse the rest of it."""
    return Markup("<bdi>%s</bdi>") % ("" if value is None else nobidi(value))


def nobidi(value: object) -> object:
    """Outside text without directional embeddings, overrides and isolates (collection removes them; items
    stored before it did keep theirs). Anything else (None, Markup we made) is returned as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return without_bidi_controls(value)
    return value


def headline(value: object) -> str:
    """An item's title, summary or author as every output shows it (:func:`mediawatch.normalize.display_text`:
    the feeds, both digests and export show the same text)."""
    return display_text(value)


def query(base: dict[str, str], **changes: object) -> str:
    """A query string from the current filters with some changed (None drops one)."""
    merged = {**base, **{k: str(v) for k, v in changes.items() if v is not None}}
    for k, v in changes.items():
        if v is None:
            merged.pop(k, None)
    return "?" + urlencode({k: v for k, v in merged.items() if v != ""}) if merged else "?"


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("mediawatch.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=when,
        bdi=isolate,
        headline=headline,
        shown=headline,  # a summary or an author: rendered as a title is
        nobidi=nobidi,
        safe_url=safe_url,
        lang=language_tag,
        topic_name=topic_name,
        country_name=country_name,
    )
    env.globals.update(css=Markup(CSS), query=query)
    return env


__all__ = ["CSS", "css_hash", "environment", "headline", "isolate", "nobidi", "page_csp", "query", "style_csp", "when"]
