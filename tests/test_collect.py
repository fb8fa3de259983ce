"""`mediawatch collect` end to end against the real loopback server: corpus feeds, YouTube, pages, failures."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from collectapp import health, make_app, write_sources
from loopserver import Response

from mediawatch.app import App
from mediawatch.pipeline import run_collect, select_sources
from mediawatch.settings import Settings
from mediawatch.sourcefile import DEFAULT_EVERY

pytestmark = pytest.mark.usefixtures("no_backoff")



def rss(source_id: str, url: str, **extra: str) -> str:
    more = "".join(f"    {k}: {v}\n" for k, v in extra.items())
    return f"  - id: {source_id}\n    kind: rss\n    url: '{url}'\n{more}"


def exported(app: App) -> list[dict]:
    return list(app.store.export_rows())


def corpus_files(shared: Path) -> list[Path]:
    root = shared / "eval" / "feeds" / "real-world"
    return sorted(
        p
        for p in root.rglob("*")
        if p.suffix in (".xml", ".json")
        and not p.name.endswith(".serde.json")
        and p.name != "feedparser-6.0.14-observed.json"
    )


def test_real_world_corpus_every_feed_yields_entries_or_a_reason(
    tmp_path: Path, loopserver, shared_dir: Path
) -> None:
    files = corpus_files(shared_dir)
    observed = json.loads((shared_dir / "eval/feeds/real-world/feedparser-6.0.14-observed.json").read_text())
    root = shared_dir / "eval" / "feeds" / "real-world"
    stanzas, expect = [], {}
    for n, f in enumerate(files):
        ctype = "application/feed+json" if f.suffix == ".json" else "application/xml"
        url = loopserver.serve(f"/rw/{n}", f.read_bytes(), content_type=ctype)
        sid = f"rw-{n:03d}"
        stanzas.append(rss(sid, url))
        expect[sid] = (f.relative_to(root).as_posix(), observed.get(f.relative_to(root).as_posix()))
    app = make_app(tmp_path, stanzas)
    report = run_collect(app, select_sources(app, all_sources=True))
    assert report.sources_ok + report.sources_failed == len(files)
    rows = health(app)
    ok_with_items = 0
    for sid, (name, obs) in expect.items():
        h = rows[sid]
        if h.last_error:
            assert h.consecutive_failures == 1 and len(h.last_error) > 5
            # only documents feedparser itself finds no entries in may fail
            assert obs is None or obs["n_entries"] == 0, f"{name}: {h.last_error}"
        else:
            if obs is not None:
                assert h.items_7d <= obs["n_entries"], name
            ok_with_items += h.items_7d > 0
    assert rows[_sid(expect, "rss2/rss_2.0_invalid_1.xml")].last_error.startswith("XML error at line")
    assert ok_with_items >= len(files) - 8
    items = exported(app)
    # text in other scripts survives decoding: the stored titles are feedparser's own reading of the bytes
    import feedparser

    for name, script in (
        ("feed-test-ru.xml", "\u0400"),
        ("feed-test-greek.xml", "\u0370"),
        ("feed-test-hindi-channel-image.xml", "\u0900"),
    ):
        sid = _sid(expect, name)
        fp = feedparser.parse((root / expect[sid][0]).read_bytes())
        want = " ".join(fp.entries[0].title.split())
        got = {i["title"] for i in items if i["source_id"] == sid}
        assert want in got, (name, want, got)
        assert any(script <= ch <= chr(ord(script) + 0xFF) for ch in want)
    latin1 = _sid(expect, "rss1/rss_1.0_iso8859.xml")
    assert not any("Ã" in i["title"] for i in items if i["source_id"] == latin1)  # no mojibake
    for item in items:
        assert item["url"].startswith(("http://", "https://", "tag:")), item["url"]
        assert item["published"].endswith("Z")
        assert not re.search(r"</?(p|a|div|img|br|script|span)\b", item["summary"]), item["summary"][:200]


def _sid(expect: dict, name: str) -> str:
    return next(sid for sid, (n, _) in expect.items() if n.endswith(name))


def test_failure_modes_are_flagged_while_good_sources_are_collected(
    tmp_path: Path, loopserver, shared_dir: Path, db_url: str
) -> None:
    good = (shared_dir / "eval/feeds/real-world/prof18-rss-parser/feed-test-ru.xml").read_bytes()
    bomb = (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'.encode()
            for i in range(1, 10)
        )
        + b']>\n<rss version="2.0"><channel><title>&lol9;</title></channel></rss>'
    )
    cp1251 = (  # enough Russian text for the real charset to be recognised
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Новости</title><item><title>Казахи в Омске'
        "</title><link>http://x.example/1</link><description>В Омской области живут около ста тысяч казахов. "
        "Национально-культурная автономия провела праздник Наурыз в областном центре.</description>"
        "</item></channel></rss>"
    ).encode("cp1251")
    routes: dict[str, Callable[[], str]] = {
        "good": lambda: loopserver.serve("/good", good, content_type="application/rss+xml"),
        "html": lambda: loopserver.serve(
            "/html",
            "<!doctype html><html><head><link rel='alternate' "
            "type='application/rss+xml' href='/real.xml'></head><body>hi</body></html>",
            content_type="text/html; charset=utf-8",
        ),
        "bomb": lambda: loopserver.serve("/bomb", bomb, content_type="application/xml"),
        "huge": lambda: loopserver.huge("/huge", size=50 * 1024 * 1024),
        "gzbomb": lambda: loopserver.gzip_bomb("/gzbomb", size=200 * 1024 * 1024),
        "loop": lambda: loopserver.redirect_loop("/loop"),
        "drip": lambda: loopserver.drip("/drip", interval=1.0),
        "reset": lambda: loopserver.reset("/reset"),
        "e500": lambda: loopserver.status("/e500", 500),
        "e404": lambda: loopserver.status("/e404", 404),
        "e429": lambda: loopserver.status("/e429", 429, retry_after=7200),
        "charset": lambda: loopserver.serve(
            "/charset", cp1251, content_type="application/xml; charset=utf-8"
        ),
    }
    app = make_app(tmp_path, [rss(name, make()) for name, make in routes.items()], db=db_url, timeout=6.0)
    now = app.now()
    report = run_collect(app, select_sources(app, all_sources=True))
    rows = health(app)
    assert rows["good"].last_error is None and rows["good"].items_7d > 0
    reasons = {sid: rows[sid].last_error for sid in routes}
    assert reasons["html"] == "not a feed (HTML returned)"
    assert rows["html"].notes.get("feed_alternate") == loopserver.url("/real.xml")
    assert "entit" in reasons["bomb"].lower()
    assert reasons["huge"] == "response larger than 10 MB"
    assert reasons["gzbomb"] == "response larger than 10 MB"
    assert reasons["loop"] == "too many redirects"
    assert reasons["drip"] == "timed out after 6 s"
    assert reasons["reset"] in ("connection reset", "truncated response")
    assert reasons["e500"] == "HTTP 500"
    assert reasons["e404"] == "HTTP 404"
    assert reasons["e429"] == "HTTP 429 (retry after 7200 s)"
    assert (rows["e429"].next_check - now).total_seconds() >= 7200 - 5
    # wrong declared charset: collected, the real one detected (Cyrillic intact) and flagged, never dropped
    assert reasons["charset"] is None
    titles = {i["title"] for i in exported(app) if i["source_id"] == "charset"}
    assert titles == {"Казахи в Омске"}
    assert str(rows["charset"].notes.get("warning", "")).startswith("charset:")
    assert report.sources_failed == 10 and report.sources_ok == 2
    # failing sources back off: after one failure, twice their interval (the default hour)
    assert rows["e500"].consecutive_failures == 1
    assert rows["e500"].next_check - now >= 2 * DEFAULT_EVERY - timedelta(seconds=5)


def test_conditional_get_second_run_stores_nothing(
    tmp_path: Path, loopserver, shared_dir: Path, db_url: str
) -> None:
    files = corpus_files(shared_dir)[:20]
    stanzas = []
    for n, f in enumerate(files):
        url = loopserver.serve(
            f"/c/{n}",
            f.read_bytes(),
            content_type="application/xml",
            etag=f'"e{n}"',
            last_modified="Mon, 03 Nov 2025 10:00:00 GMT",
            gzip=True,
        )
        stanzas.append(rss(f"c-{n:02d}", url))
    app = make_app(tmp_path, stanzas, db=db_url)
    first = run_collect(app, select_sources(app, all_sources=True))
    assert first.items_new > 0
    loopserver.clear_requests()
    second = run_collect(app, select_sources(app, all_sources=True))
    assert second.items_new == 0
    # each source once, or (should the machine stall) the reason a source failed instead
    assert not first.failures and not second.failures, (first.failures, second.failures)
    sent = [r for r in loopserver.requests if r.path.startswith("/c/")]
    assert sorted(r.path for r in sent) == sorted(f"/c/{n}" for n in range(len(files)))
    assert all(r.headers.get("if-none-match", "").startswith('"e') for r in sent)
    assert all(r.headers.get("if-modified-since") == "Mon, 03 Nov 2025 10:00:00 GMT" for r in sent)
    assert second.sources_unchanged == second.sources_ok == first.sources_ok


@pytest.mark.parametrize("etag", ['"v1"', None])  # a 304, or the same content without validators
def test_a_feed_warning_stays_while_the_feed_is_unchanged(tmp_path: Path, loopserver, etag: str | None) -> None:
    """An ill-formed feed warned about once stayed unflagged from the next run on: a 304 (or the same bytes)
    skips parsing, and the warning was dropped with it. It stays until the feed changes."""
    body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
            "<item><title>Қазақтар &amp; Омск &nbsp;</title><link>https://ex.ru/1</link></item></channel></rss>")
    url = loopserver.serve("/illformed", body, content_type="application/rss+xml", etag=etag)
    app = make_app(tmp_path, [rss("ill", url)])
    for _ in range(2):
        report = run_collect(app, select_sources(app, all_sources=True))
        assert report.sources_ok == 1
        assert str(health(app)["ill"].notes.get("warning", "")).startswith("ill-formed XML"), health(app)["ill"]
    assert report.sources_unchanged == 1
    if etag:
        assert loopserver.requests_for("/illformed")[-1].headers.get("if-none-match") == etag
    # a failed run in between does not lose it: the feed is still the one that was parsed
    loopserver.status("/illformed", 404)
    run_collect(app, select_sources(app, all_sources=True))
    loopserver.serve("/illformed", body, content_type="application/rss+xml", etag=etag)
    run_collect(app, select_sources(app, all_sources=True))
    assert str(health(app)["ill"].notes.get("warning", "")).startswith("ill-formed XML"), health(app)["ill"]
    fixed = body.replace("&nbsp;", "")
    loopserver.serve("/illformed", fixed, content_type="application/rss+xml", etag='"v2"')
    run_collect(app, select_sources(app, all_sources=True))
    assert "warning" not in health(app)["ill"].notes  # mended at the outlet: the warning goes


ONE_ITEM_FEED = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
                 "<item><title>Омбыдағы қазақтар</title><link>https://ex.ru/omsk/1</link></item></channel></rss>")


def test_a_feed_that_moved_for_good_says_where_and_sources_add_knows_it(tmp_path: Path, loopserver) -> None:
    """/old/rss.xml answers 301 to /news/feed/: the source keeps working, the note `moved_permanently` names
    the new address, and `sources add` of that address is refused as already collected. A temporary redirect
    (302) is no move; the note goes when the source's url is updated."""
    from click.testing import CliRunner

    from mediawatch.cli import main

    new = loopserver.serve("/news/feed/", ONE_ITEM_FEED, content_type="application/rss+xml")
    old = loopserver.redirect("/old/rss.xml", new, status=301)
    temporary = loopserver.redirect("/tmp/rss.xml", new, status=302)
    app = make_app(tmp_path, [rss("moved", old), rss("hop", temporary)])
    report = run_collect(app, select_sources(app, all_sources=True))
    assert report.sources_ok == 2 and report.items_new == 1
    notes = {sid: h.notes for sid, h in health(app).items()}
    assert notes["moved"].get("moved_permanently") == new
    assert "moved_permanently" not in notes["hop"]
    sources = tmp_path / "sources.yaml"
    added = CliRunner().invoke(main, ["sources", "--db", app.settings.db, "add", new, "--sources", str(sources)])
    assert added.exit_code == 2, added.output
    assert "is already collected by source 'moved'" in added.stderr
    write_sources(tmp_path, [rss("moved", new)])  # the operator updates the url
    app = make_app(tmp_path, [rss("moved", new)])
    run_collect(app, select_sources(app, all_sources=True))
    assert "moved_permanently" not in health(app)["moved"].notes


