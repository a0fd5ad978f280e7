"""Security headers on every answer (docs/security.md): what a browser may do with what the service sends.

- ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer`` on everything;
- a Content-Security-Policy: the web map's (scripts, styles, images and connections from the service
  itself, images also from the configured tile server), the API documentation page's (the same, from the
  service alone), the incident report's (set by its handler: no script at all), and
  ``default-src 'none'`` on everything else (JSON, static files), which nothing renders; every policy
  forbids framing (``frame-ancestors 'none'``, and ``X-Frame-Options: DENY`` for browsers that predate it);
- ``Strict-Transport-Security`` when the answer goes over TLS.

A pure ASGI middleware: it sees refusals (413, 429, problems) as well as answers, and a header a handler
set itself is kept.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
"""JSON and static files: nothing to run, nothing to fetch, nothing to frame."""

DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'none'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
)
"""/v1/docs (Swagger UI, bundled): its script, styles and the OpenAPI document from the service itself;
images also as data: URIs (Swagger UI's icons are inlined in its stylesheet); never framed."""

HSTS = "max-age=31536000"

DOCS_PATHS = ("/v1/docs",)


def tile_source(tile_url: str | None) -> str | None:
    """The CSP source of a tile URL template: its origin, ``{s}`` subdomains as a wildcard
    (``https://{s}.tile.example.org/{z}/{x}/{y}.png`` → ``https://*.tile.example.org``); None when the
    tiles come from the service itself (unset, or a path)."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url)
    if not parts.scheme or not parts.netloc:
        return None  # a path on the service: 'self'
    host = parts.netloc.rsplit("@", 1)[-1]  # never a credential in a policy
    host = host.replace("{s}", "*")
    if "{" in host or "}" in host or any(c in host for c in " ;,'\""):
        raise ValueError(f"DECONFLICTION_TILE_URL={tile_url!r}: the host part may only vary by {{s}}")
    return f"{parts.scheme}://{host}"


def map_csp(tile_url: str | None) -> str:
    """The web map's policy: everything from the service itself; images also from the tile server."""
    tiles = tile_source(tile_url)
    images = "'self'" + (f" {tiles}" if tiles else "")
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
    )


class SecurityHeaders:
    def __init__(self, app: ASGIApp, tile_url: str | None) -> None:
        self.app = app
        self.page_csp = map_csp(tile_url)

    def _csp(self, path: str) -> str:
        if path == "/":
            return self.page_csp
        if path in DOCS_PATHS:
            return DOCS_CSP
        return API_CSP

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = [
            (b"content-security-policy", self._csp(scope.get("path", "")).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
        ]
        if scope.get("scheme") == "https":
            added.append((b"strict-transport-security", HSTS.encode()))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in added if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
