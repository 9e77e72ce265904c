"""Collect one host's facts over SMB and MS-RPC with impacket, for hosts with no WinRM.

Windows Server 2003 shipped without WinRM; what MBSA, Nessus and Greenbone read there
instead is the registry through the remote registry service, service states through
the service control manager and the file itself through ADMIN$. This collector reads
the same facts the WinRM probe reads and writes the same HostFacts, with
``collector="smb"``, so judging, reports, gate and diff do not know the difference,
except for one thing SMB cannot see: when a process started. That is said in the facts
(``blind_spots``, ``process_starts=None``) and in every finding it touches.

The conversation runs under the host's Guard: every socket impacket connects is
registered through an audit hook, so the wall-clock deadline holds in the connect, the
negotiation, the logon and every call, whatever the host sends or withholds.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kbscan.collect import impacket_speed, probe
from kbscan.collect.deadline import DeadlineExceeded, Guard, capture_connects, guarded
from kbscan.collect.interface import Collector
from kbscan.collect.kerberos import fetch_service_ticket, refusal
from kbscan.collect.outcome import Collected, HostFailure
from kbscan.collect.plan import CollectionPlan
from kbscan.collect.probe import exchange_version, pending_pairs
from kbscan.collect.smb_errors import error_code
from kbscan.hotfix_ids import spellings
from kbscan.limits import DEFAULTS, HostDeadline
from kbscan.model import (
    SERVICE_UNREADABLE,
    Arch,
    CollectionFailure,
    FailureCategory,
    FileFacts,
    HostFacts,
    OsFacts,
    ReadBy,
    Target,
)

log = logging.getLogger("kbscan.smb")

CURRENT_VERSION = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion"
PRODUCT_OPTIONS = r"SYSTEM\CurrentControlSet\Control\ProductOptions"
# The keys the WinRM probe reads too, as the remote registry names them (under HKLM).
SESSION_MANAGER = probe.SESSION_MANAGER.removeprefix("HKLM\\")
ENVIRONMENT = SESSION_MANAGER + r"\Environment"
COMPUTER_NAME = r"SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName"
EXCHANGE_SETUP = probe.EXCHANGE_SETUP.removeprefix("HKLM\\")
UPDATES = probe.UPDATES_KEY.removeprefix("HKLM\\")
HOTFIX = probe.HOTFIX_KEY.removeprefix("HKLM\\")  # NT 4.0 and 2000
CBS_PACKAGES = r"SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\Packages"
MAX_PACKAGES = 20_000  # a 2008 R2 host after years of updates has a few thousand
# One call for them all where the server has BaseRegQueryMultipleValues; CSDVersion is
# absent before a service pack, and the call is all or nothing: then one call a value.
_CURRENT_VERSION_VALUES = (
    "CurrentVersion", "CurrentBuildNumber", "CSDVersion", "ProductName", "SystemRoot"
)  # fmt: skip
# Where a release's hotfix packages write their records (Updates\<product>\SP<n+1>).
_UPDATES_PRODUCTS = {"5.0": "Windows 2000", "5.1": "Windows XP", "5.2": "Windows Server 2003"}
_PRODUCT_TYPES = {"WINNT": 1, "LANMANNT": 2, "SERVERNT": 3}
_ARCHITECTURES = {"X86": Arch.X86, "AMD64": Arch.X64, "IA64": Arch.IA64}
PROCESS_BLIND_SPOT = (
    "process start times: SMB and the remote registry cannot show when {processes} "
    "started; a restart is judged from PendingFileRenameOperations and the Server "
    "service's start (srvsvc) alone"
)
PROCESS_BLIND_SPOT_NO_START = (
    "process start times: SMB and the remote registry cannot show when {processes} "
    "started, and the Server service's start could not be read ({why}); a restart is "
    "judged from PendingFileRenameOperations alone"
)

SMB_PORT = 445  # SMB over TCP (NetBIOS's 139 is never used)

# What an operator does about each failure over SMB: the port, the services, the rights.
ADVICE = {
    FailureCategory.UNREACHABLE: f"Check that the host is up, port {SMB_PORT} reaches it and "
    "the Remote Registry service runs, then rescan (or scan it over WinRM).",
    FailureCategory.REFUSED_CREDENTIALS: "Check the account and its password; it must be an "
    "administrator of the host (ADMIN$, the remote registry), then rescan.",
    FailureCategory.TIMEOUT: f"Check the host's load and the network path to port {SMB_PORT}; "
    "rescan with a longer --deadline.",
    FailureCategory.SMB_FAULT: "Read the SMB error, fix the host's sharing or RPC services, "
    "then rescan.",
}

STATUS_LOGON_FAILURE = 0xC000006D
STATUS_ACCESS_DENIED = 0xC0000022
STATUS_BAD_NETWORK_NAME = 0xC00000CC
_REFUSED_LOGON = {
    STATUS_LOGON_FAILURE: "the host refused the logon (wrong user name or password)",
    0xC0000072: "the account is disabled",
    0xC0000071: "the password has expired",
    0xC0000234: "the account is locked out",
    0xC000006E: "the account may not log on to this host (account restriction)",
    0xC000015B: "the account may not log on over the network (logon type not granted)",
}
_PIPE_MISSING = {0xC0000034, 0xC00000AC, 0xC000000F}  # name not found, pipe not available
ERROR_ACCESS_DENIED = 5


def impacket_missing() -> str | None:
    """What to install when impacket is not there, else None."""
    try:
        import impacket.smbconnection  # noqa: F401
    except ImportError:
        return "pip install 'kbscan[smb]'"
    return None


@dataclass(frozen=True)
class SmbSettings:
    """How to reach hosts over SMB; the password is kept out of repr and never logged."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    kerberos: bool = False
    kdc: str | None = None
    port: int = SMB_PORT
    read_timeout: float = float(DEFAULTS.read_timeout)

    def credentials(self, target: Target) -> tuple[str, str]:
        """(domain, user) of ``DOMAIN\\user`` or ``user@domain``."""
        name = target.username or self.username or ""
        if "\\" in name:
            domain, _, user = name.partition("\\")
            return domain, user
        if "@" in name:
            user, _, domain = name.partition("@")
            return domain, user
        return "", name


