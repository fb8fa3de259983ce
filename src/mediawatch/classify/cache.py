"""An embedder that remembers: vectors cached in the store by model and content hash.

Re-running classification never embeds the same text twice; new texts are embedded in batches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from mediawatch.classify.embed import Embedder, Kind


class VectorStore(Protocol):
    def get_embeddings(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]: ...

    def put_embeddings(self, model: str, vectors: dict[str, np.ndarray]) -> None: ...


def content_hash(kind: str, text: str) -> str:
    return hashlib.sha256(f"{kind}\x1f{text}".encode()).hexdigest()


class CachingEmbedder:
    """Wraps an :class:`Embedder`; counts what it really embedded (``embedded``) and what came from cache."""

    def __init__(self, inner: Embedder, store: VectorStore) -> None:
        self.inner = inner
        self.store = store
        self.embedded = 0
        self.cached = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str], *, kind: Kind = "passage", batch_size: int = 32) -> np.ndarray:
        hashes = [content_hash(kind, t) for t in texts]
        found = self.store.get_embeddings(self.name, hashes)
        missing = list(dict.fromkeys(h for h in hashes if h not in found))
        if missing:
            first_text = {h: t for h, t in zip(hashes, texts, strict=True)}
            vectors = self.inner.embed([first_text[h] for h in missing], kind=kind, batch_size=batch_size)
            fresh = {h: vectors[i] for i, h in enumerate(missing)}
            self.store.put_embeddings(self.name, fresh)
            found.update(fresh)
        self.embedded += len(missing)
        self.cached += len(texts) - len(missing)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[h] for h in hashes]).astype(np.float32, copy=False)
