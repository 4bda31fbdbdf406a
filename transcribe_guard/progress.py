"""Progress displays on stderr, drawn only when stderr is a terminal (a pipe or a file gets none):
``Progress`` for a scan (one line naming the rule running), ``ProgressBar`` while collecting
evidence (rules done of all, results so far).
"""

from __future__ import annotations

from typing import TextIO


class _Line:
    """One line rewritten in place with a carriage return, and wiped when done."""

    def __init__(self, stream: TextIO, enabled: bool = True):
        self.stream = stream
        self.enabled = enabled and hasattr(stream, "isatty") and stream.isatty()
        self._width = 0

    def show(self, text: str) -> None:
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)

    def done(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


class Progress(_Line):
    """A scan's progress: ``Scanning [i/n] rule``."""

    def __call__(self, message: str) -> None:
        if self.enabled:
            self.show(f"Scanning {message}")


class ProgressBar(_Line):
    """A progress bar while collecting evidence."""

    WIDTH = 28

    def __call__(self, done: int, total: int, results: int) -> None:
        if not self.enabled:
            return
        filled = int(self.WIDTH * done / total) if total else self.WIDTH
        text = f"Collecting [{'#' * filled}{'-' * (self.WIDTH - filled)}] {done}/{total} rules"
        if results >= 0:  # -1: not known yet (a local scan reports its results at the end)
            text += f", {results:,} results"
        self.show(text)
