"""Turn what a collector saw (``RawEntry``) into a stored ``Item``: pure functions, no I/O.

* ``canonical_url`` is the identity of an item: the same story reached through two feeds (or with
  different tracking tags) must give the same string, so ``item_id`` gives the same id.
* ``html_to_text`` makes plain text out of untrusted HTML; nothing that leaves this module is markup.
* ``normalize`` returns ``Item`` or a typed ``Skipped`` result, never ``None``.
"""

from __future__ import annotations

import hashlib
import html
import re
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from html.entities import html5 as html5_entities
from urllib.parse import SplitResult, quote, unquote, urljoin, urlsplit, urlunsplit

import nh3

from mediawatch.models import Item, ItemId, RawEntry, SourceId
from mediawatch.wording import BIDI_CONTROLS, shorten, without_bidi_controls

TITLE_MAX = 300
SUMMARY_MAX = 2_000
TEXT_MAX = 100_000
AUTHOR_MAX = 200
MAX_EXTRA_UNESCAPES = 3  # decodings beyond the first for text an outlet escaped more than once
DISPLAY_PASSES = 4  # markup removals and decodings display_text makes at most (text escaped three times over)
DERIVED_TITLE_MAX = 120  # a title made from the start of the summary
FUTURE_TOLERANCE = timedelta(days=1)

WEB_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters that only say where a click came from. Everything else in a query is kept, because
# for many sites (``?id=123``, ``?p=42``) the query *is* the article.
TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "hsa_")
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "ysclid", "twclid",
        "ttclid", "li_fat_id", "igshid", "igsh", "mc_cid", "mc_eid", "mc_tc", "_openstat", "_hsenc",
        "_hsmi", "__hstc", "__hssc", "__hsfp", "hsctatracking", "mkt_tok", "_ga", "_gl", "oly_anon_id",
        "oly_enc_id", "vero_id", "vero_conv", "wickedid", "rb_clickid", "s_cid", "ncid", "sr_share",
        "cmpid", "xtor", "fb_action_ids", "fb_action_types", "fb_ref", "fb_source", "action_object_map",
        "action_type_map", "action_ref_map", "spm", "scm", "guccounter", "guce_referrer",
        "guce_referrer_sig", "rss", "ref_src", "ref_url", "smid", "cmp", "trk", "trkcampaign",
    }
)  # fmt: skip

# Session ids: a new value on every visit, so a link carrying one would be a new item on every run. ``sid``
# and ``s`` are also ordinary ids (PHP-Nuke's ``?sid=123`` is a story), so they count only with a value that
# looks like a session token.
SESSION_PARAMS = frozenset({"phpsessid", "jsessionid", "sessionid", "session_id", "sess_id", "cfid", "cftoken"})
SESSION_PREFIXES = ("aspsessionid",)
_MAYBE_SESSION = frozenset({"sid", "s"})
_SESSION_TOKEN = re.compile(r"^(?:[0-9a-fA-F]{16,}|[0-9A-Za-z,-]{26,})\Z")
_PATH_SESSION = re.compile(r";jsessionid=[^/?#]*", re.IGNORECASE)  # Java's /article/12;jsessionid=…

