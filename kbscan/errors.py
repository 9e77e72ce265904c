"""The root of kbscan's error types.

Each stage (KB sources, collectors, readers of facts, report formats) raises its own
subclass, so the CLI can map any of them to a one-line message and an exit code without
knowing the stage. A location (file and, where known, line) is part of every message,
because an operator fixes input files, not stack traces.
"""

from __future__ import annotations


class KbscanError(Exception):
    """An error kbscan explains in one line; never carries a secret."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.message = message
        self.path = path
        self.line = line
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path if self.line is None else f"{self.path}:{self.line}"
            where += ": "
        return f"{where}{self.message}"


class InputError(KbscanError):
    """A file the operator gave us (facts, inventory, policy) is malformed."""
