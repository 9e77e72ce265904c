"""Judge one host's facts against one KB: pure, no I/O, no clock.

The order of the questions is the order an administrator would ask them: could we see
the host at all; is it the OS the KB is for; does an exclusion (Exchange) or a missing
component (SMTP) make the KB irrelevant; is the service pack below the prerequisite;
and only then, is the file on disk at the fixed version for this host's own service pack
and architecture. Every answer names the evidence that decided it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kbscan.hotfix_ids import recorded
from kbscan.model import (
    BELIEVED_SERVICE_PACK,
    SERVICE_UNREADABLE,
    Arch,
    Branch,
    Evidence,
    FailureCategory,
    FileFacts,
    FileJudgement,
    FileRow,
    Finding,
    HostFacts,
    KbDefinition,
    Platform,
    PlatformRequirement,
    Status,
)
from kbscan.remediation import package, prerequisite, restart_impact, restart_phrase
from kbscan.versions import FileVersion

_NO_VERSION = FileVersion(0, 0, 0, 0)
_BRANCHES = frozenset(b for b in Branch if b.is_servicing)

# When several files of a row disagree, the finding takes the most pressing status.
_FILE_PRIORITY = (
    Status.SUSPECT,
    Status.UNKNOWN,
    Status.NEEDS_HOTFIX,
    Status.RESTART_PENDING,
    Status.COMPLIANT,
)

# The article's Platform column, as the PE machine the file must carry (an x86 row in an
# x64 table is a WOW64 file). Other values ("Not Applicable") expect the host's own.
_PLATFORM_MACHINES = {"x86": "x86", "x64": "x64", "IA-64": "ia64"}

# What to do about a failure whose collector said nothing (facts journalled before
# failures carried their advice, a scan's own records); each collector's own is on the
# failure it records.
_UNKNOWN_ACTIONS = {
    FailureCategory.UNREACHABLE: "Check that the host is up and its WinRM or SMB port "
    "answers, then rescan.",
    FailureCategory.REFUSED_CREDENTIALS: "Check the account and its password, then rescan.",
    FailureCategory.TIMEOUT: "Check the host's load and the network path; rescan with a "
    "longer --deadline.",
    FailureCategory.WINRM_FAULT: "Read the WinRM fault, fix the listener or its quotas, "
    "then rescan.",
    FailureCategory.UNPARSEABLE_OUTPUT: "Run the probe by hand on the host and report the "
    "output; rescan.",
    FailureCategory.UNPARSEABLE_FACTS: "Fix or recollect this host's facts, then evaluate again.",
    FailureCategory.INCOMPLETE_FACTS: "Collect the host again (a rescan, or the probe script "
    "run on it again): the facts lack what is needed to judge.",
    FailureCategory.BAD_INVENTORY_ROW: "Fix the host's inventory row, then rescan.",
    FailureCategory.SMB_FAULT: "Read the SMB error, fix the host's sharing or RPC services, "
    "then rescan.",
    FailureCategory.NO_OFFLINE_OUTPUT: "Run the probe script on the host (kbscan probe-script) "
    "and add its output, or take the host out of the inventory.",
}


def _belief_disagrees(facts: HostFacts) -> str | None:
    """The inventory's believed service pack, where the host reported another."""
    believed = dict(facts.target.extra).get(BELIEVED_SERVICE_PACK) if facts.target else None
    reported = facts.os.service_pack if facts.os else None
    if believed is None or reported is None:
        return None
    numbers = re.findall(r"\d+", believed)
    if (int(numbers[-1]) if numbers else 0) == reported:
        return None
    said = f"Service Pack {reported}" if reported else "no service pack"
    return f"the inventory says {believed!r}; the host reports {said}"


def evaluate(facts: HostFacts, kb: KbDefinition, others: Sequence[KbDefinition] = ()) -> Finding:
    """The verdict for one host; never raises for any HostFacts.

    ``others`` are the rest of a baseline: where one of them replaces the same file of
    the same row with a newer version the host has, the finding says the newer KB
    supersedes this one (the branch rules have already judged that the newer file
    carries this fix).
    """
    return _Judge(facts, kb, tuple(o for o in others if o.id != kb.id)).run()


@dataclass(frozen=True)
class _Context:
    service_pack: int
    architecture: Arch
    evidence: tuple[str, ...]
    need: PlatformRequirement


