"""The only place that knows SQL dialects differ: insert-or-ignore and upsert for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.sql import Executable


def _insert(conn: Any, table: Table) -> Any:
    name = conn.dialect.name
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:  # pragma: no cover - other dialects are not supported
        raise NotImplementedError(f"database dialect {name!r} is not supported (use sqlite or postgresql)")
    return insert(table)


def insert_ignore(conn: Any, table: Table, values: Mapping[str, Any] | None, keys: Sequence[str]) -> Executable:
    """INSERT … ON CONFLICT (keys) DO NOTHING; ``rowcount`` tells whether a row was added.

    With ``values=None`` the statement takes its rows as executemany parameters."""
    stmt = _insert(conn, table)
    if values is not None:
        stmt = stmt.values(**values)
    return stmt.on_conflict_do_nothing(index_elements=list(keys))


def upsert(conn: Any, table: Table, values: Mapping[str, Any], keys: Sequence[str]) -> Executable:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET every other given column."""
    stmt = _insert(conn, table).values(**values)
    update = {k: stmt.excluded[k] for k in values if k not in keys}
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=update)


def upsert_many(conn: Any, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> None:
    """Upsert many rows with one executemany (all rows must carry the same columns)."""
    if not rows:
        return
    stmt = _insert(conn, table)
    update = {k: stmt.excluded[k] for k in rows[0] if k not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=update), [dict(r) for r in rows])
