"""A Windows-like SMB endpoint for one simulated host: impacket's SMB server with the
host's ADMIN$ and C$, and its winreg, svcctl and srvsvc pipes, from the same profile
the WinRM simulator serves.

Windows Server 2000, XP and 2003 speak SMB1 only; later releases SMB2 as well, so a
profile's release picks the dialects. Files are laid out in a folder per host (ADMIN$
is the system root, C$ the drive) with the profile's write times; Windows compares
names without regard to case, so the endpoint does too.

The faults a real fleet has are profile behaviours (``"smb": {"behaviour": ...}``):
``down`` (port 445 closed), ``refuse`` (the password is not the host's),
``registry-stopped`` (no winreg pipe: the RemoteRegistry service is stopped),
``registry-denied`` (the account may not open HKLM), ``admin-denied`` (access denied on
ADMIN$ and C$), ``hang`` (the registry call never answers). Without an ``smb`` section a
host mirrors its WinRM behaviour where there is an equivalent (down, refuse, timeout).
"""

from __future__ import annotations

import configparser
import os
import shutil
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from impacket import smb, smb3structs, smbserver
from impacket.nt_errors import STATUS_ACCESS_DENIED
from impacket.ntlm import compute_nthash

from kbscan.collect import impacket_speed
from kbscan.collect.probe import parse_wmi_datetime as parse_cim_datetime
from kbscan.simulator.profile import SimHost
from kbscan.simulator.registry_view import registry_of
from kbscan.simulator.rpc_pipes import PipeServer, SrvsvcCalls, SvcctlCalls, WinregCalls

SMB_BEHAVIOURS = (
    "normal",
    "down",
    "refuse",
    "registry-stopped",
    "registry-denied",
    "admin-denied",
    "hang",
)
_FROM_WINRM = {"down": "down", "refuse": "refuse", "timeout": "hang"}
_DENIED_SHARES = ("ADMIN$", "C$")


impacket_speed.install()  # the server packs and parses as impacket's client does


def smb_behaviour(host: SimHost) -> str:
    """What the host's SMB side does: its own behaviour, else the WinRM one's twin."""
    behaviour = host.smb_behaviour or _FROM_WINRM.get(host.behaviour, "normal")
    if behaviour not in SMB_BEHAVIOURS:
        raise ValueError(f"{host.host}: unknown SMB behaviour {behaviour!r}")
    return behaviour


def speaks_smb2(host: SimHost) -> bool:
    """Windows NT 5.x (2000, XP, Server 2003) has SMB1 only; Vista and later SMB2 too."""
    records = host.wmi.get("Win32_OperatingSystem") or [{}]
    version = str(records[0].get("Version") or "")
    return not version.startswith("5.") and not version.startswith("4.")


def server_started(host: SimHost) -> datetime:
    """When the host's Server service started: the profile's LastBootUpTime, else a minute
    before its earliest process, else the start of the month of the demo."""
    records = host.wmi.get("Win32_OperatingSystem") or [{}]
    boot = parse_cim_datetime(str(records[0].get("LastBootUpTime") or ""))
    if boot is not None:
        return boot
    starts = [
        parse_cim_datetime(str(p.get("CreationDate") or ""))
        for p in host.wmi.get("Win32_Process") or []
    ]
    known = [s for s in starts if s is not None]
    if known:
        return min(known) - timedelta(minutes=1)
    return datetime(2026, 11, 1, 5, 0, tzinfo=UTC)


class SmbEndpoint:
    """One host's SMB listener on loopback, with its pipes and shares; stop() ends all."""

    def __init__(
        self, host: SimHost, username: str, password: str, keytab: Path | None = None
    ) -> None:
        self.host = host
        self.behaviour = smb_behaviour(host)
        self._root = Path(tempfile.mkdtemp(prefix=f"kbscan-smb-{host.host}-"))
        self._release = threading.Event()  # a hanging call waits on it until stop()
        self._pipes: list[PipeServer] = []
        self._layout_files()
        config = _config(self._root / "c", self.system_root, host.computer_name, speaks_smb2(host))
        config.set("global", "KerberosSupport", str(keytab is not None))
        self._server = smbserver.SMBSERVER(("127.0.0.1", 0), config_parser=config)
        # a connection's thread may be blocked on a client that went away (impacket waits
        # five minutes): stopping the endpoint never waits for it
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._server.processConfigFile()
        _, _, user = username.rpartition("\\")
        secret = password if self.behaviour != "refuse" else password + "-not-this-host's"
        self._server.addCredential(user, 0, "", compute_nthash(secret).hex())
        if keytab is not None:
            _accept_kerberos(self._server, host.host, keytab)
        self._register_pipes()
        if self.behaviour == "admin-denied":
            _deny_admin_shares(self._server)
        self.address: tuple[str, int] = tuple(self._server.server_address[:2])
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"sim-smb-{host.host}",
            daemon=True,
        )
        self._thread.start()

    def _layout_files(self) -> None:
        for native, sim_file in self.host.files.items():
            target = self._native(native)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(sim_file.content)
            modified = parse_cim_datetime(sim_file.last_modified)
            if modified is not None:
                stamp = modified.timestamp()
                os.utime(target, (stamp, stamp))
        self.system_root = self._native(self.host.env.get("SystemRoot") or "C:\\WINDOWS")
        self.system_root.mkdir(parents=True, exist_ok=True)

    def _native(self, path: str) -> Path:
        """Where a Windows path of the host lives here: <root>/<drive>/<lower-case path>."""
        drive, _, rest = path.partition(":")
        parts = [p.lower() for p in rest.split("\\") if p]
        return self._root / drive.lower() / Path(*parts) if parts else self._root / drive.lower()

    def _register_pipes(self) -> None:
        view = registry_of(self.host)
        services = dict(self.host.services)
        registry_running = self.behaviour != "registry-stopped"
        services["REMOTEREGISTRY"] = "RUNNING" if registry_running else "STOPPED"
        denied_services = frozenset(self.host.extra.get("sc_denied", []))
        refused = set(self.host.extra.get("smb_refuse", []))  # the calls this host faults
        pipes = {
            "svcctl": lambda: SvcctlCalls(services, denied_services),
            "srvsvc": lambda: SrvsvcCalls(server_started(self.host), refused="srvsvc" in refused),
        }
        if registry_running:
            hang = self._release if self.behaviour == "hang" else None
            denied = self.behaviour == "registry-denied"
            refuse_info = "query_info_key" in refused
            pipes["winreg"] = lambda: WinregCalls(
                view, denied=denied, hang=hang, refuse_info=refuse_info
            )
        for name, make in pipes.items():
            pipe = PipeServer(name, make)
            self._pipes.append(pipe)
            self._server.registerNamedPipe(name, pipe.address)

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        for pipe in self._pipes:
            pipe.begin_stop()
        for pipe in self._pipes:
            pipe.stop()
        shutil.rmtree(self._root, ignore_errors=True)


