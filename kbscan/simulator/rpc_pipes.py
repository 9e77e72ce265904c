"""The named pipes a Windows host serves an SMB scanner: winreg, svcctl and srvsvc.

impacket's SMB server hands a named pipe to a TCP address; behind each address here is
a small DCE/RPC server (impacket's NDR structures, read and written) that answers the
calls a read-only scanner makes, from the host's profile: the remote registry's
OpenLocalMachine, BaseRegOpenKey, BaseRegQueryValue, BaseRegEnumKey, BaseRegQueryInfoKey
and BaseRegCloseKey; the service control manager's ROpenSCManagerW, ROpenServiceW,
RQueryServiceStatus and RCloseServiceHandle; the server service's
NetrServerStatisticsGet. Anything else gets the RPC fault Windows sends for an opnum it
does not serve. Every connection has its own handles, so hosts and scans never mix.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import struct
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from impacket.dcerpc.v5 import rrp, scmr, srvs
from impacket.dcerpc.v5.rpcrt import DCERPCServer, MSRPCRespHeader
from impacket.uuid import bin_to_uuidtup

from kbscan.simulator.registry_view import HKLM, RegistryView
from kbscan.simulator.shell import SC_STATES

ERROR_SUCCESS = 0
ERROR_FILE_NOT_FOUND = 2
ERROR_ACCESS_DENIED = 5
ERROR_INVALID_HANDLE = 6
ERROR_MORE_DATA = 234
ERROR_NO_MORE_ITEMS = 259
ERROR_SERVICE_DOES_NOT_EXIST = 1060

Handler = Callable[[bytes], Any]
_NO_HANDLE = b"\0" * 20


class _Calls:
    """One pipe connection's state: the handles it was given, and what they name."""

    def __init__(self) -> None:
        self.handles: dict[bytes, str] = {}

    def new_handle(self, names: str) -> bytes:
        handle = b"\0\0\0\0" + uuid.uuid4().bytes
        self.handles[handle] = names
        return handle

    def named(self, handle: Any) -> str | None:
        return self.handles.get(_handle_bytes(handle))

    def callbacks(self) -> dict[int, Handler]:
        """The calls this pipe serves, by opnum."""
        raise NotImplementedError


def _handle_bytes(handle: Any) -> bytes:
    data = handle.getData() if hasattr(handle, "getData") else bytes(handle)
    return bytes(data[:20])


