"""What a long run shows while it works: bars on a terminal, a line every half minute under cron.

``Progress`` (one step per feed) and ``CountBar`` (entries counted, e.g. the upgrade's
re-embedding) draw bars on a terminal. Off a terminal (cron, a service's journal) ``Heartbeat``
prints a line about every 30 s at the default level — the stage the run is in and its counts —
so that a log shows a run of many minutes is alive; ``-q`` silences it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Callable

log = logging.getLogger("aggregator")
beat_log = logging.getLogger("aggregator.progress")  # enabled at the default level (see main)


def _bar_stream(stream, quiet: int):
    """(the stream, whether to draw bars on it): sys.stderr as it is now, not as it was when this
    module was imported; bars only on a terminal, and not with --quiet."""
    stream = stream if stream is not None else sys.stderr
    return stream, stream.isatty() and quiet == 0 and os.environ.get("TERM") != "dumb"


def _bar(done: int, total: int, width: int = 24) -> str:
    filled = int(width * done / max(total, 1))
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Heartbeat:
    """Off a terminal, a line every ``every`` seconds while the run works (see the module doc)."""

    def __init__(self, quiet: int, stream=None, every: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        _, tty = _bar_stream(stream, quiet)
        self.enabled = not tty and quiet < 1 and every > 0
        self.every, self.clock = every, clock
        self.started = clock()
        self.stage = "starting"
        self.detail: Callable[[], str] = lambda: ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def at(self, stage: str, detail: Callable[[], str] | None = None) -> None:
        """The run entered ``stage``; ``detail()`` says how far it is (read at each line)."""
        self.stage = stage
        self.detail = detail or (lambda: "")
        log.info("%s", stage)

    def line(self) -> str:
        detail = self.detail()
        return (f"still working ({_duration(self.clock() - self.started)}): {self.stage}"
                + (f": {detail}" if detail else ""))

    def __enter__(self) -> "Heartbeat":
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="aggregator-heartbeat",
                                            daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                beat_log.info("%s", self.line())
            except Exception:  # a progress line must never stop a run
                pass


class Progress:
    """A progress bar on a terminal, plain log lines otherwise (cron); keeps the counts the
    heartbeat reports."""

    def __init__(self, total: int, quiet: int, verbose: int, stream=None):
        self.total, self.done, self.quiet, self.verbose = total, 0, quiet, verbose
        self.new = self.failed = 0
        self.stream, self.tty = _bar_stream(stream, quiet)

    def __call__(self, outcome) -> None:
        self.done += 1
        self.new += outcome.new_entries
        self.failed += outcome.status == "failed"
        line = f"{outcome.source.id}: {outcome.status}"
        if outcome.new_entries:
            line += f", {outcome.new_entries} new"
        if outcome.error:
            line += f" — {outcome.error}"
        if self.tty:
            self.stream.write(f"\r\x1b[2K{_bar(self.done, self.total)} {self.done}/{self.total} {line[:60]}")
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()
        elif self.verbose > 0 or (outcome.error and self.quiet == 0):
            log.log(logging.WARNING if outcome.error else logging.INFO, "%s", line)

    def describe(self) -> str:
        return (f"{self.done:,} of {self.total:,} feeds done, {self.new:,} new entries"
                + (f", {self.failed:,} failed" if self.failed else ""))


class CountBar:
    """A bar for long work counted in entries, called with (done, total): the first run after an
    upgrade embedding the stored entries again. On a terminal only; elsewhere (cron) the
    heartbeat reports the counts."""

    def __init__(self, label: str, quiet: int, stream=None):
        self.label = label
        self.done = self.total = 0
        self.stream, self.tty = _bar_stream(stream, quiet)

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        if not self.tty:
            return
        self.stream.write(f"\r\x1b[2K{_bar(done, total)} {done}/{total} {self.label}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()

    def describe(self) -> str:
        return f"{self.done:,} of {self.total:,} done"
