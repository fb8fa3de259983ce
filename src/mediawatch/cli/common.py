"""What every ``mediawatch`` command shares: the --db/--sources/-v options, settings from options and
environment, error messages and exit codes.

Imports stay light (``mediawatch --help`` must not import torch, the model, httpx or SQLAlchemy).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from mediawatch.app import App
    from mediawatch.settings import Settings

__all__ = ["BASE_URL_HELP", "EXIT_CONFIG", "common_options", "fail", "load_settings", "open_app"]

F = TypeVar("F", bound=Callable[..., Any])

BASE_URL_HELP = (
    "Public address of the web app, e.g. https://mw.example.org/ (env MEDIAWATCH_BASE_URL): "
    "absolute links in the feeds and feeds.opml."
)

EXIT_CONFIG = 2


def common_options(func: F) -> F:
    """Options every command that touches the database or the sources file accepts."""
    func = click.option("--db", "db", metavar="URL", help="Database URL (default: sqlite:///mediawatch.db; env MEDIAWATCH_DB).")(func)
    func = click.option(
        "--sources", "sources", type=click.Path(path_type=Path), help="Sources file (default sources.yaml; env MEDIAWATCH_SOURCES)."
    )(func)
    func = click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")(func)
    return func


def load_settings(db: str | None = None, sources: Path | None = None, verbose: int = 0, **extra: Any) -> Settings:
    from pydantic import ValidationError

    from mediawatch.logs import LoggingSettingError, configure_logging
    from mediawatch.settings import Settings, unknown_variables

    overrides: dict[str, Any] = {k: v for k, v in {"db": db, "sources": sources, **extra}.items() if v is not None}
    if verbose:
        overrides["log_level"] = "DEBUG" if verbose > 1 else "INFO"
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        for problem in exc.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "?"
            where = f"--{name.replace('_', '-')}" if name in overrides else f"MEDIAWATCH_{name.upper()}"
            click.echo(f"{where}: {problem['msg'].removeprefix('Value error, ')}", err=True)
        sys.exit(EXIT_CONFIG)
    try:
        configure_logging(settings.log_level, settings.log_format)
    except LoggingSettingError as exc:
        click.echo(f"MEDIAWATCH_{exc.setting.upper()}: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    for name in unknown_variables(os.environ):
        click.echo(f"warning: {name} is not a mediawatch setting and is ignored (see the README's Settings "
                   f"reference)", err=True)
    return settings


def fail(exc: Exception) -> None:
    """Turn our errors into clear messages and exit codes (2 for configuration, 1 otherwise)."""
    from mediawatch.errors import ConfigError, MediawatchError

    if isinstance(exc, BrokenPipeError) and exc.filename is None:  # `export | head`: the reader has what it
        try:  # wanted; end as tools do, with nothing more to flush into the closed pipe at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        sys.exit(128 + 13)  # as if killed by SIGPIPE
    if isinstance(exc, ConfigError):
        for line in exc.problems:
            click.echo(line, err=True)
        sys.exit(EXIT_CONFIG)
    if isinstance(exc, MediawatchError):
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if type(exc).__module__.startswith("sqlalchemy."):  # the database refused: read-only, damaged, full, gone
        import logging

        from mediawatch.store import database_reason

        logging.getLogger("mediawatch").debug("database error", exc_info=exc)
        click.echo(f"error: the database failed: {database_reason(exc)} (check --db/MEDIAWATCH_DB: the file or "
                   f"server, its permissions, free space)", err=True)
        sys.exit(1)
    if isinstance(exc, OSError) and exc.strerror:  # a file we were asked to read or write
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"error: {where}{exc.strerror}", err=True)
        sys.exit(1)
    raise exc


def open_app(settings: Settings, *, sync: bool = True) -> App:
    from mediawatch.app import open_app as open_application

    return open_application(settings, sync=sync)
