"""Tagging and story assignment over stored items (the second half of the pipeline).

``run_classify`` tags the items that lack tags from the current model and taxonomy, in batches: embed
(cached by content hash: nothing is embedded twice), classify, store, then place the newly tagged items into
stories. Editors' labels are training examples for the heads and override the model's tags when read.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediawatch.models import Classification, Item, ItemId

if TYPE_CHECKING:
    from mediawatch.app import App
    from mediawatch.classify.embed import Embedder
    from mediawatch.classify.tagger import Tagger, TagInput
    from mediawatch.settings import Settings
    from mediawatch.store import Store

logger = logging.getLogger(__name__)

BATCH = 1024  # items embedded and tagged per step: larger batches let sentence-transformers sort by length
# A stoppable run (the service's tick) starts small and sizes each batch from the last one's pace to take about
# BATCH_SECONDS, so a stop between batches waits seconds, not the minutes 1024 long texts take on a small CPU.
FIRST_STOPPABLE_BATCH = 32
MIN_BATCH = 8
BATCH_SECONDS = 5.0


@dataclass
class ClassifyReport:
    tagged: int = 0
    relevant: int = 0
    embedded: int = 0  # texts actually run through the model
    cached: int = 0  # texts whose vectors came from the cache
    stories: int = 0  # items placed into stories
    seconds: float = 0.0
    item_ids: list[ItemId] = field(default_factory=list)
    stopped: bool = False  # a stop was requested before every item was tagged
    left: int = 0  # items left untagged by the stop (the next run tags them)

    def summary(self) -> str:
        text = (
            f"tagged {self.tagged} items ({self.relevant} relevant by the model; editors' corrections still win); "
            f"{self.embedded} texts embedded, {self.cached} vectors from the cache (items and training examples); "
            f"{self.stories} placed in stories; {self.seconds:.1f} s"
        )
        if self.stopped:
            text += f"; stopped early: {self.left} items left untagged"
        return text


def build_embedder(settings: Settings) -> Embedder:
    from mediawatch.classify.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(settings.model, settings.cache_dir)


def build_tagger(settings: Settings, embedder: Embedder, store: Store | None = None) -> Tagger:
    """The tagger with heads trained on the packaged examples plus the editors' corrections in ``store``."""
    from mediawatch.classify.tagger import build_tagger as build

    extra = editor_examples(store) if store is not None else []
    return build(embedder, settings.cache_dir, extra, taxonomy=load_taxonomy(settings))


def load_taxonomy(settings: Settings):  # type: ignore[no-untyped-def]
    """The packaged taxonomy and gazetteer merged with the operator's override files, if set.

    Read once per process and again only when an override file changes (its size or modification time): a
    service tick asks for it every few minutes, and building it costs about half a second.
    """
    return _taxonomy(settings.taxonomy, settings.gazetteer, _stamp(settings.taxonomy), _stamp(settings.gazetteer))


@functools.lru_cache(maxsize=4)
def _taxonomy(taxonomy: Path | None, gazetteer: Path | None, *stamps: object):  # type: ignore[no-untyped-def]
    from mediawatch.classify.taxonomy import load_taxonomy as load

    return load(taxonomy, gazetteer)  # an error is raised, never cached


def _stamp(path: Path | None) -> object:
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return "missing"  # loading then raises the usual ConfigError naming the file
    return (st.st_mtime_ns, st.st_size)


def tagger_identity(settings: Settings, embedder: Embedder, store: Store) -> tuple[str, str]:
    """(model, heads key) the tagger built now would stamp on its tags, computed without training it."""
    from mediawatch.classify.train import embedder_name, heads_key, load_examples

    taxonomy = load_taxonomy(settings)
    name = embedder_name(embedder)
    key = heads_key(name, taxonomy, load_examples(taxonomy) + editor_examples(store))
    return f"{name}+heads:{key[:12]}", key


def editor_examples(store: Store) -> list[Any]:
    from mediawatch.classify.lang import reading_lang, shared_detector
    from mediawatch.classify.train import Example

    examples = []
    for item, label in store.labeled_items():
        text = item.text or item.summary
        # read in the language the tagger reads the item in (a kk source's English page is English)
        lang = reading_lang(item.title, text, _primary(item.language), shared_detector()) or "und"
        examples.append(Example(item.title, text, lang, label.relevant, label.countries if label.relevant else (),
                                label.topics if label.relevant else (), f"editor:{item.id}"))
    return examples


