"""What to collect from a host for a set of KBs: the union of what each KB needs.

A compliance review asks about many hotfixes at once; the host is asked once. The plan
is computed from the KB definitions and handed to a collector, so a file several KBs
replace is read once, and the facts stored serve every KB of the set (and any other
KB later, for what they hold).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from kbscan.model import KbDefinition


@dataclass(frozen=True)
class ProbeFile:
    name: str  # marker-safe name
    kb_path: str  # %SystemRoot%\\system32\\inetsrv\\aqueue.dll
    # The OS versions ("5.2", "6.1") whose rows name the file; empty: any host may need it.
    # One command line asks for every file at no cost; a collector that pays a round trip
    # per file (SMB) reads only those of the host's release.
    os_versions: tuple[str, ...] = ()

    def on_host(self, system_root: str | None) -> str:
        """The path with the host's system root in place of %SystemRoot%."""
        if system_root and self.kb_path.lower().startswith("%systemroot%"):
            return system_root.rstrip("\\") + self.kb_path[len("%SystemRoot%") :]
        return self.kb_path

    def wanted_on(self, os_version: str | None) -> bool:
        if not self.os_versions or not os_version:
            return True
        return any(os_version == v or os_version.startswith(v + ".") for v in self.os_versions)


@dataclass(frozen=True)
class CollectionPlan:
    files: tuple[ProbeFile, ...]  # every file with a version to check, once
    # Upper-case names of the services a KB needs installed: the only states the judge
    # uses (a restart names its services in words, and needs no state read).
    services: tuple[str, ...]
    exchange: bool  # some KB is excluded by an installed Exchange
    hotfix_ids: tuple[str, ...]  # installed-update records that name a KB of the set
    processes: tuple[str, ...]  # images whose start time shows a stale load
    # (hotfix id, the OS versions of its KB's releases): a collector that pays for each
    # record it looks up (SMB) looks up only those of the host's release.
    hotfix_releases: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def hotfixes_on(self, os_version: str | None) -> tuple[str, ...]:
        releases = dict(self.hotfix_releases)
        return tuple(
            h
            for h in self.hotfix_ids
            if not releases.get(h)
            or not os_version
            or any(os_version == v or os_version.startswith(v + ".") for v in releases[h])
        )


def plan_for(kbs: Iterable[KbDefinition]) -> CollectionPlan:
    kbs = tuple(kbs)
    paths: dict[str, ProbeFile] = {}
    releases: dict[str, set[str] | None] = {}  # None: some row's release is not known
    for kb in kbs:
        versions = {p.platform.id: p.platform.os_version for p in kb.platforms}
        for row in kb.files:
            if not row.checkable:
                continue  # no version to hold the file to: reported, never judged
            key = row.path.lower()
            if key not in paths:
                paths[key] = ProbeFile(f"f{len(paths)}", row.path)
                releases[key] = set()
            known = releases[key]
            if known is not None and row.platforms and all(p in versions for p in row.platforms):
                known.update(versions[p] for p in row.platforms)
            else:
                releases[key] = None
    paths = {
        key: replace(f, os_versions=tuple(sorted(releases[key] or ()))) for key, f in paths.items()
    }
    services = [s.name.upper() for kb in kbs for s in kb.required_services]
    return CollectionPlan(
        files=tuple(paths.values()),
        services=tuple(dict.fromkeys(services)),
        exchange=any(kb.excluded_products for kb in kbs),
        hotfix_ids=tuple(dict.fromkeys(h for kb in kbs for h in kb.hotfix_ids)),
        hotfix_releases=_hotfix_releases(kbs),
        processes=tuple(
            dict.fromkeys(kb.restart.process.lower() for kb in kbs if kb.restart.process)
        ),
    )


def _hotfix_releases(kbs: tuple[KbDefinition, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    releases: dict[str, set[str]] = {}
    for kb in kbs:
        versions = {p.platform.os_version for p in kb.platforms}
        for hotfix in kb.hotfix_ids:
            releases.setdefault(hotfix, set()).update(versions)
    return tuple((h, tuple(sorted(v))) for h, v in releases.items())