class WinregCalls(_Calls):
    """MS-RRP against a RegistryView. ``denied``: every open is refused, as for an
    account that is no administrator; ``hang``: a call never answers (a wedged host)."""

    def __init__(
        self,
        view: RegistryView,
        *,
        denied: bool = False,
        hang: threading.Event | None = None,
        refuse_info: bool = False,
        refuse_multiple: bool = False,
    ):
        super().__init__()
        self.view = view
        self.refuse_multiple = refuse_multiple
        self.denied = denied
        self.hang = hang
        self.refuse_info = refuse_info  # QueryInfoKey fails, as Samba's does for impacket

    def callbacks(self) -> dict[int, Handler]:
        calls: dict[int, Handler] = {
            2: self.open_local_machine,
            5: self.close_key,
            9: self.enum_key,
            15: self.open_key,
            16: self.query_info_key,
            17: self.query_value,
            29: self.query_multiple_values,
        }
        if self.refuse_multiple:  # a server without the batched call: an MS-RPC fault
            del calls[29]
        if self.refuse_info:  # the server answers an MS-RPC fault, as Samba does
            del calls[16]
        return calls

    def open_local_machine(self, data: bytes) -> Any:
        rrp.OpenLocalMachine(data)
        answer = rrp.OpenLocalMachineResponse()
        if self.hang is not None:
            self.hang.wait()  # until the endpoint stops
        if self.denied:
            answer["ErrorCode"] = ERROR_ACCESS_DENIED
            return answer
        answer["phKey"].fromString(self.new_handle(HKLM))
        answer["ErrorCode"] = ERROR_SUCCESS
        return answer

    def close_key(self, data: bytes) -> Any:
        request = rrp.BaseRegCloseKey(data)
        self.handles.pop(_handle_bytes(request["hKey"]), None)
        answer = rrp.BaseRegCloseKeyResponse()
        answer["ErrorCode"] = ERROR_SUCCESS
        return answer

    def open_key(self, data: bytes) -> Any:
        request = rrp.BaseRegOpenKey(data)
        answer = rrp.BaseRegOpenKeyResponse()
        parent = self.named(request["hKey"])
        sub = _text(request["lpSubKey"]).strip("\\")
        path = f"{parent}\\{sub}" if sub else parent
        if parent is None:
            answer["ErrorCode"] = ERROR_INVALID_HANDLE
        elif path is None or not self.view.exists(path):
            answer["ErrorCode"] = ERROR_FILE_NOT_FOUND
        else:
            answer["phkResult"].fromString(self.new_handle(path))
            answer["ErrorCode"] = ERROR_SUCCESS
        return answer

    def query_info_key(self, data: bytes) -> Any:
        request = rrp.BaseRegQueryInfoKey(data)
        answer = rrp.BaseRegQueryInfoKeyResponse()
        path = self.named(request["hKey"])
        if path is None:
            answer["ErrorCode"] = ERROR_INVALID_HANDLE
            return answer
        subkeys, values = self.view.subkeys(path), self.view.values(path)
        answer["lpClassOut"] = ""
        answer["lpcSubKeys"] = len(subkeys)
        answer["lpcbMaxSubKeyLen"] = max((len(k) for k in subkeys), default=0)
        answer["lpcValues"] = len(values)
        answer["lpcbMaxValueNameLen"] = max((len(n) for n, _ in values), default=0)
        answer["lpcbMaxValueLen"] = max((len(v.data) for _, v in values), default=0)
        answer["ErrorCode"] = ERROR_SUCCESS
        return answer

    def enum_key(self, data: bytes) -> Any:
        request = rrp.BaseRegEnumKey(data)
        answer = rrp.BaseRegEnumKeyResponse()
        path = self.named(request["hKey"])
        if path is None:
            answer["ErrorCode"] = ERROR_INVALID_HANDLE
            return answer
        subkeys = self.view.subkeys(path)
        index = int(request["dwIndex"])
        if index >= len(subkeys):
            answer["ErrorCode"] = ERROR_NO_MORE_ITEMS
            return answer
        answer["lpNameOut"] = subkeys[index] + "\0"
        answer["lplpClassOut"] = rrp.NULL
        answer["lpftLastWriteTime"] = rrp.NULL
        answer["ErrorCode"] = ERROR_SUCCESS
        return answer

    def query_value(self, data: bytes) -> Any:
        request = rrp.BaseRegQueryValue(data)
        answer = rrp.BaseRegQueryValueResponse()
        path = self.named(request["hKey"])
        if path is None:
            answer["ErrorCode"] = ERROR_INVALID_HANDLE
            return answer
        value = self.view.value(path, _text(request["lpValueName"]))
        if value is None:
            answer["ErrorCode"] = ERROR_FILE_NOT_FOUND
            return answer
        room = int(request["lpcbData"]) if request["lpcbData"] != rrp.NULL else 0
        answer["lpType"] = value.kind
        answer["lpcbData"] = len(value.data)
        answer["lpcbLen"] = len(value.data)
        if len(value.data) > room:
            answer["lpData"] = rrp.NULL
            answer["ErrorCode"] = ERROR_MORE_DATA
            return answer
        answer["lpData"] = list(value.data)
        answer["ErrorCode"] = ERROR_SUCCESS
        return answer

    def query_multiple_values(self, data: bytes) -> Any:
        """Several values of one key in one call, their data packed in one buffer, as
        RegQueryMultipleValues does: all or nothing (a missing value fails the call,
        ERROR_FILE_NOT_FOUND; a buffer too small is ERROR_MORE_DATA with the size)."""
        request = rrp.BaseRegQueryMultipleValues(data)
        answer = rrp.BaseRegQueryMultipleValuesResponse()
        path = self.named(request["hKey"])
        if path is None:
            answer["ErrorCode"] = ERROR_INVALID_HANDLE
            return answer
        buffer, entries = b"", []
        for entry in request["val_listIn"]:
            name = _text(entry["ve_valuename"])
            value = self.view.value(path, name)
            if value is None:
                answer["ErrorCode"] = ERROR_FILE_NOT_FOUND
                return answer
            entries.append((name, value.kind, len(buffer), len(value.data)))
            buffer += value.data
        room = int(request["ldwTotsize"])
        for name, kind, offset, length in entries:
            item = rrp.RVALENT()
            item["ve_valuename"] = name + "\0"
            item["ve_valuelen"] = length
            item["ve_valueptr"] = offset
            item["ve_type"] = kind
            answer["val_listOut"].append(item)
        answer["ldwTotsize"] = len(buffer)
        if len(buffer) > room:
            answer["lpvalueBuf"] = rrp.NULL
            answer["ErrorCode"] = ERROR_MORE_DATA
            return answer
        answer["lpvalueBuf"] = list(buffer)
        answer["ErrorCode"] = ERROR_SUCCESS
        return answer


