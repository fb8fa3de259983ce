"""Charts as small hand-written SVG: horizontal bars (per country, per topic) and an 8-week column trend.

Why not matplotlib or pygal: three simple charts do not need a plotting stack (matplotlib is a large new
dependency whose SVG carries ids and metadata that change between runs unless tamed; pygal's SVG embeds
scripts and needs JavaScript for its tooltips, which the digest's CSP forbids). These functions emit byte-stable
SVG that uses presentation attributes only (no style attributes, no scripts), every label escaped, and
:func:`sanitize_svg` passes the result through nh3 with an SVG allowlist before it is inlined or written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import nh3

from mediawatch.wording import shorten

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
BAR = "#2b6cb0"
BAR_CURRENT = "#c05621"
INK = "#1a202c"
MUTED = "#4a5568"
GRID = "#e2e8f0"
MAX_BARS = 12
LABEL_CHARS = 26

_SVG_TAGS = {"svg", "g", "rect", "text", "title", "desc", "line"}
_COMMON = {"x", "y", "fill", "font-size", "font-family", "font-weight", "text-anchor", "dominant-baseline"}
_SVG_ATTRS = {
    "svg": {"xmlns", "viewBox", "width", "height", "role", "aria-labelledby", "preserveAspectRatio", "class"},
    "g": {"transform", "fill", "font-family", "font-size"},
    "rect": {"x", "y", "width", "height", "fill", "rx"},
    "text": _COMMON,
    "title": {"id"},
    "desc": {"id"},
    "line": {"x1", "y1", "x2", "y2", "stroke", "stroke-width"},
}


@dataclass(frozen=True, slots=True)
class Chart:
    name: str  # file stem: countries, topics, trend
    title: str
    svg: str  # sanitized markup, usable inline in HTML and as a standalone .svg file


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _label(text: str) -> str:
    return shorten(text, LABEL_CHARS)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def bar_chart(name: str, title: str, rows: Sequence[tuple[str, int]], *, width: int = 640) -> Chart:
    """Horizontal bars, largest first as given; at most MAX_BARS rows (the rest summed as 'Other')."""
    rows = list(rows)
    if len(rows) > MAX_BARS:
        rows = rows[: MAX_BARS - 1] + [("Other", sum(v for _, v in rows[MAX_BARS - 1 :]))]
    label_w, value_w, row_h, top = 190, 48, 26, 34
    height = top + row_h * max(1, len(rows)) + 10
    plot_w = width - label_w - value_w
    peak = max((v for _, v in rows), default=0) or 1
    tid = f"chart-{name}-title"
    parts = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="{tid}" class="chart">'),
        f'<title id="{tid}">{_e(title)}</title>',
        f'<g font-family="{_e(FONT)}" font-size="13">',
        f'<text x="0" y="18" font-size="15" font-weight="bold" fill="{INK}">{_e(title)}</text>',
    ]
    for i, (label, value) in enumerate(rows):
        y = top + i * row_h
        w = plot_w * value / peak
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" fill="{INK}">{_e(_label(label))}</text>'
        )
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{_num(w)}" height="{row_h - 8}" fill="{BAR}" rx="2"/>')
        parts.append(f'<text x="{_num(label_w + w + 6)}" y="{y + 17}" fill="{MUTED}">{value}</text>')
    if not rows:
        parts.append(f'<text x="0" y="{top + 17}" fill="{MUTED}">No data</text>')
    parts.append("</g></svg>")
    return Chart(name, title, sanitize_svg("".join(parts)))


def column_chart(name: str, title: str, points: Sequence[tuple[str, int]], *, width: int = 640) -> Chart:
    """Vertical columns in the given order (oldest first); the last column is highlighted as the current one."""
    height, top, bottom, left = 230, 34, 30, 8
    plot_h = height - top - bottom
    n = max(1, len(points))
    slot = (width - left) / n
    bar_w = slot * 0.62
    peak = max((v for _, v in points), default=0) or 1
    tid = f"chart-{name}-title"
    base = top + plot_h
    parts = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="{tid}" class="chart">'),
        f'<title id="{tid}">{_e(title)}</title>',
        f'<g font-family="{_e(FONT)}" font-size="12">',
        f'<text x="0" y="18" font-size="15" font-weight="bold" fill="{INK}">{_e(title)}</text>',
        f'<line x1="{left}" y1="{base}" x2="{width}" y2="{base}" stroke="{GRID}" stroke-width="1"/>',
    ]
    for i, (label, value) in enumerate(points):
        h = (plot_h - 18) * value / peak
        x = left + i * slot + (slot - bar_w) / 2
        cx = x + bar_w / 2
        fill = BAR_CURRENT if i == len(points) - 1 else BAR
        parts.append(
            f'<rect x="{_num(x)}" y="{_num(base - h)}" width="{_num(bar_w)}" height="{_num(h)}" fill="{fill}" rx="2"/>'
        )
        parts.append(
            f'<text x="{_num(cx)}" y="{_num(base - h - 5)}" text-anchor="middle" fill="{MUTED}">{value}</text>'
        )
        parts.append(f'<text x="{_num(cx)}" y="{base + 18}" text-anchor="middle" fill="{INK}">{_e(label)}</text>')
    parts.append("</g></svg>")
    return Chart(name, title, sanitize_svg("".join(parts)))


def sanitize_svg(markup: str) -> str:
    """Keep only the SVG elements and attributes these charts use (defence in depth: labels are escaped)."""
    return nh3.clean(markup, tags=_SVG_TAGS, attributes=_SVG_ATTRS, link_rel=None, strip_comments=True)


def standalone(chart: Chart) -> str:
    """The chart as an .svg file."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + chart.svg + "\n"


__all__ = ["Chart", "bar_chart", "column_chart", "sanitize_svg", "standalone"]