def test_a_sources_timezone_places_times_written_without_an_offset(tmp_path: Path, loopserver) -> None:
    body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
            "<item><title>Омбыдағы қазақтар</title><link>https://ex.kz/omsk/1</link>"
            "<pubDate>Fri, 21 Mar 2025 11:05:00</pubDate></item></channel></rss>")
    url = loopserver.serve("/naive", body, content_type="application/rss+xml")
    app = make_app(tmp_path, [f"  - {{id: kz, kind: rss, url: '{url}', timezone: Asia/Almaty}}\n"])
    report = run_collect(app, select_sources(app, all_sources=True))
    assert report.items_new == 1 and not report.warnings
    (row,) = exported(app)
    assert row["published"].startswith("2025-03-21T06:05:00") and row["published_estimated"] is False


def test_after_the_operator_sets_a_timezone_the_feed_is_read_again(tmp_path: Path, loopserver) -> None:
    """A changed stanza (here its timezone) must not meet a 304: the feed is fetched without validators and
    parsed with the new settings, so the warning that asked for the timezone goes at once."""
    body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
            "<item><title>Омбыдағы қазақтар</title><link>https://ex.kz/omsk/1</link>"
            "<pubDate>Fri, 21 Mar 2025 11:05:00</pubDate></item></channel></rss>")
    url = loopserver.serve("/naive", body, content_type="application/rss+xml", etag='"n1"')
    app = make_app(tmp_path, [rss("kz", url)])
    run_collect(app, select_sources(app, all_sources=True))
    assert "without a time zone" in health(app)["kz"].notes["warning"]
    run_collect(app, select_sources(app, all_sources=True))  # unchanged: 304, the warning stays
    assert loopserver.requests_for("/naive")[-1].headers.get("if-none-match") == '"n1"'
    assert "without a time zone" in health(app)["kz"].notes["warning"]
    app = make_app(tmp_path, [f"  - {{id: kz, kind: rss, url: '{url}', timezone: Asia/Almaty}}\n"])
    run_collect(app, select_sources(app, all_sources=True))
    assert "if-none-match" not in loopserver.requests_for("/naive")[-1].headers
    assert "warning" not in health(app)["kz"].notes