class _Judge:
    def __init__(
        self, facts: HostFacts, kb: KbDefinition, others: tuple[KbDefinition, ...] = ()
    ) -> None:
        self.facts = facts
        self.kb = kb
        self.others = others
        self.chosen: Platform | None = None  # the host's own release, once known
        self.need: PlatformRequirement | None = None  # what the KB asks of that release

    @property
    def platform(self) -> Platform:
        if self.chosen is None:
            raise RuntimeError("the host's platform is asked for before it is known")
        return self.chosen

    def finding(
        self,
        status: Status,
        reason: str,
        action: str,
        *,
        staged: bool = False,
        service_pack: int | None = None,
        row: FileRow | None = None,
        **kw: object,
    ) -> Finding:
        restart = self.kb.restart
        server = (status is Status.RESTART_PENDING and staged) or restart.computer
        return Finding(
            host=self.facts.host,
            kb_id=self.kb.id,
            status=status,
            reason=reason,
            action=action,
            facts=self.facts,
            platform=self.chosen,
            service_pack=service_pack,
            row=row,
            staged=staged,
            server_restart=server,
            restart_impact=restart_impact(self.kb, status is Status.RESTART_PENDING and staged),
            hotfix_recorded=self.hotfix_recorded(),
            inventory_disagrees=_belief_disagrees(self.facts),
            package=package(self.kb, status, self.chosen, service_pack, row),
            prerequisite=prerequisite(self.kb, status, self.chosen),
            **kw,  # type: ignore[arg-type]
        )

    def incomplete(self, what: str, **kw: object) -> Finding:
        return self.finding(
            Status.UNKNOWN,
            f"{FailureCategory.INCOMPLETE_FACTS.value}: {what} not collected",
            _UNKNOWN_ACTIONS[FailureCategory.INCOMPLETE_FACTS],
            decided_by=Evidence.NONE,
            **kw,  # type: ignore[arg-type]
        )

    def run(self) -> Finding:
        f = self.facts
        if f.failure is not None:
            return self.finding(
                Status.UNKNOWN,
                f"{f.failure.category.value}: {f.failure.message}",
                f.failure.advice or _UNKNOWN_ACTIONS[f.failure.category],
                decided_by=Evidence.NONE,
            )
        ruled_out = self.choose_platform()
        if ruled_out is not None:
            return ruled_out
        # A product or service whose presence was not collected leaves open whether the KB
        # applies, but not the service pack the host is at: that is still said first.
        excluded = self.excluded()
        if excluded is not None and excluded.status is not Status.UNKNOWN:
            return excluded
        need = self.need
        assert need is not None and f.architecture is not None and f.os is not None
        if f.os.service_pack is None:
            return self.incomplete("service pack level")
        sp, sp_evidence = f.os.service_pack, []
        for implied in self.platform.implied_service_packs:
            if implied.architecture == f.architecture and sp < implied.service_pack:
                sp_evidence.append(
                    f"host reports SP{sp}; judged as SP{implied.service_pack}: {implied.reason}"
                )
                sp = implied.service_pack
        ctx = _Context(sp, f.architecture, tuple(sp_evidence), need)
        if need.service_packs and sp < min(need.service_packs):
            return self.needs_service_pack(ctx, excluded)
        if need.service_packs and sp not in need.service_packs:
            return self.not_applicable(
                f"{self.kb.id} has no package for {self.platform.name} SP{sp}; it requires "
                + " or ".join(f"SP{p}" for p in need.service_packs),
                ctx=ctx,
            )
        if excluded is not None:
            return excluded
        rows = self.kb.rows_for(self.platform.id, sp, f.architecture)
        checkable = tuple(r for r in rows if r.checkable)
        if not checkable:
            return self.not_applicable(
                f"{self.kb.id} publishes no file with a version for {self.platform.name} "
                f"SP{sp} {f.architecture.value}",
                ctx=ctx,
            )
        return self.judge_rows(checkable, ctx, unchecked=len(rows) - len(checkable))

    def choose_platform(self) -> Finding | None:
        """Which of the KB's platforms the host is (OS version, product type, processor);
        a finding when it is none of them or the facts do not say."""
        f = self.facts
        os_ = f.os
        if os_ is None or os_.version is None:
            return self.incomplete("operating system version")
        caption = os_.caption or f"Windows {os_.version}"
        same_version = [
            p for p in self.kb.platforms if _same_release(os_.version, p.platform.os_version)
        ]
        if not same_version:
            return self.not_applicable(
                f"runs {caption} ({os_.version}), not {self.kb.platform_names}"
            )
        if os_.product_type is None:
            return self.incomplete("operating system product type")
        mine = [p for p in same_version if os_.product_type in p.platform.product_types]
        if not mine:
            kind = {1: "a workstation"}.get(os_.product_type, f"product type {os_.product_type}")
            return self.not_applicable(
                f"{caption} is {kind} (ProductType {os_.product_type}), not "
                + ", ".join(p.platform.name for p in same_version)
            )
        self.need = mine[0]
        self.chosen = self.need.platform
        if f.architecture is None:
            return self.incomplete("processor architecture")
        if f.architecture not in self.platform.architectures:
            return self.not_applicable(
                f"{self.platform.name} has no {f.architecture.value} edition"
            )
        return None

    def excluded(self) -> Finding | None:
        """A product the KB is not for (Exchange), or a service it needs that is absent;
        an UNKNOWN when one's presence was not collected and none rules the KB out."""
        f = self.facts
        unsure: list[str] = []
        for product in self.kb.excluded_products:
            if f.products is None:
                unsure.append(f"{product.name} presence")
                continue
            for name, version in f.products:
                if name.lower() == product.name.lower() and version == "unknown":
                    unsure.append(f"{product.name} version (installed, but which?)")
                if name.lower() == product.name.lower() and version in product.versions:
                    return self.not_applicable(
                        f"{name} {version} is installed: {product.reason}",
                        decided=Evidence.HOST_FACTS,
                    )
        for service in self.kb.required_services:
            state = f.service_state(service.name)
            if state is None:
                unsure.append(f"{service.display_name} service state")
            elif state == SERVICE_UNREADABLE:
                unsure.append(f"{service.display_name} service state (the host refused its query)")
            elif state == "":
                return self.not_applicable(
                    f"the {service.display_name} service ({service.name}) is not installed"
                )
        return self.incomplete(unsure[0]) if unsure else None

    def not_applicable(
        self, reason: str, *, ctx: _Context | None = None, decided: Evidence = Evidence.HOST_FACTS
    ) -> Finding:
        return self.finding(
            Status.NOT_APPLICABLE,
            reason,
            f"None: {reason}.",
            decided_by=decided,
            service_pack=ctx.service_pack if ctx else None,
            architecture=ctx.architecture if ctx else self.facts.architecture,
            evidence=ctx.evidence if ctx else (),
        )

    def needs_service_pack(self, ctx: _Context, unsure: Finding | None = None) -> Finding:
        remedy = ctx.need.remedy_service_pack
        rows = self.kb.rows_for(self.platform.id, remedy, ctx.architecture)
        package = self.package(remedy, ctx.architecture)
        level = "no service pack" if ctx.service_pack == 0 else f"SP{ctx.service_pack}"
        return self.finding(
            Status.NEEDS_SERVICE_PACK,
            f"{self.platform.name} at {level}; {self.kb.id} requires "
            + " or ".join(f"SP{p}" for p in ctx.need.service_packs)
            + (f" (whether it applies is open: {unsure.reason})" if unsure else ""),
            f"Install {self.platform.name} Service Pack {remedy} first, then {package}; "
            f"then {restart_phrase(self.kb)}.",
            decided_by=Evidence.HOST_FACTS,
            service_pack=ctx.service_pack,
            architecture=ctx.architecture,
            row=next((r for r in rows if r.checkable), None),
            evidence=(
                *ctx.evidence,
                f"ServicePackMajorVersion={self.facts.os and self.facts.os.service_pack}",
            ),
        )

    def package(self, service_pack: int | None, arch: Arch, branch: str | None = None) -> str:
        scope = self.kb.package_scope(self.platform, service_pack, arch, branch)
        return f"the {self.kb.id} package for {scope}"

    def judge_rows(self, rows: tuple[FileRow, ...], ctx: _Context, unchecked: int) -> Finding:
        rows, unchanged = self.one_row_per_file(rows)
        if not rows:
            return self.not_applicable(
                f"{self.kb.id} changes none of this host's files on their branch",
                ctx=ctx,
                decided=Evidence.WMI,
            )
        judgements = tuple(self.judge_file(row, ctx) for row in rows)
        worst = min(judgements, key=lambda j: _FILE_PRIORITY.index(j.status))
        action = self.action_for(worst, ctx, rows)
        evidence = list(ctx.evidence)
        for j in judgements:
            evidence.append(f"{j.row.name}: {j.reason}")
        evidence.extend(unchanged)
        if unchecked:
            evidence.append(
                f"{unchecked} row(s) of the article's table publish no version (data files "
                "such as .sdb, .mof, .asp): reported, not judged"
            )
        return self.finding(
            worst.status,
            worst.reason,
            action,
            decided_by=worst.evidence,
            service_pack=ctx.service_pack,
            architecture=ctx.architecture,
            row=worst.row,
            installed_version=worst.installed_version,
            version_source=worst.version_source,
            evidence=tuple(evidence) + self.record_evidence(),
            files=judgements,
            staged=worst.staged,
        )

    def one_row_per_file(
        self, rows: tuple[FileRow, ...]
    ) -> tuple[tuple[FileRow, ...], tuple[str, ...]]:
        """One row per file: where a table lists a file on several branches (GDR and QFE
        or LDR), the row of the branch the installed file is on; when that is unknown,
        the highest version, which is the one that is safe to require.

        When the package has GDR rows at this level but none for this file, and the host's
        file is on GDR, the GDR package leaves it as it is: it is not judged, and the
        evidence says so (an LDR or QFE file holds every GDR fix, so it is judged against
        whatever rows there are). When the package has no row on the host's branch at all (an
        LDR-only hotfix on a GDR host), installing it moves the file to the package's
        branch, so the host is held to the rows there are.
        """
        shipped = {r.service_branch for r in rows if r.service_branch in _BRANCHES}
        by_path: dict[str, list[FileRow]] = {}
        for row in rows:
            by_path.setdefault(row.path.lower(), []).append(row)
        chosen, notes = [], []
        for candidates in by_path.values():
            found = _find_file(self.facts, candidates[0].path)
            tag = (self.branch_of(found) or "").upper() if found else ""
            if tag == "RTM":
                tag = "GDR"  # a file as released takes the GDR file of an update
            same = [r for r in candidates if r.service_branch == tag]
            neutral = [r for r in candidates if r.service_branch not in _BRANCHES]
            if not same and not neutral and tag == "GDR" and tag in shipped:
                notes.append(
                    f"{candidates[0].name}: on the {tag} branch, which this package does not "
                    "change (the article lists it only for "
                    + "/".join(sorted({r.service_branch or "" for r in candidates}))
                    + "): not judged"
                )
                continue
            pool = same or neutral or candidates
            chosen.append(max(pool, key=lambda r: r.version or _NO_VERSION))
        return tuple(chosen), tuple(notes)

    def record_evidence(self) -> tuple[str, ...]:
        recorded = self.hotfix_recorded()
        if recorded is None:
            return ("installed-update records: not collected",)
        return (f"installed-update record of {self.kb.id}: {'present' if recorded else 'absent'}",)

    def hotfix_recorded(self) -> bool | None:
        return hotfix_recorded(self.facts, self.kb)

    def action_for(self, worst: FileJudgement, ctx: _Context, rows: tuple[FileRow, ...]) -> str:
        status = worst.status
        if status is Status.COMPLIANT:
            return "None."
        if status is Status.NEEDS_HOTFIX:
            package = self.package(ctx.service_pack, ctx.architecture, worst.row.service_branch)
            return f"Install {package}; then {restart_phrase(self.kb)}."
        if status is Status.RESTART_PENDING:
            if worst.staged:
                return (
                    "Restart the server: the file replacement is staged and completes at boot; "
                    "then rescan."
                )
            phrase = restart_phrase(self.kb)
            return f"{phrase[0].upper()}{phrase[1:]}; then rescan."
        if status is Status.SUSPECT:
            return f"Investigate before approving any change: {worst.reason}."
        return _UNKNOWN_ACTIONS[FailureCategory.INCOMPLETE_FACTS]

    def judge_file(self, row: FileRow, ctx: _Context) -> FileJudgement:
        found = _find_file(self.facts, row.path)
        read = self.installed_version(row, found)
        if isinstance(read, FileJudgement):
            return read
        assert found is not None
        installed, source, evidence = read

        def judged(status: Status, reason: str, staged: bool = False) -> FileJudgement:
            return FileJudgement(row, status, reason, installed, source, evidence, staged)

        required = row.version
        assert required is not None  # rows without a version are never judged
        disagreement = self.evidence_disagrees(row, found, installed, ctx)
        if disagreement is not None:
            return judged(*disagreement)
        recorded = self.hotfix_recorded()
        if installed < required:
            if recorded:
                return judged(
                    Status.SUSPECT,
                    f"{self.kb.id} is recorded as installed but {row.name} is {installed}, "
                    f"older than {required}",
                )
            return judged(
                Status.NEEDS_HOTFIX,
                f"{row.name} {installed} is older than {required} ({row.label})",
            )
        # On 5.x the number does not tell GDR from QFE, so a GDR build can pass a QFE-only
        # fix without carrying it. On 6.x the revision range is the branch (a GDR file
        # never reaches an LDR number), so numbers compare honestly there.
        tag = self.branch_of(found)
        number_tells_branch = self.platform.service_branch_of(installed) is not None
        if (
            tag == "gdr"
            and not number_tells_branch
            and not recorded
            and (row.service_branch != "GDR")
        ):
            return judged(
                Status.SUSPECT,
                f"{row.name} {installed} is at or above {required} but on the GDR branch, "
                f"with no record of {self.kb.id}",
            )
        stale = self.stale_process(found)
        if stale is not None:
            return judged(Status.RESTART_PENDING, stale)
        return judged(
            Status.COMPLIANT,
            f"{row.name} {installed} is at or above {required} ({row.label})"
            + self.superseded(row, installed)
            + self.restart_unseen(found),
        )

    def installed_version(
        self, row: FileRow, found: FileFacts | None
    ) -> tuple[FileVersion, str, Evidence] | FileJudgement:
        """The installed version by the strongest evidence there is (the binary's
        VS_FIXEDFILEINFO, else WMI's string), or the judgement when there is none."""
        if found is None or found.present is None:
            return _judged(row, Status.UNKNOWN, f"{row.name} not collected")
        if not found.present:
            return _judged(
                row,
                Status.SUSPECT,
                f"{row.name} is missing from {found.path}"
                + (
                    " although the service it belongs to is installed"
                    if self.kb.required_services
                    else ", where the KB's table places it"
                ),
                evidence=Evidence.HOST_FACTS,
            )
        binary = found.binary
        wmi = found.version_text.version if found.version_text else None
        if binary is not None and binary.file_version is not None:
            source = f"binary VS_FIXEDFILEINFO of {found.binary_source or found.path}"
            return binary.file_version, source, Evidence.BINARY
        if wmi is not None:
            return wmi, f"WMI version of {found.path}", Evidence.WMI
        why = found.binary_error or "no version reported"
        suffix = ""
        if self.hotfix_recorded():
            suffix = f"; the {self.kb.id} record alone never proves the file is fixed"
        return _judged(row, Status.UNKNOWN, f"{row.name} version unreadable ({why}){suffix}")

    def evidence_disagrees(
        self, row: FileRow, found: FileFacts, installed: FileVersion, ctx: _Context
    ) -> tuple[Status, str, bool] | None:
        """What stops a comparison of numbers, and whether a replacement is staged: a
        binary of the wrong machine, WMI and the binary disagreeing, a replacement staged
        for the next restart, a file from another service pack's range."""
        binary = found.binary
        wmi = found.version_text.version if found.version_text else None
        required = row.version
        assert required is not None
        expected_machine = _PLATFORM_MACHINES.get(row.platform, ctx.architecture.value)
        if binary is not None and binary.machine != expected_machine:
            return (
                Status.SUSPECT,
                f"{row.name} is built for {binary.machine}, but the host is "
                f"{ctx.architecture.value} and the KB's file is {expected_machine}",
                False,
            )
        if binary is not None and binary.file_version not in (None, wmi) and wmi is not None:
            why = f"WMI reports {wmi} but the binary says {binary.file_version}"
            return Status.SUSPECT, why, False
        staged = self.pending_rename_of(found.path)
        if staged is not None:
            return (
                Status.RESTART_PENDING,
                f"{row.name} replacement is staged in PendingFileRenameOperations ({staged}); "
                f"running {installed}",
                True,
            )
        if required.build in self.platform.builds and self.platform.service_pack_ranges:
            # An OS-build file: its build and revision say which service pack it is from.
            branch_sp = self.platform.service_pack_of(installed)
            if installed.build not in self.platform.builds or branch_sp is None:
                return (
                    Status.SUSPECT,
                    f"{row.name} {installed} is not a {self.platform.name} build "
                    f"{required.build} file",
                    False,
                )
            if branch_sp != ctx.service_pack:
                return (
                    Status.SUSPECT,
                    f"{row.name} {installed} is from SP{branch_sp}'s range on an "
                    f"SP{ctx.service_pack} host",
                    False,
                )
        return None

    def superseded(self, row: FileRow, installed: FileVersion) -> str:
        """Which other KB of the set replaces the same file of the same row with a newer
        version the host already has."""
        newer = [
            (other.id, r.version)
            for other in self.others
            for r in other.rows_for(self.platform.id, row.service_pack, row.architecture)
            if r.version is not None
            and r.path.lower() == row.path.lower()
            and r.service_branch == row.service_branch
            and row.version is not None
            and row.version < r.version <= installed
        ]
        if not newer:
            return ""
        kb_id, version = max(newer, key=lambda n: n[1])
        return f"; superseded by {kb_id}, whose {version} of the same file the host also has"

    def branch_of(self, found: FileFacts) -> str | None:
        """The servicing branch of the installed file: the build tag of its version string
        (5.x: srv03_sp2_gdr), else its revision range (6.x: 18xxx GDR, 22xxx LDR)."""
        tag = _branch_tag(found)
        if tag is not None:
            return tag
        for version in (
            found.binary.file_version if found.binary else None,
            found.version_text.version if found.version_text else None,
        ):
            if version is not None and (branch := self.platform.service_branch_of(version)):
                return branch.lower()
        return None

    def pending_rename_of(self, path: str) -> str | None:
        for rename in self.facts.pending_renames or ():
            if rename.destination and _same_path(rename.destination, path, self.facts.system_root):
                return f"{rename.source} -> {rename.destination}"
        return None

    def restart_unseen(self, found: FileFacts) -> str:
        """What the finding must say when no process start was collected (over SMB they
        cannot be): a restart check that was not made is never claimed."""
        process = self.kb.restart.process
        if process is None or self.facts.process_starts is not None or found.modified is None:
            return ""
        booted = self.facts.system_started
        if booted is not None and _comparable(booted, found.modified) and booted > found.modified:
            return (
                f"; {process}'s start was not collected, but the host's Server service "
                f"started at {booted.isoformat()} (srvsvc; it starts at boot), after the file "
                "was written: no old copy should be loaded"
            )
        return (
            f"; not verified that {process} restarted after the file was written "
            f"({found.modified.isoformat()}): process start times were not collected "
            f"({self.facts.collector}) and no replacement is pending"
        )

    def stale_process(self, found: FileFacts) -> str | None:
        process = self.kb.restart.process
        if process is None or found.modified is None or not self.facts.process_starts:
            return None
        for name, started in self.facts.process_starts:
            if name.lower() != process.lower():
                continue
            if _comparable(started, found.modified) and started < found.modified:
                return (
                    f"{process} started at {started.isoformat()}, before {found.path} "
                    f"was written at {found.modified.isoformat()}: the old file is still loaded"
                )
        return None


