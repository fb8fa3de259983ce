"""Words for people reading reports, digests and pages: counts with the right plural."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 source``, ``2 sources``, ``0 sources`` (``plural`` for nouns that do not just take an s)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


__all__ = ["count"]
