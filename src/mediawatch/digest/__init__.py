"""The weekly digest for editors: ``write_digest(store, IsoWeek.parse("2025-W03"), Path("digests"), now=...)``.

Modules: :mod:`.week` (ISO weeks in the digest time zone, UTC by default), :mod:`.build` (the digest as a
value), :mod:`.summary` (extractive summaries), :mod:`.charts` (SVG), :mod:`.render` (Markdown and HTML),
:mod:`.run` (store in, files out).
"""

from mediawatch.digest.run import DigestFiles, load_digest, write_digest
from mediawatch.digest.week import IsoWeek, last_complete_week

__all__ = ["DigestFiles", "IsoWeek", "last_complete_week", "load_digest", "write_digest"]
