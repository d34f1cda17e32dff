"""A progress bar with events/s for long work (imports, rebuilds), on a terminal only.

Used as `with progress("重放事件", total) as advance: ledger.rebuild(advance)`: the
projector calls `advance(count)` after each page. When stdout is not a terminal (pipes,
CI, tests) nothing is printed and `advance` does nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class EventsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} 事件/秒", style="progress.data.speed")


@contextmanager
def progress(description: str, total: int | None = None, *, stream=None) -> Iterator[Callable[[int], None]]:
    """Yields `advance(count)`; shows a bar on `stream` (stdout) only if it is a terminal."""
    stream = stream or sys.stdout
    if not stream.isatty():
        yield lambda count: None
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), EventsPerSecond(),
                   TimeElapsedColumn(), TimeRemainingColumn(), console=Console(file=stream), transient=False)
    with bar:
        task = bar.add_task(description, total=total or None)
        yield lambda count: bar.advance(task, count)
