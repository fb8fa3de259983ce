"""Audit 5 of the digest and the subscriber feeds, on real SQLite stores and the real CLI:

1. text is cut at a word boundary when one is near, else at a grapheme boundary (never half a flag, a ZWJ
   sequence, a base without its mark), in the feeds and in the digest summaries;
2. the operator's source name is plain text: verbatim (escaped) in Atom, JSON and the entry HTML;
3. a week that has not started is refused; the week under way is digested "so far" and compared fairly;
4. source health for a past week leaves out sources registered after it;
5. a section heading counts what it lists, and links a story through a member that carries its tag;
6. Arabic-script titles, summaries and source names sit in dir="auto" / <bdi> in the HTML.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, NavigableString
from click.testing import CliRunner
from test_digest import NOW, ROWS, SOURCES, WEEK, at, fill_store
from webdata import QStore, Row, add_rows, ago

from mediawatch.cli import main
from mediawatch.digest import IsoWeek, write_digest
from mediawatch.digest.summary import extract_summary
from mediawatch.models import ItemId
from mediawatch.publish import rebuild_feeds
from mediawatch.publish.text import plain
from mediawatch.sourcefile import parse_sourcefile
from mediawatch.store import Label, Store, open_store
from mediawatch.wording import shorten

ATOM = "{http://www.w3.org/2005/Atom}"
FEED_NOW = datetime(2025, 3, 24, 6, 0, tzinfo=UTC)

FLAG = "\U0001f1f0\U0001f1ff"  # 🇰🇿: two regional indicators
FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467"  # 👩‍👩‍👧: a ZWJ sequence
HEART = "\u2764\ufe0f"  # ❤️: a base and a variation selector
MARKED = "q\u0301"  # q + combining acute: no precomposed form, NFC keeps two code points
SHADDA = "\u0628\u0651"  # Arabic beh + shadda (a combining mark)


def is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def assert_whole_clusters(cut: str, original: str) -> None:
    """``cut`` is a prefix of ``original`` (ending in …) that ends between two grapheme clusters."""
    assert cut.endswith("…"), cut
    body = cut[:-1]
    assert original.startswith(body), (cut, original[: len(cut) + 5])
    rest = original[len(body) :]
    if rest:
        nxt = rest[0]
        assert nxt != "\u200d" and not unicodedata.category(nxt).startswith("M"), repr(cut[-6:] + "|" + rest[:3])
        assert not ("\ufe00" <= nxt <= "\ufe0f"), repr(cut[-6:])
        assert not body.endswith("\u200d"), repr(cut[-6:])
        run = len(body) - len(body.rstrip("".join(chr(c) for c in range(0x1F1E6, 0x1F200))))
        assert run % 2 == 0 or not is_regional(nxt), f"half a flag: {cut[-6:]!r}"


# ---------------------------------------------------------------------------------------------- 1. cutting


def test_the_reported_flag_cut_keeps_whole_flags() -> None:
    text = "x" * 298 + FLAG + FLAG
    cut = plain(text, 300)
    assert cut == "x" * 298 + "…"  # the old code ended in one lone regional indicator before the …
    assert not any(is_regional(ch) for ch in cut)
    assert shorten("x" * 297 + FLAG + FLAG, 300) == "x" * 297 + FLAG + "…"


@pytest.mark.parametrize("unit", [FLAG, FAMILY, HEART, MARKED, SHADDA, "\U0001f44d\U0001f3fd"])
@pytest.mark.parametrize("limit", [7, 8, 9, 10, 11, 50])
def test_no_cut_splits_a_grapheme_cluster(unit: str, limit: int) -> None:
    for prefix in ("", "a", "ab"):
        text = prefix + unit * 40
        for cut in (shorten(text, limit), plain(text, limit)):  # plain(): every feed text field
            assert len(cut) <= limit
            assert_whole_clusters(cut, text)


def test_a_cut_ends_at_a_word_boundary_when_one_is_near() -> None:
    text = ("The Kazakh cultural centre in Omsk organises summer camps every year for children of the "
            "diaspora. ") * 5
    for limit in (60, 77, 90, 140, 300):
        cut = shorten(text, limit)
        assert len(cut) <= limit and cut.endswith("…")
        body = cut[:-1]
        assert text.startswith(body) and text[len(body)] in " ,.", f"cut mid-word: {cut!r}"
        assert len(body) >= limit * 0.6  # the space is within the last 30 % (less the ellipsis and a comma)
    # the feed summary the audit quoted: never "…summer camps e…"
    assert not re.search(r"\s\w…$", plain(text, 300))


def test_text_without_spaces_is_cut_at_a_grapheme_boundary() -> None:
    cjk = "伊犁哈萨克自治州举办阿肯弹唱会" * 30
    cut = shorten(cjk, 20)
    assert cut == cjk[:19] + "…"
    long_word = "a" * 200 + " " + "b" * 400  # the only space is far from the limit: cut inside the word
    assert shorten(long_word, 300) == long_word[:299] + "…"


def test_digest_summaries_use_the_same_cut() -> None:
    text = "x" + FLAG * 300  # one long "sentence" without spaces: cut at 360
    cut = extract_summary("title", text)
    assert len(cut) <= 360 and cut.endswith("…")
    assert_whole_clusters(cut, text)
    marked = "x" + MARKED * 300
    assert_whole_clusters(extract_summary("title", marked), unicodedata.normalize("NFC", marked))
    words = "Kazakh families organise summer camps every year for children of the diaspora " * 8
    summary = extract_summary("title", words)
    assert words.startswith(summary[:-1]) and words[len(summary) - 1] == " "


def test_the_feed_summary_is_cut_at_a_word_boundary(tmp_path: Path) -> None:
    long = ("The Kazakh society of Istanbul organises summer camps every year for the children of the "
            "diaspora, with dombra lessons, Kazakh language classes and games from the steppe. ") * 4
    store = feed_store(tmp_path, SOURCE_YAML, [Row(70, "edge", "en", ago(1), "Summer camps", long, True, "TR",
                                                     "education")])
    out = tmp_path / "d"
    rebuild_feeds(store, out, now=FEED_NOW)
    entry = ET.parse(out / "feeds/countries/TR.atom").getroot().find(f"{ATOM}entry")
    summary = entry.find(f"{ATOM}summary").text
    assert summary.endswith("…") and len(summary) <= 300
    body = summary[:-1]
    assert long.startswith(body) and long[len(body)] in " ,", f"cut mid-word: {summary[-30:]!r}"
    data = json.loads((out / "feeds/countries/TR.json").read_bytes())
    assert data["items"][0]["summary"] == summary
    store.close()


# ---------------------------------------------------------------------------------------------- 2. names

SOURCE_YAML = """version: 1
sources:
  - {id: edge, kind: rss, name: "Edge & <Test> Outlet", url: "https://edge.example/rss", every: 1h}
  - {id: ile-arab, kind: rss, name: "ىلە تولقىنى", url: "https://ile.example/atom", every: 1h}
