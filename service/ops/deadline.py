"""Deadlines for matching work: a call that runs past ``settings.match_timeout_seconds`` answers 503.

CPU-bound ranking cannot be interrupted from outside, so the work checks a deadline between steps
(e.g. per batch of candidates) and stops with :class:`MatchTimeout` (503 + ``Retry-After``) when it
is past. Two ways to use it:

- as a route dependency, which starts the clock when the request reaches the route::

      def rank(demand: OwnedDemand, deadline: MatchDeadline) -> ...:
          for batch in batches:
              deadline.check()
              ...

- or ambiently, for code that does not take a parameter: ``with use_deadline(deadline): ...`` in the
  route, and :func:`check_deadline` anywhere below it in the same thread (a no-op when no deadline
  is set, so library code can call it unconditionally).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated

from fastapi import Depends, Request

from service.errors import ServiceUnavailable
from service.ops import metrics


class MatchTimeout(ServiceUnavailable):
    title = "Matching took too long"
    type_slug = "match-timeout"


class Deadline:
    """A point in monotonic time after which work should stop."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.expires_at = None if seconds is None or seconds <= 0 else time.monotonic() + seconds

    @property
    def remaining(self) -> float | None:
        """Seconds left (≥ 0), or None when there is no deadline."""
        if self.expires_at is None:
            return None
        return max(0.0, self.expires_at - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and time.monotonic() >= self.expires_at

    def check(self) -> None:
        """Raise :class:`MatchTimeout` (HTTP 503) once the deadline has passed."""
        if self.expired:
            metrics.match_timeouts.inc()
            raise MatchTimeout(
                f"The matching work did not finish within {self.seconds:g} s; narrow the request "
                "(fewer candidates, a smaller top_k) or retry later.",
                headers={"Retry-After": "5"},
            )


_current: ContextVar[Deadline | None] = ContextVar("talentmatch_deadline", default=None)


@contextmanager
def use_deadline(deadline: Deadline) -> Iterator[Deadline]:
    """Make ``deadline`` the one :func:`check_deadline` checks, for the duration of the block."""
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def check_deadline() -> None:
    """Check the ambient deadline, if any (see :func:`use_deadline`)."""
    deadline = _current.get()
    if deadline is not None:
        deadline.check()


def match_deadline(request: Request) -> Deadline:
    # The settings straight from the app: ``ops`` sits below ``deps`` (which imports the domains).
    return Deadline(request.app.state.settings.match_timeout_seconds)


MatchDeadline = Annotated[Deadline, Depends(match_deadline)]
