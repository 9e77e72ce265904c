"""The workbook's columns: what each sheet shows of a finding or of a host's plan.

Every value is read off the judge's result (Finding, HostPlan); nothing here decides.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from kbscan.host_plan import HostPlan
from kbscan.model import BELIEVED_SERVICE_PACK, Finding
from kbscan.report.excel_cells import Column

# Blank columns the change board fills in: the workbook is their worksheet too.
HANDLING = ("Change ticket", 13), ("Approver", 13), ("Planned window", 14), ("Done", 9)


def site(f: Finding) -> str:
    return (f.facts.target.site if f.facts.target else None) or ""


def owner(f: Finding) -> str:
    return (f.facts.target.owner if f.facts.target else None) or ""


def extra(f: Finding, key: str) -> str:
    return dict(f.facts.target.extra).get(key, "") if f.facts.target else ""


def sp(f: Finding) -> str | None:
    return None if f.service_pack is None else f"SP{f.service_pack}"


def text(value: object) -> str | None:
    return None if value is None else str(value)


def platform(f: Finding) -> str | None:
    return f.platform.name if f.platform else None


def branch(f: Finding) -> str | None:
    return f.row.service_branch if f.row else None


def arch(f: Finding) -> str | None:
    return f.architecture.value if f.architecture else None


def caption(f: Finding) -> str | None:
    return f.facts.os.caption if f.facts.os else None


def os_version(f: Finding) -> str | None:
    return f.facts.os.version if f.facts.os else None


def reported_arch(f: Finding) -> str | None:
    """The architecture the host reported (``arch`` is the one it was judged as)."""
    return f.facts.architecture.value if f.facts.architecture else None


def record(f: Finding) -> str:
    recorded = f.hotfix_recorded
    return "not collected" if recorded is None else "present" if recorded else "absent"


def handling(*, done_only: bool = False) -> list[Column[Any]]:
    chosen = HANDLING[-1:] if done_only else HANDLING
    return [Column(header, width, lambda _: None) for header, width in chosen]


def _the_fix() -> list[Column[Finding]]:
    """Where the host stands and what fixes it: the middle of every remediation row."""
    return [
        Column("Platform", 16, platform, "wrap"),
        Column("SP", 5, sp),
        Column("Arch", 6, arch),
        Column("Branch", 7, branch),
        Column("Installed version", 14, lambda f: text(f.installed_version)),
        Column("Required version", 14, lambda f: text(f.required_version)),
        Column("Package to apply", 34, lambda f: f.package, "wrap"),
        Column("Prerequisite", 16, lambda f: f.prerequisite, "wrap"),
        Column("Restart impact", 26, lambda f: f.restart_impact, "wrap"),
    ]


def remediation() -> list[Column[Finding]]:
    """One row per (host, KB) needing action: the Remediation sheet of one KB."""
    return [
        Column("Host", 16, lambda f: f.host),
        Column("Site", 11, site),
        Column("Owner", 11, owner),
        Column("Status", 23, lambda f: f.status.value, "status"),
        Column("OS", 28, caption, "wrap"),
        *_the_fix(),
        Column("Action", 44, lambda f: f.action, "wrap"),
        Column("Reason", 44, lambda f: f.reason, "wrap"),
        *handling(),
    ]


def findings() -> list[Column[Finding]]:
    """One row per (host, KB) needing action, with its KB: a set's Findings sheet."""
    return [
        Column("Host", 16, lambda f: f.host),
        Column("Site", 11, site),
        Column("KB", 11, lambda f: f.kb_id),
        Column("Status", 21, lambda f: f.status.value, "status"),
        *_the_fix(),
        Column("Reason", 44, lambda f: f.reason, "wrap"),
        *handling(done_only=True),
    ]


