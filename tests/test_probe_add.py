"""README audit, `probe` and `sources add`: a YouTube channel whose feed cannot be read exits 1 (still printing
what was found), and `sources add` refuses a feed the file already collects (exit 2, naming the source)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from loopserver import LoopServer
from test_probe import CHANNEL, SOURCES, YOUTUBE_FEED, serve_rss

from mediawatch.cli.probing import add, probe
from mediawatch.sourcefile import load_sourcefile, parse_sourcefile
from mediawatch.suggest import AlreadyListed, add_stanza, feed_key

pytestmark = pytest.mark.usefixtures("direct_http")


def youtube(loopserver: LoopServer, command: object, args: list[str]) -> Result:
    runner = CliRunner(env={"MEDIAWATCH_YOUTUBE_BASE": loopserver.base_url})
    return runner.invoke(command, args, catch_exceptions=False)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- probe: YouTube


def test_probe_of_a_channel_whose_feed_fails_prints_the_report_and_exits_1(loopserver: LoopServer) -> None:
    loopserver.status("/feeds/videos.xml", 404)
    result = youtube(loopserver, probe, [f"https://www.youtube.com/channel/{CHANNEL}"])
    assert result.exit_code == 1, result.output
    assert f"channel:   {CHANNEL}" in result.stdout  # what was found is still printed
    assert "suggested sources.yaml stanza" in result.stdout and f"channel_id: {CHANNEL}" in result.stdout
    error = result.stderr.strip().splitlines()
    assert error == [
        f"error: the channel feed could not be read: HTTP 404 ({loopserver.base_url}/feeds/videos.xml?channel_id={CHANNEL})"
    ]


def test_probe_json_of_a_failing_feed_says_so_and_exits_1(loopserver: LoopServer) -> None:
    loopserver.status("/feeds/videos.xml", 500)
    result = youtube(loopserver, probe, ["https://www.youtube.com/playlist?list=PL0123456789abcdef", "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["kind"] == "youtube" and data["feed"]["ok"] is False
    assert data["error"].startswith("the playlist feed could not be read: HTTP 500")


def test_probe_of_a_channel_whose_feed_answers_exits_0(loopserver: LoopServer) -> None:
    loopserver.serve("/feeds/videos.xml", YOUTUBE_FEED, content_type="application/atom+xml")
    result = youtube(loopserver, probe, [f"https://www.youtube.com/channel/{CHANNEL}", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["error"] is None and result.stderr == ""


def test_sources_add_of_a_channel_whose_feed_fails_writes_nothing(loopserver: LoopServer, tmp_path: Path) -> None:
    loopserver.status("/feeds/videos.xml", 404)
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES, encoding="utf-8")
    result = youtube(loopserver, add, [f"https://www.youtube.com/channel/{CHANNEL}", "--sources", str(path)])
    assert result.exit_code == 1
    assert "HTTP 404" in result.stderr and f"nothing written to {path}" in result.stderr
    assert path.read_text(encoding="utf-8") == SOURCES


def test_a_feed_with_one_entry_says_one_entry(loopserver: LoopServer) -> None:
    site = loopserver.base_url
    one = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Solo</title><link>{site}</link>
<item><title>Only</title><link>{site}/only</link></item></channel></rss>"""
    url = loopserver.serve("/solo.xml", one, content_type="application/rss+xml")
    result = CliRunner().invoke(probe, [url], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "(rss20, 1 entry)" in result.stdout


# ---------------------------------------------------------------------------------------------- sources add: twice


def test_the_same_feed_twice_is_refused_naming_the_source(loopserver: LoopServer, tmp_path: Path) -> None:
    feed = serve_rss(loopserver, "/rss.xml")
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES, encoding="utf-8")
    assert CliRunner().invoke(add, [feed, "--sources", str(path)], catch_exceptions=False).exit_code == 0
    before = path.read_bytes()
    line = next(n for n, text in enumerate(before.decode().splitlines(), 1) if "id: 127-0-0-1" in text)
    # another spelling of the same address: upper-case scheme and host, a tracking parameter, a fragment
    respelled = feed.replace("http://127.0.0.1", "HTTP://127.0.0.1") + "?utm_source=newsletter#top"
    for args in ([respelled], [feed, "--id", "fresh-id"]):
        result = CliRunner().invoke(add, [*args, "--sources", str(path)], catch_exceptions=False)
        assert result.exit_code == 2, result.output
        assert f"{path}:{line}: " in result.stderr and "already collected by source '127-0-0-1'" in result.stderr
        assert f"nothing written to {path}: source '127-0-0-1' already collects that feed" in result.stderr
        assert path.read_bytes() == before


