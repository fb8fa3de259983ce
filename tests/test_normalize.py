"""normalize.py: canonical URLs, item identity, HTML to text, RawEntry -> Item | Skipped."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mediawatch.models import ItemKind, RawEntry, SourceId
from mediawatch.normalize import (
    DERIVED_TITLE_MAX,
    HTML_ELEMENTS,
    SUMMARY_MAX,
    TITLE_MAX,
    Item,
    Skipped,
    SkipReason,
    canonical_url,
    clean_text,
    guid_tag,
    html_to_text,
    is_web_url,
    item_id,
    normalize,
    redact_credentials,
    with_credentials_of,
)
from mediawatch.wording import shorten

FETCHED = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)
SOURCE = SourceId("qazinform")


def raw(**overrides: object) -> RawEntry:
    fields: dict[str, object] = {"source_id": SOURCE, "url": "https://example.kz/a", "title": "A title"}
    fields.update(overrides)
    return RawEntry(**fields)  # type: ignore[arg-type]


def item(entry: RawEntry) -> Item:
    result = normalize(entry, fetched=FETCHED)
    assert isinstance(result, Item), result
    return result


# ----------------------------------------------------------------------------------- canonical_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # tracking parameters go, meaningful ones stay in their order
        ("https://ex.kz/a?utm_source=rss&id=42&utm_medium=feed", "https://ex.kz/a?id=42"),
        ("https://ex.kz/a?fbclid=IwAR0&p=2&gclid=x&yclid=1&mc_cid=9&mc_eid=8", "https://ex.kz/a?p=2"),
        ("https://ex.kz/a?UTM_Campaign=x&q=kazakh+diaspora", "https://ex.kz/a?q=kazakh+diaspora"),
        ("https://ex.kz/a?utm_source=x", "https://ex.kz/a"),
        ("https://ex.kz/a?b=2&a=1", "https://ex.kz/a?b=2&a=1"),
        # session ids go (a new one each visit would make a new item each run); sid/s only as tokens
        ("https://ex.kz/haber.php?id=1234&PHPSESSID=0f3c2a9b8d7e6f5a4b3c2d1e", "https://ex.kz/haber.php?id=1234"),
        ("https://ex.kz/news.php?sid=9f86d081884c7d659a2feaa0c55ad015&id=7", "https://ex.kz/news.php?id=7"),
        ("https://ex.kz/modules.php?name=News&sid=123", "https://ex.kz/modules.php?name=News&sid=123"),
        # alone, a token-like sid may be the article's own id: kept
        ("https://ex.kz/news.php?sid=9f86d081884c7d659a2feaa0c55ad015", "https://ex.kz/news.php?sid=9f86d081884c7d659a2feaa0c55ad015"),
        ("https://ex.kz/?s=diaspora", "https://ex.kz/?s=diaspora"),
        ("https://ex.kz/a.asp?id=5&ASPSESSIONIDQQGGQGPA=KLMNOPQRSTUV", "https://ex.kz/a.asp?id=5"),
        ("https://ex.kz/article/12;jsessionid=A1B2C3D4E5F6?x=1", "https://ex.kz/article/12?x=1"),
        # dot segments resolved (RFC 3986 5.2.4), also without a base
        ("https://ex.kz/news/./2024/../kk/1", "https://ex.kz/news/kk/1"),
        ("https://ex.kz/a/b/..", "https://ex.kz/a/"),
        ("https://ex.kz/../../x", "https://ex.kz/x"),
        # fragments go, except hash-bang routes
        ("https://ex.kz/a#comments", "https://ex.kz/a"),
        ("https://ex.kz/#!/story/12", "https://ex.kz/#!/story/12"),
        # host lower-cased, default ports dropped, other ports kept, empty path is /
        ("HTTPS://News.Example.KZ:443", "https://news.example.kz/"),
        ("http://example.kz:80/x", "http://example.kz/x"),
        ("http://example.kz:8080/x", "http://example.kz:8080/x"),
        ("https://example.kz./x", "https://example.kz/x"),
        ("http://[2001:DB8::1]:80/x", "http://[2001:db8::1]/x"),
        # path case untouched; escaped unreserved characters decoded, other escapes kept in upper case
        # (RFC 3986 6.2.2); non-ASCII percent-encoded, IDN hosts in punycode
        (
            "https://www.liberal.gr/news/portraita%2Dkarantinas",
            "https://www.liberal.gr/news/portraita-karantinas",
        ),
        ("HTTP://Host.KZ:80/d/%31?id=%35#comments", "http://host.kz/d/1?id=5"),
        ("https://ex.kz/%7euser/%7E%41%7a%2e%5F?q=%7e%2d", "https://ex.kz/~user/~Az._?q=~-"),
        ("https://ex.kz/a%2fb?x=%3d%26&y=%25%7e", "https://ex.kz/a%2Fb?x=%3D%26&y=%25~"),
        ("https://ex.kz/a/%2E%2E/b/%2e/c", "https://ex.kz/b/c"),
        ("https://%65x.KZ/a", "https://ex.kz/a"),
        ("https://ex.kz/#!/story/%31%2f", "https://ex.kz/#!/story/1%2F"),
        # a trailing slash names another resource (RFC 3986): not merged
        ("https://ex.kz/d/1/", "https://ex.kz/d/1/"),
        (
            "https://ex.kz/kk/tag/%d1%82%D1%96%d0%Bb?u=a%3a%2F",
            "https://ex.kz/kk/tag/%D1%82%D1%96%D0%BB?u=a%3A%2F",
        ),
        (
            "https://ex.kz/Жаңалықтар?q=қазақ",
            "https://ex.kz/%D0%96%D0%B0%D2%A3%D0%B0%D0%BB%D1%8B%D2%9B%D1%82%D0%B0%D1%80?q=%D2%9B%D0%B0%D0%B7%D0%B0%D2%9B",
        ),
        ("http://Пример.РФ/x", "http://xn--e1afmkfd.xn--p1ai/x"),
        ("  https://ex.kz/a  \n", "https://ex.kz/a"),
        # not web URLs: returned as they are (minus fragment)
        ("urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a", "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"),
        ("mailto:desk@example.kz#x", "mailto:desk@example.kz"),
        ("/relative/only", "/relative/only"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("/news/1?utm_source=x", "https://ex.kz/rss/all.xml", "https://ex.kz/news/1"),
        ("news/1", "https://ex.kz/rss/all.xml", "https://ex.kz/rss/news/1"),
        ("../a", "https://ex.kz/rss/feeds/x.xml", "https://ex.kz/rss/a"),
        ("//cdn.ex.kz/a", "https://ex.kz/", "https://cdn.ex.kz/a"),
        ("https://other.kz/a", "https://ex.kz/", "https://other.kz/a"),
    ],
)
def test_canonical_url_resolves_relative_links(url: str, base: str, expected: str) -> None:
    assert canonical_url(url, base) == expected


def test_same_story_through_two_feeds_is_one_item() -> None:
    a = canonical_url("/world/kurultai?page=2&utm_source=rss#top", "https://Example.KZ/rss")
    b = canonical_url("HTTPS://example.kz:443/world/kurultai?fbclid=abc&page=2")
    assert a == b
    assert item_id(a) == item_id(b)
    assert item_id(a) != item_id(canonical_url("https://example.kz/world/kurultai?page=3"))


_url_parts = st.fixed_dictionaries(
    {
        "scheme": st.sampled_from(["http", "https", "HTTP", "ftp", "urn", ""]),
        "host": st.text(alphabet=string.ascii_letters + string.digits + ".-_[]:@%Жä", max_size=20),
        "port": st.one_of(st.none(), st.integers(min_value=0, max_value=70000)),
        "path": st.text(max_size=25),
        "query": st.lists(
            st.tuples(
                st.sampled_from(["utm_source", "id", "fbclid", "p", "Q", "", "a b", "ж"]), st.text(max_size=6)
            ),
            max_size=4,
        ),
        "fragment": st.text(max_size=6),
    }
)


def _assemble(parts: dict[str, Any]) -> str:
    port = f":{parts['port']}" if parts["port"] is not None else ""
    query = "&".join(f"{k}={v}" for k, v in parts["query"])
    return f"{parts['scheme']}://{parts['host']}{port}/{parts['path']}?{query}#{parts['fragment']}"


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), _url_parts.map(_assemble)))
@example("http://ex.kz/a b?c d=e f#g")
@example("http://\u0130.kz/")
@example("http://ex.kz/\ud800")
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


# what a path, a query or a host may hold, "%" (and hex digits, so escapes whole and broken) often among it
_escapish = st.text(alphabet=st.one_of(st.sampled_from("%%%2345aAeEfF7zZ/?#&=;.-_~ +"), st.characters()), max_size=25)


@settings(max_examples=500, deadline=None)
@given(host=st.sampled_from(["news.ex.kz", "a%%341.kz", "a%4.kz"]), path=_escapish, query=_escapish,
       fragment=st.sampled_from(["", "#top", "#!/story/%%341"]))
@example(host="ex.kz", path="x%%341", query="", fragment="")  # %%341 was %41, then A: a stray "%" ate an escape
@example(host="ex.kz", path="%2%45/x", query="q=%%3441", fragment="#!/a%%341")
@example(host="ex.kz", path="x;jsess%69onid=1", query="", fragment="")  # the session id only showed decoded
def test_canonical_url_is_idempotent_on_broken_escapes(host: str, path: str, query: str, fragment: str) -> None:
    """A "%" that starts no escape (``%%41``, ``%4``, ``%zz``) is encoded once (``%25``) and then stays: before,
    the escape after it was decoded on the first pass and the "%" made a new one with what followed, decoded on
    the second (``/x%%341`` -> ``/x%41`` -> ``/xA``)."""
    once = canonical_url(f"https://{host}/{path}?{query}{fragment}")
    assert canonical_url(once) == once


def test_a_percent_that_starts_no_escape_is_encoded() -> None:
    assert canonical_url("https://ex.kz/x%%41?q=%4&r=%zz") == "https://ex.kz/x%25A?q=%254&r=%25zz"
    assert canonical_url("https://ex.kz/x%25A?q=%254&r=%25zz") == "https://ex.kz/x%25A?q=%254&r=%25zz"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_canonical_url_against_a_base_is_absolute_and_idempotent(path: str) -> None:
    once = canonical_url(path, "https://news.example.kz/rss/")
    assert canonical_url(once) == once
    if is_web_url(once):
        assert "#" not in once.replace("#!", "")
        query = urlsplit(once).query
        assert not any(pair.lower().startswith("utm_") for pair in query.split("&"))


@given(st.text(), st.text())
def test_item_id_is_stable_and_identifies(a: str, b: str) -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", item_id(a))
    assert (item_id(a) == item_id(b)) == (a == b)


def test_item_id_is_sha256_prefix() -> None:
    # sha256("https://example.kz/") computed independently with `printf %s https://example.kz/ | sha256sum`
    assert item_id("https://example.kz/") == "06c4c3f312d45d863c37bfcde7ce6dbd"


# ---------------------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Hello&nbsp;<b>Ka</b>zakh</p><p>world</p>", "Hello Kazakh world"),
        ('<script>alert("x")</script><style>p{}</style>Safe <iframe src=x>frame</iframe>text', "Safe text"),
        ("<p onclick='steal()'>Dombra &amp; kuy</p>", "Dombra & kuy"),
        ("line<br>break<br/>here", "line break here"),
        ("&lt;script&gt; is shown as text", "<script> is shown as text"),
        ("AT&T &#x49A;&#1179; &laquo;кавычки&raquo;", "AT&T Ққ «кавычки»"),
        ("  lots \n\t of   space ", "lots of space"),
        ("<!-- comment -->kept<!---->", "kept"),
        ("zero\u200bwidth\x00control", "zerowidthcontrol"),
        ("<html><head><title>T</title></head><body>Body</body></html>", "Body"),
        ("", ""),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


_html_pieces = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "<p>",
                "</p>",
                "<br>",
                "<b>",
                "</b>",
                "<script>",
                "</script>",
                "<a href='x'>",
                "<div/>",
                "&amp;",
                "&nbsp;",
                "&lt;",
                "&#1179;",
                "&bogus;",
                "<!--",
                "-->",
                "<",
                ">",
                "&",
            ]
        ),
        st.text(max_size=8),
    ),
    max_size=12,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), _html_pieces))
def test_html_to_text_never_grows(html: str) -> None:
    assert len(html_to_text(html)) <= len(html)


@given(
    st.lists(st.sampled_from(["<p>", "</p>", "<b>", "<i>x</i>", "<br/>", "<span class='a'>", "word", " "]))
)
def test_html_to_text_leaves_no_tags(pieces: list[str]) -> None:
    assert "<" not in html_to_text("".join(pieces))


def test_stored_text_is_cut_at_a_word_with_an_ellipsis() -> None:
    """normalize cuts stored titles, summaries and texts with wording.shorten."""

    text = "Kazakh diaspora " * 40
    cut = shorten(text.strip(), 100)
    assert len(cut) <= 100 and cut.endswith("…") and not cut.endswith(" …")
    assert cut[:-1] == text[: len(cut) - 1].rstrip()
    assert shorten("short", 100) == "short"


def test_clean_text_keeps_paragraphs() -> None:
    assert clean_text(" First   line \n\n\n second\tline \r\n") == "First line\nsecond line"


# ---------------------------------------------------------------------------------------- normalize


def test_normalize_builds_a_clean_item() -> None:
    entry = raw(
        url="https://Example.KZ/news/1?utm_source=rss&id=7#c",
        title="  Nauryz   in Omsk ",
        summary_html="<p>The <b>Kazakh</b> community&nbsp;celebrated.</p><script>x()</script>",
        text="Full   text.\n\nSecond paragraph.",
        published=datetime(2024, 3, 19, 18, 30, tzinfo=timezone(timedelta(hours=6))),
        author=" Aigerim\n Nurlanova ",
        language="kk_KZ",
        guid=" dn-1001 ",
        media={"thumbnail": "https://example.kz/t.jpg"},
    )
    result = item(entry)
    assert result.url == "https://example.kz/news/1?id=7"
    assert result.id == item_id(result.url)
    assert result.title == "Nauryz in Omsk"
    assert result.summary == "The Kazakh community celebrated."
    assert result.text == "Full text.\nSecond paragraph."
    assert result.published == datetime(2024, 3, 19, 12, 30, tzinfo=UTC)
    assert result.published.tzinfo is UTC
    assert not result.published_estimated
    assert (result.author, result.language, result.guid) == ("Aigerim Nurlanova", "kk-kz", "dn-1001")
    assert result.media == {"thumbnail": "https://example.kz/t.jpg"}
    assert result.kind is ItemKind.ARTICLE and result.fetched == FETCHED


def test_missing_date_is_estimated_from_fetch_time() -> None:
    result = item(raw(published=None))
    assert result.published == FETCHED and result.published_estimated


@pytest.mark.parametrize(
    ("published", "expected", "estimated"),
    [
        (FETCHED + timedelta(days=400), FETCHED, True),
        (FETCHED + timedelta(days=1, seconds=1), FETCHED, True),
        (FETCHED + timedelta(hours=23), FETCHED + timedelta(hours=23), False),  # clock skew is tolerated
        (datetime(2001, 1, 1), datetime(2001, 1, 1, tzinfo=UTC), False),  # naive means UTC
    ],
)
def test_future_dates_clamp_to_fetch_time(published: datetime, expected: datetime, estimated: bool) -> None:
    result = item(raw(published=published))
    assert (result.published, result.published_estimated) == (expected, estimated)


def test_fetch_time_in_another_zone_is_stored_in_utc() -> None:
    result = normalize(raw(), fetched=datetime(2024, 3, 20, 18, 0, tzinfo=timezone(timedelta(hours=6))))
    assert isinstance(result, Item) and result.fetched == FETCHED and result.fetched.tzinfo is UTC


def test_guid_only_entry_gets_a_source_scoped_tag_id() -> None:
    a = item(raw(url="", guid="urn:uuid:42"))
    assert a.url == guid_tag(SOURCE, "urn:uuid:42") and a.url.startswith("tag:")
    assert a.id == item_id(a.url)
    other_source = item(raw(source_id=SourceId("other"), url="", guid="urn:uuid:42"))
    assert other_source.id != a.id
    assert item(raw(url="urn:uuid:42", guid="urn:uuid:42")).id == a.id  # a link that is not a web URL


@pytest.mark.parametrize(
    ("url", "guid", "reason"),
    [
        ("", None, SkipReason.NO_URL),
        ("   ", "  ", SkipReason.NO_URL),
        ("javascript:alert(1)", None, SkipReason.INVALID_URL),
        ("/relative/without/base", None, SkipReason.INVALID_URL),
        ("http://[broken", None, SkipReason.INVALID_URL),
    ],
)
def test_entries_without_identity_are_skipped(url: str, guid: str | None, reason: SkipReason) -> None:
    result = normalize(raw(url=url, guid=guid), fetched=FETCHED)
    assert result == Skipped(reason, SOURCE, detail=url.strip() or "A title")


def test_title_is_borrowed_from_summary_or_skipped() -> None:
    summary = "A diaspora choir from Ulgii toured three cities in Mongolia. " * 5
    borrowed = item(raw(title=" ", summary_html=f"<p>{summary}</p>"))
    assert (
        borrowed.title.startswith("A diaspora choir from Ulgii") and len(borrowed.title) <= DERIVED_TITLE_MAX
    )
    assert item(raw(title="", text="Only main text")).title == "Only main text"
    nothing = normalize(raw(title="", summary_html="<script>x</script>"), fetched=FETCHED)
    assert isinstance(nothing, Skipped) and nothing.reason is SkipReason.NO_TITLE_OR_TEXT


def test_lengths_are_capped() -> None:
    result = item(raw(title="word " * 200, summary_html="<p>" + "слово " * 2000 + "</p>"))
    assert len(result.title) <= TITLE_MAX and result.title.endswith("…")
    assert len(result.summary) <= SUMMARY_MAX and result.summary.endswith("…")


@pytest.mark.parametrize(
    ("tag", "expected"), [("en-US", "en-us"), ("kk", "kk"), ("", None), ("x", None), (None, None)]
)
def test_language_tags(tag: str | None, expected: str | None) -> None:
    assert item(raw(language=tag)).language == expected


def test_video_kind_and_media_pass_through() -> None:
    media = {"video_id": "zg40FHOAqC0", "views": 10, "shorts": True}
    result = item(raw(kind=ItemKind.VIDEO, url="https://www.youtube.com/watch?v=zg40FHOAqC0", media=media))
    assert result.kind is ItemKind.VIDEO and result.media == media
    assert result.url == "https://www.youtube.com/watch?v=zg40FHOAqC0"


def test_text_an_outlet_escaped_twice_reads_as_text() -> None:
    """Bitrix/PHP sites often escape their HTML twice: the reader must see «…» and —, not &laquo; and &mdash;."""
    item = normalize(
        raw(
            title="&quot;Атамекен&quot; … &amp;laquo;кітап&amp;raquo;",  # as feedparser hands it over
            summary_html="&amp;laquo;Қазақ үні&amp;raquo; &amp;mdash; 5 000 &lt;b&gt;дана&lt;/b&gt;",
            text="Бірінші &amp;laquo;жол&amp;raquo;\nЕкінші жол",
            author="Ә. Нұрлан &amp;amp; Б. Асқар",
        ),
        fetched=FETCHED,
    )
    assert isinstance(item, Item)
    assert item.title == '"Атамекен" … «кітап»'
    assert item.summary == "«Қазақ үні» — 5 000 дана"
    assert item.text == "Бірінші «жол»\nЕкінші жол"
    assert item.author == "Ә. Нұрлан & Б. Асқар"


@pytest.mark.parametrize("title", ["AT&T and R&D; a & b", "Tom &amp Jerry", "a &notareference; b", "x &#; y"])
def test_a_literal_ampersand_is_left_alone(title: str) -> None:
    item = normalize(raw(title=title), fetched=FETCHED)
    assert isinstance(item, Item) and item.title == title


def test_escaped_markup_uncovered_keeps_its_words_and_titles_lose_edge_direction_marks() -> None:
    """Atom type="text" "Текст &lt;script&gt; …" escaped once more: the words stay (they were shown as text);
    an Arabic-script CMS's leading U+200F makes no different title."""
    item = normalize(raw(title="\u200fىلە وبلىسىندا ناۋرىز\u200f ", summary_html="Текст &amp;lt;script&amp;gt; не исполняется"),
                     fetched=FETCHED)
    assert isinstance(item, Item)
    assert item.title == "ىلە وبلىسىندا ناۋرىز" and item.summary == "Текст не исполняется"


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ("<p>The community met.</p><p>The post <a href='/2'>Kazakhs of Omsk meet</a> appeared first on "
         "<a href='/'>Omsk Kazakh News</a>.</p>", "The community met."),
        # the words alone are no footer: not its first sentence, not a sentence that merely says so
        ("The post office in Almaty reopened on Monday. Residents said the news appeared first on Telegram.",
         "The post office in Almaty reopened on Monday. Residents said the news appeared first on Telegram."),
        ("Запись концерта Димаша впервые появилась на YouTube в пятницу.",
         "Запись концерта Димаша впервые появилась на YouTube в пятницу."),
    ],
)
def test_only_wordpress_footer_sentence_is_dropped(summary: str, expected: str) -> None:
    item = normalize(raw(summary_html=summary), fetched=FETCHED)
    assert isinstance(item, Item) and item.summary == expected


