"""The gate's records: policy, exemption, per-host outcome, verdict, and scan diff."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from kbscan.model import Finding, Status


class Treatment(StrEnum):
    """What a status does to the gate."""

    FAIL = "fail"
    WARN = "warn"
    PASS = "pass"


DEFAULT_TREATMENT = {
    Status.NEEDS_HOTFIX: Treatment.FAIL,
    Status.NEEDS_SERVICE_PACK: Treatment.FAIL,
    Status.RESTART_PENDING: Treatment.FAIL,
    Status.SUSPECT: Treatment.FAIL,
    Status.UNKNOWN: Treatment.WARN,  # counted against max_unknown / max_unknown_share
    Status.NOT_APPLICABLE: Treatment.PASS,
    Status.COMPLIANT: Treatment.PASS,
}


@dataclass(frozen=True)
class Scope:
    """Which hosts the gate looks at; empty means every host."""

    sites: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()  # inventory extra columns: (key, value)
    hosts: tuple[str, ...] = ()

    @property
    def everything(self) -> bool:
        return not (self.sites or self.owners or self.tags or self.hosts)

    def admits(self, finding: Finding) -> bool:
        """Whether the finding's host is in scope: a baseline's and a policy's scope are
        read alike (names, sites and owners without regard to case; tags by column)."""
        if self.everything:
            return True
        target = finding.facts.target
        site = (target.site if target else None) or ""
        owner = (target.owner if target else None) or ""
        extra = {k.lower(): v for k, v in (target.extra if target else ())}
        if self.hosts and finding.host.lower() not in {h.lower() for h in self.hosts}:
            return False
        if self.sites and site.lower() not in {s.lower() for s in self.sites}:
            return False
        if self.owners and owner.lower() not in {o.lower() for o in self.owners}:
            return False
        return all(extra.get(key, "").lower() == value.lower() for key, value in self.tags)


@dataclass(frozen=True)
class Policy:
    name: str = "default"
    treatment: tuple[tuple[Status, Treatment], ...] = tuple(DEFAULT_TREATMENT.items())
    max_unknown: int | None = None
    max_unknown_share: float | None = None
    scope: Scope = field(default_factory=Scope)
    source: str = "built-in default policy"
    kbs: tuple[tuple[str, Treatment], ...] = ()  # per KB of a baseline: fail, warn or pass

    def treat_kb(self, kb_id: str, status: Status) -> Treatment:
        """The status's treatment, softened by the KB's own ([kbs] KB2492386 = "warn")."""
        treatment = self.treat(status)
        cap = dict(self.kbs).get(kb_id.upper())
        if cap is None or treatment is Treatment.PASS:
            return treatment
        if cap is Treatment.PASS:
            return Treatment.PASS
        if cap is Treatment.WARN:
            return Treatment.WARN
        return treatment

    def treat(self, status: Status) -> Treatment:
        return dict(self.treatment).get(status, DEFAULT_TREATMENT[status])


@dataclass(frozen=True)
class Exemption:
    host: str
    kb_id: str
    reason: str
    approver: str
    expires: date
    line: int

    def valid_on(self, today: date) -> bool:
        return today <= self.expires


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    EXEMPT = "exempt"  # would fail, but a valid exemption covers it
    OUT_OF_SCOPE = "out of scope"


@dataclass(frozen=True)
class HostOutcome:
    host: str
    status: Status
    outcome: Outcome
    reason: str
    exemption: Exemption | None = None
    kb_id: str = ""


@dataclass(frozen=True)
class Verdict:
    passed: bool
    policy: Policy
    kb_id: str
    today: date
    hosts: tuple[HostOutcome, ...]
    reasons: tuple[str, ...]  # why it failed, or what passed with warnings
    exemptions_used: tuple[Exemption, ...]
    exemptions_expired: tuple[Exemption, ...]
    exemptions_unused: tuple[Exemption, ...]
    inputs: tuple[tuple[str, str], ...] = ()  # (file, sha256) of what was judged

    @property
    def failing(self) -> tuple[HostOutcome, ...]:
        return tuple(h for h in self.hosts if h.outcome is Outcome.FAIL)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for h in self.hosts if h.outcome is outcome)


class Change(StrEnum):
    REMEDIATED = "remediated"
    REGRESSED = "regressed"
    STILL_OPEN = "still open"
    NEWLY_SEEN = "newly seen"
    VANISHED = "vanished"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class HostChange:
    host: str
    change: Change
    before: Status | None
    after: Status | None
    before_version: str | None
    after_version: str | None
    kb_id: str = ""


@dataclass(frozen=True)
class Diff:
    before_source: str
    after_source: str
    hosts: tuple[HostChange, ...]

    def of(self, change: Change) -> tuple[HostChange, ...]:
        return tuple(h for h in self.hosts if h.change is change)
