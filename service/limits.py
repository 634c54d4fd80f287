"""Request body caps: a body over the limit is refused with 413 before it is parsed."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import send_problem

BULK_SUFFIXES = ("/bulk",)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed (chunked) body passes the cap.

    An HTTPException, so FastAPI's body parsing re-raises it (as 413) instead of turning it into 400.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is over the limit of {limit} bytes.")


class BodySizeLimit:
    def __init__(self, app: ASGIApp, *, default_limit: int, bulk_limit: int) -> None:
        self.app = app
        self.default_limit = default_limit
        self.bulk_limit = bulk_limit

    def _limit_for(self, path: str) -> int:
        return self.bulk_limit if path.endswith(BULK_SUFFIXES) else self.default_limit

    async def _reject(self, send: Send, limit: int) -> None:
        await send_problem(
            send,
            413,
            "Payload too large",
            f"The request body is over the limit of {limit} bytes.",
            "payload-too-large",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope.get("path", ""))
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    await self._reject(send, limit)
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._reject(send, limit)
