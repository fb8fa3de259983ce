"""Training the tagger's heads from written examples.

The examples (``data/examples/*.yaml`` plus every topic example of the taxonomy, plus editor corrections
passed in at build time) are embedded with the e5 model and three kinds of head are fitted:

* **relevance**: logistic regression on the embedding plus a few gazetteer features (Kazakh ethnonym, diaspora
  vocabulary, foreign place, other peoples...), Platt-calibrated on 5-fold out-of-fold scores so that
  ``relevance`` is a probability;
* **topics**: one-vs-rest logistic regressions on the embeddings of relevant examples that name at least one
  topic, plus one feature, the presence of the topic's cue words (:mod:`mediawatch.classify.cues`), whose
  weight, like C and the decision threshold, is chosen by F1 in cross-validation on the training set, repeated
  over differently shuffled splits, the threshold the middle one of the best by smoothed F1. A
  relevant example without topics (an editor who only said "relevant") says nothing about topics: it trains
  relevance (and its countries are kept) but is no topic's negative;
* the example vectors themselves, kept to show the nearest examples as evidence.

Heads are small (a few hundred kB) and stored in the cache directory under a key made of the model name and
a hash of the examples, taxonomy and feature version: never committed, retrained when anything changes.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from mediawatch.classify.gazetteer import EntryKind, Evidence, evidence, load_yaml_mapping
from mediawatch.classify.heads import Heads, Vector, sigmoid
from mediawatch.classify.taxonomy import Taxonomy
from mediawatch.classify.translit import join_title, lead_text, text_for
from mediawatch.errors import ConfigError
from mediawatch.files import write_atomic

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

    from mediawatch.classify.embed import Embedder, Kind

# Bump when the features (or the text the model reads) change: cached heads are then retrained.
FEATURE_VERSION = 13
# e5 prefix for items and examples alike. "passage" scored as well as "query" on relevance and better on
# topics in our checks, and it lets the pipeline reuse the same vectors for story clustering.
EMBED_KIND: Kind = "passage"
# Hyper-parameters chosen by cross-validation on the training examples at every training run:
GAZETTEER_SCALES = (0.2, 0.4)  # weight of the 0/1 gazetteer features next to a unit-length embedding
RELEVANCE_CS = (4.0, 16.0, 64.0)
TOPIC_CS = (2.0, 8.0, 32.0)
CUE_SCALES = (0.0, 0.2, 0.4)  # weight of a topic's 0/1 cue feature (0: the cues are ignored)
FOLDS = 5
SEED = 20240322
# A topic head's out-of-fold scores are averaged over this many differently shuffled FOLDS-fold splits before
# its C, cue weight and threshold are chosen: one split's luck moved thresholds by up to 0.35 when a few
# examples changed, and items far from those examples changed topics with them.
TOPIC_CV_REPEATS = 5
# A threshold is judged by its F1 averaged with its grid neighbours', and the middle of those within
# THRESHOLD_TIE of the best is taken: a topic whose examples separate cleanly has a wide plateau, and its
# lowest point (what a plain arg-max of F1 picks) is the least safe on new text.
THRESHOLD_GRID = tuple(round(0.15 + 0.05 * k, 2) for k in range(15))  # 0.15 … 0.85
THRESHOLD_TIE = 0.005


def embedder_name(embedder: object) -> str:
    name = getattr(embedder, "name", None)
    return str(name) if name else type(embedder).__name__


# --- examples -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Example:
    title: str
    text: str
    lang: str
    relevant: bool
    countries: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    source: str = ""  # where it came from (file and position, "taxonomy:<topic>", "editor:<item id>")


def parse_examples(data: Mapping[str, object], source: str, topic_ids: Iterable[str]) -> list[Example]:
    """Examples from one YAML mapping (``examples: [...]``), validated against the taxonomy."""
    known = set(topic_ids)
    raw = data.get("examples")
    if not isinstance(raw, list):
        raise ConfigError(f"{source}: expected a top-level 'examples' list")
    out: list[Example] = []
    for n, item in enumerate(raw):
        where = f"{source}: examples[{n}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{where}: expected a mapping")
        title, text = item.get("title", ""), item.get("text", "")
        if not isinstance(title, str) or not isinstance(text, str) or not (title.strip() or text.strip()):
            raise ConfigError(f"{where}: needs a title or a text")
        relevant = item.get("relevant")
        if not isinstance(relevant, bool):
            raise ConfigError(f"{where}: 'relevant' must be true or false")
        countries = tuple(str(c) for c in item.get("countries") or ())
        topics = tuple(str(t) for t in item.get("topics") or ())
        if bad := [c for c in countries if len(c) != 2 or not c.isupper()]:
            raise ConfigError(f"{where}: countries must be ISO 3166-1 alpha-2 codes, got {bad}")
        if bad := [t for t in topics if t not in known]:
            raise ConfigError(f"{where}: unknown topics {bad} (known: {sorted(known)})")
        if not relevant and (countries or topics):
            raise ConfigError(f"{where}: a not-relevant example takes no countries or topics")
        out.append(
            Example(
                title.strip(),
                text.strip(),
                str(item.get("lang", "und")),
                relevant,
                countries,
                topics,
                f"{source}#{n}",
            )
        )
    return out


def taxonomy_examples(taxonomy: Taxonomy) -> list[Example]:
    """Each topic example of the taxonomy, as a relevant example carrying that topic."""
    return [
        Example("", ex.text, ex.lang, True, (), (topic.id,), f"taxonomy:{topic.id}#{n}")
        for topic in taxonomy.topics
        for n, ex in enumerate(topic.examples)
    ]


@functools.lru_cache(maxsize=4)
def _packaged_examples(topic_ids: tuple[str, ...]) -> tuple[Example, ...]:
    """The example files shipped in the package, read once per process (a service tick asks for them every few
    minutes to work out the tagger's identity; parsing them costs about a second)."""
    examples: list[Example] = []
    folder = resources.files("mediawatch.classify").joinpath("data/examples")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            data = load_yaml_mapping(entry.read_text(encoding="utf-8"), f"examples/{entry.name}")
            examples.extend(parse_examples(data, f"examples/{entry.name}", topic_ids))
    return tuple(examples)


def load_examples(taxonomy: Taxonomy, extra_files: Sequence[Path] = ()) -> list[Example]:
    """The packaged examples, the taxonomy's topic examples and any extra example files."""
    examples = list(_packaged_examples(taxonomy.topic_ids))
    for path in extra_files:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read examples ({exc})") from exc
        examples.extend(parse_examples(load_yaml_mapping(text, str(path)), str(path), taxonomy.topic_ids))
    examples.extend(taxonomy_examples(taxonomy))
    return examples


# --- features -----------------------------------------------------------------------------------------------

GAZETTEER_FEATURES = (
    "kazakh",
    "diaspora",
    "foreign",
    "community",
    "home",
    "other_group",
    "kazakh_and_foreign",
    "kazakh_and_diaspora",
)


def gazetteer_features(ev: Evidence) -> NDArray[np.float32]:
    kazakh = ev.has(EntryKind.KAZAKH)
    diaspora = ev.has(EntryKind.DIASPORA)
    foreign = bool(ev.country_support())
    values = (
        kazakh,
        diaspora,
        foreign,
        ev.has(EntryKind.COMMUNITY),
        ev.has(EntryKind.HOME),
        ev.has(EntryKind.OTHER_GROUP),
        kazakh and foreign,
        kazakh and diaspora,
    )
    return np.asarray(values, dtype=np.float32)


def item_evidence(taxonomy: Taxonomy, title: str, text: str, lang: str | None = None) -> Evidence:
    """Gazetteer evidence from the original title and lead and from the text the model reads."""
    # the title ends as a sentence, as in the text the model reads ("…festival in Hungary" + "Kazakh families
    # from Xinjiang…" is not Hungary), and here after a colon too ("Kazakhs of Mongolia:" + "China and Russia…")
    original = join_title(title, lead_text(text), ends=".!?。！？").strip()
    prepared = text_for(title, text, lang=lang)
    parts = [original] if prepared == original else [original, prepared]
    return evidence(taxonomy.gazetteer, parts)


def cue_features(taxonomy: Taxonomy, evidences: Sequence[Evidence]) -> NDArray[np.float32]:
    """(items, topics) 0/1: whether each topic's cue words occur in the texts the gazetteer read."""
    width = len(taxonomy.topic_ids)
    if not evidences:
        return np.zeros((0, width), np.float32)
    return np.stack([taxonomy.cues.presence(taxonomy.cues.find(ev.texts)) for ev in evidences])


def relevance_features(vectors: Vector, evidences: Sequence[Evidence]) -> NDArray[np.float32]:
    """The embedding followed by the (unscaled, 0/1) gazetteer features."""
    width = len(GAZETTEER_FEATURES)
    gaz = (
        np.stack([gazetteer_features(ev) for ev in evidences])
        if evidences
        else np.zeros((0, width), np.float32)
    )
    return np.hstack([vectors.astype(np.float32), gaz]).astype(np.float32)


# --- heads --------------------------------------------------------------------------------------------------


def heads_key(model: str, taxonomy: Taxonomy, examples: Sequence[Example]) -> str:
    """Cache key: changes with the model, the feature code, the hyper-parameter grids, the taxonomy/gazetteer
    and the examples."""
    data: dict[str, object] = {
        "v": FEATURE_VERSION,
        "kind": EMBED_KIND,
        "grid": [GAZETTEER_SCALES, RELEVANCE_CS, TOPIC_CS, CUE_SCALES, FOLDS, SEED],
        "topic_cv": [TOPIC_CV_REPEATS, THRESHOLD_GRID, THRESHOLD_TIE],
        "model": model,
        "taxonomy": taxonomy.digest,
        "examples": [asdict(e) for e in examples],
    }
    if any(e.relevant and not e.topics for e in examples):
        # Heads cached before such examples were left out of topic training (see topic_rows) made them every
        # topic's negative: a new key retrains them. Other example sets train exactly as before, same key.
        data["topic_rows"] = "named-topics-only"
    blob = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _f1(pred: NDArray[np.bool_], y: NDArray[np.bool_]) -> float:
    tp = float(np.sum(pred & y))
    return 2 * tp / max(float(np.sum(pred) + np.sum(y)), 1.0)


def _scale_gazetteer(features: NDArray[np.float32], scale: float) -> NDArray[np.float32]:
    scaled = features.copy()
    scaled[:, -len(GAZETTEER_FEATURES) :] *= scale
    return scaled


def _best_threshold(y: NDArray[np.bool_], p: NDArray[np.float64]) -> tuple[float, float]:
    """The decision threshold for out-of-fold scores ``p`` of labels ``y``, and its (smoothed) F1.

    Each threshold of :data:`THRESHOLD_GRID` is scored by the mean F1 of itself and its two neighbours (an
    end counts its own F1 for the missing one); of the thresholds within :data:`THRESHOLD_TIE` of the best
    score, the middle one is taken."""
    f1 = np.array([_f1(p >= t, y) for t in THRESHOLD_GRID])
    padded = np.concatenate([f1[:1], f1, f1[-1:]])
    smoothed = (padded[:-2] + padded[1:-1] + padded[2:]) / 3
    best = float(smoothed.max())
    near = [t for t, score in zip(THRESHOLD_GRID, smoothed, strict=True) if score >= best - THRESHOLD_TIE]
    return near[len(near) // 2], best


def embed_examples(embedder: Embedder, texts: Sequence[str], cache_file: Path | None = None) -> Vector:
    """Embed training texts, reusing vectors saved in ``cache_file`` (keyed by text hash) for this model.

    Adding one editor correction then embeds one text, not all of them.
    """
    keys = [hashlib.sha256(f"{EMBED_KIND}\x1f{t}".encode()).hexdigest() for t in texts]
    known: dict[str, Vector] = {}
    if cache_file is not None and cache_file.exists():
        try:
            with np.load(cache_file, allow_pickle=False) as data:
                known = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
        except (OSError, ValueError, KeyError):
            known = {}
    missing = [k for k in dict.fromkeys(keys) if k not in known]
    if missing:
        index = {k: n for n, k in enumerate(keys)}
        fresh = np.asarray(
            embedder.embed([texts[index[k]] for k in missing], kind=EMBED_KIND), dtype=np.float32
        )
        known.update(zip(missing, fresh, strict=True))
        if cache_file is not None:
            kept = sorted(set(keys))  # only the current examples' vectors are kept
            buffer = io.BytesIO()
            np.savez(buffer, keys=np.array(kept), vectors=np.stack([known[k] for k in kept]))
            write_atomic(cache_file, buffer.getvalue())
    return np.stack([known[k] for k in keys]).astype(np.float32)


def _logreg(c: float) -> LogisticRegression:
    from sklearn.linear_model import LogisticRegression

    # liblinear: single-threaded and several times faster than lbfgs on a few hundred rows. Its primal L2
    # solver (TRON) draws no random numbers, which is what makes topics fitted in threads come out as when
    # fitted one by one: the dual or L1 solvers shuffle with one unlocked generator shared by all threads.
    return LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=5000)


def _folds(y: NDArray[np.bool_], seed: int | None = None) -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    from sklearn.model_selection import StratifiedKFold

    splits = min(FOLDS, int(y.sum()), int((~y).sum()))
    shuffled = StratifiedKFold(n_splits=splits, shuffle=True, random_state=SEED if seed is None else seed)
    return list(shuffled.split(np.zeros(len(y)), y))


@dataclass(frozen=True)
class _RelevanceHead:
    coef: NDArray[np.float32]
    intercept: float
    platt: tuple[float, float]
    cv: dict[str, float]


def _fit_relevance(features: NDArray[np.float32], y: NDArray[np.bool_]) -> _RelevanceHead:
    """Choose the gazetteer weight and C by out-of-fold F1; Platt-calibrate on the out-of-fold scores."""
    from sklearn.linear_model import LogisticRegression

    folds = _folds(y)
    best: tuple[float, float, float, NDArray[np.float64]] | None = None  # (f1, scale, C, out-of-fold scores)
    for scale in GAZETTEER_SCALES:
        scaled = _scale_gazetteer(features, scale)
        for c in RELEVANCE_CS:
            oof = np.zeros(len(y))
            for train_idx, test_idx in folds:
                model = _logreg(c).fit(scaled[train_idx], y[train_idx])
                oof[test_idx] = model.decision_function(scaled[test_idx])
            f1 = _f1(oof >= 0, y)
            if best is None or f1 > best[0] + 1e-9:
                best = (f1, scale, c, oof)
    assert best is not None
    _, scale, c, oof = best
    calibration = LogisticRegression(C=100.0, max_iter=1000).fit(oof.reshape(-1, 1), y)
    platt = (float(calibration.coef_[0, 0]), float(calibration.intercept_[0]))
    final = _logreg(c).fit(_scale_gazetteer(features, scale), y)
    coef = final.coef_[0].astype(np.float32)
    coef[-len(GAZETTEER_FEATURES) :] *= scale  # fold the weight in: heads take unscaled features
    pred = sigmoid(platt[0] * oof + platt[1]) >= 0.5
    tp = float(np.sum(pred & y))
    cv = {
        "relevance_f1": _f1(pred, y),
        "relevance_precision": tp / max(float(pred.sum()), 1.0),
        "relevance_recall": tp / max(float(y.sum()), 1.0),
        "relevance_C": c,
        "gazetteer_scale": scale,
    }
    return _RelevanceHead(coef, float(final.intercept_[0]), platt, cv)


@dataclass(frozen=True)
class _TopicHeads:
    coef: NDArray[np.float32]
    cue_coef: NDArray[np.float32]
    intercept: NDArray[np.float32]
    thresholds: NDArray[np.float32]
    cv: dict[str, float]


@dataclass(frozen=True)
class _TopicFit:
    f1: float  # smoothed out-of-fold F1 at the threshold
    threshold: float
    c: float
    scale: float
    oof: NDArray[np.float64]  # out-of-fold scores, averaged over the splits


def _fit_topic(vectors: Vector, cue: NDArray[np.float32], y: NDArray[np.bool_]) -> _TopicFit:
    """Choose one topic's cue weight, C and threshold by out-of-fold F1 over :data:`TOPIC_CV_REPEATS`
    differently shuffled splits (each example's score is the mean of its held-out scores)."""
    splits = [_folds(y, SEED + r) for r in range(TOPIC_CV_REPEATS)]
    chosen: _TopicFit | None = None
    for scale in CUE_SCALES:
        features = np.hstack([vectors, cue * scale]).astype(np.float32)
        for c in TOPIC_CS:
            oof = np.zeros(len(y))
            for folds in splits:
                for train_idx, test_idx in folds:
                    model = _logreg(c).fit(features[train_idx], y[train_idx])
                    oof[test_idx] += model.predict_proba(features[test_idx])[:, 1] / len(splits)
            threshold, f1 = _best_threshold(y, oof)
            if chosen is None or f1 > chosen.f1 + 1e-9:
                chosen = _TopicFit(f1, threshold, c, scale, oof)
    assert chosen is not None
    return chosen


def _fit_topics(
    vectors: Vector, cues: NDArray[np.float32], labels: NDArray[np.bool_], topic_ids: Sequence[str]
) -> _TopicHeads:
    """One-vs-rest heads on the embedding plus the topic's cue feature; the cue weight, C and the decision
    threshold of each topic by out-of-fold F1 (:func:`_fit_topic`). Topics are fitted two at a time:
    liblinear releases the GIL, and the result is the same as one at a time.

    A topic with fewer than three positive (or negative) examples gets no head (threshold 1: never chosen).
    """
    from concurrent.futures import ThreadPoolExecutor

    coef = np.zeros((len(topic_ids), vectors.shape[1]), dtype=np.float32)
    cue_coef = np.zeros(len(topic_ids), dtype=np.float32)
    intercept = np.full(len(topic_ids), -10.0, dtype=np.float32)
    thresholds = np.ones(len(topic_ids), dtype=np.float32)
    cv: dict[str, float] = {}
    tp = fp = fn = 0.0
    trained = [k for k in range(len(topic_ids)) if 3 <= labels[:, k].sum() <= len(labels) - 3]
    for k in sorted(set(range(len(topic_ids))) - set(trained)):
        logger.warning(  # an operator's new topic with a description only would be silently dead
            "topic never given: too few examples to learn it",
            extra={"fields": {"topic": topic_ids[k], "examples": int(labels[:, k].sum()), "needed": 3,
                              "fix": "add examples to the taxonomy file, or label items with the topic"}},
        )
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        fits = list(pool.map(lambda k: _fit_topic(vectors, cues[:, k : k + 1], labels[:, k]), trained))
    for k, fit in zip(trained, fits, strict=True):
        yk, topic = labels[:, k], topic_ids[k]
        pred = fit.oof >= fit.threshold
        tp += float(np.sum(pred & yk))
        fp += float(np.sum(pred & ~yk))
        fn += float(np.sum(~pred & yk))
        cv[f"topic_f1.{topic}"] = fit.f1
        cv[f"topic_cue_scale.{topic}"] = fit.scale
        model = _logreg(fit.c).fit(np.hstack([vectors, cues[:, k : k + 1] * fit.scale]), yk)
        coef[k], intercept[k], thresholds[k] = model.coef_[0][:-1], model.intercept_[0], fit.threshold
        cue_coef[k] = model.coef_[0][-1] * fit.scale  # folded in: heads take the unscaled 0/1 feature
    cv["topic_micro_f1"] = 2 * tp / max(2 * tp + fp + fn, 1.0)
    return _TopicHeads(coef, cue_coef, intercept, thresholds, cv)


def topic_rows(examples: Sequence[Example]) -> list[int]:
    """Indices of the examples the topic heads learn from: relevant ones that name at least one topic (each
    is a positive for its topics and a negative for the others). A relevant example without topics is left
    out: "relevant" alone says nothing about topics."""
    return [n for n, e in enumerate(examples) if e.relevant and e.topics]


def train_heads(
    embedder: Embedder,
    examples: Sequence[Example],
    taxonomy: Taxonomy | None = None,
    *,
    vectors: Vector | None = None,
    vector_cache: Path | None = None,
) -> Heads:
    """Fit the relevance and topic heads on ``examples``.

    They are embedded here (through ``vector_cache`` when given) unless ``vectors`` are passed in.
    """
    from mediawatch.classify.taxonomy import load_taxonomy

    taxonomy = taxonomy or load_taxonomy()
    y = np.array([e.relevant for e in examples], dtype=bool)
    if y.all() or not y.any():
        raise ConfigError("training examples need both relevant and not-relevant items")
    texts = [text_for(e.title, e.text, lang=e.lang) for e in examples]
    if vectors is None:
        vectors = embed_examples(embedder, texts, vector_cache)
    vectors = np.asarray(vectors, dtype=np.float32)
    evidences = [item_evidence(taxonomy, e.title, e.text, e.lang) for e in examples]
    relevance = _fit_relevance(relevance_features(vectors, evidences), y)

    topical = topic_rows(examples)
    rows = [[t in examples[i].topics for t in taxonomy.topic_ids] for i in topical]
    labels = np.array(rows, dtype=np.bool_).reshape(len(topical), len(taxonomy.topic_ids))
    cues = cue_features(taxonomy, [evidences[i] for i in topical])
    topics = _fit_topics(vectors[topical], cues, labels, taxonomy.topic_ids)

    model = embedder_name(embedder)
    cv = {
        **relevance.cv,
        **topics.cv,
        "examples": float(len(examples)),
        "relevant_examples": float(y.sum()),
        "topic_examples": float(len(topical)),
    }
    return Heads(
        model=model,
        key=heads_key(model, taxonomy, examples),
        topics=taxonomy.topic_ids,
        rel_coef=relevance.coef,
        rel_intercept=relevance.intercept,
        platt=relevance.platt,
        threshold=0.5,
        topic_coef=topics.coef,
        topic_cue_coef=topics.cue_coef,
        topic_intercept=topics.intercept,
        topic_thresholds=topics.thresholds,
        example_vectors=vectors.astype(np.float16),
        example_texts=tuple(texts),
        example_relevant=y,
        example_topics=tuple(e.topics for e in examples),
        cv=cv,
    )