def test_markup_uncovered_in_article_text_is_stripped_line_by_line() -> None:
    item = normalize(raw(text="&lt;p&gt;Бірінші &lt;b&gt;абзац&lt;/b&gt;&lt;/p&gt;\nЕкінші &amp;laquo;жол&amp;raquo;"),
                     fetched=FETCHED)
    assert isinstance(item, Item) and item.text == "Бірінші абзац\nЕкінші «жол»"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.ascii_letters + string.digits + "-._~/", max_size=20), st.data())
def test_escaping_unreserved_characters_names_the_same_url(path: str, data: st.DataObject) -> None:
    """RFC 3986 6.2.2.2: ``%31`` is ``1`` and ``%7e`` is ``~`` (in a path, a query or a host), whatever case the
    escape's hex digits are written in."""
    def escaped(text: str) -> str:
        return "".join(f"%{ord(c):02{data.draw(st.sampled_from('xX'))}}" if c != "/" and data.draw(st.booleans())
                       else c for c in text)

    host = "news.ex.kz"
    plain = canonical_url(f"https://{host}/{path}?q={path.replace('/', '')}")
    assert canonical_url(f"https://{escaped(host)}/{escaped(path)}?q={escaped(path.replace('/', ''))}") == plain


def test_a_password_is_no_part_of_a_canonical_url() -> None:
    """A source url's user:password says how to reach a page, not which page: links resolved against it, and
    the address itself, come out without it (one item whatever the password; nothing to leak)."""
    base = "http://user:s3cret@127.0.0.1:8080/news/rel.xml"
    assert canonical_url("/rel/1", base) == "http://127.0.0.1:8080/rel/1"
    assert canonical_url("2", base) == "http://127.0.0.1:8080/news/2"
    assert canonical_url("http://u:p@Ex.KZ/a") == canonical_url("http://other:pw@ex.kz/a") == "http://ex.kz/a"


