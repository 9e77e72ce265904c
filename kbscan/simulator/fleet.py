"""A simulated fleet: one loopback listener per host profile (WinRM, and SMB when asked
for), and the inventory for it."""

from __future__ import annotations

import contextlib
import csv
import os
import socket
import ssl
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from kbscan.simulator.profile import SimHost, load_profile
from kbscan.simulator.wsman import Acceptor, SimulatedHost


class SimulatedFleet:
    """Start with ``with SimulatedFleet(profiles, user, password) as fleet:``.

    A profile whose behaviour is ``down`` gets a port nobody listens on, so connecting
    to it is refused as with a host that is off.
    """

    def __init__(
        self,
        hosts: list[SimHost],
        username: str,
        password: str,
        *,
        operation_timeout: float = 2.0,
        tls: ssl.SSLContext | None = None,
        smb: bool = False,
        keytab: Path | None = None,
    ) -> None:
        self.hosts = hosts
        self.username = username
        self._password = password
        self.operation_timeout = operation_timeout
        self.tls = tls
        self.running: dict[str, SimulatedHost] = {}
        self.endpoints: dict[str, tuple[str, int]] = {}
        self.smb = smb
        # A Kerberos realm's keytab: each host then also accepts tickets for HTTP/HOST
        # and cifs/HOST, as a domain member does.
        self.keytab = keytab
        self.smb_running: dict[str, Any] = {}  # host -> SmbEndpoint
        self.smb_endpoints: dict[str, tuple[str, int]] = {}

    @classmethod
    def from_folder(cls, folder: Path, username: str, password: str, **kw: Any) -> SimulatedFleet:
        files = folder / "files"
        hosts = [load_profile(p, files) for p in sorted(folder.glob("*.json"))]
        return cls(hosts, username, password, **kw)

    def __enter__(self) -> SimulatedFleet:
        # NTLM: pyspnego's acceptor reads its accounts from the file $NTLM_USER_FILE names
        # (DOMAIN:USER:PASSWORD); it lives only while the fleet runs.
        domain, _, user = self.username.rpartition("\\")
        self._user_file = tempfile.NamedTemporaryFile("w", suffix=".ntlm", delete=False)
        self._user_file.write(f"{domain}:{user}:{self._password}\n")
        self._user_file.close()
        self._previous_user_file = os.environ.get("NTLM_USER_FILE")
        os.environ["NTLM_USER_FILE"] = self._user_file.name
        # Kerberos: MIT's acceptor (through pyspnego) reads the hosts' keys from $KRB5_KTNAME
        self._previous_keytab = os.environ.get("KRB5_KTNAME")
        if self.keytab is not None:
            os.environ["KRB5_KTNAME"] = str(self.keytab)
        self._acceptor = Acceptor()
        self._reserved: list[socket.socket] = []  # the down hosts' ports
        if self.smb:
            self._start_smb()
        for host in self.hosts:
            if host.behaviour in ("down", "absent"):
                self.endpoints[host.host] = ("127.0.0.1", _closed_port(self._reserved))
                continue
            sim = SimulatedHost(
                host,
                self.username,
                self._password,
                operation_timeout=self.operation_timeout,
                tls=self.tls,
                acceptor=self._acceptor,
                kerberos=self.keytab is not None,
            )
            self.running[host.host] = sim
            self.endpoints[host.host] = (str(sim.address), int(sim.port))
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for sim in self.running.values():
            sim.stop()
        self._acceptor.close()
        self.running.clear()
        # each endpoint's listeners wait out a poll interval to stop: stop them together
        stopping = [
            threading.Thread(target=endpoint.stop, name="sim-smb-stop")
            for endpoint in self.smb_running.values()
        ]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
        self.smb_running.clear()
        for reserved in self._reserved:
            reserved.close()
        self._reserved.clear()
        if self.keytab is not None:
            _restore("KRB5_KTNAME", self._previous_keytab)
        if self._previous_user_file is None:
            os.environ.pop("NTLM_USER_FILE", None)
        else:
            os.environ["NTLM_USER_FILE"] = self._previous_user_file
        with contextlib.suppress(OSError):
            os.unlink(self._user_file.name)

    def _start_smb(self) -> None:
        # impacket is an optional extra; only a fleet that serves SMB needs it
        from kbscan.simulator.smb_endpoint import SmbEndpoint, smb_behaviour

        for host in self.hosts:
            if smb_behaviour(host) == "down":
                self.smb_endpoints[host.host] = ("127.0.0.1", _closed_port(self._reserved))
                continue
            endpoint = SmbEndpoint(host, self.username, self._password, self.keytab)
            self.smb_running[host.host] = endpoint
            self.smb_endpoints[host.host] = endpoint.address

    def write_inventory(
        self, path: Path, transport: str = "basic", protocols: dict[str, str] | None = None
    ) -> Path:
        """A CSV inventory naming each host with the loopback address and port it has
        (and, when the fleet serves SMB, its SMB port and the protocol its profile asks
        for: a profile's ``extra.protocol``, or ``protocols``)."""
        header = ["host", "address", "port", "transport", "scheme", "site", "owner"]
        if self.smb:
            header.append("smb_port")
        if protocols is None and self.smb and any(h.extra.get("protocol") for h in self.hosts):
            protocols = {
                h.host: str(h.extra["protocol"]) for h in self.hosts if h.extra.get("protocol")
            }
        if protocols is not None:
            header.append("protocol")
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for host in self.hosts:
                address, port = self.endpoints[host.host]
                row: list[object] = [
                    host.host,
                    address,
                    port,
                    transport,
                    "https" if self.tls else "http",
                    host.extra.get("site", ""),
                    host.extra.get("owner", ""),
                ]
                if self.smb:
                    row.append(self.smb_endpoints[host.host][1])
                if protocols is not None:
                    row.append(protocols.get(host.host, ""))
                writer.writerow(row)
        return path

    def requests(self) -> int:
        return sum(sim.state.requests for sim in self.running.values())

    def commands(self) -> dict[str, int]:
        """Command lines each host was asked to run."""
        return {name: sim.state.commands for name, sim in self.running.items()}


def _closed_port(reserved: list[socket.socket]) -> int:
    """A loopback port that nobody listens on, kept bound (without listening) in
    ``reserved`` until the fleet stops: a connect is refused, and no listener started
    later can be handed the same number and answer in the down host's place."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    reserved.append(s)
    return int(s.getsockname()[1])


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
