"""The remediation's wording for one finding: which package, which prerequisite, what
restarts. Decided here, beside the judge, so that every report says the same words and
no writer rebuilds them from a KB definition.
"""

from __future__ import annotations

from kbscan.model import Arch, FileRow, KbDefinition, Platform, Status


def package(
    kb: KbDefinition,
    status: Status,
    platform: Platform | None,
    service_pack: int | None,
    row: FileRow | None,
) -> str | None:
    """ "KB934709 for Windows Server 2003 SP2 x64 (...)": the package of the matched row,
    at the row's level where it names one (a service pack below it comes first). None
    where nothing is installed from this KB (no row matched, SUSPECT, no release)."""
    if row is None or status is Status.SUSPECT or platform is None:
        return None
    level = service_pack if row.service_pack is None else row.service_pack
    return package_at(kb, platform, level, row.architecture, row.service_branch)


def package_at(
    kb: KbDefinition,
    platform: Platform,
    service_pack: int | None,
    arch: Arch,
    branch: str | None = None,
) -> str:
    """The KB's package for a release at a given service pack level."""
    return f"{kb.id} for {kb.package_scope(platform, service_pack, arch, branch)}"


def prerequisite(kb: KbDefinition, status: Status, platform: Platform | None) -> str:
    """What must be on the host before the package: "Install ... SP2 first" when missing."""
    need = kb.requirement(platform.id) if platform else None
    if need is None or not need.service_packs:
        return "None stated"
    if status is Status.NEEDS_SERVICE_PACK:
        return f"Install {need.platform.name} SP{need.remedy_service_pack} first"
    return " or ".join(f"SP{s}" for s in need.service_packs) + " (met)"


def restart_impact(kb: KbDefinition, staged: bool) -> str:
    """The remediation's "Restart impact": what the change window must restart."""
    if staged:
        return "Server restart (the file replacement completes at boot)"
    if kb.restart.computer:
        return "Server restart"
    names = " and ".join(f"{s.display_name} ({s.name})" for s in kb.restart.services)
    if not names:
        return "None"
    return names + (" and every service that depends on it" if kb.restart.dependents else "")


def restart_phrase(kb: KbDefinition) -> str:
    """The restart as the end of an action sentence: "then restart the server"."""
    if kb.restart.computer:
        return "restart the server"
    names = " and ".join(f"the {s.display_name} service ({s.name})" for s in kb.restart.services)
    if not names:
        return "no restart is needed"
    return f"restart {names}" + (
        " and every service that depends on it" if kb.restart.dependents else ""
    )