"""


def feed_store(tmp_path: Path, sources: str, rows: list[Row]) -> QStore:
    store = QStore(open_store(f"sqlite:///{tmp_path / 'feeds.db'}").engine)
    store.sync_sources(parse_sourcefile(sources, Path("sources.yaml")).sources, FEED_NOW - timedelta(days=60))
    add_rows(store, rows, FEED_NOW)
    return store


def test_the_operators_source_name_is_plain_text_everywhere(tmp_path: Path) -> None:
    store = feed_store(tmp_path, SOURCE_YAML, [Row(71, "edge", "en", ago(1), "Kazakh festival in Berlin",
                                                   "A festival. Tom & Jerry <3.", True, "DE", "festivals")])
    out = tmp_path / "d"
    rebuild_feeds(store, out, now=FEED_NOW)
    raw = (out / "feeds/countries/DE.atom").read_bytes()
    assert b"Edge &amp; &lt;Test&gt; Outlet" in raw  # escaped by the XML writer, not stripped
    entry = ET.fromstring(raw).find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}source/{ATOM}title").text == "Edge & <Test> Outlet (edge)"
    content = BeautifulSoup(entry.find(f"{ATOM}content").text, "html.parser")
    assert "Source: Edge & <Test> Outlet (edge)." in content.get_text()
    assert content.find("test") is None  # text, not a tag
    data = json.loads((out / "feeds/countries/DE.json").read_bytes())
    item = data["items"][0]
    assert item["_mediawatch"]["source"]["name"] == "Edge & <Test> Outlet"
    assert "Source: Edge & <Test> Outlet (edge)" in item["content_text"]
    assert "Source: Edge & <Test> Outlet (edge)." in BeautifulSoup(item["content_html"], "html.parser").get_text()
    # feed-supplied fields are still HTML made text
    assert item["summary"] == "A festival. Tom & Jerry <3."
    # what an editor typed (name, note) is text as well
    store.save_label(Label(ItemId("item071"), True, ("DE",), ("festivals",), "Aigerim & <desk>", "see <b>1</b>",
                           FEED_NOW))
    rebuild_feeds(store, out, now=FEED_NOW)
    item = json.loads((out / "feeds/countries/DE.json").read_bytes())["items"][0]
    assert "- Marked relevant by an editor (Aigerim & <desk>): see <b>1</b>." in item["content_text"]
    store.close()


# ---------------------------------------------------------------------------------------------- 3. weeks


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def cli_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A working folder with sources.yaml and its database (sources registered in February 2025)."""
    monkeypatch.chdir(tmp_path)
    for var in ("MEDIAWATCH_DB", "MEDIAWATCH_SOURCES", "MEDIAWATCH_DIGEST_TIMEZONE"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    store = open_store("sqlite:///mediawatch.db")
    store.sync_sources(parse_sourcefile(SOURCES, Path("sources.yaml")).sources, at(1, month=2))
    store.close()


def test_a_week_that_has_not_started_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli_folder(tmp_path, monkeypatch)
    code, _, err = run_cli("digest", "--week", "2099-W01", "--out", "out")
    assert code == 2, err
    assert "2099-W01 has not started yet" in err and "2098-12-29 00:00 UTC" in err
    assert not (tmp_path / "out" / "2099-W01.md").exists()
    # the library refuses it as well
    store = open_store(f"sqlite:///{tmp_path / 'lib.db'}")
    with pytest.raises(ValueError, match=r"2025-W13 has not started yet: it starts on 2025-03-24 00:00 UTC"):
        write_digest(store, IsoWeek(2025, 13), tmp_path / "lib", now=datetime(2025, 3, 23, 23, 59, tzinfo=UTC))
    store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path):
    s = open_store(f"sqlite:///{tmp_path / 'digest.db'}")
    s.sync_sources(parse_sourcefile(SOURCES, Path("sources.yaml")).sources, at(1, month=2))
    yield s
    s.close()