@pytest.mark.parametrize(("url", "source", "expected"), [
    ("http://127.0.0.1:8080/a", "http://user:s3cret@127.0.0.1:8080/news/", "http://user:s3cret@127.0.0.1:8080/a"),
    ("http://EX.kz/a", "http://u:p%40ss@ex.kz:80/", "http://u:p%40ss@EX.kz/a"),  # the same origin, spelt otherwise
    ("http://127.0.0.1:8081/a", "http://user:s3cret@127.0.0.1:8080/", "http://127.0.0.1:8081/a"),  # another port
    ("https://ex.kz/a", "http://u:p@ex.kz/", "https://ex.kz/a"),  # another scheme
    ("http://ex.kz.evil.example/a", "http://u:p@ex.kz/", "http://ex.kz.evil.example/a"),
    ("http://x:y@ex.kz/a", "http://ex.kz/", "http://ex.kz/a"),  # a link's own credentials are never used
])
def test_a_sources_credentials_go_to_its_origin_only(url: str, source: str, expected: str) -> None:
    assert with_credentials_of(url, source) == expected


def test_credentials_are_redacted_from_messages() -> None:
    text = "2 of 5 articles failed (first: http://user:s3cret@127.0.0.1:1/x: HTTP 404); HTTPS://a:b@h/ y@z.kz"
    assert redact_credentials(text) == "2 of 5 articles failed (first: http://127.0.0.1:1/x: HTTP 404); HTTPS://h/ y@z.kz"


BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_directional_controls_are_removed_from_every_text_field() -> None:
    """An override (U+202E) in a title reverses the rest of it wherever it is shown ("…gnp.exe heritage day"
    reads "…yad egatireh exe.png"); embeddings and isolates re-embed what follows. None is kept: not in the
    title, the summary, the author or the text, nor when a character reference spells one. The marks
    U+200E/U+200F inside a text stay (right-to-left writers need them; only a title's ends lose them)."""
    entry = raw(
        title="Kazakhs of Russia in Omsk celebrate \u202egnp.exe heritage day",
        summary_html="<p>Omsk \u202bKazakhs\u202c met &#x202E;today \u2067ىلە\u2069.</p>",
        author="\u202dAsel\u202c Nurlanovna",
        text="First \u2066line\u2069\nSecond \u202eline\nقازاق\u200f (Omsk)",
    )
    got = item(entry)
    assert got.title == "Kazakhs of Russia in Omsk celebrate gnp.exe heritage day"
    assert got.summary == "Omsk Kazakhs met today ىلە."
    assert got.author == "Asel Nurlanovna"
    assert got.text == "First line\nSecond line\nقازاق\u200f (Omsk)"
    for value in (got.title, got.summary, got.author, got.text):
        assert not set(value) & set(BIDI_CONTROLS), value
    # a title made only of controls is no title: the summary lends one
    assert item(raw(title="\u202e\u2066 ", summary_html="<p>Lent title</p>")).title == "Lent title"


