"""What kbscan does on the operator's terminal beyond printing: a progress bar while a
scan runs, and log lines when asked for with -v."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TextIO

from tqdm import tqdm

from kbscan.model import HostFacts


class Progress:
    """A progress bar on a terminal; silence elsewhere (CI logs, pipes)."""

    def __init__(self, stream: TextIO, disabled: bool) -> None:
        self.stream = stream
        self.enabled = not disabled and hasattr(stream, "isatty") and stream.isatty()
        self.bar: Any = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def start(self, total: int) -> None:
        if self.bar is not None:
            self.bar.close()  # a new scan (the demo scans once per KB)
        if self.enabled:
            self.bar = tqdm(total=total, file=self.stream, unit="host", desc="scanning")

    def update(self, facts: HostFacts) -> None:
        if self.bar is not None:
            self.bar.update(1)


def configure_logging(verbosity: int, stderr: TextIO) -> Callable[[], None]:
    """-v: one line per host; -vv: everything, the HTTP library included. Returns what
    undoes it: a run in-process (tests, a caller of ``run``) leaves logging as it was."""
    if not verbosity:
        return lambda: None
    handler = logging.StreamHandler(stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root, ours = logging.getLogger(), logging.getLogger("kbscan")
    saved = (root.handlers[:], root.level, ours.level)
    root.handlers = [handler]
    root.setLevel(logging.DEBUG if verbosity > 1 else logging.WARNING)
    ours.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO)

    def restore() -> None:
        root.handlers = saved[0]
        root.setLevel(saved[1])
        ours.setLevel(saved[2])

    return restore
