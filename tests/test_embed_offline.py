"""MEDIAWATCH_MODEL names another sentence-transformers model (a local folder, or a hub id already in the
Hugging Face cache), and no code path goes to the network: a real process with an audit hook that records
every socket connection or DNS lookup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mediawatch.classify import model as mdl

PROBE = textwrap.dedent("""
    import json, sys
    attempts = []
    def hook(event, args):
        if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname"):
            attempts.append(f"{event} {args!r}"[:200])
            raise OSError("no network in this test")  # fail fast instead of waiting for a dead network
    sys.addaudithook(hook)
    import numpy as np
    from mediawatch.enrich import build_embedder
    from mediawatch.errors import ClassifierUnavailable
    from mediawatch.settings import Settings
    out = {}
    for name in sys.argv[1:]:
        embedder = build_embedder(Settings(model=name))
        try:
            vec = embedder.embed(["Kazakhs of Bayan-Ölgii celebrate Nauryz"])[0]
            out[name] = {"name": embedder.name, "vector": vec.tolist()}
        except ClassifierUnavailable as exc:
            out[name] = {"error": str(exc)}
    out["network"] = attempts
    print(json.dumps(out))
""")


@pytest.mark.model
def test_other_models_load_offline(tmp_path: Path) -> None:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mediawatch"
    builtin = mdl.ensure_model(cache)  # the cache the other real-model tests share
    local = tmp_path / "my-model"
    commit = "0123456789abcdef0123456789abcdef01234567"
    hub = tmp_path / "hf" / "models--acme--e5-copy"
    for target in (local, hub / "snapshots" / commit):
        target.mkdir(parents=True)
        for path in builtin.rglob("*"):
            if path.is_file() and path.name != mdl.MARKER:
                (target / path.relative_to(builtin)).parent.mkdir(parents=True, exist_ok=True)
                os.link(path, target / path.relative_to(builtin))
    (hub / "refs").mkdir()
    (hub / "refs" / "main").write_text(commit)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIAWATCH_", "HF_", "TRANSFORMERS_"))}
    env |= {"HF_HUB_CACHE": str(tmp_path / "hf"), "MEDIAWATCH_CACHE_DIR": str(cache)}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, "acme/not-downloaded", "acme/e5-copy", str(local), mdl.BUILTIN_MODEL],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert out["network"] == []
    reference = out[mdl.BUILTIN_MODEL]["vector"]
    assert out[str(local)]["name"].startswith("my-model@")
    assert out["acme/e5-copy"]["name"] == "acme/e5-copy@0123456789ab"
    for name in (str(local), "acme/e5-copy"):
        assert sum(a * b for a, b in zip(out[name]["vector"], reference, strict=True)) > 0.9999, name
    assert "acme/not-downloaded" in out["acme/not-downloaded"]["error"]
    assert "downloads nothing at run time" in out["acme/not-downloaded"]["error"]
