"""Whether a byline names a person: one rule for feeds and pages.

A byline's label ("Автор:", "Avtor", "Yazar:") is no part of the name. A profile URL, a CMS account
(``admin``, Blogger's ``Unknown``) and the outlet's own name (a site that calls itself the author: its
``og:site_name`` or feed title, or a name spelling a label of its host, "Egemen kz" on egemen.kz) are no
author at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

_BYLINE_LABEL = re.compile(
    r"(?i)^(?:by|written by|author|authors|автор|авторы|автор материала|avtor|avtory|yazar|muallif|мақала авторы"
    r"|жазған|autor|auteur)\s*[:：.\-–—]?\s+"
)
_NO_AUTHOR = frozenset({
    "admin", "administrator", "webmaster", "editor", "redaktor", "редактор", "администратор", "unknown",
    "anonymous", "аноним", "noreply", "no-reply", "root", "user", "guest",
})  # fmt: skip
# "Qazaq TV — Жаңалықтар", "News | Qazaq TV": the separators a feed or page title joins the outlet's name with
TITLE_PARTS = re.compile(r"\s+[|–—-]\s+|\s+::\s+|\s+»\s+")


def person(name: str | None, *, url: str, outlet_names: Iterable[str | None] = ()) -> str | None:
    """``name`` without its byline label, or None when it names no person (see the module's docstring).
    ``url``: the item's address (its host is the outlet's); ``outlet_names``: names the outlet goes by (its
    ``og:site_name``, its feed's title, whose parts each count)."""
    name = " ".join((name or "").split())
    name = _BYLINE_LABEL.sub("", name).strip()
    if not name or name.startswith(("http://", "https://")) or name.casefold() in _NO_AUTHOR:
        return None
    folded = name.casefold()
    outlets = {" ".join(p.split()).casefold() for n in outlet_names if n for p in (n, *TITLE_PARTS.split(n))}
    letters = re.sub(r"\W", "", folded)
    labels = (urlsplit(url).hostname or "").split(".")
    host = {*labels, *("".join(labels[i:]) for i in range(len(labels)))}  # "Egemen kz" is egemen.kz
    return None if folded in outlets or (len(letters) >= 4 and letters in host) else name