def test_content_hash_fallback_for_servers_without_validators(
    tmp_path: Path, loopserver, shared_dir: Path
) -> None:
    body = (shared_dir / "eval/feeds/real-world/prof18-rss-parser/feed-test-ru.xml").read_bytes()
    url = loopserver.serve("/novalidators", body, content_type="application/rss+xml")
    app = make_app(tmp_path, [rss("plain", url)])
    assert run_collect(app, select_sources(app, all_sources=True)).items_new > 0
    again = run_collect(app, select_sources(app, all_sources=True))
    assert again.items_new == 0 and again.items_seen == 0 and again.sources_unchanged == 1


def test_due_sources_only_by_default(tmp_path: Path, loopserver, shared_dir: Path) -> None:
    body = (shared_dir / "eval/feeds/real-world/prof18-rss-parser/feed-test-ru.xml").read_bytes()
    app = make_app(
        tmp_path, [rss("aa", loopserver.serve("/a", body)), rss("bb", loopserver.serve("/b", body))]
    )
    assert [s.id for s in select_sources(app)] == ["aa", "bb"]
    run_collect(app, select_sources(app, ["aa"]))
    assert [s.id for s in select_sources(app)] == ["bb"]
    from mediawatch.errors import ConfigError

    with pytest.raises(ConfigError, match="nope"):
        select_sources(app, ["nope"])


# ------------------------------------------------------------------------------------------------ youtube


def youtube_headers(shared: Path, name: str) -> dict[str, str]:
    meta = json.loads((shared / "eval/feeds/youtube" / name).read_text())
    return {k: v[0] for k, v in meta["response_headers"].items() if k in ("content-type", "cache-control")}


def test_youtube_channels_by_id_and_by_handle(tmp_path: Path, loopserver, shared_dir: Path) -> None:
    yt = shared_dir / "eval" / "feeds" / "youtube"
    expected = json.loads((yt / "expected.json").read_text())
    new = yt / "newpipe_kurzgesagt_2026-01-26.xml"
    old = yt / "capyreader_digital-foundry.xml"
    hdr = youtube_headers(shared_dir, "newpipe_kurzgesagt_2026-01-26.response.json")
    kurz_channel = expected[new.name]["first_entry"]["channelId"]
    df_channel = expected[old.name]["first_entry"]["channelId"]
    loopserver.serve(
        "/feeds/videos.xml",
        new.read_bytes(),
        content_type=hdr["content-type"],
        cache_control=hdr["cache-control"],
    )
    # the handle page says which channel it is; the feed route answers for that channel id
    loopserver.serve(
        "/@digitalfoundry",
        f'<html><head><link rel="canonical" href="https://www.youtube.com/channel/'
        f'{df_channel}"><meta itemprop="channelId" content="{df_channel}"></head></html>',
        content_type="text/html; charset=utf-8",
    )
    app = make_app(
        tmp_path,
        [
            f"  - {{id: kurz, kind: youtube, channel_id: {kurz_channel}}}\n",
            "  - {id: df, kind: youtube, handle: '@digitalfoundry', feed_url: '"
            + loopserver.url("/df.xml")
            + "'}\n",
        ],
        youtube_base=loopserver.base_url,
    )
    loopserver.serve("/df.xml", old.read_bytes(), content_type="text/xml; charset=UTF-8")
    report = run_collect(app, select_sources(app, all_sources=True))
    assert report.sources_failed == 0, report.failures
    sent = loopserver.requests_for("/feeds/videos.xml")[0].path
    assert sent == f"/feeds/videos.xml?channel_id={kurz_channel}"
    videos = [i for i in exported(app) if i["source_id"] == "kurz"]
    exp = expected[new.name]
    assert sorted(v["media"]["video_id"] for v in videos) == sorted(exp["all_videoIds"])
    first = next(v for v in videos if v["media"]["video_id"] == exp["first_entry"]["videoId"])
    assert first["kind"] == "video"
    assert first["url"] == f"https://www.youtube.com/watch?v={exp['first_entry']['videoId']}"
    assert first["media"]["views"] == exp["first_entry"]["views"]
    assert first["media"]["thumbnail"] == exp["first_entry"]["thumbnail"]
    assert datetime.fromisoformat(first["published"]) == datetime.fromisoformat(
        exp["first_entry"]["published"]
    )
    assert health(app)["kurz"].notes["channel_id"] == kurz_channel
    # max-age=900 is honoured: the next check is at least 15 minutes away
    assert (health(app)["kurz"].next_check - app.now()).total_seconds() >= 890
    df_videos = [i for i in exported(app) if i["source_id"] == "df"]
    assert len(df_videos) == expected[old.name]["entry_count"]


