"""Endpoints that misbehave on purpose, below WS-Management: at the TCP and HTTP level.

The well-behaved simulator (wsman.py) proves kbscan reads Windows right; these prove a
host cannot hold kbscan hostage. Each endpoint listens on its own loopback port and
answers every connection the same hostile way, the ways real networks produce:
overloaded hosts, half-dead proxies, middleboxes that trickle, or a host that lies.
Every loop here is bounded by ``stop()``; nothing sends anywhere but the client that
connected on loopback.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time

HOSTILE_BEHAVIOURS = (
    "drip-body",  # headers, then one byte of body per interval, for ever
    "drip-headers",  # a status line, then one header byte per interval, never a blank line
    "silent",  # accept the connection, never read, never answer
    "reset",  # half an answer, then a TCP reset
    "flood",  # 200 with no length, then bytes as fast as the socket takes them
    "huge-length",  # 200 announcing a 2 GiB body
    "xml-bomb",  # 200 with an XML entity expansion ("billion laughs")
    "http500-html",  # 500 with an HTML error page, as a broken proxy sends
    "auth-loop",  # 401 to every request, for ever
    "redirect",  # 302 to another address
    "smb-drip",  # to the SMB negotiation: a NetBIOS header, then one byte per interval
    "smb-nonsense",  # to every SMB message: a well-framed answer that is not SMB
)
# What a WinRM client meets (the rest answer only a client that speaks first, as SMB's does)
HTTP_BEHAVIOURS = tuple(b for b in HOSTILE_BEHAVIOURS if not b.startswith("smb-"))

_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b']><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">&lol9;</s:Envelope>'
)


class HostileEndpoint:
    """One loopback port answering every connection with ``behaviour``."""

    def __init__(self, behaviour: str, *, interval: float = 0.5) -> None:
        if behaviour not in HOSTILE_BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        self.behaviour = behaviour
        self.interval = interval
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.address, self.port = self._listener.getsockname()[:2]
        self._clients: list[socket.socket] = []
        self._lock = threading.Lock()
        self.connections = 0
        self._thread = threading.Thread(
            target=self._accept, name=f"hostile-{behaviour}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            with contextlib.suppress(OSError):
                client.close()
        self._listener.close()

    def __enter__(self) -> HostileEndpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._clients.append(client)
                self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _recv(self, client: socket.socket) -> bytes | None:
        """The next bytes from the client; None when it went away or we are stopping."""
        while not self._stop.is_set():
            try:
                chunk = client.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return None
            return chunk or None
        return None

    def _read_request(self, client: socket.socket) -> bool:
        """Read one request's headers and body; False when the client went away."""
        client.settimeout(0.2)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self._recv(client)
            if chunk is None:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length" and value.strip().isdigit():
                length = int(value.strip())
        while len(body) < length:
            chunk = self._recv(client)
            if chunk is None:
                return False
            body += chunk
        return True

    def _trickle(self, client: socket.socket, data: bytes) -> None:
        for i in range(len(data)):
            if self._stop.wait(self.interval):
                return
            try:
                client.sendall(data[i : i + 1])
            except OSError:
                return

    def _answer(
        self, client: socket.socket, status: str, headers: dict[str, str], body: bytes
    ) -> None:
        head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        with contextlib.suppress(OSError):
            client.sendall(head.encode() + b"\r\n" + body)

    def _serve(self, client: socket.socket) -> None:
        try:
            self._behave(client)
        finally:
            with contextlib.suppress(OSError):
                client.close()
            with self._lock:
                if client in self._clients:
                    self._clients.remove(client)

    def _behave(self, client: socket.socket) -> None:
        b = self.behaviour
        if b == "silent":
            self._stop.wait()
            return
        if b.startswith("smb-"):
            self._behave_smb(client)
            return
        while self._read_request(client):
            if b == "drip-body":
                self._answer(client, "200 OK", {"Content-Type": "application/soap+xml",
                                                 "Content-Length": "100000"}, b"")  # fmt: skip
                self._trickle(client, b"<" * 100000)
                return
            if b == "drip-headers":
                self._answer_partial(client, b"HTTP/1.1 200 OK\r\n")
                self._trickle(client, b"X-Padding: " + b"a" * 100000)
                return
            if b == "reset":
                self._answer_partial(
                    client, b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n<s:Envelope"
                )
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return  # close with linger 0: a TCP reset
            if b == "flood":
                self._answer_partial(client, b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
                block = b"\0" * 65536
                deadline = time.monotonic() + 120  # bounded even if nobody stops it
                while not self._stop.is_set() and time.monotonic() < deadline:
                    try:
                        client.sendall(block)
                    except OSError:
                        return
                return
            if b == "huge-length":
                self._answer(client, "200 OK", {"Content-Length": str(2**31)}, b"\0" * 65536)
                return
            canned = self._canned()
            if canned is None:
                return
            status, headers, body = canned
            self._answer(client, status, headers, body)

    def _behave_smb(self, client: socket.socket) -> None:
        """Below SMB: the client speaks first (its negotiation), then gets this."""
        client.settimeout(0.2)
        while self._recv(client) is not None:
            if self.behaviour == "smb-drip":
                self._answer_partial(client, b"\x00\x00\x10\x00")  # 4,096 bytes follow...
                self._trickle(client, b"\xffSMB" + b"\x72" * 4092)  # ...one per interval
                return
            self._answer_partial(client, b"\x00\x00\x00\x20" + b"NOT-SMB-AT-ALL! " * 2)

    def _canned(self) -> tuple[str, dict[str, str], bytes] | None:
        """The answers that are one HTTP reply, given to every request of a connection."""
        page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        answers: dict[str, tuple[str, dict[str, str], bytes]] = {
            "xml-bomb": ("200 OK", {"Content-Type": "application/soap+xml"}, _BOMB),
            "http500-html": ("500 Internal Server Error", {"Content-Type": "text/html"}, page),
            "auth-loop": ("401 Unauthorized", {"WWW-Authenticate": 'Basic realm="WSMAN"'}, b""),
            "redirect": ("302 Found", {"Location": f"http://127.0.0.2:{self.port}/wsman"}, b""),
        }
        found = answers.get(self.behaviour)
        if found is None:
            return None
        status, headers, body = found
        return status, {**headers, "Content-Length": str(len(body))}, body

    def _answer_partial(self, client: socket.socket, data: bytes) -> None:
        with contextlib.suppress(OSError):
            client.sendall(data)
