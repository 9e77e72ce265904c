"""The records that cross kbscan's stage boundaries.

inventory -> collect -> HostFacts -> evaluate(KbDefinition) -> Finding -> report / gate.
Every record is frozen: a stage can hand its output on without fearing that a later
stage rewrites the evidence a verdict was based on. ``None`` always means "not
collected", never "absent"; absence is an explicit empty value or ``False``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from kbscan.versions import FileVersion, VersionText


class Status(StrEnum):
    """The verdict words of DESIGN.md; the order is the order of severity in reports."""

    NEEDS_SERVICE_PACK = "NEEDS_SERVICE_PACK"
    NEEDS_HOTFIX = "NEEDS_HOTFIX"
    RESTART_PENDING = "RESTART_PENDING"
    SUSPECT = "SUSPECT"
    UNKNOWN = "UNKNOWN"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    COMPLIANT = "COMPLIANT"

    @property
    def needs_action(self) -> bool:
        return self in _ACTION_STATUSES

    @property
    def severity(self) -> int:
        """0 for the most pressing status: sort by it to put the worst first."""
        return _SEVERITY[self]


_ACTION_STATUSES = frozenset(
    {Status.NEEDS_HOTFIX, Status.NEEDS_SERVICE_PACK, Status.RESTART_PENDING, Status.SUSPECT}
)
_SEVERITY = {status: rank for rank, status in enumerate(Status)}
# The statuses a change board acts on, most pressing first: Status's own order.
ACTION_STATUSES = tuple(s for s in Status if s.needs_action)


class Arch(StrEnum):
    """A host's native processor architecture (Win32_Processor.Architecture 0, 9, 6)."""

    X86 = "x86"
    X64 = "x64"
    IA64 = "ia64"


class Protocol(StrEnum):
    """How a host is read: WinRM, SMB with the remote registry, or WinRM falling back to
    SMB where no WinRM listener answers."""

    WINRM = "winrm"
    SMB = "smb"
    AUTO = "auto"


class Branch(StrEnum):
    """A file row's service branch, as an article's table names it or implies: GDR
    (security fixes only), QFE and LDR (every hotfix), RTM (as released) and WOW (the
    32-bit file of an x64 package)."""

    GDR = "GDR"
    QFE = "QFE"
    LDR = "LDR"
    RTM = "RTM"
    WOW = "WOW"

    @property
    def is_servicing(self) -> bool:
        """A branch hotfixes are built on (a host's file is on one of them)."""
        return self in (Branch.GDR, Branch.QFE, Branch.LDR)


class ReadBy(StrEnum):
    """What read a host's facts (the ``collector`` of facts.jsonl), and its name in words."""

    WINRM = "winrm"
    SMB = "smb"
    OFFLINE = "offline"  # files carried back: a probe script's output, systeminfo, wmic qfe

    @property
    def label(self) -> str:
        return {"winrm": "WinRM", "smb": "SMB", "offline": "offline files"}[self.value]


SERVICE_UNREADABLE = "UNKNOWN"  # a service whose state query was refused or failed
# SERVICE_STATUS.dwCurrentState 1 to 7, by number: what sc prints ("4  RUNNING") and
# what svcctl's QueryServiceStatus answers
SERVICE_STATES = ("STOPPED", "START_PENDING", "STOP_PENDING", "RUNNING", "CONTINUE_PENDING",
                  "PAUSE_PENDING", "PAUSED")  # fmt: skip


class FailureCategory(StrEnum):
    """Why a host could not be judged; each maps to a different fix for the operator."""

    UNREACHABLE = "unreachable"
    REFUSED_CREDENTIALS = "refused credentials"
    TIMEOUT = "timeout"
    WINRM_FAULT = "WinRM fault"
    SMB_FAULT = "SMB fault"  # the host answered SMB or MS-RPC with an error kbscan cannot use
    UNPARSEABLE_OUTPUT = "unparseable output"
    UNPARSEABLE_FACTS = "unparseable facts"
    INCOMPLETE_FACTS = "incomplete facts"
    BAD_INVENTORY_ROW = "bad inventory row"
    NO_OFFLINE_OUTPUT = "no offline output"  # an inventory host none of the outputs is for


