"""Shared fixtures. The loopback HTTP server lives in tests/loopserver.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests explore new random inputs on every local run; under CI they replay one fixed sequence, so a
# result there is reproducible and a rare input found by chance cannot fail a landing (fix it locally).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MEDIAWATCH_SHARED", ROOT.parent / "shared"))


STAND_IN_TOPIC_SPLITS = 1  # TOPIC_CV_REPEATS for tests that train on a stand-in embedder


@pytest.fixture(autouse=True)
def _one_topic_split(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests that train heads on a stand-in embedder check plumbing (caching, folds, corrections, evidence),
    not the heads' quality: one cross-validation split per topic instead of TOPIC_CV_REPEATS keeps them about
    as fast as before the repeats (110 s against 45 s for the tagger, label and gate tests). Tests marked
    ``model`` train exactly as the product does."""
    if request.node.get_closest_marker("model") is None:
        from mediawatch.classify import train

        monkeypatch.setattr(train, "TOPIC_CV_REPEATS", STAND_IN_TOPIC_SPLITS)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The third-party evaluation material (../shared); tests that need it skip when it is absent."""
    if not (SHARED / "eval").is_dir():
        pytest.skip(f"shared evaluation material not found at {SHARED} (set MEDIAWATCH_SHARED)")
    return SHARED


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty database on each backend in turn: the same test must pass on SQLite and PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mw.db'}"
    return str(request.getfixturevalue("pg_url"))


PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture
def no_backoff() -> Iterator[None]:
    """No sleeping between retries, one attempt per fetch (collection tests that do not count attempts)."""
    import stamina

    with stamina.set_testing(True):
        yield


@pytest.fixture
def direct_http(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No backoff sleeps, one attempt, and no operator proxy leaking in from the shell (for tests that run
    probe/collect commands against the loopback server). Deadlines are long enough that a stalled test process
    (a full garbage collection, a busy machine) is not a timeout; tests about timeouts set their own."""
    import stamina

    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MEDIAWATCH_TIMEOUT", "15")
    monkeypatch.setenv("MEDIAWATCH_CONNECT_TIMEOUT", "10")
    monkeypatch.setenv("MEDIAWATCH_RETRIES", "1")
    with stamina.set_testing(True, attempts=1000, cap=True):
        yield


from loopserver import loopserver  # noqa: E402,F401  (the loopback HTTP server fixture, tests/loopserver.py)
from pgserver import pg_url, pgserver  # noqa: F401  (throwaway PostgreSQL cluster, tests/pgserver.py)