def test_the_week_under_way_is_digested_so_far(sqlite_store: Store, tmp_path: Path) -> None:
    fill_store(sqlite_store, ROWS)
    now = at(20, 12)  # Thursday noon of W12
    files = write_digest(sqlite_store, WEEK, tmp_path, now=now)
    md = files.md.read_text(encoding="utf-8")
    html = BeautifulSoup(files.html.read_text(encoding="utf-8"), "html.parser")
    text = " ".join(html.get_text().split())
    for page in (md, text):
        assert "Partial week:" in page and "so far, up to Thu 20 Mar 2025 12:00 UTC" in page
        assert "the change is not a whole week's" in page and "up to Thu 13 Mar 2025 12:00 UTC" in page
    assert "| | this week so far | previous week, same span | change |" in md
    assert [th.get_text() for th in html.select("#numbers thead th")][1:3] == [
        "This week so far", "Previous week, same span"]
    # W12 up to Thursday noon: items 5, 6, 7 and 11 (items published later are not there yet)
    assert "| Items collected | 4 | 2 | +2 (+100%) |" in md  # W11 up to Thursday 13 Mar noon: items 20 and 21 (of 4)
    assert "Kazakh students in London" not in md and "В Омске открылись курсы" in md
    assert "(quiet-feed): no items so far this week" in md
    assert sqlite_store.digest_record(str(WEEK)) is None  # not recorded: the complete digest is still due
    # the complete week reads as before
    done = write_digest(sqlite_store, WEEK, tmp_path, now=NOW).md.read_text(encoding="utf-8")
    assert "Partial" not in done and "| | this week | previous week | change |" in done
    assert "| Items collected | 12 | 4 | +8 (+200%) |" in done
    assert sqlite_store.digest_record(str(WEEK)) is not None


