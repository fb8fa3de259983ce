"""stored item URLs with a "%" that starts no escape in today's canonical form

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:00:00

The canonical form changed again (see 0004 for why stored URLs follow it, ids kept): a "%" that starts no
escape (``/x%zz``, ``?q=%4``) is escaped itself (``%25``), and it no longer makes an escape with what follows
a decoded one (``%%41`` was ``%A``, now ``%25A``); a ``;jsessionid=`` spelled with escapes is dropped too
(``;jsess%69onid=`` was stored as ``;jsessionid=…``, which the new form drops). Only URLs holding a "%" or a
``;jsessionid=`` can change, so only those are read. A URL stored as ``%A`` from ``%%41`` cannot be told from
one that was ``%A`` to begin with: such an item (a stray "%" before an escape, rare) is collected again once.

This calls the package's ``canonical_url``: a later change of the canonical form adds a migration of its own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mediawatch.normalize import canonical_url

revision = "0005"
down_revision = "0004"
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
            sa.select(item.c.id, item.c.url)
            .where(item.c.id > last, sa.or_(item.c.url.contains("%", autoescape=True),
                                            sa.func.lower(item.c.url).contains(";jsessionid=")))
            .order_by(item.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1][0]
        changed = [{"item_id": item_id, "new_url": canonical_url(url)} for item_id, url in rows
                   if canonical_url(url) != url]
        if changed:
            conn.execute(update, changed)


def downgrade() -> None:
    pass  # the canonical forms are still URLs of the same articles; nothing to undo