def tag_input(item: Item) -> TagInput:
    from mediawatch.classify.tagger import TagInput

    return TagInput(id=item.id, title=item.title, text=item.text or item.summary, lang=_primary(item.language),
                    url=item.url)


def _primary(lang: str | None) -> str:
    """``kk-arab`` -> ``kk``: the tagger works on primary language subtags (scripts are detected)."""
    return (lang or "und").split("-")[0].lower() or "und"


def run_classify(
    app: App,
    *,
    everything: bool = False,
    embedder: Embedder | None = None,
    progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
    deadline: float | None = None,
) -> ClassifyReport:
    """Tag stored items that lack tags from the current model and taxonomy (or all), then assign stories.

    Items never tagged come first, then those tagged by older heads, newest first (an editor's correction
    retrains the heads, and the whole archive then waits for its new tags); each batch is read from the store
    when its turn comes, so memory does not grow with the archive.

    With ``stop`` or ``deadline``, batches are kept short (:func:`next_batch_size`) and the run ends at the
    first batch boundary after ``stop`` is set (before loading the model if it is set already), or after
    ``deadline`` (a :func:`time.monotonic` value) has passed, one batch at least being tagged: what was
    tagged is stored and placed into stories, the rest stays untagged for the next run
    (``ClassifyReport.left``).
    """
    from mediawatch.classify.cache import CachingEmbedder

    started = time.monotonic()
    store = app.store
    cached = CachingEmbedder(embedder or build_embedder(app.settings), store)
    report = ClassifyReport()
    model, key = tagger_identity(app.settings, cached, store)
    items = store.items_to_classify(model, key, everything=everything)
    if not items:
        return report  # nothing to do: do not load the model or train heads
    if stop is not None and stop.is_set():
        return _stopped(report, len(items), started)  # not even the model is loaded
    tagger = build_tagger(app.settings, cached, store)
    if (tagger.model, tagger.heads.key) != (model, key):  # the identity is computed the tagger's way
        raise AssertionError(f"tagger identity drifted: {(tagger.model, tagger.heads.key)} != {(model, key)}")
    size = BATCH if stop is None and deadline is None else FIRST_STOPPABLE_BATCH
    start = 0
    while start < len(items):
        out_of_time = deadline is not None and start > 0 and time.monotonic() >= deadline  # one batch at least
        if (stop is not None and stop.is_set()) or out_of_time:
            report.stopped, report.left = True, len(items) - start
            break
        batch = store.items_by_id(items[start : start + size])
        start += size
        began = time.monotonic()
        results = tagger.classify([tag_input(i) for i in batch])
        now = app.now()
        store.save_classifications(
            Classification(
                item_id=ItemId(r.id), relevant=r.relevant, relevance=r.relevance, countries=r.countries,
                topics=r.topics, why=r.why, model=tagger.model, taxonomy_hash=tagger.heads.key, classified_at=now,
            )
            for r in results
        )
        report.tagged += len(results)
        report.relevant += sum(r.relevant for r in results)
        report.item_ids.extend(ItemId(i.id) for i in batch)
        if stop is not None or deadline is not None:
            size = next_batch_size(len(batch), time.monotonic() - began)
        if progress:
            progress(report.tagged, len(items))
    report.embedded, report.cached = cached.embedded, cached.cached  # tagging's own (stories reuse them)
    # stories for whatever was tagged, stop or not: their vectors come from the cache, and no later run would
    # place them (it only places the items it tags itself)
    report.stories = assign_new_stories(store, report.item_ids, cached)
    report.seconds = time.monotonic() - started
    logger.info("classify finished", extra={"fields": {"summary": report.summary()}})
    return report


def _stopped(report: ClassifyReport, left: int, started: float) -> ClassifyReport:
    report.stopped, report.left, report.seconds = True, left, time.monotonic() - started
    logger.info("classify skipped: stop requested", extra={"fields": {"left": left}})
    return report


def next_batch_size(size: int, seconds: float) -> int:
    """The next batch of a stoppable run: about :data:`BATCH_SECONDS` at the pace of the last one (``size``
    items in ``seconds``), at most twice as many (a batch of cached vectors says little about uncached ones),
    and between :data:`MIN_BATCH` and :data:`BATCH`."""
    grown = size * 2
    fit = grown if seconds <= 0 else int(size * BATCH_SECONDS / seconds)
    return max(MIN_BATCH, min(BATCH, grown, fit))


