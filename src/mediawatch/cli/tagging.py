"""``mediawatch classify``, ``evaluate`` and ``label``: tagging items, scoring the tagger, editors' corrections."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mediawatch.cli.common import common_options, fail, load_settings, open_app

if TYPE_CHECKING:
    from mediawatch.settings import Settings


# ---------------------------------------------------------------------------------------------- tagging


@click.command()
@click.option("--all", "everything", is_flag=True, help="Re-tag every stored item, not only those lacking current tags.")
@click.option("--input", "input_file", metavar="FILE.jsonl", help="Tag the JSON Lines in FILE ('-' for stdin); no database.")
@click.option("--output", "output_file", metavar="FILE.jsonl",
              help="With --input: where to write results ('-' or omitted: standard output).")
@common_options
def classify(everything: bool, input_file: str | None, output_file: str | None, db: str | None,
             sources: Path | None, verbose: int) -> None:
    """Tag items: relevant/relevance, countries, topics and why.

    Without --input: stored items lacking tags from the current model and taxonomy (or all with --all).
    Editors' corrections are kept apart and always win over these tags.

    With --input: one JSON object per line (UTF-8, a BOM and CRLF endings accepted, blank lines skipped)
    with 'id' (non-empty string or integer, unique in the file), 'title' and 'text' (strings, not both
    empty) and optionally 'lang' and 'url' (strings). A long text is read in parts of ~600 characters (at
    most 6; the rest is not read), so whole articles are fine. Any bad line stops the run before tagging, with every bad line
    named as FILE:LINE (exit 2). Each output line (same order as the input) has exactly id, relevant,
    relevance, countries, topics and why; standard output carries nothing else (logs go to stderr).
    """
    if input_file is None and output_file is not None:
        raise click.UsageError("--output needs --input (stored items are tagged in the database)")
    if input_file is not None and everything:
        raise click.UsageError("--all tags stored items; it cannot be combined with --input")
    settings = load_settings(db, sources, verbose)
    try:
        if input_file is not None:
            _classify_file(settings, input_file, output_file or "-")
            return
        from mediawatch.enrich import run_classify
        from mediawatch.pipeline import refresh_feeds
        from mediawatch.report import progress_bar

        app = open_app(settings, sync=False)
        with progress_bar("tagging") as progress:
            report = run_classify(app, everything=everything, progress=progress)
        click.echo(report.summary())
        feeds, _ = refresh_feeds(app, report.item_ids)  # attachés' feed files follow the new tags
        if feeds:
            from mediawatch.wording import count

            click.echo(f"subscriber feeds: {count(len(feeds), 'file')} updated in {settings.digests / 'feeds'}")
    except Exception as exc:
        fail(exc)


def _classify_file(settings: Settings, input_file: str, output_file: str) -> None:
    import json

    from mediawatch.enrich import build_tagger, read_tag_inputs, tag_lines
    from mediawatch.errors import ConfigError
    from mediawatch.files import write_atomic

    where = "<stdin>" if input_file == "-" else input_file
    try:
        data = sys.stdin.buffer.read() if input_file == "-" else Path(input_file).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read ({exc.strerror})") from exc
    inputs = read_tag_inputs(data, where)  # every bad line named before the model loads
    if output_file != "-":
        _check_output(Path(output_file))  # so is an output that cannot be written: not after minutes of tagging
    results = tag_lines(build_tagger(settings, _cached_embedder(settings)), inputs) if inputs else []
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


def _cached_embedder(settings: Settings):  # type: ignore[no-untyped-def]
    """The model, with the vectors of texts tagged without a database kept in the cache folder: running the
    same file again embeds nothing (a database's own vectors are kept in it)."""
    from mediawatch.classify.cache import CachingEmbedder
    from mediawatch.classify.vectorfile import vector_file
    from mediawatch.enrich import build_embedder

    return CachingEmbedder(build_embedder(settings), vector_file(settings.cache_dir))


def _check_output(path: Path) -> None:
    """Refuse an --output that cannot be written. The file is replaced within its folder (a link's target,
    within the target's); a device or pipe (``/dev/stdout``) is written in place, whatever its folder allows."""
    from mediawatch.errors import ConfigError
    from mediawatch.files import replaced_file, writes_in_place

    if path.is_dir():
        raise ConfigError(f"--output {path}: is a folder; give a file name")
    if writes_in_place(path):
        return
    try:
        folder = replaced_file(path).parent
    except OSError as exc:
        raise ConfigError(f"--output {path}: {exc.strerror}") from exc
    if not folder.is_dir():
        raise ConfigError(f"--output {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"--output {path}: the folder {folder} is not writable")


@click.command()
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
    from mediawatch.enrich import build_tagger, load_taxonomy

    settings = load_settings(verbose=verbose)
    try:
        records = load_labeled(labeled, topics=load_taxonomy(settings).topic_ids)
        embedder = _cached_embedder(settings)
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
        fail(exc)


@click.command()
@click.argument("item_id")
@click.option("--relevant", "is_relevant", is_flag=True, help="The item is about Kazakh communities abroad.")
@click.option("--not-relevant", "not_relevant", is_flag=True, help="The item is not (takes no --country or --topic).")
@click.option("--country", "countries", multiple=True, metavar="CC", help="Country where the community lives (repeatable).")
@click.option("--topic", "topics", multiple=True, metavar="TOPIC", help="Topic (repeatable).")
@click.option("--no-country", "no_country", is_flag=True,
              help="With --relevant: the item names no country (without it, the current countries are kept).")
@click.option("--no-topic", "no_topic", is_flag=True,
              help="With --relevant: no topic (without it, the current topics are kept).")
@click.option("--withdraw", is_flag=True,
              help="Withdraw the item's correction: the model's tags apply again (alone: no other option).")
@click.option("--editor", help="Who made the correction.")
@click.option("--note", help="Why.")
@common_options
def label(item_id: str, is_relevant: bool, not_relevant: bool, countries: tuple[str, ...], topics: tuple[str, ...],
          no_country: bool, no_topic: bool, withdraw: bool, editor: str | None, note: str | None, db: str | None,
          sources: Path | None, verbose: int) -> None:
    """Store an editor's correction for ITEM_ID: it overrides the model's tags and trains the next heads.

    Exactly one of --relevant and --not-relevant; --country takes ISO 3166-1 alpha-2 codes, --topic the
    taxonomy's topics. With --relevant, the item's current countries and topics are kept unless --country or
    --no-country (--topic or --no-topic) is given, as the item page's form comes filled with them. --withdraw
    removes the item's correction instead. Exit 2 for an unknown item or an invalid correction (nothing is
    stored then).
    """
    from mediawatch.labels import active_topics, country_problems, make_label

    if withdraw:
        given = [name for name, value in (("--relevant", is_relevant), ("--not-relevant", not_relevant),
                                          ("--country", countries), ("--topic", topics), ("--no-country", no_country),
                                          ("--no-topic", no_topic), ("--editor", editor), ("--note", note)) if value]
        if given:
            raise click.UsageError(f"--withdraw takes no other option (given: {', '.join(given)})")
        _withdraw(item_id, load_settings(db, sources, verbose))
        return
    if is_relevant and not_relevant:
        raise click.UsageError("--relevant and --not-relevant contradict each other; give one")
    for flag, given, name in ((no_country, countries, "--country"), (no_topic, topics, "--topic")):
        if flag and given:
            raise click.UsageError(f"--no-{name[2:]} and {name} contradict each other; give one")
    relevant = True if is_relevant else False if not_relevant else None
    settings = load_settings(db, sources, verbose)
    try:
        app = open_app(settings, sync=False)
        current = app.store.tagged_item(item_id)
        if current is None:
            raise click.BadParameter(f"no stored item with id {item_id!r}", param_hint="ITEM_ID")
        kept = []
        known = active_topics(settings.taxonomy)
        if relevant and current.relevant:  # what a correction may hold: not an old KZ, not a topic since removed
            usable_countries = tuple(c for c in current.countries if not country_problems([c]))
            usable_topics = tuple(t for t in current.topics if t in known)
            if not countries and not no_country and usable_countries:
                countries = usable_countries
                kept.append(f"countries {' '.join(countries)}")
            if not topics and not no_topic and usable_topics:
                topics = usable_topics
                kept.append(f"topics {' '.join(topics)}")
        lab = make_label(item_id, relevant, countries, topics, editor=editor, note=note, now=app.now(),
                         known_topics=known)
        app.store.save_label(lab)
        tags = " ".join([*lab.countries, *lab.topics])
        click.echo(f"{item_id}: {'relevant' if lab.relevant else 'not relevant'}{' ' + tags if tags else ''}")
        if kept:
            click.echo(f"kept the item's current {' and '.join(kept)} (--no-country/--no-topic clear them)")
        _refresh_feeds(app, item_id, "saved")  # the correction shows in the feed files at once
    except click.ClickException:
        raise
    except Exception as exc:
        fail(exc)


def _refresh_feeds(app: Any, item_id: str, done: str) -> None:
    """The feed files after a correction was saved or withdrawn; if they cannot be written, say first that the
    correction itself is ``done``."""
    from mediawatch.models import ItemId
    from mediawatch.pipeline import refresh_feeds

    try:
        refresh_feeds(app, [ItemId(item_id)])
    except Exception:
        click.echo(f"the correction is {done}; the subscriber feeds were not updated (the service's next "
                   "rebuild, or the next `label`, updates them):", err=True)
        raise


def _withdraw(item_id: str, settings: Settings) -> None:
    """Remove ``item_id``'s correction; the next `classify` learns without it (the heads are rebuilt)."""
    try:
        app = open_app(settings, sync=False)
        if app.store.get_item(item_id) is None:
            raise click.BadParameter(f"no stored item with id {item_id!r}", param_hint="ITEM_ID")
        if not app.store.delete_label(item_id):
            raise click.BadParameter(f"item {item_id!r} has no correction to withdraw", param_hint="ITEM_ID")
        now = app.store.tagged_item(item_id)
        if now is None or now.relevant is None:
            state = "not tagged yet (run classify)"
        elif now.relevant:
            state = " ".join(["relevant", *now.countries, *now.topics])
        else:
            state = "not relevant"
        click.echo(f"{item_id}: correction withdrawn; the model's tags apply: {state} (the next classify "
                   f"rebuilds the heads without it)")
        _refresh_feeds(app, item_id, "withdrawn")
    except click.ClickException:
        raise
    except Exception as exc:
        fail(exc)
