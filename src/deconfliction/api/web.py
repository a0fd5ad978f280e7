"""The web map: one HTML page at ``/`` and its static files, served by the service itself (no CDN, no
internet). The page talks to the same /v1 API as any client, with the party's API key; it is therefore
shown exactly what that party may see. Also the API's documentation page, ``/v1/docs`` (Swagger UI over
/v1/openapi.json, its assets bundled like the map's). Not in the OpenAPI document: these are not API
routes."""

from __future__ import annotations

import html
import logging
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
VENDOR_BUILT = STATIC / "vendor" / "README"
DOCS_PATH = "/v1/docs"


def install(app: FastAPI, tile_url: str | None) -> None:
    """``/`` (the page, with the deployment's tile server if any) and ``/static/...``."""
    if not VENDOR_BUILT.exists():
        log.warning("the web map's assets are not built (run `make web`): / serves a page that says so")
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    page = page.replace('content="tile-url"', f'content="{html.escape(tile_url or "", quote=True)}"', 1)
    docs = (STATIC / "docs.html").read_text(encoding="utf-8")
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        # no-store: a new deployment's page (and its tile setting) is never taken from a stale cache
        return HTMLResponse(page, headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})

    @router.get(DOCS_PATH, response_class=HTMLResponse)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(docs, headers={"Cache-Control": "no-cache"})

    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
