"""Collect one host's facts over WinRM with pywinrm: one shell, one command.

pywinrm's ``Session.run_cmd`` retries the Receive forever on an operation timeout, so the
protocol calls are made here with a per-host deadline. Every library error is caught at
this boundary and becomes a CollectionFailure of the right category; nothing a failure
says may hold the password.
"""

from __future__ import annotations

import contextlib
import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests
from winrm.exceptions import (
    InvalidCredentialsError,
    WinRMError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
    WSManFaultError,
)
from winrm.protocol import Protocol

from kbscan.collect.deadline import (
    DeadlineExceeded,
    Guard,
    GuardedAdapter,
    HostileAnswer,
    guarded,
    mount,
)
from kbscan.collect.interface import Collector
from kbscan.collect.kerberos import principal_of, refusal
from kbscan.collect.outcome import Collected, HostFailure
from kbscan.collect.plan import CollectionPlan
from kbscan.collect.probe import MAX_OUTPUT_BYTES, build_probe, parse_probe_output
from kbscan.limits import DEFAULTS, HostDeadline
from kbscan.model import CollectionFailure, FailureCategory, HostFacts, ReadBy, Target

OPERATION_TIMEOUT_FAULT = 2150858793
log = logging.getLogger("kbscan.winrm")
_PYWINRM_TRANSPORTS = {
    "ntlm": "ntlm",
    "kerberos": "kerberos",
    "credssp": "credssp",
    "basic": "basic",
    "certificate": "certificate",
}


_TRANSPORT_EXTRAS = {"kerberos": "kerberos", "credssp": "credssp"}


def transport_missing(transport: str) -> str | None:
    """What to install when pywinrm lacks the library a transport needs, else None."""
    from winrm import transport as pywinrm_transport

    available = {
        "kerberos": pywinrm_transport.HAVE_KERBEROS,
        "credssp": pywinrm_transport.HAVE_CREDSSP,
        "ntlm": pywinrm_transport.HAVE_NTLM,
    }
    if available.get(transport, True):
        return None
    extra = _TRANSPORT_EXTRAS.get(transport)
    return f"pip install 'kbscan[{extra}]'" if extra else "reinstall pywinrm"


# WinRM 2.0's listeners (Vista and later, WMF 2.0 on 2003); WinRM 1.1 used 80 and 443
HTTP_PORT, HTTPS_PORT = 5985, 5986
PORTS_SAID = f"WinRM 1.1: ports 80/443; WinRM 2.0: {HTTP_PORT}/{HTTPS_PORT}"

# What an operator does about each failure of a WinRM conversation.
ADVICE = {
    FailureCategory.UNREACHABLE: f"Check that the host is up and WinRM listens ({PORTS_SAID}), "
    "then rescan.",
    FailureCategory.REFUSED_CREDENTIALS: "Check the account, its password and the transport "
    "(Basic is off by default on Windows), then rescan.",
    FailureCategory.TIMEOUT: "Check the host's load and the network path; rescan with a "
    "longer --operation-timeout.",
    FailureCategory.WINRM_FAULT: "Read the WinRM fault, fix the listener or its quotas, "
    "then rescan.",
    FailureCategory.UNPARSEABLE_OUTPUT: "Run the probe by hand on the host and report the "
    "output; rescan.",
}


