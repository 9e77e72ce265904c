"""One host's maintenance window across a set of KBs: what to install, in which order,
what restarts, what to look into first. Decided once, beside the judge, and rendered as
it is by every report (the baseline workbook's Remediation sheet, one row per host).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kbscan.model import Finding, KbDefinition, Status
from kbscan.remediation import package_at


@dataclass(frozen=True)
class HostPlan:
    """The findings of one host, in the set's order, with the window they add up to."""

    host: str
    findings: tuple[Finding, ...]
    worst: Status  # the most pressing status (NOT_APPLICABLE only where nothing applies)
    worst_action: Status | None  # the most pressing status that asks for work
    steps: tuple[str, ...]  # "Windows Server 2003 Service Pack 2", then each KB's package
    restart_window: str  # "" where nothing is to be done
    investigate: tuple[str, ...]  # "KB...: reason" of each SUSPECT finding

    @property
    def first(self) -> Finding:
        """The host's facts are in each of its findings; the first stands for them."""
        return self.findings[0]

    @property
    def kbs_needing_action(self) -> tuple[str, ...]:
        return tuple(f.kb_id for f in self.findings if f.status.needs_action)


def worst(statuses: Iterable[Status]) -> Status:
    """The most pressing status, by Status's own order; a KB that does not apply says
    nothing about the host unless none applies."""
    judged = [s for s in statuses if s is not Status.NOT_APPLICABLE]
    return min(judged, key=lambda s: s.severity) if judged else Status.NOT_APPLICABLE


def host_plans(
    findings: Sequence[Finding], kbs: Mapping[str, KbDefinition]
) -> tuple[HostPlan, ...]:
    """One plan per host, hosts in the findings' order (the judge sorts them by name)."""
    by_host: dict[str, list[Finding]] = {}
    for f in findings:
        by_host.setdefault(f.host, []).append(f)
    return tuple(plan_of(host, tuple(fs), kbs) for host, fs in by_host.items())


def plan_of(host: str, findings: tuple[Finding, ...], kbs: Mapping[str, KbDefinition]) -> HostPlan:
    acting = [f.status for f in findings if f.status.needs_action]
    return HostPlan(
        host=host,
        findings=findings,
        worst=worst(f.status for f in findings),
        worst_action=min(acting, key=lambda s: s.severity) if acting else None,
        steps=install_steps(findings, kbs),
        restart_window=restart_window(findings),
        investigate=tuple(f"{f.kb_id}: {f.reason}" for f in findings if f.status is Status.SUSPECT),
    )


def install_steps(findings: Sequence[Finding], kbs: Mapping[str, KbDefinition]) -> tuple[str, ...]:
    """Service pack first, then each KB's package, in the set's order. After a service
    pack, each package is the one for the new level, not the level the host is at."""
    steps: list[str] = []
    remedies = [r for f in findings if (r := _remedy(kbs[f.kb_id], f)) is not None]
    level: int | None = None
    if remedies:
        release, level = max(remedies, key=lambda r: r[1])
        steps.append(f"{release} Service Pack {level}")
    for f in findings:
        if f.status not in (Status.NEEDS_HOTFIX, Status.NEEDS_SERVICE_PACK):
            continue
        kb = kbs[f.kb_id]
        if level is not None and f.platform and f.architecture:
            need = kb.requirement(f.platform.id)
            if need is not None and (not need.service_packs or level in need.service_packs):
                steps.append(package_at(kb, f.platform, level, f.architecture))
                continue
        steps.append(f.package or f"{f.kb_id} (see Findings)")
    return tuple(steps)


def restart_window(findings: Sequence[Finding]) -> str:
    """The one window the host's work needs: a server restart covers every service's."""
    acting = [f for f in findings if f.status.needs_action]
    if not acting:
        return ""
    if any(f.server_restart for f in acting):
        return "Server restart (covers every service restart)"
    return "; ".join(sorted({f.restart_impact for f in acting} - {"None"})) or "None"


def _remedy(kb: KbDefinition, f: Finding) -> tuple[str, int] | None:
    if f.status is not Status.NEEDS_SERVICE_PACK:
        return None
    need = kb.requirement(f.platform.id) if f.platform else None
    if need is None or need.remedy_service_pack is None:
        return None
    return need.platform.name, need.remedy_service_pack
