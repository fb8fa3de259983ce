"""``mediawatch probe URL`` and ``mediawatch sources add URL``: click wrappers over :mod:`mediawatch.probe`
and :mod:`mediawatch.suggest`.

Registered by :mod:`mediawatch.cli` as ``main.add_command(probe)`` and ``sources.add_command(add)``. Imports stay light at
module level (``mediawatch --help`` must not import httpx); each command imports what it needs.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from mediawatch.cli.common import EXIT_CONFIG, load_settings
from mediawatch.wording import count

if TYPE_CHECKING:
    from mediawatch.probe_report import FeedCheck, ProbeReport
    from mediawatch.settings import Settings

SAMPLE_ARTICLES = 15
SAMPLE_PER_REASON = 3
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def _safe(text: object) -> str:
    """Text from the probed site, with terminal control characters removed (no escape sequences reach a tty)."""
    return _CONTROL.sub("", str(text))


def _check_selector(selector: str | None) -> None:
    if selector is None:
        return
    import soupsieve

    try:
        soupsieve.compile(selector)
    except Exception as exc:  # SelectorSyntaxError and friends
        raise click.BadParameter(f"{selector!r} is not a valid CSS selector: {str(exc).splitlines()[0]}",
                                 param_hint="--selector") from None


def _check_url(url: str) -> None:
    """A URL argument holding bytes that are not UTF-8 (the shell passes them as surrogates) is refused."""
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:
        shown = url.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
        raise click.BadParameter(f"{shown!r} holds bytes that are not UTF-8; percent-encode them (%FF)",
                                 param_hint="URL") from None


def _run_probe(url: str, settings: Settings, selector: str | None, *, as_json: bool = False) -> ProbeReport:
    """The probe, or the collector's reason on standard error and exit 1 (with ``as_json``, also one JSON
    object on standard output, as a report would be)."""
    import asyncio

    from mediawatch.errors import SourceError
    from mediawatch.probe import probe_url

    try:
        return asyncio.run(probe_url(url, settings, selector=selector))
    except SourceError as exc:
        if as_json:
            _echo_json_error(url, exc.reason, exc.url)
        from mediawatch.normalize import redact_credentials, without_credentials

        where = f" ({_safe(without_credentials(exc.url))})" if exc.url else ""
        click.echo(f"error: {_safe(redact_credentials(exc.reason))}{where}", err=True)
        sys.exit(1)


def _echo_json_error(url: str, error: str, failed_url: str | None = None) -> None:
    """What ``probe --json`` prints when there is no report: the address given, ``kind`` null, the reason in
    ``error`` and the address it is about (``failed_url``: a redirect's target, the robots.txt that refused)."""
    from mediawatch.normalize import redact_credentials, without_credentials

    # no user:password in what is printed (the stanza, which needs it, is not printed on failure)
    record = {"url": without_credentials(url), "kind": None, "error": redact_credentials(error),
              "failed_url": without_credentials(failed_url or url)}
    click.echo(json.dumps(record, ensure_ascii=False, indent=2))


# ---------------------------------------------------------------------------------------------- probe


@click.command()
@click.argument("url")
@click.option("--selector", metavar="CSS", help="CSS selector for article links (instead of the automatic rule).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the report.")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def probe(url: str, selector: str | None, as_json: bool, verbose: int) -> None:
    """Fetch URL as `collect` would and say what it is: a feed, a YouTube channel or playlist, or a news page
    (its feeds, the article links taken and the links rejected, with reasons). Ends with a sources.yaml stanza.

    Errors (HTTP 404, blocked by robots.txt, timeout) print the collector's reason and exit 1 (with --json,
    also an object with "error"). A YouTube channel or playlist whose feed cannot be read is reported in full,
    then exits 1 too.
    """

    try:
        _check_url(url)
        _check_selector(selector)
    except click.BadParameter as exc:
        if as_json:  # a usage error (exit 2) still gives a script its one object
            shown = url.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            _echo_json_error(shown, f"{exc.param_hint}: {exc.message}")
        raise
    settings = load_settings(verbose=verbose)
    report = _run_probe(url, settings, selector, as_json=as_json)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_report(report))
    if report.error:
        click.echo(f"error: {_safe(report.error)}", err=True)
        sys.exit(1)


