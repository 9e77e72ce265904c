"""judge(kbs, facts) -> Evaluation: every host against every KB of a set, pure.

What a scan, ``evaluate``, ``report``, ``gate``, ``diff``, ``offline`` and the demo all
do once they hold facts: one finding per (host, KB), hosts in name order and KBs in the
set's order, the set's scope applied in one place (a host outside it is in every report,
NOT_APPLICABLE for each KB, and says why). Nothing here reads a file or a clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from kbscan import __version__
from kbscan.evaluate import evaluate
from kbscan.kb.baseline import KbSet
from kbscan.model import Finding, HostFacts, Status
from kbscan.report.interface import Evaluation


def judge(kbs: KbSet, facts: Iterable[HostFacts], label: str, now: datetime) -> Evaluation:
    """The evaluation every report renders: ``label`` names what was read (an inventory,
    a facts file), ``now`` when it was judged."""
    return evaluation_of(kbs, judge_hosts(facts, kbs), label, now)


def judge_hosts(facts: Iterable[HostFacts], kbs: KbSet) -> tuple[Finding, ...]:
    findings = []
    for host in sorted(facts, key=lambda f: f.host.lower()):
        for kb in kbs.kbs:
            finding = evaluate(host, kb, kbs.kbs)
            if not kbs.scope.admits(finding):
                reason = f"outside the scope of {kbs.name} ({kbs.source})"
                finding = replace(
                    finding, status=Status.NOT_APPLICABLE, reason=reason, action=f"None: {reason}."
                )
            findings.append(finding)
    return tuple(findings)


def evaluation_of(
    kbs: KbSet, findings: tuple[Finding, ...], label: str, now: datetime
) -> Evaluation:
    single = len(kbs.kbs) == 1 and kbs.source == "command line"
    return Evaluation(
        kbs.kbs,
        findings,
        label,
        now,
        __version__,
        name="" if single else kbs.file_stem,
        set_source="" if kbs.source == "command line" else kbs.source,
    )
