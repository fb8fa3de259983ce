"""Schema migrations (Alembic), run programmatically on an open connection."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, inspect

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(connection: Connection) -> object:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    row = connection.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return row[0] if row else None


def upgrade(connection: Connection, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(_config(connection), revision)  # type: ignore[arg-type]


def make_revision(connection: Connection, message: str) -> None:
    """Developer helper: autogenerate a new migration from schema.py (``python -m mediawatch.store.migrate MSG``)."""
    from alembic import command

    command.revision(_config(connection), message=message, autogenerate=True)  # type: ignore[arg-type]


if __name__ == "__main__":  # pragma: no cover - developer tool
    import sys

    from sqlalchemy import create_engine

    engine = create_engine(sys.argv[2] if len(sys.argv) > 2 else "sqlite:///:memory:")
    with engine.begin() as conn:
        upgrade(conn)
        make_revision(conn, sys.argv[1])