def test_the_current_week_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli_folder(tmp_path, monkeypatch)
    current = IsoWeek.of(datetime.now(UTC))
    code, out, err = run_cli("digest", "--week", str(current), "--out", "out")
    assert code == 0, err
    md = (tmp_path / "out" / f"{current}.md").read_text(encoding="utf-8")
    assert "**Partial week:** this digest covers the week so far" in md


# ---------------------------------------------------------------------------------------------- 4. health


def test_sources_registered_after_the_week_are_not_blamed(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'late.db'}")
    specs = parse_sourcefile(SOURCES, Path("sources.yaml")).sources
    early = [s for s in specs if s.id in ("kazinform-en", "quiet-feed")]
    store.sync_sources(early, at(1, month=2))
    store.sync_sources(specs, at(19, 9))  # the others during W12 (Wednesday 09:00)
    # quiet-feed's twin xj-zh is added during the week; omsk-ru brings an item of the week on its first run
    fill_store(store, [r for r in ROWS if r[0] in (1, 7)])
    md = write_digest(store, IsoWeek(2025, 11), tmp_path / "w11", now=NOW).md.read_text(encoding="utf-8")
    health = md.split("## Source health")[1]
    # W11: only the two sources registered before it ended are checked; the rest did not exist yet
    assert "2 of 2 enabled sources need attention:" in health
    assert "(kazinform-en)" in health and "(quiet-feed)" in health
    for later in ("qazaq-kk", "omsk-ru", "xj-zh", "broken-feed"):
        assert f"({later})" not in health
    assert "4 enabled sources added after this week are not counted here." in health
    w12 = write_digest(store, WEEK, tmp_path / "w12", now=NOW).md.read_text(encoding="utf-8")
    health = w12.split("## Source health")[1]
    xj = next(line for line in health.splitlines() if "(xj-zh)" in line)
    assert "no items this week since it was added on 2025-03-19 09:00 UTC" in xj
    assert "(omsk-ru)" not in health and "(kazinform-en)" not in health  # both brought items of the week
    assert "added after this week" not in health
    # before any source existed: said so, not "No sources are enabled"
    none = write_digest(store, IsoWeek(2025, 4), tmp_path / "w04", now=NOW).md.read_text(encoding="utf-8")
    assert "No source had been added yet by the end of this week (6 enabled sources added later)." in none
    store.close()


# ---------------------------------------------------------------------------------------------- 5. sections

# one story: the lead (earliest, en) is about Mongolia; a later member (ru) is also about Türkiye
SECTION_ROWS: list[tuple] = [
    (81, "kazinform-en", "en", at(18, 9), "World Kazakh kurultai dates announced",
     "The kurultai of the world's Kazakhs will meet in autumn.", "kurultai", True, "MN", "politics"),
    (82, "omsk-ru", "ru", at(18, 15), "Курултай казахов мира пройдёт осенью",
     "Делегаты из Монголии и Турции приедут на курултай.", "kurultai", True, "MN TR", "politics"),
    (83, "qazaq-kk", "kk", at(19, 10), "Стамбұлдағы қазақтар Наурыз тойлады",
     "Стамбұлдағы қазақтар Наурыз мерекесін тойлады.", None, True, "TR", "festivals"),
]


def md_sections(md: str, heading: str) -> dict[str, tuple[str, list[str]]]:
    part = md.split(f"## {heading}\n")[1].split("\n## ")[0]
    out = {}
    for block in part.split("\n### ")[1:]:
        head, *lines = block.strip().splitlines()
        name, counts = re.match(r"(.+?) \((.+)\)$", head.strip("# ")).groups()
        out[name] = (counts, [ln for ln in lines if ln.startswith("- ")])
    return out


