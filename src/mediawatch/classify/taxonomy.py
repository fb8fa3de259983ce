"""The taxonomy: topics (with descriptions, multilingual examples and cue words) plus the gazetteer.

Both are data files in ``data/`` that operators can extend with override files (same layout, merged:
lists appended, mappings merged). ``Taxonomy.digest`` changes whenever either changes; it is what
``Classification.taxonomy_hash`` records and part of the trained heads' cache key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mediawatch.classify.cues import TopicCues, build_cues
from mediawatch.classify.gazetteer import Gazetteer, load_gazetteer, load_packaged
from mediawatch.errors import ConfigError


@dataclass(frozen=True, slots=True)
class TopicExample:
    text: str
    lang: str


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    label: str
    description: str
    examples: tuple[TopicExample, ...]
    cues: tuple[str, ...] = ()  # words pointing to the topic, any language (see classify/cues.py)


@dataclass(frozen=True)
class Taxonomy:
    topics: tuple[Topic, ...]
    relevance: str  # what "relevant" means, in words (shown to operators and editors)
    gazetteer: Gazetteer
    digest: str
    cues: TopicCues

    @property
    def topic_ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.topics)

    def topic(self, topic_id: str) -> Topic:
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        raise KeyError(topic_id)


def parse_topics(data: Mapping[str, object], source: str = "taxonomy") -> tuple[Topic, ...]:
    """The ``topics`` of taxonomy data (the YAML layout), validated."""
    raw_topics = data.get("topics")
    if not isinstance(raw_topics, Mapping) or not raw_topics:
        raise ConfigError(f"{source}: 'topics' must be a non-empty mapping of topic ids")
    topics: list[Topic] = []
    for topic_id, spec in raw_topics.items():
        where = f"{source}: topics.{topic_id}"
        if not isinstance(spec, Mapping):
            raise ConfigError(f"{where}: expected a mapping with label, description and examples")
        description = spec.get("description")
        if not isinstance(description, str) or not description.strip():
            raise ConfigError(f"{where}: 'description' must be a non-empty string")
        examples: list[TopicExample] = []
        for n, ex in enumerate(spec.get("examples") or []):
            if not isinstance(ex, Mapping) or not isinstance(ex.get("text"), str) or not ex["text"].strip():
                raise ConfigError(f"{where}.examples[{n}]: expected {{lang: .., text: ..}}")
            examples.append(TopicExample(str(ex["text"]).strip(), str(ex.get("lang", "und"))))
        cues = spec.get("cues") or []
        if not isinstance(cues, list) or not all(isinstance(c, str) and c.strip() for c in cues):
            raise ConfigError(f"{where}.cues: expected a list of non-empty strings")
        label = str(spec.get("label", topic_id))
        topics.append(
            Topic(
                str(topic_id),
                label,
                " ".join(description.split()),
                tuple(examples),
                tuple(c.strip() for c in cues),
            )
        )
    return tuple(topics)


def parse_taxonomy(data: Mapping[str, object], gazetteer: Gazetteer, source: str = "taxonomy") -> Taxonomy:
    """Validate taxonomy data (the YAML layout) into a :class:`Taxonomy`."""
    topics = parse_topics(data, source)
    relevance = data.get("relevance", "")
    if not isinstance(relevance, str):
        raise ConfigError(f"{source}: 'relevance' must be a string")
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str) + gazetteer.digest
    digest = hashlib.sha256(blob.encode()).hexdigest()[:16]
    compiled = build_cues({t.id: t.cues for t in topics}, [t.id for t in topics], source)
    return Taxonomy(topics, " ".join(relevance.split()), gazetteer, digest, compiled)


def load_topics(override: Path | None = None) -> tuple[Topic, ...]:
    """The active taxonomy's topics (packaged, merged with the operator's override file when given), without
    building the gazetteer: what a label correction is checked against."""
    data, source = load_packaged("taxonomy.yaml", override)
    return parse_topics(data, source)


def load_taxonomy(override: Path | None = None, gazetteer_override: Path | None = None) -> Taxonomy:
    """The packaged taxonomy and gazetteer, each merged with an operator's override file when given."""
    data, source = load_packaged("taxonomy.yaml", override)
    return parse_taxonomy(data, load_gazetteer(gazetteer_override), source)
