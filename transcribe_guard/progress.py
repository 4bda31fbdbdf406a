"""Progress displays on stderr, drawn only when stderr is a terminal (a pipe or a file gets none):
``ScanProgress`` for a scan (rich: the rule running, resources judged by it and overall, and the
rate), ``ProgressBar`` while collecting evidence (rules done of all, results so far).
"""

from __future__ import annotations

import time
from typing import Any, Callable, TextIO


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


class ScanProgress:
    """A scan's progress on stderr with rich, for every output format: ``Scanning [i/n] rule``, the
    resources the rule has judged and its rate, and the totals over all rules. Call it with the
    rule message as each rule starts, and ``evaluated(rule)`` per evaluation. Drawn only when
    ``stream`` is a terminal; rule names are shown as text (no rich markup)."""

    def __init__(self, stream: TextIO, enabled: bool = True, clock: Callable[[], float] = time.monotonic):
        self.enabled = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.stream = stream
        self.clock = clock
        self.started = clock()
        self.rule_started = self.started
        self.total = 0
        self.rule_count = 0
        self.message = ""
        self._live: Any = None
        self._updated = self.started

    UPDATE_SECONDS = 0.1

    def __call__(self, message: str) -> None:
        self.message, self.rule_count, self.rule_started = message, 0, self.clock()
        self._show()

    def evaluated(self, rule: str) -> None:
        self.total += 1
        self.rule_count += 1
        if self.enabled and self._live is not None:
            now = self.clock()
            if now - self._updated >= self.UPDATE_SECONDS:  # a new line at most 10 times a second
                self._updated = now
                self._live.update(self.line(), refresh=False)  # rich redraws it a few times a second

    def line(self) -> Any:
        from rich.text import Text

        now = self.clock()
        # Rates over at least a second: a rule that just started has no meaningful rate yet.
        rule_rate = self.rule_count / max(now - self.rule_started, 1.0)
        rate = self.total / max(now - self.started, 1.0)
        return Text(f"Scanning {self.message}: {self.rule_count:,} judged ({rule_rate:,.0f}/s); "
                    f"{self.total:,} overall ({rate:,.0f}/s)", no_wrap=True, overflow="ellipsis")

    def _show(self) -> None:
        if not self.enabled:
            return
        if self._live is None:
            from rich.console import Console
            from rich.live import Live

            console = Console(file=self.stream, markup=False, emoji=False, highlight=False)
            self._live = Live(self.line(), console=console, transient=True, refresh_per_second=4,
                              redirect_stdout=False, redirect_stderr=False)
            self._live.start(refresh=True)
        else:
            self._live.update(self.line(), refresh=True)

    def done(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


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
