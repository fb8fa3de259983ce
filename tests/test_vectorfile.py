"""Vectors of texts tagged without a database (`classify --input`, `evaluate`) are kept in the cache folder:
running the same file again embeds nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from mediawatch.classify.cache import CachingEmbedder
from mediawatch.classify.vectorfile import VectorFile


class Counting:
    """A stand-in model: a fixed vector per text, and a count of the texts it was asked for."""

    name = "counting-model"
    dim = 4

    def __init__(self) -> None:
        self.asked: list[str] = []

    def embed(self, texts: Sequence[str], *, kind: str = "passage", batch_size: int = 32) -> np.ndarray:
        self.asked.extend(texts)
        return np.array([[len(t), sum(map(ord, t)) % 97, 1.0, 0.5] for t in texts], dtype=np.float32)


def test_a_second_run_embeds_nothing_and_gets_the_same_vectors(tmp_path: Path) -> None:
    texts = ["Kazakhs of Bayan-Ölgii", "Наурыз в Омске", "Kazakhs of Bayan-Ölgii"]
    model = Counting()
    first = CachingEmbedder(model, VectorFile(tmp_path / "v.sqlite")).embed(texts)
    assert model.asked == texts[:2]  # a text twice in one call is embedded once
    again = CachingEmbedder(model, VectorFile(tmp_path / "v.sqlite"))  # a new process, the same file
    second = again.embed(texts)
    assert model.asked == texts[:2] and (again.embedded, again.cached) == (0, 3)
    assert np.array_equal(first, second)
    # another model's vectors are its own
    other = Counting()
    other.name = "another-model"
    CachingEmbedder(other, VectorFile(tmp_path / "v.sqlite")).embed(texts[:1])
    assert other.asked == texts[:1]


def test_the_least_recently_used_vectors_go_first_beyond_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "v.sqlite"
    model = Counting()
    cached = CachingEmbedder(model, VectorFile(path, limit=3))
    cached.embed(["a", "b", "c"])
    cached.embed(["a"])  # used again: "b" is now the oldest
    cached.embed(["d"])
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM vector").fetchone() == (3,)
    model.asked.clear()
    cached.embed(["a", "c", "d", "b"])
    assert model.asked == ["b"]


def test_a_file_that_is_no_database_is_set_aside_and_a_new_one_started(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad = tmp_path / "v.sqlite"
    bad.write_bytes(b"not a database at all" * 100)
    model = Counting()
    vectors = CachingEmbedder(model, VectorFile(bad)).embed(["a", "b"])
    assert vectors.shape == (2, 4) and model.asked == ["a", "b"]
    assert "vector cache file was not a database: set aside, a new one started" in caplog.text
    assert (tmp_path / "v.sqlite.broken").read_bytes() == b"not a database at all" * 100  # kept, for a look
    again = CachingEmbedder(model, VectorFile(bad))
    again.embed(["a", "b"])
    assert model.asked == ["a", "b"] and again.cached == 2  # the new file works


def test_a_read_only_file_is_still_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v.sqlite"
    model = Counting()
    CachingEmbedder(model, VectorFile(path)).embed(["a"])
    # SQLite's own read-only mode (file permissions do not stop root, who runs CI here)
    real = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda p, **kw: real(f"file:{p}?mode=ro", uri=True, **kw))
    reader = CachingEmbedder(model, VectorFile(path))
    reader.embed(["a", "b"])
    assert (reader.cached, reader.embedded) == (1, 1)
    assert "vector cache file is read-only: new vectors are not kept" in caplog.text
    reader.embed(["a", "b"])  # still read; "b" was not kept
    assert (reader.cached, reader.embedded) == (2, 2)


def test_a_damaged_vector_is_embedded_again(tmp_path: Path) -> None:
    path = tmp_path / "v.sqlite"
    model = Counting()
    CachingEmbedder(model, VectorFile(path)).embed(["a", "b"])
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE vector SET vector = x'000102' WHERE rowid = 1")  # 3 bytes: no float32 vector
    model.asked.clear()
    again = CachingEmbedder(model, VectorFile(path))
    assert again.embed(["a", "b"]).shape == (2, 4)
    assert len(model.asked) == 1 and again.cached == 1
