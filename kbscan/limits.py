"""How far a scan may go, with its defaults written once: the per-host deadline (the
wall-clock bound of a host's whole conversation, retries included), the read and
WS-Management operation timeouts of one request, the retries after a transient network
failure, and how many hosts at once (threads, processes). The CLI's defaults, the scan's
and the collectors' settings all come from here."""

from __future__ import annotations

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