def assign_new_stories(store: Store, item_ids: Iterable[str], embedder: Embedder) -> int:
    """Place items that are in no story yet into recent stories (or new ones). Returns how many."""
    from mediawatch.stories import DEFAULT_MAX_SPAN, DEFAULT_WINDOW, assign_stories, candidate_for, story_text

    ids = store.items_without_story(list(item_ids))
    items = [it for i in ids if (it := store.get_item(i)) is not None]
    if not items:
        return 0
    items.sort(key=lambda i: (i.published, i.id))
    vectors = embedder.embed([story_text(i.title, i.summary, i.text, i.language) for i in items], kind="passage")
    opened = store.open_stories(
        items[0].published - DEFAULT_WINDOW,
        member_vectors=lambda texts: embedder.embed(list(texts), kind="passage"),
        started_after=items[0].published - DEFAULT_MAX_SPAN,
    )
    plan = assign_stories([candidate_for(i, v) for i, v in zip(items, vectors, strict=True)], opened)
    store.save_story_plan(plan)
    return len(items)


def read_tag_inputs(data: bytes, where: str) -> list[TagInput]:
    """``classify --input``: JSON Lines (``data``, named ``where`` in errors) -> checked tagger inputs.

    Each line is an object with ``id`` (a non-blank string or an integer), ``title`` and ``text`` (strings,
    at least one of them not blank) and optionally ``lang`` and ``url`` (strings or null); other keys are
    ignored. Every bad line is named (``FILE:LINE: ...``) in one ConfigError, raised before any model loads;
    a repeated id is a bad line too (results are matched to inputs by id).
    """
    from mediawatch.classify.jsonl import read_json_lines

    records, problems = read_json_lines(data)
    return parse_tag_inputs(records, where, problems)


def parse_tag_inputs(
    records: Iterable[tuple[int, object]], where: str, problems: Sequence[tuple[int, str]] = ()
) -> list[TagInput]:
    """(line number, parsed JSON) pairs -> TagInputs; a ConfigError lists every bad line (``problems``
    already found, e.g. lines that are not JSON, come first)."""
    from mediawatch.classify.jsonl import line_id, optional_str, raise_problems
    from mediawatch.classify.tagger import TagInput

    inputs: list[TagInput] = []
    problems = list(problems)
    first_line: dict[str, int] = {}
    for n, rec in records:
        if not isinstance(rec, dict):
            problems.append((n, f"expected a JSON object, got {type(rec).__name__}"))
            continue
        ident = line_id(rec.get("id"))
        if ident is None:
            problems.append((n, "needs an 'id' (a non-empty string or an integer)"))
            continue
        if ident in first_line:
            problems.append((n, f"duplicate id {ident!r} (first on line {first_line[ident]})"))
            continue
        first_line[ident] = n
        try:
            title, text = optional_str(rec, "title") or "", optional_str(rec, "text") or ""
            lang, url = optional_str(rec, "lang"), optional_str(rec, "url")
        except TypeError as exc:
            problems.append((n, str(exc)))
            continue
        if not (title.strip() or text.strip()):
            problems.append((n, "'title' and 'text' are both empty"))
            continue
        inputs.append(TagInput(id=ident, title=title, text=text, lang=_primary(lang) if lang else None, url=url))
    raise_problems(problems, where)
    return inputs


def tag_lines(tagger: Tagger, inputs: Sequence[TagInput]) -> list[dict[str, Any]]:
    """One ``classify --input`` output object per input: id, relevant, relevance, countries, topics, why."""
    out = []
    started = time.monotonic()
    for start in range(0, len(inputs), BATCH):
        for r in tagger.classify(inputs[start : start + BATCH]):
            out.append({"id": r.id, "relevant": r.relevant, "relevance": round(r.relevance, 4),
                        "countries": list(r.countries), "topics": list(r.topics), "why": r.why})
    fields: dict[str, Any] = {"lines": len(out), "relevant": sum(o["relevant"] for o in out),
                              "seconds": round(time.monotonic() - started, 2)}
    for count in ("embedded", "cached"):  # texts the model read, and those whose vectors were kept from before
        if isinstance(value := getattr(tagger.embedder, count, None), int):
            fields[count] = value
    logger.info("lines tagged", extra={"fields": fields})
    return out
