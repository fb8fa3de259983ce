"""Opening the database: the SQLAlchemy engine with SQLite's settings and safeguards, the migration lock, and
the words of database errors for messages."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from mediawatch.errors import ConfigError, StoreError

__all__ = [
    "MIGRATION_LOCK_KEY", "SQLITE_BUSY_MS", "create_store_engine", "database_reason", "display_url", "is_busy",
    "migration_lock", "missing_sqlite_file", "refuses_every_write",
]

def database_reason(exc: BaseException) -> str:
    """A database error in the driver's words on one line (``attempt to write a readonly database``), without
    SQLAlchemy's statement, parameters and background link."""
    return " ".join(str(getattr(exc, "orig", None) or exc).split())


STORE_WIDE = ("disk is full", "no space left", "readonly database", "read-only", "disk i/o error")


def refuses_every_write(exc: BaseException) -> bool:
    """Whether ``exc`` (or the database error behind it) says the database as a whole cannot be written: full,
    read-only, failing disk. Such a failure is no source's fault: a run ends on it instead of marking each
    source failed (and backing it off) in turn."""
    from sqlalchemy.exc import InternalError, OperationalError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        # only the driver's operational errors: a constraint's message may quote an item's values
        if isinstance(current, OperationalError | InternalError) and any(
            words in database_reason(current).lower() for words in STORE_WIDE
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def is_busy(exc: BaseException) -> bool:
    """Whether a database error says another connection holds the lock (SQLite "database is locked" after
    the busy timeout, PostgreSQL's lock timeout): worth trying again, nothing is wrong with the request."""
    reason = database_reason(exc).lower()
    return "database is locked" in reason or "database is busy" in reason or "lock timeout" in reason


def display_url(url: str) -> str:
    """The database URL for messages: a PostgreSQL URL's password masked as ``***`` (one SQLAlchemy cannot read,
    such as a port that is no number, loses its ``user:password@``)."""
    from sqlalchemy.engine import make_url

    from mediawatch.normalize import redact_credentials

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (SQLAlchemyError, ValueError):
        return redact_credentials(url)


def missing_sqlite_file(url: str) -> str | None:
    """The path of the SQLite file ``url`` names when that file does not exist yet (else None: it exists, or
    ``url`` is not a SQLite database, whose existence opening will tell). A SQLite URL that names no file at
    all (``sqlite://``, ``sqlite:///``, ``sqlite:///:memory:``, a ``mode=memory`` URI) is returned as the
    empty string: an in-memory database, empty every time it is opened, has never stored anything either."""
    from urllib.parse import unquote, urlsplit

    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except (SQLAlchemyError, ValueError):
        return None  # reported by open_store with the setting's name
    if not parsed.drivername.startswith("sqlite"):
        return None
    database = parsed.database or ""
    if database.startswith("file:") and str(parsed.query.get("uri", "")).lower() in ("true", "1"):
        # an SQLite URI (sqlite:///file:path?uri=true): its path, unless it asks for memory
        uri = urlsplit(database)
        if parsed.query.get("mode") == "memory" or "mode=memory" in uri.query:
            return ""
        database = unquote(uri.path)
    if not database or database == ":memory:":
        return ""
    return None if os.path.exists(database) else database


def create_store_engine(url: str) -> Engine:
    """The engine for ``url`` (ConfigError, naming the setting, when the URL or its driver is wrong), with
    SQLite's pragmas and file safeguards."""
    try:
        engine = create_engine(url, future=True)
    except ImportError as exc:  # a dialect whose driver is not installed
        raise ConfigError(f"--db/MEDIAWATCH_DB: cannot open database {display_url(url)!r}: its driver is not "
                          f"installed ({exc}; for PostgreSQL: pip install -e '.[postgres]' and a postgresql+psycopg:// URL)") from exc
    except (SQLAlchemyError, ValueError) as exc:  # not a URL, or an unknown dialect: the setting is wrong
        raise ConfigError(f"--db/MEDIAWATCH_DB: cannot open database {display_url(url)!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        _keep_sqlite_file(engine)
    return engine


SQLITE_BUSY_MS = 10_000  # how long a SQLite connection waits for another's write lock before giving up
MIGRATION_LOCK_KEY = 7_320_411  # PostgreSQL advisory lock id for schema migrations
MIGRATION_LOCK_WAIT = 120.0  # seconds another process's migration may take before we give up


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """An inter-process lock around migrations of a SQLite file (nothing to do for other databases)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    from filelock import FileLock, Timeout

    lock = FileLock(f"{database}.migrate-lock", timeout=MIGRATION_LOCK_WAIT)
    try:
        lock.acquire()
    except Timeout as exc:
        raise StoreError(f"{database}: another process has been migrating it for {MIGRATION_LOCK_WAIT:.0f} s") from exc
    except OSError:  # a read-only folder: nobody can migrate there, reading needs no lock
        yield
        return
    try:
        yield
    finally:
        lock.release()


def _keep_sqlite_file(engine: Engine) -> None:
    """Once the SQLite file exists, every new connection opens it read-write without creating it, and a pooled
    connection is used only while the file at the path is still the one it opened.

    A database file deleted or moved away under a running process (``serve``, ``run``) is then an error on
    the next use, not a new empty database that ``digest`` would summarise as a week with nothing, nor a
    pooled connection that goes on reading, and writing into, a file no longer there (``/healthz`` said ok;
    what ``run`` collected would be gone at its next start). A file put in its place (a backup restored by
    ``mv``) is opened afresh."""
    from urllib.parse import quote

    from sqlalchemy.exc import DisconnectionError

    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = os.path.abspath(database)
    opened = False

    @event.listens_for(engine, "do_connect")
    def connect(_dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
        nonlocal opened
        if opened or os.path.exists(path):
            cargs[:] = [f"file:{quote(path)}?mode=rw"]
            cparams["uri"] = True
        opened = True

    def identity() -> tuple[int, int] | None:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return None
        return st.st_dev, st.st_ino

    @event.listens_for(engine, "connect")
    def remember(_dbapi_conn: Any, record: Any) -> None:
        record.info["mediawatch_file"] = identity()

    @event.listens_for(engine, "checkout")
    def still_there(_dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if record.info.get("mediawatch_file") != identity():
            # the pool drops this connection and opens a new one: the file now at the path, or an error
            raise DisconnectionError(f"{path}: the database file was deleted or replaced")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    from mediawatch.store.dialect import search_fold

    dbapi_conn.create_function("mw_fold", 1, search_fold, deterministic=True)
    cur = dbapi_conn.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", f"busy_timeout={SQLITE_BUSY_MS}"):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()
