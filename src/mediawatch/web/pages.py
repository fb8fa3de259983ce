"""The HTML pages. Each ``name(site)`` returns the Starlette endpoint; sync endpoints run in a thread pool.

Pages: latest items with filters and search (``/``), an item with its tags, evidence and the correction form,
a story, the sources and their health, the digest archive and the list of subscriber feeds.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mediawatch.digest.names import topic_order
from mediawatch.errors import ConfigError
from mediawatch.labels import active_topics, clean_text, make_label
from mediawatch.publish.feeds import FeedKey
from mediawatch.publish.text import why_lines
from mediawatch.publish.topics import topic_scores
from mediawatch.publish.write import known_keys
from mediawatch.store import is_busy
from mediawatch.store.queries import ItemQuery
from mediawatch.web.forms import PAGE_SIZE, parse_correction, parse_filters, token_ok

if TYPE_CHECKING:
    from mediawatch.web.app import Site

logger = logging.getLogger(__name__)
Endpoint = Callable[[Request], Response]
AsyncEndpoint = Callable[[Request], Awaitable[Response]]
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}\Z")
MAX_FORM_FIELDS = 60
MAX_FORM_BYTES = 64 * 1024


def index(site: Site) -> Endpoint:
    def endpoint(request: Request) -> Response:
        filters = parse_filters(request.query_params)
        store = site.store
        offset = (filters.page - 1) * PAGE_SIZE
        found = store.find_items(filters.query(), limit=PAGE_SIZE + 1, offset=offset)
        # past the end (a stale "Older" link, an edited URL): say so and link the last page that has items
        matching = store.count_items_matching(filters.query()) if not found and filters.page > 1 else None
        facets = site.memo("facets", store.facets)
        key = FeedKey.parse(filters.topic or None, filters.country or None)
        return site.render(
            request,
            "items.html",
            items=found[:PAGE_SIZE],
            more=len(found) > PAGE_SIZE,
            matching=matching,
            last_page=None if matching is None else max(1, min(filters.page - 1, -(-matching // PAGE_SIZE))),
            filters=filters,
            params=filters.params(),
            facets=facets,
            topics=_topics(site, facets.topics),
            feed=key,
        )

    return endpoint


def item(site: Site) -> Endpoint:
    def endpoint(request: Request) -> Response:
        return _item_page(site, request, request.path_params["item_id"])

    return endpoint


def _item_page(
    site: Site,
    request: Request,
    item_id: str,
    *,
    status: int = 200,
    problems: tuple[str, ...] = (),
    form: dict[str, object] | None = None,
) -> Response:
    if not _ID.match(item_id):
        raise HTTPException(404, "No such item")
    found = site.store.tagged_item(item_id)
    if found is None:
        raise HTTPException(404, "No such item")
    topics = taxonomy_topics(site)
    values = form or {
        "relevant": "yes" if found.relevant else "no",
        "countries": " ".join(found.countries),
        "topics": [t for t in found.topics if t in topics],  # a topic no longer in the taxonomy is not offered
        "editor": found.editor or "",
        "note": found.note or "",
    }
    return site.render(
        request,
        "item.html",
        status=status,
        item=found,
        why=found.why,
        why_lines=why_lines(found),
        topic_scores=topic_scores(found),
        topics=topics,
        corrections=site.corrections_enabled,
        problems=problems,
        form=values,
        saved=request.query_params.get("saved") == "1",
    )


def label(site: Site) -> AsyncEndpoint:
    async def endpoint(request: Request) -> Response:
        item_id = request.path_params["item_id"]
        if not _ID.match(item_id):
            raise HTTPException(404, "No such item")
        length = request.headers.get("content-length", "0")
        if not length.isdigit() or int(length) > MAX_FORM_BYTES:
            raise HTTPException(413, "The correction form is too large.")
        async with request.form(max_files=0, max_fields=MAX_FORM_FIELDS) as form:
            token = form.get("token")
            fields = {name: form.get(name) for name in ("relevant", "countries", "editor", "note")}
            chosen = [str(v) for v in form.getlist("topics")]
        # no control character (NUL included) goes further: not to the store, not back into the page
        values = {k: clean_text(v) if isinstance(v, str) else None for k, v in fields.items()}
        form_values: dict[str, object] = {**{k: v or "" for k, v in values.items()}, "topics": chosen}  # sent back
        if not site.corrections_enabled:
            raise HTTPException(
                403, "Corrections are disabled on this server (no editor token is configured)."
            )
        if not token_ok(token if isinstance(token, str) else None, site.settings.editor_token):
            raise HTTPException(403, "Wrong editor token: nothing was changed.")

        def save() -> Response:
            store = site.store
            if store.tagged_item(item_id) is None:
                raise HTTPException(404, "No such item")
            known = taxonomy_topics(site)
            result = parse_correction(
                values["relevant"],
                values["countries"],
                chosen,
                values["editor"],
                values["note"],
                known_topics=known,
            )
            if result.correction is None:
                return _item_page(
                    site, request, item_id, status=400, problems=result.problems, form=form_values
                )
            c = result.correction
            try:
                # the form comes pre-filled with the item's tags; "not relevant" means none of them apply
                correction = make_label(item_id, c.relevant, c.countries if c.relevant else (),
                                        c.topics if c.relevant else (), editor=c.editor, note=c.note, now=site.now(),
                                        known_topics=known)
            except ConfigError as exc:
                problems = tuple(p.split(": ", 1)[-1] for p in exc.problems)
                return _item_page(site, request, item_id, status=400, problems=problems, form=form_values)
            try:
                store.save_label(correction)
            except OperationalError as exc:
                if not is_busy(exc):
                    raise
                # another process holds the database longer than the busy timeout: the editor keeps the form
                logger.warning("correction not saved: database busy", extra={"fields": {"item_id": item_id}})
                return _item_page(site, request, item_id, status=503, form=form_values, problems=(
                    "The database is busy: nothing was saved. Send the form again in a moment.",))
            site.forget()
            base = request.scope.get("root_path", "")
            return RedirectResponse(f"{base}/items/{item_id}?saved=1", status_code=303)

        return await run_in_threadpool(save)

    return endpoint


def story(site: Site) -> Endpoint:
    def endpoint(request: Request) -> Response:
        story_id = request.path_params["story_id"]
        view = site.store.story(story_id) if _ID.match(story_id) else None
        if view is None:
            raise HTTPException(404, "No such story")
        ids = tuple(m.id for m, _ in view.members)
        tagged = {
            t.id: t for t in site.store.find_items(ItemQuery(item_ids=ids, relevant_only=False), limit=None)
        }
        members = [(tagged.get(m.id), m, sim) for m, sim in view.members]
        return site.render(request, "story.html", view=view, members=members)

    return endpoint


def sources(site: Site) -> Endpoint:
    def endpoint(request: Request) -> Response:
        return site.render(request, "sources.html", sources=site.store.health(site.now()), now=site.now())

    return endpoint


def digests(site: Site) -> Endpoint:
    def endpoint(request: Request) -> Response:
        from mediawatch.web.files import digest_weeks

        return site.render(request, "digests.html", digests=digest_weeks(site))

    return endpoint


def feeds(site: Site) -> Endpoint:
    def endpoint(request: Request) -> Response:
        keys = sorted(
            site.memo("feed_keys", lambda: known_keys(site.store)),
            key=lambda k: (topic_order(k.topic or ""), k.country or ""),
        )
        groups = {
            "Topics": [k for k in keys if k.topic and not k.country],
            "Countries": sorted((k for k in keys if k.country and not k.topic), key=lambda k: k.title),
            "Topics by country": [k for k in keys if k.topic and k.country],
        }
        return site.render(request, "feeds.html", groups=groups, options=site.feed_options)

    return endpoint


def taxonomy_topics(site: Site) -> tuple[str, ...]:
    """The active taxonomy's topic ids (packaged plus the operator's override file), re-read every
    ``MEMO_SECONDS``: what the correction form offers and accepts."""

    def load() -> tuple[str, ...]:
        try:
            return active_topics(site.settings.taxonomy)
        except ConfigError as exc:  # the packaged topics are always part of the merged taxonomy
            logger.error("taxonomy file unreadable; corrections offer the packaged topics only",
                         extra={"fields": {"problems": "; ".join(exc.problems)}})
            return active_topics(None)

    return site.memo("taxonomy_topics", load)


def _topics(site: Site, present: tuple[tuple[str, int], ...]) -> list[str]:
    """The taxonomy's topics in its order, then any other topic found in the data (the filter menu)."""
    known = taxonomy_topics(site)
    return [*known, *sorted({v for v, _ in present} - set(known), key=topic_order)]


__all__ = ["digests", "feeds", "index", "item", "label", "sources", "story", "taxonomy_topics"]