def test_an_address_that_redirects_to_a_listed_feed_is_refused(loopserver: LoopServer, tmp_path: Path) -> None:
    feed = serve_rss(loopserver, "/rss.xml")
    old = loopserver.redirect("/old-rss", "/rss.xml", status=301)
    path = tmp_path / "sources.yaml"
    path.write_text(f"version: 1\nsources:\n  - id: listed\n    kind: rss\n    url: {old}\n", encoding="utf-8")
    result = CliRunner().invoke(add, [old, "--sources", str(path)], catch_exceptions=False)
    assert result.exit_code == 2 and "source 'listed'" in result.stderr, result.output
    # the feed's own address is a different URL from the listed one: that is allowed (the operator may switch)
    other = CliRunner().invoke(add, [feed, "--sources", str(path)], catch_exceptions=False)
    assert other.exit_code == 0, other.output


def test_a_listed_channel_is_refused_by_id_and_by_feed_url(loopserver: LoopServer, tmp_path: Path) -> None:
    loopserver.serve("/feeds/videos.xml", YOUTUBE_FEED, content_type="application/atom+xml")
    path = tmp_path / "sources.yaml"
    for listed in (f"channel_id: {CHANNEL}\n    kind: youtube",
                   f"kind: rss\n    url: https://youtube.com/feeds/videos.xml?channel_id={CHANNEL}"):
        text = f"version: 1\nsources:\n  - id: qazaq-tv\n    {listed}\n"
        parse_sourcefile(text, path)  # a valid file to start from
        path.write_text(text, encoding="utf-8")
        result = youtube(loopserver, add, [f"https://www.youtube.com/channel/{CHANNEL}", "--sources", str(path)])
        assert result.exit_code == 2, result.output
        assert f"{path}:3: {CHANNEL} is already collected by source 'qazaq-tv'" in result.stderr
        assert path.read_text(encoding="utf-8") == text


