"""The only place that knows SQL dialects differ: insert-or-ignore and upsert for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.sql import Executable


def _insert(name: str, table: Table) -> Any:
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:  # pragma: no cover - other dialects are not supported
        raise NotImplementedError(f"database dialect {name!r} is not supported (use sqlite or postgresql)")
    return insert(table)


def insert_ignore(conn: Any, table: Table, values: Mapping[str, Any] | None, keys: Sequence[str]) -> Executable:
    """INSERT … ON CONFLICT (keys) DO NOTHING; ``rowcount`` tells whether a row was added.

    With ``values=None`` the statement takes its rows as executemany parameters (and is built once)."""
    if values is None:
        return _ignore_stmt(conn.dialect.name, table, tuple(keys))
    return _insert(conn.dialect.name, table).values(**values).on_conflict_do_nothing(index_elements=list(keys))


def upsert(conn: Any, table: Table, values: Mapping[str, Any], keys: Sequence[str]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET every other given column, for one row."""
    conn.execute(_upsert_stmt(conn.dialect.name, table, tuple(values), tuple(keys)), dict(values))


def upsert_many(conn: Any, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> None:
    """Upsert many rows with one executemany (all rows must carry the same columns)."""
    if not rows:
        return
    stmt = _upsert_stmt(conn.dialect.name, table, tuple(rows[0]), tuple(keys))
    conn.execute(stmt, [dict(r) for r in rows])


# Statements are built once per dialect, table and column set: building one (``excluded``, ``values``) costs
# more than running it on SQLite, and the collector writes one source state per source.
@lru_cache(maxsize=256)
def _ignore_stmt(dialect: str, table: Table, keys: tuple[str, ...]) -> Executable:
    return _insert(dialect, table).on_conflict_do_nothing(index_elements=list(keys))


@lru_cache(maxsize=256)
def _upsert_stmt(dialect: str, table: Table, columns: tuple[str, ...], keys: tuple[str, ...]) -> Executable:
    stmt = _insert(dialect, table)
    update = {k: stmt.excluded[k] for k in columns if k not in keys}
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=update)
