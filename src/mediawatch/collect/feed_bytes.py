"""A feed body's bytes, checked and repaired before feedparser reads them: the first element and DOCTYPE of the
document (found without an XML parser, in linear time on hostile input), the text outside comments and CDATA,
and numeric character references no decoder accepts. Pure functions; no parsing of the feed itself."""

from __future__ import annotations

import codecs
import re
from typing import AnyStr

_OPENERS = re.compile(r"<!--|<!\[CDATA\[")
# Linear on purpose: no nested quantifiers over the same characters (a hostile DOCTYPE must not backtrack).
_PROLOG_ITEM = re.compile(
    r"\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[[^\]]*\][^>]*)?>", re.DOTALL | re.IGNORECASE
)
_ROOT = re.compile(r"<([A-Za-z_][\w.:-]*)")

# A numeric character reference that could name a surrogate (U+D800-DFFF) or a code point past U+10FFFF, which
# feedparser's lenient parser turns into a crash (``chr``/``encode``); the callback decides. Possessive
# quantifiers keep it linear on a hostile run of digits; only rare spellings reach the callback (hex D800-DFFF
# or 6+ digits, decimal 55000-57999 or 7+ digits).
_ODD_REFERENCE = (
    r"&#(?:[xX]0*+([dD][89a-fA-F][0-9a-fA-F]{2}|[1-9a-fA-F][0-9a-fA-F]{5,}+)"  # group 1: hex digits
    r"|0*+(5[5-7][0-9]{3}|[1-9][0-9]{6,}+));"  # group 2: decimal digits
)
_ODD_REFERENCE_BYTES = re.compile(_ODD_REFERENCE.encode("ascii"))
_ODD_REFERENCE_TEXT = re.compile(_ODD_REFERENCE)
_MAX_CODE_POINT = 0x10FFFF
# Byte-order marks and first bytes (``<?``) of documents in the encodings where ``&#`` is not two ASCII bytes.
_WIDE_ENCODINGS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
    (b"<\x00\x00\x00", "utf-32-le"), (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00?\x00", "utf-16-le"), (b"\x00<\x00?", "utf-16-be"),
)  # fmt: skip


def root_element(window: str) -> tuple[str, str]:
    """(local name of the first element, lower-cased; the DOCTYPE text) from the start of a document."""
    pos, doctype = 0, ""
    while match := _PROLOG_ITEM.match(window, pos):
        if match.group().upper().startswith("<!DOCTYPE"):
            doctype = match.group()
        pos = match.end()
    root = _ROOT.match(window, pos)
    return (root.group(1).rpartition(":")[2].lower() if root else ""), doctype


def outside_comments(text: str) -> str:
    """``text`` without comments and CDATA sections, in linear time (a lazy ``<!--.*?-->`` regex is
    quadratic on a body of unterminated ``<!--``)."""
    kept, pos = [], 0
    while opener := _OPENERS.search(text, pos):
        kept.append(text[pos : opener.start()])
        end = text.find("-->" if opener.group() == "<!--" else "]]>", opener.end())
        if end < 0:
            return "".join(kept)
        pos = end + 3
    kept.append(text[pos:])
    return "".join(kept)


def mend_references(body: bytes) -> bytes:
    """``body`` with each numeric character reference to a surrogate or past U+10FFFF (``&#xD800;``,
    ``&#55296;``, ``&#x110000;``) made ``&#xFFFD;``, what a browser shows for one. feedparser's lenient
    parser crashes on them, and one such reference would otherwise lose every entry of the feed.

    One regex pass over the bytes (nothing to do without ``&#``); UTF-16/32 bodies are decoded for it."""
    for mark, encoding in _WIDE_ENCODINGS:
        if body.startswith(mark):
            try:
                text = body.decode(encoding)
            except UnicodeDecodeError:
                return body  # not what its first bytes say: feedparser will report it
            mended = _ODD_REFERENCE_TEXT.sub(_mended, text)
            return body if mended == text else mended.encode(encoding)
    if b"&#" not in body:
        return body
    return _ODD_REFERENCE_BYTES.sub(_mended, body)


def _is_character(digits: str | bytes, base: int) -> bool:
    """Whether the reference's digits (no leading zeros) name a code point Python can encode."""
    if len(digits) > 8:  # past U+10FFFF in either base (and int() is never asked to read a hostile run)
        return False
    code = int(digits, base)
    return code <= _MAX_CODE_POINT and not 0xD800 <= code <= 0xDFFF


def _mended(match: re.Match[AnyStr]) -> AnyStr:
    """The reference as it was when it names a character, else ``&#xFFFD;`` (bytes or text, as matched)."""
    hex_digits = match.group(1)
    ok = _is_character(hex_digits, 16) if hex_digits is not None else _is_character(match.group(2), 10)
    if ok:
        return match.group()
    replacement = "&#xFFFD;"
    return replacement.encode("ascii") if isinstance(match.group(), bytes) else replacement  # type: ignore[return-value]