_URI_SAFE = "/?%:@!$&'()*+,;=~-._"
_ESCAPE = re.compile(r"%(?:[0-9A-Fa-f]{2})?")  # an escape, or a "%" that starts none
# RFC 3986 2.3: letters, digits and -._~ mean the same escaped or not
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_WS = re.compile(r"\s+")
# Control and invisible characters, lone surrogates (U+D800-DFFF: a JSON ``"\ud800"`` escape decodes to one;
# no encoder accepts it, so one in a title would make storing the whole source fail) and the directional
# embeddings, overrides and isolates (U+202A-202E, U+2066-2069: see mediawatch.wording.BIDI_CONTROLS).
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200c\u200d\u2060\ufeff\u00ad\ud800-\udfff" + BIDI_CONTROLS + "]"
)
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# what display_text turns into spaces: C0 controls, DEL, lone surrogates and what XML 1.0 forbids besides
_NOT_SHOWN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_REFERENCE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_MARKUP = re.compile(r"<[A-Za-z/!]")
_AMPERSAND = re.compile("&")
_EDGE_MARKS = "\u200e\u200f\u061c"  # left-to-right, right-to-left and Arabic letter marks
# WordPress's own last sentence, after the excerpt: "… The post <title> appeared first on <site>."
_FEED_FOOTER = re.compile(r"(?<=[.!?…»\"”)])\s+The post [^\n]{1,300}? appeared first on [^.!?\n]{1,150}[.!?]?\s*$")
FOOTER_WINDOW = 600  # characters at the end of a summary where that sentence is looked for
# Elements dropped with their content ("title": a fragment has no <head>, so its <title> would show).
_DROP_CONTENT = {
    "script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math", "head", "title",
}  # fmt: skip
_BLOCK_TAGS = [
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
    "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
    "section", "table", "td", "th", "tr", "ul",
]  # fmt: skip
_BLOCK_START = re.compile(r"<(/?(?:" + "|".join(_BLOCK_TAGS) + r"))(?=[\s/>])", re.IGNORECASE)


class SkipReason(StrEnum):
    NO_URL = "no_url"  # neither a link nor a guid
    INVALID_URL = "invalid_url"  # a link that is not http(s) (javascript:, mailto:, garbage) and no guid
    NO_TITLE_OR_TEXT = "no_title_or_text"  # nothing to show a reader


@dataclass(frozen=True, slots=True)
class Skipped:
    """An entry ``normalize`` declined, with the reason and something a log line can name it by."""

    reason: SkipReason
    source_id: SourceId
    detail: str = ""


# --------------------------------------------------------------------------------------------- URLs


def _key(pair: str) -> str:
    return unquote(pair.partition("=")[0].replace("+", " ")).strip().lower()


def _is_tracking(pair: str) -> bool:
    """A query pair that only says where a click came from, or which visit it was (a session id)."""
    key = _key(pair)
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES + SESSION_PREFIXES) or key in SESSION_PARAMS


def _is_session_token(pair: str) -> bool:
    """``sid=9f86d0…`` or ``s=…`` with a value that looks like a session token."""
    return _key(pair) in _MAYBE_SESSION and bool(_SESSION_TOKEN.match(unquote(pair.partition("=")[2]).strip()))


def _clean_query(query: str) -> str:
    """Drop tracking and session pairs; keep the others in order, only percent-encoding what a URI may not
    contain. A token-like ``sid``/``s`` goes only beside another pair: alone, it may be the article's id."""
    if not query:
        return ""
    pairs = [pair for pair in query.split("&") if pair and not _is_tracking(pair)]
    kept = [pair for pair in pairs if not _is_session_token(pair)]
    return "&".join(_quote(pair) for pair in (kept or pairs))


def _quote(part: str) -> str:
    """Percent-encode what a URI may not contain, and normalise the escapes already there (RFC 3986 6.2.2):
    an escaped unreserved character is decoded (``%31`` -> ``1``, ``%7E`` -> ``~``), the others are kept in
    upper case, so ``/d/%31``, ``/d/1``, ``%d1`` and ``%D1`` spellings of one link give one item."""
    return _normal_escapes(quote(part, safe=_URI_SAFE, errors="surrogatepass"))


def _normal_escapes(text: str) -> str:
    """``text`` with escaped unreserved characters decoded, every other escape in upper case and a "%" that
    starts no escape (``%%41``, ``%4``, ``%zz``) escaped itself (``%25``), all in one pass: so a stray "%" never
    makes an escape with what a decoding left after it, and the result stays as it is (idempotent)."""
    if "%" not in text:
        return text
    return _ESCAPE.sub(_normal_escape, text)


def _normal_escape(match: re.Match[str]) -> str:
    if len(match.group(0)) == 1:
        return "%25"
    char = chr(int(match.group(0)[1:], 16))
    return char if char in _UNRESERVED else match.group(0).upper()


def _ascii_host(host: str) -> str:
    """IDN host names in their ASCII (punycode) form, so both spellings of one host compare equal."""
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return without_surrogates(host)  # kept as written, but never with a character no encoder accepts