class SvcctlCalls(_Calls):
    """MS-SCMR: open the manager, open a service, query its status, close."""

    def __init__(self, services: dict[str, str], denied: frozenset[str] = frozenset()):
        super().__init__()
        self.services = {name.upper(): state for name, state in services.items()}
        self.denied = {name.upper() for name in denied}  # OpenService refused (5)

    def callbacks(self) -> dict[int, Handler]:
        return {0: self.close, 6: self.query_status, 15: self.open_manager, 16: self.open_service}

    def open_manager(self, data: bytes) -> Any:
        scmr.ROpenSCManagerW(data)
        answer = scmr.ROpenSCManagerWResponse()
        answer["lpScHandle"] = self.new_handle("*")
        answer["ErrorCode"] = ERROR_SUCCESS
        return answer

    def open_service(self, data: bytes) -> Any:
        request = scmr.ROpenServiceW(data)
        answer = scmr.ROpenServiceWResponse()
        answer["lpServiceHandle"] = _NO_HANDLE  # NDR packs a handle even with an error
        name = _text(request["lpServiceName"]).upper()
        if self.named(request["hSCManager"]) is None:
            answer["ErrorCode"] = ERROR_INVALID_HANDLE
        elif name in self.denied:
            answer["ErrorCode"] = ERROR_ACCESS_DENIED
        elif name not in self.services:
            answer["ErrorCode"] = ERROR_SERVICE_DOES_NOT_EXIST
        else:
            answer["lpServiceHandle"] = self.new_handle(name)
            answer["ErrorCode"] = ERROR_SUCCESS
        return answer

    def query_status(self, data: bytes) -> Any:
        request = scmr.RQueryServiceStatus(data)
        answer = scmr.RQueryServiceStatusResponse()
        name = self.named(request["hService"])
        if not name:
            answer["ErrorCode"] = ERROR_INVALID_HANDLE
            return answer
        status = answer["lpServiceStatus"]
        status["dwServiceType"] = 0x20  # SERVICE_WIN32_SHARE_PROCESS
        status["dwCurrentState"] = SC_STATES.get(self.services[name], 1)
        status["dwControlsAccepted"] = 0
        answer["ErrorCode"] = ERROR_SUCCESS
        return answer

    def close(self, data: bytes) -> Any:
        request = scmr.RCloseServiceHandle(data)
        self.handles.pop(_handle_bytes(request["hSCObject"]), None)
        answer = scmr.RCloseServiceHandleResponse()
        answer["hSCObject"] = _NO_HANDLE
        answer["ErrorCode"] = ERROR_SUCCESS
        return answer


class SrvsvcCalls(_Calls):
    """MS-SRVS NetrServerStatisticsGet: when the Server service started."""

    def __init__(self, started: datetime, refused: bool = False):
        super().__init__()
        self.started = started
        self.refused = refused  # the statistics call faults (Samba's: nca_s_op_rng_error)

    def callbacks(self) -> dict[int, Handler]:
        return {24: self.statistics}

    def statistics(self, data: bytes) -> Any:
        srvs.NetrServerStatisticsGet(data)
        answer = srvs.NetrServerStatisticsGetResponse()
        if self.refused:
            answer["ErrorCode"] = ERROR_ACCESS_DENIED
            return answer
        stats = answer["InfoStruct"]
        stats["sts0_start"] = int(self.started.timestamp())
        for field in (
            "sts0_fopens", "sts0_devopens", "sts0_jobsqueued", "sts0_sopens", "sts0_stimedout",
            "sts0_serrorout", "sts0_pwerrors", "sts0_permerrors", "sts0_syserrors",
            "sts0_bytessent_low", "sts0_bytessent_high", "sts0_bytesrcvd_low",
            "sts0_bytesrcvd_high", "sts0_avresponse", "sts0_reqbufneed", "sts0_bigbufneed",
        ):  # fmt: skip
            stats[field] = 0
        answer["ErrorCode"] = ERROR_SUCCESS
        return answer


