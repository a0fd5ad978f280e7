"""The web map: one HTML page at ``/`` and its static files, served by the service itself (no CDN, no
internet). The page talks to the same /v1 API as any client, with the party's API key; it is therefore
shown exactly what that party may see. Also the API's documentation page, ``/v1/docs`` (Swagger UI over
/v1/openapi.json, its assets bundled like the map's), and, when a deployment sets one, its PMTiles extract at
``/map/tiles.pmtiles`` (answered with HTTP range requests, as the vector-tile reader asks). Not in the
OpenAPI document: these are not API routes.

The first load over a slow link: text assets go out compressed. ``web/build.mjs`` writes a ``.br`` and a
``.gz`` beside every vendor file, and the page's own files (small, edited in place) are compressed once in
memory; the encoding follows the request's Accept-Encoding (brotli, then gzip), with ``Vary`` said."""

from __future__ import annotations

import gzip
import html
import logging
import mimetypes
import os
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.types import Scope

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
VENDOR_BUILT = STATIC / "vendor" / "README"
DOCS_PATH = "/v1/docs"
PMTILES_PATH = "/map/tiles.pmtiles"
COMPRESSIBLE = {".js", ".css", ".geojson", ".json", ".svg", ".html"}
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def accepted_encodings(header: str) -> set[str]:
    """The content codings an Accept-Encoding header allows (``q=0`` refuses one)."""
    allowed = set()
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        q = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
        try:
            if float(q) > 0:
                allowed.add(name.strip().lower())
        except ValueError:
            continue
    return allowed


class CompressedStatic(StaticFiles):
    """Static files, each sent in the best coding the browser accepts: a precompressed sibling (``name.br``,
    ``name.gz``) when the build made one, otherwise gzip made once in memory for the page's own text files."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory)
        self._gzipped: dict[tuple[str, float], bytes] = {}

    async def get_response(self, path: str, scope: Scope) -> Response:
        if Path(path).suffix not in COMPRESSIBLE:
            return await super().get_response(path, scope)
        request_headers = Headers(scope=scope)
        accepted = accepted_encodings(request_headers.get("accept-encoding", ""))
        media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        if Path(path).suffix == ".geojson":
            media_type = "application/geo+json"
        for coding, suffix in ENCODINGS:
            if coding not in accepted:
                continue
            full, stat = self.lookup_path(path + suffix)
            if stat is not None and os.path.isfile(full):
                response: Response = FileResponse(full, stat_result=stat, media_type=media_type)
                response.headers["content-encoding"] = coding
                response.headers["vary"] = "Accept-Encoding"
                if self.is_not_modified(response.headers, request_headers):
                    kept = {"etag": response.headers["etag"], "vary": "Accept-Encoding"}
                    return Response(status_code=304, headers=kept)
                return response
        response = await super().get_response(path, scope)
        response.headers["vary"] = "Accept-Encoding"
        if "gzip" not in accepted or response.status_code != 200 or not isinstance(response, FileResponse):
            return response
        full, stat = self.lookup_path(path)
        if stat is None:
            return response
        key = (full, stat.st_mtime)
        body = self._gzipped.get(key)
        if body is None:
            body = self._gzipped[key] = gzip.compress(Path(full).read_bytes(), compresslevel=9, mtime=0)
        headers = {k: v for k, v in response.headers.items() if k not in {"content-length"}}
        headers["content-encoding"] = "gzip"
        return Response(body, media_type=media_type, headers=headers)


def install(app: FastAPI, tile_url: str | None, pmtiles: Path | None = None) -> None:
    """``/`` (the page, with the deployment's tile server and vector tiles if any), ``/static/...`` and,
    with ``pmtiles`` set, ``/map/tiles.pmtiles``."""
    if not VENDOR_BUILT.exists():
        log.warning("the web map's assets are not built (run `make web`): / serves a page that says so")
    if pmtiles is not None and not pmtiles.is_file():
        log.warning("DECONFLICTION_MAP_PMTILES=%s is not a file: the map shows the built-in basemap only", pmtiles)
        pmtiles = None
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    page = page.replace('content="tile-url"', f'content="{html.escape(tile_url or "", quote=True)}"', 1)
    page = page.replace('content="pmtiles-url"', f'content="{PMTILES_PATH if pmtiles else ""}"', 1)
    page_gz = gzip.compress(page.encode("utf-8"), compresslevel=9, mtime=0)
    docs = (STATIC / "docs.html").read_text(encoding="utf-8")
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def index(request: Request) -> Response:
        # no-store: a new deployment's page (and its tile setting) is never taken from a stale cache
        headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Vary": "Accept-Encoding"}
        if "gzip" in accepted_encodings(request.headers.get("accept-encoding", "")):
            headers["Content-Encoding"] = "gzip"
            return Response(page_gz, media_type="text/html; charset=utf-8", headers=headers)
        return HTMLResponse(page, headers=headers)

    @router.get(DOCS_PATH, response_class=HTMLResponse)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(docs, headers={"Cache-Control": "no-cache"})

    if pmtiles is not None:
        archive = pmtiles

        @router.get(PMTILES_PATH)
        def vector_tiles() -> FileResponse:
            # FileResponse answers a Range header with 206 and the asked bytes: the reader fetches the
            # archive's directory, then each tile, never the whole file
            return FileResponse(archive, media_type="application/vnd.pmtiles", headers={"Cache-Control": "no-cache"})

    app.include_router(router)
    app.mount("/static", CompressedStatic(STATIC), name="static")