def canonical_url(url: str, base: str | None = None) -> str:
    """The canonical form of ``url`` (RFC 3986 6.2.2 and more): resolved against ``base``, scheme and host
    lower-cased, default port, fragment, tracking parameters and session ids dropped, an empty path made ``/``,
    dot segments removed, escaped unreserved characters decoded (``%7E`` -> ``~``) and other escapes in upper
    case. ``/a`` and ``/a/`` stay apart (two resources to RFC 3986). A ``user:password@`` (of ``url``, or of
    ``base`` a relative link inherits) is dropped: it says how to reach the page, not which page it is, and it
    must never be stored or shown (:func:`with_credentials_of` puts a source's back for fetching).

    Anything that is not an http(s) URL (``urn:``, ``mailto:``, relative without a base, unparsable) comes
    back stripped of surrounding whitespace and of its fragment, otherwise untouched. Idempotent.
    A hash-bang fragment (``#!/story/1``) is kept: single-page sites route articles with it.
    """
    text = url.strip()
    if base:
        try:
            text = urljoin(base.strip(), text)
        except ValueError:
            return text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text
    if parts.scheme not in WEB_SCHEMES or not parts.hostname:
        return text.partition("#")[0].strip()
    name = parts.hostname if ":" in parts.hostname else _normal_escapes(parts.hostname).lower()
    host = _ascii_host(name.rstrip("."))
    if not host:
        return text
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host
    if port is not None and port != DEFAULT_PORTS[parts.scheme]:
        netloc += f":{port}"
    path = _remove_dot_segments(_PATH_SESSION.sub("", _quote(parts.path))) or "/"  # after %2E became "."
    fragment = _normal_escapes(parts.fragment) if parts.fragment.startswith("!") else ""  # "#!/story/1": an app's route
    return urlunsplit((parts.scheme, netloc, path, _clean_query(parts.query), fragment))


def without_credentials(url: str) -> str:
    """``url`` without the ``user:password@`` part of its address (anything else unchanged)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


# any scheme (a database URL in a traceback too), up to the last @: a password may hold one
_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{0,31}://)[^/?#\s]*@")  # bounded: a long "a.a.a…" stays linear


def redact_credentials(text: str) -> str:
    """``text`` with the ``user:password@`` of every URL in it left out (a message, a reason, a log field)."""
    return _CREDENTIALS.sub(r"\1", text) if "@" in text else text


def _origin(parts: SplitResult) -> tuple[str, str, int | None]:
    port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").rstrip("."), port


def with_credentials_of(url: str, source_url: str) -> str:
    """``url`` carrying ``source_url``'s ``user:password@`` when both have the same origin (scheme, host and
    port, RFC 6454): what a source's address gives access to, its articles and its robots.txt, is fetched with
    its credentials; another host never sees them. Otherwise ``url`` unchanged (without credentials of its own:
    a listing cannot make us send a password it wrote into a link)."""
    plain = without_credentials(url)
    try:
        source, target = urlsplit(source_url), urlsplit(plain)
        if "@" not in source.netloc or _origin(source) != _origin(target):
            return plain
    except ValueError:
        return plain
    userinfo = source.netloc.rpartition("@")[0]
    return urlunsplit(target._replace(netloc=f"{userinfo}@{target.netloc}"))


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4: ``/a/./b/../c`` -> ``/a/c`` (urljoin does this only when there is a base)."""
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for n, segment in enumerate(segments):
        last = n == len(segments) - 1
        if segment == ".":
            if last:
                out.append("")
        elif segment == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(segment)
    return "/".join(out)


def is_web_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        return parts.scheme in WEB_SCHEMES and bool(parts.hostname)
    except ValueError:
        return False


def item_id(canonical_url: str) -> ItemId:
    """The item's identity: the first 32 hex digits of SHA-256 of its canonical URL (or ``tag:`` URI)."""
    return ItemId(hashlib.sha256(canonical_url.encode("utf-8", "surrogatepass")).hexdigest()[:32])


