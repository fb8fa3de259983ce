"""feeds.opml: every subscriber feed, grouped (topics, countries, topics by country), for one-click import.

Each outline points at the Atom feed (``xmlUrl``, what feed readers subscribe to) and names its JSON Feed twin
in ``jsonFeedUrl``, so importing the file subscribes once per feed. URLs are absolute when a base URL is
known, else relative to the OPML file (which sits in the digests folder, beside ``feeds/``). No dates: the
bytes only change when the list does.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from mediawatch.digest.names import country_name, topic_name, topic_order
from mediawatch.publish.feeds import FeedKey, FeedOptions


def render_opml(keys: Iterable[FeedKey], *, options: FeedOptions, base_url: str | None = None) -> bytes:
    base = (base_url if base_url is not None else options.base_url) or ""
    if base:
        base = base.rstrip("/") + "/"
    keys = sorted(set(keys), key=_order)
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = f"{options.site_title}: subscriber feeds"
    body = ET.SubElement(root, "body")
    topics = [k for k in keys if k.topic and not k.country]
    countries = [k for k in keys if k.country and not k.topic]
    pairs = [k for k in keys if k.topic and k.country]
    if topics:
        group = ET.SubElement(body, "outline", text="Topics", title="Topics")
        for k in topics:
            _feed(group, k, base)
    if countries:
        group = ET.SubElement(body, "outline", text="Countries", title="Countries")
        for k in countries:
            _feed(group, k, base)
    if pairs:
        group = ET.SubElement(body, "outline", text="Topics by country", title="Topics by country")
        for topic in dict.fromkeys(k.topic for k in pairs):
            name = topic_name(topic or "")
            sub = ET.SubElement(group, "outline", text=name, title=name)
            for k in pairs:
                if k.topic == topic:
                    _feed(sub, k, base)
    ET.indent(root, space="  ")
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def _feed(parent: ET.Element, key: FeedKey, base: str) -> None:
    ET.SubElement(
        parent,
        "outline",
        type="rss",
        version="ATOM",
        text=key.title,
        title=key.title,
        xmlUrl=base + key.path("atom"),
        jsonFeedUrl=base + key.path("json"),
    )


def _order(key: FeedKey) -> tuple[tuple[int, str], str]:
    return (
        topic_order(key.topic) if key.topic else (-1, ""),
        country_name(key.country) if key.country else "",
    )


__all__ = ["render_opml"]