class Evidence(StrEnum):
    """What decided a verdict, strongest first (DESIGN.md: evidence has strengths)."""

    BINARY = "binary VS_FIXEDFILEINFO"
    WMI = "WMI file version string"  # an installed-update record alone never decides
    HOST_FACTS = "operating system facts"
    NONE = "none"


# --- Targets and facts -----------------------------------------------------------------


# The inventory column that says which service pack the inventory believes a host runs
# (the directory inventory fills it from AD's operatingSystemServicePack; "none" when AD
# holds none); the judge compares it with what the host reported.
BELIEVED_SERVICE_PACK = "ad_service_pack"


@dataclass(frozen=True)
class Target:
    """A host named by the inventory: how to reach it, and the columns carried into reports.

    ``host`` is the name reports use; ``address`` (ansible_host) is where to connect when
    it differs. No credential is ever part of a Target.
    """

    host: str
    site: str | None = None
    owner: str | None = None
    extra: tuple[tuple[str, str], ...] = ()
    address: str | None = None
    port: int | None = None
    transport: str | None = None  # ntlm, kerberos, credssp, basic, certificate
    scheme: str | None = None  # http or https
    username: str | None = None
    protocol: Protocol | None = None  # None: the scan's --protocol
    smb_port: int | None = None  # None: SMB's own (445)
    line: int | None = None  # where the inventory named it


@dataclass(frozen=True)
class BinaryInfo:
    """What the PE file itself says; the strongest evidence of a file's version.

    Read from a whole copy (a fetched or collected file: ``sha256`` of it) or, over SMB,
    from only the ranges that hold the headers and the version (``bytes_read`` of them).
    """

    file_version: FileVersion | None
    product_version: FileVersion | None
    version_text: VersionText | None  # the FileVersion string resource, with its build tag
    machine: str  # x86 | x64 | ia64 | arm64 | other
    machine_code: int
    size: int
    sha256: str | None  # None when only the byte ranges of the version were read
    bytes_read: int | None = None  # those bytes; None when the whole file was read


@dataclass(frozen=True)
class FileFacts:
    """One file the KB replaces, as found on the host.

    ``version_text`` is what WMI (CIM_DataFile.Version) reported; ``binary`` is filled only
    when a copy of the file was read with pefile, ``binary_error`` when that copy was
    unreadable.
    """

    path: str
    present: bool | None
    version_text: VersionText | None = None
    size: int | None = None
    modified: datetime | None = None
    binary: BinaryInfo | None = None
    binary_source: str | None = None
    binary_error: str | None = None


@dataclass(frozen=True)
class OsFacts:
    caption: str | None
    version: str | None  # "5.2.3790"
    csd_version: str | None  # "Service Pack 2", or None on RTM
    service_pack: int | None  # ServicePackMajorVersion
    product_type: int | None  # 1 workstation, 2 domain controller, 3 server


@dataclass(frozen=True)
class PendingRename:
    """One pair of PendingFileRenameOperations: source, destination (empty = delete)."""

    source: str
    destination: str


@dataclass(frozen=True)
class CollectionFailure:
    """Why a host was not read, and what its operator does about it: the collector that
    met the failure knows the fix (WinRM's ports, SMB's services, a probe script to run
    again), so the judge never asks how a host was read."""

    category: FailureCategory
    message: str
    advice: str | None = None  # None: the category's own (facts journalled before it)