MARKUP_TOKENS = [
    "Kazakh", " ", "school", "<b>", "</b>", "<img src=x onerror=alert(1)>", "<script>", "alert(2)", "</script>",
    "&amp;", "&lt;", "&gt;", "&", "<", ">", "3 < 5", "<3", "&#233;", "&laquo;", "&notareference;", "&amp", ";",
    "\u202e", "\u2067", "\x00", "\n", "javascript:", "<p>", "</p>", "<!--", "-->", "<style>", "</style>", "ىلە",
    "<in>", "<<", ">>", "<Egemen Qazaqstan>", "<aigerim@x.kz>", "<o:p>",
]


ELEMENT_TAG = re.compile(
    r"<(?:/?(?:%s|[a-z][a-z0-9]*:[a-z][a-z0-9]*)(?=[\s/>])|!|\?)[^<>]*>" % "|".join(sorted(HTML_ELEMENTS)), re.I
)


@given(st.lists(st.sampled_from(MARKUP_TOKENS), max_size=16).map("".join))
def test_display_text_is_idempotent_and_shows_no_markup(text: str) -> None:
    """What collection stores as a title is exactly what every output shows again (they all call it)."""
    from mediawatch.normalize import display_text

    shown = display_text(text)
    assert display_text(shown) == shown
    # no whole tag of HTML ("x<y" and "<Egemen Qazaqstan>", which name no element, are text as written)
    assert not re.search(ELEMENT_TAG, shown), shown
    assert shown or not re.search(r"\w", re.sub(r"<[^<>]*>", "", text)), text  # a title with words stays
    assert not set(shown) & set(BIDI_CONTROLS) and "\x00" not in shown and "\n" not in shown


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("Kazakh community in Kayseri open language school <img src=x onerror=alert('t2')>",
         "Kazakh community in Kayseri open language school"),
        ("Kazakh <b>festival</b> in <i>Bayan-Ölgii</i>", "Kazakh festival in Bayan-Ölgii"),
        # a "<" that opens no whole tag is text; a title all inside a dropped element keeps its words
        ("x<y, says Kazakh diaspora", "x<y, says Kazakh diaspora"),
        ("<title>Kazakhs of Omsk", "Kazakhs of Omsk"),
        ("Learn JavaScript: a Kazakh coding school in Istanbul", "Learn JavaScript: a Kazakh coding school in Istanbul"),
        ("3 < 5 <3 and AT&T, R&D; Tom &amp Jerry", "3 < 5 <3 and AT&T, R&D; Tom &amp Jerry"),
        # only HTML's elements are markup: these were dropped as tags ("Interview with <> editor")
        ("Interview with <<Egemen Qazaqstan>> editor", "Interview with <<Egemen Qazaqstan>> editor"),
        ("Write to <aigerim@x.kz> by Friday", "Write to <aigerim@x.kz> by Friday"),
        ("Kazakhs <in> Mongolia, if x<y and y>z, vector<int> v", "Kazakhs <in> Mongolia, if x<y and y>z, vector<int> v"),
        ("Kazakh<o:p></o:p> <B>school</B><!-- x --> <svg onload=alert(1)>", "Kazakh school"),
    ],
)
def test_a_title_is_stored_as_every_output_shows_it(title: str, shown: str) -> None:
    """Markup in a plain-text title (RSS titles are text, but readers take them for HTML) is read as markup,
    as the feeds always did: stored so, the digests and web pages show what the feeds show."""
    assert item(raw(title=title)).title == shown
