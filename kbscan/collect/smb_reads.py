"""What a read-only SMB scanner reads from a Windows host, over one logged-on impacket
connection: registry values (MS-RRP on \\winreg), service states (MS-SCMR on \\svcctl),
when the Server service started (MS-SRVS on \\srvsvc), and a file's size, time and
version by ranged reads on ADMIN$ (or the drive's administrative share).

Each function does one job and returns plain values; the collector turns them into
HostFacts and decides what a failure means. Nothing here writes, starts or stops
anything on the host.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from impacket import smb, smb3structs
from impacket.dcerpc.v5 import rrp, scmr, srvs
from impacket.dcerpc.v5.rpcrt import DCERPC_v5, DCERPCException
from impacket.smbconnection import SMBConnection

from kbscan.collect.pe import PeError, read_pe_ranges
from kbscan.collect.smb_errors import error_code
from kbscan.collect.smb_pipe import NamedPipe
from kbscan.model import SERVICE_STATES, SERVICE_UNREADABLE, BinaryInfo

ERROR_FILE_NOT_FOUND = 2
ERROR_SERVICE_DOES_NOT_EXIST = 1060
ERROR_NO_MORE_ITEMS = 259
ERROR_MORE_DATA = 234
FILE_READ_DATA = 0x0001
FILE_READ_ATTRIBUTES = 0x0080
SHARE_READ_WRITE_DELETE = 0x7  # never stand in the way of the host's own use of the file
_INTERFACES = {
    "winreg": rrp.MSRPC_UUID_RRP,
    "svcctl": scmr.MSRPC_UUID_SCMR,
    "srvsvc": srvs.MSRPC_UUID_SRVS,
}


@contextlib.contextmanager
def pipe(conn: SMBConnection, port: int, name: str, ipc: int) -> Iterator[DCERPC_v5]:
    """A DCE/RPC binding to one of the host's named pipes on the session's IPC$ tree
    ``ipc``: each call one exchange (collect/smb_pipe.py)."""
    dce = NamedPipe(conn, port, name, ipc).get_dce_rpc()
    dce.connect()
    dce.bind(_INTERFACES[name])
    yield dce


class Registry:
    """HKLM through the remote registry; each key is opened once. The handles are not
    closed one by one: closing the pipe runs every context handle down on the host, and
    a close per key would cost a round trip each."""

    def __init__(self, dce: DCERPC_v5) -> None:
        self._dce = dce
        self._hklm = rrp.hOpenLocalMachine(dce, rrp.KEY_READ)["phKey"]
        self._open: dict[str, Any] = {}
        self.batched = True  # BaseRegQueryMultipleValues, until the server refuses it

    def _key(self, path: str) -> Any | None:
        if path not in self._open:
            try:
                answer = rrp.hBaseRegOpenKey(self._dce, self._hklm, path, samDesired=rrp.KEY_READ)
            except rrp.DCERPCSessionError as exc:
                if exc.get_error_code() == ERROR_FILE_NOT_FOUND:
                    self._open[path] = None
                    return None
                raise
            self._open[path] = answer["phkResult"]
        return self._open[path]

    def exists(self, path: str) -> bool:
        return self._key(path) is not None

    def value(self, path: str, name: str) -> Any | None:
        """The value's data (str, int, bytes; a REG_MULTI_SZ as a list), None if absent."""
        key = self._key(path)
        if key is None:
            return None
        try:
            kind, data = rrp.hBaseRegQueryValue(self._dce, key, name + "\0")
        except rrp.DCERPCSessionError as exc:
            if exc.get_error_code() == ERROR_FILE_NOT_FOUND:
                return None
            raise
        return _decoded(kind, data)

    def values(self, path: str, names: tuple[str, ...]) -> dict[str, Any]:
        """Several values of one key in one call (BaseRegQueryMultipleValues); where the
        server refuses the call, or one value is absent (the call is all or nothing),
        one call a value."""
        key = self._key(path)
        if key is None:
            return {}
        if self.batched:
            try:
                return self._multiple(key, names)
            except DCERPCException as exc:
                if error_code(exc) != ERROR_FILE_NOT_FOUND:
                    self.batched = False  # this server has no batched call
        found = {name: self.value(path, name) for name in names}
        return {name: data for name, data in found.items() if data is not None}

    def _multiple(self, key: Any, names: tuple[str, ...], room: int = 2048) -> dict[str, Any]:
        request = rrp.BaseRegQueryMultipleValues()
        request["hKey"] = key
        for name in names:
            item = rrp.RVALENT()
            item["ve_valuename"] = name + "\0"
            item["ve_valuelen"] = 0
            item["ve_valueptr"] = rrp.NULL
            item["ve_type"] = 0
            request["val_listIn"].append(item)
        request["num_vals"] = len(names)
        request["lpvalueBuf"] = list(b"\0" * room)
        request["ldwTotsize"] = room
        try:
            answer = self._dce.request(request)
        except rrp.DCERPCSessionError as exc:
            needed = int(exc.get_packet()["ldwTotsize"]) if exc.get_packet() else 0
            if exc.get_error_code() == ERROR_MORE_DATA and room < needed <= 1 << 20:
                return self._multiple(key, names, needed)
            raise
        buffer = list(answer["lpvalueBuf"] or [])  # one bytes object a byte, as impacket has it
        out = {}
        for name, item in zip(names, answer["val_listOut"], strict=True):
            start, length, kind = (
                int(item["ve_valueptr"]),
                int(item["ve_valuelen"]),
                int(item["ve_type"]),
            )
            out[name] = _decoded(kind, rrp.unpackValue(kind, buffer[start : start + length]))
        return out

    def subkeys(self, path: str, limit: int = 4096) -> list[str]:
        """A key's subkeys, enumerated until ERROR_NO_MORE_ITEMS: no QueryInfoKey first,
        which some servers refuse (Samba answers it rpc_x_bad_stub_data)."""
        key = self._key(path)
        if key is None:
            return []
        names = []
        for index in range(limit):
            try:
                answer = rrp.hBaseRegEnumKey(self._dce, key, index)
            except rrp.DCERPCSessionError as exc:
                if exc.get_error_code() == ERROR_NO_MORE_ITEMS:
                    break
                raise
            names.append(str(answer["lpNameOut"]).rstrip("\0"))
        return names


