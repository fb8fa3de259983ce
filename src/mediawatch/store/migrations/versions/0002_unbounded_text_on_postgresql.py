"""unbounded text on PostgreSQL for strings that come from outside

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:00:00

SQLite never enforces VARCHAR lengths; PostgreSQL refuses a longer value and so failed a whole source's
commit for one long language tag (``zh-hant-tw-x-…`` passes the feed normaliser) or a long embedding model
name. These columns become TEXT on PostgreSQL (a catalogue change, no table rewrite); SQLite is untouched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# (table, column, the length SQLite keeps declaring) — see schema.py's ``_outside_text``
COLUMNS = (
    ("item", "lang", 16),
    ("tag", "value", 32),
    ("classification", "model", 128),
    ("embedding", "model", 128),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, length in COLUMNS:
        op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(length))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, length in COLUMNS:
        op.alter_column(table, column, type_=sa.String(length), existing_type=sa.Text())
