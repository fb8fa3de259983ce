"""The only place that knows SQL dialects differ: insert-or-ignore, upsert, text order, case-insensitive
search and the size of an ``IN (...)`` list (SQLite, PostgreSQL)."""

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


def search_fold(value: object) -> object:
    """Text as case-insensitive search compares it: case-folded, without the dot above that folding leaves on
    Turkish İ ("İstanbul" is "istanbul"). Registered as the SQL function ``mw_fold`` on SQLite connections."""
    return value.casefold().replace("\u0307", "") if isinstance(value, str) else value


class contains_folded(ColumnElement[bool]):  # lower case: used like a SQL function
    """``column`` contains ``pattern`` (a LIKE pattern, ``\\`` escapes) in any letter case, in every script.

    PostgreSQL's ILIKE folds Unicode case under a Unicode LC_CTYPE (under "C", the query's lower/Title/UPPER
    forms are tried too; Turkish İ is read as I first); SQLite's LIKE and lower() fold
    ASCII only (``Лондона`` would not find ``лондона``), so there both sides go through :func:`search_fold`,
    registered on each connection."""

    inherit_cache = True
    _traverse_internals: ClassVar[list[tuple[str, Any]]] = [
        ("column", InternalTraversal.dp_clauseelement),
        ("pattern", InternalTraversal.dp_string),
    ]

    def __init__(self, column: ColumnElement[Any], pattern: str) -> None:
        from sqlalchemy import Boolean

        self.column = column
        self.pattern = pattern
        self.type = Boolean()


@compiles(contains_folded)
def _contains_folded_default(element: contains_folded, compiler: SQLCompiler, **kw: Any) -> str:
    from sqlalchemy import func, or_

    # ILIKE folds Unicode case only under a Unicode-aware LC_CTYPE (under "C" it folds ASCII), so a query in
    # another script is also tried as lower/Title/UPPER; Turkish İ lower-cases to i with a dot above: both
    # sides read it as I
    column = func.translate(element.column, "\u0130", "I")
    pattern = element.pattern.replace("\u0130", "I")
    variants = [pattern]
    if not pattern.isascii():
        inner = pattern.strip("%")
        head, tail = pattern[: len(pattern) - len(pattern.lstrip("%"))], pattern[len(pattern.rstrip("%")) :]
        variants += [head + form + tail for form in (inner.lower(), inner.capitalize(), inner.upper(), inner.title())]
    clauses = [column.ilike(v, escape="\\") for v in dict.fromkeys(variants)]
    return compiler.process(or_(*clauses) if len(clauses) > 1 else clauses[0], **kw)


@compiles(contains_folded, "sqlite")
def _contains_folded_sqlite(element: contains_folded, compiler: SQLCompiler, **kw: Any) -> str:
    from sqlalchemy import func

    folded = func.mw_fold(element.column).like(search_fold(element.pattern), escape="\\")
    return compiler.process(folded, **kw)
