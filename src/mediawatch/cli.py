"""The ``mediawatch`` command: thin click wrappers over the library.

Keep this module's imports light: ``mediawatch --help`` must not import torch, the model, httpx or SQLAlchemy.
Each command imports what it needs inside its body.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from mediawatch import __version__

if TYPE_CHECKING:
    from mediawatch.app import App
    from mediawatch.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CONFIG = 2


def _common(func: F) -> F:
    """Options every command that touches the database or the sources file accepts."""
    func = click.option("--db", "db", metavar="URL", help="Database URL (default: sqlite:///mediawatch.db; env MEDIAWATCH_DB).")(func)
    func = click.option(
        "--sources", "sources", type=click.Path(path_type=Path), help="Sources file (default sources.yaml; env MEDIAWATCH_SOURCES)."
    )(func)
    func = click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")(func)
    return func


def _settings(db: str | None = None, sources: Path | None = None, verbose: int = 0, **extra: Any) -> Settings:
    from mediawatch.logs import configure_logging
    from mediawatch.settings import Settings

    overrides: dict[str, Any] = {k: v for k, v in {"db": db, "sources": sources, **extra}.items() if v is not None}
    if verbose:
        overrides["log_level"] = "DEBUG" if verbose > 1 else "INFO"
    settings = Settings(**overrides)
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _fail(exc: Exception) -> None:
    """Turn our errors into clear messages and exit codes (2 for configuration, 1 otherwise)."""
    from mediawatch.errors import ConfigError, MediawatchError

    if isinstance(exc, ConfigError):
        for line in exc.problems:
            click.echo(line, err=True)
        sys.exit(EXIT_CONFIG)
    if isinstance(exc, MediawatchError):
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    raise exc


def _open_app(settings: Settings) -> App:
    from mediawatch.app import open_app

    return open_app(settings)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="mediawatch")
def main() -> None:
    """mediawatch: collect, tag and publish coverage of Kazakh communities abroad."""


# ---------------------------------------------------------------------------------------------- check


@main.command()
@click.option("--sources", "sources", type=click.Path(path_type=Path), help="Sources file to check (default sources.yaml).")
def check(sources: Path | None) -> None:
    """Validate the sources file; print FILE:LINE:COL: problems and exit 2 if any."""
    from mediawatch.errors import ConfigError
    from mediawatch.sourcefile import load_sourcefile

    settings = _settings(sources=sources)
    try:
        sf = load_sourcefile(settings.sources)
    except ConfigError as exc:
        for line in exc.problems:
            click.echo(line)
        sys.exit(EXIT_CONFIG)
    enabled = sum(1 for s in sf.sources if s.enabled)
    click.echo(f"{sf.path}: ok ({len(sf.sources)} sources, {enabled} enabled)")


# ---------------------------------------------------------------------------------------------- sources


@main.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source instead of a table.")
@_common
@click.pass_context
def sources(ctx: click.Context, as_json: bool, db: str | None, sources: Path | None, verbose: int) -> None:
    """Every source with its health: last attempt and success, failures, last error, items in 7 days, next check."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = {"db": db, "sources": sources, "verbose": verbose}
        return
    from mediawatch.report import print_health

    settings = _settings(db, sources, verbose)
    try:
        app = _open_app(settings)
        print_health(app.store.health(app.now()), as_json=as_json)
    except Exception as exc:
        _fail(exc)


# ---------------------------------------------------------------------------------------------- collect


@main.command()
@click.option("--source", "source_ids", multiple=True, metavar="ID", help="Collect this source (repeatable), due or not.")
@click.option("--all", "all_sources", is_flag=True, help="Collect every enabled source, due or not.")
@_common
def collect(source_ids: tuple[str, ...], all_sources: bool, db: str | None, sources: Path | None, verbose: int) -> None:
    """Fetch the sources that are due (or the named ones, or --all), store new items, update health.

    Failed sources are reported, not fatal: the exit code is 0 unless the configuration is wrong (2).
    """
    from mediawatch.pipeline import run_collect, select_sources
    from mediawatch.report import collect_progress, print_collect_report

    settings = _settings(db, sources, verbose)
    try:
        app = _open_app(settings)
        specs = select_sources(app, source_ids, all_sources=all_sources)
        with collect_progress(len(specs)) as progress:
            report = run_collect(app, specs, progress=progress)
        print_collect_report(report)
    except Exception as exc:
        _fail(exc)


# ---------------------------------------------------------------------------------------------- export


@main.command()
@click.option("--since", metavar="ISO", help="Only items published at or after this time (ISO 8601; date or datetime, UTC if no zone).")
@click.option("--until", metavar="ISO", help="Only items published before this time.")
@click.option("--relevant-only", is_flag=True, help="Only items tagged (or labeled) relevant.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to this file instead of standard output.")
@_common
def export(
    since: str | None, until: str | None, relevant_only: bool, output: Path | None, db: str | None, sources: Path | None, verbose: int
) -> None:
    """Stored items as JSON Lines (one object per line)."""
    import json

    from mediawatch.timeparse import parse_iso_cli

    settings = _settings(db, sources, verbose)
    try:
        lo = parse_iso_cli(since, "--since") if since else None
        hi = parse_iso_cli(until, "--until") if until else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    try:
        app = _open_app(settings)
        out = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            for rec in app.store.export_rows(since=lo, until=hi, relevant_only=relevant_only):
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        finally:
            if output:
                out.close()
    except Exception as exc:
        _fail(exc)


# ---------------------------------------------------------------------------------------------- digest


@main.command()
@click.option("--week", metavar="YYYY-Www", help="ISO week to digest (default: the last complete week, UTC).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Output folder (default: digests/; env MEDIAWATCH_DIGESTS).")
@_common
def digest(week: str | None, out_dir: Path | None, db: str | None, sources: Path | None, verbose: int) -> None:
    """Write the weekly digest for editors: OUT/YYYY-Www.md and OUT/YYYY-Www.html (with charts)."""
    from mediawatch.digest.week import IsoWeek
    from mediawatch.pipeline import run_digest

    settings = _settings(db, sources, verbose)
    try:
        iso = IsoWeek.parse(week) if week else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from None
    try:
        app = _open_app(settings)
        files = run_digest(app, iso, out_dir or settings.digests)
        click.echo(str(files.md))
        click.echo(str(files.html))
    except Exception as exc:
        _fail(exc)


# ---------------------------------------------------------------------------------------------- serve


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@_common
def serve(host: str, port: int, db: str | None, sources: Path | None, verbose: int) -> None:
    """Web pages, subscriber feeds, /healthz and /metrics (read-only; corrections need the editor token)."""
    from mediawatch.store import open_store
    from mediawatch.web.app import serve as run_server

    settings = _settings(db, sources, verbose)
    try:
        open_store(settings.db).close()  # create or upgrade the schema before the first request
        click.echo(f"serving on http://{host}:{port}/ (Ctrl-C stops)", err=True)
        run_server(settings, host, port)
    except Exception as exc:
        _fail(exc)


# ---------------------------------------------------------------------------------------------- db


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@_common
def db_upgrade(db: str | None, sources: Path | None, verbose: int) -> None:
    """Create or upgrade the database schema to the newest migration."""
    from mediawatch.store import open_store

    settings = _settings(db, sources, verbose)
    try:
        store = open_store(settings.db)
        click.echo(f"{settings.db}: schema at revision {store.migrate()}")
    except Exception as exc:
        _fail(exc)


if __name__ == "__main__":  # pragma: no cover
    main()
