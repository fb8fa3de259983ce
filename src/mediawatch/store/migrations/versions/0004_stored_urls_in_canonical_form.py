"""stored item URLs in today's canonical form

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00

An item's id is the hash of its canonical URL at the time it was first stored, and it never changes: feed
entry ids (``tag:`` URIs), labels, tags and stories hang on it. When the canonical form changes (escaped
unreserved characters decoded: ``/d/%31`` is ``/d/1``), a stored item is no longer found by its URL, and the
next collect would store the same article again under a new id. So each stored URL is rewritten in the
canonical form of the release that adds this migration (ids are kept), and the store finds an item by its URL
as well as by its id (``Store.commit_source``, ``Store.known_urls``). Items already stored twice under two
spellings stay two items (both now show the same URL; the oldest is the one later entries join).

This calls the package's ``canonical_url``: a later change of the canonical form adds a migration of its own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mediawatch.normalize import canonical_url

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BATCH = 2_000

item = sa.table("item", sa.column("id", sa.String), sa.column("url", sa.Text))


def upgrade() -> None:
    conn = op.get_bind()
    update = item.update().where(item.c.id == sa.bindparam("item_id")).values(url=sa.bindparam("new_url"))
    last = ""
    while True:  # a page of rows at a time, by id: the archive need not fit in memory
        rows = conn.execute(
            sa.select(item.c.id, item.c.url).where(item.c.id > last).order_by(item.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1][0]
        changed = [{"item_id": item_id, "new_url": new} for item_id, url in rows if (new := canonical_url(url)) != url]
        if changed:
            conn.execute(update, changed)


def downgrade() -> None:
    pass  # the canonical forms are still URLs of the same articles; nothing to undo
