"""The offline demo's sample website: mediawatch's own demo outlets (RSS, Atom, a YouTube-style channel feed
and a news site without a feed) written for the demo and served on 127.0.0.1. See :mod:`.site`."""

from mediawatch.demo.catalog import DemoItem, DemoSource, place, week_start
from mediawatch.demo.site import DemoSite, Hit

__all__ = ["DemoItem", "DemoSite", "DemoSource", "Hit", "place", "week_start"]