def test_a_section_counts_what_it_lists_and_links_a_tagged_member(sqlite_store: Store, tmp_path: Path) -> None:
    fill_store(sqlite_store, SECTION_ROWS)
    files = write_digest(sqlite_store, WEEK, tmp_path, now=NOW)
    md = files.md.read_text(encoding="utf-8")
    assert "### 1. World Kazakh kurultai dates announced" in md  # the en item leads the story
    countries = md_sections(md, "By country")
    counts, lines = countries["Türkiye"]
    assert counts == "2 stories, 2 items this week"  # was "(2 items)" over 2 stories of 3 members
    kurultai = next(ln for ln in lines if "omsk-ru.example/news/82" in ln)
    assert kurultai.startswith("- [Курултай казахов мира пройдёт осенью](<https://omsk-ru.example/news/82>)")
    assert "— 1 of 2 items tagged Türkiye, 2 sources, en, ru" in kurultai
    counts, lines = countries["Mongolia"]
    assert counts == "1 story, 2 items this week" and "kazinform-en.example/news/81" in lines[0] and "2 items, 2 sources" in lines[0]
    # every heading adds up: its stories are listed, its items are the tagged members of the lines
    for heading in ("By topic", "By country"):
        for name, (counts, lines) in md_sections(md, heading).items():
            stories, items = (int(n) for n in re.findall(r"\d+", counts))
            tagged = [int(m.group(1) or m.group(2)) for ln in lines
                      if (m := re.search(r"— (?:(\d+) of \d+ items tagged|(\d+) items?,)", ln))]
            assert (len(lines), sum(tagged)) == (stories, items), name
    # the HTML says the same
    soup = BeautifulSoup(files.html.read_text(encoding="utf-8"), "html.parser")
    h3 = next(h for h in soup.select("#countries h3") if h.get_text().startswith("Türkiye"))
    assert h3.get_text() == "Türkiye (2 stories, 2 items this week)"
    links = [(li.a["href"], " ".join(li.get_text().split())) for li in h3.find_next_sibling("ul").find_all("li")]
    assert ("https://omsk-ru.example/news/82",
            "Курултай казахов мира пройдёт осенью — 1 of 2 items tagged Türkiye, 2 sources, en, ru") in links


# ---------------------------------------------------------------------------------------------- 6. bidi

ARABIC = re.compile("[\u0600-\u06ff]")


def isolated(node: NavigableString) -> bool:
    """The text sits in an element with dir="auto" or in <bdi> (its own direction, Arabic right to left)."""
    for parent in node.parents:
        if parent.name == "bdi" or parent.get("dir") == "auto":
            return True
    return False


def test_arabic_script_text_is_isolated_in_the_digest_html(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'bidi.db'}")
    store.sync_sources(parse_sourcefile(SOURCE_YAML, Path("sources.yaml")).sources, at(1, month=2))
    rows = [(91, "ile-arab", "kk-Arab", at(20, 16), "شىنجياڭداعى قازاقتار ناۋرىز مەرەكەسىن تويلادى",
             "ىله قازاق اۆتونوميالى وبلىسىندا ناۋرىز مەرەكەسى اتالىپ ءوتتى. مەرەكەگە مىڭداعان ادام قاتىستى.",
             None, True, "CN", "festivals")]
    fill_store(store, rows)
    html = write_digest(store, WEEK, tmp_path, now=NOW).html.read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    arabic = [s for s in soup.body.find_all(string=ARABIC) if s.parent.name not in ("title", "text")]
    assert len(arabic) >= 4  # title (top + link + section), summary, source name
    for s in arabic:
        assert isolated(s), f"not isolated: <{s.parent.name}> {s[:30]}"
    # the page's style is still the only one allowed (by hash)
    style = soup.find("style").string
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
    store.close()


def test_arabic_script_text_is_isolated_in_feed_entries(tmp_path: Path) -> None:
    store = feed_store(tmp_path, SOURCE_YAML, [Row(92, "ile-arab", "kk-Arab", ago(1), "ىلەدە اقىندار ايتىسى ٴوتتى",
                                                   "قۇلجادا ٴداستۇرلى اقىندار ايتىسى ٴوتتى.", True, "CN", "festivals")])
    out = tmp_path / "d"
    rebuild_feeds(store, out, now=FEED_NOW)
    html = json.loads((out / "feeds/countries/CN.json").read_bytes())["items"][0]["content_html"]
    soup = BeautifulSoup(html, "html.parser")
    summary = soup.find(string=re.compile("قۇلجادا"))
    name = soup.find(string=re.compile("ىلە تولقىنى"))
    assert summary is not None and name is not None
    assert isolated(summary) and isolated(name)
    atom = ET.parse(out / "feeds/countries/CN.atom").getroot().find(f"{ATOM}entry/{ATOM}content").text
    assert '<p dir="auto">قۇلجادا' in atom and "<bdi>ىلە تولقىنى (ile-arab)</bdi>" in atom
    store.close()

