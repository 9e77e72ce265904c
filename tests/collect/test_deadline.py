"""One host's deadline: the watchdog shuts its sockets at the deadline, a late socket
is refused, a thread's connects are captured, and the end of the conversation closes
what is left."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from kbscan.collect.deadline import DeadlineExceeded, Guard, capture_connects, guarded
from kbscan.limits import HostDeadline


def _listener() -> socket.socket:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    return server


def test_the_watchdog_ends_a_read_that_waits_past_the_deadline() -> None:
    server = _listener()
    try:
        started = time.monotonic()
        with guarded(HostDeadline.from_now(0.5)) as guard:
            client = socket.create_connection(server.getsockname())
            guard.register(client)
            accepted, _ = server.accept()
            assert client.recv(10) == b""  # shut down under the waiting read, not hung
            accepted.close()
        assert 0.4 < time.monotonic() - started < 3
        assert guard.expired and guard.expired_phase is not None
        assert client.fileno() == -1  # the end of the conversation closed it
    finally:
        server.close()


def test_a_socket_registered_after_the_deadline_is_refused() -> None:
    guard = Guard(0.01)
    time.sleep(0.05)
    with pytest.raises(DeadlineExceeded):
        guard.check()
    with socket.socket() as late, pytest.raises(DeadlineExceeded):
        guard.register(late)


def test_captured_connects_are_the_guards_own() -> None:
    server = _listener()
    seen: list[int] = []
    try:

        def converse() -> None:
            with guarded(HostDeadline.from_now(5)) as guard:
                capture_connects(guard)
                sock = socket.create_connection(server.getsockname())
                seen.append(len(guard._owned))  # registered by the audit hook
                sock.close()

        thread = threading.Thread(target=converse)
        thread.start()
        thread.join(5)
        other = socket.create_connection(server.getsockname())  # no guard on this thread
        other.close()
    finally:
        server.close()
    assert seen == [1]


def test_the_describe_names_the_phase_and_the_operation() -> None:
    guard = Guard(3)
    guard.phase, guard.operation = "waiting for the answer's headers", "reading the probe's output"
    assert guard.describe() == (
        "no complete answer within 3 s: waiting for the answer's headers "
        "(reading the probe's output)"
    )