class SmbCollector(Collector):
    """Collects what a plan needs from one target at a time; build one per worker."""

    fault = FailureCategory.SMB_FAULT
    read_by = ReadBy.SMB

    def __init__(
        self,
        plan: CollectionPlan,
        settings: SmbSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        missing = impacket_missing()
        if missing:
            raise RuntimeError(f"SMB collection needs impacket: {missing}")
        self.plan = plan
        self.settings = settings
        self.clock = clock

    def collect(self, target: Target, deadline: HostDeadline) -> Collected:
        with guarded(deadline) as guard:
            capture_connects(guard)
            return self._collect(target, guard)

    def _collect(self, target: Target, guard: Guard) -> Collected:
        started = self.clock()
        conversation = _Conversation(self.plan, self.settings, target, guard)
        try:
            facts = conversation.run(started)
        except HostFailure as failure:
            return Collected(
                self._failed(target, started, failure.category, failure.message, conversation),
                conversation.trips,
                failure.transient,
            )
        except Exception as exc:
            found = _classify(exc, guard, target, conversation.step)
            log.info("%s: %s: %s", target.host, found.category.value, found.message)
            return Collected(
                self._failed(target, started, found.category, found.message, conversation),
                conversation.trips,
                found.transient,
            )
        finally:
            conversation.close()
        log.debug("%s: %d round trips over SMB", target.host, conversation.trips)
        return Collected(facts, conversation.trips, False)

    def _failed(
        self,
        target: Target,
        started: datetime,
        category: FailureCategory,
        message: str,
        conversation: _Conversation,
    ) -> HostFacts:
        """The failure, and the facts read before it (OS, architecture, ...): a host that
        fails part way is still known for what it is."""
        password = self.settings.password
        if password:
            message = message.replace(password, "********")
        message = "".join(c if c.isprintable() else " " for c in message)[:500]
        read = conversation.read or {}
        return HostFacts(
            host=target.host,
            collected_at=started,
            collector=ReadBy.SMB,
            target=target,
            failure=CollectionFailure(category, message, ADVICE.get(category)),
            computer_name=read.get("computer_name"),
            system_root=read.get("system_root"),
            os=read.get("os"),
            architecture=read.get("architecture"),
        )


class _Conversation:
    """One host's SMB session: log on, read, log off; ``step`` says where it is."""

    def __init__(
        self, plan: CollectionPlan, settings: SmbSettings, target: Target, guard: Guard
    ) -> None:
        self.plan = plan
        self.settings = settings
        self.target = target
        self.guard = guard
        self.port = target.smb_port or settings.port
        self.conn: Any = None
        self.trips = 0
        self.step = "connecting"
        self.read: dict[str, Any] | None = None  # the registry's facts, once read
        self.ipc = 0  # the session's IPC$ tree
        self.session_name: str | None = None

    def _at(self, step: str) -> None:
        self.step = step
        self.guard.operation = step
        self.guard.check()

    def run(self, started: datetime) -> HostFacts:
        from kbscan.collect import smb_reads as reads

        conn = self._logon()
        self._at("reading the registry")
        try:
            with reads.pipe(conn, self.port, "winreg", self.ipc) as dce:
                facts = self._registry_facts(reads.Registry(dce))
        except Exception as exc:
            raise self._registry_failure(exc) from None
        self.read = facts  # what a failure later on keeps
        states = self._service_states(conn)
        self._at("reading the server's statistics")
        server_start, srvsvc_failed = None, None
        try:
            with reads.pipe(conn, self.port, "srvsvc", self.ipc) as dce:
                server_start = reads.server_started(dce)
        except (HostFailure, DeadlineExceeded):
            raise
        except Exception as exc:
            srvsvc_failed = _call_failure(exc)
        names = self.plan.services
        files = self._files(facts["system_root"], facts["os"].version)
        blind = []
        if self.plan.processes:
            shown = " and ".join(self.plan.processes)
            blind.append(
                PROCESS_BLIND_SPOT.format(processes=shown)
                if srvsvc_failed is None
                else PROCESS_BLIND_SPOT_NO_START.format(processes=shown, why=srvsvc_failed)
            )
        return HostFacts(
            host=self.target.host,
            collected_at=started,
            collector=ReadBy.SMB,
            target=self.target,
            computer_name=facts["computer_name"],
            system_root=facts["system_root"],
            os=facts["os"],
            architecture=facts["architecture"],
            services=tuple((name, states.get(name, "")) for name in names),
            products=facts["products"],
            hotfixes=facts["hotfixes"],
            pending_renames=facts["pending"],
            process_starts=None,  # SMB cannot see them; said in blind_spots
            files=files,
            system_started=server_start,
            blind_spots=tuple(blind),
        )

    def _service_states(self, conn: Any) -> dict[str, str]:
        """The plan's services over svcctl; a refused pipe or manager costs their states
        (SERVICE_UNREADABLE), not the host."""
        from kbscan.collect import smb_reads as reads

        self._at("querying services")
        names = self.plan.services
        if not names:
            return {}
        try:
            with reads.pipe(conn, self.port, "svcctl", self.ipc) as dce:
                return reads.service_states(dce, names)
        except (HostFailure, DeadlineExceeded):
            raise
        except Exception as exc:
            if self.guard.expired:
                raise
            log.info("%s: services unreadable: %s", self.target.host, _call_failure(exc))
            return dict.fromkeys(names, SERVICE_UNREADABLE)

    def _logon(self) -> Any:
        from impacket.smbconnection import SMBConnection

        impacket_speed.install()
        s = self.settings
        address = self.target.address or self.target.host
        timeout = max(0.1, min(s.read_timeout, self.guard.remaining()))
        self._at("connecting")
        self.guard.phase = "connecting"
        self.trips += 1  # the negotiation
        conn = SMBConnection(self.target.host, address, sess_port=self.port, timeout=timeout)
        self.conn = conn
        _count_requests(conn, self)
        self.guard.phase = "logging on"
        self._at("logging on")
        domain, user = s.credentials(self.target)
        if s.kerberos:
            fetch_service_ticket("cifs", self.target.host)
            # the scan's ticket (collect/kerberos.py) is in KRB5CCNAME: impacket takes its
            # TGT from there and asks the KDC for cifs/HOST; never a logon of its own
            conn.kerberosLogin(user, "", domain, kdcHost=s.kdc or domain, useCache=True)
        else:
            conn.login(user, s.password or "", domain)
        self.guard.phase = "reading"
        self.ipc = conn.connectTree("IPC$")  # one tree for every pipe of the session
        # NTLM's challenge names the host's computer (its NetBIOS name): no registry call
        self.session_name = None if s.kerberos else (conn.getServerName() or None)
        return conn

    def _registry_facts(self, registry: Any) -> dict[str, Any]:
        current = registry.values(CURRENT_VERSION, _CURRENT_VERSION_VALUES)
        version = current.get("CurrentVersion")
        build = current.get("CurrentBuildNumber")
        csd = current.get("CSDVersion") or None
        product = registry.value(PRODUCT_OPTIONS, "ProductType")
        native = registry.value(ENVIRONMENT, "PROCESSOR_ARCHITECTURE")
        os_version = f"{version}.{build}" if version and build else None
        hotfixes: tuple[str, ...] | None = None
        if os_version and os_version[:1] in "345":  # Updates\ is where 5.x keeps them
            workstation = _PRODUCT_TYPES.get(str(product or "").upper()) == 1
            hotfixes = self._recorded_updates(registry, os_version, csd, workstation)
        elif os_version:
            hotfixes = self._installed_packages(registry)
        products: tuple[tuple[str, str], ...] = ()
        if self.plan.exchange and registry.exists(EXCHANGE_SETUP):
            major = _as_int(registry.value(EXCHANGE_SETUP, "MsiProductMajor"))
            minor = _as_int(registry.value(EXCHANGE_SETUP, "MsiProductMinor"))
            products = (("Exchange Server", exchange_version(major, minor)),)
        renames = registry.value(SESSION_MANAGER, "PendingFileRenameOperations")
        return {
            "computer_name": self.session_name
            or registry.value(COMPUTER_NAME, "ComputerName")
            or None,
            "system_root": current.get("SystemRoot") or None,
            "os": OsFacts(
                caption=current.get("ProductName") or None,
                version=os_version,
                csd_version=csd,
                service_pack=_service_pack(csd) if os_version else None,
                product_type=_PRODUCT_TYPES.get(str(product or "").upper()),
            ),
            "architecture": _ARCHITECTURES.get(str(native or "").upper()),
            "hotfixes": hotfixes,
            "products": products,
            "pending": pending_pairs(renames) if isinstance(renames, list) else (),
        }

    def _recorded_updates(
        self, registry: Any, os_version: str, csd: str | None, workstation: bool
    ) -> tuple[str, ...]:
        """Which of the plan's KBs for this release have an installed-update record:
        Updates\\<product>\\SP<n+1>\\<KB> where a package for this service pack writes
        it (in each spelling Windows writes: KBn-v2, ...), else under an earlier service
        pack's folder or the product's own (a package installed before the last service
        pack), and Windows NT\\CurrentVersion\\Hotfix\\Q<n> on NT 4.0 and 2000. Each is
        opened by name, as MBSA did: a key is never walked whole."""
        wanted = self.plan.hotfixes_on(os_version)
        # XP x64 is 5.2 too, but a workstation with a product folder of its own
        product = (
            None
            if workstation and os_version[:3] == "5.2"
            else _UPDATES_PRODUCTS.get(os_version[:3])
        )
        if not wanted:
            return ()
        if product is None:
            return self._searched_records(registry, wanted)
        level = _service_pack(csd)
        base = f"{UPDATES}\\{product}"
        current = [f"{base}\\SP{level + 1}"]
        if os_version[:3] in ("4.0", "5.0"):
            current.append(HOTFIX)
        earlier = [f"{base}\\SP{sp}" for sp in range(level, 0, -1)] + [base]
        found: set[str] = set()
        for hotfix in wanted:
            record = self._first_record(registry, current, spellings(hotfix))
            record = record or self._first_record(registry, earlier, (hotfix,))
            if record:
                found.add(record)
        return tuple(sorted(found))

    @staticmethod
    def _first_record(registry: Any, folders: list[str], names: tuple[str, ...]) -> str | None:
        for folder in folders:
            for name in names:
                if registry.exists(f"{folder}\\{name}"):
                    return name.upper()
        return None

    def _searched_records(self, registry: Any, wanted: tuple[str, ...]) -> tuple[str, ...]:
        """A release whose Updates product folder kbscan does not know: every product's
        service-pack folders, each spelling."""
        folders = []
        for product in registry.subkeys(UPDATES):
            base = f"{UPDATES}\\{product}"
            packs = [sp for sp in registry.subkeys(base) if re.fullmatch(r"(?i)SP\d+", sp)]
            folders += [f"{base}\\{sp}" for sp in sorted(packs, reverse=True)] + [base]
        records = (self._first_record(registry, folders, spellings(h)) for h in wanted)
        return tuple(sorted(r for r in records if r))

    def _installed_packages(self, registry: Any) -> tuple[str, ...]:
        """Which of the plan's KBs Vista and later list as component-store packages
        (Package_for_KB981506~31bf3856ad364e35~amd64~~6.1.1.0, what wmic qfe reads): the
        names are listed, one call each, only when the set names a hotfix at all."""
        wanted = self.plan.hotfix_ids
        if not wanted:
            return ()
        names = registry.subkeys(CBS_PACKAGES, limit=MAX_PACKAGES)
        return tuple(
            sorted(
                hotfix.upper()
                for hotfix in wanted
                if any(re.search(rf"(?i)_for_{re.escape(hotfix)}(?![0-9])", n) for n in names)
            )
        )

    def _registry_failure(self, exc: Exception) -> Exception:
        """The remote registry's own failures, in words an administrator acts on."""
        if isinstance(exc, (HostFailure, DeadlineExceeded)) or self.guard.expired:
            return exc
        code = error_code(exc)
        if code in _PIPE_MISSING:
            state = self._remote_registry_state()
            why = {
                "STOPPED": "the Remote Registry service (RemoteRegistry) is stopped on the host",
                "": "the Remote Registry service (RemoteRegistry) is not installed",
            }.get(state or "-", "the remote registry pipe (\\winreg) is not available")
            return HostFailure(
                FailureCategory.UNREACHABLE,
                f"{why}: start it (sc \\\\{self.target.host} start RemoteRegistry) or scan "
                "this host over WinRM",
            )
        if code in (STATUS_ACCESS_DENIED, ERROR_ACCESS_DENIED):
            return HostFailure(
                FailureCategory.REFUSED_CREDENTIALS,
                "access denied on the remote registry (HKLM): the account is not an "
                "administrator of the host",
            )
        return exc

    def _remote_registry_state(self) -> str | None:
        from kbscan.collect import smb_reads as reads

        with (
            contextlib.suppress(Exception),
            reads.pipe(self.conn, self.port, "svcctl", self.ipc) as dce,
        ):
            return reads.service_states(dce, ("RemoteRegistry",)).get("RemoteRegistry")
        return None

    def _files(self, system_root: str | None, os_version: str | None) -> tuple[FileFacts, ...]:
        """The plan's files of the host's release (each costs round trips over SMB)."""
        from kbscan.collect import smb_reads as reads

        out: list[FileFacts] = []
        trees: dict[str, int] = {}
        for probe_file in self.plan.files:
            if not probe_file.wanted_on(os_version):
                continue
            path = probe_file.on_host(system_root)
            share, inside = _share_of(probe_file.kb_path, path)
            if share is None:
                out.append(FileFacts(path=path, present=None))
                continue
            self._at(f"reading {path}")
            if share not in trees:
                try:
                    trees[share] = self.conn.connectTree(share)
                except Exception as exc:
                    raise _share_failure(exc, share, self.target.host) from None
            found = reads.read_file(self.conn, share, trees[share], inside, path)
            if not found.present:
                out.append(FileFacts(path=path, present=False))
                continue
            out.append(
                FileFacts(
                    path=path,
                    present=True,
                    version_text=None,  # no WMI here: the binary's own resource says it
                    size=found.size,
                    modified=found.modified,
                    binary=found.binary,
                    binary_source=f"ranged read of \\\\{self.target.host}\\{share}\\{inside}",
                    binary_error=found.binary_error,
                )
            )
        return tuple(out)  # the trees are the logoff's to close

    def close(self) -> None:
        if self.conn is None:
            return
        if self.guard.expired:  # no logoff to a host that has stopped answering
            with contextlib.suppress(Exception):
                self.conn.getSMBServer().close_session()
            return
        with contextlib.suppress(Exception):
            self.conn.close()  # logs off: the host closes the session's pipes and trees


def _count_requests(conn: Any, conversation: _Conversation) -> None:
    """Count every SMB request of this connection (one per round trip) by wrapping this
    connection's own send; nothing of impacket changes for anyone else."""
    server = conn.getSMBServer()
    send = server.sendSMB

    def counted(*args: Any, **kwargs: Any) -> Any:
        conversation.trips += 1
        return send(*args, **kwargs)

    server.sendSMB = counted


def _share_of(kb_path: str, native: str) -> tuple[str | None, str]:
    """ADMIN$ for a path under the system root; the drive's X$ for any other."""
    if kb_path.lower().startswith("%systemroot%\\"):
        return "ADMIN$", kb_path[len("%SystemRoot%\\") :]
    m = re.match(r"^([A-Za-z]):\\(.+)$", native)
    if m:
        return f"{m.group(1).upper()}$", m.group(2)
    return None, native


def _share_failure(exc: Exception, share: str, host: str) -> HostFailure:
    code = error_code(exc)
    if code == STATUS_ACCESS_DENIED:
        return HostFailure(
            FailureCategory.REFUSED_CREDENTIALS,
            f"access denied on \\\\{host}\\{share}: the account is not an administrator of "
            "the host",
        )
    if code == STATUS_BAD_NETWORK_NAME:
        return HostFailure(
            FailureCategory.SMB_FAULT,
            f"the host does not share {share} (administrative shares turned off: "
            "AutoShareServer=0)",
        )
    return _classify_plain(exc, f"connecting to {share}")


def _service_pack(csd: str | None) -> int:
    """CSDVersion "Service Pack 2" is 2; no CSDVersion is the release itself (0)."""
    if not csd:
        return 0
    m = re.search(r"Service Pack (\d+)", csd, re.I)
    return int(m.group(1)) if m else 0


def _as_int(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    try:
        return int(str(value), 0)
    except (TypeError, ValueError):
        return None


def _call_failure(exc: BaseException) -> str:
    """One refused or failed call, named by its status: an MS-RPC fault or Win32 error
    as such (rpc_s_access_denied is 5, not an NTSTATUS), an SMB NTSTATUS as hex."""
    code = error_code(exc)
    if code is None:  # impacket names a fault it has no code for ("nca_s_op_rng_error")
        said = "".join(c for c in str(exc) if c.isprintable())[:80]
        return f"DCE/RPC fault {said}" if said else type(exc).__name__
    if not type(exc).__module__.startswith("impacket.dcerpc"):
        return f"NTSTATUS 0x{code:08X}"  # an SMB error
    name = _RPC_NAMES.get(code)
    return f"DCE/RPC status {code}" + (f" ({name})" if name else "")


_RPC_NAMES = {
    5: "access denied", 0x1C010002: "nca_s_op_rng_error", 0x1C00001A: "nca_s_fault_ndr",
    0x6F7: "rpc_x_bad_stub_data", 0x16C9A0D6: "rpc_s_access_denied",
}  # fmt: skip


def _classify(exc: Exception, guard: Guard, target: Target, step: str) -> HostFailure:
    """Turn whatever impacket or the network raised into one host's failure category."""
    if guard.expired or isinstance(exc, DeadlineExceeded) or guard.remaining() <= 0.05:
        guard.expire()
        return HostFailure(FailureCategory.TIMEOUT, guard.expired_phase or guard.describe())
    if (said := refusal(exc)) is not None:
        return HostFailure(FailureCategory.REFUSED_CREDENTIALS, said)
    code = error_code(exc)
    if code in _REFUSED_LOGON:
        return HostFailure(FailureCategory.REFUSED_CREDENTIALS, _REFUSED_LOGON[code])
    if code == STATUS_ACCESS_DENIED:
        return HostFailure(FailureCategory.REFUSED_CREDENTIALS, f"access denied while {step}")
    return _classify_plain(exc, step)


def _classify_plain(exc: BaseException, step: str) -> HostFailure:
    inner: BaseException = exc
    while inner.__context__ is not None and inner.__context__ is not inner:
        inner = inner.__context__
    # impacket wraps socket errors: socket.error("Connection error (...)", original)
    candidates = [
        exc,
        inner,
        *(a for a in getattr(exc, "args", ()) if isinstance(a, BaseException)),
    ]

    def found(kind: type[BaseException] | tuple[type[BaseException], ...]) -> bool:
        return any(isinstance(c, kind) for c in candidates)

    if found(ConnectionRefusedError):
        return HostFailure(FailureCategory.UNREACHABLE, "connection refused", transient=True)
    if found(ConnectionResetError):
        return HostFailure(FailureCategory.UNREACHABLE, f"connection reset while {step}", True)
    if found((socket.timeout, TimeoutError)):
        return HostFailure(
            FailureCategory.TIMEOUT, f"no answer within the read timeout: {step}", True
        )
    if found(socket.gaierror):
        return HostFailure(FailureCategory.UNREACHABLE, "name or service not known")
    for candidate in candidates:
        if isinstance(candidate, OSError) and isinstance(candidate.errno, int):
            return HostFailure(FailureCategory.UNREACHABLE, f"{candidate.strerror} while {step}")
    detail = f" ({_call_failure(exc)})" if error_code(exc) is not None else ""
    return HostFailure(
        FailureCategory.SMB_FAULT, f"{type(exc).__name__} while {step}{detail}: {str(exc)[:160]}"
    )
