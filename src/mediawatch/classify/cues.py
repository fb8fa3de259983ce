"""Topic cues: words that point to a topic ("mosque", "мешіт", "清真寺" for religion), in many languages.

Each topic of the taxonomy may list ``cues``; they are matched like gazetteer names (folded text, ``*`` ends a
stem, Chinese by substring) on the same renderings of an item the gazetteer reads. The topic heads take the
presence of a topic's cues as one feature next to the embedding, with a weight learned from the examples
(:mod:`mediawatch.classify.train`), so a cue tips a borderline topic rather than deciding it alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from mediawatch.classify.names import NameMatcher, declined_forms, parse_name


@dataclass(frozen=True)
class TopicCues:
    """A compiled matcher for every topic's cue words."""

    topics: tuple[str, ...]
    _matcher: NameMatcher = field(repr=False, compare=False)

    def find(self, folded_texts: Iterable[str]) -> dict[str, list[str]]:
        """Topic id -> the cue words found in any of the (already folded) texts, in order, de-duplicated."""
        found: dict[str, list[str]] = {}
        for text in folded_texts:
            for index, start, end in self._matcher.find(text):
                words = found.setdefault(self.topics[index], [])
                if text[start:end] not in words:
                    words.append(text[start:end])
        return found

    def presence(self, found: Mapping[str, Sequence[str]]) -> NDArray[np.float32]:
        """A 0/1 vector over :attr:`topics` from :meth:`find`'s result."""
        return np.asarray([1.0 if found.get(t) else 0.0 for t in self.topics], dtype=np.float32)


def build_cues(cues: Mapping[str, Sequence[str]], topic_ids: Sequence[str], source: str) -> TopicCues:
    """Compile ``{topic id: [cue, ...]}`` (topics without cues simply never fire)."""
    names = []
    entries = []
    for index, topic in enumerate(topic_ids):
        for cue in cues.get(topic, ()):
            for form in (cue, *declined_forms(cue)):
                parsed = parse_name(form, f"{source}: topics.{topic}.cues")
                if parsed:
                    names.append(parsed)
                    entries.append(index)
    return TopicCues(tuple(topic_ids), NameMatcher(names, entries))
