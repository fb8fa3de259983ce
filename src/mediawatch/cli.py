"""The ``mediawatch`` command: thin click wrappers over the library.

Keep this module's imports light: ``mediawatch --help`` must not import torch, the model, httpx or SQLAlchemy.
Each command imports what it needs inside its body.
"""

from __future__ import annotations

import os
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

BASE_URL_HELP = (
    "Public address of the web app, e.g. https://mw.example.org/ (env MEDIAWATCH_BASE_URL): "
    "absolute links in the feeds and feeds.opml."
)

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


def _open_app(settings: Settings, *, sync: bool = True) -> App:
    from mediawatch.app import open_app

    return open_app(settings, sync=sync)


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
        # the file is synced when there is one (its new and removed sources show at once); without one, the
        # table shows what the database holds
        app = _open_app(settings, sync=sources is not None or settings.sources.exists())
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
    SIGTERM or SIGHUP stops it as the service stops (no further source starts, what finished is kept), prints
    the summary and exits 143 (or 129).
    """
    import signal
    import threading

    from mediawatch.pipeline import run_collect, select_sources
    from mediawatch.report import print_collect_report, progress_bar

    if source_ids and all_sources:
        raise click.UsageError("give --source ID (those sources) or --all (every enabled one), not both")
    settings = _settings(db, sources, verbose)
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        app = _open_app(settings)
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
        _fail(exc)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        click.echo(f"stopped by {signal.Signals(received[0]).name}", err=True)
        sys.exit(128 + received[0])


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
        app = _open_app(settings, sync=False)
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
        _fail(exc)


# ---------------------------------------------------------------------------------------------- tagging


@main.command()
@click.option("--all", "everything", is_flag=True, help="Re-tag every stored item, not only those lacking current tags.")
@click.option("--input", "input_file", metavar="FILE.jsonl", help="Tag the JSON Lines in FILE ('-' for stdin); no database.")
@click.option("--output", "output_file", metavar="FILE.jsonl",
              help="With --input: where to write results ('-' or omitted: standard output).")
@_common
def classify(everything: bool, input_file: str | None, output_file: str | None, db: str | None,
             sources: Path | None, verbose: int) -> None:
    """Tag items: relevant/relevance, countries, topics and why.

    Without --input: stored items lacking tags from the current model and taxonomy (or all with --all).
    Editors' corrections are kept apart and always win over these tags.

    With --input: one JSON object per line (UTF-8, a BOM and CRLF endings accepted, blank lines skipped)
    with 'id' (non-empty string or integer, unique in the file), 'title' and 'text' (strings, not both
    empty) and optionally 'lang' and 'url' (strings). Only the title and the first ~600 characters of the
    text are read, so long texts are fine. Any bad line stops the run before tagging, with every bad line
    named as FILE:LINE (exit 2). Each output line (same order as the input) has exactly id, relevant,
    relevance, countries, topics and why; standard output carries nothing else (logs go to stderr).
    """
    if input_file is None and output_file is not None:
        raise click.UsageError("--output needs --input (stored items are tagged in the database)")
    if input_file is not None and everything:
        raise click.UsageError("--all tags stored items; it cannot be combined with --input")
    settings = _settings(db, sources, verbose)
    try:
        if input_file is not None:
            _classify_file(settings, input_file, output_file or "-")
            return
        from mediawatch.enrich import run_classify
        from mediawatch.pipeline import refresh_feeds
        from mediawatch.report import progress_bar

        app = _open_app(settings, sync=False)
        with progress_bar("tagging") as progress:
            report = run_classify(app, everything=everything, progress=progress)
        click.echo(report.summary())
        feeds, _ = refresh_feeds(app, report.item_ids)  # attachés' feed files follow the new tags
        if feeds:
            click.echo(f"subscriber feeds: {len(feeds)} file{'s' if len(feeds) != 1 else ''} updated in "
                       f"{settings.digests / 'feeds'}")
    except Exception as exc:
        _fail(exc)


def _classify_file(settings: Settings, input_file: str, output_file: str) -> None:
    import json

    from mediawatch.enrich import build_embedder, build_tagger, read_tag_inputs, tag_lines
    from mediawatch.errors import ConfigError
    from mediawatch.files import write_atomic

    where = "<stdin>" if input_file == "-" else input_file
    try:
        data = sys.stdin.buffer.read() if input_file == "-" else Path(input_file).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read ({exc.strerror})") from exc
    inputs = read_tag_inputs(data, where)  # every bad line named before the model loads
    if output_file != "-":  # so is an output that cannot be written: not after minutes of tagging
        out_path = Path(output_file)
        if out_path.is_dir():
            raise ConfigError(f"--output {output_file}: is a folder; give a file name")
        folder = out_path.parent
        if not folder.is_dir():
            raise ConfigError(f"--output {output_file}: the folder {folder} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ConfigError(f"--output {output_file}: the folder {folder} is not writable")
    results = tag_lines(build_tagger(settings, build_embedder(settings)), inputs) if inputs else []
    body = "".join(json.dumps(rec, ensure_ascii=False) + "\n" for rec in results).encode("utf-8")
    if output_file == "-":
        out = sys.stdout.buffer
        out.write(body)
        out.flush()
        return
    try:
        write_atomic(Path(output_file), body)  # an earlier output file is replaced only when all is done
    except OSError as exc:
        raise click.FileError(output_file, hint=f"cannot write ({exc.strerror or exc})") from exc


@main.command()
@click.argument("labeled", metavar="FILE.jsonl", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mistakes", is_flag=True, help="Also list the items the tagger got wrong.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.option(
    "--cv",
    "folds",
    type=int,
    default=None,
    metavar="K",
    help="K-fold cross-validation: each fold is tagged after learning the other folds' labels, as "
    "editors' corrections are learned (retrains the heads K times).",
)
@click.option("-v", "--verbose", count=True, help="More log output.")
def evaluate(labeled: Path, mistakes: bool, as_json: bool, folds: int | None, verbose: int) -> None:
    """Score the tagger on a labeled file (the format of shared/eval/labeled/dev.jsonl).

    Prints relevance precision/recall/F1, country micro P/R/F1, topic micro and macro F1, and relevance F1
    per language. The file is never learned from, unless --cv is given.
    """
    import json

    from mediawatch.classify.evaluate import cross_validate, format_report, load_labeled
    from mediawatch.classify.evaluate import evaluate as run_eval
    from mediawatch.enrich import build_embedder, build_tagger, load_taxonomy

    settings = _settings(verbose=verbose)
    try:
        records = load_labeled(labeled, topics=load_taxonomy(settings).topic_ids)
        embedder = build_embedder(settings)
        if folds is None:
            report = run_eval(build_tagger(settings, embedder), records)
        else:
            from mediawatch.classify.tagger import build_tagger as build_with

            taxonomy = load_taxonomy(settings)
            report = cross_validate(
                lambda extra: build_with(embedder, settings.cache_dir, extra, taxonomy=taxonomy),
                records,
                folds,
                progress=lambda done, total: click.echo(f"fold {done}/{total} done", err=True),
            )
        click.echo(json.dumps(report.as_dict(mistakes=mistakes), ensure_ascii=False) if as_json else format_report(report, mistakes=mistakes))
    except Exception as exc:
        _fail(exc)


@main.command()
@click.argument("item_id")
@click.option("--relevant", "is_relevant", is_flag=True, help="The item is about Kazakh communities abroad.")
@click.option("--not-relevant", "not_relevant", is_flag=True, help="The item is not (takes no --country or --topic).")
@click.option("--country", "countries", multiple=True, metavar="CC", help="Country where the community lives (repeatable).")
@click.option("--topic", "topics", multiple=True, metavar="TOPIC", help="Topic (repeatable).")
@click.option("--editor", help="Who made the correction.")
@click.option("--note", help="Why.")
@_common
def label(item_id: str, is_relevant: bool, not_relevant: bool, countries: tuple[str, ...], topics: tuple[str, ...],
          editor: str | None, note: str | None, db: str | None, sources: Path | None, verbose: int) -> None:
    """Store an editor's correction for ITEM_ID: it overrides the model's tags and trains the next heads.

    Exactly one of --relevant and --not-relevant; --country takes ISO 3166-1 alpha-2 codes, --topic the
    taxonomy's topics. Exit 2 for an unknown item or an invalid correction (nothing is stored then).
    """
    from mediawatch.labels import active_topics, make_label

    if is_relevant and not_relevant:
        raise click.UsageError("--relevant and --not-relevant contradict each other; give one")
    relevant = True if is_relevant else False if not_relevant else None
    settings = _settings(db, sources, verbose)
    try:
        app = _open_app(settings, sync=False)
        if app.store.get_item(item_id) is None:
            raise click.BadParameter(f"no stored item with id {item_id!r}", param_hint="ITEM_ID")
        lab = make_label(item_id, relevant, countries, topics, editor=editor, note=note, now=app.now(),
                         known_topics=active_topics(settings.taxonomy))
        app.store.save_label(lab)
        tags = " ".join([*lab.countries, *lab.topics])
        click.echo(f"{item_id}: {'relevant' if lab.relevant else 'not relevant'}{' ' + tags if tags else ''}")
        from mediawatch.models import ItemId
        from mediawatch.pipeline import refresh_feeds

        try:
            refresh_feeds(app, [ItemId(item_id)])  # the correction shows in the feed files at once
        except Exception:
            click.echo("the correction is saved; the subscriber feeds were not updated (the service's next "
                       "rebuild, or the next `label`, updates them):", err=True)
            raise
    except click.ClickException:
        raise
    except Exception as exc:
        _fail(exc)


# ---------------------------------------------------------------------------------------------- digest


@main.command()
@click.option("--week", metavar="YYYY-Www",
              help="ISO week to digest, Monday to Monday in MEDIAWATCH_DIGEST_TIMEZONE "
                   "(default: the last complete one).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Output folder (default: digests/; env MEDIAWATCH_DIGESTS).")
@_common
def digest(week: str | None, out_dir: Path | None, db: str | None, sources: Path | None, verbose: int) -> None:
    """Write the weekly digest for editors: OUT/YYYY-Www.md and OUT/YYYY-Www.html (with charts)."""
    from mediawatch.app import system_clock
    from mediawatch.digest.week import IsoWeek
    from mediawatch.pipeline import run_digest

    settings = _settings(db, sources, verbose)
    try:
        iso = IsoWeek.parse(week, settings.digest_timezone) if week else None
        if iso is not None:
            iso.require_started(system_clock())  # a week not begun yet has nothing to digest
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from None
    try:
        app = _open_app(settings, sync=False)
        files = run_digest(app, iso, out_dir or settings.digests)
        click.echo(str(files.md))
        click.echo(str(files.html))
    except Exception as exc:
        _fail(exc)


# ---------------------------------------------------------------------------------------------- run


@main.command()
@click.option("--serve", "with_web", is_flag=True, help="Also serve the web pages, feeds and /metrics from this process.")
@click.option("--host", default="127.0.0.1", show_default=True, help="With --serve: address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="With --serve: port.")
@click.option("--base-url", "base_url", metavar="URL", help=BASE_URL_HELP)
@_common
def run(with_web: bool, host: str, port: int, base_url: str | None, db: str | None, sources: Path | None,
        verbose: int) -> None:
    """The always-on service: collect, tag, stories and feeds every tick; the weekly digest on schedule.

    Stops cleanly on SIGTERM/SIGINT. Refuses to start while another `run` uses the same database.
    With --serve the web pages run in the same process, and /metrics includes the ticks' counters.
    """
    import logging

    from mediawatch.enrich import build_embedder
    from mediawatch.pipeline import run_digest, run_tick
    from mediawatch.service import Service

    settings = _settings(db, sources, verbose, base_url=base_url)
    logging.getLogger("mediawatch.service").setLevel(min(logging.INFO, logging.getLogger().level))
    try:
        app = _open_app(settings)
        embedder = build_embedder(settings)  # loaded on first use, then kept for every tick
        metrics = foreground = None
        if with_web:
            from mediawatch.web.app import serve as run_server
            from mediawatch.web.metrics import Metrics

            metrics = Metrics()

            def foreground() -> None:
                click.echo(f"serving on http://{host}:{port}/ (Ctrl-C stops)", err=True)
                run_server(settings, host, port, metrics=metrics)

        service = Service(
            app,
            tick=lambda a, stop: run_tick(a, embedder=embedder, stop=stop),  # type: ignore[return-value]
            digest=lambda a, now: run_digest(a, None, settings.digests),
            metrics=metrics,
        )
        service.run(foreground)
    except Exception as exc:
        _fail(exc)


# ---------------------------------------------------------------------------------------------- serve


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--base-url", "base_url", metavar="URL", help=BASE_URL_HELP)
@_common
def serve(host: str, port: int, base_url: str | None, db: str | None, sources: Path | None,
          verbose: int) -> None:
    """Web pages, subscriber feeds, /healthz and /metrics (read-only; corrections need the editor token)."""
    from mediawatch.store import open_store
    from mediawatch.web.app import serve as run_server

    settings = _settings(db, sources, verbose, base_url=base_url)
    try:
        open_store(settings.db).close()  # create or upgrade the schema before the first request
        click.echo(f"serving on http://{host}:{port}/ (Ctrl-C stops)", err=True)
        run_server(settings, host, port)
    except Exception as exc:
        _fail(exc)


# ---------------------------------------------------------------------------------------------- demo


@main.command()
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("mediawatch-demo"),
              show_default=True, help="Folder for the demo's sources file, database, digest and feeds. Created if missing; an existing "
                   "folder must be empty or one an earlier demo made (it is then emptied).")
@click.option("--serve", "keep_serving", is_flag=True, help="Afterwards keep the web pages up for a look.")
@click.option("--host", default="127.0.0.1", show_default=True, help="With --serve: address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="With --serve: port.")
@click.option("-v", "--verbose", count=True, help="More log output.")
def demo(folder: Path, keep_serving: bool, host: str, port: int, verbose: int) -> None:
    """Offline demo: sample sources on a loopback server -> collect -> tag -> stories -> feeds -> digest."""
    from contextlib import ExitStack

    from mediawatch.demo.run import run_demo

    settings = _settings(verbose=verbose)
    with ExitStack() as site:  # with --serve the sample outlets stay up, so the pages' article links open
        try:
            result, used = run_demo(folder, settings, say=lambda line: click.echo(line, err=True),
                                    keep_site=site if keep_serving else None)
        except Exception as exc:
            _fail(exc)
            return
        click.echo(f"items:   {result.items} collected from {result.sources} sources "
                   f"({result.sources_failed} failed), {result.relevant} relevant, {result.stories} stories")
        click.echo(f"digest:  {result.digest_html}")
        click.echo(f"         {result.digest_md}")
        click.echo(f"feeds:   {used.digests / 'feeds'} ({result.feeds} files; list in {used.digests / 'feeds.opml'})")
        click.echo(f"database: {used.db}")
        if keep_serving:
            from mediawatch.web.app import serve as run_server

            click.echo(f"web:     http://{host}:{port}/ (Ctrl-C stops; the sample outlets stay up meanwhile)")
            run_server(used, host, port)


# ---------------------------------------------------------------------------------------------- db


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@_common
def db_upgrade(db: str | None, sources: Path | None, verbose: int) -> None:
    """Create or upgrade the database schema to the newest migration."""
    from mediawatch.store import display_url, open_store

    settings = _settings(db, sources, verbose)
    try:
        store = open_store(settings.db)
        click.echo(f"{display_url(settings.db)}: schema at revision {store.migrate()}")
    except Exception as exc:
        _fail(exc)


from mediawatch.probe_cli import add, probe  # noqa: E402  (light: imports nothing heavy at module level)

main.add_command(probe)
sources.add_command(add)

if __name__ == "__main__":  # pragma: no cover
    main()
