"""The trained heads: relevance, topics and the example vectors, as plain arrays that save to one ``.npz``.

Built by :func:`mediawatch.classify.train.train_heads`, applied by :class:`mediawatch.classify.tagger.Tagger`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mediawatch.files import write_atomic

Vector = NDArray[np.float32]

__all__ = ["Heads", "Vector", "sigmoid"]


def sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


@dataclass(frozen=True)
class Heads:
    model: str
    key: str
    topics: tuple[str, ...]
    rel_coef: NDArray[np.float32]
    rel_intercept: float
    platt: tuple[float, float]
    threshold: float
    topic_coef: NDArray[np.float32]  # (topics, dim)
    topic_cue_coef: NDArray[np.float32]  # (topics,): weight of each topic's cue feature
    topic_intercept: NDArray[np.float32]
    topic_thresholds: NDArray[np.float32]
    example_vectors: NDArray[np.float16]
    example_texts: tuple[str, ...]
    example_relevant: NDArray[np.bool_]
    example_topics: tuple[tuple[str, ...], ...]
    cv: Mapping[str, float] = field(default_factory=dict)  # cross-validated scores on the training set

    def relevance(self, features: NDArray[np.float32]) -> NDArray[np.float64]:
        """Calibrated probability that each row is relevant."""
        score = features.astype(np.float64) @ self.rel_coef.astype(np.float64) + self.rel_intercept
        return sigmoid(self.platt[0] * score + self.platt[1])

    def topic_scores(self, vectors: Vector, cues: NDArray[np.float32]) -> NDArray[np.float64]:
        """Per-topic probabilities, shape (items, topics); ``cues`` from :func:`cue_features`."""
        logits = vectors.astype(np.float64) @ self.topic_coef.T.astype(np.float64) + self.topic_intercept
        logits += cues.astype(np.float64) * self.topic_cue_coef.astype(np.float64)
        return sigmoid(logits)

    def save(self, path: Path) -> None:
        """Write atomically (temporary file, then rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "model": self.model,
            "key": self.key,
            "topics": list(self.topics),
            "rel_intercept": self.rel_intercept,
            "platt": list(self.platt),
            "threshold": self.threshold,
            "example_texts": list(self.example_texts),
            "example_topics": [list(t) for t in self.example_topics],
            "cv": dict(self.cv),
        }
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            rel_coef=self.rel_coef,
            topic_coef=self.topic_coef,
            topic_cue_coef=self.topic_cue_coef,
            topic_intercept=self.topic_intercept,
            topic_thresholds=self.topic_thresholds,
            example_vectors=self.example_vectors,
            example_relevant=self.example_relevant,
            meta=np.array(json.dumps(meta, ensure_ascii=False)),
        )
        write_atomic(path, buffer.getvalue())

    @classmethod
    def load(cls, path: Path) -> Heads:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            return cls(
                model=meta["model"],
                key=meta["key"],
                topics=tuple(meta["topics"]),
                rel_coef=data["rel_coef"],
                rel_intercept=float(meta["rel_intercept"]),
                platt=(float(meta["platt"][0]), float(meta["platt"][1])),
                threshold=float(meta["threshold"]),
                topic_coef=data["topic_coef"],
                topic_cue_coef=data["topic_cue_coef"],
                topic_intercept=data["topic_intercept"],
                topic_thresholds=data["topic_thresholds"],
                example_vectors=data["example_vectors"],
                example_texts=tuple(meta["example_texts"]),
                example_relevant=data["example_relevant"],
                example_topics=tuple(tuple(t) for t in meta["example_topics"]),
                cv=meta.get("cv", {}),
            )
