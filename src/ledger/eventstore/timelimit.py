"""A time limit for reads of the past: replaying a long history (a diff over 50,000
adjustments once took 52.7 s) stops at the limit instead of running on after its client has
given up. The HTTP layer sets the limit for a request; the replay loops call `check()`, which
raises TimeLimitExceeded once the limit has passed (a context variable, so it follows the
request into the worker thread and nothing else).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_deadline: ContextVar[tuple[float, float] | None] = ContextVar("ledger_read_deadline", default=None)


class TimeLimitExceeded(RuntimeError):
    """A read ran past its time limit and was stopped."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"读取超过 {seconds:g} 秒的时限, 已停止")


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Reads inside the block stop after `seconds` (None or 0: no limit)."""
    if not seconds:
        yield
        return
    token = _deadline.set((time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _deadline.reset(token)


def check() -> None:
    limit = _deadline.get()
    if limit is not None and time.monotonic() > limit[0]:
        raise TimeLimitExceeded(limit[1])
