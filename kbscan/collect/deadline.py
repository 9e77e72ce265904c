"""A per-host deadline that holds whatever the host sends or withholds.

A read timeout bounds each socket read, not an answer: a host that drips one byte a
second, or never ends its headers, keeps a read alive forever. So every host's
conversation gets a Guard, and one watchdog thread for the whole process holds every
guard's wall-clock deadline. At the deadline the watchdog shuts the host's sockets down
from the client side: the blocked read returns at once, the conversation fails, and the
collector reports ``timeout`` with the phase it was in. Nothing is abandoned: no thread
is left running and no socket left open, because the worker itself unwinds.

The sockets are known because pywinrm's own requests session gets a GuardedAdapter
mounted on it: its connections register their sockets with the guard of the thread
that opened them, and the adapter caps connect and read timeouts at the time left,
records the phase (connecting, TLS handshake, waiting for headers, body still arriving),
refuses redirects (they would carry the NTLM exchange to another address) and caps the
size of an answer. Name resolution is the one step no socket exists for; it is bounded
by the system resolver's own timeouts.

A library that offers no hook for its sockets (impacket opens its own for SMB) is
guarded through Python's audit events: with ``capture_connects`` on, every socket the
conversation's thread connects is registered with its guard before it connects.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from kbscan.limits import HostDeadline

# A WS-Management answer is at most the server's MaxEnvelopeSize (150 KB on Windows
# Server 2003, 500 KB on 2008 R2); anything far above is a flood, not an answer.
MAX_RESPONSE_BYTES = 8 * 1024 * 1024


class DeadlineExceeded(Exception):
    """The host's deadline passed; ``phase`` is what the conversation was waiting for."""

    def __init__(self, phase: str) -> None:
        super().__init__(phase)
        self.phase = phase


class HostileAnswer(Exception):
    """An answer kbscan will not read or follow: a redirect, or a flood (``too_large``)."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


class Guard:
    """One host's deadline, the sockets of its conversation, and what it is doing now."""

    def __init__(self, seconds: float, *, at: float | None = None) -> None:
        self.seconds = seconds
        self.at = at if at is not None else time.monotonic() + seconds
        self.phase = "connecting"
        self.operation = ""
        self.expired_phase: str | None = None
        self.finished = False
        self.capture_connects = False  # register every socket this thread connects
        self._sockets: list[socket.socket] = []  # to shut down at the deadline
        self._owned: list[socket.socket] = []  # every socket of the conversation
        self._lock = threading.Lock()

    @property
    def expired(self) -> bool:
        return self.expired_phase is not None

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def describe(self) -> str:
        doing = f"{self.phase} ({self.operation})" if self.operation else self.phase
        return f"no complete answer within {self.seconds:g} s: {doing}"

    def check(self) -> None:
        if self.expired or self.remaining() <= 0:
            self.expire()
            raise DeadlineExceeded(self.expired_phase or self.describe())

    def register(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                _shut(sock)
                raise DeadlineExceeded(self.expired_phase or self.describe())
            self._sockets.append(sock)
            self._owned.append(sock)

    def expire(self) -> None:
        """Close the conversation from the client side; safe from any thread, once."""
        with self._lock:
            if self.expired or self.finished:
                return
            self.expired_phase = self.describe()
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)

    def finish(self) -> None:
        """The conversation is over: close what is left of its sockets, in the thread
        that owned them. A library that drops a connection on an error (urllib3 does
        with a response it was reading) would otherwise leave it to the garbage
        collector, and a scan of thousands of hosts to the descriptor limit."""
        with self._lock:
            self.finished = True
            self._sockets = []
            owned, self._owned = self._owned, []
        for sock in owned:
            with contextlib.suppress(OSError):
                sock.close()


def _shut(sock: socket.socket) -> None:
    # shutdown, not close: the owning thread still holds the descriptor and closes it
    # when it unwinds, so a recycled descriptor number can never be shut by mistake.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One thread for every guard in the process: sleeps until the next deadline."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Guard]] = []
        self._count = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._live: set[Guard] = set()

    def watch(self, guard: Guard) -> None:
        with self._cond:
            heapq.heappush(self._heap, (guard.at, next(self._count), guard))
            self._live.add(guard)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="kbscan-deadlines", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def forget(self, guard: Guard) -> None:
        with self._cond:
            self._live.discard(guard)

    def expire_all(self) -> None:
        """Ctrl-C: end every conversation now, so the workers unwind promptly."""
        with self._cond:
            live = list(self._live)
        for guard in live:
            guard.expire()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and (self._heap[0][2].finished or self._heap[0][2].expired):
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                at, _, guard = self._heap[0]
                wait = at - time.monotonic()
                if wait > 0:
                    self._cond.wait(timeout=wait)
                    continue
                heapq.heappop(self._heap)
            guard.expire()


