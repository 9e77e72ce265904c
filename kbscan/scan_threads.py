"""The worker threads of one collecting process, and what they hand the journal.

A worker takes a target, holds one conversation (with retries inside the host's one
budget), and returns its facts; only the thread that called ``collect_threads`` writes
the journal, in group commits, so lines never interleave. A collector that raises costs
that host (recorded as that collector's own fault), never the scan.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import Protocol

from kbscan.collect.deadline import WATCHDOG
from kbscan.collect.interface import Collector
from kbscan.limits import HostDeadline
from kbscan.model import CollectionFailure, HostFacts, Target

log = logging.getLogger("kbscan.scan")


def failed(target: Target, collector: Collector, message: str) -> HostFacts:
    """The facts of a host whose conversation ended without any: an UNKNOWN record, the
    fault of the collector that was talking to it."""
    return HostFacts(
        host=target.host,
        collected_at=datetime.now(UTC),
        collector=collector.read_by_for(target),
        target=target,
        failure=CollectionFailure(collector.fault_for(target), message),
    )


class FactsSink(Protocol):
    def append(self, facts: HostFacts, *, sync: bool = True) -> None: ...

    def sync(self) -> None: ...


def collect_threads(
    queue: Iterator[Target],
    make_collector: Callable[[], Collector],
    journal: FactsSink,
    results: dict[str, HostFacts],
    *,
    workers: int,
    retries: int,
    backoff: float,
    deadline: float,
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
        budget = HostDeadline.from_now(deadline)  # one for all its attempts
        while True:
            try:
                result = collect.collect(target, budget)
            except Exception as exc:  # a collector bug must cost one host, not the scan
                log.warning("%s: collector failed: %s", target.host, type(exc).__name__)
                return failed(target, collect, f"collector failed ({type(exc).__name__})")
            with lock:
                counters["trips"] += result.round_trips
            pause = backoff * (2**attempt)
            if not result.transient or attempt >= retries:
                return result.facts
            if time.monotonic() + pause >= budget.at:
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
