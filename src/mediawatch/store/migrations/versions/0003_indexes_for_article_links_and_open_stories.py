"""indexes for stored article links and open stories

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 16:52:05

Page collection asks which of a listing's article links are stored already (``item.url``), and story
assignment reads the stories seen recently (``story.last_seen``): both scanned their whole table, which grows
with the archive. On PostgreSQL the URL index is a hash index: a B-tree refuses keys longer than about 2,700
bytes, and a URL may be longer.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_item_url", "item", ["url"], unique=False, postgresql_using="hash")
    op.create_index("ix_story_last_seen", "story", ["last_seen"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_story_last_seen", table_name="story")
    op.drop_index("ix_item_url", table_name="item", postgresql_using="hash")