WATCHDOG = _Watchdog()
_current = threading.local()


@contextlib.contextmanager
def guarded(deadline: HostDeadline) -> Iterator[Guard]:
    """The guard of this thread's conversation with one host, watched until it ends."""
    guard = Guard(deadline.seconds, at=deadline.at)
    _current.guard = guard
    WATCHDOG.watch(guard)
    try:
        yield guard
    finally:
        guard.finish()
        WATCHDOG.forget(guard)
        _current.guard = None


def current_guard() -> Guard | None:
    guard: Guard | None = getattr(_current, "guard", None)
    return guard


_audit_lock = threading.Lock()
_audit_installed = False


def capture_connects(guard: Guard) -> None:
    """Register with ``guard`` every socket its thread connects from now on, whichever
    library opens it: the watchdog can then end a conversation that is stuck anywhere,
    the connect itself included. The audit hook is installed once per process and costs
    a dictionary lookup for a thread with no capturing guard."""
    global _audit_installed
    with _audit_lock:
        if not _audit_installed:
            sys.addaudithook(_on_audit_event)
            _audit_installed = True
    guard.capture_connects = True


def _on_audit_event(event: str, args: tuple[Any, ...]) -> None:
    if event != "socket.connect":
        return
    guard: Guard | None = getattr(_current, "guard", None)
    if guard is not None and guard.capture_connects and isinstance(args[0], socket.socket):
        guard.register(args[0])  # raises DeadlineExceeded past the deadline: no connect


class _PhaseMixin:
    """Marks the guard's phase as the connection moves: connecting, (TLS handshake),
    sending the request, waiting for the answer's headers."""

    _after_connect = "sending the request"

    def _new_conn(self) -> socket.socket:
        guard = current_guard()
        if guard is not None:
            guard.phase = "connecting"
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        if guard is not None:
            guard.register(sock)
            guard.phase = self._after_connect
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        guard = current_guard()
        if guard is not None and guard.phase != "TLS handshake":
            guard.phase = "sending the request"
        super().request(*args, **kwargs)  # type: ignore[misc]

    def getresponse(self) -> Any:
        guard = current_guard()
        if guard is not None:
            guard.phase = "waiting for the answer's headers"
        return super().getresponse()  # type: ignore[misc]


class _GuardedHTTPConnection(_PhaseMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_PhaseMixin, HTTPSConnection):
    _after_connect = "TLS handshake"


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """requests' adapter with the guard's bounds on every request of one conversation."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
        **kwargs: Any,
    ) -> requests.Response:  # fmt: skip
        guard = self.guard
        guard.check()
        left = max(0.05, guard.remaining())
        read = timeout[1] if isinstance(timeout, tuple) else timeout
        connect = timeout[0] if isinstance(timeout, tuple) else timeout
        bounded = (min(connect or left, left), min(read or left, left))
        response = super().send(request, stream=stream, timeout=bounded, **kwargs)
        if response.is_redirect or 300 <= response.status_code < 400:
            location = response.headers.get("Location", "")[:200]
            response.close()
            raise HostileAnswer(
                f"HTTP {response.status_code} redirect to {location or 'nowhere'}; not followed "
                "(it would carry the authentication to another address)"
            )
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > MAX_RESPONSE_BYTES:
            response.close()
            raise HostileAnswer(
                f"an answer of {int(length)} bytes, above {MAX_RESPONSE_BYTES}; not read",
                too_large=True,
            )
        _cap(response, guard)
        guard.phase = "body still arriving"
        return response


def _cap(response: requests.Response, guard: Guard) -> None:
    """Stop reading a body past MAX_RESPONSE_BYTES, whatever its framing claims."""
    raw = response.raw
    stream = raw.stream
    counted = [0]

    def capped(*args: Any, **kwargs: Any) -> Iterator[bytes]:
        for chunk in stream(*args, **kwargs):
            counted[0] += len(chunk)
            if counted[0] > MAX_RESPONSE_BYTES:
                raise HostileAnswer(
                    f"an answer above {MAX_RESPONSE_BYTES} bytes; stopped reading", too_large=True
                )
            yield chunk

    raw.stream = capped  # type: ignore[method-assign]


def mount(session: requests.Session, guard: Guard) -> None:
    """Put the guard's adapter on every URL scheme of a pywinrm session."""
    adapter = GuardedAdapter(guard)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
