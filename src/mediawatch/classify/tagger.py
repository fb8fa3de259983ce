"""The tagger: relevance, countries and topics for news items, with the evidence behind each verdict.

``build_tagger(embedder, cache_dir)`` loads the taxonomy, the gazetteer and the written examples (pass
``taxonomy=load_taxonomy(override, gazetteer_override)`` for operators' additions), and trains the heads (or
loads them from the cache). ``Tagger.classify(items)`` embeds ``text_for(title, text)`` (for a long text,
each of its parts: see below) and applies the heads; ``Tagger.classify_embedded`` does the same for vectors
computed elsewhere.

Decisions:

* ``relevant`` = calibrated probability >= the head's threshold;
* ``countries`` (only for relevant items) = countries the text places the community in, from the gazetteer
  (see :meth:`~mediawatch.classify.gazetteer.Evidence.country_support`): names tied to the community
  ("Kazakhs of Mongolia", Bayan-Ölgii) win over other countries in the text; adjectives count only next to the
  ethnonym or when nothing stronger is named; never Kazakhstan itself;
* ``topics`` (only for relevant items) = topics whose head (embedding plus the topic's cue words) clears its
  cross-validated threshold; at least one (the topic closest to its threshold, one whose cue words the text
  contains first) and at most ``MAX_TOPICS``.

A text longer than one lead (an article stored whole) is read in parts: the title with each successive lead
of the text (:func:`~mediawatch.classify.translit.text_windows`, at most ``MAX_WINDOWS``). The item's
relevance comes from its parts' (:func:`item_relevance`: is the item *mainly* about the community, not just
in one paragraph); countries come from the first relevant part that names one; topic scores are the mean over
the relevant parts. A text of one lead is read exactly as before, as one part.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mediawatch.classify.gazetteer import PLACE_KINDS, EntryKind, Evidence, Hit
from mediawatch.classify.heads import Heads, Vector
from mediawatch.classify.lang import (
    LanguageDetector,
    Script,
    dominant_script,
    language_sample,
    overrules_kk,
    reading_lang,
)
from mediawatch.classify.taxonomy import Taxonomy, load_taxonomy
from mediawatch.classify.train import (
    EMBED_KIND,
    Example,
    embedder_name,
    heads_key,
    item_evidence,
    load_examples,
    relevance_features,
    train_heads,
)
from mediawatch.classify.translit import text_for, text_windows

if TYPE_CHECKING:
    from mediawatch.classify.embed import Embedder

__all__ = ["TagInput", "TagResult", "Tagger", "build_tagger", "choose_topics", "item_relevance", "text_for"]

logger = logging.getLogger(__name__)

MAX_TOPICS = 3
# In choose_topics' fallback, a topic with cue words is preferred only when its score/threshold ratio is at
# least this share of the best one.
CUE_FALLBACK_SHARE = 0.5
NEAREST = 3
# Heads files kept per model in the cache: every taxonomy edit or editor correction trains a new one
# (~0.8 MB), so older ones are pruned, least recently used first.
KEEP_HEADS = 8


@dataclass(frozen=True, slots=True)
class TagInput:
    id: str
    title: str
    text: str
    lang: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class TagResult:
    id: str
    relevant: bool
    relevance: float
    countries: tuple[str, ...]
    topics: tuple[str, ...]
    why: dict[str, object] = field(default_factory=dict)


class Tagger:
    """Applies trained heads and the gazetteer to items. Build with :func:`build_tagger`."""

    def __init__(
        self, embedder: Embedder, taxonomy: Taxonomy, heads: Heads, detector: LanguageDetector | None = None
    ) -> None:
        if tuple(heads.topics) != taxonomy.topic_ids:
            raise ValueError(
                f"heads were trained for topics {heads.topics}, taxonomy has {taxonomy.topic_ids}"
            )
        self.embedder = embedder
        self.taxonomy = taxonomy
        self.heads = heads
        self.detector = detector or LanguageDetector()

    @property
    def model(self) -> str:
        """Embedder name and head version, for ``Classification.model``."""
        return f"{self.heads.model}+heads:{self.heads.key[:12]}"

    def parts(self, items: Sequence[TagInput]) -> list[tuple[int, TagInput]]:
        """What is read of each item, with the item's index: the item itself (its title and lead), then the
        title with each later window of a longer text."""
        out: list[tuple[int, TagInput]] = []
        for n, item in enumerate(items):
            lang = self._reading_lang(item)
            read = item if lang == item.lang else replace(item, lang=lang)
            out.append((n, read))
            out.extend(
                (n, TagInput(item.id, item.title, window, lang, item.url))
                for window in text_windows(item.title, item.text)[1:]
            )
        return out

    def _reading_lang(self, item: TagInput) -> str | None:
        return reading_lang(item.title, item.text, item.lang, self.detector)

    def texts(self, items: Sequence[TagInput]) -> list[str]:
        """The texts embedded for ``items``: one per part (see :meth:`parts`), in order."""
        return _texts(self.parts(items))

    def classify(self, items: Sequence[TagInput]) -> list[TagResult]:
        if not items:
            return []
        parts = self.parts(items)
        vectors = self.embedder.embed(_texts(parts), kind=EMBED_KIND)
        return self._classify_parts(items, parts, np.asarray(vectors, dtype=np.float32))

    def classify_embedded(self, items: Sequence[TagInput], vectors: Vector) -> list[TagResult]:
        """Classify items whose :meth:`texts` were embedded (with ``kind=EMBED_KIND``) by the caller."""
        parts = self.parts(items)
        if len(parts) != len(vectors):
            raise ValueError(f"{len(items)} items read as {len(parts)} texts but {len(vectors)} vectors")
        return self._classify_parts(items, parts, vectors)

    def _classify_parts(
        self, items: Sequence[TagInput], parts: Sequence[tuple[int, TagInput]], vectors: Vector
    ) -> list[TagResult]:
        if not items:
            return []
        evidences = [item_evidence(self.taxonomy, p.title, p.text, p.lang) for _, p in parts]
        relevance = self.heads.relevance(relevance_features(vectors, evidences))
        cues = [self.taxonomy.cues.find(ev.texts) for ev in evidences]
        presence = np.stack([self.taxonomy.cues.presence(found) for found in cues])
        topic_scores = self.heads.topic_scores(vectors, presence)
        similarities = vectors @ self.heads.example_vectors.astype(np.float32).T
        readings: list[list[_Reading]] = [[] for _ in items]
        for k, (n, _) in enumerate(parts):
            reading = _Reading(float(relevance[k]), topic_scores[k], similarities[k], evidences[k], cues[k])
            readings[n].append(reading)
        return [self._result(item, readings[n]) for n, item in enumerate(items)]

    def _result(self, item: TagInput, readings: Sequence[_Reading]) -> TagResult:
        heads = self.heads
        relevance = item_relevance([r.relevance for r in readings], heads.threshold)
        relevant = relevance >= heads.threshold
        # the parts that speak for the verdict: the relevant ones (the most relevant one when none is)
        good = [r for r in readings if r.relevance >= heads.threshold]
        good = good or [max(readings, key=lambda r: r.relevance)]
        shown = good[0]
        support: dict[str, list[str]] = {}
        for reading in good:  # the first that names a country (worked out no further than needed)
            if found := reading.evidence.country_support():
                shown, support = reading, found
                break
        ev = shown.evidence
        countries = tuple(sorted(support)) if relevant else ()
        topic_scores = np.mean([r.topic_scores for r in good], axis=0)
        cues = _merged_cues([r.cues for r in good])
        topics: tuple[str, ...] = ()
        if relevant:
            cued = [bool(cues.get(t)) for t in heads.topics]
            chosen = choose_topics(topic_scores, heads.topic_thresholds, cued)
            topics = tuple(heads.topics[k] for k in sorted(chosen))
        similarity = shown.similarity
        nearest = [
            {
                "text": heads.example_texts[k][:160],
                "relevant": bool(heads.example_relevant[k]),
                "topics": list(heads.example_topics[k]),
                "similarity": round(float(similarity[k]), 3),
            }
            for k in np.argsort(-similarity)[:NEAREST]
        ]
        why: dict[str, object] = {
            "relevance": round(relevance, 4),
            "threshold": heads.threshold,
            "language": self._language(item),
            "places": _places(ev.hits),
            "ambiguous_places": [h.surface for h in ev.of_kind(EntryKind.AMBIGUOUS)],
            "home_places": [h.surface for h in ev.of_kind(EntryKind.HOME)],
            "terms": {
                kind.value: sorted({h.surface for h in ev.of_kind(kind)})
                for kind in (EntryKind.KAZAKH, EntryKind.DIASPORA, EntryKind.OTHER_GROUP)
            },
            "countries": {code: sorted(set(names)) for code, names in sorted(support.items())},
            "topic_cues": cues,
            "topic_scores": {t: round(float(s), 3) for t, s in zip(heads.topics, topic_scores, strict=True)},
            "topic_thresholds": {
                t: round(float(v), 4) for t, v in zip(heads.topics, heads.topic_thresholds, strict=True)
            },
            "nearest": nearest,
            "model": self.model,
            "taxonomy": self.taxonomy.digest,
        }
        if len(readings) > 1:
            # relevance of each part in text order; places, terms and nearest examples are those of part
            # ``evidence_from`` (0 = the title and lead)
            why["parts"] = {
                "relevance": [round(r.relevance, 4) for r in readings],
                "evidence_from": next(k for k, r in enumerate(readings) if r is shown),
            }
        return TagResult(item.id, bool(relevant), round(relevance, 4), countries, topics, why)

    def _language(self, item: TagInput) -> dict[str, object]:
        sample = language_sample(item.title, item.text)
        script = dominant_script(sample)
        guess = self.detector.detect(sample)
        transliterated = guess.kazakh_script in (Script.LATIN, Script.ARABIC) or (
            item.lang == "kk" and script in (Script.LATIN, Script.ARABIC) and not overrules_kk(guess, script)
        )
        return {
            "given": item.lang,
            "detected": guess.lang,
            "confidence": round(guess.confidence, 3),
            "script": script.value,
            "transliterated_from": script.value if transliterated else None,
        }


def _texts(parts: Sequence[tuple[int, TagInput]]) -> list[str]:
    return [text_for(p.title, p.text, lang=p.lang) for _, p in parts]


def item_relevance(parts: Sequence[float], threshold: float) -> float:
    """An item's relevance from its parts' (in text order): their mean, so that one paragraph about the
    community does not make an article about something else relevant. When the lead (the first part) is
    relevant, at least the parts' upper median: an article whose lead and half its parts are about the
    community is, whatever its other parts say (a site's footer, a list of links)."""
    mean = float(np.mean(parts))
    if parts[0] >= threshold:
        return max(mean, float(sorted(parts)[len(parts) // 2]))
    return mean


@dataclass(frozen=True, slots=True)
class _Reading:
    """What the heads and the gazetteer made of one part of an item."""

    relevance: float
    topic_scores: np.ndarray
    similarity: np.ndarray  # to each training example
    evidence: Evidence
    cues: dict[str, list[str]]


def _merged_cues(found: Sequence[dict[str, list[str]]]) -> dict[str, list[str]]:
    """Cue words per topic over several parts, each word once, in the order first found."""
    merged: dict[str, list[str]] = {}
    for part in found:
        for topic, words in part.items():
            seen = merged.setdefault(topic, [])
            seen.extend(w for w in words if w not in seen)
    return merged


_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


def _places(hits: Sequence[Hit]) -> list[dict[str, str]]:
    """The places and demonyms found, each once: a Latin- or Arabic-script text is read as written and again
    transliterated, and the first reading (the text as written) is the one shown."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for h in hits:
        if h.entry.kind in PLACE_KINDS:
            out.setdefault((h.entry.label, h.entry.kind.value), {
                "name": h.entry.label, "country": h.entry.countries[0], "kind": h.entry.kind.value, "text": h.surface,
            })
    return list(out.values())


def choose_topics(scores: np.ndarray, thresholds: np.ndarray, cued: Sequence[bool],
                  limit: int = MAX_TOPICS) -> list[int]:
    """Indices of a relevant item's topics: those whose score clears the threshold, best first, at most
    ``limit``. When none does, the single closest one (score / threshold), preferring a topic whose cue words
    the text contains: with every head unsure, words an operator listed for a topic are the firmer evidence
    (a dombra lesson for children, where every head scores low, is heritage, not trade), unless that topic is
    less than :data:`CUE_FALLBACK_SHARE` as close as the closest one. A topic whose
    threshold is 1 (no head: too few training examples) is never chosen."""
    ratio = scores / np.maximum(thresholds, 1e-6)
    order = [int(k) for k in np.argsort(-ratio, kind="stable") if thresholds[k] < 1.0]
    passed = [k for k in order if ratio[k] >= 1.0][:limit]
    if passed:
        return passed
    # a cued topic wins only against a head that is not clearly more confident: a cue word may be
    # boilerplate ("local media reported", "the migration of his grandparents")
    best = ratio[order[0]] if order else 0.0
    with_cues = [k for k in order if cued[k] and ratio[k] >= CUE_FALLBACK_SHARE * best]
    return (with_cues or order)[:1]


def heads_path(cache_dir: Path, model: str, key: str) -> Path:
    return cache_dir / "classify" / f"heads-{_SLUG.sub('_', model)[:60]}-{key}.npz"


def prune_heads(cache_dir: Path, model: str, keep: int = KEEP_HEADS) -> list[Path]:
    """Delete all but the ``keep`` most recently used heads files of ``model`` (use = modification time,
    refreshed on every load); returns the files deleted. A file whose lock another process holds is kept."""
    from filelock import FileLock, Timeout

    pattern = heads_path(cache_dir, model, "*").name
    found = []
    for path in heads_path(cache_dir, model, "x").parent.glob(pattern):
        try:
            found.append((path.stat().st_mtime, path))
        except OSError:  # deleted meanwhile by another process
            continue
    deleted: list[Path] = []
    for _, path in sorted(found, reverse=True)[keep:]:
        lock_path = path.with_suffix(".lock")
        try:
            with FileLock(str(lock_path), timeout=0):
                path.unlink(missing_ok=True)
                deleted.append(path)
        except Timeout:
            continue
        lock_path.unlink(missing_ok=True)
    return deleted


def build_tagger(
    embedder: Embedder,
    cache_dir: Path,
    extra_examples: Sequence[Example] = (),
    *,
    taxonomy: Taxonomy | None = None,
    detector: LanguageDetector | None = None,
) -> Tagger:
    """A tagger with heads trained on the packaged examples plus ``extra_examples`` (cached by content)."""
    from filelock import FileLock

    taxonomy = taxonomy or load_taxonomy()
    examples = load_examples(taxonomy) + list(extra_examples)
    model = embedder_name(embedder)
    key = heads_key(model, taxonomy, examples)
    path = heads_path(cache_dir, model, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path.with_suffix(".lock"))):
        heads: Heads | None = None
        if path.exists():
            try:
                heads = Heads.load(path)
            except (OSError, ValueError, KeyError) as exc:
                logger.warning(
                    "discarding unreadable heads file", extra={"path": str(path), "error": str(exc)}
                )
        if heads is None or heads.key != key:
            logger.info("training tagger heads", extra={"examples": len(examples), "model": model})
            vector_cache = cache_dir / "classify" / f"examples-{_SLUG.sub('_', model)[:60]}.npz"
            heads = train_heads(embedder, examples, taxonomy, vector_cache=vector_cache)
            heads.save(path)
        else:
            path.touch()  # marks it used, for pruning
    if deleted := prune_heads(cache_dir, model):
        logger.info("pruned unused tagger heads", extra={"files": len(deleted), "kept": KEEP_HEADS})
    return Tagger(embedder, taxonomy, heads, detector)