@dataclass(frozen=True)
class HostFacts:
    """Everything kbscan learnt about one host, before any judgement.

    Stored one per line in facts.jsonl so a scan can be re-judged against another KB or
    audited later without touching the host again.
    """

    host: str
    collected_at: datetime | None = None
    collector: ReadBy = ReadBy.OFFLINE
    failure: CollectionFailure | None = None
    target: Target | None = None
    computer_name: str | None = None
    system_root: str | None = None  # "C:\\WINDOWS"
    os: OsFacts | None = None
    architecture: Arch | None = None
    # (name, state), upper-case names; state "" absent, SERVICE_UNREADABLE query refused
    services: tuple[tuple[str, str], ...] | None = None
    products: tuple[tuple[str, str], ...] | None = None  # (product, version): Exchange etc.
    hotfixes: tuple[str, ...] | None = None  # installed-update records: "KB934709"
    pending_renames: tuple[PendingRename, ...] | None = None
    process_starts: tuple[tuple[str, datetime], ...] | None = None  # (image name, start)
    files: tuple[FileFacts, ...] = ()
    # When the host's Server service started (srvsvc statistics; about when it booted):
    # what SMB can say about restarts, since it cannot see a process's start.
    system_started: datetime | None = None
    blind_spots: tuple[str, ...] = ()  # what the collector cannot see, said for the reader

    @property
    def bytes_read(self) -> int | None:
        """Bytes of the KB's files read for their versions; None when whole copies were
        read (or none at all)."""
        counts = [f.binary.bytes_read for f in self.files if f.binary is not None]
        known = [n for n in counts if n is not None]
        return sum(known) if known else None

    def service_state(self, name: str) -> str | None:
        """The state of a service; "" when known absent, None when not collected."""
        if self.services is None:
            return None
        for svc, state in self.services:
            if svc.upper() == name.upper():
                return state
        return ""


# --- KB definitions -------------------------------------------------------------------


@dataclass(frozen=True)
class ServicePackRange:
    """The file revisions (fourth version part) a service pack's files use on one build.

    Windows 2000, XP and Server 2003 keep one build for every service pack and tell them
    apart by revision; Vista, Server 2008, Windows 7 and 2008 R2 give each service pack a
    build of its own (6.0.6001 is SP1, 6.0.6002 SP2), whose whole revision range is that SP.
    """

    service_pack: int
    first_revision: int
    last_revision: int
    build: int | None = None  # None: the platform's own build


@dataclass(frozen=True)
class BranchRange:
    """A revision range of one build that is one servicing branch (6.x: GDR vs LDR)."""

    build: int
    first_revision: int
    last_revision: int
    branch: str  # GDR / LDR


@dataclass(frozen=True)
class ImpliedServicePack:
    """An architecture whose first release already sits at a service pack level."""

    architecture: Arch
    service_pack: int
    reason: str


@dataclass(frozen=True)
class KnownService:
    """A service as articles name it, for turning article prose into service keys."""

    phrases: tuple[str, ...]  # "SMTP Service", "Simple Mail Transfer Protocol"
    service: ServiceRef
    process: str | None  # the image hosting it (IIS 6: inetinfo.exe)


_ALL_ARCHES = (Arch.X86, Arch.X64, Arch.IA64)


@dataclass(frozen=True)
class Platform:
    """Facts about one Windows release that every KB for it shares (data/platforms).

    A release is an OS version plus the product types that make it that product: Windows
    XP Professional x64 Edition and Windows Server 2003 are both 5.2.3790, Vista and
    Server 2008 both 6.0; the product type tells them apart.
    """

    id: str
    name: str
    os_version: str  # "5.2"
    build: int
    product_types: tuple[int, ...]
    service_pack_ranges: tuple[ServicePackRange, ...]
    implied_service_packs: tuple[ImpliedServicePack, ...] = ()
    aliases: tuple[str, ...] = ()
    known_services: tuple[KnownService, ...] = ()
    file_locations: tuple[tuple[str, str], ...] = ()  # (file name or *.ext, folder)
    default_location: str = "%SystemRoot%\\system32"
    architectures: tuple[Arch, ...] = _ALL_ARCHES
    service_packs: tuple[int, ...] = ()  # the levels that exist (0 = release)
    branch_ranges: tuple[BranchRange, ...] = ()
    products: tuple[str, ...] = ()  # what runs only on this release (IIS 5.0: Windows 2000)
    other_architectures: tuple[str, ...] = ()  # it had, kbscan does not scan (Alpha)

    @property
    def builds(self) -> frozenset[int]:
        """Every build number this release's own files carry."""
        return frozenset({self.build} | {r.build for r in self.service_pack_ranges if r.build})

    def service_pack_of(self, version: FileVersion) -> int | None:
        """The service pack whose files carry this build and revision, if the data says."""
        for rng in self.service_pack_ranges:
            if (rng.build or self.build) != version.build:
                continue
            if rng.first_revision <= version.revision <= rng.last_revision:
                return rng.service_pack
        return None

    def service_branch_of(self, version: FileVersion) -> str | None:
        """GDR or LDR for a 6.x file, from its build's revision ranges; None elsewhere."""
        for rng in self.branch_ranges:
            if rng.build == version.build and (
                rng.first_revision <= version.revision <= rng.last_revision
            ):
                return rng.branch
        return None

    def first_service_pack(self) -> int:
        """The level the release itself reports (Server 2008 RTM already says SP1)."""
        return min(self.service_packs) if self.service_packs else 0


