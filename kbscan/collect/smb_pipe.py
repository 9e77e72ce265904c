"""A named pipe of a logged-on SMB session as a DCE/RPC transport, one exchange a call.

impacket's SMBTransport writes each request to the pipe and reads the answer with a
second request, connects IPC$ for every pipe it opens and disconnects it after: two
round trips a call and two a pipe that the protocol does not need. Windows and Samba
answer a request on the pipe in the same exchange (SMB1 TransactNamedPipe, SMB2 IOCTL
FSCTL_PIPE_TRANSCEIVE), so here a call is one round trip, every pipe shares the one
IPC$ tree, and pipes and tree are left to the logoff, which closes them on the host.
A server that refuses the transaction is asked again the plain way, for that pipe.
"""

from __future__ import annotations

import struct
from typing import Any

from impacket.dcerpc.v5 import transport

from kbscan.collect.smb_errors import error_code

# What a server says when it has no pipe transaction (the request was not delivered).
_NO_TRANSACT = {
    0xC00000BB,  # STATUS_NOT_SUPPORTED
    0xC0000010,  # STATUS_INVALID_DEVICE_REQUEST
    0xC000000D,  # STATUS_INVALID_PARAMETER
}
_TRANSACT_LIMIT = 4096  # requests above this go by write: every server takes a write


class NamedPipe(transport.SMBTransport):  # type: ignore[misc]
    """``\\<name>`` on the session's IPC$ tree ``tree``."""

    def __init__(self, conn: Any, port: int, name: str, tree: int) -> None:
        super().__init__(conn.getRemoteHost(), port, f"\\{name}", smb_connection=conn)
        self._conn = conn
        self._name = f"\\{name}"
        self._tree = tree
        self._fid: Any = None
        self._answers = b""  # what the last transaction returned, not yet read
        self.transact = True

    def connect(self) -> int:
        self._fid = self._conn.openFile(self._tree, self._name)
        return 1

    def disconnect(self) -> None:
        """Nothing to send: the logoff closes the pipe on the host."""

    def send(self, data: bytes, forceWriteAndx: int = 0, forceRecv: int = 0) -> None:
        if self.transact and len(data) <= _TRANSACT_LIMIT:
            try:
                answer = self._conn.transactNamedPipe(self._tree, self._fid, data)
            except Exception as exc:
                if error_code(exc) not in _NO_TRANSACT:
                    raise
                self.transact = False
            else:
                self._answers += bytes(answer or b"")
                return
        self._conn.writeFile(self._tree, self._fid, data)

    def recv(self, forceRecv: int = 0, count: int = 0) -> bytes:
        """One PDU of what a transaction returned (it may hold several; DCE/RPC asks
        again for the rest of one cut short, which then comes by read), else a read."""
        if self._answers:
            length = len(self._answers)
            if length >= 10:
                length = min(length, struct.unpack_from("<H", self._answers, 8)[0] or length)
            pdu, self._answers = self._answers[:length], self._answers[length:]
            return pdu
        return bytes(self._conn.readFile(self._tree, self._fid, bytesToRead=self._max_recv_frag))

    def get_socket(self) -> Any:
        return self._conn.getSMBServer().get_socket()
