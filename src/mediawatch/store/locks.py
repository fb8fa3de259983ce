"""Store methods for the service: a lock with a heartbeat (portable: no advisory locks), digest bookkeeping."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import IntegrityError

from mediawatch.store import schema as t


class LockStore:
    engine: Engine

    def acquire_lock(self, name: str, holder: str, now: datetime, *, stale_after: timedelta) -> bool:
        """Take the lock if it is free, ours, or stale (its holder stopped beating). Atomic on every dialect."""
        with self.engine.begin() as conn:
            row = conn.execute(select(t.service_lock).where(t.service_lock.c.name == name)).first()
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(t.service_lock.insert().values(name=name, holder=holder, heartbeat=now))
                except IntegrityError:
                    return False  # someone else inserted it a moment ago
                return True
            if row.holder != holder and row.heartbeat > now - stale_after:
                return False
            taken = conn.execute(
                update(t.service_lock)
                .where(t.service_lock.c.name == name, t.service_lock.c.heartbeat == row.heartbeat)
                .values(holder=holder, heartbeat=now)
            ).rowcount
            return taken == 1

    def refresh_lock(self, name: str, holder: str, now: datetime) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(
                update(t.service_lock)
                .where(t.service_lock.c.name == name, t.service_lock.c.holder == holder)
                .values(heartbeat=now)
            ).rowcount == 1

    def release_lock(self, name: str, holder: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(t.service_lock).where(t.service_lock.c.name == name, t.service_lock.c.holder == holder))

    def lock_holder(self, name: str) -> tuple[str, datetime] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.service_lock).where(t.service_lock.c.name == name)).first()
        return (row.holder, row.heartbeat) if row else None

    def has_digest(self, week: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(t.digest.c.week).where(t.digest.c.week == week)).first() is not None
