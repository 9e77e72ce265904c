"""Compare two judged scans host by host: what the change window fixed, what it broke."""

from __future__ import annotations

from collections.abc import Sequence

from kbscan.gate.model import Change, Diff, HostChange
from kbscan.model import ACTION_STATUSES, Finding, Status

_OPEN = set(ACTION_STATUSES)
_GOOD = {Status.COMPLIANT, Status.NOT_APPLICABLE}


def classify(before: Status | None, after: Status | None) -> Change:
    if before is None:
        return Change.NEWLY_SEEN
    if after is None:
        return Change.VANISHED
    if before in _OPEN and after in _GOOD:
        return Change.REMEDIATED
    if before in _GOOD and after in _OPEN:
        return Change.REGRESSED
    if before in _OPEN and after in _OPEN:
        return Change.STILL_OPEN
    return Change.UNCHANGED if before is after else Change.CHANGED


def diff(
    before: Sequence[Finding], after: Sequence[Finding], before_source: str, after_source: str
) -> Diff:
    old = {(f.host.lower(), f.kb_id): f for f in before}
    new = {(f.host.lower(), f.kb_id): f for f in after}
    order = {kb: i for i, kb in enumerate(dict.fromkeys(f.kb_id for f in (*after, *before)))}
    changes = []
    for key in sorted(set(old) | set(new), key=lambda k: (k[0], order[k[1]])):
        b, a = old.get(key), new.get(key)
        host = (a or b).host  # type: ignore[union-attr]
        changes.append(
            HostChange(
                kb_id=key[1],
                host=host,
                change=classify(b.status if b else None, a.status if a else None),
                before=b.status if b else None,
                after=a.status if a else None,
                before_version=str(b.installed_version) if b and b.installed_version else None,
                after_version=str(a.installed_version) if a and a.installed_version else None,
            )
        )
    return Diff(before_source, after_source, tuple(changes))