@dataclass(frozen=True)
class WinrmSettings:
    """How to reach hosts; the password is kept out of repr and never logged."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    transport: str = "ntlm"
    scheme: str = "http"
    port: int | None = None
    ca_bundle: str | None = None
    verify_certificates: bool = True
    cert_pem: str | None = None
    cert_key_pem: str | None = None
    operation_timeout: int = DEFAULTS.operation_timeout
    read_timeout: int = DEFAULTS.read_timeout
    fetch_files: bool = False
    allow_basic_over_http: bool = False
    kdc: str | None = None  # Kerberos: where SMB asks for service tickets

    def endpoint(self, target: Target) -> str:
        scheme = target.scheme or self.scheme
        port = target.port or self.port or (HTTPS_PORT if scheme == "https" else HTTP_PORT)
        address = target.address or target.host
        if ":" in address and not address.startswith("["):
            address = f"[{address}]"
        return f"{scheme}://{address}:{port}/wsman"


class WinrmCollector(Collector):
    """Collects what a plan (one KB or a set) needs from one target at a time; build one
    per worker thread."""

    fault = FailureCategory.WINRM_FAULT
    read_by = ReadBy.WINRM

    def __init__(
        self,
        plan: CollectionPlan,
        settings: WinrmSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.plan = plan
        self.settings = settings
        self.clock = clock
        self.probe = build_probe(plan, fetch=settings.fetch_files)

    def collect(self, target: Target, deadline: HostDeadline) -> Collected:
        """One host's facts; ``deadline`` ends the conversation (a scan's retries share it)."""
        with guarded(deadline) as guard:
            return self._collect(target, guard)

    def _collect(self, target: Target, guard: Guard) -> Collected:
        started = self.clock()
        trips = [0]
        log.debug(
            "%s: connecting to %s (%s)",
            target.host,
            self.settings.endpoint(target),
            target.transport or self.settings.transport,
        )
        try:
            output = self._run(target, trips, guard)
        except HostFailure as failure:
            log.info(
                "%s: %s: %s", target.host, failure.category.value, self._scrub(failure.message)
            )
            return Collected(
                self._failed(target, started, failure.category, failure.message),
                trips[0],
                failure.transient,
                answered=guard.phase != "connecting",
            )
        facts = parse_probe_output(output, self.plan, target, started, ReadBy.WINRM, ADVICE)
        log.debug("%s: %d bytes in %d round trips", target.host, len(output), trips[0])
        return Collected(facts, trips[0], False)

    def _failed(
        self, target: Target, started: datetime, category: FailureCategory, message: str
    ) -> HostFacts:
        return HostFacts(
            host=target.host,
            collected_at=started,
            collector=ReadBy.WINRM,
            target=target,
            failure=CollectionFailure(category, self._scrub(message), ADVICE.get(category)),
        )

    def _scrub(self, message: str) -> str:
        password = self.settings.password
        if password:
            message = message.replace(password, "********")
        return "".join(c if c.isprintable() else " " for c in message)[:500]

    def _run(self, target: Target, trips: list[int], guard: Guard) -> bytes:
        s = self.settings
        transport = target.transport or s.transport
        scheme = target.scheme or s.scheme
        if transport == "basic" and scheme == "http" and not s.allow_basic_over_http:
            raise HostFailure(
                FailureCategory.REFUSED_CREDENTIALS,
                "basic auth over plain HTTP refused (password in clear text); use https, "
                "another transport or --allow-basic-over-http",
            )
        protocol: Protocol | None = None
        try:
            protocol = Protocol(
                endpoint=s.endpoint(target),
                transport=_PYWINRM_TRANSPORTS.get(transport, transport),  # type: ignore[arg-type]
                # Kerberos names the account user@REALM; the ticket is the scan's, no password
                username=principal_of(target.username or s.username)
                if transport == "kerberos"
                else target.username or s.username,
                password=None if transport == "kerberos" else s.password,
                server_cert_validation="validate" if s.verify_certificates else "ignore",
                ca_trust_path=s.ca_bundle,  # type: ignore[arg-type]  # None: requests' own bundle, no env surprises
                cert_pem=s.cert_pem,
                cert_key_pem=s.cert_key_pem,
                read_timeout_sec=s.read_timeout,
                operation_timeout_sec=s.operation_timeout,
                # the host's service principal is HTTP/ its name, whatever address is dialled
                kerberos_hostname_override=target.host if transport == "kerberos" else None,
            )
            _guard_session(protocol, guard)
            guard.operation = "opening the shell"
            shell_id = self._call(trips, protocol.open_shell, codepage=437)
            try:
                guard.operation = "starting the probe"
                command_id = self._call(trips, protocol.run_command, shell_id, self.probe)
                guard.operation = "reading the probe's output"
                output = self._receive(protocol, shell_id, command_id, guard, trips)
                guard.operation = "ending the command"
                self._call(trips, protocol.cleanup_command, shell_id, command_id)
            except BaseException:
                if guard.remaining() <= _SPENT:
                    guard.expire()  # time ran out here: the phase is this one, not cleanup's
                raise
            finally:
                if not guard.expired:  # past the deadline, nothing more is sent
                    guard.operation = "closing the shell"
                    with contextlib.suppress(Exception):  # the answer is in hand, or lost
                        self._call(trips, protocol.close_shell, shell_id)
            return output
        except HostFailure:
            raise
        except Exception as exc:
            raise _classify(exc, guard, target) from None
        finally:
            if protocol is not None:
                with contextlib.suppress(Exception):
                    protocol.transport.close_session()  # its sockets, now

    def _call(
        self, trips: list[int], func: Callable[..., object], *args: object, **kw: object
    ) -> str:
        trips[0] += 1
        return func(*args, **kw)  # type: ignore[return-value]

    def _receive(
        self, protocol: Protocol, shell_id: str, command_id: str, guard: Guard, trips: list[int]
    ) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            guard.check()  # a Receive loop that never reports Done ends here
            trips[0] += 1
            try:
                stdout, _stderr, _code, done = protocol.get_command_output_raw(shell_id, command_id)
            except WinRMOperationTimeoutError:
                continue
            chunks.append(stdout)
            total += len(stdout)
            if total > MAX_OUTPUT_BYTES:
                raise HostFailure(
                    FailureCategory.UNPARSEABLE_OUTPUT,
                    f"output larger than {MAX_OUTPUT_BYTES} bytes; stopped reading",
                )
            if done:
                return b"".join(chunks)


# A read that timed out this close to the deadline timed out because of it (the adapter
# caps every timeout at the time left).
_SPENT = 0.05


def _guard_session(protocol: Protocol, guard: Guard) -> None:
    """Mount the guard's adapter on pywinrm's session, once, before it first talks: NTLM
    with message encryption sends a request while the session is being built."""
    transport = protocol.transport
    build, setup = transport.build_session, transport.setup_encryption

    def guard_it(session: requests.Session) -> None:
        if not isinstance(session.get_adapter("http://x"), GuardedAdapter):
            mount(session, guard)
            # pywinrm resolved the proxies into the session when it built it; requests
            # would read the environment again for every request (a millisecond each)
            session.trust_env = False

    def setup_guarded(session: requests.Session) -> None:
        guard_it(session)
        setup(session)

    def build_guarded() -> requests.Session:
        if transport.session is not None:
            return transport.session
        session = build()
        guard_it(session)
        return session

    transport.setup_encryption = setup_guarded  # type: ignore[method-assign]
    transport.build_session = build_guarded  # type: ignore[method-assign]


def _classify(exc: Exception, guard: Guard, target: Target) -> HostFailure:
    """Turn whatever the client libraries raised into one host's failure category."""
    if guard.expired or isinstance(exc, DeadlineExceeded) or guard.remaining() <= _SPENT:
        guard.expire()
        return HostFailure(FailureCategory.TIMEOUT, guard.expired_phase or guard.describe())
    if isinstance(exc, HostileAnswer):
        category = (
            FailureCategory.UNPARSEABLE_OUTPUT if exc.too_large else FailureCategory.WINRM_FAULT
        )
        return HostFailure(category, str(exc))
    if (said := refusal(exc)) is not None:  # by Kerberos' own number
        return HostFailure(FailureCategory.REFUSED_CREDENTIALS, said)
    if isinstance(exc, (InvalidCredentialsError, PermissionError)):  # requests_ntlm: no challenge
        return HostFailure(
            FailureCategory.REFUSED_CREDENTIALS, "the server rejected the credentials (HTTP 401)"
        )
    if isinstance(exc, WSManFaultError):
        code = exc.wsman_fault_code
        if code == OPERATION_TIMEOUT_FAULT:
            return HostFailure(FailureCategory.TIMEOUT, "WinRM operation timed out")
        detail = f" (code {code})" if code else ""
        return HostFailure(
            FailureCategory.WINRM_FAULT, f"{exc.fault_subcode or 'fault'}: {exc.reason}{detail}"
        )
    if isinstance(exc, WinRMTransportError):
        return HostFailure(
            FailureCategory.WINRM_FAULT, f"HTTP {exc.code} with a body that is not a SOAP fault"
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return HostFailure(FailureCategory.UNREACHABLE, f"TLS: {_reason(exc)}")
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.ReadTimeout)):
        doing = f"{guard.phase} ({guard.operation})" if guard.operation else guard.phase
        return HostFailure(
            FailureCategory.TIMEOUT, f"no answer within the read timeout: {doing}", transient=True
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        return HostFailure(FailureCategory.UNREACHABLE, _reason(exc), transient=True)
    if isinstance(exc, requests.exceptions.RequestException):
        return HostFailure(FailureCategory.UNREACHABLE, _reason(exc))
    if isinstance(exc, ET.ParseError):
        return HostFailure(FailureCategory.UNPARSEABLE_OUTPUT, "the WinRM reply is not XML")
    if isinstance(exc, (AssertionError, StopIteration, KeyError, ValueError)):
        return HostFailure(
            FailureCategory.UNPARSEABLE_OUTPUT,
            f"the WinRM reply is not what WS-Management sends ({type(exc).__name__})",
        )
    if isinstance(exc, WinRMError):
        return HostFailure(FailureCategory.WINRM_FAULT, f"WinRM: {exc}")
    # a library failing in a way nobody listed: still one host
    log.debug("%s: unexpected %s", target.host, type(exc).__name__)
    return HostFailure(
        FailureCategory.WINRM_FAULT, f"unexpected client error ({type(exc).__name__})"
    )


def _reason(exc: BaseException) -> str:
    """The innermost reason of a requests error, without the URL's query or credentials."""
    inner: BaseException = exc
    while inner.__context__ is not None and inner.__context__ is not inner:
        inner = inner.__context__
    text = str(inner) or type(inner).__name__
    for marker in (
        "Connection refused",
        "Connection reset",
        "Name or service not known",
        "No route to host",
        "timed out",
        "certificate verify failed",
        "Remote end closed connection",
    ):
        if marker.lower() in str(exc).lower() or marker.lower() in text.lower():
            return (
                marker.lower()
                if marker != "Remote end closed connection"
                else ("connection closed by the host without an answer")
            )
    return text[:200]
