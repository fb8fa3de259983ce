"""``mediawatch digest``, ``run``, ``serve`` and ``demo``: the weekly digest, the service, the web pages, the offline demo."""

from __future__ import annotations

from pathlib import Path

import click

from mediawatch.cli.common import BASE_URL_HELP, common_options, fail, load_settings, open_app

# ---------------------------------------------------------------------------------------------- digest


@click.command()
@click.option("--week", metavar="YYYY-Www",
              help="ISO week to digest, Monday to Monday in MEDIAWATCH_DIGEST_TIMEZONE "
                   "(default: the last complete one).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Output folder (default: digests/; env MEDIAWATCH_DIGESTS).")
@common_options
def digest(week: str | None, out_dir: Path | None, db: str | None, sources: Path | None, verbose: int) -> None:
    """Write the weekly digest for editors: OUT/YYYY-Www.md and OUT/YYYY-Www.html (with charts)."""
    from mediawatch.app import system_clock
    from mediawatch.digest.run import TREND_WEEKS
    from mediawatch.digest.week import IsoWeek
    from mediawatch.pipeline import run_digest

    settings = load_settings(db, sources, verbose)
    try:
        iso = IsoWeek.parse(week, settings.digest_timezone) if week else None
        if iso is not None:
            iso.require_history(TREND_WEEKS - 1)  # 0001-W01 has no previous week nor a trend
            iso.require_started(system_clock())  # a week not begun yet has nothing to digest
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from None
    try:
        app = open_app(settings, sync=False)
        files = run_digest(app, iso, out_dir or settings.digests)
        click.echo(str(files.md))
        click.echo(str(files.html))
    except Exception as exc:
        fail(exc)


# ---------------------------------------------------------------------------------------------- run


@click.command()
@click.option("--serve", "with_web", is_flag=True, help="Also serve the web pages, feeds and /metrics from this process.")
@click.option("--host", default="127.0.0.1", show_default=True, help="With --serve: address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="With --serve: port.")
@click.option("--base-url", "base_url", metavar="URL", help=BASE_URL_HELP)
@common_options
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

    settings = load_settings(db, sources, verbose, base_url=base_url)
    logging.getLogger("mediawatch.service").setLevel(min(logging.INFO, logging.getLogger().level))
    try:
        metrics = foreground = None
        if with_web:
            from mediawatch.web.app import listen, listening_url
            from mediawatch.web.app import serve as run_server
            from mediawatch.web.metrics import Metrics

            sock = listen(host, port)  # a port in use stops the service before it starts
            metrics = Metrics()

            def foreground() -> None:
                click.echo(f"serving on {listening_url(sock)} (Ctrl-C stops)", err=True)
                run_server(settings, host, port, metrics=metrics, sock=sock)
        app = open_app(settings)
        embedder = build_embedder(settings)  # loaded on first use, then kept for every tick

        service = Service(
            app,
            tick=lambda a, stop: run_tick(a, embedder=embedder, stop=stop),  # type: ignore[return-value]
            digest=lambda a, now: run_digest(a, None, settings.digests),
            metrics=metrics,
        )
        service.run(foreground)
    except Exception as exc:
        fail(exc)


# ---------------------------------------------------------------------------------------------- serve


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--base-url", "base_url", metavar="URL", help=BASE_URL_HELP)
@common_options
def serve(host: str, port: int, base_url: str | None, db: str | None, sources: Path | None,
          verbose: int) -> None:
    """Web pages, subscriber feeds, /healthz and /metrics (read-only; corrections need the editor token)."""
    from mediawatch.store import open_store
    from mediawatch.web.app import listen, listening_url
    from mediawatch.web.app import serve as run_server

    settings = load_settings(db, sources, verbose, base_url=base_url)
    try:
        sock = listen(host, port)
        open_store(settings.db).close()  # create or upgrade the schema before the first request
        click.echo(f"serving on {listening_url(sock)} (Ctrl-C stops)", err=True)
        run_server(settings, host, port, sock=sock)
    except Exception as exc:
        fail(exc)


# ---------------------------------------------------------------------------------------------- demo


@click.command()
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

    settings = load_settings(verbose=verbose)
    with ExitStack() as site:  # with --serve the sample outlets stay up, so the pages' article links open
        try:
            sock = None
            if keep_serving:
                from mediawatch.web.app import listen

                sock = listen(host, port)  # a port in use is said before the demo's minutes of work, not after
                site.callback(sock.close)
            result, used = run_demo(folder, settings, say=lambda line: click.echo(line, err=True),
                                    keep_site=site if keep_serving else None)
        except Exception as exc:
            fail(exc)
            return
        click.echo(f"items:   {result.items} collected from {result.sources} sources "
                   f"({result.sources_failed} failed), {result.relevant} relevant, {result.stories} stories")
        click.echo(f"digest:  {result.digest_html}")
        click.echo(f"         {result.digest_md}")
        click.echo(f"feeds:   {used.digests / 'feeds'} ({result.feeds} files; list in {used.digests / 'feeds.opml'})")
        click.echo(f"database: {used.db}")
        if keep_serving:
            from mediawatch.web.app import listening_url
            from mediawatch.web.app import serve as run_server

            assert sock is not None
            click.echo(f"web:     {listening_url(sock)} (Ctrl-C stops; the sample outlets stay up meanwhile)")
            run_server(used, host, port, sock=sock)
