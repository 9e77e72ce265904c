"""The WS-Management shell protocol as a Windows host answers it, over HTTP on loopback.

Create, Command, Receive, Signal and Delete on the cmd resource URI; SOAP faults shaped
as Windows sends them (pywinrm reads the WSManFault code); Basic authentication. A
host's ``behaviour`` makes it misbehave the ways real fleets do: refuse credentials,
never finish (operation timeouts forever), reset the connection, fault, answer garbage,
answer slowly, print huge or truncated output.
"""

from __future__ import annotations

import base64
import contextlib
import os
import selectors
import ssl
import struct
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import spnego

from kbscan.simulator.profile import SimHost
from kbscan.simulator.shell import Shell

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
}
ACTION_CREATE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
ACTION_DELETE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
ACTION_COMMAND = SHELL + "/Command"
ACTION_RECEIVE = SHELL + "/Receive"
ACTION_SIGNAL = SHELL + "/Signal"
OPERATION_TIMEOUT_CODE = 2150858793
QUOTA_CODE = 2150859174
CHUNK = 256 * 1024  # bytes of output per Receive response
HUGE_OUTPUT = 80 * 1024 * 1024
_BOUNDARY = b"--Encrypted Boundary"
_KRB5_OID = bytes.fromhex("06092a864886f712010202")  # 1.2.840.113554.1.2.2, DER


def _envelope(action: str, relates_to: str, body: str) -> bytes:
    return (
        f'<s:Envelope xmlns:s="{NS["s"]}" xmlns:a="{NS["a"]}" xmlns:w="{NS["w"]}" '
        f'xmlns:rsp="{NS["rsp"]}" xmlns:x="{NS["x"]}">'
        f"<s:Header><a:Action>{action}</a:Action>"
        f"<a:MessageID>uuid:{uuid.uuid4()}</a:MessageID>"
        f"<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
        f"<a:RelatesTo>{relates_to}</a:RelatesTo></s:Header>"
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def _fault(relates_to: str, code: int, subcode: str, reason: str, machine: str) -> bytes:
    body = (
        f"<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>{subcode}</s:Value>"
        f'</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">{reason}</s:Text></s:Reason>'
        f'<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" '
        f'Code="{code}" Machine="{machine}"><f:Message>{reason}</f:Message></f:WSManFault>'
        f"</s:Detail></s:Fault>"
    )
    return _envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to, body)


class _Command:
    def __init__(self, stdout: bytes, stderr: bytes, code: int) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.code = code
        self.sent = 0


