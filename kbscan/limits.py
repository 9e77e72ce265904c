"""How far a scan may go, with its defaults written once: the per-host deadline (the
wall-clock bound of a host's whole conversation, retries included), the read and
WS-Management operation timeouts of one request, the retries after a transient network
failure, and how many hosts at once (threads, processes). The CLI's defaults, the scan's
and the collectors' settings all come from here."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    deadline: float = 120.0  # seconds per host, all in
    read_timeout: int = 30  # connect and read timeout of one request, seconds
    operation_timeout: int = 20  # WS-Man OperationTimeout, seconds (below read_timeout)
    retries: int = 2  # for refused, reset or timed-out connections only
    workers: int = 32  # hosts at once
    processes: int | None = None  # None: the machine's cores, one per 50 hosts at least


DEFAULTS = Limits()


@dataclass(frozen=True)
class HostDeadline:
    """When one host's conversation must end (``at``, time.monotonic) and the budget it
    was given (``seconds``, for the message that says so). The scan sets it once per host;
    its retries share it; a collector is handed this and nothing else of the limits."""

    at: float
    seconds: float

    @classmethod
    def from_now(cls, seconds: float) -> HostDeadline:
        return cls(time.monotonic() + seconds, seconds)

    def passed(self) -> bool:
        return time.monotonic() >= self.at