def test_different_feeds_of_one_host_are_both_added(loopserver: LoopServer, tmp_path: Path) -> None:
    feed = serve_rss(loopserver, "/rss.xml")  # the server routes on the path: both URLs answer with it
    path = tmp_path / "sources.yaml"
    for url in (feed, feed + "?lang=kk"):
        result = CliRunner().invoke(add, [url, "--sources", str(path), "--create"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    assert [(s.id, s.url) for s in load_sourcefile(path).sources] == [
        ("127-0-0-1", feed), ("127-0-0-1-2", feed + "?lang=kk")
    ]


def test_feed_key_equivalences() -> None:
    yt = f"https://www.youtube.com/feeds/videos.xml?channel_id={CHANNEL}"
    assert feed_key(channel_id=CHANNEL) == feed_key(channel_id=CHANNEL[2:]) == feed_key(yt)
    assert feed_key(yt.replace("www.", "m.")) == feed_key(yt)
    assert feed_key("https://Omsk.Example:443/rss?utm_medium=x") == feed_key("https://omsk.example/rss")
    assert feed_key("https://omsk.example/rss") != feed_key("https://omsk.example/rss?lang=kk")
    assert feed_key() is None


def test_add_stanza_raises_already_listed_with_the_source_and_line() -> None:
    text = "version: 1\nsources:\n  - id: aa\n    kind: rss\n    url: https://a.example/feed\n    every: 1h\n"
    with pytest.raises(AlreadyListed) as info:
        add_stanza(text, {"id": "bb", "kind": "rss", "url": "https://A.example/feed#x", "every": "1h"}, Path("s.yaml"))
    assert (info.value.source_id, info.value.line) == ("aa", 3)
    assert info.value.problems == ["s.yaml:3: https://A.example/feed#x is already collected by source 'aa'"]


def handle_source(loopserver: LoopServer, tmp_path: Path, handle: str) -> tuple[Path, str]:
    """A channel page at /@qazaqdiasporatv, its feed, and a sources file listing the channel by ``handle``."""
    loopserver.serve_file("/@qazaqdiasporatv", Path(__file__).parent / "data" / "feeds" / "youtube-handle-page.html",
                          content_type="text/html")
    loopserver.serve("/feeds/videos.xml", YOUTUBE_FEED, content_type="application/atom+xml")
    path = tmp_path / "sources.yaml"
    text = f"version: 1\nsources:\n  - id: qazaq-tv\n    kind: youtube\n    handle: '{handle}'\n"
    path.write_text(text, encoding="utf-8")
    return path, text


def test_a_channel_listed_by_handle_is_refused_when_added_by_its_handle_url(loopserver: LoopServer,
                                                                             tmp_path: Path) -> None:
    """The file lists the channel by handle only (its id is resolved at collection time, not written back);
    adding the channel's address again, in another letter case, is refused by the handle."""
    path, text = handle_source(loopserver, tmp_path, "@QazaqDiasporaTV")
    result = youtube(loopserver, add, ["https://www.youtube.com/@qazaqdiasporatv", "--sources", str(path)])
    assert result.exit_code == 2, result.output
    assert (f"{path}:3: @qazaqdiasporatv ({CHANNEL}) is already collected by source 'qazaq-tv'"
            in result.stderr), result.stderr
    assert path.read_text(encoding="utf-8") == text
    # another channel's handle is still added
    path.write_text(text.replace("QazaqDiasporaTV", "other.channel"), encoding="utf-8")
    assert youtube(loopserver, add, ["https://www.youtube.com/@qazaqdiasporatv", "--sources", str(path)]).exit_code == 0


@pytest.mark.parametrize("command", [probe, add])
def test_a_url_argument_with_bytes_that_are_not_utf8_is_refused(command: object, tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/" + b"\xff".decode("utf-8", "surrogateescape")  # as the shell hands it over
    result = CliRunner().invoke(command, [url, "--sources", str(tmp_path / "s.yaml")] if command is add else [url],
                                catch_exceptions=False)  # type: ignore[arg-type]
    assert result.exit_code == 2, result.output
    assert "holds bytes that are not UTF-8; percent-encode them (%FF)" in result.stderr
    assert not (tmp_path / "s.yaml").exists()


def test_two_sources_add_at_once_keep_both_sources(loopserver: LoopServer, tmp_path: Path) -> None:
    """Before: `sources add` read the file, probed (seconds), then wrote its text back: a source that another
    `sources add` wrote meanwhile was lost, and both took the same id."""
    import subprocess
    import sys
    import time

    from test_probe import RSS

    body = RSS.format(site=loopserver.base_url)
    slow = loopserver.serve("/slow/feed.xml", body, content_type="application/rss+xml; charset=utf-8", delay=2.0)
    fast = loopserver.serve("/fast/feed.xml", body, content_type="application/rss+xml; charset=utf-8")
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES, encoding="utf-8")
    first = subprocess.Popen([sys.executable, "-m", "mediawatch", "sources", "add", slow, "--sources", str(path)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not loopserver.requests_for("/slow/feed.xml") and time.monotonic() < deadline:
            time.sleep(0.05)  # the first has read the file and is probing
        assert loopserver.requests_for("/slow/feed.xml"), "the first `sources add` never probed"
        second = CliRunner().invoke(add, [fast, "--sources", str(path)], catch_exceptions=False)
        assert second.exit_code == 0, second.output
        out, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err
    urls = [s.url for s in load_sourcefile(path).sources]
    assert slow in urls and fast in urls
    ids = [s.id for s in load_sourcefile(path).sources]
    assert len(ids) == len(set(ids))


def test_a_channel_listed_by_handle_is_refused_by_the_id_collection_resolved(loopserver: LoopServer,
                                                                            tmp_path: Path) -> None:
    """Once `collect` has resolved the listed handle to its channel id (kept in the database, not in the file),
    adding that channel by its /channel/UC… address is refused too."""
    from mediawatch.cli import main

    path, text = handle_source(loopserver, tmp_path, "@qazaqdiasporatv")
    db = f"sqlite:///{tmp_path / 'm.db'}"
    channel_url = f"https://www.youtube.com/channel/{CHANNEL}"
    # before any collection the handle's channel is unknown (no database yet): the channel is added
    before = youtube(loopserver, main, ["sources", "--db", db, "add", channel_url, "--sources", str(path)])
    assert before.exit_code == 0, before.output
    assert not (tmp_path / "m.db").exists()  # nor was a database created
    path.write_text(text, encoding="utf-8")
    collected = youtube(loopserver, main, ["collect", "--all", "--db", db, "--sources", str(path)])
    assert collected.exit_code == 0 and "1 ok" in collected.output, collected.output
    # `--db` before `add` (the group's) or after it (the command's own, as every command takes it)
    for args in (["sources", "--db", db, "add", channel_url], ["sources", "add", channel_url, "--db", db]):
        result = youtube(loopserver, main, [*args, "--sources", str(path)])
        assert result.exit_code == 2, result.output
        assert f"{path}:3: {CHANNEL} is already collected by source 'qazaq-tv'" in result.stderr
        assert path.read_text(encoding="utf-8") == text