def hosts(extra_keys: list[str]) -> list[Column[Finding]]:
    """Every (host, KB) with its evidence: the Hosts sheet of one KB."""
    columns: list[Column[Finding]] = [
        Column("Host", 22, lambda f: f.host),
        Column("Site", 14, site),
        Column("Owner", 14, owner),
        Column("Status", 21, lambda f: f.status.value, "status"),
        Column("Reason", 50, lambda f: f.reason, "wrap"),
        Column("OS", 30, caption, "wrap"),
        Column("OS version", 10, os_version),
        Column("Platform (judged as)", 20, platform),
        Column("Service pack (judged)", 10, sp),
        Column("Architecture", 10, arch),
        Column("Branch", 8, branch),
        Column("Matched row", 44, lambda f: f.row.heading if f.row else None),
        Column("File", 12, lambda f: f.row.name if f.row else None),
        Column("Required version", 17, lambda f: text(f.required_version)),
        Column("Installed version", 17, lambda f: text(f.installed_version)),
        Column("Version read from", 50, lambda f: f.version_source),
        Column("Decided by", 24, lambda f: f.decided_by.value),
        Column("Hotfix record", 12, record),
        Column("Collected at", 17, lambda f: f.facts.collected_at),
        Column("Collector", 10, lambda f: f.facts.collector),
        Column("Action", 50, lambda f: f.action, "wrap"),
        Column("Evidence", 80, lambda f: " | ".join(f.evidence), "wrap"),
    ]
    for key in extra_keys:
        columns.append(Column(key, 14, partial(extra, key=key)))
    if BELIEVED_SERVICE_PACK in extra_keys:  # AD's view beside the host's
        columns.append(Column("Inventory disagrees", 40, lambda f: f.inventory_disagrees, "wrap"))
    return columns


def unreachable() -> list[Column[Finding]]:
    return [
        Column("Host", 22, lambda f: f.host),
        Column("Site", 14, site),
        Column("Owner", 14, owner),
        Column("Status", 12, lambda f: f.status.value, "status"),
        Column(
            "Failure",
            20,
            lambda f: f.facts.failure.category.value if f.facts.failure else "incomplete facts",
        ),
        Column("Message", 70, lambda f: f.facts.failure.message if f.facts.failure else f.reason),
        Column("What to try", 70, lambda f: f.action),
        Column("Collected at", 17, lambda f: f.facts.collected_at),
    ]


def host_remediation() -> list[Column[HostPlan]]:
    """One row per host needing action, its whole window: a set's Remediation sheet."""
    return [
        Column("Host", 16, lambda p: p.host),
        Column("Site", 11, lambda p: site(p.first)),
        Column("Owner", 11, lambda p: owner(p.first)),
        Column("Worst status", 23, lambda p: p.worst_action.value if p.worst_action else None,
               "status"),
        Column("OS", 26, lambda p: caption(p.first), "wrap"),
        Column("Platform", 16, lambda p: next(
            (name for f in p.findings if (name := platform(f))), None), "wrap"),
        Column("KBs", 14, lambda p: ", ".join(p.kbs_needing_action), "wrap"),
        Column("Install, in this order", 60, lambda p: "\n".join(
            f"{i}. {step}" for i, step in enumerate(p.steps, start=1)), "wrap"),
        Column("Restart window", 30, lambda p: p.restart_window, "wrap"),
        Column("Investigate first", 40, lambda p: "\n".join(p.investigate), "wrap"),
        *handling(),
    ]  # fmt: skip


def host_statuses() -> list[Column[HostPlan]]:
    """One row per host, each KB's status: a set's Hosts sheet."""
    return [
        Column("Host", 22, lambda p: p.host),
        Column("Site", 14, lambda p: site(p.first)),
        Column("Owner", 14, lambda p: owner(p.first)),
        Column("Worst status", 21, lambda p: p.worst.value, "status"),
        Column("OS", 30, lambda p: caption(p.first), "wrap"),
        Column("OS version", 10, lambda p: os_version(p.first)),
        Column("Architecture", 10, lambda p: reported_arch(p.first)),
        Column("Statuses", 60, lambda p: ", ".join(
            f"{x.kb_id} {x.status.value}" for x in p.findings), "wrap"),
        Column("Collected at", 17, lambda p: p.first.facts.collected_at),
        Column("Collector", 10, lambda p: p.first.facts.collector),
    ]  # fmt: skip
