"""Vectors of texts tagged without a database (``classify --input``, ``evaluate``), kept in the cache folder.

A SQLite file (``<cache>/classify/vectors.sqlite``) keyed by model and content hash, as the store's embedding
table is: running the same file again embeds nothing. It holds at most :data:`MAX_VECTORS` vectors (about
160 MB with e5-small's 384 dimensions); the least recently used go first. It is a cache: deleting it at any
time costs only the embedding again. A file that is not a database is renamed aside (``….broken``) and a new
one started; one that cannot be written (read-only) is still read; either way a warning says so, never an
error.
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
        self._readonly = False

    def _connect(self) -> sqlite3.Connection | None:
        if self._broken:
            return None
        for attempt in (1, 2):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=30)
                try:
                    conn.executescript(_SCHEMA)
                except sqlite3.OperationalError as exc:
                    if "readonly" not in str(exc):
                        raise
                return conn
            except sqlite3.DatabaseError as exc:
                if attempt == 1 and "not a database" in str(exc) and self._set_aside(exc):
                    continue
                self._give_up(exc)
            except OSError as exc:
                self._give_up(exc)
        return None

    def _set_aside(self, exc: Exception) -> bool:
        """Rename a file that is no database out of the way, so that the cache starts afresh."""
        aside = self.path.with_name(self.path.name + ".broken")
        try:
            self.path.replace(aside)
        except OSError:
            return False
        logger.warning("vector cache file was not a database: set aside, a new one started",
                       extra={"fields": {"path": str(self.path), "aside": str(aside), "error": str(exc)}})
        return True

    def _give_up(self, exc: Exception) -> None:
        self._broken = True
        logger.warning("vector cache file left aside: texts are embedded again",
                       extra={"fields": {"path": str(self.path), "error": str(exc),
                                         "fix": "delete the file, or check its folder's permissions"}})

    def get_embeddings(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        conn = self._connect()
        if conn is None:
            return {}
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        try:
            for i in range(0, len(unique), _CHUNK):
                part = unique[i : i + _CHUNK]
                marks = ",".join("?" * len(part))
                rows = conn.execute(
                    f"SELECT content_hash, vector FROM vector WHERE model = ? AND content_hash IN ({marks})",
                    [model, *part],
                ).fetchall()
                found.update((h, np.frombuffer(blob, dtype="<f4").copy()) for h, blob in rows
                             if isinstance(blob, bytes) and len(blob) % 4 == 0 and blob)
            if found:
                try:
                    with conn:  # the hits are the most recently used now (kept longest)
                        hits = list(found)
                        for i in range(0, len(hits), _CHUNK):
                            part = hits[i : i + _CHUNK]
                            conn.execute(
                                f"UPDATE vector SET used = ? WHERE model = ? AND content_hash IN "
                                f"({','.join('?' * len(part))})",
                                [time.time(), model, *part],
                            )
                except sqlite3.OperationalError:
                    pass  # a read-only file: still read, in order of writing
        except sqlite3.Error as exc:
            self._give_up(exc)
            return {}
        finally:
            conn.close()
        return found

    def put_embeddings(self, model: str, vectors: Mapping[str, np.ndarray]) -> None:
        if self._readonly or not vectors:
            return
        conn = self._connect()
        if conn is None:
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
        except sqlite3.OperationalError as exc:
            if "readonly" not in str(exc):
                self._give_up(exc)
            else:  # still read: only new vectors are not kept
                self._readonly = True
                logger.warning("vector cache file is read-only: new vectors are not kept",
                               extra={"fields": {"path": str(self.path)}})
        except sqlite3.Error as exc:
            self._give_up(exc)
        finally:
            conn.close()


def vector_file(cache_dir: Path) -> VectorFile:
    return VectorFile(cache_dir / "classify" / "vectors.sqlite")


__all__ = ["MAX_VECTORS", "VectorFile", "vector_file"]