def render_report(report: ProbeReport) -> str:
    """The readable report, ending with the suggested stanza."""
    from mediawatch.normalize import without_credentials
    from mediawatch.suggest import stanza_yaml

    # addresses without their user:password, except in the stanza (the sources file needs it to collect)
    out: list[str] = [f"URL:       {_safe(without_credentials(report.url))}"]
    if report.final_url != report.url:
        out.append(f"final URL: {_safe(without_credentials(report.final_url))}")
    out.append(f"kind:      {report.kind}")
    out.append(f"title:     {_safe(report.title or '(none)')}")
    out.append(f"language:  {report.language or '(unknown)'}")
    if report.youtube:
        yt = report.youtube
        if yt.handle:
            out.append(f"handle:    {_safe(yt.handle)}")
        if yt.channel_id:
            out.append(f"channel:   {yt.channel_id}")
        if yt.playlist_id:
            out.append(f"playlist:  {_safe(yt.playlist_id)}")
        out.append(f"feed:      {_safe(yt.feed_url)}")
    if report.feed:
        out.append("")
        out.append("feed check:")
        out.append("  " + _feed_line(report.feed))
    if report.kind == "page":
        out.extend(_page_lines(report))
    if report.notes:
        out.append("")
        out.extend(f"note: {_safe(n)}" for n in report.notes)
    out.append("")
    out.append("suggested sources.yaml stanza (under `sources:`):")
    out.append(stanza_yaml(report.suggested, dash_column=2).rstrip("\n"))
    return "\n".join(out)


def _feed_line(check: FeedCheck) -> str:
    if not check.ok:
        return f"--  {_safe(check.url)}  [{check.origin}]  {_safe(check.reason or 'not a feed')}"
    facts = [check.format or "feed", count(check.entries, "entry", "entries")]
    if check.newest:
        facts.append(f"newest {check.newest.isoformat()}")
    if check.language:
        facts.append(f"language {_safe(check.language)}")
    title = f"  {_safe(check.title)!r}" if check.title else ""
    return f"ok  {_safe(check.url)}  [{check.origin}]  ({', '.join(facts)}){title}"


def _page_lines(report: ProbeReport) -> list[str]:
    out = ["", f"feeds declared by the page: {len(report.declared_feeds)}"]
    out.extend(f"  {_safe(u)}" for u in report.declared_feeds)
    if report.feed_checks:
        out.append("feeds tried:")
        out.extend("  " + _feed_line(c) for c in report.feed_checks)
    how = f"selector {report.selector!r}" if report.selector else "the automatic rule"
    out.append("")
    out.append(f"article links taken by {_safe(how)}: {len(report.articles)}")
    out.extend(f"  {_safe(u)}" for u in report.articles[:SAMPLE_ARTICLES])
    if len(report.articles) > SAMPLE_ARTICLES:
        out.append(f"  … and {len(report.articles) - SAMPLE_ARTICLES} more")
    counts = report.rejected_counts()
    summary = ", ".join(f"{reason} {n}" for reason, n in counts.items())
    out.append(f"links rejected: {len(report.rejected)}" + (f" ({summary})" if summary else ""))
    shown: dict[str, int] = {}
    for url, reason in report.rejected:
        if shown.get(reason, 0) < SAMPLE_PER_REASON:
            shown[reason] = shown.get(reason, 0) + 1
            out.append(f"  {reason:<18} {_safe(url)}")
    return out


# ---------------------------------------------------------------------------------------------- sources add


@click.command("add")
@click.argument("url")
@click.option("--id", "source_id", metavar="ID", help="Id of the new source (refused if it is taken).")
@click.option("--selector", metavar="CSS", help="CSS selector for article links (makes it a page source).")
@click.option("--sources", "sources", type=click.Path(path_type=Path),
              help="Sources file (default sources.yaml; env MEDIAWATCH_SOURCES).")
@click.option("--create", is_flag=True, help="Start a new sources file when the file does not exist.")
@click.option("--db", metavar="URL",
              help="Database whose notes (resolved YouTube handles, moved feeds) find duplicates (env MEDIAWATCH_DB).")