def test_youtube_handle_resolved_once_and_remembered(tmp_path: Path, loopserver, shared_dir: Path) -> None:
    yt = shared_dir / "eval" / "feeds" / "youtube"
    expected = json.loads((yt / "expected.json").read_text())
    feed = yt / "capyreader_digital-foundry.xml"
    channel = expected[feed.name]["first_entry"]["channelId"]
    loopserver.serve(
        "/@dfoundry",
        f'<html><head><meta itemprop="channelId" content="{channel}"></head></html>',
        content_type="text/html; charset=utf-8",
    )
    loopserver.serve("/feeds/videos.xml", feed.read_bytes(), content_type="text/xml; charset=UTF-8")
    app = make_app(
        tmp_path, ["  - {id: df, kind: youtube, handle: '@dfoundry'}\n"], youtube_base=loopserver.base_url
    )
    run_collect(app, select_sources(app, all_sources=True))
    run_collect(app, select_sources(app, all_sources=True))
    assert len(loopserver.requests_for("/@dfoundry")) == 1
    assert [r.path for r in loopserver.requests_for("/feeds/videos.xml")] == [
        f"/feeds/videos.xml?channel_id={channel}"
    ] * 2
    assert health(app)["df"].items_7d == 15


def test_unavailable_channel_is_a_404(tmp_path: Path, loopserver, shared_dir: Path) -> None:
    page = (shared_dir / "eval/feeds/youtube/newpipe_notavailable_404_2026-01-26.html").read_bytes()
    loopserver.serve("/feeds/videos.xml", page, status=404, content_type="text/html; charset=UTF-8")
    app = make_app(
        tmp_path,
        ["  - {id: gone, kind: youtube, channel_id: UCTGjY2I-ZUGnwVoWAGRd7XQ}\n"],
        youtube_base=loopserver.base_url,
    )
    run_collect(app, select_sources(app, all_sources=True))
    assert health(app)["gone"].last_error == "HTTP 404"


# ------------------------------------------------------------------------------------------------ pages


ARTICLE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title} | Portal</title>
<meta property="og:title" content="{title}"><meta property="article:published_time" content="2025-11-0{n}T09:30:00+05:00">
<meta name="author" content="Айгерим Нурлановна"></head><body><nav><a href="/">Главная</a></nav>
<article><h1>{title}</h1><p>{body}</p><p>{body} Второй абзац статьи рассказывает подробности о событии и его участниках.</p>
<p>Третий абзац: организаторы поблагодарили гостей и пообещали провести встречу снова в следующем году.</p></article>
<footer>© Portal</footer></body></html>"""


def test_page_source_listing_articles_robots_and_alternate(tmp_path: Path, loopserver) -> None:
    titles = [
        "Казахи Омска отметили Наурыз",
        "Диаспора в Стамбуле открыла школу",
        "В Баян-Өлгии прошёл фестиваль беркутчи",
    ]
    links = "".join(
        f'<li><article><h2><a href="/news/2025/11/0{n}/kazakh-story-{n}">{t}</a></h2></article></li>'
        for n, t in enumerate(titles, 1)
    )
    nav = "".join(
        f'<a href="/section/{s}">{s}</a>' for s in ("politics", "economy", "sport", "culture", "tags")
    )
    listing = (
        f'<!doctype html><html><head><link rel="alternate" type="application/rss+xml" href="/rss.xml"></head>'
        f'<body><nav>{nav}<a href="/login">Войти</a></nav><ul>{links}'
        f'<li><a href="/news/2025/11/09/blocked-story">Закрытая статья о диаспоре</a></li></ul></body></html>'
    )
    loopserver.serve("/", listing, content_type="text/html; charset=utf-8")
    loopserver.serve("/robots.txt", "User-agent: *\nDisallow: /news/2025/11/09/\n", content_type="text/plain")
    for n, t in enumerate(titles, 1):
        body = (
            f"{t}. Члены казахской общины собрались вместе, чтобы отметить праздник и поддержать родной язык."
        )
        loopserver.serve(
            f"/news/2025/11/0{n}/kazakh-story-{n}",
            ARTICLE.format(lang="ru", title=t, n=n, body=body),
            content_type="text/html; charset=utf-8",
        )
    loopserver.serve(
        "/news/2025/11/09/blocked-story",
        ARTICLE.format(lang="ru", title="X", n=9, body="x"),
        content_type="text/html; charset=utf-8",
    )
    app = make_app(tmp_path, [f"  - {{id: portal, kind: page, url: '{loopserver.url('/')}'}}\n"])
    report = run_collect(app, select_sources(app, all_sources=True))
    assert report.sources_failed == 0, report.failures
    items = {i["title"]: i for i in exported(app)}
    assert set(items) == set(titles)
    first = items[titles[0]]
    assert first["published"] == "2025-11-01T04:30:00Z"
    assert "родной язык" in first["text"]
    assert first["lang"] == "ru"
    assert loopserver.requests_for("/news/2025/11/09/blocked-story") == []
    assert loopserver.requests_for("/section/politics") == []
    assert health(app)["portal"].notes["feed_alternate"] == loopserver.url("/rss.xml")
    # the note says why the link was given up: robots.txt, not "HTTP 4xx, no article text"
    assert health(app)["portal"].notes["given_up"] == (
        "1 article link that failed for good (robots.txt) not requested again for 30 days")
    # a second run fetches no article twice
    loopserver.clear_requests()
    run_collect(app, select_sources(app, all_sources=True))
    assert not [r for r in loopserver.requests if r.path.startswith("/news/")]


def test_page_source_blocked_by_robots(tmp_path: Path, loopserver) -> None:
    loopserver.serve("/robots.txt", "User-agent: *\nDisallow: /\n", content_type="text/plain")
    loopserver.serve(
        "/",
        "<html><body><a href='/news/1/a-story'>A long enough story title</a></body></html>",
        content_type="text/html",
    )
    app = make_app(tmp_path, [f"  - {{id: closed, kind: page, url: '{loopserver.url('/')}'}}\n"])
    run_collect(app, select_sources(app, all_sources=True))
    assert health(app)["closed"].last_error == "blocked by robots.txt"
    assert loopserver.requests_for("/") == []


@pytest.mark.parametrize("content_type", ["application/rss+xml", "text/xml", "application/octet-stream"])
def test_a_feed_given_as_a_page_source_is_named_a_feed_quietly(
    tmp_path: Path, loopserver, content_type: str, capfd: pytest.CaptureFixture[str]
) -> None:
    """bs4's 15-line XMLParsedAsHTMLWarning went to stderr (breaking the log formats), and the reason was "no
    article links found on the listing page"."""
    body = (Path(__file__).parent / "data" / "feeds" / "rss-diaspora.xml").read_bytes()
    url = loopserver.serve("/rss.xml", body, content_type=content_type)
    app = make_app(tmp_path, [f"  - {{id: wrongkind, kind: page, url: '{url}'}}\n"])
    run_collect(app, select_sources(app, all_sources=True))
    error = health(app)["wrongkind"].last_error
    assert error is not None and error.startswith("the listing page is a feed (rss20, ")
    assert error.endswith("entries), not a web page: give this source kind: rss")
    assert "XMLParsedAsHTMLWarning" not in capfd.readouterr().err


