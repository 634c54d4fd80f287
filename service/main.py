"""ASGI entry point for uvicorn: ``service.main:app`` built from the environment's settings."""

import contextlib
import ctypes
import os

from service.app import create_app


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas before the request threads start.

    By default each thread that allocates may get an arena of its own (up to 8 per core), and each keeps
    the memory its requests freed; with uvicorn's thread pool that is tens of MB of resident memory
    per arena. ``MALLOC_ARENA_MAX`` in the environment wins over this default.
    """
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    m_arena_max = -8  # from malloc.h
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").mallopt(m_arena_max, arenas)


_limit_malloc_arenas()
app = create_app()
