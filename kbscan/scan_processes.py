"""Collection spread over processes: the per-host work is CPU-bound Python (XML, NTLM,
parsing), so one process tops out near a hundred hosts a second whatever its threads.

Children are forked and take targets from one shared queue, so a share never waits on
another process's slow hosts; each runs the usual worker threads with the same per-host
deadline, and sends each host's facts back. Only the parent writes the journal and
reports progress, so the journal stays one file with one line per host, resume works as
before, and Ctrl-C in the parent ends the children at once. A child that dies leaves its
unfinished hosts as UNKNOWN records, never missing ones.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue as queues
import signal
from collections.abc import Callable, Iterator
from typing import Any

from kbscan.collect.interface import Collector
from kbscan.model import HostFacts, Target
from kbscan.scan_threads import FactsSink, collect_threads, failed


def scan_in_processes(
    todo: list[Target],
    make_collector: Callable[[], Collector],
    journal: FactsSink,
    results: dict[str, HostFacts],
    *,
    processes: int,
    workers: int,
    retries: int,
    backoff: float,
    deadline: float,
    on_result: Callable[[HostFacts], None] | None,
) -> tuple[int, int]:
    """Collect ``todo`` over ``processes`` children; returns (round trips, retries)."""
    context = multiprocessing.get_context("fork")
    tasks: Any = context.Queue()
    answers: Any = context.Queue()
    for target in todo:
        tasks.put(target)
    for _ in range(processes):
        tasks.put(None)
    share = max(1, workers // processes)
    children = [
        context.Process(
            target=_child,
            args=(tasks, answers, make_collector, share, retries, backoff, deadline),
            name=f"kbscan-collect-{i}",
            daemon=True,
        )
        for i in range(processes)
    ]
    for child in children:
        child.start()
    trips = retried = finished = 0
    waiting = {t.host.lower(): t for t in todo}
    try:
        while finished < processes:  # every child ends with its counts
            try:
                batch = [answers.get(timeout=0.5)]
            except queues.Empty:
                if not any(child.is_alive() for child in children):
                    break  # every child is gone; what they left unfinished is said below
                continue
            with contextlib.suppress(queues.Empty):
                while len(batch) < 256:  # what else has arrived: one fsync for them all
                    batch.append(answers.get_nowait())
            arrived = [payload for kind, payload in batch if kind == "facts"]
            for facts in arrived:
                journal.append(facts, sync=False)
            journal.sync()
            for facts in arrived:
                _report(facts, results, on_result)
                waiting.pop(facts.host.lower(), None)
            for kind, payload in batch:
                if kind == "stats":
                    trips, retried = trips + payload[0], retried + payload[1]
                    finished += 1
        collector = make_collector() if waiting else None
        for target in list(waiting.values()):  # a child died with these in hand
            assert collector is not None
            lost = failed(target, collector, "the collecting process ended unexpectedly")
            journal.append(lost)
            _report(lost, results, on_result)
    finally:
        for child in children:
            if child.is_alive():
                child.terminate()  # Ctrl-C, or a failure here: the children end with us
        for child in children:
            child.join(timeout=10)
    return trips, retried


def _report(
    facts: HostFacts,
    results: dict[str, HostFacts],
    on_result: Callable[[HostFacts], None] | None,
) -> None:
    results[facts.host.lower()] = facts
    if on_result is not None:
        on_result(facts)


class _Answers:
    """A child's journal: each host's facts go to the parent, which writes them."""

    def __init__(self, answers: Any) -> None:
        self.answers = answers

    def append(self, facts: HostFacts, *, sync: bool = True) -> None:
        self.answers.put(("facts", facts))

    def sync(self) -> None:
        pass  # the parent's journal syncs


def _child(
    tasks: Any,
    answers: Any,
    make_collector: Callable[[], Collector],
    workers: int,
    retries: int,
    backoff: float,
    deadline: float,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides, and ends us

    def targets() -> Iterator[Target]:
        while (target := tasks.get()) is not None:
            yield target

    counters = collect_threads(
        targets(), make_collector, _Answers(answers), {}, workers=workers, retries=retries,
        backoff=backoff, deadline=deadline, on_result=None,
    )  # fmt: skip
    answers.put(("stats", (counters["trips"], counters["retries"])))