def test_gzip_served_feed_and_cli_summary(tmp_path: Path, loopserver, shared_dir: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    from mediawatch.cli import main

    body = (shared_dir / "eval/feeds/real-world/prof18-rss-parser/feed-test-greek.xml").read_bytes()
    url = loopserver.serve("/greek", body, content_type="application/rss+xml", gzip=True)
    write_sources(tmp_path, [rss("greek", url), rss("dead", loopserver.status("/dead", 404))])
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["collect", "--all"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout.startswith("sources: 1 ok (0 unchanged), 1 failed; items: ")
    assert "failed  dead: HTTP 404" in result.stdout
    assert "gzip" in loopserver.requests_for("/greek")[0].headers.get("accept-encoding", "")
    rows = json.loads(CliRunner().invoke(main, ["sources", "--json"]).stdout.splitlines()[1])
    assert rows["id"] == "greek" and rows["last_success"] is not None and rows["items_7d"] > 0


def test_feedparser_suite_encodings_survive_http(loopserver, shared_dir: Path) -> None:
    """The suite's HTTP encoding cases, served with their Content-Type headers: the header the server sends
    reaches the parser, and the feed title decodes exactly as feedparser decodes it given the same header."""
    import asyncio

    import feedparser

    from mediawatch.collect.feeds import parse_feed
    from mediawatch.errors import ParseError
    from mediawatch.http import Fetcher, build_client

    suite = shared_dir / "eval" / "feeds" / "feedparser-suite"
    cases = [json.loads(line) for line in (suite / "manifest.jsonl").read_text().splitlines()]
    cases = [c for c in cases if c["headers"] and c["file"].startswith("encoding/http_")]
    assert len(cases) >= 12
    for n, c in enumerate(cases):
        loopserver.serve(
            f"/enc/{n}", (suite / c["file"]).read_bytes(), content_type=c["headers"]["Content-type"]
        )

    async def fetch_all() -> list:
        async with build_client(Settings(timeout=20)) as client:
            fetcher = Fetcher(client, Settings(timeout=20))
            return [
                await fetcher.fetch(loopserver.url(f"/enc/{n}"), source_id="enc") for n in range(len(cases))
            ]

    checked = 0
    for c, result in zip(cases, asyncio.run(fetch_all()), strict=True):
        body = (suite / c["file"]).read_bytes()
        expected = feedparser.parse(body, response_headers={k.lower(): v for k, v in c["headers"].items()})
        assert result.headers["content-type"] == c["headers"]["Content-type"]
        try:
            parsed = parse_feed(result.body, source_id="enc", url=result.url, headers=result.headers)
        except ParseError as exc:
            assert not expected.entries and not expected.feed.get("title"), (c["file"], exc.reason)
            continue
        assert (parsed.title or "") == (expected.feed.get("title") or ""), c["file"]
        checked += 1
    assert checked >= 10


# ------------------------------------------------------------------------------- pages: nothing lost, polite


def _page_site(loopserver, titles: list[str], *, prefix: str = "/news/2025/11") -> list[str]:
    """A listing of article links (in this order) plus the articles; returns the article paths."""
    paths = [f"{prefix}/0{n}/kazakh-story-{n}" for n in range(1, len(titles) + 1)]
    links = "".join(
        f'<li><article><h2><a href="{p}">{t}</a></h2></article></li>' for p, t in zip(paths, titles)
    )
    loopserver.serve(
        "/",
        f"<!doctype html><html><body><ul>{links}</ul></body></html>",
        content_type="text/html; charset=utf-8",
        etag='"listing-v1"',
    )
    loopserver.serve("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    for n, (path, title) in enumerate(zip(paths, titles), 1):
        loopserver.serve(path, _article(title, n), content_type="text/html; charset=utf-8")
    return paths


def _article(title: str, n: int) -> str:
    body = (
        f"{title}. Члены казахской общины собрались вместе, чтобы отметить праздник и поддержать родной язык."
    )
    return ARTICLE.format(lang="ru", title=title, n=n, body=body)


def _page_app(tmp_path: Path, loopserver) -> App:
    return make_app(tmp_path, [f"  - {{id: portal, kind: page, url: '{loopserver.url('/')}'}}\n"])


def _article_requests(loopserver) -> list[str]:
    return [r.path for r in loopserver.requests if r.path.startswith("/news/")]


def test_page_articles_behind_redirects_are_fetched_once(tmp_path: Path, loopserver) -> None:
    """Listing links that redirect (here to a trailing-slash form): the item keeps the listed URL, so the next
    run knows it and does not fetch the article again (it used to store the redirect target, which the
    listing never names, and refetch every redirected article whenever the listing changed)."""
    titles = ["Казахи Омска отметили Наурыз", "Диаспора в Стамбуле открыла школу"]
    paths = _page_site(loopserver, titles)
    for n, (path, title) in enumerate(zip(paths, titles), 1):
        loopserver.redirect(path, path + "/", status=301)
        loopserver.serve(path + "/", _article(title, n), content_type="text/html; charset=utf-8")
    app = _page_app(tmp_path, loopserver)
    assert run_collect(app, select_sources(app, all_sources=True)).items_new == 2
    assert sorted(i["url"] for i in exported(app)) == sorted(loopserver.url(p) for p in paths)
    # the listing changes (a new banner), its article links do not
    links = "".join(
        f'<li><article><h2><a href="{p}">{t}</a></h2></article></li>' for p, t in zip(paths, titles)
    )
    loopserver.serve(
        "/", f"<html><body><p>Баннер</p><ul>{links}</ul></body></html>", content_type="text/html"
    )
    loopserver.clear_requests()
    again = run_collect(app, select_sources(app, all_sources=True))
    assert again.sources_ok == 1 and again.items_new == 0
    assert _article_requests(loopserver) == []


def test_page_article_failing_for_a_passing_reason_is_retried_on_an_unchanged_listing(
    tmp_path: Path, loopserver
) -> None:
    """An article that failed with a 500 is tried again next run even though the listing answers 304 to the
    validators: a run with work left does not keep the listing's validators or hash."""
    titles = ["Казахи Омска отметили Наурыз", "Диаспора в Стамбуле открыла школу"]
    paths = _page_site(loopserver, titles)
    from loopserver import Response

    loopserver.sequence(
        paths[1],
        Response(status=500, body=b"oops"),
        Response(body=_article(titles[1], 2).encode(), content_type="text/html; charset=utf-8"),
    )
    app = _page_app(tmp_path, loopserver)
    first = run_collect(app, select_sources(app, all_sources=True))
    assert first.items_new == 1 and "1 of 2 articles failed" in first.warnings["portal"]
    assert f"{loopserver.url(paths[1])}: HTTP 500" in first.warnings["portal"]
    loopserver.clear_requests()
    second = run_collect(app, select_sources(app, all_sources=True))
    assert second.items_new == 1 and second.sources_failed == 0
    assert _article_requests(loopserver) == [paths[1]]
    assert {i["title"] for i in exported(app)} == set(titles)
    # nothing left to do: now the validators are kept, the listing answers 304 and no article is fetched
    loopserver.clear_requests()
    third = run_collect(app, select_sources(app, all_sources=True))
    assert third.sources_unchanged == 1 and _article_requests(loopserver) == []
    assert loopserver.requests_for("/")[0].headers.get("if-none-match") == '"listing-v1"'


def test_a_link_that_fails_for_good_is_given_up_and_does_not_fail_a_working_source(
    tmp_path: Path, loopserver
) -> None:
    """A listing that keeps showing a broken link (a 404, a gallery without article text) while its page
    changes (a view counter) used to fail the source on every quiet run ("every new article failed"), which
    backed it off and delayed new articles. The link is now given up for 30 days and the source stays up."""
    titles = ["Казахи Омска отметили Наурыз", "Диаспора в Стамбуле открыла школу"]
    paths = _page_site(loopserver, titles)
    gallery = "/news/2025/11/09/kazakh-photo-gallery"
    listing = (f'<li><article><h2><a href="{paths[0]}">{titles[0]}</a></h2></article></li>'
               f'<li><article><h2><a href="{gallery}">Фотогалерея праздника Наурыз</a></h2></article></li>')

    def serve_listing(views: int, more: str = "") -> None:  # a page that differs on every fetch
        loopserver.serve("/", f"<!doctype html><html><body><ul>{listing}{more}</ul><p>Views: {views}</p>"
                              f"</body></html>", content_type="text/html; charset=utf-8")

    loopserver.status(gallery, 404)
    serve_listing(1)
    app = _page_app(tmp_path, loopserver)
    first = run_collect(app, select_sources(app, all_sources=True))
    assert first.items_new == 1 and "1 of 2 articles failed" in first.warnings["portal"]
    state = health(app)["portal"]
    assert "_given_up" not in state.notes
    assert state.notes["given_up"] == "1 article link that failed for good (HTTP 404) not requested again for 30 days"
    now = app.now()  # nor does the digest's list of source problems show the bookkeeping
    [week] = [w for w in app.store.source_weeks(now - timedelta(days=7), now + timedelta(days=1)) if w.id == "portal"]
    assert "_given_up" not in week.notes and "given_up" in week.notes
    serve_listing(2)
    loopserver.clear_requests()
    second = run_collect(app, select_sources(app, all_sources=True))
    assert second.sources_failed == 0 and second.items_new == 0
    assert _article_requests(loopserver) == []  # neither the stored article nor the broken link
    assert health(app)["portal"].consecutive_failures == 0
    # a new article still comes in; the broken link is still not requested
    serve_listing(3, f'<li><article><h2><a href="{paths[1]}">{titles[1]}</a></h2></article></li>')
    loopserver.clear_requests()
    third = run_collect(app, select_sources(app, all_sources=True))
    assert third.items_new == 1 and _article_requests(loopserver) == [paths[1]]


def test_articles_answering_403_are_a_block_not_broken_links(tmp_path: Path, loopserver) -> None:
    """A site that starts answering 403 to every article blocks us: the links are not given up (they are
    tried again) and a run that brings nothing fails the source, even though it has worked before."""
    titles = ["Казахи Омска отметили Наурыз", "Диаспора в Стамбуле открыла школу"]
    paths = _page_site(loopserver, titles[:1])
    app = _page_app(tmp_path, loopserver)
    assert run_collect(app, select_sources(app, all_sources=True)).items_new == 1
    new_path = "/news/2025/11/02/kazakh-story-2"
    loopserver.serve("/", f'<!doctype html><html><body><ul><li><article><h2><a href="{paths[0]}">{titles[0]}</a>'
                          f'</h2></article></li><li><article><h2><a href="{new_path}">{titles[1]}</a></h2></article>'
                          f"</li></ul></body></html>", content_type="text/html; charset=utf-8")
    loopserver.status(new_path, 403)
    report = run_collect(app, select_sources(app, all_sources=True))
    assert report.sources_failed == 1
    state = health(app)["portal"]
    assert state.last_error.startswith("every new article failed; first: ") and "HTTP 403" in state.last_error
    assert "given_up" not in state.notes


def test_given_up_links_expire_after_30_days_and_at_most_500_are_kept() -> None:
    import json
    from datetime import date

    from mediawatch.collect.runner import GIVE_UP_DAYS, GIVEN_UP_NOTE, MAX_GIVEN_UP, _given_up, _keep_given_up

    today = date(2026, 11, 28)
    notes = {GIVEN_UP_NOTE: json.dumps({"https://x.example/old": "2026-10-28", "https://x.example/new": "2026-10-30"})}
    assert GIVE_UP_DAYS == 30 and _given_up(notes, today) == {"https://x.example/new": "2026-10-30"}
    many = {f"https://x.example/{n:04d}": (today - timedelta(days=n % 20)).isoformat() for n in range(700)}
    _keep_given_up(notes, many)
    kept = json.loads(notes[GIVEN_UP_NOTE])
    assert len(kept) == MAX_GIVEN_UP == 500
    assert min(kept.values()) >= max(day for day in many.values() if day not in kept.values())  # the newest
    assert notes["given_up"] == ("500 article links that failed for good (cause not recorded) not requested "
                                 "again for 30 days")  # days only, as earlier versions stored them
    mixed = {"https://x.example/a": "2026-11-28 HTTP 404", "https://x.example/b": "2026-11-27 HTTP 404",
             "https://x.example/c": "2026-11-28 robots.txt", "https://x.example/d": "2026-10-30 private address"}
    assert _given_up({GIVEN_UP_NOTE: json.dumps(mixed)}, today) == mixed
    assert _given_up({GIVEN_UP_NOTE: json.dumps({"https://x.example/e": "2026-10-29 HTTP 410"})}, today) == {}
    _keep_given_up(notes, mixed)
    assert notes["given_up"] == ("4 article links that failed for good (HTTP 404: 2, robots.txt: 1, private "
                                 "address: 1) not requested again for 30 days")
    _keep_given_up(notes, {})
    assert GIVEN_UP_NOTE not in notes and "given_up" not in notes
    assert _given_up({GIVEN_UP_NOTE: "not json"}, today) == {}


def test_a_listing_whose_every_article_fails_still_fails_and_keeps_trying(tmp_path: Path, loopserver) -> None:
    """Nothing of the listing ever stored and every link broken: the listing (or the link rule) is at fault,
    so the source fails, and the links are tried again next run rather than forgotten."""
    paths = _page_site(loopserver, ["Казахи Омска отметили Наурыз"])
    loopserver.status(paths[0], 404)
    app = _page_app(tmp_path, loopserver)
    for _ in range(2):
        loopserver.clear_requests()
        report = run_collect(app, select_sources(app, all_sources=True))
        assert report.sources_failed == 1 and _article_requests(loopserver) == [paths[0]]
    state = health(app)["portal"]
    assert state.last_error.startswith("every new article failed; first: ") and "given_up" not in state.notes


def test_page_article_429_stops_the_run_and_moves_the_next_check(tmp_path: Path, loopserver) -> None:
    """A 429 with Retry-After on an article: no further article of that run is requested, the source's next
    check honours Retry-After, and the articles not fetched are fetched by a later run."""
    titles = [
        "Казахи Омска отметили Наурыз",
        "Диаспора в Стамбуле открыла школу",
        "В Баян-Өлгии прошёл фестиваль",
    ]
    paths = _page_site(loopserver, titles)
    from loopserver import Response

    loopserver.sequence(
        paths[1],
        Response(status=429, body=b"slow down", retry_after="3600"),
        Response(body=_article(titles[1], 2).encode(), content_type="text/html; charset=utf-8"),
    )
    # one article at a time (per_host 1), so "no further article is requested" is observable
    app = make_app(tmp_path, [f"  - {{id: portal, kind: page, url: '{loopserver.url('/')}'}}\n"], per_host=1)
    now = app.now()
    first = run_collect(app, select_sources(app, all_sources=True))
    assert first.items_new == 1 and first.sources_ok == 1
    assert _article_requests(loopserver) == paths[:2]  # the third was not requested after the 429
    row = health(app)["portal"]
    assert (row.next_check - now).total_seconds() >= 3600 - 5
    assert "1 articles left for the next run (HTTP 429 (retry after 3600 s))" in row.notes["warning"]
    loopserver.clear_requests()
    run_collect(app, select_sources(app, all_sources=True))
    assert _article_requests(loopserver) == paths[1:]
    assert {i["title"] for i in exported(app)} == set(titles)


def test_page_articles_beyond_the_per_run_cap_are_fetched_by_later_runs(tmp_path: Path, loopserver) -> None:
    """With more new links than a run may fetch, the rest come on the next runs although the listing is
    byte-for-byte the same (its content hash used to mark the source unchanged, leaving them behind)."""
    import asyncio

    import mediawatch
    from mediawatch.collect.runner import SourceCollector
    from mediawatch.http import Fetcher, build_client
    from mediawatch.robots import RobotsCache

    titles = [
        "Казахи Омска отметили Наурыз",
        "Диаспора в Стамбуле открыла школу",
        "В Баян-Өлгии прошёл фестиваль",
    ]
    paths = _page_site(loopserver, titles)
    app = _page_app(tmp_path, loopserver)
    [spec] = select_sources(app, all_sources=True)

    async def runs(count: int) -> list[int]:
        settings = app.settings
        async with build_client(settings) as client:
            fetcher = Fetcher(client, settings)
            robots = RobotsCache(fetcher, settings.user_agent_string(mediawatch.__version__))
            collector = SourceCollector(
                fetcher, robots, known_urls=app.store.known_urls, clock=app.clock, max_articles=2
            )
            added = []
            for _ in range(count):
                outcome = await collector.collect(spec, app.store.source_states([spec.id])[spec.id])
                assert outcome.ok, outcome.reason
                added.append(
                    len(app.store.commit_source(spec.id, outcome.items, outcome.state, app.now()).new)
                )
            return added

    assert asyncio.run(runs(3)) == [2, 1, 0]
    assert sorted(_article_requests(loopserver)) == sorted(paths)  # each article exactly once
    assert {i["title"] for i in exported(app)} == set(titles)


def test_page_source_with_unreachable_robots_txt_is_not_fetched(tmp_path: Path, loopserver) -> None:
    """RFC 9309 2.3.1.4: a robots.txt answering 5xx means complete disallow, with a reason that says why."""
    loopserver.status("/robots.txt", 500)
    loopserver.serve(
        "/",
        "<html><body><a href='/news/1/a-story'>A long enough story title</a></body></html>",
        content_type="text/html",
    )
    app = _page_app(tmp_path, loopserver)
    report = run_collect(app, select_sources(app, all_sources=True))
    assert report.failures == {"portal": "blocked: robots.txt unreachable (HTTP 500)"}
    assert health(app)["portal"].last_error == "blocked: robots.txt unreachable (HTTP 500)"
    assert loopserver.requests_for("/") == []


def test_feed_alternate_note_is_dropped_once_the_source_answers_with_a_feed(
    tmp_path: Path, loopserver, shared_dir: Path
) -> None:
    good = (shared_dir / "eval/feeds/real-world/prof18-rss-parser/feed-test-ru.xml").read_bytes()
    from loopserver import Response

    url = loopserver.sequence(
        "/feed",
        Response(
            body=b"<html><head><link rel='alternate' type='application/rss+xml' href='/real.xml'></head></html>",
            content_type="text/html",
        ),
        Response(body=good, content_type="application/rss+xml"),
    )
    app = make_app(tmp_path, [rss("flip", url)])
    run_collect(app, select_sources(app, all_sources=True))
    assert health(app)["flip"].notes["feed_alternate"] == loopserver.url("/real.xml")
    run_collect(app, select_sources(app, all_sources=True))
    row = health(app)["flip"]
    assert row.last_error is None and row.items_7d > 0
    assert "feed_alternate" not in row.notes


def test_collect_with_an_unknown_source_is_a_configuration_error(
    tmp_path: Path, loopserver, monkeypatch
) -> None:
    from click.testing import CliRunner

    from mediawatch.cli import main

    write_sources(tmp_path, [rss("known", loopserver.status("/x", 404))])
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["collect", "--source", "nope"])
    assert result.exit_code == 2 and "nope" in result.output


def test_same_story_through_two_feeds_is_one_item(tmp_path: Path, loopserver, db_url: str) -> None:
    """Across sources the canonical URL decides (tracking parameters and fragments dropped, relative links
    resolved); within a source two entries with one link are one item."""

    def feed(items: list[tuple[str, str, str]]) -> str:
        body = "".join(
            f"<item><title>{t}</title><link>{link}</link><guid isPermaLink='false'>{g}</guid></item>"
            for t, link, g in items
        )
        return f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{body}</channel></rss>'

    base = loopserver.url("/story")
    loopserver.serve(
        "/a.xml",
        feed(
            [
                ("Наурыз в Омске", f"{base}/1", "a1"),
                ("Школа в Стамбуле", f"{base}/2", "a2"),
                ("Школа в Стамбуле (обновлено)", f"{base}/2#top", "a2-bis"),
            ]
        ),
        content_type="application/rss+xml",
    )
    loopserver.serve(
        "/b.xml",
        feed(
            [
                ("Наурыз", f"{base}/1?utm_source=tg&utm_medium=social", "b1"),
                ("Школа", "/story/2?fbclid=abc", "b2"),
            ]
        ),
        content_type="application/rss+xml",
    )
    app = make_app(tmp_path, [rss("feed-a", loopserver.url("/a.xml"))], db=db_url)
    first = run_collect(app, select_sources(app, all_sources=True))
    assert first.items_new == 2 and first.items_seen == 0  # the in-feed repeat is folded before storing
    stanzas = [rss("feed-a", loopserver.url("/a.xml")), rss("feed-b", loopserver.url("/b.xml"))]
    app = make_app(tmp_path, stanzas, db=db_url)
    second = run_collect(app, select_sources(app, ["feed-b"]))
    assert second.items_new == 0 and second.items_seen == 2
    assert sorted(i["url"] for i in exported(app)) == [f"{base}/1", f"{base}/2"]


def test_one_article_spelled_several_ways_is_one_item(tmp_path: Path, loopserver, db_url: str) -> None:
    """RFC 3986 6.2.2: scheme and host in any case, escaped unreserved characters (%31 is 1), escapes in lower
    case, the default port and a fragment name one article; entries with different GUIDs linking it are one
    item. A trailing slash is another resource (kept apart). Before: three items of one article."""
    host = loopserver.base_url.removeprefix("http://")
    links = [("One", "/d/1?id=5", "g1"), ("One again", f"HTTP://{host.upper()}/d/%31?id=%35#comments", "g2"),
             ("One more", f"http://{host}/%64/1?id=5", "g3"), ("Slash", "/d/1/?id=5", "g4")]
    entries = "".join(f"<item><title>{t}</title><link>{link}</link><guid isPermaLink='false'>{g}</guid></item>"
                      for t, link, g in links)
    loopserver.serve("/d.xml", f'<?xml version="1.0"?><rss version="2.0"><channel><title>d</title>{entries}'
                               "</channel></rss>", content_type="application/rss+xml")
    app = make_app(tmp_path, [rss("feed-d", loopserver.url("/d.xml"))], db=db_url)
    report = run_collect(app, select_sources(app, all_sources=True))
    assert report.items_new == 2
    assert sorted(i["url"] for i in exported(app)) == [loopserver.url("/d/1/?id=5"), loopserver.url("/d/1?id=5")]


def test_a_listing_that_spells_a_stored_article_another_way_does_not_fetch_it_again(
    tmp_path: Path, loopserver
) -> None:
    path = "/news/2025/11/01/kazakh-story-1"
    loopserver.serve(path, ARTICLE.format(lang="ru", title="Наурыз в Омске", n=1, body="Наурыз в Омске."),
                     content_type="text/html; charset=utf-8")
    listing = '<html><body><article><h2><a href="{}">Наурыз в Омске, казахи</a></h2></article></body></html>'
    other = path.replace("1", "%31").replace("-", "%2d")  # /news/2025/%31%31/0%31/kazakh%2dstory%2d%31
    loopserver.sequence("/", *(Response(body=listing.format(p).encode(), content_type="text/html") for p in (path, other)))
    app = make_app(tmp_path, [f"  - {{id: portal, kind: page, url: '{loopserver.url('/')}'}}\n"])
    assert run_collect(app, select_sources(app, all_sources=True)).items_new == 1
    loopserver.clear_requests()
    again = run_collect(app, select_sources(app, all_sources=True))
    assert again.sources_ok == 1 and again.items_new == 0, again.failures
    assert not [r for r in loopserver.requests if r.path.startswith("/news/")]


def test_states_of_sources_without_items_are_written_during_a_long_run(
    tmp_path: Path, loopserver, shared_dir: Path, no_backoff: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the states of failing and unchanged sources were held until 100 had gathered or the run ended, so
    a run killed after 25 s had recorded none of their health (failures, backoff, Retry-After)."""
    import threading
    import time

    import mediawatch.pipeline as pipeline
    from mediawatch.store import open_store

    monkeypatch.setattr(pipeline, "STATE_FLUSH_SECONDS", 0.2)
    body = (shared_dir / "eval/feeds/real-world/prof18-rss-parser/feed-test-ru.xml").read_bytes()
    stanzas = [rss(f"gone-{n}", loopserver.status(f"/gone/{n}", 404)) for n in range(3)]
    stanzas.append(rss("gone-late", loopserver.status("/gone/late", 404, delay=0.8)))
    stanzas.append(rss("slow", loopserver.serve("/slow.xml", body, content_type="application/rss+xml", delay=4.0)))
    app = make_app(tmp_path, stanzas)
    app.settings = app.settings.model_copy(update={"timeout": 10.0})
    db_url = app.settings.db
    done = threading.Event()
    worker = threading.Thread(target=lambda: (run_collect(app, select_sources(app, all_sources=True)), done.set()))
    worker.start()
    try:
        reader = open_store(db_url)
        deadline = time.monotonic() + 3.0
        stored: dict[str, str | None] = {}
        while time.monotonic() < deadline and not done.is_set():
            stored = {f"gone-{n}": reader.source_state(f"gone-{n}").last_error for n in (0, 1, 2, "late")}
            if all(stored.values()):
                break
            time.sleep(0.1)
        assert not done.is_set(), "the slow source should still be in flight"
        assert stored == {sid: "HTTP 404" for sid in stored}  # written while the run goes on
        reader.close()
    finally:
        worker.join(timeout=30)
    assert done.is_set()
    assert app.store.source_state("slow").last_error is None and app.store.source_state("slow").last_success