def _decoded(kind: int, data: Any) -> Any:
    if kind == rrp.REG_MULTI_SZ:
        return [item for item in str(data).split("\0")]
    if isinstance(data, str):
        return data.rstrip("\0")
    return data


def service_states(dce: DCERPC_v5, names: tuple[str, ...]) -> dict[str, str]:
    """Each service's state (RUNNING, STOPPED, ...), "" for one not installed, and
    SERVICE_UNREADABLE for one whose query the host refused or failed: a refusal costs
    that service's state, never the others'. The handles are run down with the pipe."""
    manager = scmr.hROpenSCManagerW(dce, dwDesiredAccess=scmr.SC_MANAGER_CONNECT)["lpScHandle"]
    states: dict[str, str] = {}
    for name in names:
        try:
            opened = scmr.hROpenServiceW(dce, manager, name + "\0", scmr.SERVICE_QUERY_STATUS)
            status = scmr.hRQueryServiceStatus(dce, opened["lpServiceHandle"])["lpServiceStatus"]
        except DCERPCException as exc:
            code = error_code(exc)
            states[name] = "" if code == ERROR_SERVICE_DOES_NOT_EXIST else SERVICE_UNREADABLE
            continue
        code = int(status["dwCurrentState"])
        states[name] = SERVICE_STATES[code - 1] if 1 <= code <= 7 else f"STATE_{code}"
    return states


def server_started(dce: DCERPC_v5) -> datetime | None:
    """When the Server service started (NetrServerStatisticsGet, sts0_start: seconds
    since 1970): about when the host booted."""
    answer = srvs.hNetrServerStatisticsGet(dce, "LanmanServer\0", 0, 0)
    seconds = int(answer["InfoStruct"]["sts0_start"])
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


@dataclass(frozen=True)
class RemoteFile:
    present: bool
    size: int | None = None
    modified: datetime | None = None
    binary: BinaryInfo | None = None
    binary_error: str | None = None


def read_file(conn: SMBConnection, share: str, tree: int, path: str, shown: str) -> RemoteFile:
    """A file's size and write time from the answer to its open (Windows and Samba put
    both in it: no directory query), and its version from the byte ranges the PE
    version read needs; a missing file is ``present=False``."""
    try:
        fid, size, written = _open_for_reading(conn, tree, path)
    except Exception as exc:
        if error_code(exc) in _NOT_FOUND:
            return RemoteFile(present=False)
        raise
    modified = filetime(written)  # LastWriteTime, as WMI's LastModified

    def read(offset: int, length: int) -> bytes:
        return bytes(conn.readFile(tree, fid, offset, length))

    try:
        binary = read_pe_ranges(read, size, shown)
    except PeError as exc:
        return RemoteFile(True, size, modified, None, exc.message)
    return RemoteFile(True, size, modified, binary)  # closed by the logoff


def _open_for_reading(conn: SMBConnection, tree: int, path: str) -> tuple[Any, int, int]:
    """(file id, EndOfFile, LastWriteTime) of an open for reading: the open's answer is
    kept as it passes (impacket returns only the id)."""
    server = conn.getSMBServer()
    answers: list[Any] = []
    receive = server.recvSMB

    def keep(*args: Any, **kwargs: Any) -> Any:
        answer = receive(*args, **kwargs)
        answers.append(answer)
        return answer

    server.recvSMB = keep
    try:
        fid = conn.openFile(
            tree,
            path,
            desiredAccess=FILE_READ_DATA | FILE_READ_ATTRIBUTES,
            shareMode=SHARE_READ_WRITE_DELETE,
        )
    finally:
        del server.recvSMB
    if conn.getDialect() == smb.SMB_DIALECT:
        command = smb.SMBCommand(answers[-1]["Data"][0])
        opened = smb.SMBNtCreateAndXResponse_Parameters(command["Parameters"])
    else:
        opened = smb3structs.SMB2Create_Response(answers[-1]["Data"])
    size_field = "EndOfFile" if "EndOfFile" in opened.fields else "EndofFile"
    return fid, int(opened[size_field]), int(opened["LastWriteTime"])


def filetime(raw: int) -> datetime | None:
    """A Windows FILETIME (100 ns ticks since 1601) as UTC, to the microsecond."""
    if raw <= 0:
        return None
    return _FILETIME_EPOCH + timedelta(microseconds=raw // 10)


_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
_NOT_FOUND = {
    0xC0000034,  # STATUS_OBJECT_NAME_NOT_FOUND
    0xC000003A,  # STATUS_OBJECT_PATH_NOT_FOUND
    0xC000000F,  # STATUS_NO_SUCH_FILE
}
