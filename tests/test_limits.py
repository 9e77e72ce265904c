"""One limits record: the scan's defaults written once, a host's deadline absolute."""

from __future__ import annotations

import time

from kbscan.cli import _parser
from kbscan.limits import DEFAULTS, HostDeadline


def test_a_host_deadline_is_absolute_and_says_its_budget() -> None:
    before = time.monotonic()
    deadline = HostDeadline.from_now(30)
    assert before + 30 <= deadline.at <= time.monotonic() + 30
    assert deadline.seconds == 30 and not deadline.passed()
    assert HostDeadline(time.monotonic() - 1, 5).passed()


def test_the_command_line_defaults_are_the_limits_defaults() -> None:
    args = _parser().parse_args(["scan", "inventory.csv", "--kb", "KB934709"])
    assert (args.deadline, args.read_timeout, args.operation_timeout) == (
        DEFAULTS.deadline,
        DEFAULTS.read_timeout,
        DEFAULTS.operation_timeout,
    )
    assert (args.retries, args.workers, args.processes) == (
        DEFAULTS.retries,
        DEFAULTS.workers,
        DEFAULTS.processes,
    )