INTERFACES = {
    "winreg": (rrp.MSRPC_UUID_RRP, "\\PIPE\\winreg"),
    "svcctl": (scmr.MSRPC_UUID_SCMR, "\\PIPE\\svcctl"),
    "srvsvc": (srvs.MSRPC_UUID_SRVS, "\\PIPE\\srvsvc"),
}


class PipeServer:
    """One named pipe of one host: a loopback TCP listener impacket's SMB server
    connects to when a client opens the pipe; each connection is one DCE/RPC
    association with its own calls object."""

    def __init__(self, pipe: str, make_calls: Callable[[], _Calls]) -> None:
        interface, secondary = INTERFACES[pipe]
        self.pipe = pipe

        class _Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                calls = make_calls()
                server = DCERPCServer(client_socket=self.request)
                server.addCallbacks(_uuid_tuple(interface), secondary, calls.callbacks())
                with contextlib.suppress(OSError, struct.error):
                    while True:
                        data = _receive(self.request)
                        if data is None:
                            return
                        answer = server.processRequest(data)
                        if answer is not None:
                            _send(self.request, answer)

        self._stopping = False
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self.address: tuple[str, int] = self._server.server_address[:2]  # type: ignore[assignment]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True,
            name=f"sim-pipe-{pipe}",
        )  # fmt: skip
        self._thread.start()

    def begin_stop(self) -> None:
        """Ask the listener to stop without waiting for its poll (stop() waits)."""
        if not self._stopping:
            self._stopping = True
            threading.Thread(target=self._server.shutdown, daemon=True).start()

    def stop(self) -> None:
        self.begin_stop()
        self._thread.join(timeout=5)
        self._server.server_close()


_PFC_FIRST_FRAG, _PFC_LAST_FRAG = 0x01, 0x02
_MSRPC_REQUEST = 0
_REQUEST_HEADER = 24  # the common header (16) and alloc_hint, p_cont_id, opnum


def _receive(sock: socket.socket) -> bytes | None:
    """The next PDU, a request's fragments joined into one: a client sends a request
    larger than the negotiated fragment in pieces (a registry value of kilobytes is asked
    for with a buffer that size), which impacket's DCERPCServer.recv does not join."""
    first: bytes | None = None
    stub = b""
    while True:
        head = _exactly(sock, 16)
        if head is None:
            return None
        frag_len, auth_len = struct.unpack_from("<HH", head, 8)
        fragment = head + (_exactly(sock, frag_len - 16) or b"")
        if len(fragment) < frag_len:
            return None
        if head[2] != _MSRPC_REQUEST:
            return fragment  # bind and the rest come whole
        end = frag_len - (auth_len + 8 if auth_len else 0)
        first = first or fragment[:_REQUEST_HEADER]
        stub += fragment[_REQUEST_HEADER:end]
        if head[3] & _PFC_LAST_FRAG:
            break
    header = bytearray(first)
    header[3] |= _PFC_FIRST_FRAG | _PFC_LAST_FRAG
    struct.pack_into("<HH", header, 8, _REQUEST_HEADER + len(stub), 0)
    return bytes(header) + stub


_MAX_STUB = 0xFFFF - 24  # what one PDU's 16-bit frag_len can hold


def _send(sock: socket.socket, answer: Any) -> None:
    """An answer as one PDU where it fits (a registry value of kilobytes does): impacket's
    SMB server carries a pipe over a TCP stream, which keeps no message boundaries, so
    fragments sent back to back could reach the client as one read and corrupt it."""
    stub = answer["pduData"]
    stub = stub.getData() if hasattr(stub, "getData") else bytes(stub)
    pieces = [stub[i : i + _MAX_STUB] for i in range(0, len(stub), _MAX_STUB)] or [b""]
    for index, piece in enumerate(pieces):
        fragment = MSRPCRespHeader()
        fragment["type"] = answer["type"]
        fragment["call_id"] = answer["call_id"]
        fragment["ctx_id"] = answer["ctx_id"]
        fragment["alloc_hint"] = len(stub)
        fragment["flags"] = (_PFC_FIRST_FRAG if index == 0 else 0) | (
            _PFC_LAST_FRAG if index == len(pieces) - 1 else 0
        )
        fragment["pduData"] = piece
        sock.sendall(fragment.get_packet())


def _exactly(sock: socket.socket, count: int) -> bytes | None:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _uuid_tuple(interface: bytes) -> tuple[str, str]:
    found: tuple[str, str] = bin_to_uuidtup(interface)
    return found


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    return text.rstrip("\0")
