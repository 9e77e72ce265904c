"""Scan a fleet: many hosts at once, each with its own deadline and retries, every
result journalled as it arrives.

Workers collect; only the calling thread writes the journal, so lines never interleave.
A host's failure is data (an UNKNOWN facts record), never an exception that stops the
others. Retries are for transient network errors only (refused or reset connections,
connect timeouts), with exponential backoff; refused credentials are never retried,
since retrying them locks accounts.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from kbscan.collect.deadline import WATCHDOG
from kbscan.collect.outcome import Collected
from kbscan.model import CollectionFailure, FailureCategory, HostFacts, Target

DEFAULT_WORKERS = 32
HOSTS_PER_PROCESS = 50  # below this, another process costs more than it brings


def default_processes(hosts: int, cores: int | None = None) -> int:
    """The machine's cores, but no process for fewer than HOSTS_PER_PROCESS hosts."""
    cores = cores or os.cpu_count() or 1
    return max(1, min(cores, hosts // HOSTS_PER_PROCESS))


log = logging.getLogger("kbscan.scan")


@dataclass(frozen=True)
class ScanStats:
    hosts: int
    skipped: int  # already in the journal (resume)
    round_trips: int
    retries: int
    seconds: float


class Collect(Protocol):
    def __call__(self, target: Target, deadline_at: float | None = None) -> Collected: ...


def scan_targets(
    targets: Iterable[Target],
    make_collector: Callable[[], Collect],
    journal: FactsSink,
    *,
    workers: int = DEFAULT_WORKERS,
    retries: int = 2,
    backoff: float = 1.0,
    done: dict[str, HostFacts] | None = None,
    on_result: Callable[[HostFacts], None] | None = None,
    deadline: float | None = None,
    processes: int = 1,
) -> tuple[dict[str, HostFacts], ScanStats]:
    """Collect every target not already ``done``; returns all facts by lower-case host.

    With ``deadline`` (seconds), a host's attempts and the backoff between them share one
    budget from its first attempt: no host holds a worker longer, whatever it does, so a
    scan ends within (hosts / workers, rounded up) x deadline, plus the journal's time.

    With ``processes`` above 1 the workers are spread over that many processes (the work
    per host is CPU-bound Python: XML, NTLM, parsing); this process alone writes the
    journal and reports each result, so resume and Ctrl-C behave as with one.
    """
    started = time.monotonic()
    results: dict[str, HostFacts] = dict(done or {})
    todo = [t for t in targets if t.host.lower() not in results]
    skipped = len(results)
    if processes > 1 and len(todo) > 1:
        from kbscan.scan_processes import scan_in_processes  # forks; only when asked

        trips, retried = scan_in_processes(
            todo, make_collector, journal, results, processes=processes, workers=workers,
            retries=retries, backoff=backoff, deadline=deadline, on_result=on_result,
        )  # fmt: skip
        return results, ScanStats(len(todo), skipped, trips, retried, time.monotonic() - started)
    counters = _collect_threads(
        iter(todo), make_collector, journal, results, workers=workers, retries=retries,
        backoff=backoff, deadline=deadline, on_result=on_result,
    )  # fmt: skip
    stats = ScanStats(
        len(todo), skipped, counters["trips"], counters["retries"], time.monotonic() - started
    )
    return results, stats


class FactsSink(Protocol):
    def append(self, facts: HostFacts, *, sync: bool = True) -> None: ...

    def sync(self) -> None: ...


def _collect_threads(
    queue: Iterator[Target],
    make_collector: Callable[[], Collect],
    journal: FactsSink,
    results: dict[str, HostFacts],
    *,
    workers: int,
    retries: int,
    backoff: float,
    deadline: float | None,
    on_result: Callable[[HostFacts], None] | None,
) -> dict[str, int]:
    """The worker threads of one process, taking targets as they finish others (the
    iterator may block: a process's share comes from a queue)."""
    local = threading.local()
    counters = {"trips": 0, "retries": 0}
    lock = threading.Lock()

    def work(target: Target) -> HostFacts:
        collect = getattr(local, "collect", None)
        if collect is None:
            collect = local.collect = make_collector()
        attempt = 0
        at = time.monotonic() + deadline if deadline is not None else None
        while True:
            try:
                result = collect(target) if at is None else collect(target, at)
            except Exception as exc:  # a collector bug must cost one host, not the scan
                log.warning("%s: collector failed: %s", target.host, type(exc).__name__)
                return HostFacts(
                    host=target.host,
                    collected_at=datetime.now(UTC),
                    target=target,
                    failure=CollectionFailure(
                        FailureCategory.WINRM_FAULT, f"collector failed ({type(exc).__name__})"
                    ),
                )
            with lock:
                counters["trips"] += result.round_trips
            pause = backoff * (2**attempt)
            if not result.transient or attempt >= retries:
                return result.facts
            if at is not None and time.monotonic() + pause >= at:
                return result.facts  # no time left in the host's budget for another try
            attempt += 1
            with lock:
                counters["retries"] += 1
            log.info("%s: transient failure, retry %d of %d", target.host, attempt, retries)
            time.sleep(pause)

    executor = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="kbscan")
    pending: set[Future[HostFacts]] = set()
    try:
        for target in queue:
            pending.add(executor.submit(work, target))
            if len(pending) >= workers * 2:
                break
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            done_now = [future.result() for future in finished]
            for _ in done_now:  # keep the workers busy before writing
                nxt = next(queue, None)
                if nxt is not None:
                    pending.add(executor.submit(work, nxt))
            for facts in done_now:
                journal.append(facts, sync=False)
            journal.sync()  # group commit: on disk before anyone is told
            for facts in done_now:
                log.info(
                    "%s: collected%s",
                    facts.host,
                    f" ({facts.failure.category.value})" if facts.failure else "",
                )
                results[facts.host.lower()] = facts
                if on_result is not None:
                    on_result(facts)
    except KeyboardInterrupt:
        WATCHDOG.expire_all()  # every conversation ends now; the workers unwind at once
        raise
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    return counters
