"""Process memory hygiene for the long-lived in-memory indexes (glibc; a no-op elsewhere)."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os

_M_ARENA_MAX = -8  # from malloc.h


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return None


def release_memory() -> None:
    """Hand the heap pages freed by a bulk load back to the OS (glibc keeps them otherwise: loading
    100,000 rows leaves tens of MB of freed small objects resident)."""
    gc.collect()
    trim_heap()


def trim_heap() -> None:
    """Hand the free pages of the heap back to the OS, without a garbage collection (cheap: about
    0.2 ms after an encoder call). Large temporaries (a batch's activations, a query's similarity
    grid) otherwise stay resident as free heap once glibc's dynamic mmap threshold has risen."""
    libc = _libc()
    if libc is not None:
        with contextlib.suppress(AttributeError):
            libc.malloc_trim(0)


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas before the request threads start.

    By default each thread that allocates may get an arena of its own (up to 8 per core), and each keeps
    the memory its requests freed; with uvicorn's thread pool that is tens of MB of resident memory
    per arena. ``MALLOC_ARENA_MAX`` in the environment wins over this default.
    """
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    libc = _libc()
    if libc is not None:
        with contextlib.suppress(AttributeError):
            libc.mallopt(_M_ARENA_MAX, arenas)
