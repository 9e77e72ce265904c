"""Scan a fleet: many hosts at once, each with its own deadline and retries, every
result journalled as it arrives.

Workers collect; only the calling thread writes the journal, so lines never interleave.
A host's failure is data (an UNKNOWN facts record), never an exception that stops the
others. Retries are for transient network errors only (refused or reset connections,
connect timeouts), with exponential backoff; refused credentials are never retried,
since retrying them locks accounts.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kbscan.collect.interface import Collector
from kbscan.limits import DEFAULTS, Limits
from kbscan.model import HostFacts, Target
from kbscan.scan_processes import scan_in_processes
from kbscan.scan_threads import FactsSink, collect_threads

HOSTS_PER_PROCESS = 50  # below this, another process costs more than it brings


def default_processes(hosts: int, cores: int | None = None) -> int:
    """The machine's cores, but no process for fewer than HOSTS_PER_PROCESS hosts."""
    cores = cores or os.cpu_count() or 1
    return max(1, min(cores, hosts // HOSTS_PER_PROCESS))


@dataclass(frozen=True)
class ScanStats:
    hosts: int
    skipped: int  # already in the journal (resume)
    round_trips: int
    retries: int
    seconds: float


def scan_targets(
    targets: Iterable[Target],
    make_collector: Callable[[], Collector],
    journal: FactsSink,
    *,
    limits: Limits = DEFAULTS,
    backoff: float = 1.0,
    done: dict[str, HostFacts] | None = None,
    on_result: Callable[[HostFacts], None] | None = None,
) -> tuple[dict[str, HostFacts], ScanStats]:
    """Collect every target not already ``done``; returns all facts by lower-case host.

    A host's attempts and the backoff between them share one budget, ``limits.deadline``
    from its first attempt: no host holds a worker longer, whatever it does, so a scan
    ends within (hosts / workers, rounded up) x deadline, plus the journal's time.

    With ``limits.processes`` above 1 the workers are spread over that many processes (the
    work per host is CPU-bound Python: XML, NTLM, parsing); this process alone writes the
    journal and reports each result, so resume and Ctrl-C behave as with one (None: one).
    """
    workers, retries, deadline = limits.workers, limits.retries, limits.deadline
    processes = limits.processes or 1
    started = time.monotonic()
    results: dict[str, HostFacts] = dict(done or {})
    todo = [t for t in targets if t.host.lower() not in results]
    skipped = len(results)
    if processes > 1 and len(todo) > 1:
        trips, retried = scan_in_processes(
            todo, make_collector, journal, results, processes=processes, workers=workers,
            retries=retries, backoff=backoff, deadline=deadline, on_result=on_result,
        )  # fmt: skip
        return results, ScanStats(len(todo), skipped, trips, retried, time.monotonic() - started)
    counters = collect_threads(
        iter(todo), make_collector, journal, results, workers=workers, retries=retries,
        backoff=backoff, deadline=deadline, on_result=on_result,
    )  # fmt: skip
    stats = ScanStats(
        len(todo), skipped, counters["trips"], counters["retries"], time.monotonic() - started
    )
    return results, stats