@click.option("-v", "--verbose", count=True, help="More log output.")
@click.pass_context
def add(ctx: click.Context, url: str, source_id: str | None, selector: str | None, sources: Path | None,
        create: bool, db: str | None, verbose: int) -> None:
    """Probe URL and append the suggested stanza to the sources file, keeping its comments and layout.

    Nothing is written when the result would not validate (FILE:LINE:COL problems, exit 2), when a source of
    the file already collects the same feed (exit 2, naming it), when the sources file does not exist and
    --create was not given (exit 2), when --selector was given for a feed (exit 2: a selector is for page
    sources) or when the address cannot be read (exit 1). A taken id gets a numeric suffix unless --id was
    given.
    """
    from mediawatch.errors import ConfigError
    from mediawatch.files import folder_lock
    from mediawatch.sourcefile import read_sourcefile_text
    from mediawatch.suggest import AlreadyListed, add_stanza, existing_ids, write_atomically

    _check_url(url)
    _check_selector(selector)
    group: dict[str, Any] = ctx.obj if isinstance(ctx.obj, dict) else {}
    settings = load_settings(db=db or group.get("db"), sources=sources or group.get("sources"),
                             verbose=verbose or group.get("verbose") or 0)
    path = settings.sources
    _require_file(path, create)  # a mistyped --sources is not a new file
    try:
        text = read_sourcefile_text(path) if path.exists() else ""
        if text.strip():
            existing_ids(text, path)  # a broken file is reported before anything is fetched
    except ConfigError as exc:
        _problems(exc, f"{path} has problems already; fix them first")
    report = _run_probe(url, settings, selector)
    if report.error:
        click.echo(f"error: {_safe(report.error)}; nothing written to {path}", err=True)
        sys.exit(1)
    stanza = dict(report.suggested)
    if selector is not None and stanza.get("kind") != "page":
        what = "a YouTube channel or playlist" if report.kind == "youtube" else "a feed"
        click.echo(f"--selector: {_safe(url)} is {what} ({stanza.get('kind')}); a selector picks article links on "
                   f"a listing page and only a page source takes it: drop --selector to add the feed, or give "
                   f"the listing page's address; nothing written to {path}", err=True)
        sys.exit(EXIT_CONFIG)
    if stanza.get("kind") == "page" and not report.articles:  # its first collection would fail with this
        how = f"with selector {selector!r}" if selector else "by the automatic rule"
        click.echo(f"error: no article links found {how} on {_safe(report.final_url or url)}: a page source "
                   f"needs its listing's article links (see `mediawatch probe` for the links it rejected, then try "
                   f"--selector); nothing written to {path}", err=True)
        sys.exit(1)
    if source_id is not None:
        stanza["id"] = source_id
    # the address given, when the stanza collects what it led to (a feed URL that redirected)
    also = (report.url,) if stanza.get("url") == report.final_url else ()
    remembered = _remembered_notes(settings.db)
    # The probe can take many seconds: the file is read again under a lock, so that a source another `sources
    # add` (or an editor) wrote meanwhile is kept, and two additions never take the same id.
    try:
        with folder_lock(path.parent):
            _require_file(path, create)  # not removed meanwhile
            text = read_sourcefile_text(path) if path.exists() else ""
            addition = add_stanza(text, stanza, path, keep_id=source_id is not None, also=also,
                                  handle=report.youtube.handle if report.youtube else None, remembered=remembered)
            write_atomically(path, addition.text)
    except AlreadyListed as exc:
        _problems(exc, f"nothing written to {path}: source {exc.source_id!r} already collects that feed")
    except ConfigError as exc:
        _problems(exc, f"nothing written to {path}: the new stanza would not validate")
    except OSError as exc:
        click.echo(f"{path}: cannot write: {exc.strerror or exc}; nothing changed", err=True)
        sys.exit(1)
    click.echo(addition.item_yaml.rstrip("\n"))
    click.echo(f"added source {addition.stanza['id']!r} to {path}")


def _require_file(path: Path, create: bool) -> None:
    """Exit 2 when the sources file does not exist and the operator did not ask for a new one."""
    if create or path.exists():
        return
    folder = "" if path.parent.is_dir() else f" (nor does its folder {path.parent})"
    click.echo(f"{path}: file not found{folder}; nothing written (give --create to start a new sources file "
               f"there)", err=True)
    sys.exit(EXIT_CONFIG)


def _remembered_notes(db: str) -> dict[str, dict[str, str]]:
    """Source id -> its notes in the database (the channel id a handle resolved to, the address a url moved to),
    when there is a database and it can be read: they only widen the duplicate check, so a missing or locked
    database is skipped."""
    from sqlalchemy.exc import SQLAlchemyError

    from mediawatch.errors import ConfigError
    from mediawatch.store import open_store

    try:
        store = open_store(db, migrate=False, existing=True)
    except (ConfigError, SQLAlchemyError):
        return {}
    try:
        states = store.source_states(store.source_ids())
    except SQLAlchemyError:
        return {}
    finally:
        store.close()
    return {sid: dict(state.notes) for sid, state in states.items() if state.notes}


def _problems(exc: Exception, message: str) -> NoReturn:
    for line in getattr(exc, "problems", [str(exc)]):
        click.echo(_safe(line), err=True)
    click.echo(message, err=True)
    sys.exit(EXIT_CONFIG)
