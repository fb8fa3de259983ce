"""The web pages (Starlette + Jinja2): ``create_app`` builds the ASGI app, ``serve`` runs it under uvicorn."""

from __future__ import annotations

from mediawatch.web.app import create_app, serve
from mediawatch.web.metrics import Metrics

__all__ = ["Metrics", "create_app", "serve"]