class HostState:
    """One simulated host: its profile, credentials and live shells."""

    def __init__(self, host: SimHost, username: str, password: str, kerberos: bool = False) -> None:
        self.host = host
        self.kerberos = kerberos  # accepts tickets for HTTP/HOST ($KRB5_KTNAME holds its key)
        self._auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.shells: dict[str, dict[str, _Command]] = {}
        self.lock = threading.Lock()
        self.requests = 0
        self.sealed_requests = 0  # bodies that arrived encrypted (NTLM or Kerberos)
        self.commands = 0  # WS-Management Command operations: command lines run

    def authorised(self, header: str | None) -> bool:
        return header is not None and header == self._auth


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests and the demo read their own output

    def do_POST(self) -> None:
        state = self.server.state
        with state.lock:
            state.requests += 1
        host = state.host
        length = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(length) if length else b""
        if host.delay:
            time.sleep(host.delay)
        if host.behaviour == "reset":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(2)
            return
        authorization = self.headers.get("Authorization") or ""
        if authorization.startswith(("Negotiate ", "NTLM ")):
            if host.behaviour == "refuse":
                self._challenge()
                return
            if self._logon_step(authorization):
                return  # a handshake leg was answered; the next request carries the body
        elif self._context is not None and self._context.complete:
            pass  # this connection authenticated (NTLM or Kerberos); its bodies are sealed
        elif host.behaviour == "refuse" or not state.authorised(authorization):
            self._challenge()
            return
        if self._context is not None and self._context.complete:
            if not body:  # pywinrm's empty POST that sets up message encryption
                self._send(200, b"")
                return
            try:
                body = self._decrypt(body)
            except Exception:  # a body that does not decrypt is refused, as Windows does
                self._send(400, b"")
                return
            with state.lock:
                state.sealed_requests += 1
        if host.behaviour == "garbage":
            self._send(200, b"\x00\xff<html>Service Unavailable</html>\r\n", "text/html")
            return
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            self._send(400, b"")
            return
        action = (root.findtext("s:Header/a:Action", default="", namespaces=NS) or "").strip()
        message_id = (
            root.findtext("s:Header/a:MessageID", default="", namespaces=NS) or ""
        ).strip()
        machine = host.computer_name
        if action == ACTION_CREATE:
            if host.behaviour == "fault":
                reason = (
                    "The WS-Management service cannot process the request. This user is allowed "
                    "a maximum number of 5 concurrent shells, which has been exceeded."
                )
                self._send(500, _fault(message_id, QUOTA_CODE, "w:QuotaLimit", reason, machine))
                return
            shell_id = str(uuid.uuid4()).upper()
            with state.lock:
                state.shells[shell_id] = {}
            self._reply(
                ACTION_CREATE + "Response",
                message_id,
                f"<x:ResourceCreated><a:Address>http://{machine}:5985/wsman</a:Address>"
                f"<a:ReferenceParameters><w:ResourceURI>{SHELL}/cmd</w:ResourceURI>"
                f'<w:SelectorSet><w:Selector Name="ShellId">{shell_id}</w:Selector>'
                f"</w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>"
                f"<rsp:Shell><rsp:ShellId>{shell_id}</rsp:ShellId></rsp:Shell>",
            )
            return
        shell_id = root.findtext(".//w:Selector[@Name='ShellId']", default="", namespaces=NS)
        commands = state.shells.get(shell_id or "")
        if commands is None:
            reason = "The request for the Windows Remote Shell with ShellId failed because the shell was not found on the server."  # noqa: E501
            self._send(500, _fault(message_id, 2150858843, "w:InvalidSelectors", reason, machine))
            return
        if action == ACTION_COMMAND:
            command_line = root.findtext(
                ".//rsp:CommandLine/rsp:Command", default="", namespaces=NS
            )
            arguments = root.findtext(".//rsp:CommandLine/rsp:Arguments", default="", namespaces=NS)
            line = command_line + (" " + arguments if arguments else "")
            command_id = str(uuid.uuid4()).upper()
            with state.lock:
                state.commands += 1
            commands[command_id] = self._run(line)
            self._reply(
                ACTION_COMMAND + "Response",
                message_id,
                f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId>"
                f"</rsp:CommandResponse>",
            )
            return
        if action == ACTION_RECEIVE:
            stream = root.find(".//rsp:DesiredStream", NS)
            command_id = stream.get("CommandId", "") if stream is not None else ""
            command = commands.get(command_id)
            if command is None:
                self._send(
                    500,
                    _fault(
                        message_id, 2150858843, "w:InvalidSelectors", "no such command", machine
                    ),
                )
                return
            if host.behaviour == "never-done":
                self._reply(
                    ACTION_RECEIVE + "Response",
                    message_id,
                    f'<rsp:ReceiveResponse><rsp:CommandState CommandId="{command_id}" '
                    f'State="{SHELL}/CommandState/Running"/></rsp:ReceiveResponse>',
                )
                return
            if host.behaviour == "bad-base64":
                self._reply(
                    ACTION_RECEIVE + "Response",
                    message_id,
                    f'<rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="{command_id}">'
                    "@@@@A==not=base64</rsp:Stream></rsp:ReceiveResponse>",
                )
                return
            if host.behaviour == "timeout":
                time.sleep(min(self.server.operation_timeout, 2.0))
                reason = "The WS-Management service cannot complete the operation within the time specified in OperationTimeout."  # noqa: E501
                self._send(
                    500, _fault(message_id, OPERATION_TIMEOUT_CODE, "w:TimedOut", reason, machine)
                )
                return
            self._send_output(message_id, command_id, command)
            return
        if action == ACTION_SIGNAL:
            command_id = (root.find(".//rsp:Signal", NS) or ET.Element("x")).get("CommandId", "")
            commands.pop(command_id, None)
            self._reply(ACTION_SIGNAL + "Response", message_id, "<rsp:SignalResponse/>")
            return
        if action == ACTION_DELETE:
            with state.lock:
                state.shells.pop(shell_id, None)
            self._reply(ACTION_DELETE + "Response", message_id, "")
            return
        self._send(
            500,
            _fault(message_id, 2150858817, "w:ActionNotSupported", "unsupported action", machine),
        )

    def _run(self, line: str) -> _Command:
        host = self.server.state.host
        if host.behaviour == "garbage-output":
            noise = os.urandom(4096) + b'\x1b[2J=HYPERLINK("http://x")\r\n'
            return _Command(noise, b"", 0)
        if host.behaviour == "huge-output":
            return _Command(b"A" * HUGE_OUTPUT, b"", 0)
        result = Shell(host).run(line)
        stdout = bytes(result.stdout)
        if host.behaviour == "truncated-output":
            stdout = stdout[: len(stdout) // 3]
        return _Command(stdout, bytes(result.stderr), result.code)

    def _send_output(self, message_id: str, command_id: str, command: _Command) -> None:
        chunk = command.stdout[command.sent : command.sent + CHUNK]
        command.sent += len(chunk)
        done = command.sent >= len(command.stdout)
        streams = ""
        if chunk:
            streams += (
                f'<rsp:Stream Name="stdout" CommandId="{command_id}">'
                f"{base64.b64encode(chunk).decode()}</rsp:Stream>"
            )
        if done:
            if command.stderr:
                streams += (
                    f'<rsp:Stream Name="stderr" CommandId="{command_id}">'
                    f"{base64.b64encode(command.stderr).decode()}</rsp:Stream>"
                )
            streams += (
                f'<rsp:Stream Name="stdout" CommandId="{command_id}" End="true"></rsp:Stream>'
                f'<rsp:CommandState CommandId="{command_id}" State="{SHELL}/CommandState/Done">'
                f"<rsp:ExitCode>{command.code}</rsp:ExitCode></rsp:CommandState>"
            )
        else:
            streams += (
                f'<rsp:CommandState CommandId="{command_id}" State="{SHELL}/CommandState/Running"/>'
            )
        self._reply(
            ACTION_RECEIVE + "Response",
            message_id,
            f"<rsp:ReceiveResponse>{streams}</rsp:ReceiveResponse>",
        )

    def _reply(self, action: str, relates_to: str, body: str) -> None:
        if self.server.state.host.behaviour == "wrong-relates-to":
            relates_to = f"uuid:{uuid.uuid4()}"  # another request's answer
        self._send(200, _envelope(action, relates_to, body))

    # --- NTLM or Kerberos with WinRM message encryption (pyspnego's acceptor) ------

    _context: Any = None  # the NTLM or Kerberos context of this TCP connection

    def _challenge(self) -> None:
        self._context = None
        self.send_response(401)
        self.send_header("WWW-Authenticate", "Negotiate")
        self.send_header("WWW-Authenticate", 'Basic realm="WSMAN"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    _mutual: bytes | None = None  # Kerberos: the AP-REP the next answer carries

    def _logon_step(self, authorization: str) -> bool:
        """Answer one leg of the handshake; False once the context is complete."""
        scheme, _, token = authorization.partition(" ")
        raw = base64.b64decode(token)
        if self._context is None or self._context.complete:
            self._context = self._acceptor_for(raw)
        try:
            answer = self._context.step(raw)
        except Exception:  # wrong password, unknown user, a malformed token
            self._context = None
            self._send(401, b"", extra={"WWW-Authenticate": "Negotiate"})
            return True
        if self._context.complete:
            self._mutual = answer  # Kerberos' mutual authentication; NTLM has none
            return False
        self.send_response(401)
        self.send_header("WWW-Authenticate", f"{scheme} {base64.b64encode(answer or b'').decode()}")
        self.send_header("Content-Length", "0")
        self.end_headers()
        return True

    def _acceptor_for(self, token: bytes) -> Any:
        """NTLM, or where the realm gave this host a key (its keytab) a Kerberos AP-REQ
        (a GSS token: 0x60 and krb5's OID), as a domain member accepts either."""
        state = self.server.state
        if state.kerberos and token[:1] == b"\x60" and _KRB5_OID in token[:32]:
            return spnego.server(hostname=state.host.host, service="HTTP", protocol="kerberos")
        return spnego.server(protocol="ntlm")

    def _decrypt(self, body: bytes) -> bytes:
        parts = [p for p in body.split(_BOUNDARY + b"\r\n") if p]
        payload = parts[1]
        if payload.endswith(_BOUNDARY + b"--\r\n"):
            payload = payload[: -len(_BOUNDARY + b"--\r\n")]
        encrypted = payload.replace(b"\tContent-Type: application/octet-stream\r\n", b"", 1)
        length = struct.unpack("<i", encrypted[:4])[0]
        header, sealed = encrypted[4 : 4 + length], encrypted[4 + length :]
        return bytes(self._context.unwrap_winrm(header, sealed))

    def _encrypt(self, message: bytes) -> bytes:
        wrapped = self._context.wrap_winrm(message)
        signature: bytes = wrapped.header
        sealed: bytes = wrapped.data
        return (
            _BOUNDARY + b"\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n"
            b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length="
            + str(len(message)).encode()
            + b"\r\n"
            + _BOUNDARY
            + b"\r\n\tContent-Type: application/octet-stream\r\n"
            + struct.pack("<i", len(signature))
            + signature
            + sealed
            + _BOUNDARY
            + b"--\r\n"
        )

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/soap+xml;charset=UTF-8",
        extra: dict[str, str] | None = None,
    ) -> None:
        if status in (200, 500) and body and self._context is not None and self._context.complete:
            body = self._encrypt(body)
            content_type = (
                'multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";'
                'boundary="Encrypted Boundary"'
            )
        if self._mutual:  # the first answer after a Kerberos logon proves the host's key
            extra = {**(extra or {}), "WWW-Authenticate": "Negotiate " + base64.b64encode(
                self._mutual).decode()}  # fmt: skip
            self._mutual = None
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: HostState, operation_timeout: float):
        super().__init__(address, _Handler)
        self.state = state
        self.operation_timeout = operation_timeout

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer (its deadline passed) is routine, not a bug."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class Acceptor:
    """One thread that accepts connections for many simulated hosts.

    A thread per host, each polling its socket, costs a fleet of thousands more CPU than
    the hosts' answers do; one selector over every listening socket costs nothing while
    idle. Each accepted connection is still served on a thread of its own.
    """

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sim-acceptor", daemon=True)
        self._thread.start()

    def add(self, server: _Server) -> None:
        self._selector.register(server.socket, selectors.EVENT_READ, server)

    def remove(self, server: _Server) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(server.socket)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._selector.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ready = self._selector.select(timeout=0.1)
            except (OSError, ValueError):
                continue  # a socket closed under us; the next round has a fresh map
            for key, _ in ready:
                server: _Server = key.data
                with contextlib.suppress(OSError):
                    server._handle_request_noblock()  # type: ignore[attr-defined]


class SimulatedHost:
    """A listening simulated host; ``stop()`` closes it."""

    def __init__(
        self,
        host: SimHost,
        username: str,
        password: str,
        *,
        bind: str = "127.0.0.1",
        operation_timeout: float = 2.0,
        tls: ssl.SSLContext | None = None,
        acceptor: Acceptor | None = None,
        kerberos: bool = False,
    ) -> None:
        self.state = HostState(host, username, password, kerberos)
        self._server = _Server((bind, 0), self.state, operation_timeout)
        if tls is not None:  # WinRM over HTTPS, as on port 5986
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.address, self.port = self._server.server_address[:2]
        self._acceptor = acceptor
        self._thread: threading.Thread | None = None
        if acceptor is not None:
            acceptor.add(self._server)
        else:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                daemon=True,
                name=f"sim-{host.host}",
            )
            self._thread.start()

    def stop(self) -> None:
        if self._acceptor is not None:
            self._acceptor.remove(self._server)
        else:
            self._server.shutdown()
        self._server.server_close()