@dataclass(frozen=True)
class FileRow:
    """One row of an article's file table, with what its table and the platform imply.

    ``version`` is None where the article prints none ("Not applicable" for .sdb, .mof,
    .asp files): such a row is kept and reported, never judged. ``service_pack`` is None
    where neither the heading, a column nor the build ties the row to a service pack.
    """

    heading: str
    service_pack: int | None
    service_pack_note: str | None  # why the SP was inferred when the heading names none
    architecture: Arch
    name: str
    version: FileVersion | None
    size: int | None
    date: date | None
    time: str | None
    platform: str  # the Platform column as published: x86, x64, IA-64
    path: str  # where the file lives on the host, %SystemRoot%-relative
    service_branch: Branch | None = None  # as the table says or implies
    platforms: tuple[str, ...] = ()  # ids of the platforms the table covers
    branch_note: str | None = None  # why the branch, when it comes from the build

    @property
    def wow(self) -> bool:
        """A 32-bit file inside an x64 or IA-64 table: it lives under SysWOW64."""
        return self.architecture is not Arch.X86 and (
            self.platform == "x86" or self.service_branch == "WOW"
        )

    @property
    def checkable(self) -> bool:
        return self.version is not None

    @property
    def label(self) -> str:
        sp = "any SP" if self.service_pack is None else f"SP{self.service_pack}"
        branch = f" {self.service_branch}" if self.service_branch else ""
        return f"{sp} {self.architecture.value}{branch}"


@dataclass(frozen=True)
class FileTable:
    """One file table of the article: its heading verbatim and what the heading implies."""

    heading: str
    platforms: tuple[str, ...]
    architecture: Arch
    rows: tuple[FileRow, ...]
    note: str | None = None  # how the heading was read when it does not say it all
    line: int | None = None  # where the table starts in the article


@dataclass(frozen=True)
class LeftOutTable:
    """A table of the article that is not a file table to check, and why it was left out."""

    line: int | None
    heading: str
    kind: str  # "download links", "version legend", "manifest files"
    note: str


@dataclass(frozen=True)
class UnjudgedRow:
    """A row of the article kbscan keeps but does not judge, as the article prints it."""

    name: str
    version: str | None  # as printed: an Alpha row may carry a three-part version
    size: int | None
    date: date | None
    time: str | None
    platform: str


@dataclass(frozen=True)
class UnjudgedTable:
    """Rows for an architecture or release kbscan does not scan (Alpha, MIPS, PowerPC,
    Windows 95, ...): kept so that the KB file holds the article's whole table, with
    the reason they are not judged; never mixed into a table kbscan judges."""

    heading: str
    line: int | None
    platforms: tuple[str, ...]  # the releases kbscan knows that the rows are for, if any
    architecture: str  # as the article names it: "Alpha", "x86" for a Windows 95 row
    note: str
    rows: tuple[UnjudgedRow, ...]


@dataclass(frozen=True)
class ServiceRef:
    """A Windows service by its key name (SMTPSVC) and the name people know (SMTP)."""

    name: str
    display_name: str


@dataclass(frozen=True)
class ExcludedProduct:
    name: str
    versions: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class RestartRequirement:
    services: tuple[ServiceRef, ...]
    dependents: bool
    process: str | None  # the image that loads the file; its start time shows a stale load
    text: str
    computer: bool = False  # the whole server must restart


@dataclass(frozen=True)
class PlatformRequirement:
    """One platform a KB covers, and the service packs its packages install on.

    ``service_packs`` is empty when the article ties the fix to none (a Windows 2000
    hotfix table with no heading): every level is judged by the file versions alone.
    """

    platform: Platform
    service_packs: tuple[int, ...]
    remedy_service_pack: int | None


