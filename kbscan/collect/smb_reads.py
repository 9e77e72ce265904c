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

from impacket.dcerpc.v5 import rrp, scmr, srvs, transport
from impacket.dcerpc.v5.rpcrt import DCERPC_v5, DCERPCException
from impacket.smbconnection import SMBConnection

from kbscan.collect.pe import PeError, read_pe_ranges
from kbscan.collect.smb_errors import error_code
from kbscan.model import SERVICE_STATES, SERVICE_UNREADABLE, BinaryInfo

ERROR_FILE_NOT_FOUND = 2
ERROR_SERVICE_DOES_NOT_EXIST = 1060
ERROR_NO_MORE_ITEMS = 259
FILE_READ_DATA = 0x0001
FILE_READ_ATTRIBUTES = 0x0080
SHARE_READ_WRITE_DELETE = 0x7  # never stand in the way of the host's own use of the file
_INTERFACES = {
    "winreg": rrp.MSRPC_UUID_RRP,
    "svcctl": scmr.MSRPC_UUID_SCMR,
    "srvsvc": srvs.MSRPC_UUID_SRVS,
}


@contextlib.contextmanager
def pipe(conn: SMBConnection, port: int, name: str) -> Iterator[DCERPC_v5]:
    """A DCE/RPC binding to one of the host's named pipes over the logged-on session."""
    rpc = transport.SMBTransport(conn.getRemoteHost(), port, f"\\{name}", smb_connection=conn)
    dce = rpc.get_dce_rpc()
    dce.connect()
    try:
        dce.bind(_INTERFACES[name])
        yield dce
    finally:
        with contextlib.suppress(Exception):
            dce.disconnect()


class Registry:
    """HKLM through the remote registry; each key is opened once. The handles are not
    closed one by one: closing the pipe runs every context handle down on the host, and
    a close per key would cost a round trip each."""

    def __init__(self, dce: DCERPC_v5) -> None:
        self._dce = dce
        self._hklm = rrp.hOpenLocalMachine(dce, rrp.KEY_READ)["phKey"]
        self._open: dict[str, Any] = {}

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
        if kind == rrp.REG_MULTI_SZ:
            return [item for item in str(data).split("\0")]
        if isinstance(data, str):
            return data.rstrip("\0")
        return data

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
    """A file's size and write time from its directory entry, and its version from the
    byte ranges the PE version read needs; a missing file is ``present=False``."""
    try:
        entries = conn.listPath(share, path)
    except Exception as exc:
        if error_code(exc) in _NOT_FOUND:
            return RemoteFile(present=False)
        raise
    if not entries:
        return RemoteFile(present=False)
    entry = entries[0]
    size = int(entry.get_filesize())
    modified = filetime(int(entry.get_wtime()))  # LastWriteTime, as WMI's LastModified
    fid = conn.openFile(
        tree,
        path,
        desiredAccess=FILE_READ_DATA | FILE_READ_ATTRIBUTES,
        shareMode=SHARE_READ_WRITE_DELETE,
    )
    try:

        def read(offset: int, length: int) -> bytes:
            return bytes(conn.readFile(tree, fid, offset, length))

        try:
            binary = read_pe_ranges(read, size, shown)
        except PeError as exc:
            return RemoteFile(True, size, modified, None, exc.message)
    finally:
        with contextlib.suppress(Exception):
            conn.closeFile(tree, fid)
    return RemoteFile(True, size, modified, binary)


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
