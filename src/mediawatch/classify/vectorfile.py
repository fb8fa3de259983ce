"""Vectors of texts tagged without a database (``classify --input``, ``evaluate``), kept in the cache folder.

A SQLite file (``<cache>/classify/vectors.sqlite``) keyed by model and content hash, as the store's embedding
table is: running the same file again embeds nothing. It holds at most :data:`MAX_VECTORS` vectors (about
160 MB with e5-small's 384 dimensions); the least recently used go first. It is a cache: deleting it at any
time costs only the embedding again, and a file that cannot be read or written is left aside with a warning
(the texts are then embedded as if it were empty), never an error.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

MAX_VECTORS = 100_000
_CHUNK = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vector (
    model TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    vector BLOB NOT NULL,
    used REAL NOT NULL,
    PRIMARY KEY (model, content_hash)
);
CREATE INDEX IF NOT EXISTS vector_used ON vector (used);
"""


class VectorFile:
    """A :class:`~mediawatch.classify.cache.VectorStore` in one SQLite file (safe for processes at once)."""

    def __init__(self, path: Path, *, limit: int = MAX_VECTORS) -> None:
        self.path = path
        self.limit = limit
        self._broken = False

    def _connect(self) -> sqlite3.Connection | None:
        if self._broken:
            return None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30)
            conn.executescript(_SCHEMA)
            return conn
        except (OSError, sqlite3.Error) as exc:
            self._give_up(exc)
            return None

    def _give_up(self, exc: Exception) -> None:
        self._broken = True
        logger.warning("vector cache file left aside: texts are embedded again",
                       extra={"fields": {"path": str(self.path), "error": str(exc)}})

    def get_embeddings(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        conn = self._connect()
        if conn is None:
            return {}
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        try:
            with conn:
                for i in range(0, len(unique), _CHUNK):
                    part = unique[i : i + _CHUNK]
                    marks = ",".join("?" * len(part))
                    rows = conn.execute(
                        f"SELECT content_hash, vector FROM vector WHERE model = ? AND content_hash IN ({marks})",
                        [model, *part],
                    ).fetchall()
                    for h, blob in rows:
                        found[h] = np.frombuffer(blob, dtype="<f4").copy()
                    conn.execute(
                        f"UPDATE vector SET used = ? WHERE model = ? AND content_hash IN ({marks})",
                        [time.time(), model, *part],
                    )
        except sqlite3.Error as exc:
            self._give_up(exc)
            return {}
        finally:
            conn.close()
        return found

    def put_embeddings(self, model: str, vectors: Mapping[str, np.ndarray]) -> None:
        conn = self._connect()
        if conn is None or not vectors:
            if conn is not None:
                conn.close()
            return
        now = time.time()
        try:
            with conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO vector (model, content_hash, vector, used) VALUES (?, ?, ?, ?)",
                    [(model, h, np.asarray(v, dtype="<f4").tobytes(), now) for h, v in vectors.items()],
                )
                (total,) = conn.execute("SELECT count(*) FROM vector").fetchone()
                if total > self.limit:
                    conn.execute(
                        "DELETE FROM vector WHERE rowid IN (SELECT rowid FROM vector ORDER BY used, rowid LIMIT ?)",
                        [total - self.limit],
                    )
        except sqlite3.Error as exc:
            self._give_up(exc)
        finally:
            conn.close()


def vector_file(cache_dir: Path) -> VectorFile:
    return VectorFile(cache_dir / "classify" / "vectors.sqlite")


__all__ = ["MAX_VECTORS", "VectorFile", "vector_file"]