@dataclass(frozen=True)
class KbDefinition:
    """A hotfix as data: the published file tables and the rules around them."""

    id: str
    title: str
    source: str
    platforms: tuple[PlatformRequirement, ...]
    prerequisite_text: str
    required_services: tuple[ServiceRef, ...]
    excluded_products: tuple[ExcludedProduct, ...]
    restart: RestartRequirement
    hotfix_ids: tuple[str, ...]
    tables: tuple[FileTable, ...]
    left_out: tuple[LeftOutTable, ...] = ()
    origin: str = ""  # the file it was loaded from
    not_judged: tuple[UnjudgedTable, ...] = ()

    @property
    def files(self) -> tuple[FileRow, ...]:
        return tuple(row for table in self.tables for row in table.rows)

    @property
    def platform_names(self) -> str:
        return ", ".join(p.platform.name for p in self.platforms)

    def describe_platforms(self) -> str:
        """Each platform with the service packs its packages install on."""
        return "; ".join(
            f"{p.platform.name} {p.platform.os_version}: "
            + (" or ".join(f"SP{s}" for s in p.service_packs) or "any service pack")
            for p in self.platforms
        )

    def package_scope(
        self,
        platform: Platform,
        service_pack: int | None,
        architecture: Arch,
        branch: str | None = None,
    ) -> str:
        """The package a host needs, named as the change board reads it: release, level,
        architecture (and branch), with the files and versions it brings."""
        rows = [
            r
            for r in self.rows_for(platform.id, service_pack, architecture)
            if r.checkable and (branch is None or r.service_branch in (branch, "WOW", "RTM", None))
        ]
        files = ", ".join(
            dict.fromkeys(f"{r.name} {r.version}" + (" (WOW64)" if r.wow else "") for r in rows)
        )
        level = "" if service_pack is None else f" SP{service_pack}"
        on = f" {branch}" if branch in ("GDR", "QFE", "LDR") else ""
        return f"{platform.name}{level} {architecture.value}{on} ({files or 'no file published'})"

    def requirement(self, platform_id: str) -> PlatformRequirement | None:
        return next((p for p in self.platforms if p.platform.id == platform_id), None)

    def rows_for(
        self, platform_id: str, service_pack: int | None, architecture: Arch
    ) -> tuple[FileRow, ...]:
        """The rows a host of this platform, level and architecture is judged against:
        its own level's rows and the rows the article ties to no level."""
        return tuple(
            r
            for r in self.files
            if platform_id in r.platforms
            and r.architecture == architecture
            and r.service_pack in (service_pack, None)
        )


# --- Findings -------------------------------------------------------------------------


@dataclass(frozen=True)
class FileJudgement:
    """How one file of the matched row was judged."""

    row: FileRow
    status: Status
    reason: str
    installed_version: FileVersion | None
    version_source: str | None
    evidence: Evidence
    staged: bool = False  # its replacement waits in PendingFileRenameOperations


@dataclass(frozen=True)
class Finding:
    """The verdict for one host and one KB, with everything needed to defend it."""

    host: str
    kb_id: str
    status: Status
    reason: str
    action: str
    decided_by: Evidence
    facts: HostFacts
    service_pack: int | None = None  # the service pack judged (after implied levels)
    architecture: Arch | None = None
    platform: Platform | None = None  # the release the host was judged as
    row: FileRow | None = None
    installed_version: FileVersion | None = None
    version_source: str | None = None
    evidence: tuple[str, ...] = ()
    files: tuple[FileJudgement, ...] = field(default=())
    # What the remediation says, decided by the judge so that no writer re-derives it:
    staged: bool = False  # the fix waits in PendingFileRenameOperations for a restart
    server_restart: bool = False  # the work ends with a restart of the whole server
    restart_impact: str = "None"  # "Server restart", "IIS Admin (IISADMIN) and ...", "None"
    hotfix_recorded: bool | None = None  # the KB's installed-update record; None: not read
    package: str | None = None  # "KB934709 for Windows Server 2003 SP2 x64 (...)"
    prerequisite: str = "None stated"  # "Install ... SP2 first", "SP1 or SP2 (met)"
    # Where the inventory's belief (the directory's operatingSystemServicePack) is not
    # what the host reported: stale directory data, worth a column, never a verdict.
    inventory_disagrees: str | None = None

    @property
    def required_version(self) -> FileVersion | None:
        return self.row.version if self.row else None
