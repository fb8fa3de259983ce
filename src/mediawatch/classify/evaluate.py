"""Scoring the tagger against labeled items (the ``dev.jsonl`` layout of the shared evaluation set).

* relevance: precision, recall and F1 of ``relevant`` over all items, and per language (gold ``lang``);
* countries: micro P/R/F1 over the gold-relevant items (an item wrongly judged irrelevant predicts no
  countries; countries predicted for a relevant item whose gold list is empty are false positives);
* topics: micro P/R/F1 and macro F1 (mean over topics with gold support) over the gold-relevant items.

:func:`cross_validate` answers another question: how well would the tagger do once editors had labeled items
like these? Each fold's items are scored by a tagger whose heads also learned from the other folds' labels,
exactly as editors' corrections are learned (``mediawatch evaluate --cv K``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from mediawatch.classify.lang import reading_lang, shared_detector
from mediawatch.classify.tagger import TagInput, TagResult
from mediawatch.classify.train import Example
from mediawatch.errors import ConfigError


class Classifier(Protocol):
    def classify(self, items: Sequence[TagInput]) -> list[TagResult]: ...


@dataclass(frozen=True, slots=True)
class LabeledItem:
    id: str
    title: str
    text: str
    lang: str
    relevant: bool
    countries: tuple[str, ...]
    topics: tuple[str, ...]
    url: str | None = None

    def as_input(self, *, with_lang: bool = True) -> TagInput:
        lang = self.lang.split("-")[0].lower() if with_lang else None  # kk-Latn -> kk, as classify reads it
        return TagInput(self.id, self.title, self.text, lang, self.url)


def load_labeled(path: Path, topics: Collection[str] | None = None) -> list[LabeledItem]:
    """Read a JSON Lines file of labeled items (id, title, text, lang, diaspora, countries, topics).

    Read as :mod:`~mediawatch.classify.jsonl` reads (UTF-8, BOM and CRLF accepted, blank lines skipped).
    ``lang`` may be missing (scored as ``und``); ``diaspora`` must be true or false, ``countries`` and
    ``topics`` lists of strings (required on a relevant item, where a missing one would turn every predicted
    country or topic into a false positive; an irrelevant item may leave them out): ISO 3166-1 alpha-2 codes (any case) and, when ``topics`` is given, that
    taxonomy's topic ids (any case). A gold label the tagger can never give would only count as its error.
    Ids are unique (a copy would be scored twice, and under ``--cv`` learned in one fold and scored in
    another), and a line has a title or a text. Every bad line is named (``FILE:LINE``) in one ConfigError;
    so is a file without any item, which has nothing to score.
    """
    from mediawatch.classify.jsonl import line_id, optional_str, raise_problems, read_json_lines
    from mediawatch.codes import is_country

    known = {t.lower() for t in topics} if topics is not None else None
    first_line: dict[str, int] = {}

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    records, problems = read_json_lines(data)
    items: list[LabeledItem] = []
    for line_no, rec in records:
        try:
            if not isinstance(rec, dict):
                raise TypeError(f"expected a JSON object, got {type(rec).__name__}")
            ident = line_id(rec.get("id"))
            if ident is None:
                raise TypeError("needs an 'id' (a non-empty string or an integer)")
            if not isinstance(rec.get("diaspora"), bool):
                raise TypeError("'diaspora' must be true or false")
            if rec["diaspora"]:  # a missing list on a relevant item would score every prediction as wrong
                absent = [key for key in ("countries", "topics") if rec.get(key) is None]
                if absent:
                    raise TypeError(f"a relevant item needs {' and '.join(repr(k) for k in absent)} "
                                    f"(a list; [] when it names none)")
            lists = {key: rec.get(key) or [] for key in ("countries", "topics")}
            for key, value in lists.items():
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise TypeError(f"'{key}' must be a list of strings")
            title, text = optional_str(rec, "title") or "", optional_str(rec, "text") or ""
            lang, url = optional_str(rec, "lang") or "und", optional_str(rec, "url")
        except TypeError as exc:
            problems.append((line_no, f"not a labeled item: {exc}"))
            continue
        countries = tuple(dict.fromkeys(c.strip().upper() for c in lists["countries"]))
        gold_topics = tuple(dict.fromkeys(t.strip().lower() for t in lists["topics"]))
        wrong = [
            *(f"country {c!r} is not an ISO 3166-1 alpha-2 code" for c in countries if not is_country(c)),
            *(f"topic {t!r} is not one of {', '.join(sorted(known))}" for t in gold_topics
              if known is not None and t not in known),
        ]
        if ident in first_line:
            wrong.append(f"duplicate id {ident!r} (first on line {first_line[ident]})")
        if not (title.strip() or text.strip()):
            wrong.append("'title' and 'text' are both empty")
        first_line.setdefault(ident, line_no)
        if wrong:
            problems.extend((line_no, w) for w in wrong)
            continue
        items.append(LabeledItem(ident, title, text, lang, rec["diaspora"], countries, gold_topics, url))
    raise_problems(problems, str(path))
    if not items:
        raise ConfigError(f"{path}: no labeled items (the file is empty)")
    return items


@dataclass(frozen=True, slots=True)
class Scores:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp + self.fp + self.fn else 1.0

    @property
    def empty(self) -> bool:
        """Nothing to score: no gold positive and none predicted (precision, recall and F1 are undefined)."""
        return self.tp + self.fp + self.fn == 0

    def as_dict(self) -> dict[str, float | None]:
        if self.empty:
            return {"precision": None, "recall": None, "f1": None, "tp": 0, "fp": 0, "fn": 0}
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


def _set_scores(pairs: Iterable[tuple[Iterable[str], Iterable[str]]]) -> Scores:
    tp = fp = fn = 0
    for predicted, gold in pairs:
        p, g = set(predicted), set(gold)
        tp += len(p & g)
        fp += len(p - g)
        fn += len(g - p)
    return Scores(tp, fp, fn)


def _binary(pairs: Iterable[tuple[bool, bool]]) -> Scores:
    tp = fp = fn = 0
    for predicted, gold in pairs:
        tp += predicted and gold
        fp += predicted and not gold
        fn += gold and not predicted
    return Scores(tp, fp, fn)


@dataclass(frozen=True)
class Report:
    n: int
    relevance: Scores
    countries: Scores
    topics: Scores
    topic_macro_f1: float | None  # None: no gold topic to score
    per_topic: Mapping[str, Scores]
    per_language: Mapping[str, tuple[int, Scores, float]]  # lang -> (items, relevance scores, accuracy)
    mistakes: Sequence[Mapping[str, object]] = field(default_factory=tuple)

    def as_dict(self, *, mistakes: bool = False) -> dict[str, object]:
        """The figures as JSON; with ``mistakes``, the items the tagger got wrong too (as ``--mistakes``)."""
        extra: dict[str, object] = {"mistakes": [dict(m) for m in self.mistakes]} if mistakes else {}
        return extra | {
            "n": self.n,
            "relevance": self.relevance.as_dict(),
            "countries": self.countries.as_dict(),
            "topics_micro": self.topics.as_dict(),
            "topics_macro_f1": None if self.topic_macro_f1 is None else round(self.topic_macro_f1, 4),
            "per_topic": {t: s.as_dict() for t, s in self.per_topic.items()},
            "per_language": {
                lang: {"n": n, "accuracy": round(acc, 4), **s.as_dict()}
                for lang, (n, s, acc) in self.per_language.items()
            },
        }


def score(records: Sequence[LabeledItem], results: Sequence[TagResult]) -> Report:
    """Compare results with the gold labels (matched by position; ids must agree)."""
    if len(records) != len(results) or any(r.id != t.id for r, t in zip(records, results, strict=True)):
        raise ValueError("results do not match the labeled records one to one")
    pairs = list(zip(records, results, strict=True))
    relevance = _binary((t.relevant, r.relevant) for r, t in pairs)
    gold_relevant = [(r, t) for r, t in pairs if r.relevant]
    countries = _set_scores((t.countries, r.countries) for r, t in gold_relevant)
    topics = _set_scores((t.topics, r.topics) for r, t in gold_relevant)
    topic_ids = sorted(
        {x for r, _ in gold_relevant for x in r.topics} | {x for _, t in gold_relevant for x in t.topics}
    )
    per_topic = {
        topic: _binary((topic in t.topics, topic in r.topics) for r, t in gold_relevant)
        for topic in topic_ids
    }
    supported = [s.f1 for topic, s in per_topic.items() if s.tp + s.fn > 0]
    per_language: dict[str, tuple[int, Scores, float]] = {}
    for lang in sorted({_language(r.lang) for r in records}):  # kk, KK, kk-Arab and kk-Latn are one language
        subset = [(r, t) for r, t in pairs if _language(r.lang) == lang]
        accuracy = sum(r.relevant == t.relevant for r, t in subset) / len(subset)
        per_language[lang] = (len(subset), _binary((t.relevant, r.relevant) for r, t in subset), accuracy)
    mistakes = [
        {
            "id": r.id,
            "lang": r.lang,
            "title": r.title[:100],
            "gold": {"relevant": r.relevant, "countries": list(r.countries), "topics": list(r.topics)},
            "predicted": {
                "relevant": t.relevant,
                "relevance": t.relevance,
                "countries": list(t.countries),
                "topics": list(t.topics),
            },
        }
        for r, t in pairs
        if r.relevant != t.relevant
        or (r.relevant and (set(r.countries) != set(t.countries) or set(r.topics) != set(t.topics)))
    ]
    return Report(
        len(records),
        relevance,
        countries,
        topics,
        sum(supported) / len(supported) if supported else None,
        per_topic,
        per_language,
        mistakes,
    )


def _language(tag: str) -> str:
    return tag.split("-")[0].strip().lower() or "und"


def evaluate(tagger: Classifier, records: Sequence[LabeledItem], *, with_lang: bool = True) -> Report:
    """Run ``tagger`` on the labeled records and score it."""
    results = tagger.classify([r.as_input(with_lang=with_lang) for r in records])
    return score(records, results)


def format_report(report: Report, *, mistakes: bool = False) -> str:
    """A plain-text table for the CLI."""

    def row(name: str, s: Scores) -> str:
        counts = f"(tp {s.tp}, fp {s.fp}, fn {s.fn})"
        if s.empty:  # no gold label and none predicted
            return f"  {name:<22} P   n/a  R   n/a  F1   n/a   {counts}"
        return f"  {name:<22} P {s.precision:5.3f}  R {s.recall:5.3f}  F1 {s.f1:5.3f}   {counts}"

    lines = [
        f"{report.n} items",
        row("relevance", report.relevance),
        row("countries (micro)", report.countries),
        row("topics (micro)", report.topics),
        f"  {'topics (macro F1)':<22} " + ("  n/a" if report.topic_macro_f1 is None else f"{report.topic_macro_f1:5.3f}"),
        "",
        "per topic:",
    ]
    lines += [row(topic, s) for topic, s in report.per_topic.items()]
    lines += ["", "relevance per language:"]
    for lang, (n, s, acc) in report.per_language.items():
        f1 = "  n/a" if s.empty else f"{s.f1:5.3f}"  # no relevant item there, and none predicted
        lines.append(f"  {lang:<4} n={n:<4} F1 {f1}  accuracy {acc:5.3f}  (tp {s.tp}, fp {s.fp}, fn {s.fn})")
    if mistakes and report.mistakes:
        lines += ["", "mistakes:"]
        for m in report.mistakes:
            lines.append(f"  {m['id']} [{m['lang']}] {m['title']}")
            lines.append(f"      gold {m['gold']}")
            lines.append(f"      pred {m['predicted']}")
    return "\n".join(lines)


def as_example(record: LabeledItem) -> Example:
    """A labeled item as a training example, the way an editor's correction becomes one (read in the language
    the tagger reads the item in: see :func:`~mediawatch.classify.lang.reading_lang`)."""
    lang = record.lang.split("-")[0]
    return Example(
        record.title,
        record.text,
        reading_lang(record.title, record.text, lang, shared_detector()) or "und",
        record.relevant,
        record.countries if record.relevant else (),
        record.topics if record.relevant else (),
        f"labeled:{record.id}",
    )


def folds_of(records: Sequence[LabeledItem], k: int) -> list[list[int]]:
    """``k`` folds of record indexes, relevant and not-relevant items spread evenly, in an order fixed by
    the ids (the same file always gives the same folds)."""
    if not 2 <= k <= len(records):
        raise ConfigError(f"--cv needs 2 to {len(records)} folds, got {k}")
    folds: list[list[int]] = [[] for _ in range(k)]
    position = 0
    for relevant in (True, False):
        group = [n for n, r in enumerate(records) if r.relevant is relevant]
        group.sort(key=lambda n: hashlib.sha256(records[n].id.encode()).hexdigest())
        for n in group:
            folds[position % k].append(n)
            position += 1
    return folds


def cross_validate(
    build: Callable[[Sequence[Example]], Classifier],
    records: Sequence[LabeledItem],
    k: int = 5,
    *,
    with_lang: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Score each fold with ``build(examples of the other folds)`` and pool the results into one report."""
    results: dict[int, TagResult] = {}
    folds = folds_of(records, k)
    for number, held_out in enumerate(folds, 1):
        kept = set(held_out)
        tagger = build([as_example(r) for n, r in enumerate(records) if n not in kept])
        found = tagger.classify([records[n].as_input(with_lang=with_lang) for n in held_out])
        results.update(zip(held_out, found, strict=True))
        if progress is not None:
            progress(number, k)
    return score(records, [results[n] for n in range(len(records))])
