"""Publishing for subscribers: Atom and JSON feeds per topic, country and pair, and the OPML list of them."""

from __future__ import annotations

from mediawatch.publish.feeds import FeedKey, FeedOptions, pick_entries, render_atom, render_json
from mediawatch.publish.opml import render_opml
from mediawatch.publish.write import feed_entries, known_keys, rebuild_feeds

__all__ = [
    "FeedKey",
    "FeedOptions",
    "feed_entries",
    "known_keys",
    "pick_entries",
    "rebuild_feeds",
    "render_atom",
    "render_json",
    "render_opml",
]
