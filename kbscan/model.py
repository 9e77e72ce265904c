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


_ACTION_STATUSES = frozenset(
    {Status.NEEDS_HOTFIX, Status.NEEDS_SERVICE_PACK, Status.RESTART_PENDING, Status.SUSPECT}
)


class Arch(StrEnum):
    """A host's native processor architecture (Win32_Processor.Architecture 0, 9, 6)."""

    X86 = "x86"
    X64 = "x64"
    IA64 = "ia64"


class FailureCategory(StrEnum):
    """Why a host could not be judged; each maps to a different fix for the operator."""

    UNREACHABLE = "unreachable"
    REFUSED_CREDENTIALS = "refused credentials"
    TIMEOUT = "timeout"
    WINRM_FAULT = "WinRM fault"
    UNPARSEABLE_OUTPUT = "unparseable output"
    UNPARSEABLE_FACTS = "unparseable facts"
    INCOMPLETE_FACTS = "incomplete facts"
    BAD_INVENTORY_ROW = "bad inventory row"


class Evidence(StrEnum):
    """What decided a verdict, strongest first (DESIGN.md: evidence has strengths)."""

    BINARY = "binary VS_FIXEDFILEINFO"
    WMI = "WMI file version string"  # an installed-update record alone never decides
    HOST_FACTS = "operating system facts"
    NONE = "none"


# --- Targets and facts -----------------------------------------------------------------


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
    line: int | None = None  # where the inventory named it


@dataclass(frozen=True)
class BinaryInfo:
    """What the PE file itself says; the strongest evidence of a file's version."""

    file_version: FileVersion | None
    product_version: FileVersion | None
    version_text: VersionText | None  # the FileVersion string resource, with its build tag
    machine: str  # x86 | x64 | ia64 | arm64 | other
    machine_code: int
    size: int
    sha256: str


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
    category: FailureCategory
    message: str


@dataclass(frozen=True)
class HostFacts:
    """Everything kbscan learnt about one host, before any judgement.

    Stored one per line in facts.jsonl so a scan can be re-judged against another KB or
    audited later without touching the host again.
    """

    host: str
    collected_at: datetime | None = None
    collector: str = "offline"
    failure: CollectionFailure | None = None
    target: Target | None = None
    computer_name: str | None = None
    system_root: str | None = None  # "C:\\WINDOWS"
    os: OsFacts | None = None
    architecture: Arch | None = None
    services: tuple[tuple[str, str], ...] | None = None  # (name, state), upper-case names
    products: tuple[tuple[str, str], ...] | None = None  # (product, version): Exchange etc.
    hotfixes: tuple[str, ...] | None = None  # installed-update records: "KB934709"
    pending_renames: tuple[PendingRename, ...] | None = None
    process_starts: tuple[tuple[str, datetime], ...] | None = None  # (image name, start)
    files: tuple[FileFacts, ...] = ()

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
    """The file revisions (fourth version part) a service pack's branch uses."""

    service_pack: int
    first_revision: int
    last_revision: int


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


@dataclass(frozen=True)
class Platform:
    """Facts about one Windows release that every KB for it shares (data/platforms)."""

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

    def branch_of(self, version: FileVersion) -> int | None:
        """The service pack whose branch a file revision belongs to, if the build matches."""
        if version.build != self.build:
            return None
        for rng in self.service_pack_ranges:
            if rng.first_revision <= version.revision <= rng.last_revision:
                return rng.service_pack
        return None


@dataclass(frozen=True)
class FileRow:
    """One row of the article's file table, with the heading that scoped it."""

    heading: str
    service_pack: int
    service_pack_note: str | None  # why the SP was inferred when the heading names none
    architecture: Arch
    name: str
    version: FileVersion
    size: int | None
    date: date | None
    time: str | None
    platform: str  # the Platform column as published: x86, x64, IA-64
    path: str  # where the file lives on the host, %SystemRoot%-relative
    service_branch: str | None = None  # GDR / QFE / LDR when the table says

    @property
    def label(self) -> str:
        return f"SP{self.service_pack} {self.architecture.value}"


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
class KbDefinition:
    """A hotfix as data: the published file table and the rules around it."""

    id: str
    title: str
    source: str
    platform: Platform
    prerequisite_service_packs: tuple[int, ...]
    prerequisite_text: str
    remedy_service_pack: int
    required_services: tuple[ServiceRef, ...]
    excluded_products: tuple[ExcludedProduct, ...]
    restart: RestartRequirement
    hotfix_ids: tuple[str, ...]
    files: tuple[FileRow, ...]
    origin: str = ""  # the file it was loaded from

    def rows_for(self, service_pack: int, architecture: Arch) -> tuple[FileRow, ...]:
        return tuple(
            r
            for r in self.files
            if r.service_pack == service_pack and r.architecture == architecture
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
    row: FileRow | None = None
    installed_version: FileVersion | None = None
    version_source: str | None = None
    evidence: tuple[str, ...] = ()
    files: tuple[FileJudgement, ...] = field(default=())

    @property
    def required_version(self) -> FileVersion | None:
        return self.row.version if self.row else None
