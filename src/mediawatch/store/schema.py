"""Table definitions (SQLAlchemy Core). Portable SQL only: SQLite by default, PostgreSQL as well.

The schema is created and changed by Alembic migrations (``store/migrations``); these objects describe the
current head so queries can be built from them. ``tests/test_store.py`` checks the two agree.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every dialect (SQLite keeps no zone: store naive UTC, read back aware)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to the store; use timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _outside_text(length: int) -> String:
    """A string that comes from outside (a feed's language tag, a model name, a tag value): VARCHAR(length) on
    SQLite, which never enforces the length, and TEXT on PostgreSQL, which would refuse a longer value and fail
    the whole transaction (migration 0002). Both backends store what they are given."""
    return String(length).with_variant(Text(), "postgresql")  # type: ignore[return-value]


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

source = Table(
    "source",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", Text),
    Column("locator", Text, nullable=False),
    Column("country", String(2)),
    Column("language", String(16)),
    Column("every_s", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("in_file", Boolean, nullable=False),
    Column("spec_hash", String(32), nullable=False),
    Column("spec_json", Text, nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

source_state = Table(
    "source_state",
    metadata,
    Column("source_id", String(64), ForeignKey("source.id"), primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("content_hash", String(64)),
    Column("last_attempt", UTCDateTime),
    Column("last_success", UTCDateTime),
    Column("last_new_item", UTCDateTime),
    Column("next_check", UTCDateTime),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("last_status", Integer),
    Column("notes_json", Text, nullable=False, default="{}"),
)

item = Table(
    "item",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("source_id", String(64), ForeignKey("source.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("url", Text, nullable=False),
    Column("guid", Text),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("published_estimated", Boolean, nullable=False),
    Column("fetched", UTCDateTime, nullable=False),
    Column("lang", _outside_text(16)),
    Column("author", Text),
    Column("media_json", Text, nullable=False),
    Index("ix_item_published", "published"),
    Index("ix_item_fetched", "fetched"),
    # page collection asks which article links are stored already; a hash index on PostgreSQL, whose B-tree
    # refuses a key longer than about 2,700 bytes (a URL can be longer)
    Index("ix_item_url", "url", postgresql_using="hash"),
)

# Which sources have carried an item, under which GUID: dedupe within a source by GUID, and per-source counts
# even when two sources carry the same canonical URL (one item).
item_source = Table(
    "item_source",
    metadata,
    Column("item_id", String(64), ForeignKey("item.id"), primary_key=True),
    Column("source_id", String(64), ForeignKey("source.id"), primary_key=True),
    Column("guid", Text),
    Column("first_seen", UTCDateTime, nullable=False),
    Index("ix_item_source_source_id_guid", "source_id", "guid"),
    Index("ix_item_source_source_id_first_seen", "source_id", "first_seen"),
)

embedding = Table(
    "embedding",
    metadata,
    Column("model", _outside_text(128), primary_key=True),
    Column("content_hash", String(64), primary_key=True),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),
)

classification = Table(
    "classification",
    metadata,
    Column("item_id", String(64), ForeignKey("item.id"), primary_key=True),
    Column("relevant", Boolean, nullable=False),
    Column("relevance", Float, nullable=False),
    Column("countries", Text, nullable=False),  # space-separated codes (also in `tag` for queries)
    Column("topics", Text, nullable=False),
    Column("why_json", Text, nullable=False),
    Column("model", _outside_text(128), nullable=False),
    Column("taxonomy_hash", String(64), nullable=False),
    Column("classified_at", UTCDateTime, nullable=False),
    Column("content_hash", String(64)),
)

tag = Table(
    "tag",
    metadata,
    Column("item_id", String(64), ForeignKey("item.id"), primary_key=True),
    Column("axis", String(16), primary_key=True),
    Column("value", _outside_text(32), primary_key=True),
    Index("ix_tag_axis_value", "axis", "value"),
)

label = Table(
    "label",
    metadata,
    Column("item_id", String(64), ForeignKey("item.id"), primary_key=True),
    Column("relevant", Boolean, nullable=False),
    Column("countries", Text, nullable=False),
    Column("topics", Text, nullable=False),
    Column("editor", Text),
    Column("note", Text),
    Column("labeled_at", UTCDateTime, nullable=False),
)

story = Table(
    "story",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("lead_item_id", String(64), ForeignKey("item.id"), nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("size", Integer, nullable=False),
    Column("centroid", LargeBinary, nullable=False),
    Index("ix_story_last_seen", "last_seen"),  # the stories still open to new members
)

story_item = Table(
    "story_item",
    metadata,
    Column("item_id", String(64), ForeignKey("item.id"), primary_key=True),
    Column("story_id", String(64), ForeignKey("story.id"), nullable=False),
    Column("similarity", Float, nullable=False),
    Index("ix_story_item_story_id", "story_id"),
)

digest = Table(
    "digest",
    metadata,
    Column("week", String(8), primary_key=True),
    Column("generated_at", UTCDateTime, nullable=False),
    Column("path_md", Text, nullable=False),
    Column("path_html", Text, nullable=False),
    Column("relevant_items", Integer, nullable=False),
)

service_lock = Table(
    "service_lock",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("holder", Text, nullable=False),
    Column("heartbeat", UTCDateTime, nullable=False),
)

__all__ = ["UTCDateTime", "metadata"]
