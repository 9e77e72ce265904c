"""gate(findings, policy, exemptions, today) -> Verdict: pure, so the exit decision of a
change review is the most tested code in kbscan, not the least."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from kbscan.gate.model import Exemption, HostOutcome, Outcome, Policy, Treatment, Verdict
from kbscan.model import Finding, Status


def gate(
    findings: Sequence[Finding],
    policy: Policy,
    exemptions: Sequence[Exemption],
    today: date,
) -> Verdict:
    kb_ids = list(dict.fromkeys(f.kb_id for f in findings))
    several = len(kb_ids) > 1
    by_pair: dict[tuple[str, str], list[Exemption]] = {}
    for exemption in exemptions:
        by_pair.setdefault((exemption.host.lower(), exemption.kb_id.upper()), []).append(exemption)
    used: list[Exemption] = []
    expired: list[Exemption] = []
    outcomes: list[HostOutcome] = []
    touched: set[tuple[str, str]] = set()
    for finding in sorted(findings, key=lambda f: f.host.lower()):
        outcome = _outcome(finding, policy, by_pair, today, touched)
        if outcome.outcome is Outcome.EXEMPT and outcome.exemption is not None:
            used.append(outcome.exemption)
        elif outcome.outcome is Outcome.FAIL and outcome.exemption is not None:
            expired.append(outcome.exemption)
        outcomes.append(outcome)
    unused = tuple(e for e in exemptions if (e.host.lower(), e.kb_id.upper()) not in touched)
    reasons, passed = _reasons(outcomes, policy, expired, several=several)
    return Verdict(
        passed=passed,
        policy=policy,
        kb_id=", ".join(kb_ids),
        today=today,
        hosts=tuple(outcomes),
        reasons=tuple(reasons),
        exemptions_used=tuple(used),
        exemptions_expired=tuple(expired),
        exemptions_unused=unused,
    )


def _outcome(
    finding: Finding,
    policy: Policy,
    by_pair: dict[tuple[str, str], list[Exemption]],
    today: date,
    touched: set[tuple[str, str]],
) -> HostOutcome:
    """One (host, KB): out of scope, passed, warned, exempted, or failed (with the
    exemption that lapsed, if one did)."""
    host, status, kb_id = finding.host, finding.status, finding.kb_id
    if not policy.scope.admits(finding):
        return HostOutcome(host, status, Outcome.OUT_OF_SCOPE, "not in the policy's scope",
                           kb_id=kb_id)  # fmt: skip
    treatment = policy.treat_kb(kb_id, status)
    if treatment is Treatment.PASS:
        return HostOutcome(host, status, Outcome.PASS, finding.reason, kb_id=kb_id)
    if treatment is Treatment.WARN:
        return HostOutcome(host, status, Outcome.WARN, finding.reason, kb_id=kb_id)
    pair = (host.lower(), kb_id.upper())
    candidates = by_pair.get(pair, [])
    touched.add(pair)
    valid = [e for e in candidates if e.valid_on(today)]
    if valid:
        best = max(valid, key=lambda e: e.expires)
        why = f"exempted until {best.expires.isoformat()} by {best.approver}: {best.reason}"
        return HostOutcome(host, status, Outcome.EXEMPT, why, best, kb_id=kb_id)
    lapsed = [e for e in candidates if not e.valid_on(today)]
    if not lapsed:
        return HostOutcome(host, status, Outcome.FAIL, finding.reason, None, kb_id=kb_id)
    last = max(lapsed, key=lambda e: e.expires)
    why = f"exemption expired on {last.expires.isoformat()} ({last.approver}); {finding.reason}"
    return HostOutcome(host, status, Outcome.FAIL, why, last, kb_id=kb_id)


def _reasons(
    outcomes: list[HostOutcome], policy: Policy, expired: list[Exemption], *, several: bool
) -> tuple[list[str], bool]:
    """What the verdict says, and whether it passes."""
    noun = "(host, KB) pair(s)" if several else "host(s)"
    reasons: list[str] = []
    failing = [o for o in outcomes if o.outcome is Outcome.FAIL]
    if failing:
        counts: dict[Status, int] = {}
        for o in failing:
            counts[o.status] = counts.get(o.status, 0) + 1
        reasons.append(
            f"{len(failing)} {noun} fail the policy: "
            + ", ".join(f"{n} {s.value}" for s, n in counts.items())
        )
    scoped = [o for o in outcomes if o.outcome is not Outcome.OUT_OF_SCOPE]
    scoped_hosts = len({o.host.lower() for o in scoped})
    unknown_failed = _unknown_limits(scoped, scoped_hosts, policy, reasons)
    if expired:
        reasons.append(f"{len(expired)} exemption(s) have expired")
    passed = not failing and not unknown_failed
    if passed:
        warned = sum(1 for o in outcomes if o.outcome is Outcome.WARN)
        exempt = sum(1 for o in outcomes if o.outcome is Outcome.EXEMPT)
        reasons.append(
            f"passes: {scoped_hosts if several else len(scoped)} host(s) in scope"
            + (f", {exempt} exempted" if exempt else "")
            + (f", {warned} with warnings (UNKNOWN or warn statuses)" if warned else "")
        )
    return reasons, passed


def _unknown_limits(
    scoped: list[HostOutcome], scoped_hosts: int, policy: Policy, reasons: list[str]
) -> bool:
    """UNKNOWN is a host that could not be judged: counted once, however many KBs ask;
    True when the policy's limits are passed."""
    unknown = len({o.host.lower() for o in scoped
                   if o.status is Status.UNKNOWN and o.outcome is Outcome.WARN})  # fmt: skip
    failed = False
    if policy.max_unknown is not None and unknown > policy.max_unknown:
        failed = True
        reasons.append(
            f"{unknown} host(s) could not be judged (UNKNOWN); "
            f"the policy allows {policy.max_unknown}"
        )
    if policy.max_unknown_share is not None and scoped:
        share = unknown / scoped_hosts
        if share > policy.max_unknown_share:
            failed = True
            reasons.append(
                f"{share:.1%} of the hosts in scope could not be judged (UNKNOWN); "
                f"the policy allows {policy.max_unknown_share:.1%}"
            )
    if unknown and not failed:
        reasons.append(f"{unknown} host(s) could not be judged (UNKNOWN); the policy allows it")
    return failed
