"""An app over a sources file of the given stanzas, with the short timeouts collection tests use."""

from __future__ import annotations

from pathlib import Path

from mediawatch.app import App, open_app
from mediawatch.settings import Settings

# A Russian-language article page that trafilatura extracts ({title}: its headline), for page-source tests.
ARTICLE = """<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>{title} | Portal</title>
<meta property="og:title" content="{title}"></head><body><nav><a href="/">Главная</a></nav>
<article><h1>{title}</h1><p>{title}. Члены казахской общины собрались вместе, чтобы отметить праздник и
поддержать родной язык.</p><p>Второй абзац статьи рассказывает подробности о событии и его участниках.</p>
<p>Третий абзац: организаторы поблагодарили гостей и пообещали провести встречу снова в следующем году.</p>
</article><footer>© Portal</footer></body></html>"""


def write_sources(tmp_path: Path, stanzas: list[str]) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text("version: 1\nsources:\n" + "".join(stanzas), encoding="utf-8")
    return path


def make_app(tmp_path: Path, stanzas: list[str], *, db: str | None = None, **settings: object) -> App:
    """An app over ``db`` (a test's ``db_url``, to run on SQLite and PostgreSQL), by default a SQLite file.

    Deadlines are long: a test process can stall for 2 s or more (a full garbage collection of a 1 GB pytest
    process, a busy VM), and with one attempt per fetch (``no_backoff``) a 2 s connect deadline then failed
    sources of tests that are not about timeouts. Tests about deadlines pass their own."""
    base = {"timeout": 20.0, "connect_timeout": 10.0, "retries": 2, "concurrency": 8, "per_host": 8}
    base.update(settings)
    url = db or f"sqlite:///{tmp_path / 'mw.db'}"
    return open_app(Settings(db=url, sources=write_sources(tmp_path, stanzas), **base))


def page(source_id: str, url: str) -> str:
    return f"  - {{id: {source_id}, kind: page, url: '{url}'}}\n"


def health(app: App) -> dict[str, object]:
    return {h.source_id: h for h in app.store.health(app.now())}
