"""A pure ASGI guard on request body size: refused with 413 before anything is parsed."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deconfliction.api.problems import problem_response


class BodyTooLargeError(Exception):
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(scope, receive, send, int(value))
                return
        seen = 0
        started = refused = False

        async def limited() -> Message:
            # A body without Content-Length (chunked) is counted as it arrives. The 413 goes out from
            # here: FastAPI turns any error raised while it reads the body into its own 400, which
            # ``tracking_send`` then drops.
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    if not started and not refused:
                        refused = True
                        await self._refuse(scope, receive, send, seen)
                    raise BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, tracking_send)
        except BodyTooLargeError:
            if not started and not refused:
                await self._refuse(scope, receive, send, seen)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, size: Any) -> None:
        response = problem_response(
            413,
            "body_too_large",
            "The request body is too large",
            f"the body has {size} bytes or more; at most {self.max_bytes} are accepted (DECONFLICTION_MAX_BODY_BYTES)",
            limit=self.max_bytes,
        )
        await response(scope, receive, send)
