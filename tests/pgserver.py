"""A throwaway PostgreSQL cluster on 127.0.0.1 for the test session, and a fresh database per test.

Fixtures (imported into tests/conftest.py):

* ``pgserver`` (session): a :class:`PgServer` started with ``initdb`` into a temporary folder and
  ``postgres -p <free port> -k <socket dir> -c listen_addresses=127.0.0.1``, stopped at session end.
* ``pg_url``: the SQLAlchemy URL (``postgresql+psycopg://…@127.0.0.1:PORT/NAME``) of a new, empty database.
* ``db_url`` (in conftest.py): parametrized over ``sqlite`` and ``postgresql``, for tests that must give the
  same results on both backends.

The binaries are looked up in ``$MEDIAWATCH_PG_BIN``, then ``PATH`` (``initdb``), then
``/usr/lib/postgresql/*/bin`` (Debian's packages; 15 preferred). Without them, or without psycopg, the PostgreSQL
tests skip with the reason, except under ``CI=true`` where they fail: CI must run them (``.ci/setup`` installs
the server). ``initdb`` refuses to run as root, so as root the server runs as the ``postgres`` OS user.

The cluster's default collation is ICU ``en-US-u-ka-shifted``: like the usual glibc ``en_US.UTF-8`` server
default it sorts case-insensitively first and ignores punctuation, so a query whose order depends on the
database's collation shows up here instead of in production. Connections use a password (SCRAM), one with
characters that need quoting in a URL. Nothing listens beyond loopback.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HOST = "127.0.0.1"
USER = "mediawatch"
COLLATION = "en-US-u-ka-shifted"
WANTED_MAJOR = "15"
START_TIMEOUT = 30.0


def find_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``postgres``, or None."""
    candidates: list[Path] = []
    if os.environ.get("MEDIAWATCH_PG_BIN"):
        candidates.append(Path(os.environ["MEDIAWATCH_PG_BIN"]))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)

    def major(p: Path) -> tuple[bool, int]:
        name = p.parent.name
        return (name == WANTED_MAJOR, int(name) if name.isdigit() else 0)

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=major, reverse=True)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    return None


def unavailable(reason: str) -> None:
    """Skip locally; under CI=true the PostgreSQL tests must run, so fail (as .ci/setup does for chromium)."""
    message = f"PostgreSQL tests cannot run: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: run .ci/setup as root to install it)", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """One running cluster. ``database()`` makes a new empty database and returns its SQLAlchemy URL."""

    bin_dir: Path
    root: Path  # temporary folder: data/, sockets/, server.log
    port: int = 0
    password: str = field(default_factory=lambda: "pw@" + secrets.token_hex(6) + ":/%")
    process: subprocess.Popen[bytes] | None = None
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def version(self) -> str:
        return (self.root / "data" / "PG_VERSION").read_text().strip()

    def url(self, database: str) -> str:
        from sqlalchemy.engine import URL

        url = URL.create("postgresql+psycopg", USER, self.password, HOST, self.port, database)
        return url.render_as_string(hide_password=False)

    def connect(self, database: str = "postgres") -> Any:
        import psycopg

        return psycopg.connect(
            host=HOST,
            port=self.port,
            user=USER,
            password=self.password,
            dbname=database,
            autocommit=True,
            connect_timeout=5,
        )

    def database(self, name: str | None = None) -> str:
        """CREATE DATABASE (from the empty template1: a file copy, milliseconds) and return its URL."""
        name = name or f"t{next(self._names):04d}"
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", name):
            raise ValueError(f"unsafe database name {name!r}")
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template1 STRATEGY file_copy')
        return self.url(name)

    # ------------------------------------------------------------------------------------------ life cycle
    def _as_owner(self) -> dict[str, Any]:
        """Popen arguments that run a command as the ``postgres`` OS user when we are root."""
        if os.geteuid() != 0:
            return {}
        return {"user": "postgres", "group": "postgres", "extra_groups": []}

    def start(self) -> None:
        data, sockets = self.root / "data", self.root / "sockets"
        sockets.mkdir()
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        if os.geteuid() == 0:
            for path in (self.root, sockets, pwfile):
                shutil.chown(path, "postgres", "postgres")
        init = subprocess.run(
            [
                str(self.bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--locale-provider=icu",
                f"--icu-locale={COLLATION}",
                "--no-sync",
            ],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            **self._as_owner(),
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed ({init.returncode}): {init.stderr[-2000:]}")
        pwfile.unlink()
        log = self.root / "server.log"
        for attempt in range(5):
            self.port = free_port()
            with log.open("ab") as out:
                self.process = subprocess.Popen(
                    [
                        str(self.bin_dir / "postgres"),
                        "-D",
                        str(data),
                        "-p",
                        str(self.port),
                        "-k",
                        str(sockets),
                        "-c",
                        f"listen_addresses={HOST}",
                        "-c",
                        "fsync=off",
                        "-c",
                        "synchronous_commit=off",
                        "-c",
                        "full_page_writes=off",
                        "-c",
                        "shared_buffers=32MB",
                        "-c",
                        "max_connections=60",
                    ],
                    cwd=self.root,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    **self._as_owner(),
                )
            if self._wait_ready():
                return
            self.stop()
        raise RuntimeError(
            f"postgres did not start; its log says:\n{log.read_text(errors='replace')[-3000:]}"
        )

    def _wait_ready(self) -> bool:
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False  # e.g. the port was taken between free_port() and bind
            try:
                with self.connect():
                    return True
            except psycopg.OperationalError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        """Fast shutdown (SIGINT: disconnect clients, no waiting), then SIGKILL if it hangs."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def pgserver() -> Iterator[PgServer]:
    """A PostgreSQL cluster for the whole session (skips, or fails under CI=true, when it cannot run)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("the psycopg driver is not installed (pip install -e '.[test]')")
    bin_dir = find_bin_dir()
    if bin_dir is None:
        unavailable("initdb/postgres not found in $MEDIAWATCH_PG_BIN, PATH or /usr/lib/postgresql/*/bin")
        raise AssertionError("unreachable")
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            unavailable("running as root and there is no 'postgres' OS user for initdb to run as")
    root = Path(tempfile.mkdtemp(prefix="mediawatch-pg-"))
    server = PgServer(bin_dir, root)
    try:
        server.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        unavailable(f"the server did not start from {bin_dir}: {exc}")
    try:
        yield server
    finally:
        server.stop()
        with contextlib.suppress(OSError):
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(pgserver: PgServer) -> str:
    """A new, empty PostgreSQL database for this test (dropped with the cluster at session end)."""
    return pgserver.database()