def guid_tag(source_id: str, guid: str) -> str:
    """A stable ``tag:`` URI standing in for the URL of an entry that has only a guid.

    Guids are only unique within one source, so the source id is part of the identity.
    """
    return f"tag:mediawatch,{quote(source_id, safe='')}:{quote(guid.strip(), safe='/:@-._~')}"


# --------------------------------------------------------------------------------------------- text


def collapse_whitespace(text: str) -> str:
    """Control characters, directional controls and lone surrogates removed, every run of whitespace made one
    space, ends stripped."""
    return _WS.sub(" ", _CONTROL.sub("", text)).strip()


def clean_text(text: str) -> str:
    """Plain text with its paragraph breaks kept: each line whitespace-collapsed, blank lines dropped (control
    characters, directional controls and lone surrogates removed)."""
    lines = (collapse_whitespace(line) for line in _CONTROL.sub("", text).splitlines())
    return "\n".join(line for line in lines if line)


def html_to_text(html_text: str, *, keep_content: bool = False) -> str:
    """Plain text from an untrusted HTML fragment: scripts/styles dropped, tags removed, entities
    decoded, whitespace collapsed. Block elements become word breaks. Never longer than the input.

    The fragment is parsed as a browser would (html5ever, through nh3): a comment or an attribute left open
    swallows what follows, exactly as on a page. About seven times faster than a BeautifulSoup tree.

    Lone surrogates are removed (nh3 cannot take them); a character reference to one (``&#xD800;``) becomes
    U+FFFD, as in a browser. ``keep_content``: the text of scripts, styles and the like is kept too (markup that
    was shown to readers as text, then uncovered by decoding it once more)."""
    if "<" not in html_text:
        return collapse_whitespace(html.unescape(html_text))
    spaced = _BLOCK_START.sub(r" <\1", html_text)
    dropped = set() if keep_content else _DROP_CONTENT
    try:
        text = _strip_tags(spaced, dropped)
    except UnicodeEncodeError:  # a lone surrogate: rare, so the common case pays no extra pass over the text
        text = _strip_tags(without_surrogates(spaced), dropped)
    return collapse_whitespace(html.unescape(text))


def display_text(value: object, *, fallback: bool = False) -> str:
    """One line of outside text as collection stores an item's title and every output shows it: the feeds
    (title, summary, author, evidence), both digests and the web pages.

    What a browser would take for markup is read as markup: tags are dropped (with the content of scripts,
    styles and the like, as in :func:`html_to_text`) and character references decoded, again while that
    changes anything (at most :data:`DISPLAY_PASSES` times), so ``<img src=x onerror=…>`` or an escaped
    ``&lt;script&gt;`` never shows, whichever output it reaches. Only whole references are decoded (``&amp;``,
    ``&#233;``, ``&laquo;``; not ``&amp`` or ``&notareference;``, which a parser would half-read), so text that
    is no markup is kept as written: ``3 < 5``, ``<3``, ``AT&T``, ``Tom &amp Jerry``, ``Learn JavaScript: …``,
    and so is a "<" that opens no whole tag (``x<y, says…``: a parser would drop the rest) or opens one that
    HTML has no element for (``<<Egemen Qazaqstan>>``, ``<aigerim@x.kz>``, ``vector<int>``). Should nothing be
    left (``<title>Kazakhs``), the text without its tags and angle brackets is shown.
    Directional controls are removed, other controls become spaces, runs of whitespace one space. Idempotent
    (but for text escaped more than ``DISPLAY_PASSES`` times over, which stays text: every output escapes it).
    """
    text = _NOT_SHOWN.sub(" ", without_bidi_controls(str(value or "")))
    for _ in range(DISPLAY_PASSES):
        if _MARKUP.search(text):
            # a bare "&" is protected, so the parser reads exactly the references decoded below
            protected = _AMPERSAND.sub(lambda m: _protect(text, m.start()), text)
            # a "<" that opens no whole tag is text ("x<y, says…", "if a<b then…"): a parser would drop the rest
            protected = _OPEN_ONLY.sub("&lt;", protected)
            # and so is one before a name HTML has no element for ("<<Egemen Qazaqstan>>", "<aigerim@x.kz>",
            # "Kazakhs <in> Mongolia", "vector<int>"): a parser would take it for a tag and drop it
            protected = _NOT_A_TAG.sub("&lt;", protected)
            read = html.unescape(_strip_tags(_BLOCK_START.sub(r" <\1", protected), _DROP_CONTENT))
        elif "&" in text:
            read = _REFERENCE.sub(lambda m: html.unescape(m.group(0)) if _names_character(m) else m.group(0), text)
        else:
            break
        read = _NOT_SHOWN.sub(" ", without_bidi_controls(read))  # a decoded &#x202E; is a control too
        if read == text:
            break
        text = read
    shown = _WS.sub(" ", text).strip()
    if not shown and value and not fallback:  # all of it inside a dropped element ("<title>Kazakhs")
        return display_text(_ANY_TAG.sub(" ", str(value)).replace("<", " ").replace(">", " "), fallback=True)
    return shown


