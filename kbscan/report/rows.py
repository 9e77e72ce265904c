"""What every report writes the same way: one flat row per finding (the shared column
set of CSV, the console and the workbook), and a KB's rules as label and text."""

from __future__ import annotations

from kbscan.model import Finding, KbDefinition


def kb_rules(kb: KbDefinition, *, reasons: bool) -> list[tuple[str, str]]:
    """What a KB asks of a host beyond its file table, as `kbscan kb show` and the
    workbook's KB sheet print it; ``reasons``: why each excluded product is excluded."""
    exclusions = "; ".join(
        f"{p.name} {'/'.join(p.versions)}" + (f": {p.reason}" if reasons else "")
        for p in kb.excluded_products
    )
    return [
        ("Platforms", kb.describe_platforms()),
        ("Prerequisite", kb.prerequisite_text),
        (
            "Requires",
            ", ".join(f"{s.display_name} ({s.name})" for s in kb.required_services) or "nothing",
        ),
        ("Not for", exclusions or "no exclusions"),
        ("Restart", kb.restart.text),
        ("Installed when recorded as", ", ".join(kb.hotfix_ids)),
    ]


COLUMNS = (
    "host",
    "kb",
    "status",
    "reason",
    "action",
    "site",
    "owner",
    "os_caption",
    "os_version",
    "platform",
    "service_pack",
    "architecture",
    "matched_row",
    "service_branch",
    "file",
    "required_version",
    "installed_version",
    "version_source",
    "decided_by",
    "evidence",
    "collected_at",
    "failure_category",
)


def platform_label(f: Finding) -> str:
    """ "Server 2008 R2 SP0 x64": the release, level and architecture a host was judged as."""
    if f.service_pack is None or f.architecture is None:
        return ""
    release = f.platform.name.removeprefix("Windows ") if f.platform else ""
    return f"{release} SP{f.service_pack} {f.architecture.value}".strip()


def finding_row(f: Finding) -> dict[str, str]:
    """Text cells for one finding; empty string where there is nothing to say."""
    facts = f.facts
    target = facts.target
    os_ = facts.os
    return {
        "host": f.host,
        "kb": f.kb_id,
        "status": f.status.value,
        "reason": f.reason,
        "action": f.action,
        "site": (target.site if target else None) or "",
        "owner": (target.owner if target else None) or "",
        "os_caption": (os_.caption if os_ else None) or "",
        "os_version": (os_.version if os_ else None) or "",
        "platform": f.platform.name if f.platform else "",
        "service_pack": "" if f.service_pack is None else f"SP{f.service_pack}",
        "architecture": f.architecture.value if f.architecture else "",
        "matched_row": f.row.heading if f.row else "",
        "service_branch": (f.row.service_branch if f.row else None) or "",
        "file": f.row.name if f.row else "",
        "required_version": str(f.required_version) if f.required_version else "",
        "installed_version": str(f.installed_version) if f.installed_version else "",
        "version_source": f.version_source or "",
        "decided_by": f.decided_by.value,
        "evidence": " | ".join(f.evidence),
        "collected_at": facts.collected_at.isoformat() if facts.collected_at else "",
        "failure_category": facts.failure.category.value if facts.failure else "",
    }
