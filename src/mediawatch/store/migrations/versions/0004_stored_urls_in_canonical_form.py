"""stored item URLs in today's canonical form; no source's password in what is stored

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 06:00:00

An item's id is the hash of its canonical URL at the time it was first stored, and it never changes: feed
entry ids (``tag:`` URIs), labels, tags and stories hang on it. When the canonical form changes (escaped
unreserved characters decoded: ``/d/%31`` is ``/d/1``; a source url's ``user:password@``, which relative links
inherited, dropped), a stored item is no longer found by its URL, and the next collect would store the same
article again under a new id. So each stored URL is rewritten in the canonical form of the release that adds
this migration (ids are kept), and the store finds an item by its URL as well as by its id
(``Store.commit_source``, ``Store.known_urls``). Items already stored twice under two spellings (or two
passwords) stay two items (both now show the same URL; the oldest is the one later entries join).

Sources' stored specs, last errors and notes (warnings, ``moved_permanently``, the given-up article links) and items' media
(a thumbnail's address) lose the ``user:password@`` of the addresses they quote, as new ones are written.

This calls the package's ``canonical_url``: a later change of the canonical form adds a migration of its own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mediawatch.normalize import canonical_url, redact_credentials

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BATCH = 2_000

item = sa.table("item", sa.column("id", sa.String), sa.column("url", sa.Text), sa.column("media_json", sa.Text))
state = sa.table("source_state", sa.column("source_id", sa.String), sa.column("last_error", sa.Text),
                 sa.column("notes_json", sa.Text))


source = sa.table("source", sa.column("id", sa.String), sa.column("spec_json", sa.Text))


def upgrade() -> None:
    _item_urls()
    _source_states()
    _source_specs()


def _source_specs() -> None:
    """A source's stored spec quoted its url, password included (removed sources keep theirs)."""
    conn = op.get_bind()
    rows = conn.execute(sa.select(source.c.id, source.c.spec_json)).all()
    changed = []
    for sid, spec in rows:  # one row per source
        cleaned = redact_credentials(spec) if spec else spec
        if cleaned != spec:
            changed.append({"sid": sid, "spec": cleaned})
    if changed:
        update = source.update().where(source.c.id == sa.bindparam("sid"))
        conn.execute(update.values(spec_json=sa.bindparam("spec")), changed)


def _source_states() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(state.c.source_id, state.c.last_error, state.c.notes_json)).all()
    changed = []
    for source_id, last_error, notes_json in rows:  # one row per source: a few hundred at most
        error = redact_credentials(last_error) if last_error else last_error
        notes = redact_credentials(notes_json) if notes_json else notes_json
        if (error, notes) != (last_error, notes_json):
            changed.append({"sid": source_id, "error": error, "notes": notes})
    if changed:
        update = state.update().where(state.c.source_id == sa.bindparam("sid"))
        conn.execute(update.values(last_error=sa.bindparam("error"), notes_json=sa.bindparam("notes")), changed)


def _item_urls() -> None:
    conn = op.get_bind()
    update = item.update().where(item.c.id == sa.bindparam("item_id"))
    update = update.values(url=sa.bindparam("new_url"), media_json=sa.bindparam("new_media"))
    last = ""
    while True:  # a page of rows at a time, by id: the archive need not fit in memory
        rows = conn.execute(
            sa.select(item.c.id, item.c.url, item.c.media_json).where(item.c.id > last).order_by(item.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1][0]
        changed = []
        for item_id, url, media in rows:  # a thumbnail resolved against a feed's address carried its password too
            new_url, new_media = canonical_url(url), (redact_credentials(media) if media else media)
            if (new_url, new_media) != (url, media):
                changed.append({"item_id": item_id, "new_url": new_url, "new_media": new_media})
        if changed:
            conn.execute(update, changed)


def downgrade() -> None:
    pass  # the canonical forms are still URLs of the same articles; nothing to undo