# "<" before a letter, "/", "!" or "?" with no ">" before the next "<" or the end: no whole tag
_OPEN_ONLY = re.compile(r"<(?=[A-Za-z/!?])(?![^<>]*>)")
_ANY_TAG = re.compile(r"<[^<>]*>")
# HTML's elements (current and obsolete, with SVG and MathML roots): only these, a prefixed name (Word's <o:p>),
# a comment, a doctype or a processing instruction are markup to display_text; any other "<" is text
HTML_ELEMENTS = frozenset(
    """a abbr acronym address applet area article aside audio b base basefont bdi bdo bgsound big blink blockquote
    body br button canvas caption center cite code col colgroup data datalist dd del details dfn dialog dir div dl
    dt em embed fieldset figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr
    html i iframe image img input ins isindex kbd keygen label legend li link listing main map mark marquee math
    menu menuitem meta meter multicol nav nextid nobr noembed noframes noscript object ol optgroup option output p
    param picture plaintext pre progress q rb rp rt rtc ruby s samp script search section select slot small source
    spacer span strike strong style sub summary sup svg table tbody td template textarea tfoot th thead time title
    tr track tt u ul var video wbr xmp""".split()
)
_NOT_A_TAG = re.compile(
    r"<(?!/?(?:" + "|".join(sorted(HTML_ELEMENTS, key=len, reverse=True)) + r"|[a-z][a-z0-9]*:[a-z][a-z0-9]*)"
    r"(?=[\s/>])|!|\?)",
    re.IGNORECASE,
)


def _names_character(ref: re.Match[str]) -> bool:
    """A whole character reference (``&#233;``, ``&#xE9;``, ``&eacute;``), not just something like one."""
    name = ref.group(1)
    return name.startswith("#") or f"{name};" in html5_entities


def _protect(text: str, at: int) -> str:
    """The ``&`` at ``at`` as it must reach an HTML parser to mean what :func:`display_text` decodes."""
    ref = _REFERENCE.match(text, at)
    return "&" if ref is not None and _names_character(ref) else "&amp;"


def unescape_twice_escaped(text: str, *, lines: bool = False) -> str:
    """Decoded text that still shows character references (``&laquo;Қазақ үні&raquo;``, ``&amp;quot;``) decoded
    once more: the outlet escaped its HTML twice, a common CMS bug, and a reader would see the codes. Markup that
    this uncovers loses its tags, not its words. ``lines``: keep line breaks (article text). Text without such a
    reference is returned as it is, so a literal ``&`` or ``AT&T`` is left alone."""
    if not _has_reference(text):
        return text
    for _ in range(MAX_EXTRA_UNESCAPES):  # a title can be escaped three times over
        text = html.unescape(text)
        if not _has_reference(text):
            break
    if not _MARKUP.search(text):
        return clean_text(text) if lines else collapse_whitespace(text)
    if lines:  # the markup uncovered loses its tags line by line, so paragraphs stay apart
        return clean_text("\n".join(html_to_text(line, keep_content=True) for line in text.splitlines()))
    return html_to_text(text, keep_content=True)


