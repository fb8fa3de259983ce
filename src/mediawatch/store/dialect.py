"""The only place that knows SQL dialects differ: insert-or-ignore, upsert, text order and the size of an
``IN (...)`` list (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, ClassVar, TypeVar

from sqlalchemy import Table
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

_T = TypeVar("_T")

# Values per ``IN (...)`` list: SQLite before 3.32 refuses more than 999 bound parameters in one statement.
IN_LIST_SIZE = 500


def in_lists(values: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """``values`` in slices of at most :data:`IN_LIST_SIZE`, one per ``IN (...)`` query."""
    for i in range(0, len(values), IN_LIST_SIZE):
        yield values[i : i + IN_LIST_SIZE]


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


class bytewise(ColumnElement[Any]):  # lower case: used like a SQL function
    """``column`` in code-point order, for ORDER BY: SQLite compares text with BINARY, PostgreSQL with the
    database's collation (``en_US.UTF-8`` sorts ``feeda`` before ``feed-b`` and ignores case first), so there
    the column is compared ``COLLATE "C"``. Results, ties and page boundaries then agree on both backends and
    with Python's ``sorted``."""

    inherit_cache = True
    _traverse_internals: ClassVar[list[tuple[str, Any]]] = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type = column.type


@compiles(bytewise)
def _bytewise_default(element: bytewise, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(bytewise, "postgresql")
def _bytewise_postgresql(element: bytewise, compiler: SQLCompiler, **kw: Any) -> str:
    return f'{compiler.process(element.column, **kw)} COLLATE "C"'
