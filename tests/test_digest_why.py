"""A digest shows why each story carries its tags (the contract: the evidence is shown wherever tags are): the
model's relevance of its members, the places behind each country as the gazetteer spells them, each topic's best
score, and how many members an editor marked."""

from __future__ import annotations

from datetime import UTC, datetime

from bs4 import BeautifulSoup

from mediawatch.digest.build import build_digest
from mediawatch.digest.render import render_html, render_markdown
from mediawatch.digest.week import IsoWeek
from mediawatch.models import ItemId, SourceId, StoryId
from mediawatch.store.evidence import parse_why
from mediawatch.store.stories import WeekItem, WeekNumbers

WEEK = IsoWeek.parse("2025-W12")
NOW = datetime(2025, 3, 24, 9, tzinfo=UTC)


def member(n: int, relevance: float | None, why: str | None, *, labeled: bool = False,
           countries: tuple[str, ...] = ("MN",), topics: tuple[str, ...] = ("festivals",)) -> WeekItem:
    """Members of one story (st-1)."""
    return WeekItem(
        id=ItemId(f"i{n}"), source_id=SourceId(f"s{n}"), url=f"https://s{n}.example/{n}", title=f"Nauryz in Ölgii {n}",
        summary="", text="", published=datetime(2025, 3, 18 + n, 10, tzinfo=UTC), language="en", author=None,
        relevant=True, countries=countries, topics=topics, labeled=labeled, story_id=StoryId("st-1"), similarity=0.95,
        relevance=relevance, why=parse_why(why),
    )


def digest(*members: WeekItem):  # type: ignore[no-untyped-def]
    return build_digest(WEEK, now=NOW, items=list(members), members=list(members), stories={},
                        previous=WeekNumbers(0, 0, 0, 0), trend=[], sources=[])


def test_a_story_line_tells_relevance_places_and_topic_scores() -> None:
    why = ('{"places": [{"name": "Bayan-Ölgii", "country": "MN", "kind": "region", "text": "bayan-olgii"}],'
           ' "countries": {"MN": ["bayan-olgii", "kazakhs of mongolia"]},'
           ' "topic_scores": {"festivals": 0.93, "heritage": 0.4}}')
    (story,) = digest(member(1, 0.97, why)).top
    assert story.why.relevance == (0.97,) and story.why.editors == 0
    # a place in the gazetteer's spelling; a community name that is no place, as matched
    assert story.why.countries == (("MN", ("Bayan-Ölgii", "kazakhs of mongolia")),)
    assert story.why.topics == (("festivals", 0.93),)  # the story's topics only, not every score
    md = render_markdown(digest(member(1, 0.97, why)), chart_dir="c")
    # a paragraph of its own: not run on from the line of sources and tags above it
    assert "Topics: Festivals\n\nWhy: relevance 0.97; Mongolia: Bayan-Ölgii, kazakhs of mongolia; Festivals 0.93\n\n" in md


def test_members_relevance_range_editors_and_best_scores() -> None:
    one = '{"countries": {"MN": ["olgii"]}, "topic_scores": {"festivals": 0.71}}'
    two = '{"countries": {"MN": ["olgii", "mongolia"]}, "topic_scores": {"festivals": 0.88}}'
    members = (member(1, 0.91, one), member(2, 0.99, two), member(3, 0.2, None, labeled=True))
    (story,) = digest(*members).top
    # the editor's item is counted as such, not by the model's relevance it overrides
    assert story.why.relevance == (0.91, 0.99) and story.why.editors == 1
    assert story.why.countries == (("MN", ("olgii", "mongolia")),) and story.why.topics == (("festivals", 0.88),)
    html = BeautifulSoup(render_html(digest(*members)), "html.parser")
    line = html.select_one("article.story p.why")
    assert line is not None
    assert line.get_text() == ("Why: relevance 0.91–0.99 (2 items); 1 item marked by an editor; Mongolia: olgii, "
                               "mongolia; Festivals 0.88")


def test_a_hand_edited_evidence_row_is_shown_as_text() -> None:
    why = '{"countries": {"MN": ["<script>alert(1)</script>", "[x](javascript:alert(1))"]}}'
    d = digest(member(1, 0.9, why))
    html = render_html(d)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    md = render_markdown(d, chart_dir="c")
    assert "\\[x\\](javascript" in md and "<script>" not in md  # escaped: no link, no tag


def test_a_story_without_evidence_has_no_why_line() -> None:
    d = digest(member(1, None, None))
    assert "Why:" not in render_markdown(d, chart_dir="c") and 'class="why"' not in render_html(d)