def _without_footer(text: str) -> str:
    """A feed summary without the sentence WordPress appends after the excerpt: "The post X appeared first on
    Y." (only as the last sentence, after another one, and looked for in the last characters only)."""
    if "appeared first on" not in text[-FOOTER_WINDOW:]:
        return text
    head, tail = text[:-FOOTER_WINDOW], text[-FOOTER_WINDOW:]
    return head + _FEED_FOOTER.sub("", tail)


def _has_reference(text: str) -> bool:
    return "&" in text and any(_names_character(m) for m in _REFERENCE.finditer(text))


def _strip_tags(html_text: str, dropped: set[str]) -> str:
    return nh3.clean(html_text, tags=set(), clean_content_tags=dropped, attributes={}, strip_comments=True)


def without_surrogates(text: str) -> str:
    """``text`` without lone surrogates (U+D800-DFFF: what a JSON ``"\\ud800"`` escape without its pair
    decodes to). No encoder accepts one, so one in a title, a reason or an input line would make storing,
    embedding or writing it fail."""
    return _SURROGATE.sub("", text)


# -------------------------------------------------------------------------------------------- items


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _published(raw: datetime | None, fetched: datetime) -> tuple[datetime, bool]:
    """The entry's time in UTC and whether it is an estimate (missing, or implausibly in the future)."""
    if raw is None:
        return fetched, True
    moment = _utc(raw)
    if moment > fetched + FUTURE_TOLERANCE:
        return fetched, True
    return moment, False


def language_tag(raw: str | None) -> str | None:
    """A language tag as stored (``kk-Arab`` -> ``kk-arab``), or None when it is not one."""
    if raw is None:
        return None
    tag = raw.strip().replace("_", "-").lower()
    return tag if re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{1,8})*", tag) else None


def _identity(raw: RawEntry) -> tuple[str, str | None] | SkipReason:
    """(url, guid) for the item, or why there is none."""
    guid = collapse_whitespace(raw.guid) if raw.guid else None
    url = canonical_url(raw.url) if raw.url.strip() else ""
    if is_web_url(url):
        return url, guid or None
    if guid:
        return guid_tag(raw.source_id, guid), guid
    return SkipReason.INVALID_URL if url else SkipReason.NO_URL


def normalize(raw: RawEntry, *, fetched: datetime) -> Item | Skipped:
    """One ``Item`` from one ``RawEntry``, or ``Skipped`` with the reason.

    ``raw.title`` is plain text; ``raw.summary_html`` is HTML (plain text is valid HTML once escaped);
    ``raw.text`` is plain. An entry without a title borrows the start of its summary or text.
    """
    fetched = _utc(fetched)
    identity = _identity(raw)
    if isinstance(identity, SkipReason):
        return Skipped(identity, raw.source_id, detail=raw.url.strip()[:200] or raw.title[:200])
    url, guid = identity

    summary = _without_footer(unescape_twice_escaped(html_to_text(raw.summary_html))) if raw.summary_html else ""
    summary = shorten(summary, SUMMARY_MAX)
    text = shorten(unescape_twice_escaped(clean_text(raw.text), lines=True), TEXT_MAX) if raw.text else ""
    # stored as every output shows it (display_text: what looks like markup is read as markup, as feed
    # readers do with an RSS title); a direction mark at either end (Arabic-script CMSs start titles with
    # U+200F) is invisible but makes the same headline a different string
    title = display_text(unescape_twice_escaped(collapse_whitespace(raw.title))).strip(_EDGE_MARKS).strip()
    if not title:
        title = display_text(shorten(summary or text, DERIVED_TITLE_MAX))
    if not title:
        return Skipped(SkipReason.NO_TITLE_OR_TEXT, raw.source_id, detail=url)

    published, estimated = _published(raw.published, fetched)
    author = shorten(unescape_twice_escaped(collapse_whitespace(raw.author)), AUTHOR_MAX) if raw.author else ""
    return Item(
        id=item_id(url),
        source_id=raw.source_id,
        kind=raw.kind,
        url=url,
        title=shorten(title, TITLE_MAX),
        summary=summary,
        text=text,
        published=published,
        fetched=fetched,
        published_estimated=estimated,
        language=language_tag(raw.language),
        author=author or None,
        guid=guid,
        media=dict(raw.media),
    )
