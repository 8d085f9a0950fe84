"""Progress of a batch as it runs: plain lines for logs and pipes, a live bar on a terminal.

A reporter has ``start(total)``, ``advance(result)`` (a ``batch.FileResult``), ``message(text)``
and ``close()``; ``batch.run_batch`` calls them as files finish.
"""
from __future__ import annotations

import os
import sys

class PlainProgress:
    """One line per finished file — for CI logs and pipes, where a live bar is noise."""

    def __init__(self, stream=None):
        self.stream = stream
        self.total = 0
        self.done = 0

    def start(self, total: int) -> None:
        self.total = total
        print(f"reviewkit batch: {total} file(s)", file=self.stream or sys.stderr, flush=True)

    def advance(self, result) -> None:
        from .batch import FAILED

        self.done += 1
        tail = f" — {result.reason}" if result.status == FAILED and result.reason else ""
        print(f"[{self.done}/{self.total}] {result.status} {result.path}{tail}",
              file=self.stream or sys.stderr, flush=True)

    def message(self, text: str) -> None:
        print(text, file=self.stream or sys.stderr, flush=True)

    def close(self) -> None:
        pass


class RichProgress:
    """A live progress bar on a terminal (rich)."""

    def __init__(self, console=None):
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        self.console = console or Console(stderr=True)
        self._bar = Progress(TextColumn("[bold]fill"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[failed]} failed"), TimeElapsedColumn(),
                             TimeRemainingColumn(), console=self.console, transient=False)
        self._task = None
        self._failed = 0

    def start(self, total: int) -> None:
        self._bar.start()
        self._task = self._bar.add_task("fill", total=total, failed=0)

    def advance(self, result) -> None:
        from .batch import FAILED

        if result.status == FAILED:
            self._failed += 1
        self._bar.update(self._task, advance=1, failed=self._failed)

    def message(self, text: str) -> None:
        self._bar.console.print(text)

    def close(self) -> None:
        self._bar.stop()


def auto_progress(stream=None):
    """A rich bar when stderr is a terminal, plain lines otherwise (CI, logs, pipes)."""
    s = stream or sys.stderr
    if hasattr(s, "isatty") and s.isatty() and os.environ.get("TERM") != "dumb":
        return RichProgress()
    return PlainProgress(stream)


class _NoProgress:
    def start(self, total):
        pass

    def advance(self, result):
        pass

    def message(self, text):
        pass

    def close(self):
        pass