def _config(drive: Path, system_root: Path, name: str, smb2: bool) -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.add_section("global")
    config.set("global", "server_name", name[:15])
    config.set("global", "server_os", "Windows")
    config.set("global", "server_domain", "DEMO")
    config.set("global", "log_file", "None")
    config.set("global", "rpc_apis", "yes")
    config.set("global", "credentials_file", "")
    config.set("global", "anonymous_logon", "False")
    config.set("global", "SMB2Support", str(smb2))
    config.add_section("IPC$")
    for key, value in (("comment", ""), ("read only", "yes"), ("share type", "3"), ("path", "")):
        config.set("IPC$", key, value)
    drive.mkdir(parents=True, exist_ok=True)
    shares = {"C$": drive, "ADMIN$": system_root}
    for share, path in shares.items():
        config.add_section(share)
        config.set(share, "comment", "Remote Admin" if share == "ADMIN$" else "Default share")
        config.set(share, "read only", "yes")
        config.set(share, "share type", "0")
        config.set(share, "path", str(path))
    return config


def _accept_kerberos(server: Any, name: str, keytab: Path) -> None:
    """Accept tickets for cifs/NAME as a domain member does, with the key from the
    realm's keytab (impacket's server takes it as a computer account's AES key)."""
    from impacket.krb5.keytab import Keytab

    entry = Keytab.loadFile(str(keytab)).getKey(f"cifs/{name}", specificEncType=18)
    if entry is None:
        raise ValueError(f"{keytab} holds no AES-256 key for cifs/{name}")
    server.setComputerAccountCredentials(
        f"{name[:15]}$", "", "127.0.0.1", aes=entry.hexlifiedValue().decode()
    )


def _deny_admin_shares(server: Any) -> None:
    """Tree connects to ADMIN$ and C$ fail with access denied, as for a non-administrator."""
    original_smb1 = server.hookSmbCommand(smb.SMB.SMB_COM_TREE_CONNECT_ANDX, None)
    original_smb2 = server.hookSmb2Command(smb3structs.SMB2_TREE_CONNECT, None)

    def smb1(conn_id: Any, srv: Any, command: Any, packet: Any) -> Any:
        parameters = smb.SMBTreeConnectAndX_Parameters(command["Parameters"])
        data = smb.SMBTreeConnectAndX_Data(flags=packet["Flags2"])
        data["_PasswordLength"] = parameters["PasswordLength"]
        data.fromString(command["Data"])
        path = smbserver.decodeSMBString(packet["Flags2"], data["Path"])
        if _is_denied(path):
            answer = smb.SMBCommand(smb.SMB.SMB_COM_TREE_CONNECT_ANDX)
            answer["Parameters"] = b""
            answer["Data"] = b""
            return [answer], None, STATUS_ACCESS_DENIED
        return original_smb1(conn_id, srv, command, packet)

    def smb2(conn_id: Any, srv: Any, packet: Any) -> Any:
        request = smb3structs.SMB2TreeConnect(packet["Data"])
        raw = packet.getData()[request["PathOffset"] :][: request["PathLength"]]
        if _is_denied(raw.decode("utf-16-le", "replace")):
            return [smb3structs.SMB2Error()], None, STATUS_ACCESS_DENIED
        return original_smb2(conn_id, srv, packet)

    server.hookSmbCommand(smb.SMB.SMB_COM_TREE_CONNECT_ANDX, smb1)
    server.hookSmb2Command(smb3structs.SMB2_TREE_CONNECT, smb2)


def _is_denied(path: str) -> bool:
    share = path.rstrip("\0").rsplit("\\", 1)[-1].upper()
    return share in _DENIED_SHARES


_normalize = smbserver.normalize_path


def _case_insensitive(file_name: str, path: str | None = None) -> str:
    return str(_normalize(file_name, path)).lower()


# Windows compares file names without regard to case, and a KB's table writes them as it
# pleases (AppPatch, Aqueue.dll); the host folders hold lower-case names, so every path
# impacket's server is asked for is looked up in lower case.
smbserver.normalize_path = _case_insensitive
