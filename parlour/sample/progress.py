"""How far a long job has got (`parlour seed` at ten million messages takes minutes).

On a terminal: a bar with the count, the rate and the time left, redrawn in place (rich,
already installed as typer's). Anywhere else (a CI log, a file) a redrawn bar is noise, so
a plain line at the start, every ``every_s`` seconds and at the end:
``seed: 1,200,000 of 10,000,000 messages (12%), 23,400/s, about 6m 16s left``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

# Called with how much is done and how much there is in all.
Report = Callable[[int, int], None]


@contextmanager
def progress(
    name: str, *, unit: str, stream: TextIO | None = None, every_s: float = 10.0
) -> Iterator[Report]:
    """A :data:`Report` for the job ``name``, counting ``unit``; a bar on a terminal."""
    out = stream if stream is not None else sys.stderr
    if out.isatty():
        with _bar(name, unit, out) as report:
            yield report
    else:
        lines = _Lines(name, unit, out, every_s)
        yield lines.report
        lines.finish()


@contextmanager
def _bar(name: str, unit: str, out: TextIO) -> Iterator[Report]:
    columns = (
        TextColumn(f"{name}:"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        _Rate(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=out), transient=False) as bar:
        task = bar.add_task(name, total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield report


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f}/s" if task.speed else "", style="progress.data.speed")


class _Lines:
    def __init__(self, name: str, unit: str, out: TextIO, every_s: float) -> None:
        self.name, self.unit, self.out, self.every_s = name, unit, out, every_s
        self.started = time.monotonic()
        self.last_line: float | None = None
        self.done = self.total = self.shown = 0

    def report(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        now = time.monotonic()
        if self.last_line is None or now - self.last_line >= self.every_s:
            self._line(now)

    def finish(self) -> None:
        # The end is always said, once.
        if self.last_line is not None and self.shown != self.done:
            self._line(time.monotonic())

    def _line(self, now: float) -> None:
        self.last_line, self.shown = now, self.done
        elapsed = now - self.started
        share = f" ({self.done / self.total:.0%})" if self.total else ""
        line = f"{self.name}: {self.done:,} of {self.total:,} {self.unit}{share}"
        if self.done and elapsed > 0:
            rate = self.done / elapsed
            line += f", {rate:,.0f}/s"
            if self.done < self.total:
                line += f", about {_duration((self.total - self.done) / rate)} left"
            else:
                line += f", in {_duration(elapsed)}"
        print(line, file=self.out, flush=True)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"
