"""Give freed heap back to the OS once the service falls idle.

A match allocates large temporaries (a (skills x phrases) similarity grid, the index's candidate
arrays). After glibc's dynamic mmap threshold has risen, they come from the heap and, once freed, stay
resident as free heap: 70-90 MiB after a hundred matches at 100,000 graduates. :class:`IdleHeapTrim`
runs one ``malloc_trim`` (:func:`service.memory.trim_heap`) when no request has run for
:data:`IDLE_SECONDS`, in a worker thread, so a busy service pays nothing and an idle one sits at its
live size. Trimming after every request instead would cost each request a walk of the heap.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

from service.memory import trim_heap

IDLE_SECONDS = 1.0


class IdleHeapTrim:
    """ASGI middleware: after an HTTP request, once :data:`IDLE_SECONDS` pass with none running, trim
    the heap (once per idle period)."""

    def __init__(self, app: ASGIApp, idle_seconds: float = IDLE_SECONDS) -> None:
        self.app = app
        self.idle_seconds = idle_seconds
        self.active = 0
        self.dirty = False  # a request ran since the last trim
        self._timer: asyncio.TimerHandle | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.active += 1
        self.dirty = True
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1
            if self.active == 0:
                # restarted by every request that ends, so it fires idle_seconds after the last one
                if self._timer is not None:
                    self._timer.cancel()
                self._timer = asyncio.get_running_loop().call_later(self.idle_seconds, self._check)

    def _check(self) -> None:
        self._timer = None
        if self.active or not self.dirty:  # a request began since: its end starts a new wait
            return
        self.dirty = False
        asyncio.get_running_loop().run_in_executor(None, trim_heap)
