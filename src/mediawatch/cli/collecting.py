"""``mediawatch check``, ``sources``, ``collect``, ``export`` and ``db upgrade``: the operator's commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mediawatch.cli.common import EXIT_CONFIG, common_options, fail, load_settings, open_app
from mediawatch.wording import count

# ---------------------------------------------------------------------------------------------- check


@click.command()
@click.option("--sources", "sources", type=click.Path(path_type=Path), help="Sources file to check (default sources.yaml).")
def check(sources: Path | None) -> None:
    """Validate the sources file; print FILE:LINE:COL: problems and exit 2 if any."""
    from mediawatch.errors import ConfigError
    from mediawatch.sourcefile import load_sourcefile

    settings = load_settings(sources=sources)
    try:
        sf = load_sourcefile(settings.sources)
    except ConfigError as exc:
        for line in exc.problems:
            click.echo(line)
        sys.exit(EXIT_CONFIG)
    enabled = sum(1 for s in sf.sources if s.enabled)
    click.echo(f"{sf.path}: ok ({count(len(sf.sources), 'source')}, {enabled} enabled)")


# ---------------------------------------------------------------------------------------------- sources


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source instead of a table.")
@common_options
@click.pass_context
def sources(ctx: click.Context, as_json: bool, db: str | None, sources: Path | None, verbose: int) -> None:
    """Every source with its health: last attempt and success, failures, last error, items in 7 days, next check."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = {"db": db, "sources": sources, "verbose": verbose}
        return
    from mediawatch.report import print_health

    settings = load_settings(db, sources, verbose)
    try:
        # the file is synced when there is one (its new and removed sources show at once); without one, the
        # table shows what the database holds
        app = open_app(settings, sync=sources is not None or settings.sources.exists())
        print_health(app.store.health(app.now()), as_json=as_json)
    except Exception as exc:
        fail(exc)


# ---------------------------------------------------------------------------------------------- collect


@click.command()
@click.option("--source", "source_ids", multiple=True, metavar="ID", help="Collect this source (repeatable), due or not.")
@click.option("--all", "all_sources", is_flag=True, help="Collect every enabled source, due or not.")
@common_options
def collect(source_ids: tuple[str, ...], all_sources: bool, db: str | None, sources: Path | None, verbose: int) -> None:
    """Fetch the sources that are due (or the named ones, or --all), store new items, update health.

    Failed sources are reported, not fatal: the exit code is 0 unless the configuration is wrong (2).
    SIGTERM or SIGHUP stops it as the service stops (no further source starts, what finished is kept), prints
    the summary and exits 143 (or 129).
    """
    import signal
    import threading

    if source_ids and all_sources:
        raise click.UsageError("give --source ID (those sources) or --all (every enabled one), not both")
    settings = load_settings(db, sources, verbose)
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signum)
        stop.set()

    # before the heavy imports (seconds): a signal meanwhile still ends in the summary, not a bare kill
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        from mediawatch.pipeline import run_collect, select_sources
        from mediawatch.report import print_collect_report, progress_bar

        app = open_app(settings)
        specs = select_sources(app, source_ids, all_sources=all_sources)
        with progress_bar("collecting", len(specs)) as bar:
            done = iter(range(1, len(specs) + 1))

            def progress(source_id: str, ok: bool) -> None:
                if bar is not None:
                    bar(next(done), None, source_id if ok else f"{source_id} (failed)")

            report = run_collect(app, specs, progress=progress, stop=stop)
        print_collect_report(report)
    except KeyboardInterrupt:  # Ctrl-C: at once, with the shell's code for SIGINT (130), not click's "Aborted!" (1)
        click.echo("interrupted; the sources already collected are stored", err=True)
        sys.exit(128 + signal.SIGINT)
    except Exception as exc:
        fail(exc)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        click.echo(f"stopped by {signal.Signals(received[0]).name}", err=True)
        sys.exit(128 + received[0])


# ---------------------------------------------------------------------------------------------- export


@click.command()
@click.option("--since", metavar="ISO", help="Only items published at or after this time (ISO 8601; date or datetime, UTC if no zone).")
@click.option("--until", metavar="ISO", help="Only items published before this time.")
@click.option("--relevant-only", is_flag=True, help="Only items tagged (or labeled) relevant.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to this file instead of standard output.")
@common_options
def export(
    since: str | None, until: str | None, relevant_only: bool, output: Path | None, db: str | None, sources: Path | None, verbose: int
) -> None:
    """Stored items as JSON Lines (one object per line)."""
    import json

    from mediawatch.timeparse import parse_iso_cli

    settings = load_settings(db, sources, verbose)
    try:
        lo = parse_iso_cli(since, "--since") if since else None
        hi = parse_iso_cli(until, "--until") if until else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    try:
        app = open_app(settings, sync=False)
        rows = app.store.export_rows(since=lo, until=hi, relevant_only=relevant_only)
        if output is None:
            for rec in rows:
                sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")
            return
        from mediawatch.files import atomic_text

        with atomic_text(output) as out:  # a failed export (full disk, kill) leaves the previous file whole
            for rec in rows:
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    except Exception as exc:
        fail(exc)


# ---------------------------------------------------------------------------------------------- db


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@common_options
def db_upgrade(db: str | None, sources: Path | None, verbose: int) -> None:
    """Create or upgrade the database schema to the newest migration."""
    from mediawatch.store import display_url, open_store

    settings = load_settings(db, sources, verbose)
    try:
        store = open_store(settings.db)
        click.echo(f"{display_url(settings.db)}: schema at revision {store.migrate()}")
    except Exception as exc:
        fail(exc)
