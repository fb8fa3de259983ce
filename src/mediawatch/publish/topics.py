"""How pages and feeds show the tagger's topic scores: honestly, including the fallback topic.

The tagger (:mod:`mediawatch.classify.tagger`) gives a relevant item every topic whose score clears that
topic's threshold, and when none does, the single topic closest to its threshold. ``why`` records each topic's
score (rounded to 3 decimals) and threshold but not which rule chose a topic, so this module works it out: a topic
of the item whose recorded score is below its threshold was not passed. For the model's own tags that is the
"closest topic" fallback; for an editor's correction it is the editor's choice against the model. (A score
within 0.0005 of its threshold cannot be told apart at the recorded precision; it counts as passed.)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mediawatch.digest.names import topic_name
from mediawatch.store.queries import TaggedItem

SCORE_DIGITS = 3  # the tagger rounds scores to this many decimals in ``why``
NO_HEAD = 1.0  # the threshold of a topic without a head (the tagger never chooses it)


class TopicVerdict(StrEnum):
    PASSED = "passed"  # tagged: score at or above the threshold
    CLOSEST = "closest"  # tagged by the model although below the threshold: the "at least one topic" rule
    EDITOR_BELOW = "editor_below"  # an editor's topic the model scored below the threshold
    TAGGED = "tagged"  # tagged, no threshold recorded to compare with
    BELOW = "below"  # not tagged, below the threshold
    NOT_TAGGED = "not_tagged"  # not tagged (passed but over the topic limit, or no threshold recorded)
    NO_HEAD = "no_head"  # threshold 1: the topic had too few training examples for a head, never chosen


RESULTS = {
    TopicVerdict.PASSED: "tagged",
    TopicVerdict.CLOSEST: "tagged as the closest topic, below its threshold",
    TopicVerdict.EDITOR_BELOW: "an editor's topic, below its threshold",
    TopicVerdict.TAGGED: "tagged",
    TopicVerdict.BELOW: "below its threshold",
    TopicVerdict.NOT_TAGGED: "not tagged",
    TopicVerdict.NO_HEAD: "never chosen (too few training examples)",
}


@dataclass(frozen=True, slots=True)
class TopicScore:
    topic: str
    score: float
    threshold: float | None
    verdict: TopicVerdict

    @property
    def below(self) -> bool:
        """Scored below its threshold."""
        return self.verdict in (TopicVerdict.CLOSEST, TopicVerdict.EDITOR_BELOW, TopicVerdict.BELOW)

    @property
    def shown_score(self) -> str:
        """The score with two decimals, or three when two would make a score below its threshold look equal
        to it (0.398 against 0.40)."""
        two = f"{self.score:.2f}"
        if self.below and self.threshold is not None and round(self.score, 2) >= round(self.threshold, 2):
            return f"{self.score:.3f}"
        return two

    @property
    def result(self) -> str:
        """The verdict in words, for the table of scores."""
        return RESULTS[self.verdict]

    @property
    def shown_threshold(self) -> str:
        return f"{self.threshold:.2f}" if self.threshold is not None else "—"


def passed(score: float, threshold: float) -> bool:
    """The tagger's rule (score >= threshold) at the precision ``why`` records the score with."""
    return score >= round(threshold, SCORE_DIGITS)


def topic_scores(item: TaggedItem) -> list[TopicScore]:
    """Every scored topic with its verdict: the item's topics first (in the item's order), then the others by
    score, highest first."""
    why = item.why
    if why is None:
        return []
    thresholds = dict(why.topic_thresholds)
    scores = dict(why.topic_scores)
    rows = []
    for topic, score in scores.items():
        threshold = thresholds.get(topic)
        rows.append(TopicScore(topic, score, threshold, _verdict(item, topic, score, threshold)))
    order = {t: n for n, t in enumerate(item.topics)}
    return sorted(rows, key=lambda r: (order.get(r.topic, len(order)), -r.score, r.topic))


def _verdict(item: TaggedItem, topic: str, score: float, threshold: float | None) -> TopicVerdict:
    if topic not in item.topics:
        if threshold is None:
            return TopicVerdict.NOT_TAGGED
        if threshold >= NO_HEAD:
            return TopicVerdict.NO_HEAD
        return TopicVerdict.NOT_TAGGED if passed(score, threshold) else TopicVerdict.BELOW
    if threshold is None:
        return TopicVerdict.TAGGED
    if passed(score, threshold):
        return TopicVerdict.PASSED
    return TopicVerdict.EDITOR_BELOW if item.labeled else TopicVerdict.CLOSEST


def topics_line(item: TaggedItem) -> str | None:
    """The item's topics in words, each with its score and whether it passed its threshold."""
    if not item.topics:
        return None
    scored = {r.topic: r for r in topic_scores(item)}
    parts = []
    for topic in item.topics:
        row = scored.get(topic)
        name = topic_name(topic)
        if row is None:
            parts.append(name)
        elif row.threshold is None:
            parts.append(f"{name} ({row.shown_score})")
        elif row.verdict is TopicVerdict.CLOSEST:
            parts.append(
                f"{name} (score {row.shown_score}, below its threshold {row.shown_threshold}: no topic passed "
                "its threshold, so the closest one was given)"
            )
        elif row.verdict is TopicVerdict.EDITOR_BELOW:
            parts.append(
                f"{name} (chosen by an editor; model score {row.shown_score}, below its threshold "
                f"{row.shown_threshold})"
            )
        else:
            parts.append(f"{name} (score {row.shown_score}, threshold {row.shown_threshold})")
    return "Topics: " + ", ".join(parts) + "."


__all__ = ["TopicScore", "TopicVerdict", "passed", "topic_scores", "topics_line"]