def hotfix_recorded(facts: HostFacts, kb: KbDefinition) -> bool | None:
    """Whether an installed-update record names the KB; None when none were collected."""
    if facts.hotfixes is None:
        return None
    return recorded(facts.hotfixes, kb.hotfix_ids)


def _judged(
    row: FileRow, status: Status, reason: str, evidence: Evidence = Evidence.NONE
) -> FileJudgement:
    return FileJudgement(row, status, reason, None, None, evidence)


def _same_release(os_version: str, platform_version: str) -> bool:
    return os_version == platform_version or os_version.startswith(platform_version + ".")


def _branch_tag(found: FileFacts) -> str | None:
    for text in (found.binary.version_text if found.binary else None, found.version_text):
        if text is not None and text.branch is not None:
            return text.branch
    return None


def _comparable(a: datetime, b: datetime) -> bool:
    return (a.tzinfo is None) == (b.tzinfo is None)


def _normalise_path(path: str, system_root: str | None) -> str:
    p = path.strip().replace("/", "\\").lstrip("!")
    if p.startswith("\\??\\"):
        p = p[4:]
    p = p.lower()
    if system_root:
        root = system_root.rstrip("\\").lower()
        p = p.replace("%systemroot%", root).replace("%windir%", root)
    return p


def _same_path(a: str, b: str, system_root: str | None) -> bool:
    na, nb = _normalise_path(a, system_root), _normalise_path(b, system_root)
    if na == nb:
        return True
    # Without the host's system root, compare what follows the variable.
    for var in ("%systemroot%", "%windir%"):
        for x, y in ((na, nb), (nb, na)):
            if x.startswith(var) and "%" not in y and y.endswith(x[len(var) :]):
                return True
    return False


def _find_file(facts: HostFacts, kb_path: str) -> FileFacts | None:
    for f in facts.files:
        if _same_path(kb_path, f.path, facts.system_root):
            return f
    return None
