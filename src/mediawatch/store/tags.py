"""Store methods for tagging: cached embeddings, classifications, editors' labels."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine, delete, func, or_, select

from mediawatch.models import Classification, Item, ItemId
from mediawatch.store import schema as t
from mediawatch.store.dialect import bytewise, in_lists, insert_ignore, upsert


@dataclass(frozen=True, slots=True)
class Label:
    """An editor's correction: it overrides the model's tags and becomes a training example."""

    item_id: ItemId
    relevant: bool
    countries: tuple[str, ...]
    topics: tuple[str, ...]
    editor: str | None
    note: str | None
    labeled_at: datetime


class TagStore:
    engine: Engine

    # ------------------------------------------------------------------------------------------ embeddings
    def get_embeddings(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        with self.engine.connect() as conn:
            for i in range(0, len(unique), 500):
                q = select(t.embedding.c.content_hash, t.embedding.c.vector).where(
                    t.embedding.c.model == model, t.embedding.c.content_hash.in_(unique[i : i + 500])
                )
                for h, blob in conn.execute(q):
                    found[h] = np.frombuffer(blob, dtype="<f4").copy()
        return found

    def put_embeddings(self, model: str, vectors: Mapping[str, np.ndarray]) -> None:
        with self.engine.begin() as conn:
            for h, vec in vectors.items():
                arr = np.asarray(vec, dtype="<f4")
                conn.execute(
                    insert_ignore(
                        conn,
                        t.embedding,
                        {"model": model, "content_hash": h, "dim": int(arr.shape[0]), "vector": arr.tobytes()},
                        ["model", "content_hash"],
                    )
                )

    # ------------------------------------------------------------------------------------------ classifications
    def items_to_classify(self, model: str, taxonomy_hash: str, *, everything: bool = False) -> list[ItemId]:
        """Ids of the items without a classification from this model and taxonomy (or of all items, oldest
        first): first those never tagged, oldest first, then those tagged by other heads, newest first. Ids
        only: a re-tag of the whole archive (every editor correction retrains the heads) must not hold every
        item's text at once, and the caller loads each batch with :meth:`items_by_id`."""
        order = (t.item.c.published, bytewise(t.item.c.id))
        with self.engine.connect() as conn:
            if everything:
                return [ItemId(i) for i in conn.execute(select(t.item.c.id).order_by(*order)).scalars()]
            never = select(t.item.c.id).where(_never_tagged())
            stale = (
                select(t.item.c.id)
                .join(t.classification, t.classification.c.item_id == t.item.c.id)
                .where(or_(t.classification.c.model != model, t.classification.c.taxonomy_hash != taxonomy_hash))
            )
            first = conn.execute(never.order_by(*order)).scalars().all()
            then = conn.execute(stale.order_by(t.item.c.published.desc(), bytewise(t.item.c.id).desc())).scalars()
            return [ItemId(i) for i in (*first, *then)]

    def count_never_tagged(self) -> int:
        """How many stored items have no tags at all (what waits when the model cannot be loaded)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.item).where(_never_tagged())).scalar_one())

    def items_by_id(self, item_ids: Sequence[str]) -> list[Item]:
        """The stored items with these ids, in the order given (ids not stored are left out)."""
        from mediawatch.store import _row_item

        found: dict[str, Item] = {}
        with self.engine.connect() as conn:
            for chunk in in_lists(item_ids):
                for row in conn.execute(select(t.item).where(t.item.c.id.in_(chunk))):
                    item = _row_item(row)
                    found[item.id] = item
        return [found[i] for i in item_ids if i in found]

    def save_classifications(self, results: Iterable[Classification]) -> int:
        results = list(results)
        n = 0
        with self.engine.begin() as conn:
            for c in results:
                row = {
                    "item_id": c.item_id,
                    "relevant": c.relevant,
                    "relevance": float(c.relevance),
                    "countries": " ".join(c.countries),
                    "topics": " ".join(c.topics),
                    "why_json": json.dumps(c.why, ensure_ascii=False, sort_keys=True, default=_json_default),
                    "model": c.model,
                    "taxonomy_hash": c.taxonomy_hash,
                    "classified_at": c.classified_at,
                }
                upsert(conn, t.classification, row, ["item_id"])
                n += 1
            # the tag table mirrors the effective tags (label first) for feed and page queries
        self._refresh_tags([c.item_id for c in results])
        return n

    def _refresh_tags(self, item_ids: Sequence[str] | None) -> None:
        """Rewrite the tag rows of these items (all when None), 500 ids per statement: PostgreSQL takes at most
        65535 parameters in one, and callers pass any number of ids."""
        with self.engine.begin() as conn:
            q_cls = select(t.classification.c.item_id, t.classification.c.relevant, t.classification.c.countries,
                           t.classification.c.topics)
            q_lab = select(t.label.c.item_id, t.label.c.relevant, t.label.c.countries, t.label.c.topics)
            effective: dict[str, Any] = {}
            if item_ids is None:
                conn.execute(delete(t.tag))
                effective.update({r.item_id: r for r in conn.execute(q_cls)})
                effective.update({r.item_id: r for r in conn.execute(q_lab)})
            else:
                ids = list(dict.fromkeys(item_ids))
                for i in range(0, len(ids), 500):
                    chunk = ids[i : i + 500]
                    conn.execute(delete(t.tag).where(t.tag.c.item_id.in_(chunk)))
                    for q in (q_cls.where(t.classification.c.item_id.in_(chunk)),
                              q_lab.where(t.label.c.item_id.in_(chunk))):  # the label, read second, wins
                        effective.update({r.item_id: r for r in conn.execute(q)})
            rows = []
            for item_id, r in effective.items():
                if not r.relevant:
                    continue
                rows.append({"item_id": item_id, "axis": "relevant", "value": "yes"})
                rows += [{"item_id": item_id, "axis": "country", "value": v} for v in (r.countries or "").split()]
                rows += [{"item_id": item_id, "axis": "topic", "value": v} for v in (r.topics or "").split()]
            if rows:
                conn.execute(t.tag.insert(), rows)

    def classification(self, item_id: str) -> Classification | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(t.classification).where(t.classification.c.item_id == item_id)).first()
        if r is None:
            return None
        return Classification(
            item_id=ItemId(r.item_id), relevant=bool(r.relevant), relevance=float(r.relevance),
            countries=tuple(r.countries.split()), topics=tuple(r.topics.split()), why=json.loads(r.why_json),
            model=r.model, taxonomy_hash=r.taxonomy_hash, classified_at=r.classified_at,
        )

    # ------------------------------------------------------------------------------------------ labels
    def save_label(self, label: Label) -> None:
        row = {
            "item_id": label.item_id,
            "relevant": label.relevant,
            "countries": " ".join(label.countries),
            "topics": " ".join(label.topics),
            "editor": label.editor,
            "note": label.note,
            "labeled_at": label.labeled_at,
        }
        with self.engine.begin() as conn:
            upsert(conn, t.label, row, ["item_id"])
        self._refresh_tags([label.item_id])

    def delete_label(self, item_id: str) -> bool:
        """Withdraw an editor's correction: the model's tags apply again. False when the item had none."""
        with self.engine.begin() as conn:
            gone = conn.execute(delete(t.label).where(t.label.c.item_id == item_id)).rowcount
        self._refresh_tags([item_id])
        return bool(gone)

    def labeled_items(self) -> list[tuple[Item, Label]]:
        """Every editor correction with its item: training examples for the next head rebuild."""
        from mediawatch.store import _row_item

        q = (
            select(t.item, t.label)
            .join(t.label, t.label.c.item_id == t.item.c.id)
            .order_by(t.label.c.labeled_at, bytewise(t.label.c.item_id))  # ties: by id, on every backend
        )
        out = []
        with self.engine.connect() as conn:
            for r in conn.execute(q):
                m = r._mapping
                out.append((_row_item(r), Label(
                    item_id=ItemId(m["item_id"]), relevant=bool(m[t.label.c.relevant]),
                    countries=tuple((m[t.label.c.countries] or "").split()),
                    topics=tuple((m[t.label.c.topics] or "").split()),
                    editor=m["editor"], note=m["note"], labeled_at=m["labeled_at"],
                )))
        return out


def _never_tagged() -> Any:
    return ~select(t.classification.c.item_id).where(t.classification.c.item_id == t.item.c.id).exists()


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)
